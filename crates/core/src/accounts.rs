//! Operator use cases on accounts: create (with Super Admin role, user and secret), list,
//! get, suspend and resume.

use serde_json::Map;
use steward_domain::{
    Account, AccountBootstrap, AccountId, AccountStatus, Role, RoleId, RoleRules, RoleStatement,
    Secret, User, UserId,
};
use steward_store::PageRequest;

use crate::credentials::{fingerprint, generate_secret, hash_credential};
use crate::{Error, Steward};

/// Name of the role created with every account; it allows every operation.
pub const SUPER_ADMIN_ROLE_NAME: &str = "Super Admin";

/// Longest accepted account name, in characters.
const MAX_ACCOUNT_NAME_CHARS: usize = 64;

/// Largest page an account listing returns.
pub const MAX_ACCOUNT_PAGE: u32 = 1000;

/// A freshly created account with its first user's secret, which is shown only this once.
#[derive(Clone)]
pub struct CreatedAccount {
    /// The stored account, role, user and secret metadata.
    pub bootstrap: AccountBootstrap,
    /// The admin user's secret in plain text; never stored, never shown again.
    pub secret: String,
}

impl std::fmt::Debug for CreatedAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never appears in debug output.
        f.debug_struct("CreatedAccount")
            .field("account", &self.bootstrap.account.id)
            .finish_non_exhaustive()
    }
}

/// One page of accounts and the cursor for the next one.
#[derive(Debug, Clone)]
pub struct AccountPage {
    /// Accounts ordered by id.
    pub accounts: Vec<Account>,
    /// Pass as `after` to get the next page; `None` when this was the last page.
    pub next_after: Option<AccountId>,
}

impl Steward {
    /// Creates an account with its Super Admin role, an admin user and that user's secret,
    /// all in one transaction.
    pub async fn create_account(&self, name: &str) -> Result<CreatedAccount, Error> {
        validate_account_name(name)?;
        let now = self.clock.now();
        let account_id = AccountId::new_random();
        let role_id = RoleId::new_random();
        let user_id = UserId::new_random();
        let secret = generate_secret();
        let bootstrap = AccountBootstrap {
            account: Account {
                id: account_id,
                name: name.to_owned(),
                status: AccountStatus::Active,
                resource_access_log: None,
                created_ts: now,
                updated_ts: now,
            },
            admin_role: Role {
                id: role_id,
                account: account_id,
                name: SUPER_ADMIN_ROLE_NAME.to_owned(),
                statement: RoleStatement::default(),
                rules: RoleRules::default(),
                created_ts: now,
                updated_ts: now,
            },
            admin_user: User {
                id: user_id,
                account: account_id,
                role: role_id,
                name: SUPER_ADMIN_ROLE_NAME.to_owned(),
                description: Map::new(),
                activity: None,
                created_ts: now,
                updated_ts: now,
            },
            admin_secret: Secret {
                account: account_id,
                user: user_id,
                hash: hash_credential(&secret),
                fingerprint: fingerprint(&secret),
                validity_ts: None,
                created_ts: now,
                updated_ts: now,
            },
        };
        self.store.create_account(&bootstrap).await?;
        tracing::info!(account = %account_id, "account created");
        Ok(CreatedAccount { bootstrap, secret })
    }

    /// Loads one account.
    pub async fn get_account(&self, account: AccountId) -> Result<Account, Error> {
        Ok(self.store.get_account(account).await?)
    }

    /// Lists accounts by id, `limit` at a time (1 to [`MAX_ACCOUNT_PAGE`]).
    pub async fn list_accounts(
        &self,
        after: Option<AccountId>,
        limit: u32,
    ) -> Result<AccountPage, Error> {
        if !(1..=MAX_ACCOUNT_PAGE).contains(&limit) {
            return Err(Error::request_format(format!(
                "`limit` must be between 1 and {MAX_ACCOUNT_PAGE}, got `{limit}`"
            )));
        }
        let accounts = self
            .store
            .list_accounts(PageRequest { after, limit })
            .await?;
        let full_page = accounts.len() == usize::try_from(limit).unwrap_or(usize::MAX);
        let next_after = if full_page {
            accounts.last().map(|account| account.id)
        } else {
            None
        };
        Ok(AccountPage {
            accounts,
            next_after,
        })
    }

    /// Suspends (`Suspended`) or resumes (`Active`) an account.
    pub async fn set_account_status(
        &self,
        account: AccountId,
        status: AccountStatus,
    ) -> Result<Account, Error> {
        let updated = self
            .store
            .set_account_status(account, status, self.clock.now())
            .await?;
        self.credentials_changed();
        tracing::info!(account = %account, status = status.as_str(), "account status changed");
        Ok(updated)
    }
}

fn validate_account_name(name: &str) -> Result<(), Error> {
    let length = name.chars().count();
    if length == 0 || length > MAX_ACCOUNT_NAME_CHARS {
        return Err(Error::request_format(format!(
            "account name must be 1 to {MAX_ACCOUNT_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) || name.trim() != name {
        return Err(Error::request_format(
            "account name must not contain control characters or surrounding spaces",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
