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
}

/// One page of audit records, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    /// The records as the caller may see them, each with its `seq`.
    pub records: Vec<Json>,
    /// Pass as `cursor` for the next (older) page; `None` on the last page.
    pub cursor: Option<u64>,
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
        // What this node still holds in its queue belongs to the answer too.
        if let Err(error) = self.flush_audit().await {
            tracing::warn!(%error, "flushing audit records before a listing failed");
        }
        let query = AuditQuery {
            viewer: principal.account,
            twin: listing.twin,
            actor: listing.actor,
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
        Ok(AuditPage {
            records: found
                .iter()
                .map(|(seq, record)| record_view(*seq, record, principal.account))
                .collect(),
            cursor,
        })
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
