//! `steward admin`: operator tasks run directly against the database, with or without a
//! server running on it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use steward_core::Steward;
use steward_domain::SystemClock;
use steward_server::{Config, ConfigOverrides};

/// Operator tasks.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an account with its Super Admin role, an admin user and that user's secret.
    CreateAccount(CreateAccountArgs),
}

/// Options of `steward admin create-account`.
#[derive(Debug, Args)]
pub struct CreateAccountArgs {
    /// Display name of the account (1 to 64 characters).
    #[arg(long)]
    name: String,
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
    /// Print exactly one JSON object `{"account", "user", "role", "secret"}`.
    #[arg(long)]
    json: bool,
}

/// Runs an admin command.
pub fn run(command: AdminCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match command {
        AdminCommand::CreateAccount(args) => runtime.block_on(create_account(args)),
    }
}

async fn create_account(args: CreateAccountArgs) -> anyhow::Result<ExitCode> {
    let overrides = ConfigOverrides {
        data_dir: args.data_dir,
        database_url: args.database_url,
        ..ConfigOverrides::default()
    };
    let config = Config::load(None, &overrides)?;
    let store = steward_server::open_store(&config).await?;
    let steward = Steward::start(store.clone(), Arc::new(SystemClock), Default::default())
        .await
        .map_err(|error| anyhow::anyhow!("cannot start services: {error}"))?;
    let created = steward.create_account(&args.name).await;
    store.close().await;
    let created = created.map_err(|error| anyhow::anyhow!("cannot create account: {error}"))?;
    let bootstrap = &created.bootstrap;
    if args.json {
        let object = serde_json::json!({
            "account": bootstrap.account.id.to_string(),
            "user": bootstrap.admin_user.id.to_string(),
            "role": bootstrap.admin_role.id.to_string(),
            "secret": created.secret,
        });
        println!("{object}");
    } else {
        println!("account  {}", bootstrap.account.id);
        println!(
            "role     {} ({})",
            bootstrap.admin_role.id, bootstrap.admin_role.name
        );
        println!("user     {}", bootstrap.admin_user.id);
        println!("secret   {}", created.secret);
        println!("The secret is shown only now; store it safely.");
    }
    Ok(ExitCode::SUCCESS)
}
