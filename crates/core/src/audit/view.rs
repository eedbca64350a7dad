//! `GET /audit`: the audit records an account may read, and inclusion proofs of them.
//!
//! A data owner sees every access to its data by anyone; an actor sees its own accesses; nobody
//! sees records about a third party's data. The names of entries withheld from an actor and
//! the owner's entry rules are the owner's business: an actor viewing a record about another
//! account's data sees how many entries were withheld, not which, and no `entry_basis`. A read
//! returning several accounts' data made one record per owner (see `owners`), so the same rule
//! shows each owner its own withheld names and nobody another owner's.

use serde_json::{json, Value as Json};
use steward_domain::{AccountId, AuditRecord, Timestamp, TwinId};
use steward_store::AuditQuery;

use crate::authz::authorize_operation;
use crate::{Error, Principal, Steward};

/// Default and largest page of `GET /audit`.
pub const MAX_AUDIT_PAGE: u32 = 200;

/// What `GET /audit` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditListing {
    /// Only records about this twin.
    pub twin: Option<TwinId>,
    /// Only records of this acting account.
    pub actor: Option<AccountId>,
    /// Only this operation.
    pub operation: Option<String>,
    /// Only `allowed` or `denied`.
    pub outcome: Option<String>,
    /// Only records at or after.
    pub ge: Option<Timestamp>,
    /// Only records at or before.
    pub le: Option<Timestamp>,
    /// The `cursor` of the previous page.
    pub cursor: Option<u64>,
    /// Page size, 1 to [`MAX_AUDIT_PAGE`] (default the maximum).
    pub limit: Option<u32>,
    /// Only the records of this log of the account's `resource_access_log` (accesses to the
    /// account's data matching the log's rule), each with its rendered `dimensions`.
    pub log: Option<String>,
    /// Only the calls of a user of the account that match this log of the user's `activity`,
    /// each with its rendered `dimensions`; `activity_user` names the user.
    pub activity: Option<String>,
    /// The user whose `activity` log is asked for.
    pub activity_user: Option<steward_domain::UserId>,
}

/// One page of audit records, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    /// The records as the caller may see them, each with its `seq`.
    pub records: Vec<Json>,
    /// Pass as `cursor` for the next (older) page; `None` on the last page.
    pub cursor: Option<u64>,
}

/// A named log a listing asked for, and whose records it may hold.
struct NamedListing {
    log: crate::audit::logs::NamedLog,
    /// `resource_access_log`: records about this account's data.
    owner: Option<AccountId>,
    /// `activity`: calls of this user.
    user: Option<steward_domain::UserId>,
}

impl NamedListing {
    fn admits(&self, record: &AuditRecord) -> bool {
        self.owner.is_none_or(|owner| record.owner == Some(owner))
            && self.user.is_none_or(|user| record.actor_user == Some(user))
    }
}

/// A record as `viewer` may see it.
pub fn record_view(seq: u64, record: &AuditRecord, viewer: AccountId) -> Json {
    let mut view = serde_json::to_value(record).unwrap_or(Json::Null);
    view["seq"] = json!(seq);
    view["withheld_count"] = json!(record.withheld.len());
    if record.owner != Some(viewer) {
        view["withheld"] = json!([]);
        view["entry_basis"] = Json::Null;
    }
    view
}

impl Steward {
    /// The `log` or `activity` log a listing asks for: 400 when both, or `activity` without
    /// `user`, or no such log is configured; 404 for a user of another account.
    async fn named_log(
        &self,
        principal: &Principal,
        listing: &AuditListing,
    ) -> Result<Option<NamedListing>, Error> {
        use crate::audit::logs::NamedLog;
        match (&listing.log, &listing.activity, listing.activity_user) {
            (None, None, None) => Ok(None),
            (Some(name), None, None) => {
                let account = self.store.get_account(principal.account).await?;
                let log = NamedLog::from_config(account.resource_access_log.as_ref(), name)
                    .ok_or_else(|| {
                        Error::request_format(format!(
                            "the account's `resource_access_log` has no log `{name}`"
                        ))
                    })?;
                Ok(Some(NamedListing {
                    log,
                    owner: Some(principal.account),
                    user: None,
                }))
            }
            (None, Some(name), Some(user)) => {
                let user = self.store.get_user(principal.account, user).await?;
                let log = NamedLog::from_config(user.activity.as_ref(), name).ok_or_else(|| {
                    Error::request_format(format!("the user's `activity` has no log `{name}`"))
                })?;
                Ok(Some(NamedListing {
                    log,
                    owner: None,
                    user: Some(user.id),
                }))
            }
            _ => Err(Error::request_format(
                "pass either `log`, or `activity` together with `user`",
            )),
        }
    }

    /// `GET /audit` (Steward extension, action `get_audit`).
    pub async fn list_audit(
        &self,
        principal: &Principal,
        listing: AuditListing,
    ) -> Result<AuditPage, Error> {
        authorize_operation(principal, "get_audit")?;
        let limit = listing.limit.unwrap_or(MAX_AUDIT_PAGE);
        if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
            return Err(Error::request_format(format!(
                "`limit` must be between 1 and {MAX_AUDIT_PAGE}"
            )));
        }
        if let Some(outcome) = &listing.outcome {
            if outcome != "allowed" && outcome != "denied" {
                return Err(Error::request_format(
                    "`outcome` must be `allowed` or `denied`",
                ));
            }
        }
        let named = self.named_log(principal, &listing).await?;
        // What this node still holds in its queue belongs to the answer too.
        if let Err(error) = self.flush_audit().await {
            tracing::warn!(%error, "flushing audit records before a listing failed");
        }
        let query = AuditQuery {
            viewer: principal.account,
            twin: listing.twin,
            // A user's calls are its account's: the actor index serves them.
            actor: if listing.activity.is_some() {
                Some(principal.account)
            } else {
                listing.actor
            },
            operation: listing.operation,
            outcome: listing.outcome,
            ge: listing.ge,
            le: listing.le,
            before: listing.cursor,
            limit: limit + 1,
        };
        let mut found = self.store.list_audit_records(&query).await?;
        let cursor = if found.len() > limit as usize {
            found.truncate(limit as usize);
            found.last().map(|(seq, _)| *seq)
        } else {
            None
        };
        let records = match &named {
            None => found
                .iter()
                .map(|(seq, record)| record_view(*seq, record, principal.account))
                .collect(),
            // A page of a log may hold fewer than `limit` records; the cursor goes on.
            Some(named) => found
                .iter()
                .filter(|(_, record)| named.admits(record) && named.log.selects(record))
                .map(|(seq, record)| {
                    let mut view = record_view(*seq, record, principal.account);
                    named.log.annotate(record, &mut view);
                    view
                })
                .collect(),
        };
        Ok(AuditPage { records, cursor })
    }

    /// An inclusion proof of record `index` in the log of `size` records, for a caller that
    /// may see the record (its owner or actor); others get 404 as for a missing record.
    pub async fn audit_inclusion_proof(
        &self,
        principal: &Principal,
        index: u64,
        size: u64,
    ) -> Result<Json, Error> {
        authorize_operation(principal, "get_audit")?;
        let stored = self.store.read_audit_records(index, 1).await?;
        let record = stored
            .first()
            .filter(|stored| stored.seq == index)
            .and_then(|stored| serde_json::from_str::<AuditRecord>(&stored.text).ok())
            .filter(|record| {
                record.owner == Some(principal.account)
                    || record.actor_account == Some(principal.account)
            })
            .ok_or_else(|| Error::not_found("audit record"))?;
        let (leaf, hashes) = self.audit_inclusion_hashes(index, size).await?;
        use base64::Engine as _;
        let encode = |hash: &[u8; 32]| base64::engine::general_purpose::STANDARD.encode(hash);
        let mut answer = json!({
            "index": index,
            "size": size,
            "leaf_hash": encode(&leaf),
            "hashes": hashes.iter().map(encode).collect::<Vec<_>>(),
        });
        // The leaf text itself only to the owner (it names the entries withheld).
        if record.owner == Some(principal.account) {
            answer["record"] = json!(stored.first().map(|stored| stored.text.clone()));
        }
        Ok(answer)
    }
}
