//! Roles and users of an account.

use sqlx::error::ErrorKind;
use sqlx::PgConnection;
use steward_domain::{AccountId, Role, RoleId, User, UserId};
use steward_store::{ChangeSignal, Entity, PageRequest, StoreError};

use crate::error::{database_error, foreign_key_means_missing, map_violation};
use crate::rows::{encode_json, encode_optional_json, RoleRow, UserRow};
use crate::signals::send_signal;
use crate::PostgresStore;

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

impl PostgresStore {
    pub(crate) async fn insert_role(
        &self,
        account: AccountId,
        role: &Role,
    ) -> Result<(), StoreError> {
        ensure_created_in(account, role.account, Entity::Role)?;
        let mut tx = self.pool.begin().await.map_err(database_error)?;
        Self::insert_role_in(&mut tx, role).await?;
        send_signal(&mut tx, ChangeSignal::Access).await?;
        tx.commit().await.map_err(database_error)
    }

    pub(crate) async fn insert_role_in(
        connection: &mut PgConnection,
        role: &Role,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO roles (account_id, id, name, statement, rules, created_ts, updated_ts) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(role.account.as_uuid())
        .bind(role.id.as_uuid())
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
            "SELECT {ROLE_COLUMNS} FROM roles WHERE account_id = $1 AND id = $2"
        ))
        .bind(account.as_uuid())
        .bind(role.as_uuid())
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
             WHERE account_id = $1 AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3"
        ))
        .bind(account.as_uuid())
        .bind(page.after.map(|id| id.as_uuid()))
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
        let mut tx = self.pool.begin().await.map_err(database_error)?;
        let result = sqlx::query(
            "UPDATE roles SET name = $1, statement = $2, rules = $3, updated_ts = $4 \
             WHERE account_id = $5 AND id = $6",
        )
        .bind(&role.name)
        .bind(encode_json(&role.statement)?)
        .bind(encode_json(&role.rules)?)
        .bind(role.updated_ts.as_millis())
        .bind(account.as_uuid())
        .bind(role.id.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(database_error)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound(Entity::Role));
        }
        send_signal(&mut tx, ChangeSignal::Access).await?;
        tx.commit().await.map_err(database_error)
    }

    pub(crate) async fn delete_role_row(
        &self,
        account: AccountId,
        role: RoleId,
    ) -> Result<(), StoreError> {
        // The foreign key from users is the authority: a user added concurrently makes the
        // delete fail rather than leave the user pointing at nothing.
        let mut tx = self.pool.begin().await.map_err(database_error)?;
        let result = sqlx::query("DELETE FROM roles WHERE account_id = $1 AND id = $2")
            .bind(account.as_uuid())
            .bind(role.as_uuid())
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
        send_signal(&mut tx, ChangeSignal::Access).await?;
        tx.commit().await.map_err(database_error)
    }

    pub(crate) async fn insert_user(
        &self,
        account: AccountId,
        user: &User,
    ) -> Result<(), StoreError> {
        ensure_created_in(account, user.account, Entity::User)?;
        let mut tx = self.pool.begin().await.map_err(database_error)?;
        Self::insert_user_in(&mut tx, user).await?;
        send_signal(&mut tx, ChangeSignal::Access).await?;
        tx.commit().await.map_err(database_error)
    }

    pub(crate) async fn insert_user_in(
        connection: &mut PgConnection,
        user: &User,
    ) -> Result<(), StoreError> {
        // The composite foreign key (account_id, role_id) fails for a missing role and for a
        // role of another account alike; both are "role not found" for this account.
        sqlx::query(
            "INSERT INTO users \
             (account_id, id, role_id, name, description, activity, created_ts, updated_ts) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(user.account.as_uuid())
        .bind(user.id.as_uuid())
        .bind(user.role.as_uuid())
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
            "SELECT {USER_COLUMNS} FROM users WHERE account_id = $1 AND id = $2"
        ))
        .bind(account.as_uuid())
        .bind(user.as_uuid())
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
             WHERE account_id = $1 AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3"
        ))
        .bind(account.as_uuid())
        .bind(page.after.map(|id| id.as_uuid()))
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
        let mut tx = self.pool.begin().await.map_err(database_error)?;
        let result = sqlx::query(
            "UPDATE users SET role_id = $1, name = $2, description = $3, \
             activity = $4, updated_ts = $5 WHERE account_id = $6 AND id = $7",
        )
        .bind(user.role.as_uuid())
        .bind(&user.name)
        .bind(encode_json(&user.description)?)
        .bind(encode_optional_json(user.activity.as_ref())?)
        .bind(user.updated_ts.as_millis())
        .bind(account.as_uuid())
        .bind(user.id.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(foreign_key_means_missing(Entity::Role, Entity::User))?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound(Entity::User));
        }
        send_signal(&mut tx, ChangeSignal::Access).await?;
        tx.commit().await.map_err(database_error)
    }

    pub(crate) async fn delete_user_row(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<(), StoreError> {
        // The secret and PINs go with the user through ON DELETE CASCADE, in the same statement.
        let mut tx = self.pool.begin().await.map_err(database_error)?;
        let result = sqlx::query("DELETE FROM users WHERE account_id = $1 AND id = $2")
            .bind(account.as_uuid())
            .bind(user.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(database_error)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound(Entity::User));
        }
        send_signal(&mut tx, ChangeSignal::Access).await?;
        tx.commit().await.map_err(database_error)
    }
}

fn role_in_use() -> StoreError {
    StoreError::InUse {
        entity: Entity::Role,
        reason: "a user still holds the role".to_owned(),
    }
}
