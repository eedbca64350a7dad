//! Identities of twins and identity resolution.
//!
//! An identity (`RFID#4411`) is an alias an account attaches to a twin (spec §2.7, §5.5, §5.6).
//! Changes are limited to the attaching account's own identities; who sees which identity is
//! decided in [`crate::authz::identities`].

use std::collections::{BTreeMap, BTreeSet};

use steward_domain::{AccountId, Identity, Timestamp, Twin, TwinId};
use steward_store::IdentityScope;

use crate::access::roles::validate_rule_text;
use crate::authz::identities::{identity_rules_need_twin, identity_visible};
use crate::authz::{authorize_operation, twin_visible};
use crate::{Error, Principal, Steward};

/// Most twins one resolution answers.
pub(crate) const MAX_RESOLVED_TWINS: usize = 10_000;

/// Most identity rows one resolution examines (in keyset batches of [`RESOLVE_BATCH`]); only
/// rows that could be shared with the caller are read at all.
pub(crate) const MAX_EXAMINED_IDENTITIES: u32 = 100_000;

/// Identity rows read per store call while resolving.
const RESOLVE_BATCH: u32 = 1_000;

/// Most identities one `get_twin_identities` answer lists.
pub(crate) const MAX_LISTED_IDENTITIES: u32 = 10_000;

/// At most this many accounts in one resolution `context`.
pub(crate) const MAX_RESOLVE_ACCOUNTS: usize = 100;

/// The identity format of spec §1.4, for messages.
const IDENTITY_PATTERN: &str = "^[A-Za-z_][0-9A-Za-z_]{0,7}#[0-9A-Za-z_=+-]{1,128}$";

/// Whether `value` matches `^[A-Za-z_][0-9A-Za-z_]{0,7}#[0-9A-Za-z_=+-]{1,128}$`.
pub(crate) fn is_valid_identity(value: &str) -> bool {
    let Some((prefix, rest)) = value.split_once('#') else {
        return false;
    };
    let prefix_ok = (1..=8).contains(&prefix.len())
        && prefix
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let rest_ok = (1..=128).contains(&rest.len())
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'=' | b'+' | b'-'));
    prefix_ok && rest_ok
}

/// 400 / 400589 unless `value` is a well-formed identity.
fn validate_identity(value: &str) -> Result<(), Error> {
    if is_valid_identity(value) {
        return Ok(());
    }
    // Shorten absurd input in the message; the pattern says what is allowed.
    let shown: String = value.chars().take(160).collect();
    Err(Error::request_format(format!(
        "`{shown}` is not a valid identity: it must match `{IDENTITY_PATTERN}`"
    )))
}

/// The settings of one identity to create.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityInput {
    /// When it stops being valid (must be in the future); `None` never expires.
    pub validity_ts: Option<Timestamp>,
    /// Which foreign readers see it; `None` = private.
    pub visibility: Option<String>,
}

/// A change of one identity; `None` keeps a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityPatch {
    /// New validity.
    pub validity_ts: Option<Option<Timestamp>>,
    /// New visibility rule.
    pub visibility: Option<Option<String>>,
}

/// What happened to one identity of a create request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityCreation {
    /// It was attached.
    Created(Identity),
    /// The caller's account already had it on the twin; the stored one was kept.
    AlreadyExists,
}

/// Which foreign identities `get_twin_identities` shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForeignIdentities {
    /// None (the default).
    #[default]
    None,
    /// Every visible one.
    All,
    /// The visible ones of one account.
    Account(AccountId),
}

/// The `show_*` switches of `get_twin_identities`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityListing {
    /// The caller's account's identities (default true).
    pub show_personal: bool,
    /// Other accounts' visible identities (default none).
    pub show_foreign: ForeignIdentities,
    /// Own identities whose validity has passed (default false).
    pub show_expired: bool,
    /// Own identities still valid (default true).
    pub show_valid: bool,
    /// Own identities with a visibility rule (default true).
    pub show_public: bool,
    /// Own identities without a visibility rule (default true).
    pub show_private: bool,
}

impl Default for IdentityListing {
    fn default() -> Self {
        Self {
            show_personal: true,
            show_foreign: ForeignIdentities::None,
            show_expired: false,
            show_valid: true,
            show_public: true,
            show_private: true,
        }
    }
}

/// Whose identities a resolution searches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveContext {
    /// These accounts (`personal` is the caller's own).
    Accounts(Vec<AccountId>),
    /// Every account (`system`).
    System,
}

/// The twins an identity resolves to.
#[derive(Debug, Clone, PartialEq)]
pub enum ResolvedTwins {
    /// Without details: every twin carrying a visible identity, in id order, whether or not
    /// the caller may see the twin itself.
    Ids(Vec<TwinId>),
    /// With details: only the twins the caller may see, in id order.
    Twins(Vec<Twin>),
}

impl Steward {
    /// `create_twin_identity`: attaches identities of the caller's account to a twin it may
    /// see. Input is validated as a whole (400 / 400589); an identity the account already has
    /// on the twin is reported per item and left unchanged.
    pub async fn create_twin_identities(
        &self,
        principal: &Principal,
        twin: TwinId,
        identities: Vec<(String, IdentityInput)>,
    ) -> Result<Vec<(String, IdentityCreation)>, Error> {
        authorize_operation(principal, "create_twin_identity")?;
        if identities.is_empty() {
            return Err(Error::request_format(
                "`identities` must hold at least one identity",
            ));
        }
        let now = self.clock.now();
        for (name, input) in &identities {
            validate_identity(name)?;
            validate_settings(name, input.validity_ts, input.visibility.as_deref(), now)?;
        }
        self.visible_twin(principal, twin).await?;
        let rows: Vec<Identity> = identities
            .iter()
            .map(|(name, input)| Identity {
                twin,
                account: principal.account,
                identity: name.clone(),
                validity_ts: input.validity_ts,
                visibility: input.visibility.clone(),
                created_ts: now,
                updated_ts: now,
            })
            .collect();
        let stored = self
            .store
            .create_identities(principal.account, twin, &rows)
            .await?;
        let added = stored.iter().filter(|stored| **stored).count();
        self.meter_caller(principal, steward_domain::IDENTITIES_ADDED, added as u64);
        Ok(rows
            .into_iter()
            .zip(stored)
            .map(|(identity, stored)| {
                let outcome = if stored {
                    IdentityCreation::Created(identity.clone())
                } else {
                    IdentityCreation::AlreadyExists
                };
                (identity.identity, outcome)
            })
            .collect())
    }

    /// `get_twin_identities`: the identities of a twin the caller may see, filtered by the
    /// `show_*` switches. Own identities come first, then foreign ones by account; each in
    /// identity order.
    pub async fn get_twin_identities(
        &self,
        principal: &Principal,
        twin: TwinId,
        listing: IdentityListing,
    ) -> Result<Vec<Identity>, Error> {
        authorize_operation(principal, "get_twin_identities")?;
        let twin = self.visible_twin(principal, twin).await?;
        let now = self.clock.now();
        // Only rows that could be shown are read: the caller's own, and other accounts' shared,
        // unexpired ones when foreign identities are asked for.
        let scope = IdentityScope {
            caller: principal.account,
            foreign: !matches!(listing.show_foreign, ForeignIdentities::None),
            now,
        };
        let stored = self
            .store
            .list_twin_identities(twin.id, Some(&scope), MAX_LISTED_IDENTITIES)
            .await?;
        let (own, foreign): (Vec<Identity>, Vec<Identity>) = stored
            .into_iter()
            .partition(|identity| identity.account == principal.account);
        let own = own.into_iter().filter(|identity| {
            listing.show_personal
                && if identity.is_expired(now) {
                    listing.show_expired
                } else {
                    listing.show_valid
                }
                && if identity.visibility.is_some() {
                    listing.show_public
                } else {
                    listing.show_private
                }
        });
        let foreign = foreign
            .into_iter()
            .filter(|identity| match listing.show_foreign {
                ForeignIdentities::None => false,
                ForeignIdentities::All => true,
                ForeignIdentities::Account(account) => identity.account == account,
            });
        let asked = own.chain(foreign);
        let visible = |identity: &Identity| {
            identity_visible(principal, identity, Some(&twin), &self.rule_cache, now)
        };
        if !crate::audit::active() {
            return Ok(asked.filter(|identity| visible(identity)).collect());
        }
        // Audited: every identity asked for is returned or withheld, in the share of the
        // account it belongs to (not necessarily the twin's owner).
        let basis = crate::audit::identity_role_basis(principal, "get_twin_identities");
        crate::audit::note_basis(basis.clone());
        let mut access = crate::audit::OwnerAccess::new(basis);
        let mut shown = Vec::new();
        for identity in asked {
            if visible(&identity) {
                let owner_rule = (identity.account != principal.account)
                    .then_some(identity.visibility.as_deref())
                    .flatten();
                access.returned(
                    identity.account,
                    twin.id,
                    identity.identity.clone(),
                    owner_rule,
                );
                shown.push(identity);
            } else {
                access.withheld(identity.account, twin.id, identity.identity);
            }
        }
        access.note();
        Ok(shown)
    }

    /// `get_twin_identity`: one identity of the caller's own account (another account's, a
    /// missing one and one the role's `identity_rule` hides are all 404).
    pub async fn get_twin_identity(
        &self,
        principal: &Principal,
        twin: TwinId,
        identity: &str,
    ) -> Result<Identity, Error> {
        authorize_operation(principal, "get_twin_identity")?;
        validate_identity(identity)?;
        self.own_visible_identity(principal, "get_twin_identity", twin, identity)
            .await
    }

    /// `update_twin_identity`: changes validity and/or visibility of an own identity.
    pub async fn update_twin_identity(
        &self,
        principal: &Principal,
        twin: TwinId,
        identity: &str,
        patch: IdentityPatch,
    ) -> Result<Identity, Error> {
        authorize_operation(principal, "update_twin_identity")?;
        validate_identity(identity)?;
        if patch.validity_ts.is_none() && patch.visibility.is_none() {
            return Err(Error::request_format(
                "nothing to update: send `validity_ts` and/or `visibility`",
            ));
        }
        let now = self.clock.now();
        validate_settings(
            identity,
            patch.validity_ts.flatten(),
            patch.visibility.as_ref().and_then(Option::as_deref),
            now,
        )?;
        let stored = self
            .own_visible_identity(principal, "update_twin_identity", twin, identity)
            .await?;
        let updated = Identity {
            validity_ts: patch.validity_ts.unwrap_or(stored.validity_ts),
            visibility: patch.visibility.unwrap_or(stored.visibility),
            updated_ts: now,
            ..stored
        };
        self.store
            .update_identity(principal.account, &updated)
            .await?;
        Ok(updated)
    }

    /// `delete_twin_identity`: detaches an own identity and returns it.
    pub async fn delete_twin_identity(
        &self,
        principal: &Principal,
        twin: TwinId,
        identity: &str,
    ) -> Result<Identity, Error> {
        authorize_operation(principal, "delete_twin_identity")?;
        validate_identity(identity)?;
        self.own_visible_identity(principal, "delete_twin_identity", twin, identity)
            .await?;
        Ok(self
            .store
            .delete_identity(principal.account, twin, identity)
            .await?)
    }

    /// `resolve_twin_identity`: the twins carrying `identity` among the identities of the
    /// context's accounts that the caller may see; expired foreign identities do not resolve.
    /// Only identities that could be shared with the caller are read, in keyset batches; at
    /// most [`MAX_EXAMINED_IDENTITIES`] are examined and [`MAX_RESOLVED_TWINS`] twins answered.
    pub async fn resolve_twin_identity(
        &self,
        principal: &Principal,
        identity: &str,
        context: ResolveContext,
        details: bool,
    ) -> Result<ResolvedTwins, Error> {
        authorize_operation(principal, "resolve_twin_identity")?;
        validate_identity(identity)?;
        let accounts = match &context {
            ResolveContext::Accounts(accounts) => {
                if accounts.is_empty() || accounts.len() > MAX_RESOLVE_ACCOUNTS {
                    return Err(Error::request_format(format!(
                        "`context` must name 1 to {MAX_RESOLVE_ACCOUNTS} accounts"
                    )));
                }
                Some(accounts.as_slice())
            }
            ResolveContext::System => None,
        };
        let now = self.clock.now();
        let scope = IdentityScope {
            caller: principal.account,
            foreign: true,
            now,
        };
        let mut resolved: BTreeSet<TwinId> = BTreeSet::new();
        let mut twins: BTreeMap<TwinId, Twin> = BTreeMap::new();
        // Audited only: the identities examined, for their owners' records.
        let mut found_identities = crate::audit::active().then(FoundIdentities::default);
        let mut after = None;
        let mut examined = 0;
        while resolved.len() < MAX_RESOLVED_TWINS && examined < MAX_EXAMINED_IDENTITIES {
            let batch = self
                .store
                .find_identities(identity, accounts, Some(&scope), after, RESOLVE_BATCH)
                .await?;
            let Some(last) = batch.last() else {
                break;
            };
            after = Some((last.account, last.twin));
            examined += RESOLVE_BATCH;
            let complete = batch.len() < RESOLVE_BATCH as usize;
            // Twins are loaded only when a rule reads them or details are asked for.
            if details || identity_rules_need_twin(principal, &batch, &self.rule_cache) {
                let wanted: BTreeSet<TwinId> = batch.iter().map(|found| found.twin).collect();
                for id in wanted {
                    if let std::collections::btree_map::Entry::Vacant(slot) = twins.entry(id) {
                        slot.insert(self.cached_twin(id).await?);
                    }
                }
            }
            for found in batch {
                let twin = twins.get(&found.twin);
                let visible = !found.is_expired(now)
                    && identity_visible(principal, &found, twin, &self.rule_cache, now);
                if visible {
                    resolved.insert(found.twin);
                }
                if let Some(found_identities) = found_identities.as_mut() {
                    found_identities.push(found, visible);
                }
            }
            if complete {
                break;
            }
        }
        let resolved: BTreeSet<TwinId> = resolved.into_iter().take(MAX_RESOLVED_TWINS).collect();
        let answer = if details {
            let mut shown = Vec::with_capacity(resolved.len());
            let mut hidden = Vec::new();
            for twin in resolved.iter().filter_map(|id| twins.remove(id)) {
                if twin_visible(principal, &twin, &self.rule_cache, now) {
                    shown.push(twin);
                } else if found_identities.is_some() {
                    hidden.push(twin);
                }
            }
            if let Some(found_identities) = found_identities {
                found_identities.note(principal, identity, &context, &resolved, &shown, &hidden);
            }
            ResolvedTwins::Twins(shown)
        } else {
            if let Some(found_identities) = found_identities {
                found_identities.note(principal, identity, &context, &resolved, &[], &[]);
            }
            ResolvedTwins::Ids(resolved.into_iter().collect())
        };
        Ok(answer)
    }

    /// Loads an identity of the caller's account on a twin it may see; 404 when missing or
    /// hidden by the role's `identity_rule`.
    async fn own_visible_identity(
        &self,
        principal: &Principal,
        operation: &str,
        twin: TwinId,
        identity: &str,
    ) -> Result<Identity, Error> {
        let twin = self.visible_twin(principal, twin).await?;
        let stored = self
            .store
            .get_identity(principal.account, twin.id, identity)
            .await?;
        let visible = identity_visible(
            principal,
            &stored,
            Some(&twin),
            &self.rule_cache,
            self.clock.now(),
        );
        if crate::audit::active() {
            // The identity is the caller's account's: its share, whoever owns the twin.
            let basis = crate::audit::identity_role_basis(principal, operation);
            crate::audit::note_basis(basis.clone());
            let mut access = crate::audit::OwnerAccess::new(basis);
            if visible {
                access.returned(principal.account, twin.id, stored.identity.clone(), None);
            } else {
                access.withheld(principal.account, twin.id, stored.identity.clone());
            }
            access.note();
        }
        if visible {
            Ok(stored)
        } else {
            Err(Error::not_found("identity"))
        }
    }
}

/// The identities a resolution examined, kept while it is audited: each data owner (the
/// identity's account; with details also the twin's owner) gets the twins named through its
/// identities as `returned` (plain twin uuids) and those whose identity was examined but not
/// shown as `withheld`. Identities the store never read for the caller (another account's
/// private or expired ones) are not known, so they are not listed.
#[derive(Debug, Default)]
struct FoundIdentities {
    /// (account, twin, the account's visibility rule when it admitted the caller), for the
    /// identities visible to the caller.
    visible: Vec<(AccountId, TwinId, Option<String>)>,
    /// (account, twin) of identities examined and withheld.
    withheld: Vec<(AccountId, TwinId)>,
}

impl FoundIdentities {
    fn push(&mut self, found: Identity, visible: bool) {
        if visible {
            self.visible
                .push((found.account, found.twin, found.visibility));
        } else {
            self.withheld.push((found.account, found.twin));
        }
    }

    /// Notes the per-owner shares of a resolution that answered `resolved` (without details)
    /// or `shown` (with details; `hidden` are resolved twins the caller's `twin_rule` hid).
    fn note(
        self,
        principal: &Principal,
        identity: &str,
        context: &ResolveContext,
        resolved: &BTreeSet<TwinId>,
        shown: &[Twin],
        hidden: &[Twin],
    ) {
        // Each owner's record names the identity resolved, never the other accounts asked.
        let basis = format!(
            "{}; resolved `{identity}`",
            crate::audit::identity_role_basis(principal, "resolve_twin_identity")
        );
        let context = match context {
            ResolveContext::System => "system".to_owned(),
            ResolveContext::Accounts(accounts) => format!("{} account(s)", accounts.len()),
        };
        crate::audit::note_basis(format!("{basis}; context: {context}"));
        let hidden_ids: BTreeSet<TwinId> = hidden.iter().map(|twin| twin.id).collect();
        let mut access = crate::audit::OwnerAccess::new(basis);
        for (account, twin, rule) in self.visible {
            if !resolved.contains(&twin) {
                // Beyond the most twins one answer names: not a decision on this identity.
                continue;
            }
            if hidden_ids.contains(&twin) {
                access.withheld(account, twin, twin.to_string());
                continue;
            }
            let owner_rule = (account != principal.account)
                .then_some(rule.as_deref())
                .flatten();
            access.returned(account, twin, twin.to_string(), owner_rule);
        }
        for (account, twin) in self.withheld {
            access.withheld(account, twin, twin.to_string());
        }
        // With details the twins themselves were answered: their owners' data too.
        for twin in shown {
            access.returned(twin.owner, twin.id, twin.id.to_string(), None);
        }
        for twin in hidden {
            access.withheld(twin.owner, twin.id, twin.id.to_string());
        }
        access.note();
    }
}

/// Checks a validity (must be in the future) and a visibility rule (must parse).
fn validate_settings(
    identity: &str,
    validity_ts: Option<Timestamp>,
    visibility: Option<&str>,
    now: Timestamp,
) -> Result<(), Error> {
    if validity_ts.is_some_and(|validity| validity <= now) {
        return Err(Error::request_format(format!(
            "`validity_ts` of `{identity}` must be in the future"
        )));
    }
    if let Some(rule) = visibility {
        validate_rule_text(&format!("{identity}.visibility"), rule)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_follow_the_trusted_twin_pattern() {
        let longest = format!("ABCDEFGH#{}", "x".repeat(128));
        for good in [
            "RFID#be744bdc-0f6d-4a00-8199-9f6a893c1bde",
            "_#1",
            "a#=",
            "HID#abc+",
            "HID#aGVsbG8=",
            "NFC_2#A_b-c+d=",
            longest.as_str(),
        ] {
            assert!(is_valid_identity(good), "{good}");
        }
        let too_long = format!("A#{}", "x".repeat(129));
        for bad in [
            "",
            "#1",
            "RFID#",
            "RFID",
            "1RFID#1",
            "ABCDEFGHI#1",
            "RF-ID#1",
            "RFID#a#b",
            "RFID#a/b",
            "RFID#a b",
            "RFID#zażółć",
            "RFID#1\n",
            too_long.as_str(),
        ] {
            assert!(!is_valid_identity(bad), "{bad:?}");
        }
    }
}
