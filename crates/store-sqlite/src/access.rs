//! Roles and users of an account.

use sqlx::error::ErrorKind;
use sqlx::SqliteConnection;
use steward_domain::{AccountId, Role, RoleId, User, UserId};
use steward_store::{Entity, PageRequest, StoreError};

use crate::error::{database_error, foreign_key_means_missing, map_violation};
use crate::rows::{encode_json, encode_optional_json, RoleRow, UserRow};
use crate::SqliteStore;

const ROLE_COLUMNS: &str = "account_id, id, name, statement, rules, created_ts, updated_ts";
const USER_COLUMNS: &str =
    "account_id, id, role_id, name, description, activity, created_ts, updated_ts";

/// Creating a row for one account from an entity that names another is a caller bug; refusing
/// it keeps a tenant's rows from being written under the wrong account.
pub(crate) fn ensure_created_in(
    account: AccountId,
    owner: AccountId,
    entity: Entity,
) -> Result<(), StoreError> {
    if account == owner {
        return Ok(());
    }
    Err(StoreError::Backend(format!(
        "{entity} to create belongs to another account"
    )))
}

impl SqliteStore {
    pub(crate) async fn insert_role(
        &self,
        account: AccountId,
        role: &Role,
    ) -> Result<(), StoreError> {
        ensure_created_in(account, role.account, Entity::Role)?;
        let mut tx = self.begin_write().await?;
        match Self::insert_role_in(&mut tx, role).await {
            Ok(()) => tx.commit().await,
            Err(error) => tx.fail(error).await,
        }
    }

    pub(crate) async fn insert_role_in(
        connection: &mut SqliteConnection,
        role: &Role,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO roles (account_id, id, name, statement, rules, created_ts, updated_ts) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(role.account.to_string())
        .bind(role.id.to_string())
        .bind(&role.name)
        .bind(encode_json(&role.statement)?)
        .bind(encode_json(&role.rules)?)
        .bind(role.created_ts.as_millis())
        .bind(role.updated_ts.as_millis())
        .execute(connection)
        .await
        .map_err(foreign_key_means_missing(Entity::Account, Entity::Role))?;
        Ok(())
    }

    pub(crate) async fn get_role_row(
        &self,
        account: AccountId,
        role: RoleId,
    ) -> Result<Role, StoreError> {
        let row: Option<RoleRow> = sqlx::query_as(&format!(
            "SELECT {ROLE_COLUMNS} FROM roles WHERE account_id = ? AND id = ?"
        ))
        .bind(account.to_string())
        .bind(role.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(database_error)?;
        row.ok_or(StoreError::NotFound(Entity::Role))?.try_into()
    }

    pub(crate) async fn list_role_rows(
        &self,
        account: AccountId,
        page: PageRequest<RoleId>,
    ) -> Result<Vec<Role>, StoreError> {
        let rows: Vec<RoleRow> = sqlx::query_as(&format!(
            "SELECT {ROLE_COLUMNS} FROM roles \
             WHERE account_id = ?1 AND (?2 IS NULL OR id > ?2) ORDER BY id LIMIT ?3"
        ))
        .bind(account.to_string())
        .bind(page.after.map(|id| id.to_string()))
        .bind(i64::from(page.limit))
        .fetch_all(&self.pool)
        .await
        .map_err(database_error)?;
        rows.into_iter().map(Role::try_from).collect()
    }

    pub(crate) async fn update_role_row(
        &self,
        account: AccountId,
        role: &Role,
    ) -> Result<(), StoreError> {
        if role.account != account {
            // Another account's role does not exist from this account's point of view.
            return Err(StoreError::NotFound(Entity::Role));
        }
        let result = self
            .write_statement(
                sqlx::query(
                    "UPDATE roles SET name = ?, statement = ?, rules = ?, updated_ts = ? \
                     WHERE account_id = ? AND id = ?",
                )
                .bind(&role.name)
                .bind(encode_json(&role.statement)?)
                .bind(encode_json(&role.rules)?)
                .bind(role.updated_ts.as_millis())
                .bind(account.to_string())
                .bind(role.id.to_string()),
                database_error,
            )
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound(Entity::Role));
        }
        Ok(())
    }

    pub(crate) async fn delete_role_row(
        &self,
        account: AccountId,
        role: RoleId,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let held: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM users WHERE account_id = ? AND role_id = ?)",
        )
        .bind(account.to_string())
        .bind(role.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(database_error)?;
        if held {
            return Err(role_in_use());
        }
        let result = sqlx::query("DELETE FROM roles WHERE account_id = ? AND id = ?")
            .bind(account.to_string())
            .bind(role.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|error| {
                map_violation(error, |kind| {
                    (kind == ErrorKind::ForeignKeyViolation).then(role_in_use)
                })
            })?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound(Entity::Role));
        }
        tx.commit().await
    }

    pub(crate) async fn insert_user(
        &self,
        account: AccountId,
        user: &User,
    ) -> Result<(), StoreError> {
        ensure_created_in(account, user.account, Entity::User)?;
        let mut tx = self.begin_write().await?;
        match Self::insert_user_in(&mut tx, user).await {
            Ok(()) => tx.commit().await,
            Err(error) => tx.fail(error).await,
        }
    }

    pub(crate) async fn insert_user_in(
        connection: &mut SqliteConnection,
        user: &User,
    ) -> Result<(), StoreError> {
        // The composite foreign key (account_id, role_id) fails for a missing role and for a
        // role of another account alike; both are "role not found" for this account.
        sqlx::query(
            "INSERT INTO users \
             (account_id, id, role_id, name, description, activity, created_ts, updated_ts) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(user.account.to_string())
        .bind(user.id.to_string())
        .bind(user.role.to_string())
        .bind(&user.name)
        .bind(encode_json(&user.description)?)
        .bind(encode_optional_json(user.activity.as_ref())?)
        .bind(user.created_ts.as_millis())
        .bind(user.updated_ts.as_millis())
        .execute(connection)
        .await
        .map_err(foreign_key_means_missing(Entity::Role, Entity::User))?;
        Ok(())
    }

    pub(crate) async fn get_user_row(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<User, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE account_id = ? AND id = ?"
        ))
        .bind(account.to_string())
        .bind(user.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(database_error)?;
        row.ok_or(StoreError::NotFound(Entity::User))?.try_into()
    }

    pub(crate) async fn list_user_rows(
        &self,
        account: AccountId,
        page: PageRequest<UserId>,
    ) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users \
             WHERE account_id = ?1 AND (?2 IS NULL OR id > ?2) ORDER BY id LIMIT ?3"
        ))
        .bind(account.to_string())
        .bind(page.after.map(|id| id.to_string()))
        .bind(i64::from(page.limit))
        .fetch_all(&self.pool)
        .await
        .map_err(database_error)?;
        rows.into_iter().map(User::try_from).collect()
    }

    pub(crate) async fn update_user_row(
        &self,
        account: AccountId,
        user: &User,
    ) -> Result<(), StoreError> {
        if user.account != account {
            return Err(StoreError::NotFound(Entity::User));
        }
        // One statement: a missing user changes no row (not found), an existing user with a
        // role outside the account trips the composite foreign key (role not found).
        let result = self
            .write_statement(
                sqlx::query(
                    "UPDATE users SET role_id = ?, name = ?, description = ?, activity = ?, \
                     updated_ts = ? WHERE account_id = ? AND id = ?",
                )
                .bind(user.role.to_string())
                .bind(&user.name)
                .bind(encode_json(&user.description)?)
                .bind(encode_optional_json(user.activity.as_ref())?)
                .bind(user.updated_ts.as_millis())
                .bind(account.to_string())
                .bind(user.id.to_string()),
                foreign_key_means_missing(Entity::Role, Entity::User),
            )
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound(Entity::User));
        }
        Ok(())
    }

    pub(crate) async fn delete_user_row(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        // The foreign keys cascade too; deleting explicitly keeps the behaviour independent of
        // whether the connection enforces foreign keys.
        for dependent in [
            "DELETE FROM secrets WHERE account_id = ? AND user_id = ?",
            "DELETE FROM secret_pins WHERE account_id = ? AND user_id = ?",
        ] {
            sqlx::query(dependent)
                .bind(account.to_string())
                .bind(user.to_string())
                .execute(&mut *tx)
                .await
                .map_err(database_error)?;
        }
        let result = sqlx::query("DELETE FROM users WHERE account_id = ? AND id = ?")
            .bind(account.to_string())
            .bind(user.to_string())
            .execute(&mut *tx)
            .await
            .map_err(database_error)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound(Entity::User));
        }
        tx.commit().await
    }
}

fn role_in_use() -> StoreError {
    StoreError::InUse {
        entity: Entity::Role,
        reason: "a user still holds the role".to_owned(),
    }
}
