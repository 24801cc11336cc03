//! Reading the outbox for the app (`pendingChanges()`, `exportPendingChanges()`): the
//! in-flight and pending entries from the state store's `inflight` and `pending`
//! indexes, in one read-only transaction; an export also reads each pending change's
//! data (the app's record for a create or put that stores no copy). What an entry
//! says is core's (`idb_sync_core::outbox::entry`).

use idb_sync_core::outbox::entry::PendingFacts;
use idb_sync_core::outbox::InFlightOp;
use idb_sync_core::RecordId;
use js_sys::Array;

use super::keys::from_record_key;
use super::layout::{Fields, INFLIGHT_INDEX, PENDING_INDEX, STATE};
use super::port::record_id;
use super::row::StateRow;
use super::IdbStorage;
use crate::error::{OrStorage, SyncError};
use crate::idb;

/// The outbox's entries as stored: in flight, and pending with their key.
pub(crate) type OutboxRows = (Vec<InFlightOp>, Vec<(RecordId, PendingFacts)>);

impl IdbStorage {
    /// Reads every outbox entry; with `export`, each pending change's data too.
    pub(crate) async fn outbox_rows(&self, export: bool) -> Result<OutboxRows, SyncError> {
        let mut stores = vec![STATE.to_owned()];
        if export {
            stores.extend(self.table_names());
        }
        idb::read_only(&self.db()?, &stores, async |tx| {
            let fields = Fields::new();
            let state = tx.store(STATE)?;
            let mut reads = Vec::new();
            for name in [INFLIGHT_INDEX, PENDING_INDEX] {
                let index = state.index(name).or_storage("index")?;
                reads.push(index.get_all().or_storage("getAll")?);
                reads.push(index.get_all_keys().or_storage("getAllKeys")?);
            }
            let read = idb::all(&reads).await?;
            let mut in_flight = Vec::new();
            let mut pending = Vec::new();
            for i in [0, 2] {
                let keys = Array::from(&read[i + 1]);
                for (j, row) in Array::from(&read[i]).iter().enumerate() {
                    let id = record_id(&keys.get(j as u32))
                        .ok_or_else(|| SyncError::Storage("malformed state key".into()))?;
                    let row = StateRow::decode(&fields, &id, &row)?;
                    if i == 2 {
                        pending.push((id, row));
                    } else if let Some(f) = row.in_flight {
                        in_flight.push(f);
                    }
                }
            }
            let mut gets = Vec::new();
            for (id, _) in pending.iter().filter(|_| export) {
                let store = tx.store(&id.table)?;
                gets.push(
                    store
                        .get(&from_record_key(&id.key))
                        .or_storage("get record")?,
                );
            }
            let records = idb::all(&gets).await?;
            let mut out = Vec::with_capacity(pending.len());
            for (i, (id, row)) in pending.into_iter().enumerate() {
                let Some(p) = &row.pending else { continue };
                // A change whose data cannot be read is exported without it (the next
                // batch sets such a row aside: `super::set_aside`).
                let change = records
                    .get(i)
                    .and_then(|record| row.to_key_state(&id, record).ok())
                    .and_then(|s| s.pending.map(|p| p.op));
                let facts = PendingFacts {
                    kind: p.kind,
                    queued: p.queued,
                    since_ms: p.since,
                    hlc_ms: p.hlc.millis,
                    change,
                };
                out.push((id, facts));
            }
            Ok((in_flight, out))
        })
        .await
    }
}
