//! Users of the caller's account.

use serde_json::{Map, Value};
use steward_domain::{RoleId, User, UserId};
use steward_store::PageRequest;

use crate::authz::{authorize_operation, ensure_no_escalation};
use crate::{validate, Error, Principal, Steward, UserPatch};

/// Page size used to read whole listings.
const LISTING_PAGE: u32 = 1000;

/// Reads a keyset-paged listing to the end, a page of [`LISTING_PAGE`] at a time.
pub(crate) async fn read_all_pages<T, Id, Fetch, Page>(
    mut fetch: Fetch,
    id_of: impl Fn(&T) -> Id,
) -> Result<Vec<T>, Error>
where
    Id: Copy,
    Fetch: FnMut(PageRequest<Id>) -> Page,
    Page: std::future::Future<Output = Result<Vec<T>, steward_store::StoreError>>,
{
    let mut items = Vec::new();
    let mut after = None;
    loop {
        let page = fetch(PageRequest {
            after,
            limit: LISTING_PAGE,
        })
        .await?;
        let full = page.len() == LISTING_PAGE as usize;
        after = page.last().map(&id_of);
        items.extend(page);
        if !full {
            return Ok(items);
        }
    }
}

impl Steward {
    /// `get_users`: every user of the caller's account, ordered by id.
    pub async fn list_users(&self, principal: &Principal) -> Result<Vec<User>, Error> {
        authorize_operation(principal, "get_users")?;
        read_all_pages(
            |page| self.store.list_users(principal.account, page),
            |user| user.id,
        )
        .await
    }

    /// `create_user`: a user holding a role of the caller's account that grants nothing
    /// beyond the caller's own role.
    pub async fn create_user(
        &self,
        principal: &Principal,
        name: String,
        role: RoleId,
        description: Map<String, Value>,
        activity: Option<Value>,
    ) -> Result<User, Error> {
        authorize_operation(principal, "create_user")?;
        validate::name("name", &name)?;
        validate::description_keys("description", &description)?;
        crate::audit::logs::validate_log_config("activity", activity.as_ref())?;
        self.ensure_role_assignable(principal, role).await?;
        let now = self.clock.now();
        let user = User {
            id: UserId::new_random(),
            account: principal.account,
            role,
            name,
            description,
            activity,
            created_ts: now,
            updated_ts: now,
        };
        self.store.create_user(principal.account, &user).await?;
        Ok(user)
    }

    /// `get_user`.
    pub async fn get_user(&self, principal: &Principal, user: UserId) -> Result<User, Error> {
        authorize_operation(principal, "get_user")?;
        Ok(self.store.get_user(principal.account, user).await?)
    }

    /// `update_user`: present fields replace the stored ones.
    pub async fn update_user(
        &self,
        principal: &Principal,
        user: UserId,
        patch: UserPatch,
    ) -> Result<User, Error> {
        authorize_operation(principal, "update_user")?;
        if let Some(name) = &patch.name {
            validate::name("name", name)?;
        }
        if let Some(description) = &patch.description {
            validate::description_keys("description", description)?;
        }
        if let Some(activity) = &patch.activity {
            crate::audit::logs::validate_log_config("activity", activity.as_ref())?;
        }
        let mut stored = self.store.get_user(principal.account, user).await?;
        self.ensure_user_within_reach(principal, &stored).await?;
        if let Some(role) = patch.role {
            if role != stored.role {
                self.ensure_role_assignable(principal, role).await?;
            }
            stored.role = role;
        }
        if let Some(name) = patch.name {
            stored.name = name;
        }
        if let Some(description) = patch.description {
            stored.description = description;
        }
        if let Some(activity) = patch.activity {
            stored.activity = activity;
        }
        stored.updated_ts = self.clock.now();
        self.store.update_user(principal.account, &stored).await?;
        self.credentials_changed();
        Ok(stored)
    }

    /// `delete_user`: deletes the user and revokes its secret and tokens at once.
    pub async fn delete_user(&self, principal: &Principal, user: UserId) -> Result<User, Error> {
        authorize_operation(principal, "delete_user")?;
        let stored = self.store.get_user(principal.account, user).await?;
        self.ensure_user_within_reach(principal, &stored).await?;
        self.store.delete_user(principal.account, user).await?;
        self.credentials_changed();
        Ok(stored)
    }

    /// Acting on another user (changing, deleting, or handing out or revoking its secret) is
    /// allowed only if that user's role allows nothing beyond the caller's own: otherwise a
    /// weaker user could take over or lock out a stronger one.
    pub(crate) async fn ensure_user_within_reach(
        &self,
        principal: &Principal,
        target: &User,
    ) -> Result<(), Error> {
        if target.id == principal.user.id {
            return Ok(());
        }
        let role = self.store.get_role(principal.account, target.role).await?;
        ensure_no_escalation(principal, &role.statement)
    }

    /// A role may be given to a user only if it exists in the caller's account and allows
    /// nothing the caller's own role does not.
    async fn ensure_role_assignable(
        &self,
        principal: &Principal,
        role: RoleId,
    ) -> Result<(), Error> {
        let role = self.store.get_role(principal.account, role).await?;
        ensure_no_escalation(principal, &role.statement)
    }
}
