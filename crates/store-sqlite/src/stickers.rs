//! Stickers: one per (twin, account, colour), with recipients indexed for listing.

use steward_domain::{AccountId, Sticker, Timestamp, TwinId};
use steward_store::{StickerQuery, StoreError};
use uuid::Uuid;

use crate::SqliteStore;

#[allow(clippy::unused_async, unused_variables)]
impl SqliteStore {
    pub(crate) async fn put_sticker_row(
        &self,
        account: AccountId,
        sticker: &Sticker,
    ) -> Result<Option<Sticker>, StoreError> {
        todo!()
    }

    pub(crate) async fn get_sticker_row(
        &self,
        twin: TwinId,
        account: AccountId,
        color: &str,
    ) -> Result<Sticker, StoreError> {
        todo!()
    }

    pub(crate) async fn list_sticker_rows(
        &self,
        query: &StickerQuery,
    ) -> Result<Vec<Sticker>, StoreError> {
        todo!()
    }

    pub(crate) async fn remove_sticker_row(
        &self,
        twin: TwinId,
        account: AccountId,
        color: &str,
        recipients: &[Uuid],
        now: Timestamp,
    ) -> Result<Sticker, StoreError> {
        todo!()
    }

    pub(crate) async fn remove_expired_sticker_rows(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Sticker>, StoreError> {
        todo!()
    }
}
