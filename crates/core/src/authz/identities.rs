//! Identity visibility: which identities of a twin a caller may see (spec §2.7, §2.18).
//!
//! * The caller's own account's identities are visible unless the caller's role
//!   `identity_rule` is set and false for them (a null rule allows every own identity).
//! * Another account's identity is visible only when it has not expired, its own `visibility`
//!   rule (written by its owner; null is private) is true for the caller, and the caller's role
//!   `identity_rule` is true (null: no foreign identities at all).
//!
//! Rules that do not parse or fail to evaluate deny (fail closed). Twin visibility is decided
//! separately (`crate::authz::twin_visible`): resolution without details deliberately ignores it.

use steward_domain::{Identity, Timestamp, Twin};
use steward_rules::{Context, Value};

use crate::principal::Principal;
use crate::rule_cache::RuleCache;
use crate::rule_context::{caller_variable, seconds_value, twin_variable};

/// The variables of identity rules (a role's `identity_rule` and an identity's `visibility`),
/// spec §3.3: the caller (`account`, `user`, `role`, `now`, `USER`, `DICT`), the identity
/// (`identity`, `validity_ts`), and the twin (`twin` always; `TWIN` and `twin_status` when the
/// twin was loaded, see [`identity_rules_need_twin`]).
pub(crate) struct IdentityRuleContext<'a> {
    pub principal: &'a Principal,
    pub identity: &'a Identity,
    pub twin: Option<&'a Twin>,
    pub now: Timestamp,
}

impl Context for IdentityRuleContext<'_> {
    fn resolve(&self, name: &str) -> Option<Value> {
        if let Some(value) = caller_variable(self.principal, self.now, name) {
            return Some(value);
        }
        match name {
            "identity" => Some(Value::string(self.identity.identity.as_str())),
            "validity_ts" => Some(self.identity.validity_ts.map_or(Value::Null, seconds_value)),
            "twin" => Some(Value::string(self.identity.twin.to_string())),
            _ => self.twin.and_then(|twin| twin_variable(twin, name)),
        }
    }
}

/// Whether the caller may see `identity`. `twin` is the identity's twin when it was loaded;
/// without it `TWIN` and `twin_status` are null, so callers load it whenever
/// [`identity_rules_need_twin`] says a rule mentions them.
pub(crate) fn identity_visible(
    principal: &Principal,
    identity: &Identity,
    twin: Option<&Twin>,
    rules: &RuleCache,
    now: Timestamp,
) -> bool {
    let context = IdentityRuleContext {
        principal,
        identity,
        twin,
        now,
    };
    let holds = |text: &str| rules.get(text).is_some_and(|rule| rule.matches(&context));
    let role_rule = principal.role.rules.identity_rule.as_deref();
    if identity.account == principal.account {
        return role_rule.is_none_or(holds);
    }
    // An expired identity no longer names the twin for anyone but its owner: validity is the
    // owner's way of ending the sharing.
    if identity.is_expired(now) {
        return false;
    }
    let (Some(visibility), Some(role_rule)) = (identity.visibility.as_deref(), role_rule) else {
        return false;
    };
    // The owner's rule first: the reader's own rule then only runs on identities shared with it.
    holds(visibility) && holds(role_rule)
}

/// Whether deciding the visibility of `identities` may consult the twin's description or
/// status (`TWIN`, `twin_status`), so the twin must be loaded first. Unparsable rules need
/// nothing: they deny anyway.
pub(crate) fn identity_rules_need_twin<'a>(
    principal: &Principal,
    identities: impl IntoIterator<Item = &'a Identity>,
    rules: &RuleCache,
) -> bool {
    let mentions_twin = |text: &str| {
        rules.get(text).is_some_and(|rule| {
            rule.variables()
                .iter()
                .any(|name| name == "TWIN" || name == "twin_status")
        })
    };
    if principal
        .role
        .rules
        .identity_rule
        .as_deref()
        .is_some_and(mentions_twin)
    {
        return true;
    }
    identities.into_iter().any(|identity| {
        identity.account != principal.account
            && identity.visibility.as_deref().is_some_and(mentions_twin)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::{json, Map};
    use steward_domain::{
        AccountId, Role, RoleId, RoleRules, RoleStatement, Secret, TwinId, TwinStatus, User, UserId,
    };

    use crate::principal::AuthMethod;

    const NOW: Timestamp = Timestamp::from_millis(1_707_997_392_123);

    fn principal(identity_rule: Option<&str>) -> Principal {
        let account = AccountId::new_random();
        let role = Role {
            id: RoleId::new_random(),
            account,
            name: "Reader".to_owned(),
            statement: RoleStatement::default(),
            rules: RoleRules {
                twin_rule: None,
                entry_rule: None,
                identity_rule: identity_rule.map(str::to_owned),
            },
            created_ts: NOW,
            updated_ts: NOW,
        };
        let mut description = Map::new();
        description.insert("company".to_owned(), json!("ACME"));
        let user = User {
            id: UserId::new_random(),
            account,
            role: role.id,
            name: "Reader".to_owned(),
            description,
            activity: None,
            created_ts: NOW,
            updated_ts: NOW,
        };
        let secret = Secret {
            account,
            user: user.id,
            hash: "0".repeat(64),
            fingerprint: "0000".to_owned(),
            validity_ts: None,
            created_ts: NOW,
            updated_ts: NOW,
        };
        Principal {
            account,
            user,
            role,
            secret,
            auth: AuthMethod::Secret {
                fingerprint: "0000".to_owned(),
            },
            dict: None,
        }
    }

    fn twin(owner: AccountId, kind: &str) -> Twin {
        let mut description = Map::new();
        description.insert("kind".to_owned(), json!(kind));
        Twin {
            id: TwinId::new_random(),
            owner,
            creator: owner,
            status: TwinStatus::Alive,
            description: Some(description),
            termination: None,
            created_ts: NOW,
            updated_ts: NOW,
        }
    }

    fn identity(twin: &Twin, account: AccountId, visibility: Option<&str>) -> Identity {
        Identity {
            twin: twin.id,
            account,
            identity: "RFID#4411".to_owned(),
            validity_ts: None,
            visibility: visibility.map(str::to_owned),
            created_ts: NOW,
            updated_ts: NOW,
        }
    }

    fn visible(principal: &Principal, identity: &Identity, twin: &Twin) -> bool {
        identity_visible(principal, identity, Some(twin), &RuleCache::default(), NOW)
    }

    #[test]
    fn own_identities_are_visible_unless_the_role_rule_restricts() {
        let reader = principal(None);
        let order = twin(reader.account, "order");
        assert!(visible(
            &reader,
            &identity(&order, reader.account, None),
            &order
        ));
        let restricted = principal(Some("identity =~ 'NFC#.*'"));
        let own = identity(&order, restricted.account, None);
        assert!(!visible(&restricted, &own, &order));
        let broken = principal(Some("identity +"));
        assert!(!visible(
            &broken,
            &identity(&order, broken.account, None),
            &order
        ));
    }

    #[test]
    fn foreign_identities_need_both_rules_and_validity() {
        let owner = AccountId::new_random();
        let order = twin(owner, "order");
        let public = identity(&order, owner, Some("USER.company == 'ACME'"));
        let private = identity(&order, owner, None);
        let denied = identity(&order, owner, Some("USER.company == 'Globex'"));
        let failing = identity(&order, owner, Some("1 / 0 == 1"));

        let no_rule = principal(None);
        assert!(!visible(&no_rule, &public, &order), "null identity_rule");
        let open = principal(Some("true"));
        assert!(visible(&open, &public, &order));
        assert!(
            !visible(&open, &private, &order),
            "null visibility is private"
        );
        assert!(!visible(&open, &denied, &order));
        assert!(!visible(&open, &failing, &order), "fail closed");
        let by_twin = principal(Some("TWIN.kind == 'order' and identity == 'RFID#4411'"));
        assert!(visible(&by_twin, &public, &order));
        assert!(!visible(&by_twin, &public, &twin(owner, "invoice")));
        assert!(!identity_visible(
            &by_twin,
            &public,
            None,
            &RuleCache::default(),
            NOW
        ));

        let expired = Identity {
            validity_ts: Some(NOW),
            ..public.clone()
        };
        assert!(!visible(&open, &expired, &order), "expired at validity_ts");
        let later = Identity {
            validity_ts: Some(NOW.plus_millis(1)),
            ..public
        };
        assert!(visible(&open, &later, &order));
        let own_expired = Identity {
            account: open.account,
            ..expired
        };
        assert!(
            visible(&open, &own_expired, &order),
            "own expired stays visible"
        );
    }

    #[test]
    fn identity_variables_reach_the_rules() {
        let owner = AccountId::new_random();
        let order = twin(owner, "order");
        let reader = principal(Some("true"));
        let rule = format!(
            "identity == 'RFID#4411' and validity_ts == 1707997393.5 and twin == '{}' \
             and twin_status == 'alive' and account == '{}' and now == 1707997392.123",
            order.id, reader.account
        );
        let shared = Identity {
            validity_ts: Some(Timestamp::from_millis(1_707_997_393_500)),
            ..identity(&order, owner, Some(&rule))
        };
        assert!(visible(&reader, &shared, &order));
        let rules = RuleCache::default();
        assert!(identity_rules_need_twin(&reader, [&shared], &rules));
        let plain = identity(&order, owner, Some("true"));
        assert!(!identity_rules_need_twin(&reader, [&plain], &rules));
        assert!(identity_rules_need_twin(
            &principal(Some("TWIN.kind == 'order'")),
            [&plain],
            &rules
        ));
    }
}
