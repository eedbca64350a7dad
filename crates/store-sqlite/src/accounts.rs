//! Accounts: creation with their bootstrap rows, reading, listing, suspension and the Resource
//! Access Log configuration.

use serde_json::Value;
use steward_domain::{Account, AccountBootstrap, AccountId, AccountStatus, Timestamp};
use steward_store::{Entity, PageRequest, StoreError};

use crate::error::{database_error, unique_means_exists};
use crate::rows::{encode_optional_json, AccountRow};
use crate::SqliteStore;

const ACCOUNT_COLUMNS: &str = "id, name, status, resource_access_log, created_ts, updated_ts";

impl SqliteStore {
    pub(crate) async fn create_account_tx(
        &self,
        bootstrap: &AccountBootstrap,
    ) -> Result<(), StoreError> {
        check_bootstrap_consistency(bootstrap)?;
        let account = &bootstrap.account;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO accounts (id, name, status, resource_access_log, created_ts, updated_ts) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(account.id.to_string())
        .bind(&account.name)
        .bind(account.status.as_str())
        .bind(encode_optional_json(account.resource_access_log.as_ref())?)
        .bind(account.created_ts.as_millis())
        .bind(account.updated_ts.as_millis())
        .execute(&mut *tx)
        .await
        .map_err(unique_means_exists(Entity::Account))?;
        // Dropping `tx` on any error below rolls the account back with everything else.
        Self::insert_role_in(&mut tx, &bootstrap.admin_role).await?;
        Self::insert_user_in(&mut tx, &bootstrap.admin_user).await?;
        Self::insert_secret_in(&mut tx, &bootstrap.admin_secret).await?;
        tx.commit().await
    }

    pub(crate) async fn get_account_row(&self, account: AccountId) -> Result<Account, StoreError> {
        let row: Option<AccountRow> = sqlx::query_as(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?"
        ))
        .bind(account.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(database_error)?;
        row.ok_or(StoreError::NotFound(Entity::Account))?.try_into()
    }

    pub(crate) async fn list_account_rows(
        &self,
        page: PageRequest<AccountId>,
    ) -> Result<Vec<Account>, StoreError> {
        let rows: Vec<AccountRow> = sqlx::query_as(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts \
             WHERE (?1 IS NULL OR id > ?1) ORDER BY id LIMIT ?2"
        ))
        .bind(page.after.map(|id| id.to_string()))
        .bind(i64::from(page.limit))
        .fetch_all(&self.pool)
        .await
        .map_err(database_error)?;
        rows.into_iter().map(Account::try_from).collect()
    }

    pub(crate) async fn update_account_status(
        &self,
        account: AccountId,
        status: AccountStatus,
        now: Timestamp,
    ) -> Result<Account, StoreError> {
        let row: Option<AccountRow> = self
            .write_returning(
                sqlx::query_as(&format!(
                    "UPDATE accounts SET status = ?, updated_ts = ? WHERE id = ? \
             RETURNING {ACCOUNT_COLUMNS}"
                ))
                .bind(status.as_str())
                .bind(now.as_millis())
                .bind(account.to_string()),
            )
            .await?;
        row.ok_or(StoreError::NotFound(Entity::Account))?.try_into()
    }

    pub(crate) async fn update_account_access_log(
        &self,
        account: AccountId,
        resource_access_log: Option<&Value>,
        now: Timestamp,
    ) -> Result<Account, StoreError> {
        let row: Option<AccountRow> = self
            .write_returning(
                sqlx::query_as(&format!(
                    "UPDATE accounts SET resource_access_log = ?, updated_ts = ? WHERE id = ? \
             RETURNING {ACCOUNT_COLUMNS}"
                ))
                .bind(encode_optional_json(resource_access_log)?)
                .bind(now.as_millis())
                .bind(account.to_string()),
            )
            .await?;
        row.ok_or(StoreError::NotFound(Entity::Account))?.try_into()
    }
}

/// The bootstrap's rows must all belong to the new account and to each other; anything else is
/// a bug in the caller that would store a half-connected tenant.
fn check_bootstrap_consistency(bootstrap: &AccountBootstrap) -> Result<(), StoreError> {
    let account = bootstrap.account.id;
    let consistent = bootstrap.admin_role.account == account
        && bootstrap.admin_user.account == account
        && bootstrap.admin_user.role == bootstrap.admin_role.id
        && bootstrap.admin_secret.account == account
        && bootstrap.admin_secret.user == bootstrap.admin_user.id;
    if consistent {
        Ok(())
    } else {
        Err(StoreError::Backend(
            "account bootstrap rows do not belong to the new account".to_owned(),
        ))
    }
}
