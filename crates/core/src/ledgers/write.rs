//! Writes to the caller's own ledger. Each request is all-or-nothing: conditions are checked
//! against the stored state that the write replaces (optimistic concurrency with retries), and
//! the resulting ledger must stay within 64 kB.

use std::cell::OnceCell;
use std::collections::BTreeMap;

use serde_json::Value;
use steward_domain::{AccountId, Entry, Ledger, LedgerTransaction, Timestamp, Twin, TwinId};
use steward_store::{Entity, LedgerEffects, StoreError};

use super::history::history_write;
use super::references::SourceReader;
use super::{empty_ledger, EntryInput, LedgerSelector, LedgerView, MAX_LEDGER_BYTES};
use crate::access::roles::validate_rule_text;
use crate::authz::{authorize_operation, visible_entry_names};
use crate::rule_context::EntryRuleContext;
use crate::{Error, ErrorCode, Principal, Steward};

/// How often a write is retried when another request changed the ledger in between.
const WRITE_ATTEMPTS: usize = 8;

/// Write `conditions`: entry name → rule that must be true for the stored entry.
pub type Conditions = BTreeMap<String, String>;

/// One write request, as the shared write path takes it.
struct WriteRequest<'a> {
    operation: &'static str,
    twin: TwinId,
    selector: LedgerSelector,
    options: &'a WriteOptions,
    /// The request body as JSON, for the transaction digest.
    body: Value,
}

/// Longest client `transaction` id.
pub const MAX_TRANSACTION_ID_CHARS: usize = 128;

/// How a write is made: its `conditions`, and an optional client `transaction` id that makes
/// retries of the same request answer the first result instead of writing again (remembered
/// for 24 hours).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Entry name → rule that must hold for the stored entry.
    pub conditions: Conditions,
    /// The client's transaction id.
    pub transaction: Option<String>,
}

fn validate_transaction_id(id: &str) -> Result<(), Error> {
    let length = id.chars().count();
    if (1..=MAX_TRANSACTION_ID_CHARS).contains(&length) && !id.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(Error::request_format(format!(
            "`transaction` must be 1–{MAX_TRANSACTION_ID_CHARS} characters without control characters"
        )))
    }
}

/// The request as JSON, for the transaction digest.
fn entries_request(entries: &BTreeMap<String, EntryInput>) -> Value {
    entries
        .iter()
        .map(|(name, input)| (name.clone(), input.to_json()))
        .collect::<serde_json::Map<String, Value>>()
        .into()
}

/// A digest of one write request: operation, twin, ledger, conditions and body. Two requests
/// with the same digest are the same request.
fn request_digest(
    operation: &str,
    twin: &Twin,
    account: AccountId,
    conditions: &Conditions,
    request: &Value,
) -> String {
    let canonical = serde_json::json!({
        "operation": operation,
        "twin": twin.id.to_string(),
        "ledger": account.to_string(),
        "conditions": conditions,
        "request": request,
    });
    crate::credentials::hash_credential(&canonical.to_string())
}

fn entry_not_found(name: &str) -> Error {
    Error::new(ErrorCode::NotFound, format!("entry `{name}` not found"))
}

impl Steward {
    /// `add_twin_ledger_entry`: adds new entries; an existing name is 400 / 400358.
    pub async fn add_ledger_entries(
        &self,
        principal: &Principal,
        twin: TwinId,
        selector: LedgerSelector,
        entries: BTreeMap<String, EntryInput>,
        options: WriteOptions,
    ) -> Result<LedgerView, Error> {
        authorize_operation(principal, "add_twin_ledger_entry")?;
        for (name, input) in &entries {
            input.validate(name)?;
        }
        let request = entries_request(&entries);
        let request = WriteRequest {
            operation: "add_twin_ledger_entry",
            twin,
            selector,
            options: &options,
            body: request,
        };
        self.write_own_ledger(principal, request, |ledger, now| {
            let mut added = BTreeMap::new();
            for (name, input) in entries.clone() {
                if ledger.entries.contains_key(&name) {
                    return Err(Error::new(
                        ErrorCode::IdempotencyViolation,
                        format!("entry `{name}` already exists; update it with PATCH"),
                    ));
                }
                let entry = input.into_new_entry(&name, now)?;
                ledger.entries.insert(name.clone(), entry.clone());
                added.insert(name, entry);
            }
            Ok(added)
        })
        .await
    }

    /// `update_twin_ledger_entry`: present fields replace stored ones; missing entries are 404.
    pub async fn update_ledger_entries(
        &self,
        principal: &Principal,
        twin: TwinId,
        selector: LedgerSelector,
        entries: BTreeMap<String, EntryInput>,
        options: WriteOptions,
    ) -> Result<LedgerView, Error> {
        authorize_operation(principal, "update_twin_ledger_entry")?;
        for (name, input) in &entries {
            input.validate(name)?;
        }
        let request = entries_request(&entries);
        let request = WriteRequest {
            operation: "update_twin_ledger_entry",
            twin,
            selector,
            options: &options,
            body: request,
        };
        self.write_own_ledger(principal, request, |ledger, now| {
            let mut updated = BTreeMap::new();
            for (name, input) in entries.clone() {
                let entry = ledger
                    .entries
                    .get_mut(&name)
                    .ok_or_else(|| entry_not_found(&name))?;
                input.apply_to(&name, entry, now)?;
                updated.insert(name, entry.clone());
            }
            Ok(updated)
        })
        .await
    }

    /// `update_twin_ledger_entry_value`: changes values of existing value entries.
    pub async fn update_ledger_values(
        &self,
        principal: &Principal,
        twin: TwinId,
        selector: LedgerSelector,
        values: BTreeMap<String, Value>,
        options: WriteOptions,
    ) -> Result<LedgerView, Error> {
        authorize_operation(principal, "update_twin_ledger_entry_value")?;
        let entries = values
            .into_iter()
            .map(|(name, value)| {
                let input = EntryInput {
                    value: Some(value),
                    ..EntryInput::default()
                };
                input.validate(&name).map(|()| (name, input))
            })
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        let request = entries_request(&entries);
        let request = WriteRequest {
            operation: "update_twin_ledger_entry_value",
            twin,
            selector,
            options: &options,
            body: request,
        };
        self.write_own_ledger(principal, request, |ledger, now| {
            let mut updated = BTreeMap::new();
            for (name, input) in entries.clone() {
                let entry = ledger
                    .entries
                    .get_mut(&name)
                    .ok_or_else(|| entry_not_found(&name))?;
                input.apply_to(&name, entry, now)?;
                updated.insert(name, entry.clone());
            }
            Ok(updated)
        })
        .await
    }

    /// `delete_twin_ledger_entry`: deletes the named entries and returns them; names that do
    /// not exist are ignored.
    pub async fn delete_ledger_entries(
        &self,
        principal: &Principal,
        twin: TwinId,
        selector: LedgerSelector,
        names: Vec<String>,
        options: WriteOptions,
    ) -> Result<LedgerView, Error> {
        authorize_operation(principal, "delete_twin_ledger_entry")?;
        if names.is_empty() {
            return Err(Error::request_format(
                "`entries` must name the entries to delete",
            ));
        }
        let request = Value::from(names.clone());
        let request = WriteRequest {
            operation: "delete_twin_ledger_entry",
            twin,
            selector,
            options: &options,
            body: request,
        };
        self.write_own_ledger(principal, request, |ledger, _now| {
            Ok(names
                .iter()
                .filter_map(|name| {
                    ledger
                        .entries
                        .remove(name)
                        .map(|entry| (name.clone(), entry))
                })
                .collect())
        })
        .await
    }

    /// The shared write path: checks the operation, the twin's visibility and that the ledger
    /// is the caller's own, then read → check conditions → change → save, retried when another
    /// request saved in between.
    async fn write_own_ledger<Change>(
        &self,
        principal: &Principal,
        request: WriteRequest<'_>,
        change: Change,
    ) -> Result<LedgerView, Error>
    where
        Change: Fn(&mut Ledger, Timestamp) -> Result<BTreeMap<String, Entry>, Error>,
    {
        let WriteRequest {
            operation,
            twin,
            selector,
            options,
            body: request,
        } = request;
        authorize_operation(principal, operation)?;
        let conditions = &options.conditions;
        for (name, rule) in conditions {
            validate_rule_text(&format!("conditions.{name}"), rule)?;
        }
        if let Some(id) = &options.transaction {
            validate_transaction_id(id)?;
        }
        // The data of a ledger write is the writer's own ledger, whoever owns the twin.
        crate::audit::note_data(Some(twin), principal.account);
        // Only the caller's own ledger can be written, so read it with the twin: one store
        // call instead of two on the first attempt.
        let (twin, mut first_read) = self
            .visible_twin_with_ledger(principal, twin, principal.account)
            .await
            .map(|(twin, ledger)| (twin, Some(ledger)))?;
        let account = selector.account(principal, &twin);
        if account != principal.account {
            return Err(Error::new(
                ErrorCode::AccessForbidden,
                "only the ledger's own account can write to it",
            ));
        }
        let request_hash = request_digest(operation, &twin, account, conditions, &request);
        for _ in 0..WRITE_ATTEMPTS {
            let now = self.clock.now();
            let stored = match first_read.take() {
                Some(stored) => stored,
                None => self.store.get_ledger(twin.id, account).await?,
            };
            // Looked up after reading the ledger: a retry that raced with the first request
            // either sees its transaction here (it committed with the ledger just read) or
            // loses at save time and comes back here.
            if let Some(id) = &options.transaction {
                if let Some(done) = self.store.get_ledger_transaction(account, id).await? {
                    return self
                        .replay(principal, &twin, account, done, &request_hash)
                        .await;
                }
            }
            let expected_version = stored.as_ref().map(|ledger| ledger.version);
            let mut ledger = stored.unwrap_or_else(|| empty_ledger(twin.id, account, now));
            self.check_conditions(principal, &twin, &ledger, conditions, now)?;
            let before = ledger.entries.clone();
            let changed = change(&mut ledger, now)?;
            let history = history_write(&before, &ledger.entries);
            let size = serde_json::to_vec(&ledger.entries).map_or(usize::MAX, |bytes| bytes.len());
            if size > MAX_LEDGER_BYTES {
                return Err(Error::new(
                    ErrorCode::QuotaViolation,
                    format!(
                        "the ledger would be {size} bytes; at most {MAX_LEDGER_BYTES} are allowed"
                    ),
                ));
            }
            let stored_before = expected_version.is_some().then_some(&before);
            self.check_ledger_quotas(account, stored_before, ledger.entries.len(), size)
                .await?;
            ledger.version = expected_version.map_or(1, |version| version + 1);
            ledger.updated_ts = now;
            let remembered = match &options.transaction {
                Some(id) => Some(LedgerTransaction {
                    account,
                    id: id.clone(),
                    twin: twin.id,
                    request_hash: request_hash.clone(),
                    response: serde_json::to_value(&changed).map_err(|error| {
                        Error::new(
                            ErrorCode::General,
                            format!("entries do not serialize: {error}"),
                        )
                    })?,
                    created_ts: now,
                }),
                None => None,
            };
            let (deliveries, events) = self
                .publish(principal, &twin, &ledger, &before, now)
                .await?;
            crate::audit::note_data(Some(twin.id), account);
            crate::audit::note_entries(
                changed.keys(),
                std::iter::empty(),
                crate::audit::role_basis(principal, operation) + "; own ledger",
                None,
            );
            let status = if operation == "add_twin_ledger_entry" {
                201
            } else {
                200
            };
            let effects = LedgerEffects {
                history,
                transaction: remembered,
                deliveries,
                events,
                audit: crate::audit::record_in_transaction(status, now),
            };
            match self
                .store
                .save_ledger(account, &ledger, expected_version, &effects)
                .await
            {
                Ok(()) => {
                    crate::audit::mark_written();
                    self.object_cache.forget_ledger(twin.id, account);
                    self.events.wake();
                    // The answer's references resolve as a read would: through the caller's own
                    // entry visibility, which its role's `entry_rule` may restrict.
                    let visible =
                        visible_entry_names(principal, &twin, &ledger, &self.rule_cache, now);
                    let mut reader = SourceReader::new(self, principal, now);
                    reader.know(&twin, &ledger, &visible);
                    let sources = reader.resolve_all(twin.id, account, &changed).await?;
                    return Ok(LedgerView {
                        account,
                        own: true,
                        entries: changed,
                        sources,
                    });
                }
                // Another request changed the ledger, stored this transaction id first (the next
                // attempt answers from it), or a subscriber unsubscribed since its message was
                // built: look again.
                Err(
                    StoreError::Conflict(_)
                    | StoreError::AlreadyExists(Entity::Transaction)
                    | StoreError::NotFound(Entity::Subscription),
                ) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(StoreError::Conflict(steward_store::Entity::Ledger).into())
    }

    /// Answers a retried write from its remembered first answer; the same id with a different
    /// request is 400 / 400358.
    async fn replay(
        &self,
        principal: &Principal,
        twin: &Twin,
        account: AccountId,
        done: LedgerTransaction,
        request_hash: &str,
    ) -> Result<LedgerView, Error> {
        if done.request_hash != request_hash {
            return Err(Error::new(
                ErrorCode::IdempotencyViolation,
                format!(
                    "transaction `{}` was already used for a different request",
                    done.id
                ),
            ));
        }
        let entries: BTreeMap<String, Entry> =
            serde_json::from_value(done.response).map_err(|error| {
                Error::new(
                    ErrorCode::General,
                    format!("remembered answer does not decode: {error}"),
                )
            })?;
        let now = self.clock.now();
        let mut reader = SourceReader::new(self, principal, now);
        let sources = reader.resolve_all(twin.id, account, &entries).await?;
        Ok(LedgerView {
            account,
            own: true,
            entries,
            sources,
        })
    }

    /// Every condition must be true for the stored entry it names (a missing entry's
    /// variables are null); otherwise nothing is written (400 / 400592).
    fn check_conditions(
        &self,
        principal: &Principal,
        twin: &Twin,
        ledger: &Ledger,
        conditions: &Conditions,
        now: Timestamp,
    ) -> Result<(), Error> {
        let ledger_values = OnceCell::new();
        for (name, text) in conditions {
            let context = EntryRuleContext {
                principal,
                twin,
                ledger,
                ledger_values: &ledger_values,
                entry_name: name,
                entry: ledger.entries.get(name),
                now,
            };
            let holds = self
                .rule_cache
                .get(text)
                .is_some_and(|rule| rule.matches(&context));
            if !holds {
                return Err(Error::new(
                    ErrorCode::OperationOrderViolation,
                    format!("condition not met for entry `{name}`: `{text}`"),
                ));
            }
        }
        Ok(())
    }
}
