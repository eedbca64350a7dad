//! `steward demo`: seeds the shop/courier story into a running server (`--server`) or into a
//! data directory or database, then prints the secrets and curl commands to explore it.
//!
//! Both ways seed through the HTTP API, so the demo exercises exactly what clients use: with a
//! data directory or database the demo runs the API in-process on a loopback port for the time
//! of seeding.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use reqwest::Method;
use serde_json::{json, Value};
use steward_core::{OperatorAuth, Steward};
use steward_domain::SystemClock;
use steward_server::{Config, ConfigOverrides};

/// Options of `steward demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seed a running server at this base URL (http://…) instead of a data directory or
    /// database; needs the server's operator token in `STEWARD_OPERATOR_TOKEN`.
    #[arg(long, value_name = "URL", conflicts_with_all = ["data_dir", "database_url"])]
    server: Option<String>,
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
    /// Base URL shown in the printed curl commands [default: the `--server` URL, else
    /// http://127.0.0.1:8080].
    #[arg(long)]
    url: Option<String>,
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
    orders: Vec<String>,
}

/// Seeds the story and prints how to explore it.
pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let seeded = runtime.block_on(seed(&args))?;
    if args.json {
        let object = json!({
            "shop": {"account": seeded.shop_account, "secret": seeded.shop_secret},
            "courier": {"account": seeded.courier_account, "secret": seeded.courier_secret},
            "orders": seeded.orders,
        });
        println!("{object}");
    } else {
        let url = args
            .url
            .clone()
            .or_else(|| args.server.clone())
            .unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
        print_walkthrough(&url, args.server.is_some(), &seeded);
    }
    Ok(ExitCode::SUCCESS)
}

async fn seed(args: &DemoArgs) -> anyhow::Result<Seeded> {
    if let Some(server) = &args.server {
        let token = std::env::var("STEWARD_OPERATOR_TOKEN").context(
            "seeding a running server needs its operator token in STEWARD_OPERATOR_TOKEN",
        )?;
        let api = Api::new(server.trim_end_matches('/'), token)?;
        return seed_story(&api, args.orders, args.json).await;
    }
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
    // A one-off operator token, valid only for this in-process API.
    let token = steward_core::credentials::random_hex(32);
    let state = steward_http::AppState::new(steward.clone(), OperatorAuth::for_token(&token));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("cannot open a loopback port for seeding")?;
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(steward_http::serve(
        listener,
        state,
        steward_http::ServeOptions::default(),
        async {
            let _ = stopped.await;
        },
    ));
    let api = Api::new(&format!("http://{address}"), token)?;
    let seeded = seed_story(&api, args.orders, args.json).await;
    let _ = stop.send(());
    server
        .await
        .context("seeding server task failed")?
        .context("seeding server failed")?;
    // The seeding requests' audit records (sealed by the next `steward serve`).
    if let Err(error) = steward.flush_audit().await {
        eprintln!("warning: writing the audit records of seeding failed: {error}");
    }
    store.close().await;
    seeded
}

/// A small client of the Steward API for seeding.
struct Api {
    client: crate::api_client::ApiClient,
    operator_token: String,
}

impl Api {
    fn new(base: &str, operator_token: String) -> anyhow::Result<Self> {
        Ok(Self {
            client: crate::api_client::ApiClient::new(base, None)?,
            operator_token,
        })
    }

    /// Calls the API with a credential; any answer but 2xx is an error naming the step.
    async fn call(
        &self,
        step: &str,
        method: Method,
        path: &str,
        credential: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        self.client.call(step, method, path, credential, body).await
    }

    /// Creates an account and gives its first user a partner role; returns (account, secret).
    async fn partner_account(&self, name: &str) -> anyhow::Result<(String, String)> {
        let created = self
            .call(
                "create account",
                Method::POST,
                "/operator/accounts",
                &self.operator_token,
                Some(json!({ "name": name })),
            )
            .await?;
        let field = |key: &str| {
            created[key]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("create account: no `{key}` in {created}"))
        };
        let (account, user, role, secret) = (
            field("account")?,
            field("user")?,
            field("role")?,
            field("secret")?,
        );
        // The partner role keeps the admin's statement and adds rules: orders are visible, and
        // each entry's own visibility decides what is seen of the other's ledger.
        let admin_role = self
            .call(
                "read role",
                Method::GET,
                &format!("/roles/{role}"),
                &secret,
                None,
            )
            .await?;
        let partner = self
            .call(
                "create partner role",
                Method::POST,
                "/roles",
                &secret,
                Some(json!({
                    "name": "Partner",
                    "statement": admin_role["statement"],
                    "rules": {"twin_rule": "TWIN.kind == 'order'", "entry_rule": "true"},
                })),
            )
            .await?;
        self.call(
            "assign partner role",
            Method::PATCH,
            &format!("/users/{user}"),
            &secret,
            Some(json!({ "role": partner["uuid"] })),
        )
        .await?;
        Ok((account, secret))
    }
}

async fn seed_story(api: &Api, orders: u16, quiet: bool) -> anyhow::Result<Seeded> {
    let (shop_account, shop_secret) = api.partner_account("Demo Shop").await?;
    let (courier_account, courier_secret) = api.partner_account("Demo Courier").await?;
    let mut twins = Vec::new();
    for number in 1..=orders {
        let twin = api
            .call(
                "create order",
                Method::POST,
                "/twins",
                &shop_secret,
                Some(json!({"description": {"kind": "order", "number": number}})),
            )
            .await?;
        let order = twin["creation_certificate"]["uuid"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("create order: no uuid in {twin}"))?;
        let ledger = format!("/twins/{order}/ledgers/personal");
        let shop_entries = json!({"entries": {
            "delivery_address": {
                "value": {"street": format!("Main {number}"), "city": "Gdansk"},
                "visibility": format!("account == '{courier_account}'"),
                "history": "3M",
            },
            "invoice": {"value": {"total": 20.5 * f64::from(number)}},
        }});
        api.call(
            "shop entries",
            Method::POST,
            &ledger,
            &shop_secret,
            Some(shop_entries),
        )
        .await?;
        let courier_entries = json!({"entries": {
            "delivery_status": {
                "value": "picked_up",
                "visibility": format!("account == '{shop_account}'"),
                "history": "3M",
            },
        }});
        api.call(
            "courier entries",
            Method::POST,
            &ledger,
            &courier_secret,
            Some(courier_entries),
        )
        .await?;
        if !quiet && (number % 50 == 0 || number == orders) && orders >= 50 {
            eprintln!("seeded {number}/{orders} orders");
        }
        twins.push(order);
    }
    Ok(Seeded {
        shop_secret,
        courier_secret,
        shop_account,
        courier_account,
        orders: twins,
    })
}

fn print_walkthrough(url: &str, running: bool, seeded: &Seeded) {
    let order = seeded.orders.first().cloned().unwrap_or_default();
    println!(
        "Seeded the shop/courier story: {} orders (twins).",
        seeded.orders.len()
    );
    println!();
    if running {
        println!("Explore it on the running server:");
    } else {
        println!("Start the server on the same data (`steward serve`), then:");
    }
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
    println!("# ... and its history; the invoice's is \"Entry not accessible.\"");
    println!(
        "curl -s \"$URL/twins/$ORDER/ledgers/owner/history?entries=delivery_address,invoice\" \
         -H \"Authorization: $COURIER\""
    );
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
