//! The outbox and conflict counts shown in the sync status, read in one read-only
//! IndexedDB transaction from the storage layer's indexes (`pending`, `inflight`,
//! `conflict`) and its dead-letter store — with the database's client id, which a
//! round may renew (`client_id_reused`, I11), so that `clientId` never goes stale.

use idb_sync_core::sync_loop::OutboxCounts;
use wasm_bindgen::JsValue;

use crate::error::{OrStorage, SyncError};
use crate::idb;
use crate::storage::layout::{
    CONFLICT_INDEX, DEAD_LETTERS, INFLIGHT_INDEX, META, META_KEY, PENDING_INDEX, STATE,
};
use crate::storage::IdbStorage;

/// The counts and the client id, read together.
pub(crate) struct Snapshot {
    /// The outbox, conflict and dead-letter counts.
    pub(crate) counts: OutboxCounts,
    /// The database's client id now (`None` if the metadata could not be read).
    pub(crate) client_id: Option<String>,
}

/// Reads the counts and the client id.
pub(crate) async fn read(storage: &IdbStorage) -> Result<Snapshot, SyncError> {
    idb::read_only(&storage.db()?, &[STATE, DEAD_LETTERS, META], async |tx| {
        let state = tx.store(STATE)?;
        let count = |index: &str| -> Result<web_sys::IdbRequest, SyncError> {
            state
                .index(index)
                .or_storage("index")?
                .count()
                .or_storage("count")
        };
        let requests = [
            count(PENDING_INDEX)?,
            count(INFLIGHT_INDEX)?,
            count(CONFLICT_INDEX)?,
            tx.store(DEAD_LETTERS)?.count().or_storage("count")?,
            tx.store(META)?
                .get(&META_KEY.into())
                .or_storage("get meta")?,
        ];
        let n = idb::all(&requests).await?;
        let at = |i: usize| n.get(i).and_then(JsValue::as_f64).unwrap_or(0.0) as usize;
        let meta = n.get(4).cloned().unwrap_or(JsValue::UNDEFINED);
        let client_id = crate::storage::codec::meta_from_js(&meta)
            .ok()
            .map(|m| m.client_id);
        Ok(Snapshot {
            counts: OutboxCounts {
                pending: at(0),
                in_flight: at(1),
                conflicts: at(2),
                dead_letters: at(3),
            },
            client_id,
        })
    })
    .await
}
