//! `steward audit`: checks the tamper-evident audit log against its signed checkpoints, and
//! exports it with inclusion proofs. Both run directly against the database, with or without a
//! server running on it.
//!
//! `verify` recomputes the whole Merkle log in memory from the records' exact leaf texts and
//! compares it with what the server stored: every stored hash of every sealed record (leaf
//! hashes and the subtree hashes proofs are built from), then every signed checkpoint's
//! signature and root hash. A record edited, deleted or moved is named by its seq; a record
//! rewritten together with its stored hashes still breaks the root of the first checkpoint
//! covering it, and is then narrowed down to the records that checkpoint added.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use steward_audit::merkle::{self, Hash, MemoryLog};
use steward_audit::{Checkpoint, NoteSigner, NoteVerifier};
use steward_server::{Config, ConfigOverrides};
use steward_store::Store;

/// Records read per query.
const RECORD_PAGE: u32 = 10_000;
/// Checkpoints read per query.
const CHECKPOINT_PAGE: u32 = 1_000;

const IMPLICIT_CONFIG_FILE: &str = "steward.toml";

/// Audit log tools.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole audit log: recompute its Merkle tree from the records and compare it
    /// with the stored hashes and every signed checkpoint.
    ///
    /// Exits with 0 and prints a summary when the log is intact; exits with 1 and names the
    /// first bad record (by seq), or the checkpoint that fails, otherwise. Checkpoint
    /// signatures are checked with --verifier-key, or with the public half of the signing key
    /// in --key-file (default: the server's audit key file, <data-dir>/audit-signing.key).
    /// A server may be running on the database meanwhile.
    Verify(VerifyArgs),
    /// Write the audit log as JSON Lines, with an inclusion proof for every sealed record.
    ///
    /// The first line is the newest checkpoint, `{"type": "checkpoint", "size", "note"}` (the
    /// C2SP signed note; absent before the first seal). Then one line per record, in seq
    /// order: `{"type": "record", "seq", "record", "leaf_hash", "proof", "size"}`, where
    /// `record` is the record's exact leaf text (the record as JSON), `leaf_hash` its RFC 6962
    /// leaf hash (base64) and `proof` the RFC 6962 inclusion proof (base64 hashes) in the tree
    /// of `size` records that the checkpoint signs. Records not sealed yet have `"proof": null`
    /// and `"size": null`. Records deleted by retention have no line: the prune record that
    /// deleted them lists their seqs (`pruned`). Fails, writing nothing, if the records do not
    /// match the checkpoint's root hash; the checkpoint's signature is not checked here
    /// (`steward audit verify` does).
    Export(ExportArgs),
}

/// Where the database is.
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Configuration file (TOML). Without it, `./steward.toml` is read if present.
    #[arg(long, env = "STEWARD_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
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
}

/// Options of `steward audit verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// The public key checkpoints must be signed with, `<origin>+<key id>+<base64 key>` (the
    /// server logs it at start; `GET /audit/checkpoint` sends it as `X-Steward-Audit-Key`).
    /// Takes precedence over --key-file.
    #[arg(long, value_name = "KEY")]
    verifier_key: Option<String>,
    /// The server's audit signing key file; only its public half is used
    /// [default: the configured audit_key_file, or <data-dir>/audit-signing.key].
    #[arg(long, env = "STEWARD_AUDIT_KEY_FILE", value_name = "PATH")]
    key_file: Option<PathBuf>,
    /// Print exactly one JSON object: `{"ok", "records", "checkpoints", "sealed",
    /// "first_bad_record", "error", ...}`.
    #[arg(long)]
    json: bool,
}

/// Options of `steward audit export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// The file to write [default: standard output].
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Runs an audit command.
pub fn run(command: AuditCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match command {
        AuditCommand::Verify(args) => runtime.block_on(verify(args)),
        AuditCommand::Export(args) => runtime.block_on(export(args)),
    }
}

fn load_config(args: &DatabaseArgs) -> anyhow::Result<Config> {
    let config_file = args.config.clone().or_else(|| {
        Path::new(IMPLICIT_CONFIG_FILE)
            .is_file()
            .then(|| PathBuf::from(IMPLICIT_CONFIG_FILE))
    });
    let overrides = ConfigOverrides {
        data_dir: args.data_dir.clone(),
        database_url: args.database_url.clone(),
        ..ConfigOverrides::default()
    };
    Ok(Config::load(config_file.as_deref(), &overrides)?)
}

/// Opens the configured database; refuses to create an empty SQLite database where none is.
async fn open_existing_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    if config.database_url.is_none() {
        let file = config
            .data_dir
            .join(steward_store_sqlite::DATABASE_FILE_NAME);
        if !file.is_file() {
            anyhow::bail!(
                "no Steward database in `{}` (expected `{}`); pass --data-dir or --database-url",
                config.data_dir.display(),
                file.display()
            );
        }
    }
    steward_server::open_store(config).await
}

/// The key checkpoints verify with: `--verifier-key`, else the public half of the signing key.
fn load_verifier(args: &VerifyArgs, config: &Config) -> anyhow::Result<NoteVerifier> {
    if let Some(key) = &args.verifier_key {
        return NoteVerifier::parse(key.trim())
            .map_err(|error| anyhow::anyhow!("--verifier-key `{}`: {error}", key.trim()));
    }
    let path = args
        .key_file
        .clone()
        .unwrap_or_else(|| config.audit_key_path());
    match std::fs::read_to_string(&path) {
        Ok(key) => NoteSigner::parse(key.trim())
            .map(|signer| signer.verifier())
            // The error never quotes the key: it is a secret.
            .map_err(|error| {
                anyhow::anyhow!("`{}` is not an audit signing key: {error}", path.display())
            }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
            "no key to check audit checkpoints with: the signing key file `{}` does not exist; \
             pass --verifier-key <origin>+<key id>+<key> (the key the server logs at start and \
             sends as X-Steward-Audit-Key with GET /audit/checkpoint) or --key-file <path>",
            path.display()
        ),
        Err(error) => {
            Err(error).with_context(|| format!("cannot read the key file `{}`", path.display()))
        }
    }
}

/// Progress lines on standard error, for logs longer than one page.
struct Progress {
    verb: &'static str,
    total: u64,
}

impl Progress {
    fn update(&self, done: u64) {
        if self.total > u64::from(RECORD_PAGE) {
            eprintln!("{} {done}/{} records", self.verb, self.total);
        }
    }
}

// ---- verify --------------------------------------------------------------------------------

/// What is wrong with the log: the first problem found.
#[derive(Debug, Default)]
struct Failure {
    message: String,
    /// The first bad record, when one record is to blame.
    first_bad_record: Option<u64>,
    /// The records one of which was changed, when it cannot be told which (first, last).
    bad_records: Option<(u64, u64)>,
    /// The checkpoint (by size) that fails.
    bad_checkpoint: Option<u64>,
}

impl Failure {
    fn record(seq: u64, message: String) -> Self {
        Self {
            message,
            first_bad_record: Some(seq),
            ..Self::default()
        }
    }
}

/// The outcome of a verification.
#[derive(Debug, Default)]
struct Verification {
    /// Records in the log (ever appended).
    records: u64,
    /// Checkpoints checked.
    checkpoints: u64,
    /// Records covered by the newest checked checkpoint.
    sealed: u64,
    /// Checkpoints signed while verifying, beyond the records read (not checked).
    newer_checkpoints: u64,
    failure: Option<Failure>,
}

async fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(&args.database)?;
    let verifier = load_verifier(&args, &config)?;
    let store = open_existing_store(&config).await?;
    let outcome = verify_log(store.as_ref(), &verifier).await;
    store.close().await;
    let outcome = outcome?;
    let ok = outcome.failure.is_none();
    if args.json {
        let failure = outcome.failure.as_ref();
        let object = json!({
            "ok": ok,
            "records": outcome.records,
            "checkpoints": outcome.checkpoints,
            "sealed": outcome.sealed,
            "first_bad_record": failure.and_then(|failure| failure.first_bad_record),
            "bad_records": failure.and_then(|failure| failure.bad_records)
                .map(|(first, last)| json!({"first": first, "last": last})),
            "bad_checkpoint": failure.and_then(|failure| failure.bad_checkpoint),
            "error": failure.map(|failure| failure.message.clone()),
        });
        println!("{object}");
    } else if let Some(failure) = &outcome.failure {
        eprintln!("audit log verification FAILED: {}", failure.message);
    } else {
        let unsealed = outcome.records.saturating_sub(outcome.sealed);
        let newest = if outcome.checkpoints == 0 {
            "no checkpoint yet".to_owned()
        } else {
            format!("newest checkpoint covers {} records", outcome.sealed)
        };
        let newer = match outcome.newer_checkpoints {
            0 => String::new(),
            n => format!("; {n} checkpoints signed meanwhile were not checked"),
        };
        println!(
            "audit log verified: {} records, {} checkpoints, {newest} ({unsealed} not sealed yet){newer}",
            outcome.records, outcome.checkpoints
        );
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Recomputes the log from its records and checks stored hashes and checkpoints against it.
async fn verify_log(store: &dyn Store, verifier: &NoteVerifier) -> anyhow::Result<Verification> {
    // The sealed size first: records only grow, so every sealed record is then counted.
    let tree_size = store.audit_tree_size().await?;
    let count = store.audit_record_count().await?;
    let mut outcome = Verification {
        records: count,
        ..Verification::default()
    };
    if tree_size > count {
        outcome.failure = Some(Failure {
            message: format!(
                "the stored hashes cover {tree_size} records but the log has only {count}: \
                 records or the record counter were removed"
            ),
            ..Failure::default()
        });
        return Ok(outcome);
    }
    let log = match recompute(store, count, tree_size).await? {
        Ok(log) => log,
        Err(failure) => {
            outcome.failure = Some(failure);
            return Ok(outcome);
        }
    };
    check_checkpoints(store, verifier, &log, tree_size, &mut outcome).await?;
    Ok(outcome)
}

/// Reads records `0..count` into a memory log, checking their seqs and, for the first
/// `tree_size`, every stored hash they determine. A sealed record that is missing (deleted by
/// retention) enters the log by its stored leaf hash, and must be listed by a later prune
/// record.
async fn recompute(
    store: &dyn Store,
    count: u64,
    tree_size: u64,
) -> anyhow::Result<Result<MemoryLog, Failure>> {
    let progress = Progress {
        verb: "verified",
        total: count,
    };
    let mut log = MemoryLog::new();
    let mut pruning = Pruning::default();
    let mut next = 0_u64;
    while next < count {
        let limit = u32::try_from(count - next).map_or(RECORD_PAGE, |left| left.min(RECORD_PAGE));
        let page = store
            .read_audit_records(next, limit)
            .await
            .with_context(|| format!("cannot read audit records from {next}"))?;
        let page_start = next;
        let mut failure = None;
        for record in page.iter().filter(|record| record.seq < count) {
            if record.seq < next {
                anyhow::bail!("the store returned audit records out of order");
            }
            if record.seq > next {
                if let Err(seq) =
                    append_stored_leaves(store, &mut log, next, record.seq, tree_size).await?
                {
                    failure = Some(missing_record(seq));
                    break;
                }
                pruning.missing.push([next, record.seq - 1]);
            }
            pruning.note(record.seq, &record.text);
            log.append(record.text.as_bytes());
            next = record.seq + 1;
        }
        // The rest of the log is missing: only sealed records may be (by retention).
        if failure.is_none() && page.iter().all(|record| record.seq >= count) {
            match append_stored_leaves(store, &mut log, next, count, tree_size).await? {
                Ok(()) => pruning.missing.push([next, count - 1]),
                Err(seq) => failure = Some(missing_record(seq)),
            }
            next = count;
        }
        // Earlier records first: a changed record before a gap is the first bad one.
        if let Err(failure) =
            check_stored_hashes(store, &log, page_start, next.min(tree_size)).await?
        {
            return Ok(Err(failure));
        }
        if let Some(failure) = failure {
            return Ok(Err(failure));
        }
        progress.update(next);
    }
    if let Err(failure) = pruning.check() {
        return Ok(Err(failure));
    }
    Ok(Ok(log))
}

fn missing_record(seq: u64) -> Failure {
    Failure::record(
        seq,
        format!("record {seq} is missing (deleted, or its seq was changed)"),
    )
}

/// Appends the stored leaf hashes of the missing records `from..to` to `log`; `Err(seq)`
/// names the first that cannot be missing legitimately (not sealed, or no stored leaf hash).
async fn append_stored_leaves(
    store: &dyn Store,
    log: &mut MemoryLog,
    from: u64,
    to: u64,
    tree_size: u64,
) -> anyhow::Result<Result<(), u64>> {
    if to > tree_size {
        return Ok(Err(from.max(tree_size)));
    }
    let mut seq = from;
    while seq < to {
        let end = to.min(seq + u64::from(RECORD_PAGE));
        let positions: Vec<u64> = (seq..end)
            .map(|seq| merkle::stored_hash_index(0, seq))
            .collect();
        let Ok(hashes) = store.read_audit_hashes(&positions).await else {
            return Ok(Err(seq));
        };
        for hash in hashes {
            log.append_leaf_hash(hash);
        }
        seq = end;
    }
    Ok(Ok(()))
}

/// Records missing from the log, and the prune records that account for them.
#[derive(Debug, Default)]
struct Pruning {
    /// Missing records, as inclusive ranges in seq order.
    missing: Vec<[u64; 2]>,
    /// Ranges the prune records list as deleted by retention.
    pruned: Vec<[u64; 2]>,
    /// A prune record that lists itself or a later record (it cannot have deleted those).
    impossible: Option<u64>,
}

impl Pruning {
    /// Notes record `seq` if it is a prune record.
    fn note(&mut self, seq: u64, text: &str) {
        if !text.contains(r#""pruned":["#) {
            return;
        }
        let Ok(record) = serde_json::from_str::<steward_domain::AuditRecord>(text) else {
            return;
        };
        if record.operation != steward_domain::AUDIT_PRUNE_OPERATION {
            return;
        }
        for range in record.pruned.unwrap_or_default() {
            if range[0] > range[1] || range[1] >= seq {
                self.impossible.get_or_insert(seq);
                continue;
            }
            self.pruned.push(range);
        }
    }

    /// Every missing record must be listed by a prune record.
    fn check(mut self) -> Result<(), Failure> {
        if let Some(seq) = self.impossible {
            return Err(Failure::record(
                seq,
                format!("prune record {seq} lists records at or after itself"),
            ));
        }
        self.pruned.sort_unstable();
        // Merged, so each missing range is covered by one range or not at all.
        let mut merged: Vec<[u64; 2]> = Vec::with_capacity(self.pruned.len());
        for [start, end] in self.pruned {
            match merged.last_mut() {
                Some(last) if start <= last[1].saturating_add(1) => last[1] = last[1].max(end),
                _ => merged.push([start, end]),
            }
        }
        for [first, last] in self.missing {
            let covering = merged.partition_point(|range| range[0] <= first);
            let uncovered = match covering.checked_sub(1).map(|index| merged[index]) {
                Some([_, end]) if end >= last => continue,
                Some([_, end]) if end >= first => end + 1,
                _ => first,
            };
            return Err(Failure::record(
                uncovered,
                format!(
                    "record {uncovered} is missing (deleted, or its seq was changed), and no \
                     retention pruning lists it"
                ),
            ));
        }
        Ok(())
    }
}

/// Compares the hashes stored for records `from..to` with those recomputed in `log`.
async fn check_stored_hashes(
    store: &dyn Store,
    log: &MemoryLog,
    from: u64,
    to: u64,
) -> anyhow::Result<Result<(), Failure>> {
    if from >= to {
        return Ok(Ok(()));
    }
    let positions: Vec<u64> =
        (merkle::stored_hash_count(from)..merkle::stored_hash_count(to)).collect();
    let stored = match store.read_audit_hashes(&positions).await {
        Ok(stored) => stored,
        Err(error) => {
            // Find which one is missing (only ever done for a broken log).
            for &position in &positions {
                if store.read_audit_hashes(&[position]).await.is_err() {
                    return Ok(Err(stored_hash_failure(position, true)));
                }
            }
            return Err(error).context("cannot read the stored audit hashes");
        }
    };
    let recomputed = log.stored_hashes();
    for (&position, hash) in positions.iter().zip(&stored) {
        let expected = usize::try_from(position)
            .ok()
            .and_then(|index| recomputed.get(index));
        if expected != Some(hash) {
            return Ok(Err(stored_hash_failure(position, false)));
        }
    }
    Ok(Ok(()))
}

/// The failure of stored hash `position` (missing, or not what the records give): a record's
/// leaf hash, or the hash of a subtree of records.
fn stored_hash_failure(position: u64, missing: bool) -> Failure {
    let (level, index) = merkle::split_stored_hash_index(position);
    if level == 0 {
        let message = if missing {
            format!("record {index}: its stored leaf hash is missing")
        } else {
            format!(
                "record {index} does not match its stored leaf hash (its text was changed, or \
                 records were reordered or replaced)"
            )
        };
        return Failure::record(index, message);
    }
    let first = index << level;
    let last = first + (1_u64 << level) - 1;
    let problem = if missing {
        "is missing"
    } else {
        "does not match them"
    };
    Failure {
        message: format!(
            "the stored hash of records {first} to {last} (hash {position}) {problem}: one of \
             these records was changed together with its leaf hash, or the stored hash was \
             changed"
        ),
        bad_records: Some((first, last)),
        ..Failure::default()
    }
}

/// Checks every checkpoint: signature, origin, size and root hash.
async fn check_checkpoints(
    store: &dyn Store,
    verifier: &NoteVerifier,
    log: &MemoryLog,
    tree_size: u64,
    outcome: &mut Verification,
) -> anyhow::Result<()> {
    let count = log.size();
    // Size of the newest checkpoint that matched: the records after it are the suspects.
    let mut good = 0_u64;
    let mut after = 0_u64;
    loop {
        let page = store
            .list_audit_checkpoints(after, CHECKPOINT_PAGE)
            .await
            .context("cannot read the audit checkpoints")?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.size;
        for checkpoint in page {
            let size = checkpoint.size;
            let fail = |message: String| Failure {
                message,
                bad_checkpoint: Some(size),
                ..Failure::default()
            };
            if size > count {
                // A seal that happened while verifying covers records not read: fine if the
                // store really holds them now.
                let sealed_now = store.audit_tree_size().await?;
                if size > tree_size && size <= sealed_now {
                    outcome.newer_checkpoints += 1;
                    continue;
                }
                let missing = if size - count == 1 {
                    format!("record {count} is missing")
                } else {
                    format!("records {count} to {} are missing", size - 1)
                };
                let mut failure = fail(format!(
                    "checkpoint {size} covers {size} records but the log has only {count}: \
                     {missing}"
                ));
                failure.first_bad_record = Some(count);
                outcome.failure = Some(failure);
                return Ok(());
            }
            let opened =
                match Checkpoint::open(checkpoint.note.as_bytes(), verifier.name(), verifier) {
                    Ok(opened) => opened,
                    Err(error) => {
                        outcome.failure = Some(fail(format!(
                            "checkpoint {size} does not verify with key `{}`: {error}",
                            verifier.verifier_key()
                        )));
                        return Ok(());
                    }
                };
            if opened.size != size {
                outcome.failure = Some(fail(format!(
                    "checkpoint {size} is signed for {} records, not {size}",
                    opened.size
                )));
                return Ok(());
            }
            let root: Hash = log
                .tree_hash(size)
                .map_err(|error| anyhow::anyhow!("cannot recompute the tree hash: {error}"))?;
            if root != opened.root_hash {
                let mut failure = fail(format!(
                    "checkpoint {size} does not match the records: the root hash of records 0 \
                     to {} differs from the signed one, so one of records {good} to {} was \
                     changed (with its stored hashes rewritten to match){}",
                    size - 1,
                    size - 1,
                    if good == 0 {
                        String::new()
                    } else {
                        format!("; checkpoint {good} still matches")
                    }
                ));
                failure.bad_records = Some((good, size - 1));
                outcome.failure = Some(failure);
                return Ok(());
            }
            good = size;
            outcome.checkpoints += 1;
            outcome.sealed = size;
        }
    }
    if good < tree_size {
        outcome.failure = Some(Failure {
            message: format!(
                "records {good} to {} are sealed (their hashes are stored) but no checkpoint \
                 covers them: the newest checkpoint was removed",
                tree_size - 1
            ),
            bad_records: Some((good, tree_size - 1)),
            ..Failure::default()
        });
    }
    Ok(())
}

// ---- export --------------------------------------------------------------------------------

async fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(&args.database)?;
    let store = open_existing_store(&config).await?;
    let outcome = export_log(store.as_ref(), args.output.as_deref()).await;
    store.close().await;
    outcome?;
    Ok(ExitCode::SUCCESS)
}

async fn export_log(store: &dyn Store, output: Option<&Path>) -> anyhow::Result<()> {
    // The checkpoint first: every record it covers is then already stored.
    let checkpoint = store.latest_audit_checkpoint().await?;
    let count = store.audit_record_count().await?;
    let size = checkpoint.as_ref().map_or(0, |checkpoint| checkpoint.size);
    if size > count {
        anyhow::bail!(
            "the newest checkpoint covers {size} records but the log has only {count} \
             (run `steward audit verify`)"
        );
    }
    // Pass 1: the tree the checkpoint signs, from the records it covers (records deleted by
    // retention by their stored leaf hashes).
    let mut log = MemoryLog::new();
    let mut next = 0_u64;
    while next < size {
        let limit = u32::try_from(size - next).map_or(RECORD_PAGE, |left| left.min(RECORD_PAGE));
        let page = store
            .read_audit_records(next, limit)
            .await
            .with_context(|| format!("cannot read audit records from {next}"))?;
        let mut ends = page.iter().all(|record| record.seq >= size);
        for record in page.iter().filter(|record| record.seq < size) {
            if record.seq < next {
                anyhow::bail!("the store returned audit records out of order");
            }
            if append_stored_leaves(store, &mut log, next, record.seq, size)
                .await?
                .is_err()
            {
                anyhow::bail!("record {next} is missing (run `steward audit verify`)");
            }
            log.append(record.text.as_bytes());
            next = record.seq + 1;
        }
        if page.len() < limit as usize {
            ends = true;
        }
        if ends {
            if append_stored_leaves(store, &mut log, next, size, size)
                .await?
                .is_err()
            {
                anyhow::bail!("record {next} is missing (run `steward audit verify`)");
            }
            next = size;
        }
    }
    if let Some(checkpoint) = &checkpoint {
        let signed = checkpoint_body(&checkpoint.note).with_context(|| {
            format!("checkpoint {size} is not a checkpoint note (run `steward audit verify`)")
        })?;
        let root = log
            .tree_hash(size)
            .map_err(|error| anyhow::anyhow!("cannot recompute the tree hash: {error}"))?;
        if signed.size != size || signed.root_hash != root {
            anyhow::bail!(
                "the records do not match checkpoint {size}; nothing exported \
                 (run `steward audit verify` to find the bad record)"
            );
        }
    }

    // Pass 2: the lines.
    let mut writer: Box<dyn std::io::Write> = match output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create `{}`", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    if let Some(checkpoint) = &checkpoint {
        writeln!(
            writer,
            r#"{{"type":"checkpoint","size":{},"note":{}}}"#,
            checkpoint.size,
            Value::String(checkpoint.note.clone())
        )?;
    }
    // Records deleted by retention have no line; the prune record that deleted them lists them.
    read_records(store, count, "exported", |seq, text| {
        let leaf = merkle::leaf_hash(text.as_bytes());
        let (proof, proof_size) = if seq < size {
            if log.record_hash(seq) != Some(leaf) {
                anyhow::bail!("record {seq} changed during the export");
            }
            let proof = log
                .prove_record(size, seq)
                .map_err(|error| anyhow::anyhow!("cannot prove record {seq}: {error}"))?;
            let hashes: Vec<Value> = proof
                .iter()
                .map(|hash| Value::String(BASE64.encode(hash)))
                .collect();
            (Value::Array(hashes), Value::from(size))
        } else {
            (Value::Null, Value::Null)
        };
        writeln!(
            writer,
            r#"{{"type":"record","seq":{seq},"record":{},"leaf_hash":"{}","proof":{proof},"size":{proof_size}}}"#,
            record_json(seq, text)?,
            BASE64.encode(leaf),
        )?;
        Ok(())
    })
    .await?;
    writer.flush().context("cannot write the export")?;
    Ok(())
}

/// The record as JSON for an export line: its exact leaf text when that fits on one line (so
/// its leaf hash can be recomputed from the line), re-serialized otherwise.
fn record_json(seq: u64, text: &str) -> anyhow::Result<String> {
    let value: Value = serde_json::from_str(text)
        .with_context(|| format!("record {seq} is not JSON (run `steward audit verify`)"))?;
    if text.contains(['\n', '\r']) {
        Ok(value.to_string())
    } else {
        Ok(text.to_owned())
    }
}

/// The checkpoint a signed note carries (its signatures are not checked here).
fn checkpoint_body(note: &str) -> anyhow::Result<Checkpoint> {
    let end = note
        .find("\n\n")
        .ok_or_else(|| anyhow::anyhow!("no signature block"))?;
    Ok(Checkpoint::parse(&note[..=end])?)
}

/// Calls `each` with the seq and text of the records among `0..count` (records deleted by
/// retention are skipped), in seq order, page by page.
async fn read_records(
    store: &dyn Store,
    count: u64,
    verb: &'static str,
    mut each: impl FnMut(u64, &str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let progress = Progress { verb, total: count };
    let mut next = 0_u64;
    while next < count {
        let limit = u32::try_from(count - next).map_or(RECORD_PAGE, |left| left.min(RECORD_PAGE));
        let page = store
            .read_audit_records(next, limit)
            .await
            .with_context(|| format!("cannot read audit records from {next}"))?;
        let Some(last) = page.last() else {
            break;
        };
        let last_seq = last.seq;
        for record in page.iter().filter(|record| record.seq < count) {
            each(record.seq, &record.text)?;
        }
        if last_seq < next {
            anyhow::bail!("the store returned records out of order");
        }
        next = last_seq.saturating_add(1);
        progress.update(next.min(count));
    }
    Ok(())
}
