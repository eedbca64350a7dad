//! Setup through the HTTP API: the owner and reader accounts (operator API), the readers'
//! partner role, and the twins, each with the owner's ledger and one identity.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use reqwest::Method;
use serde_json::{json, Value};

use super::state::{BenchAccount, BenchState};

/// What to create.
#[derive(Clone, Debug)]
pub struct SetupOptions {
    pub twins: u32,
    pub accounts: u32,
    pub entries: u32,
    pub visible: u32,
    pub payload_bytes: u32,
    pub concurrency: u32,
}

/// The description `kind` of every bench twin; the readers' twin rule and the scan's `match`
/// rule select it.
pub const TWIN_KIND: &str = "bench";

/// A ledger holds at most 64 kB; stay clear of it with the per-entry overhead.
const LEDGER_BUDGET_BYTES: u64 = 60_000;

/// The API client setup uses: every request bounded by 60 s.
pub type Api = crate::api_client::ApiClient;

/// The value of entry `index`: a small object with a text payload of the configured size.
pub fn entry_value(index: u64, payload: &str) -> Value {
    json!({"index": index, "payload": payload})
}

/// A payload of exactly `bytes` ASCII characters.
pub fn payload_text(bytes: u32) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..bytes as usize)
        .map(|position| char::from(ALPHABET[position % ALPHABET.len()]))
        .collect()
}

/// The identity the owner attaches to twin `index`.
pub fn identity_of(index: u32) -> String {
    format!("BENCH#t{index}")
}

/// A rule that is true for the readers' accounts.
pub fn readers_rule(readers: &[BenchAccount]) -> String {
    match readers {
        [reader] => format!("account == '{}'", reader.account),
        _ => {
            let list: Vec<String> = readers
                .iter()
                .map(|reader| format!("'{}'", reader.account))
                .collect();
            format!("account in [{}]", list.join(", "))
        }
    }
}

/// Refuses ledgers that would not fit the server's 64 kB limit, before anything is created.
pub fn check_ledger_budget(options: &SetupOptions) -> anyhow::Result<()> {
    let estimated_ledger_bytes =
        u64::from(options.entries) * (u64::from(options.payload_bytes) + 200);
    if estimated_ledger_bytes > LEDGER_BUDGET_BYTES {
        anyhow::bail!(
            "{} entries of {} bytes would not fit a ledger (at most 64 kB); lower --entries or \
             --payload-bytes",
            options.entries,
            options.payload_bytes
        );
    }
    Ok(())
}

/// Creates everything through the API and checks that a reader sees exactly the visible
/// entries.
pub async fn run_setup(
    base_url: &str,
    operator_token: &str,
    options: &SetupOptions,
) -> anyhow::Result<BenchState> {
    check_ledger_budget(options)?;
    let started = Instant::now();
    let api = Api::new(base_url, Some(Duration::from_secs(60)))?;
    let (owner, _, _) = create_account(&api, operator_token, "Bench Shop").await?;
    let mut readers = Vec::new();
    for number in 1..options.accounts {
        let name = format!("Bench Courier {number}");
        let (reader, user, admin_role) = create_account(&api, operator_token, &name).await?;
        give_partner_role(&api, &reader, &user, &admin_role).await?;
        readers.push(reader);
    }
    eprintln!(
        "setup: accounts 1 owner + {} reader(s) on {base_url}",
        readers.len()
    );
    let writer = TwinWriter::Api {
        api: api.clone(),
        owner_secret: owner.secret.clone(),
    };
    let (twins, identities) = create_twins(writer, &readers, options).await?;
    let state = BenchState {
        url: base_url.to_owned(),
        owner,
        readers,
        entries: options.entries,
        visible: options.visible,
        payload_bytes: options.payload_bytes,
        twins,
        identities,
        match_rule: format!("TWIN.kind == '{TWIN_KIND}'"),
    };
    check_reader_sees_visible_entries(&api, &state).await?;
    eprintln!(
        "setup: {} twins with {} entries each ({} visible to readers) in {:.1} s",
        state.twins.len(),
        state.entries,
        state.visible,
        started.elapsed().as_secs_f64()
    );
    Ok(state)
}

/// Creates an account through the operator API; its admin user's secret is the credential.
/// Returns the account with that secret, the admin user and the admin role.
async fn create_account(
    api: &Api,
    operator_token: &str,
    name: &str,
) -> anyhow::Result<(BenchAccount, String, String)> {
    let created = api
        .call(
            "create account",
            Method::POST,
            "/operator/accounts",
            operator_token,
            Some(json!({ "name": name })),
        )
        .await?;
    let field = |key: &str| {
        created[key]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("create account: no `{key}` in {created}"))
    };
    let account = BenchAccount {
        account: field("account")?,
        secret: field("secret")?,
    };
    Ok((account, field("user")?, field("role")?))
}

/// Gives the reader's user a partner role: the admin's statement, narrowed by rules to the
/// bench twins; each entry's and identity's own `visibility` then decides what is seen.
async fn give_partner_role(
    api: &Api,
    reader: &BenchAccount,
    user: &str,
    role: &str,
) -> anyhow::Result<()> {
    let admin_role = api
        .call(
            "read role",
            Method::GET,
            &format!("/roles/{role}"),
            &reader.secret,
            None,
        )
        .await?;
    let partner = api
        .call(
            "create partner role",
            Method::POST,
            "/roles",
            &reader.secret,
            Some(json!({
                "name": "Bench Partner",
                "statement": admin_role["statement"],
                "rules": {
                    "twin_rule": format!("TWIN.kind == '{TWIN_KIND}'"),
                    "entry_rule": "true",
                    "identity_rule": "true",
                },
            })),
        )
        .await?;
    api.call(
        "assign partner role",
        Method::PATCH,
        &format!("/users/{user}"),
        &reader.secret,
        Some(json!({ "role": partner["uuid"] })),
    )
    .await?;
    Ok(())
}

/// How the owner's twins are written: through the API, or straight into the store.
pub enum TwinWriter {
    Api { api: Api, owner_secret: String },
    Store(super::seed::StoreWriter),
}

/// Creates the twins with `concurrency` writes in flight; returns twins and identities in
/// index order.
pub async fn create_twins(
    writer: TwinWriter,
    readers: &[BenchAccount],
    options: &SetupOptions,
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let label = match writer {
        TwinWriter::Api { .. } => "setup",
        TwinWriter::Store(_) => "seed",
    };
    let shared = Arc::new(TwinJob {
        writer,
        label,
        visibility: readers_rule(readers),
        payload: payload_text(options.payload_bytes),
        entries: options.entries,
        visible: options.visible,
        total: options.twins,
        next: AtomicU32::new(0),
        done: AtomicU32::new(0),
        failed: AtomicBool::new(false),
    });
    let progress = tokio::spawn(report_progress(shared.clone()));
    let mut tasks = Vec::new();
    for _ in 0..options.concurrency.min(options.twins) {
        let job = shared.clone();
        tasks.push(tokio::spawn(async move { job.work().await }));
    }
    let mut twins: Vec<Option<String>> = vec![None; options.twins as usize];
    let mut first_error = None;
    for task in tasks {
        match task.await.context("a setup task failed")? {
            Ok(created) => {
                for (index, twin) in created {
                    if let Some(slot) = twins.get_mut(index as usize) {
                        *slot = Some(twin);
                    }
                }
            }
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    shared.failed.store(true, Ordering::Relaxed);
    let _ = progress.await;
    if let Some(error) = first_error {
        return Err(error);
    }
    let twins: Vec<String> = twins
        .into_iter()
        .collect::<Option<_>>()
        .context("setup left a twin out")?;
    let identities = (0..options.twins).map(identity_of).collect();
    Ok((twins, identities))
}

/// The shared work of the setup tasks: each takes the next index until all are done.
pub struct TwinJob {
    writer: TwinWriter,
    /// "setup" or "seed", in progress lines.
    label: &'static str,
    pub visibility: String,
    pub payload: String,
    pub entries: u32,
    pub visible: u32,
    total: u32,
    next: AtomicU32,
    done: AtomicU32,
    /// Set on the first error (and at the end) so the other tasks and the progress stop.
    failed: AtomicBool,
}

impl TwinJob {
    async fn work(&self) -> anyhow::Result<Vec<(u32, String)>> {
        let mut created = Vec::new();
        while !self.failed.load(Ordering::Relaxed) {
            let index = self.next.fetch_add(1, Ordering::Relaxed);
            if index >= self.total {
                break;
            }
            match self.create_one(index).await {
                Ok(twin) => created.push((index, twin)),
                Err(error) => {
                    self.failed.store(true, Ordering::Relaxed);
                    return Err(error.context(format!("setup of twin {index}")));
                }
            }
            self.done.fetch_add(1, Ordering::Relaxed);
        }
        Ok(created)
    }

    async fn create_one(&self, index: u32) -> anyhow::Result<String> {
        match &self.writer {
            TwinWriter::Api { api, owner_secret } => {
                self.create_one_through_api(api, owner_secret, index).await
            }
            TwinWriter::Store(store) => store.create_one(self, index).await,
        }
    }

    /// The owner's entries of a bench ledger: values of the configured payload, exactly
    /// `visible` of them with the readers' visibility rule.
    pub fn entry_bodies(&self) -> impl Iterator<Item = (String, Value, Option<String>)> + '_ {
        (0..self.entries).map(|entry| {
            let visibility = is_visible_entry(entry, self.entries, self.visible)
                .then(|| self.visibility.clone());
            (
                format!("entry_{entry}"),
                entry_value(u64::from(entry), &self.payload),
                visibility,
            )
        })
    }

    async fn create_one_through_api(
        &self,
        api: &Api,
        owner_secret: &str,
        index: u32,
    ) -> anyhow::Result<String> {
        let twin = api
            .call(
                "create twin",
                Method::POST,
                "/twins",
                owner_secret,
                Some(json!({"description": {"kind": TWIN_KIND, "number": index}})),
            )
            .await?;
        let twin = twin["creation_certificate"]["uuid"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("create twin: no uuid in {twin}"))?;
        let entries: serde_json::Map<String, Value> = self
            .entry_bodies()
            .map(|(name, value, visibility)| {
                let mut body = json!({ "value": value });
                if let Some(visibility) = visibility {
                    body["visibility"] = Value::from(visibility);
                }
                (name, body)
            })
            .collect();
        api.call(
            "add entries",
            Method::POST,
            &format!("/twins/{twin}/ledgers/personal"),
            owner_secret,
            Some(json!({ "entries": entries })),
        )
        .await?;
        let identity = identity_of(index);
        api.call(
            "attach identity",
            Method::POST,
            &format!("/twins/{twin}/identities"),
            owner_secret,
            Some(json!({"identities": {identity: {"visibility": self.visibility}}})),
        )
        .await?;
        Ok(twin)
    }
}

/// Whether entry `entry` is one of the `visible` ones: every `entries / visible`-th entry,
/// spread over the ledger rather than bunched at its start.
pub fn is_visible_entry(entry: u32, entries: u32, visible: u32) -> bool {
    if visible == 0 {
        return false;
    }
    let spacing = (entries / visible).max(1);
    entry.is_multiple_of(spacing) && entry / spacing < visible
}

/// Prints "setup: twins done/total" on standard error: updated in place a few times a second
/// on a terminal, one line every few seconds otherwise.
async fn report_progress(job: Arc<TwinJob>) {
    let terminal = std::io::stderr().is_terminal();
    let interval = if terminal {
        Duration::from_millis(250)
    } else {
        Duration::from_secs(5)
    };
    let mut last_printed = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let finished = job.failed.load(Ordering::Relaxed);
        let done = job.done.load(Ordering::Relaxed);
        if finished || last_printed.elapsed() >= interval {
            last_printed = Instant::now();
            if terminal {
                eprint!("\r{}: twins {done}/{}", job.label, job.total);
            } else {
                eprintln!("{}: twins {done}/{}", job.label, job.total);
            }
        }
        if finished {
            if terminal {
                eprintln!();
            }
            return;
        }
    }
}

/// Reads the first twin's ledger as the first reader: exactly `visible` entries must come
/// back, or the numbers would not measure what they claim.
async fn check_reader_sees_visible_entries(api: &Api, state: &BenchState) -> anyhow::Result<()> {
    let (Some(twin), Some(reader)) = (state.twins.first(), state.readers.first()) else {
        return Ok(());
    };
    let seen = api
        .call(
            "check the reader's view",
            Method::GET,
            &format!("/twins/{twin}/ledgers/{}", state.owner.account),
            &reader.secret,
            None,
        )
        .await?;
    let count = seen["entries"].as_object().map_or(0, serde_json::Map::len);
    if count != state.visible as usize {
        anyhow::bail!(
            "setup check: the reader sees {count} entries of twin {twin}, expected {}",
            state.visible
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_the_requested_number_of_entries_is_visible() {
        for entries in 1..=40 {
            for visible in 0..=entries {
                let count = (0..entries)
                    .filter(|&entry| is_visible_entry(entry, entries, visible))
                    .count();
                assert_eq!(count, visible as usize, "{visible} of {entries}");
            }
        }
        let spread: Vec<u32> = (0..20)
            .filter(|&entry| is_visible_entry(entry, 20, 5))
            .collect();
        assert_eq!(spread, [0, 4, 8, 12, 16]);
    }

    #[test]
    fn readers_rule_names_one_reader_or_a_list() {
        let reader = |account: &str| BenchAccount {
            account: account.to_owned(),
            secret: String::new(),
        };
        assert_eq!(readers_rule(&[reader("a")]), "account == 'a'");
        assert_eq!(
            readers_rule(&[reader("a"), reader("b")]),
            "account in ['a', 'b']"
        );
        assert_eq!(payload_text(40).len(), 40);
    }
}
