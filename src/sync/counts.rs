//! The outbox and conflict counts shown in the sync status, read in one read-only
//! IndexedDB transaction from the storage layer's indexes (`pending`, `inflight`,
//! `conflict`) and its dead-letter store.

use idb_sync_core::sync_loop::OutboxCounts;
use wasm_bindgen::JsValue;
use web_sys::IdbTransactionMode;

use crate::error::SyncError;
use crate::idb::{self, thrown, Tx};
use crate::storage::layout::{CONFLICT_INDEX, DEAD_LETTERS, INFLIGHT_INDEX, PENDING_INDEX, STATE};
use crate::storage::IdbStorage;

/// Reads the counts.
pub(crate) async fn read(storage: &IdbStorage) -> Result<OutboxCounts, SyncError> {
    let tx = Tx::begin(
        &storage.db()?,
        &[STATE, DEAD_LETTERS],
        IdbTransactionMode::Readonly,
    )?;
    let result = async {
        let state = tx.store(STATE)?;
        let count = |index: &str| -> Result<web_sys::IdbRequest, SyncError> {
            state
                .index(index)
                .map_err(|e| thrown("index", e))?
                .count()
                .map_err(|e| thrown("count", e))
        };
        let requests = [
            count(PENDING_INDEX)?,
            count(INFLIGHT_INDEX)?,
            count(CONFLICT_INDEX)?,
            tx.store(DEAD_LETTERS)?
                .count()
                .map_err(|e| thrown("count", e))?,
        ];
        let n = idb::all(&requests).await?;
        let at = |i: usize| n.get(i).and_then(JsValue::as_f64).unwrap_or(0.0) as usize;
        Ok(OutboxCounts {
            pending: at(0),
            in_flight: at(1),
            conflicts: at(2),
            dead_letters: at(3),
        })
    }
    .await;
    tx.finish(result).await
}
