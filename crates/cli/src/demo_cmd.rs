//! `steward demo`: seeds the shop/courier story into a data directory or database, then prints
//! the secrets and curl commands to explore it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use serde_json::json;
use steward_core::{EntryInput, LedgerSelector, Principal, Steward, UserPatch};
use steward_domain::{RoleRules, SystemClock, TwinId};
use steward_server::{Config, ConfigOverrides};

/// Options of `steward demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory of the embedded SQLite database [default: ./steward-data].
    #[arg(
        long,
        env = "STEWARD_DATA_DIR",
        value_name = "DIR",
        conflicts_with = "database_url"
    )]
    data_dir: Option<PathBuf>,
    /// PostgreSQL URL (postgres://…) instead of SQLite.
    #[arg(long, env = "STEWARD_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,
    /// How many orders (twins) to create.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=1000))]
    orders: u16,
    /// Base URL shown in the printed curl commands.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Print one JSON object instead of the walk-through.
    #[arg(long)]
    json: bool,
}

/// The seeded story.
struct Seeded {
    shop_secret: String,
    courier_secret: String,
    shop_account: String,
    courier_account: String,
    orders: Vec<TwinId>,
}

/// Seeds the story and prints how to explore it.
pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let seeded = runtime.block_on(seed(&args))?;
    if args.json {
        let object = json!({
            "shop": {"account": seeded.shop_account, "secret": seeded.shop_secret},
            "courier": {"account": seeded.courier_account, "secret": seeded.courier_secret},
            "orders": seeded.orders.iter().map(ToString::to_string).collect::<Vec<_>>(),
        });
        println!("{object}");
    } else {
        print_walkthrough(&args.url, &seeded);
    }
    Ok(ExitCode::SUCCESS)
}

async fn seed(args: &DemoArgs) -> anyhow::Result<Seeded> {
    let overrides = ConfigOverrides {
        data_dir: args.data_dir.clone(),
        database_url: args.database_url.clone(),
        ..ConfigOverrides::default()
    };
    let config = Config::load(None, &overrides)?;
    let store = steward_server::open_store(&config).await?;
    let steward = Steward::start(store.clone(), Arc::new(SystemClock), Default::default())
        .await
        .map_err(|error| anyhow::anyhow!("cannot start services: {error}"))?;
    let seeded = seed_story(&steward, args.orders).await;
    store.close().await;
    seeded
}

async fn seed_story(steward: &Steward, orders: u16) -> anyhow::Result<Seeded> {
    let failed =
        |step: &'static str| move |error: steward_core::Error| anyhow::anyhow!("{step}: {error}");
    let shop = steward
        .create_account("Demo Shop")
        .await
        .map_err(failed("create shop"))?;
    let courier = steward
        .create_account("Demo Courier")
        .await
        .map_err(failed("create courier"))?;
    let shop_admin = steward
        .authenticate(Some(&shop.secret), None)
        .await
        .map_err(failed("shop login"))?;
    let courier_admin = steward
        .authenticate(Some(&courier.secret), None)
        .await
        .map_err(failed("courier login"))?;
    let courier_account = courier_admin.account;
    let shop_account = shop_admin.account;

    // The courier looks at orders and lets each entry's visibility decide what it sees; the
    // shop does the same for the courier's entries.
    let courier_admin = use_partner_role(steward, courier_admin).await?;
    let shop_admin = use_partner_role(steward, shop_admin).await?;

    let mut twins = Vec::new();
    for number in 1..=orders {
        let description = json!({"kind": "order", "number": number});
        let twin = steward
            .create_twin(&shop_admin, description.as_object().cloned())
            .await
            .map_err(failed("create order"))?;
        let shop_entries = BTreeMap::from([
            (
                "delivery_address".to_owned(),
                value_entry(
                    json!({"street": format!("Main {number}"), "city": "Gdansk"}),
                    Some(format!("account == '{courier_account}'")),
                ),
            ),
            (
                "invoice".to_owned(),
                value_entry(json!({"total": 20.5 * f64::from(number)}), None),
            ),
        ]);
        steward
            .add_ledger_entries(
                &shop_admin,
                twin.id,
                LedgerSelector::Personal,
                shop_entries,
                BTreeMap::new(),
            )
            .await
            .map_err(failed("shop entries"))?;
        let courier_entries = BTreeMap::from([(
            "delivery_status".to_owned(),
            value_entry(
                json!("picked_up"),
                Some(format!("account == '{shop_account}'")),
            ),
        )]);
        steward
            .add_ledger_entries(
                &courier_admin,
                twin.id,
                LedgerSelector::Personal,
                courier_entries,
                BTreeMap::new(),
            )
            .await
            .map_err(failed("courier entries"))?;
        twins.push(twin.id);
    }
    Ok(Seeded {
        shop_secret: shop.secret,
        courier_secret: courier.secret,
        shop_account: shop_account.to_string(),
        courier_account: courier_account.to_string(),
        orders: twins,
    })
}

fn value_entry(value: serde_json::Value, visibility: Option<String>) -> EntryInput {
    EntryInput {
        value: Some(value),
        visibility: Some(visibility),
        ..EntryInput::default()
    }
}

/// Gives the admin user a role with the same statement as its own plus partner rules, and
/// returns the refreshed principal.
async fn use_partner_role(steward: &Steward, admin: Principal) -> anyhow::Result<Principal> {
    let rules = RoleRules {
        twin_rule: Some("TWIN.kind == 'order'".to_owned()),
        entry_rule: Some("true".to_owned()),
        identity_rule: None,
    };
    let role = steward
        .create_role(
            &admin,
            Some("Partner".to_owned()),
            Some(admin.role.statement.clone()),
            Some(rules),
        )
        .await
        .map_err(|error| anyhow::anyhow!("create partner role: {error}"))?;
    let patch = UserPatch {
        role: Some(role.id),
        ..UserPatch::default()
    };
    steward
        .update_user(&admin, admin.user.id, patch)
        .await
        .map_err(|error| anyhow::anyhow!("assign partner role: {error}"))?;
    Ok(Principal { role, ..admin })
}

fn print_walkthrough(url: &str, seeded: &Seeded) {
    let order = seeded
        .orders
        .first()
        .map(ToString::to_string)
        .unwrap_or_default();
    println!(
        "Seeded the shop/courier story: {} orders (twins).",
        seeded.orders.len()
    );
    println!();
    println!("Start the server on the same data (`steward serve`), then:");
    println!();
    println!("URL={url}");
    println!("SHOP={}", seeded.shop_secret);
    println!("COURIER={}", seeded.courier_secret);
    println!("ORDER={order}");
    println!();
    println!(
        "# the shop's own ledger: delivery_address (visible to the courier) and invoice (private)"
    );
    println!("curl -s $URL/twins/$ORDER/ledgers/personal -H \"Authorization: $SHOP\"");
    println!("# the courier reads the shop's ledger: delivery_address only, never invoice");
    println!("curl -s $URL/twins/$ORDER/ledgers/owner -H \"Authorization: $COURIER\"");
    println!("# the shop reads the courier's ledger: delivery_status");
    println!(
        "curl -s $URL/twins/$ORDER/ledgers/{} -H \"Authorization: $SHOP\"",
        seeded.courier_account
    );
    println!("# the shop's orders");
    println!("curl -s $URL/twins -H \"Authorization: $SHOP\"");
    println!();
    println!("The secrets are shown only now.");
}
