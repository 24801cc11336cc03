//! The kept (deferred) pulled changes of tables this database's schema does not
//! declare (docs/STORAGE.md, "Layout"): an app's v2 adds a table while a v1 tab still syncs.
//! The core decides what is kept and when it is applied (`idb_sync_core::engine`'s
//! `split_by_declared`, `later_change`); this module only stores them in
//! [`DEFERRED`], one row per `[table, key]` holding the change as pulled (its wire
//! form), the latest version per key.
//!
//! [`keep`] and [`drop_applied`] run inside the port's `transact` transaction, so a
//! pulled page, its cursor and the changes it defers commit together (I4).

use std::collections::BTreeMap;

use idb_sync_core::engine::later_change;
use idb_sync_core::protocol::Change;
use idb_sync_core::RecordId;
use js_sys::Array;
use wasm_bindgen::JsValue;

use crate::error::{OrStorage, SyncError};
use crate::idb::{self, Tx};
use crate::interop;
use crate::storage::keys::from_record_key;
use crate::storage::layout::{state_key, DEFERRED};
use crate::storage::IdbStorage;

fn row_key(table: &str, key: &idb_sync_core::RecordKey) -> JsValue {
    state_key(&table.into(), &from_record_key(key))
}

fn decode(row: JsValue) -> Result<Option<Change>, SyncError> {
    interop::decode_opt("kept change", row)
}

/// In `tx` (which spans [`DEFERRED`]): deletes the kept changes now applied, then
/// keeps `changes`, the latest version per key (of those given and those stored).
pub(crate) async fn keep_and_drop(
    tx: &Tx,
    changes: &[Change],
    applied: &[RecordId],
) -> Result<(), SyncError> {
    if changes.is_empty() && applied.is_empty() {
        return Ok(());
    }
    let store = tx.store(DEFERRED)?;
    for id in applied {
        store
            .delete(&row_key(&id.table, &id.key))
            .or_storage("delete kept change")?;
    }
    let mut latest: BTreeMap<RecordId, Change> = BTreeMap::new();
    for change in changes {
        let id = change.record_id();
        let kept = latest.remove(&id);
        latest.insert(id, later_change(kept, change.clone()));
    }
    if latest.is_empty() {
        return Ok(());
    }
    let reads = latest
        .keys()
        .map(|id| {
            store
                .get(&row_key(&id.table, &id.key))
                .or_storage("get kept change")
        })
        .collect::<Result<Vec<_>, _>>()?;
    let stored = idb::all(&reads).await?;
    for ((id, incoming), row) in latest.into_iter().zip(stored) {
        let kept = decode(row)?;
        let kept_version = kept.as_ref().map(|k| k.version);
        let winner = later_change(kept, incoming);
        if Some(winner.version) == kept_version {
            continue; // what is stored is as new
        }
        store
            .put_with_key(
                &interop::encode("kept change", &winner)?,
                &row_key(&id.table, &id.key),
            )
            .or_storage("put kept change")?;
    }
    Ok(())
}

impl IdbStorage {
    /// The kept changes whose table this database declares, in version order.
    pub(crate) async fn declared_deferred(&self) -> Result<Vec<Change>, SyncError> {
        idb::read_only(&self.db()?, &[DEFERRED], async |tx| {
            let all = idb::request(tx.store(DEFERRED)?.get_all().or_storage("getAll")?).await?;
            let mut out = Vec::new();
            for row in Array::from(&all).iter() {
                if let Some(change) = decode(row)? {
                    if self.table(&change.table).is_ok() {
                        out.push(change);
                    }
                }
            }
            out.sort_by_key(|c| c.version);
            Ok(out)
        })
        .await
    }
}
