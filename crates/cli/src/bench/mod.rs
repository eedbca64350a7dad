//! `steward bench`: a load generator for a running Steward server, modelled on pgbench.
//!
//! It sets up the shop/courier story at scale through the HTTP API (accounts, a partner role
//! for the readers, twins with ledgers whose entries are partly visible to the readers,
//! identities), writes what it created to a state file so later runs can reuse it, then drives
//! one scenario from many keep-alive connections and reports throughput and latency.
//!
//! Setup and progress go to standard error; the report (or, with `--json`, exactly one JSON
//! object) goes to standard output.

mod report;
mod scenarios;
mod seed;
mod setup;
mod state;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

/// Options of `steward bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Base URL of the server to measure.
    #[arg(long, default_value = "http://127.0.0.1:8080", value_name = "URL")]
    url: String,
    /// What each request does (see docs/bench.md).
    #[arg(long, value_enum, default_value_t = Scenario::ReadForeign)]
    scenario: Scenario,
    /// How long to measure, in seconds (after the warm-up).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    duration: u64,
    /// How many workers send requests at once, each on its own keep-alive connection; setup
    /// uses the same number of concurrent requests.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    concurrency: u32,
    /// Seconds of load before measuring starts; their requests are not counted.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=3600))]
    warmup: u64,
    /// Print exactly one JSON object on standard output instead of the report.
    #[arg(long)]
    json: bool,
    /// Only set up the data (and write the state file); send no load.
    #[arg(long, conflicts_with = "no_setup")]
    setup_only: bool,
    /// Reuse the data of an earlier setup, read from the state file.
    #[arg(long)]
    no_setup: bool,
    /// How many twins the owner creates.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    twins: u32,
    /// How many accounts: the owner ("shop") and N-1 readers ("courier", …).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(2..=100))]
    accounts: u32,
    /// Entries in the owner's ledger on every twin.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=200))]
    entries: u32,
    /// How many of those entries the readers may see (through each entry's `visibility` rule).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=200))]
    visible: u32,
    /// Size in bytes of the text payload in every entry value.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(0..=2000))]
    payload_bytes: u32,
    /// Where setup writes what it created (secrets and ids, file mode 0600) and where
    /// `--no-setup` reads it.
    #[arg(long, default_value = "steward-bench.json", value_name = "FILE")]
    state_file: PathBuf,
    /// Seed the data set straight into this SQLite data directory (through the storage layer,
    /// no server needed; for million-twin runs), write the state file and stop; then start
    /// `steward serve` on the directory and run with --no-setup.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["no_setup", "seed_database_url"])]
    seed_data_dir: Option<PathBuf>,
    /// Like --seed-data-dir, into this PostgreSQL database (postgres://…).
    #[arg(long, value_name = "URL", conflicts_with = "no_setup")]
    seed_database_url: Option<String>,
    /// The server's operator token, needed only for setup (accounts are created through the
    /// operator API).
    #[arg(long, env = "STEWARD_OPERATOR_TOKEN", hide_env_values = true)]
    operator_token: Option<String>,
}

/// The standard scenarios.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// GET /healthz: the same HTTP stack doing no work (needs no setup).
    Healthz,
    /// The owner reads its own ledger on a random twin.
    ReadOwn,
    /// A reader reads the owner's ledger: all entries checked, the visible ones returned.
    ReadForeign,
    /// A reader reads the values of the owner's ledger (`/value`).
    ReadValue,
    /// The owner updates the value of one random entry (durable write).
    WriteEntry,
    /// The owner scans its twins, 100 per page, with a `match` rule.
    ScanMatch,
    /// A reader resolves a random twin's identity attached by the owner.
    Resolve,
    /// 90% read-foreign, 10% write-entry.
    Mixed,
}

impl Scenario {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Healthz => "healthz",
            Self::ReadOwn => "read-own",
            Self::ReadForeign => "read-foreign",
            Self::ReadValue => "read-value",
            Self::WriteEntry => "write-entry",
            Self::ScanMatch => "scan-match",
            Self::Resolve => "resolve",
            Self::Mixed => "mixed",
        }
    }
}

/// Runs `steward bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if args.visible > args.entries {
        anyhow::bail!(
            "`--visible` ({}) cannot exceed `--entries` ({})",
            args.visible,
            args.entries
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let base_url = args.url.trim_end_matches('/').to_owned();
    let needs_data = args.scenario != Scenario::Healthz || args.setup_only;
    let options = setup::SetupOptions {
        twins: args.twins,
        accounts: args.accounts,
        entries: args.entries,
        visible: args.visible,
        payload_bytes: args.payload_bytes,
        concurrency: args.concurrency,
    };
    if args.seed_data_dir.is_some() || args.seed_database_url.is_some() {
        let target = seed::SeedTarget {
            data_dir: args.seed_data_dir.clone(),
            database_url: args.seed_database_url.clone(),
        };
        let options = setup::SetupOptions {
            // SQLite takes one writer at a time; more tasks would only wait for the lock.
            concurrency: if target.database_url.is_some() {
                args.concurrency
            } else {
                args.concurrency.min(4)
            },
            ..options
        };
        let seeded = seed::run_seed(&target, &base_url, &options).await?;
        seeded.save(&args.state_file)?;
        eprintln!(
            "seed: wrote {} (it holds secrets; keep it private); start `steward serve` on the \
             seeded data, then run with --no-setup",
            args.state_file.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let bench_state = if args.no_setup {
        if needs_data {
            Some(state::BenchState::load(&args.state_file)?)
        } else {
            None
        }
    } else if needs_data {
        let token = args.operator_token.clone().context(
            "setup needs the server's operator token in STEWARD_OPERATOR_TOKEN \
             (or reuse an earlier setup with --no-setup)",
        )?;
        let created = setup::run_setup(&base_url, &token, &options).await?;
        created.save(&args.state_file)?;
        eprintln!(
            "setup: wrote {} (it holds secrets; keep it private)",
            args.state_file.display()
        );
        Some(created)
    } else {
        None
    };
    if args.setup_only {
        return Ok(ExitCode::SUCCESS);
    }
    let plan = scenarios::Plan::new(args.scenario, &base_url, bench_state.as_ref())?;
    let load = scenarios::LoadOptions {
        concurrency: args.concurrency,
        warmup: Duration::from_secs(args.warmup),
        duration: Duration::from_secs(args.duration),
    };
    eprintln!(
        "bench: {} against {base_url}, {} workers, {} s warm-up, {} s measured",
        args.scenario.name(),
        args.concurrency,
        args.warmup,
        args.duration
    );
    let outcome = scenarios::drive(plan, &load).await?;
    let summary =
        report::Summary::from_outcome(args.scenario.name(), &base_url, args.concurrency, outcome);
    if args.json {
        println!("{}", summary.to_json());
    } else {
        print!("{}", summary.to_text());
    }
    Ok(ExitCode::SUCCESS)
}
