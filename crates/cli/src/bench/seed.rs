//! Bulk seeding for million-twin runs: the same data set as the API setup, written straight
//! into a data directory (SQLite) or PostgreSQL database through the `Store` trait.
//!
//! Accounts and the readers' role go through the services (so secrets are hashed as usual);
//! twins, ledgers and identities go to the store directly, without an HTTP round trip,
//! authorisation, audit records or notifications per twin. The audit trail therefore does not
//! show the seeding: it is a benchmark fixture, not data anybody accessed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use serde_json::{json, Value};
use steward_core::{Steward, UserPatch};
use steward_domain::{
    AccountId, Clock as _, Entry, EntryContent, Identity, Ledger, RoleRules, SystemClock, Twin,
    TwinId, TwinStatus,
};
use steward_server::{Config, ConfigOverrides};
use steward_store::{LedgerEffects, Store};

use super::setup::{create_twins, identity_of, SetupOptions, TwinJob, TwinWriter, TWIN_KIND};
use super::state::{BenchAccount, BenchState};

/// Where to seed.
#[derive(Clone, Debug)]
pub struct SeedTarget {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
}

/// Writes twins with their ledger and identity straight into the store.
pub struct StoreWriter {
    store: Arc<dyn Store>,
    owner: AccountId,
}

impl StoreWriter {
    /// Creates twin `index`: the twin, the owner's ledger and the identity, one store call
    /// each.
    pub async fn create_one(&self, job: &TwinJob, index: u32) -> anyhow::Result<String> {
        let now = SystemClock.now();
        let description = json!({"kind": TWIN_KIND, "number": index});
        let twin = Twin {
            id: TwinId::new_random(),
            owner: self.owner,
            creator: self.owner,
            status: TwinStatus::Alive,
            description: description.as_object().cloned(),
            termination: None,
            created_ts: now,
            updated_ts: now,
        };
        self.store
            .create_twin(self.owner, &twin)
            .await
            .context("create twin")?;
        let entries: BTreeMap<String, Entry> = job
            .entry_bodies()
            .map(
                |(name, value, visibility): (String, Value, Option<String>)| {
                    let entry = Entry {
                        content: EntryContent::Value(value),
                        visibility,
                        history: None,
                        publish: None,
                        timeseries: None,
                        entry_created_ts: now,
                        entry_updated_ts: now,
                        value_changed_ts: now,
                    };
                    (name, entry)
                },
            )
            .collect();
        let ledger = Ledger {
            twin: twin.id,
            account: self.owner,
            entries,
            version: 1,
            created_ts: now,
            updated_ts: now,
        };
        self.store
            .save_ledger(self.owner, &ledger, None, &LedgerEffects::default())
            .await
            .context("save ledger")?;
        let identity = Identity {
            twin: twin.id,
            account: self.owner,
            identity: identity_of(index),
            validity_ts: None,
            visibility: Some(job.visibility.clone()),
            created_ts: now,
            updated_ts: now,
        };
        self.store
            .create_identities(self.owner, twin.id, &[identity])
            .await
            .context("attach identity")?;
        Ok(twin.id.to_string())
    }
}

/// Seeds the data set into the target; `url` is where the server will serve it (recorded in
/// the state file).
pub async fn run_seed(
    target: &SeedTarget,
    url: &str,
    options: &SetupOptions,
) -> anyhow::Result<BenchState> {
    super::setup::check_ledger_budget(options)?;
    let started = Instant::now();
    let overrides = ConfigOverrides {
        data_dir: target.data_dir.clone(),
        database_url: target.database_url.clone(),
        ..ConfigOverrides::default()
    };
    let config = Config::load(None, &overrides)?;
    let store = steward_server::open_store(&config).await?;
    let steward = Steward::start(store.clone(), Arc::new(SystemClock), Default::default())
        .await
        .map_err(|error| anyhow::anyhow!("cannot start services: {error}"))?;
    let outcome = seed_with(&steward, store.clone(), url, options).await;
    if let Err(error) = steward.flush_audit().await {
        eprintln!("warning: writing the audit records of seeding failed: {error}");
    }
    store.close().await;
    let state = outcome?;
    eprintln!(
        "seed: {} twins with {} entries each ({} visible to readers) in {:.1} s",
        state.twins.len(),
        state.entries,
        state.visible,
        started.elapsed().as_secs_f64()
    );
    Ok(state)
}

async fn seed_with(
    steward: &Steward,
    store: Arc<dyn Store>,
    url: &str,
    options: &SetupOptions,
) -> anyhow::Result<BenchState> {
    let owner = create_account(steward, "Bench Shop").await?;
    let mut readers = Vec::new();
    for number in 1..options.accounts {
        let (reader, account_id) =
            create_account_with_id(steward, &format!("Bench Courier {number}")).await?;
        give_partner_role(steward, &reader.secret)
            .await
            .with_context(|| format!("partner role of reader {account_id}"))?;
        readers.push(reader);
    }
    eprintln!("seed: accounts 1 owner + {} reader(s)", readers.len());
    let owner_id: AccountId = owner
        .account
        .parse()
        .map_err(|error| anyhow::anyhow!("owner account id: {error:?}"))?;
    let writer = TwinWriter::Store(StoreWriter {
        store,
        owner: owner_id,
    });
    let (twins, identities) = create_twins(writer, &readers, options).await?;
    Ok(BenchState {
        url: url.to_owned(),
        owner,
        readers,
        entries: options.entries,
        visible: options.visible,
        payload_bytes: options.payload_bytes,
        twins,
        identities,
        match_rule: format!("TWIN.kind == '{TWIN_KIND}'"),
    })
}

async fn create_account(steward: &Steward, name: &str) -> anyhow::Result<BenchAccount> {
    Ok(create_account_with_id(steward, name).await?.0)
}

async fn create_account_with_id(
    steward: &Steward,
    name: &str,
) -> anyhow::Result<(BenchAccount, AccountId)> {
    let created = steward
        .create_account(name)
        .await
        .map_err(|error| anyhow::anyhow!("create account `{name}`: {error}"))?;
    let account_id = created.bootstrap.account.id;
    Ok((
        BenchAccount {
            account: account_id.to_string(),
            secret: created.secret,
        },
        account_id,
    ))
}

/// The same partner role as the API setup: the admin's statement with rules that select the
/// bench twins and leave entries and identities to their own visibility.
async fn give_partner_role(steward: &Steward, secret: &str) -> anyhow::Result<()> {
    let admin = steward
        .authenticate(Some(secret), None)
        .await
        .map_err(|error| anyhow::anyhow!("authenticate: {error}"))?;
    let rules = RoleRules {
        twin_rule: Some(format!("TWIN.kind == '{TWIN_KIND}'")),
        entry_rule: Some("true".to_owned()),
        identity_rule: Some("true".to_owned()),
    };
    let role = steward
        .create_role(
            &admin,
            Some("Bench Partner".to_owned()),
            Some(admin.role.statement.clone()),
            Some(rules),
        )
        .await
        .map_err(|error| anyhow::anyhow!("create role: {error}"))?;
    let patch = UserPatch {
        role: Some(role.id),
        ..UserPatch::default()
    };
    steward
        .update_user(&admin, admin.user.id, patch)
        .await
        .map_err(|error| anyhow::anyhow!("assign role: {error}"))?;
    Ok(())
}
