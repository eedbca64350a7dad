//! Access decisions, in one place. Handlers never decide access: every service method asks
//! [`authorize_operation`] first, before it loads any resource.

pub(crate) mod identities;

use std::collections::BTreeSet;

use steward_domain::{RoleStatement, StatementEffect};

use crate::actions::ALL_ACTIONS;
use crate::principal::{AuthMethod, Principal};
use crate::{Error, ErrorCode};

/// Operations every authenticated caller may use, whatever the statement says.
const STATEMENT_EXEMPT: &[&str] = &["who_am_i"];

/// Whether a statement allows an operation.
pub fn statement_allows(statement: &RoleStatement, operation: &str) -> bool {
    let listed = statement
        .actions
        .as_deref()
        .is_some_and(|actions| actions.iter().any(|action| action == operation));
    match statement.effect {
        StatementEffect::Allow => listed,
        StatementEffect::Deny => !listed,
    }
}

/// The set of known operations a statement allows.
pub fn allowed_operations(statement: &RoleStatement) -> BTreeSet<&'static str> {
    ALL_ACTIONS
        .iter()
        .copied()
        .filter(|action| statement_allows(statement, action))
        .collect()
}

/// Checks that the caller may perform `operation` (403 / 403535 otherwise).
pub fn authorize_operation(principal: &Principal, operation: &str) -> Result<(), Error> {
    if STATEMENT_EXEMPT.contains(&operation) {
        return Ok(());
    }
    // A token creates further tokens only through its own `create` option (Trusted Twin:
    // "token auth governed by token options"), not through the role statement.
    if operation == "create_user_token" {
        if let AuthMethod::Token { options, .. } = &principal.auth {
            return if options.create {
                Ok(())
            } else {
                Err(Error::new(
                    ErrorCode::AccessForbidden,
                    "this token was not issued with the `create` option",
                ))
            };
        }
    }
    if statement_allows(&principal.role.statement, operation) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::AccessForbidden,
            format!("the role does not allow `{operation}`"),
        ))
    }
}

/// Refuses a statement that would allow an operation the caller's own role does not allow:
/// nobody can hand out more than they hold.
pub fn ensure_no_escalation(principal: &Principal, granted: &RoleStatement) -> Result<(), Error> {
    let held = allowed_operations(&principal.role.statement);
    let beyond: Vec<&str> = allowed_operations(granted)
        .into_iter()
        .filter(|action| !held.contains(action))
        .collect();
    if beyond.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = beyond
        .iter()
        .take(5)
        .map(|action| format!("`{action}`"))
        .collect();
    let more = if beyond.len() > 5 {
        format!(" and {} more", beyond.len() - 5)
    } else {
        String::new()
    };
    Err(Error::new(
        ErrorCode::AccessForbidden,
        format!(
            "the role would allow operations you do not hold: {}{more}",
            shown.join(", ")
        ),
    ))
}

/// Whether the caller may see a twin. With no `twin_rule` the caller sees only twins its own
/// account owns; a rule decides for own and foreign twins alike (spec §2.18). A rule that does
/// not parse or fails to evaluate hides the twin (fail closed).
pub(crate) fn twin_visible(
    principal: &Principal,
    twin: &steward_domain::Twin,
    rules: &crate::rule_cache::RuleCache,
    now: steward_domain::Timestamp,
) -> bool {
    match &principal.role.rules.twin_rule {
        None => twin.owner == principal.account,
        Some(text) => rules.get(text).is_some_and(|rule| {
            rule.matches(&crate::rule_context::TwinRuleContext {
                principal,
                twin,
                now,
            })
        }),
    }
}

/// The names of the entries of `ledger` the caller may see, on a twin it already may see
/// (spec §2.18). Decided in two steps:
///
/// 1. On another account's ledger, the entry's own `visibility` rule (written by the ledger's
///    owner, who may consult the whole ledger as `LEDGER`) must be true; null is private.
/// 2. The caller's role `entry_rule` must be true; a null rule allows only the caller's own
///    entries. On another account's ledger this rule sees `LEDGER` restricted to the entries
///    that passed step 1: the reader writes its own role rules, so it must not be able to
///    probe private values through them.
///
/// Rules that fail to evaluate deny (fail closed).
pub(crate) fn visible_entry_names(
    principal: &Principal,
    twin: &steward_domain::Twin,
    ledger: &steward_domain::Ledger,
    rules: &crate::rule_cache::RuleCache,
    now: steward_domain::Timestamp,
) -> std::collections::BTreeSet<String> {
    use std::cell::OnceCell;

    use crate::rule_context::EntryRuleContext;

    let own = ledger.account == principal.account;
    let holds = |text: &str,
                 scope: &steward_domain::Ledger,
                 values: &OnceCell<steward_rules::Value>,
                 name: &str| {
        let context = EntryRuleContext {
            principal,
            twin,
            ledger: scope,
            ledger_values: values,
            entry_name: name,
            entry: scope.entries.get(name),
            now,
        };
        rules.get(text).is_some_and(|rule| rule.matches(&context))
    };

    let owner_values = OnceCell::new();
    let scope = if own {
        ledger.clone()
    } else {
        let mut shared = ledger.clone();
        shared.entries.retain(|name, entry| {
            entry
                .visibility
                .as_deref()
                .is_some_and(|text| holds(text, ledger, &owner_values, name))
        });
        shared
    };
    let scope_values = OnceCell::new();
    scope
        .entries
        .keys()
        .filter(|name| match &principal.role.rules.entry_rule {
            None => own,
            Some(text) => holds(text, &scope, &scope_values, name),
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(effect: StatementEffect, actions: &[&str]) -> RoleStatement {
        RoleStatement {
            effect,
            actions: Some(actions.iter().map(|action| (*action).to_owned()).collect()),
        }
    }

    #[test]
    fn allow_lists_permit_only_listed_and_deny_lists_everything_else() {
        let allow = statement(StatementEffect::Allow, &["get_twin"]);
        assert!(statement_allows(&allow, "get_twin"));
        assert!(!statement_allows(&allow, "create_twin"));
        let deny = statement(StatementEffect::Deny, &["delete_user"]);
        assert!(!statement_allows(&deny, "delete_user"));
        assert!(statement_allows(&deny, "get_users"));
        assert_eq!(
            allowed_operations(&RoleStatement::default()).len(),
            ALL_ACTIONS.len()
        );
        let empty_allow = RoleStatement {
            effect: StatementEffect::Allow,
            actions: None,
        };
        assert!(allowed_operations(&empty_allow).is_empty());
    }
}
