//! The `steward` command: runs the server and the operator's tools.

mod admin_cmd;
mod api_client;
mod audit_cmd;
mod bench;
mod demo_cmd;
mod rules_cmd;
mod serve_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: requests allocate and free many small objects on
/// several threads (and the audit recorder frees on another thread what requests allocated),
/// where glibc's malloc spent a large share of the server's time (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Steward: share operational data with partner organisations without giving it away.
#[derive(Debug, Parser)]
#[command(name = "steward", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API server (SQLite in ./steward-data by default, PostgreSQL with --database-url).
    Serve(Box<serve_cmd::ServeArgs>),
    /// Inspect configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Operator tasks run directly against the database (a server may be running on it).
    Admin {
        #[command(subcommand)]
        command: admin_cmd::AdminCommand,
    },
    /// Check the tamper-evident audit log against its signed checkpoints, or export it with
    /// inclusion proofs (run against the database; a server may be running on it).
    Audit {
        #[command(subcommand)]
        command: audit_cmd::AuditCommand,
    },
    /// Seed the shop/courier story into a data directory or database and show how to explore it.
    Demo(demo_cmd::DemoArgs),
    /// Load-test a running server with a standard scenario (sets up its data through the API).
    Bench(Box<bench::BenchArgs>),
    /// Check and evaluate rules offline (the Trusted Twin rule language).
    Rules {
        #[command(subcommand)]
        command: rules_cmd::RulesCommand,
    },
    /// Print the OpenAPI 3.1 document of the HTTP API.
    Openapi,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print a commented configuration file with every key at its default value.
    PrintDefault,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(args) => serve_cmd::run(*args),
        Command::Config {
            command: ConfigCommand::PrintDefault,
        } => {
            print!("{}", steward_server::DEFAULT_CONFIG_FILE);
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin { command } => admin_cmd::run(command),
        Command::Audit { command } => audit_cmd::run(command),
        Command::Rules { command } => rules_cmd::run(command),
        Command::Demo(args) => demo_cmd::run(args),
        Command::Bench(args) => bench::run(*args),
        Command::Openapi => {
            print!("{}", steward_http::openapi_document());
            Ok(ExitCode::SUCCESS)
        }
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
