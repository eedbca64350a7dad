//! Identities: aliases of twins, indexed by identity string for resolution.

use steward_domain::{AccountId, Identity, TwinId};
use steward_store::StoreError;

use crate::SqliteStore;

#[allow(clippy::unused_async, unused_variables)]
impl SqliteStore {
    pub(crate) async fn insert_identity_rows(
        &self,
        account: AccountId,
        twin: TwinId,
        identities: &[Identity],
    ) -> Result<Vec<bool>, StoreError> {
        todo!()
    }

    pub(crate) async fn get_identity_row(
        &self,
        account: AccountId,
        twin: TwinId,
        identity: &str,
    ) -> Result<Identity, StoreError> {
        todo!()
    }

    pub(crate) async fn list_twin_identity_rows(
        &self,
        twin: TwinId,
    ) -> Result<Vec<Identity>, StoreError> {
        todo!()
    }

    pub(crate) async fn update_identity_row(
        &self,
        account: AccountId,
        identity: &Identity,
    ) -> Result<(), StoreError> {
        todo!()
    }

    pub(crate) async fn delete_identity_row(
        &self,
        account: AccountId,
        twin: TwinId,
        identity: &str,
    ) -> Result<Identity, StoreError> {
        todo!()
    }

    pub(crate) async fn find_identity_rows(
        &self,
        identity: &str,
        accounts: Option<&[AccountId]>,
        limit: u32,
    ) -> Result<Vec<Identity>, StoreError> {
        todo!()
    }
}
