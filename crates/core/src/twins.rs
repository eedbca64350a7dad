//! Twins: create, read, update the description, terminate, and scan the caller's own twins.

use std::sync::Arc;

use serde_json::{Map, Value};
use steward_domain::{AccountId, Ledger, Twin, TwinId, TwinStatus};
use steward_rules::Rule;
use steward_store::{LedgerOf, PageRequest, TerminationOutcome};

use crate::access::roles::validate_rule_text;
use crate::authz::{authorize_operation, twin_visible};
use crate::rule_context::TwinRuleContext;
use crate::{validate, Error, ErrorCode, Principal, Steward};

/// Largest and default page of `scan_twins`.
pub const MAX_SCAN_COUNT: u32 = 1000;
/// Default page of `scan_twins`.
pub const DEFAULT_SCAN_COUNT: u32 = 100;

/// What `scan_twins` asks for.
#[derive(Debug, Clone, Default)]
pub struct TwinScan {
    /// Continue after this twin (from the previous page's cursor).
    pub after: Option<TwinId>,
    /// How many owned twins to examine (1 to 1000).
    pub count: u32,
    /// Only twins for which this rule is true.
    pub match_rule: Option<String>,
    /// Return twin objects, only of twins the caller may see.
    pub details: bool,
}

/// One page of a scan.
#[derive(Debug, Clone)]
pub struct TwinScanPage {
    /// The matching twins, in id order.
    pub twins: Vec<Twin>,
    /// Where the next page starts; `None` when the scan is complete.
    pub next_after: Option<TwinId>,
}

pub(crate) fn forbidden_twin() -> Error {
    Error::new(ErrorCode::AccessForbidden, "twin not accessible")
}

impl Steward {
    /// `create_twin`: the caller's account becomes owner and creator.
    pub async fn create_twin(
        &self,
        principal: &Principal,
        description: Option<Map<String, Value>>,
    ) -> Result<Twin, Error> {
        authorize_operation(principal, "create_twin")?;
        if let Some(description) = &description {
            validate::description_keys("description", description)?;
        }
        let now = self.clock.now();
        let twin = Twin {
            id: TwinId::new_random(),
            owner: principal.account,
            creator: principal.account,
            status: TwinStatus::Alive,
            description,
            termination: None,
            created_ts: now,
            updated_ts: now,
        };
        self.store_twin_within_quota(principal.account, &twin)
            .await?;
        self.meter_caller(principal, steward_domain::TWINS_CREATED, 1);
        Ok(twin)
    }

    /// `get_twin`: 404 when missing (or terminated with `show_terminated=false`), 403 when the
    /// caller's twin rule hides it.
    pub async fn get_twin(
        &self,
        principal: &Principal,
        twin: TwinId,
        show_terminated: bool,
    ) -> Result<Twin, Error> {
        authorize_operation(principal, "get_twin")?;
        let twin = self.visible_twin(principal, twin).await?;
        if !show_terminated && twin.status == TwinStatus::Terminated {
            return Err(Error::not_found("twin"));
        }
        Ok(twin)
    }

    /// `update_twin`: replaces the description; owner only, alive only.
    pub async fn update_twin(
        &self,
        principal: &Principal,
        twin: TwinId,
        description: Option<Map<String, Value>>,
    ) -> Result<Twin, Error> {
        authorize_operation(principal, "update_twin")?;
        if let Some(description) = &description {
            validate::description_keys("description", description)?;
        }
        let stored = self.owned_twin(principal, twin).await?;
        if stored.status == TwinStatus::Terminated {
            return Err(Error::new(
                ErrorCode::OperationNotAllowed,
                "the description of a terminated twin cannot change",
            ));
        }
        let updated = self
            .store
            .update_twin_description(
                principal.account,
                twin,
                description.as_ref(),
                self.clock.now(),
            )
            .await;
        self.object_cache.forget_twin(twin);
        Ok(updated?)
    }

    /// `terminate_twin`: owner only; a second termination is 400 / 400358.
    pub async fn terminate_twin(&self, principal: &Principal, twin: TwinId) -> Result<Twin, Error> {
        authorize_operation(principal, "terminate_twin")?;
        self.owned_twin(principal, twin).await?;
        let outcome = self
            .store
            .terminate_twin(principal.account, twin, self.clock.now())
            .await;
        self.object_cache.forget_twin(twin);
        match outcome? {
            TerminationOutcome::Terminated(twin) => {
                self.meter_caller(principal, steward_domain::TWINS_TERMINATED, 1);
                Ok(twin)
            }
            TerminationOutcome::AlreadyTerminated(_) => Err(Error::new(
                ErrorCode::IdempotencyViolation,
                "twin already terminated",
            )),
        }
    }

    /// `scan_twins`: examines at most `count` of the caller's own twins after the cursor and
    /// returns those matching the rule, so one request never walks the whole table. A page
    /// may hold fewer than `count` twins while more follow: continue until the cursor is null.
    pub async fn scan_twins(
        &self,
        principal: &Principal,
        scan: TwinScan,
    ) -> Result<TwinScanPage, Error> {
        authorize_operation(principal, "scan_twins")?;
        if !(1..=MAX_SCAN_COUNT).contains(&scan.count) {
            return Err(Error::request_format(format!(
                "`count` must be between 1 and {MAX_SCAN_COUNT}, got `{}`",
                scan.count
            )));
        }
        let match_rule: Option<Arc<Rule>> = match &scan.match_rule {
            Some(text) => {
                validate_rule_text("match", text)?;
                self.rule_cache.get(text)
            }
            None => None,
        };
        let examined = self
            .store
            .list_owned_twins(
                principal.account,
                PageRequest {
                    after: scan.after,
                    limit: scan.count,
                },
            )
            .await?;
        let next_after = if examined.len() == scan.count as usize {
            examined.last().map(|twin| twin.id)
        } else {
            None
        };
        let now = self.clock.now();
        let matching = examined.into_iter().filter(|twin| {
            match_rule.as_ref().is_none_or(|rule| {
                rule.matches(&TwinRuleContext {
                    principal,
                    twin,
                    now,
                })
            })
        });
        let shown =
            |twin: &Twin| !scan.details || twin_visible(principal, twin, &self.rule_cache, now);
        if !crate::audit::active() {
            let twins = matching.filter(|twin| shown(twin)).collect();
            return Ok(TwinScanPage { twins, next_after });
        }
        // Audited: the matching twins, returned or (with details, hidden by the twin_rule)
        // withheld, each in its owner's share (the caller's own: scans cover owned twins).
        let mut basis = crate::audit::role_basis(principal, "scan_twins");
        if let Some(text) = &scan.match_rule {
            basis.push_str("; match: `");
            basis.push_str(text);
            basis.push('`');
        }
        crate::audit::note_basis(basis.clone());
        let mut access = crate::audit::OwnerAccess::new(basis);
        let mut twins = Vec::new();
        for twin in matching {
            if shown(&twin) {
                access.returned(twin.owner, twin.id, twin.id.to_string(), None);
                twins.push(twin);
            } else {
                access.withheld(twin.owner, twin.id, twin.id.to_string());
            }
        }
        access.note();
        Ok(TwinScanPage { twins, next_after })
    }

    /// Loads a twin, whoever owns it, through the object cache (404 if missing).
    pub(crate) async fn cached_twin(&self, id: TwinId) -> Result<Twin, Error> {
        if let Some(twin) = self.object_cache.twin(id) {
            return Ok(twin);
        }
        let ticket = self.object_cache.ticket();
        let twin = self.store.get_twin(id).await?;
        self.object_cache.put_twin(ticket, &twin);
        Ok(twin)
    }

    /// Loads a twin the caller may see: 404 if missing, 403 if hidden by the twin rule.
    pub(crate) async fn visible_twin(
        &self,
        principal: &Principal,
        twin: TwinId,
    ) -> Result<Twin, Error> {
        let twin = self.store.get_twin(twin).await?;
        self.check_twin_visible(principal, twin)
    }

    /// [`Self::visible_twin`], reading `account`'s ledger on it in the same store call; for
    /// writes, which need both.
    pub(crate) async fn visible_twin_with_ledger(
        &self,
        principal: &Principal,
        twin: TwinId,
        account: AccountId,
    ) -> Result<(Twin, Option<Ledger>), Error> {
        let (twin, ledger) = self
            .store
            .get_twin_with_ledger(twin, LedgerOf::Account(account))
            .await?;
        Ok((self.check_twin_visible(principal, twin)?, ledger))
    }

    fn check_twin_visible(&self, principal: &Principal, twin: Twin) -> Result<Twin, Error> {
        crate::audit::note_data(Some(twin.id), twin.owner);
        if twin_visible(principal, &twin, &self.rule_cache, self.clock.now()) {
            Ok(twin)
        } else {
            crate::audit::note_basis(format!(
                "{}; the twin_rule hides the twin",
                crate::audit::role_basis(principal, "get_twin")
            ));
            Err(forbidden_twin())
        }
    }

    /// Loads a twin the caller's account owns; a visible foreign twin is 403, an invisible one
    /// is answered exactly like `get_twin` would.
    async fn owned_twin(&self, principal: &Principal, twin: TwinId) -> Result<Twin, Error> {
        let twin = self.visible_twin(principal, twin).await?;
        if twin.owner == principal.account {
            Ok(twin)
        } else {
            Err(Error::new(
                ErrorCode::AccessForbidden,
                "only the owner of the twin can do this",
            ))
        }
    }
}
