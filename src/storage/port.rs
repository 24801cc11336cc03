//! The core's [`Storage`] port over IndexedDB, for the sync engine. Each method is one
//! transaction; records are converted to their wire form here by [`crate::value`]
//! (Dates tagged; the sync path is not the hot path), while local writes from the app
//! go through [`super::write`].
//!
//! A key's [`KeyState`] is its row in `_idbsync_state` (read and written by
//! [`StateRow`]) plus its record in the app's table (`value`). A pending create/put is
//! stored without its record — it is the record — unless core ever makes them differ,
//! in which case `pr` holds it. The operations over every store (taking a batch,
//! resetting, clearing) are in [`super::sweep`].

use std::collections::BTreeMap;

use idb_sync_core::conflict::{ConflictLogEntry, DeadLetter};
use idb_sync_core::outbox::{BatchLimits, ClientMeta, InFlightOp, KeyState};
use idb_sync_core::ports::{Storage, StorageTx};
use idb_sync_core::protocol::{Change, MergeMode, MutationResult};
use idb_sync_core::{Record, RecordId, SyncError as CoreError};
use js_sys::{Array, Reflect};
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};

use crate::error::{OrStorage, SyncError};
use crate::events::Source;
use crate::idb::{self, Tx};
use crate::interop;
use crate::storage::keys::{from_record_key, to_record_key, KeyMode};
use crate::storage::layout::*;
use crate::storage::load::{decode_for_sync, read_records, Loaded};
use crate::storage::row::StateRow;
use crate::storage::IdbStorage;
use crate::value;

fn core(e: SyncError) -> CoreError {
    match e {
        SyncError::Core(c) => c,
        // A full disk stays `quota_exceeded` in the round's error (and the status).
        SyncError::Browser { ref exception, .. } => {
            CoreError::storage_failure(&exception.name(), e.to_string())
        }
        other => CoreError::Storage(other.to_string()),
    }
}

/// A key's row as stored (`None`: nothing to keep, delete it).
pub(super) fn encode_row(f: &Fields, state: &KeyState) -> Result<Option<JsValue>, SyncError> {
    StateRow::of_key_state(state).encode(f)
}

/// Keys written between two returns to the event loop in a sync transaction: a page
/// of pulled records is written in chunks, so no main-thread task we cause exceeds
/// 50 ms (docs/STORAGE.md, "IndexedDB work per record": 10 measured best of 50, 20,
/// 10 and 5 on the 100,000-record pull).
const WRITE_CHUNK: usize = 10;

fn out_of_line(mode: &KeyMode) -> bool {
    matches!(mode, KeyMode::OutOfLine | KeyMode::OutOfLineAuto)
}

/// The record id of a `[table, key]` state key (`None` if malformed).
pub(super) fn record_id(state_key: &JsValue) -> Option<RecordId> {
    let arr = state_key.dyn_ref::<Array>()?;
    Some(RecordId {
        table: arr.get(0).as_string()?,
        key: to_record_key(&arr.get(1))?,
    })
}

impl IdbStorage {
    fn record_to_js(&self, id: &RecordId, record: &Record) -> Result<JsValue, SyncError> {
        let js = value::record_to_js(record);
        if let Some(field) = self.table(&id.table)?.key_mode.inline_field() {
            let _ = Reflect::set(&js, field, &from_record_key(&id.key));
        }
        Ok(js)
    }

    /// The client metadata, read in `tx`.
    pub(super) async fn read_meta_in(tx: &Tx) -> Result<ClientMeta, SyncError> {
        let meta = idb::request(
            tx.store(META)?
                .get(&META_KEY.into())
                .or_storage("get meta")?,
        )
        .await?;
        super::codec::meta_from_js(&meta)
    }

    /// Writes the client metadata in `tx` (the one place it is encoded and put).
    pub(super) fn write_meta_in(tx: &Tx, meta: &ClientMeta) -> Result<(), SyncError> {
        tx.store(META)?
            .put_with_key(&super::codec::meta_to_js(meta), &META_KEY.into())
            .or_storage("put meta")?;
        Ok(())
    }

    async fn transact_inner<R>(
        &self,
        keys: &[RecordId],
        lazy: bool,
        f: impl FnOnce(&mut StorageTx) -> Result<R, CoreError>,
    ) -> Result<(R, Vec<RecordId>), SyncError> {
        for id in keys {
            self.table(&id.table)?;
        }
        let mut names: Vec<String> = [META, STATE, CONFLICTS, DEAD_LETTERS, DEFERRED]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for id in keys {
            if !names.contains(&id.table) {
                names.push(id.table.clone());
            }
        }
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        idb::read_write(&self.db()?, &refs, async |tx| {
            let loaded = self.load(tx, keys, lazy).await?;
            let mut stx = StorageTx {
                meta: Some(loaded.meta.clone()),
                states: loaded.states.clone(),
                unloaded: loaded.unloaded.clone(),
                ..StorageTx::default()
            };
            let out = f(&mut stx).map_err(SyncError::Core)?;
            let changed = self.write_back(tx, loaded, &stx).await?;
            Ok((out, changed))
        })
        .await
    }

    /// Writes in `tx` what a sync transaction's closure left in `stx` and differs
    /// from what was `loaded`, and returns the keys whose records changed. Not
    /// generic, so the code exists once, not once per `transact` call site.
    async fn write_back(
        &self,
        tx: &Tx,
        loaded: Loaded,
        stx: &StorageTx,
    ) -> Result<Vec<RecordId>, SyncError> {
        let fields = Fields::new();
        let state_store = tx.store(STATE)?;
        let Loaded {
            meta,
            states: mut before,
            unloaded: unknown,
        } = loaded;
        // A pulled tombstone of a record that was not loaded: read it now, so
        // only a record that is there is deleted and announced.
        let gone: Vec<&RecordId> = unknown
            .iter()
            .filter(|id| !stx.unloaded.contains(*id))
            .filter(|id| stx.states.get(*id).is_some_and(|s| s.value.is_none()))
            .collect();
        for (id, record) in gone.iter().zip(read_records(tx, &gone).await?) {
            let old = decode_for_sync(&fields, id, &JsValue::UNDEFINED, record)?;
            before.insert((*id).clone(), old);
        }
        let mut changed = Vec::new();
        if stx.meta.as_ref() != Some(&meta) {
            if let Some(meta) = &stx.meta {
                Self::write_meta_in(tx, meta)?;
            }
        }
        let (mut issued, mut last) = (0, None);
        for (id, state) in &stx.states {
            if issued >= WRITE_CHUNK {
                // Let the event loop run until the chunk's last write is done (the
                // transaction stays active): no one long task for a whole page.
                if let Some(request) = last.take() {
                    idb::request(request).await?;
                }
                issued = 0;
            }
            issued += 1;
            let key = from_record_key(&id.key);
            let app = tx.store(&id.table)?;
            let kept = stx.unloaded.contains(id);
            if kept && state.value.is_some() {
                return Err(SyncError::Storage(format!("{id}: unloaded record set")));
            }
            let old_value = before.get(id).and_then(|s| s.value.as_ref());
            let replaced = unknown.contains(id) && state.value.is_some();
            if !kept && (replaced || old_value != state.value.as_ref()) {
                last = Some(match &state.value {
                    // Out-of-line tables take the key beside the record: pulled
                    // records, rollbacks and conflict resolutions alike.
                    Some(v) if out_of_line(&self.table(&id.table)?.key_mode) => app
                        .put_with_key(&self.record_to_js(id, v)?, &key)
                        .or_storage("put record")?,
                    Some(v) => app
                        .put(&self.record_to_js(id, v)?)
                        .or_storage("put record")?,
                    None => app.delete(&key).or_storage("delete record")?,
                });
                changed.push(id.clone());
            }
            if before.get(id) == Some(state) && !replaced {
                continue; // the row did not change
            }
            let skey = state_key(&id.table.as_str().into(), &key);
            last = Some(match encode_row(&fields, state)? {
                Some(row) => state_store
                    .put_with_key(&row, &skey)
                    .or_storage("put state")?,
                None => state_store.delete(&skey).or_storage("delete state")?,
            });
        }
        let conflicts = tx.store(CONFLICTS)?;
        for entry in &stx.conflict_log {
            conflicts
                .add(&interop::encode("conflict log entry", entry)?)
                .or_storage("add conflict")?;
        }
        let dead = tx.store(DEAD_LETTERS)?;
        for letter in &stx.new_dead_letters {
            dead.put_with_key(
                &interop::encode("dead letter", letter)?,
                &JsValue::from_f64(letter.id as f64),
            )
            .or_storage("put dead letter")?;
        }
        for id in &stx.removed_dead_letters {
            dead.delete(&JsValue::from_f64(*id as f64))
                .or_storage("delete dead letter")?;
        }
        super::deferred::keep_and_drop(tx, &stx.deferred, &stx.applied_deferred).await?;
        Ok(changed)
    }

    /// Announces (source `remote`, in this tab and others) that the records of `ids`
    /// changed or went away, once committed.
    fn emit_changed(&self, ids: &[RecordId]) {
        let mut by_table: BTreeMap<&str, Vec<JsValue>> = BTreeMap::new();
        for id in ids {
            by_table
                .entry(id.table.as_str())
                .or_default()
                .push(from_record_key(&id.key));
        }
        for (table, keys) in by_table {
            self.events().emit(table, &keys, Source::Remote);
        }
    }

    /// Every entry of one of our stores, in key order.
    async fn read_all<T: DeserializeOwned>(&self, store: &str) -> Result<Vec<T>, SyncError> {
        idb::read_only(&self.db()?, &[store], async |tx| {
            let all = idb::request(tx.store(store)?.get_all().or_storage("getAll")?).await?;
            Array::from(&all)
                .iter()
                .map(|v| interop::decode(store, v))
                .collect()
        })
        .await
    }
}

impl Storage for IdbStorage {
    async fn read_meta(&self) -> Result<ClientMeta, CoreError> {
        idb::read_only(&self.db().map_err(core)?, &[META], async |tx| {
            Self::read_meta_in(tx).await
        })
        .await
        .map_err(core)
    }

    async fn read_state(&self, id: &RecordId) -> Result<KeyState, CoreError> {
        self.table(&id.table).map_err(core)?;
        idb::read_only(
            &self.db().map_err(core)?,
            &[STATE, id.table.as_str()],
            async |tx| {
                let key = from_record_key(&id.key);
                let reads = [
                    tx.store(STATE)?
                        .get(&state_key(&id.table.as_str().into(), &key))
                        .or_storage("get state")?,
                    tx.store(&id.table)?.get(&key).or_storage("get record")?,
                ];
                let mut read = idb::all(&reads).await?.into_iter();
                let row = read.next().unwrap_or(JsValue::UNDEFINED);
                let record = read.next().unwrap_or(JsValue::UNDEFINED);
                StateRow::decode(&Fields::new(), id, &row)?.to_key_state(id, &record)
            },
        )
        .await
        .map_err(core)
    }

    async fn transact<R>(
        &self,
        keys: &[RecordId],
        f: impl FnOnce(&mut StorageTx) -> Result<R, CoreError>,
    ) -> Result<R, CoreError> {
        let (out, changed) = self.transact_inner(keys, false, f).await.map_err(core)?;
        self.emit_changed(&changed);
        Ok(out)
    }

    async fn transact_pulled<R>(
        &self,
        keys: &[RecordId],
        f: impl FnOnce(&mut StorageTx) -> Result<R, CoreError>,
    ) -> Result<R, CoreError> {
        let (out, changed) = self.transact_inner(keys, true, f).await.map_err(core)?;
        self.emit_changed(&changed);
        Ok(out)
    }

    async fn acknowledge(
        &self,
        _ops: &[InFlightOp],
        results: &[MutationResult],
        prepare: impl FnOnce(&mut ClientMeta) -> Result<(), CoreError>,
    ) -> Result<(), CoreError> {
        self.acknowledge_inner(results, prepare).await.map_err(core)
    }

    async fn take_batch(
        &self,
        limits: &BatchLimits,
        mode: &dyn Fn(&str) -> MergeMode,
    ) -> Result<Vec<InFlightOp>, CoreError> {
        let (batch, removed, _) = self
            .take_batch_inner(limits, mode, false)
            .await
            .map_err(core)?;
        self.emit_changed(&removed);
        Ok(batch)
    }

    async fn peek_batch(
        &self,
        limits: &BatchLimits,
        mode: &dyn Fn(&str) -> MergeMode,
    ) -> Result<(Vec<InFlightOp>, ClientMeta), CoreError> {
        let (batch, _, meta) = self
            .take_batch_inner(limits, mode, true)
            .await
            .map_err(core)?;
        Ok((batch, meta))
    }

    async fn reset_replica(&self) -> Result<(), CoreError> {
        let removed = self.reset_inner().await.map_err(core)?;
        self.emit_changed(&removed);
        Ok(())
    }

    async fn conflict_keys(&self) -> Result<Vec<RecordId>, CoreError> {
        idb::read_only(&self.db().map_err(core)?, &[STATE], async |tx| {
            let index = tx.store(STATE)?.index(CONFLICT_INDEX).or_storage("index")?;
            let keys = idb::request(index.get_all_keys().or_storage("getAllKeys")?).await?;
            Ok(Array::from(&keys)
                .iter()
                .filter_map(|k| record_id(&k))
                .collect())
        })
        .await
        .map_err(core)
    }

    async fn conflict_log(&self) -> Result<Vec<ConflictLogEntry>, CoreError> {
        self.read_all(CONFLICTS).await.map_err(core)
    }

    async fn dead_letters(&self) -> Result<Vec<DeadLetter>, CoreError> {
        self.read_all(DEAD_LETTERS).await.map_err(core)
    }

    async fn outbox_len(&self) -> Result<usize, CoreError> {
        idb::read_only(&self.db().map_err(core)?, &[STATE], async |tx| {
            let store = tx.store(STATE)?;
            let reads = [
                store
                    .index(PENDING_INDEX)
                    .or_storage("index")?
                    .count()
                    .or_storage("count")?,
                store
                    .index(INFLIGHT_INDEX)
                    .or_storage("index")?
                    .count()
                    .or_storage("count")?,
            ];
            let counts = idb::all(&reads).await?;
            Ok(counts
                .iter()
                .map(|c| c.as_f64().unwrap_or(0.0) as usize)
                .sum())
        })
        .await
        .map_err(core)
    }

    async fn local_keys(&self) -> Result<Vec<RecordId>, CoreError> {
        idb::read_only(&self.db().map_err(core)?, &[STATE], async |tx| {
            let keys =
                idb::request(tx.store(STATE)?.get_all_keys().or_storage("getAllKeys")?).await?;
            Ok(Array::from(&keys)
                .iter()
                .filter_map(|k| record_id(&k))
                .filter(|id| self.table(&id.table).is_ok())
                .collect())
        })
        .await
        .map_err(core)
    }

    async fn clear_synced_data(&self) -> Result<(), CoreError> {
        let removed = self.clear_synced_inner().await.map_err(core)?;
        self.emit_changed(&removed);
        Ok(())
    }

    fn declares_table(&self, table: &str) -> bool {
        self.table(table).is_ok()
    }

    async fn deferred_changes(&self) -> Result<Vec<Change>, CoreError> {
        self.declared_deferred().await.map_err(core)
    }
}
