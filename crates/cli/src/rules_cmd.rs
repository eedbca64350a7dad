//! `steward rules`: check and evaluate rules offline.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;
use steward_rules::{json, Context, MapContext, Rule};

/// Rule language tools.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Parse a rule; print the variables it uses (exit 0) or diagnostics (exit 2).
    Check {
        /// The rule text.
        rule: String,
    },
    /// Evaluate a rule against a JSON context, or a JSON-lines batch.
    Eval {
        /// The rule text (with --context).
        #[arg(long, required_unless_present = "batch", conflicts_with = "batch")]
        rule: Option<String>,
        /// A JSON file with the context object (tagged values allowed); `-` reads stdin.
        #[arg(long, requires = "rule")]
        context: Option<PathBuf>,
        /// A JSON-lines file of `{"rule": ..., "context": ...}`; `-` reads stdin. Prints one
        /// `{"value": ...}` or `{"error": {"kind", "message"}}` line per input line.
        #[arg(long)]
        batch: Option<PathBuf>,
    },
}

/// Runs a `steward rules` subcommand.
pub fn run(command: RulesCommand) -> anyhow::Result<ExitCode> {
    match command {
        RulesCommand::Check { rule } => Ok(check(&rule)),
        RulesCommand::Eval {
            rule: Some(rule),
            context,
            batch: None,
        } => eval_one(&rule, context.as_ref()),
        RulesCommand::Eval {
            batch: Some(batch), ..
        } => eval_batch(&batch),
        RulesCommand::Eval { .. } => anyhow::bail!("either --rule or --batch is required"),
    }
}

fn check(rule: &str) -> ExitCode {
    match Rule::parse(rule) {
        Ok(parsed) => {
            if parsed.variables().is_empty() {
                println!("ok: the rule uses no variables");
            } else {
                println!("ok: variables: {}", parsed.variables().join(", "));
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{}", error.render(rule));
            ExitCode::from(2)
        }
    }
}

fn read_input(path: &PathBuf) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .context("reading standard input")?;
        return Ok(text);
    }
    std::fs::read_to_string(path).with_context(|| format!("reading `{}`", path.display()))
}

fn eval_one(rule: &str, context_path: Option<&PathBuf>) -> anyhow::Result<ExitCode> {
    let context = match context_path {
        Some(path) => {
            let text = read_input(path)?;
            MapContext::from_json_str(&text)
                .with_context(|| format!("reading the context from `{}`", path.display()))?
        }
        None => MapContext::new(),
    };
    let parsed = match Rule::parse(rule) {
        Ok(parsed) => parsed,
        Err(error) => {
            eprintln!("{}", error.render(rule));
            return Ok(ExitCode::from(2));
        }
    };
    let context: &dyn Context = &context;
    match parsed.evaluate(context) {
        Ok(value) => {
            println!("{}", json::to_json(&value));
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("error: {error}");
            Ok(ExitCode::from(1))
        }
    }
}

fn eval_batch(path: &PathBuf) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut process = |line: &str| -> anyhow::Result<()> {
        writeln!(out, "{}", steward_rules::batch::eval_line(line)).context("writing output")
    };
    if path.as_os_str() == "-" {
        for line in std::io::stdin().lock().lines() {
            let line = line.context("reading standard input")?;
            process(&line)?;
        }
    } else {
        let file =
            std::fs::File::open(path).with_context(|| format!("opening `{}`", path.display()))?;
        for line in std::io::BufReader::new(file).lines() {
            let line = line.with_context(|| format!("reading `{}`", path.display()))?;
            process(&line)?;
        }
    }
    out.flush().context("writing output")?;
    Ok(ExitCode::SUCCESS)
}
