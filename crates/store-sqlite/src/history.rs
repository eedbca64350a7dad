//! Entry history: one row per recorded value change, with an expiry time for pruning.

use std::collections::BTreeMap;

use steward_domain::{AccountId, HistoryRecord, Timestamp, TwinId};
use steward_store::{HistoryQuery, StoreError};

use crate::SqliteStore;

#[allow(clippy::unused_async, unused_variables)]
impl SqliteStore {
    pub(crate) async fn get_history_rows(
        &self,
        twin: TwinId,
        account: AccountId,
        query: &HistoryQuery,
    ) -> Result<BTreeMap<String, Vec<HistoryRecord>>, StoreError> {
        todo!()
    }

    pub(crate) async fn prune_history_rows(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<u64, StoreError> {
        todo!()
    }
}
