//! The caller's own account and `who_am_i`.

use serde_json::Value;
use steward_domain::Account;

use crate::authz::authorize_operation;
use crate::{Error, Principal, Steward};

impl Steward {
    /// `who_am_i`: any valid credential, no statement entry needed.
    pub fn who_am_i(&self, principal: &Principal) -> Result<(), Error> {
        authorize_operation(principal, "who_am_i")
    }

    /// `get_account`: the caller's account.
    pub async fn get_caller_account(&self, principal: &Principal) -> Result<Account, Error> {
        authorize_operation(principal, "get_account")?;
        Ok(self.store.get_account(principal.account).await?)
    }

    /// `update_account`: replaces the Resource Access Log configuration.
    pub async fn update_caller_account(
        &self,
        principal: &Principal,
        resource_access_log: Option<Value>,
    ) -> Result<Account, Error> {
        authorize_operation(principal, "update_account")?;
        crate::audit::logs::validate_log_config(
            "resource_access_log",
            resource_access_log.as_ref(),
        )?;
        let account = self
            .store
            .update_account_resource_access_log(
                principal.account,
                resource_access_log.as_ref(),
                self.clock.now(),
            )
            .await?;
        Ok(account)
    }
}
