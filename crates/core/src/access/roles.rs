//! Roles of the caller's account: statements are checked for unknown actions and escalation,
//! rules are parsed at write time so a broken rule never reaches evaluation.

use steward_domain::{Role, RoleId, RoleRules, RoleStatement};

use super::users::read_all_pages;
use crate::actions::is_known_action;
use crate::authz::{authorize_operation, ensure_no_escalation};
use crate::{validate, Error, Principal, RolePatch, Steward};

/// Name of a role created without one (Trusted Twin's default).
pub const DEFAULT_ROLE_NAME: &str = "User Role Name";

impl Steward {
    /// `get_user_roles`: every role of the caller's account, ordered by id.
    pub async fn list_roles(&self, principal: &Principal) -> Result<Vec<Role>, Error> {
        authorize_operation(principal, "get_user_roles")?;
        read_all_pages(
            |page| self.store.list_roles(principal.account, page),
            |role| role.id,
        )
        .await
    }

    /// `create_user_role`.
    pub async fn create_role(
        &self,
        principal: &Principal,
        name: Option<String>,
        statement: Option<RoleStatement>,
        rules: Option<RoleRules>,
    ) -> Result<Role, Error> {
        authorize_operation(principal, "create_user_role")?;
        let name = name.unwrap_or_else(|| DEFAULT_ROLE_NAME.to_owned());
        let statement = statement.unwrap_or_default();
        let rules = rules.unwrap_or_default();
        validate::name("name", &name)?;
        validate_statement(&statement)?;
        validate_rules(&rules)?;
        ensure_no_escalation(principal, &statement)?;
        let now = self.clock.now();
        let role = Role {
            id: RoleId::new_random(),
            account: principal.account,
            name,
            statement,
            rules,
            created_ts: now,
            updated_ts: now,
        };
        self.store.create_role(principal.account, &role).await?;
        Ok(role)
    }

    /// `get_user_role`.
    pub async fn get_role(&self, principal: &Principal, role: RoleId) -> Result<Role, Error> {
        authorize_operation(principal, "get_user_role")?;
        Ok(self.store.get_role(principal.account, role).await?)
    }

    /// `update_user_role`: a present part replaces that whole part.
    pub async fn update_role(
        &self,
        principal: &Principal,
        role: RoleId,
        patch: RolePatch,
    ) -> Result<Role, Error> {
        authorize_operation(principal, "update_user_role")?;
        if let Some(name) = &patch.name {
            validate::name("name", name)?;
        }
        if let Some(statement) = &patch.statement {
            validate_statement(statement)?;
            ensure_no_escalation(principal, statement)?;
        }
        if let Some(rules) = &patch.rules {
            validate_rules(rules)?;
        }
        let mut stored = self.store.get_role(principal.account, role).await?;
        // A role that already allows more than the caller holds is out of the caller's reach,
        // even for a rename or new rules.
        ensure_no_escalation(principal, &stored.statement)?;
        if let Some(name) = patch.name {
            stored.name = name;
        }
        if let Some(statement) = patch.statement {
            stored.statement = statement;
        }
        if let Some(rules) = patch.rules {
            stored.rules = rules;
        }
        stored.updated_ts = self.clock.now();
        self.store.update_role(principal.account, &stored).await?;
        self.credentials_changed();
        Ok(stored)
    }

    /// `delete_user_role`: refused (400 / 400897) while a user holds the role.
    pub async fn delete_role(&self, principal: &Principal, role: RoleId) -> Result<Role, Error> {
        authorize_operation(principal, "delete_user_role")?;
        let stored = self.store.get_role(principal.account, role).await?;
        self.store.delete_role(principal.account, role).await?;
        self.credentials_changed();
        Ok(stored)
    }
}

/// Unknown action names are refused so typos never silently deny or allow.
fn validate_statement(statement: &RoleStatement) -> Result<(), Error> {
    for action in statement.actions.iter().flatten() {
        if !is_known_action(action) {
            return Err(Error::request_format(format!(
                "`statement.actions` contains unknown action `{action}`"
            )));
        }
    }
    Ok(())
}

/// Every rule must parse; the error names the rule and the position.
pub(crate) fn validate_rules(rules: &RoleRules) -> Result<(), Error> {
    let named = [
        ("twin_rule", &rules.twin_rule),
        ("entry_rule", &rules.entry_rule),
        ("identity_rule", &rules.identity_rule),
    ];
    for (field, rule) in named {
        if let Some(text) = rule {
            validate_rule_text(&format!("rules.{field}"), text)?;
        }
    }
    Ok(())
}

/// Parses one rule; a failure is 400 / 400589 naming the field and the position.
pub(crate) fn validate_rule_text(field: &str, text: &str) -> Result<(), Error> {
    use steward_rules::RuleError;
    // NUL cannot be stored in every backend's text columns, and has no use in a rule.
    if text.contains('\0') {
        return Err(Error::request_format(format!(
            "`{field}` must not contain NUL characters"
        )));
    }
    let error = match steward_rules::Rule::parse(text) {
        Ok(_) => return Ok(()),
        Err(error) => error,
    };
    let (byte_offset, expected) = match &error {
        RuleError::Parse(parse) => (Some(parse.span.start), parse.expected.clone()),
        RuleError::Eval(eval) => (eval.span.map(|span| span.start), None),
    };
    let position = byte_offset
        .map(|offset| {
            let characters_before = text
                .get(..offset)
                .map_or(0, |prefix| prefix.chars().count());
            format!(" at character {}", characters_before + 1)
        })
        .unwrap_or_default();
    let expected = expected
        .map(|what| format!(" (expected {what})"))
        .unwrap_or_default();
    Err(Error::request_format(format!(
        "`{field}` is not a valid rule: {error}{position}{expected}"
    )))
}
