//! The core's [`Storage`] port over IndexedDB, for the sync engine. Each method is one
//! transaction; records are converted to their wire form here by [`crate::value`]
//! (Dates tagged; the sync path is not the hot path), while local writes from the app
//! go through [`super::write`].
//!
//! A key's [`KeyState`] is its row in `_idbsync_state` plus its record in the app's
//! table (`value`). A pending create/put is stored without its record — it is the
//! record — unless core ever makes them differ, in which case `pr` holds it.

use std::collections::BTreeMap;

use idb_sync_core::conflict::{ConflictLogEntry, DeadLetter, ManualConflict};
use idb_sync_core::outbox::{
    assign_in_flight, wire_size, BatchLimits, BatchSelector, ClientMeta, InFlightOp, KeyState,
    OpKind, PendingOp,
};
use idb_sync_core::ports::{Storage, StorageTx};
use idb_sync_core::protocol::{Change, MergeMode};
use idb_sync_core::{Op, Record, RecordId, SyncError as CoreError};
use js_sys::{Array, Object, Reflect};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::IdbTransactionMode;

use crate::error::SyncError;
use crate::events::Source;
use crate::idb::{self, thrown, Tx};
use crate::storage::keys::{from_record_key, to_record_key, KeyMode};
use crate::storage::layout::*;
use crate::storage::IdbStorage;
use crate::value;

fn core(e: SyncError) -> CoreError {
    match e {
        SyncError::Core(c) => c,
        other => CoreError::Storage(other.to_string()),
    }
}

pub(super) fn to_js<T: Serialize>(v: &T) -> Result<JsValue, SyncError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| SyncError::Storage(format!("encode: {e}")))
}

fn from_js<T: DeserializeOwned>(v: JsValue) -> Result<T, SyncError> {
    serde_wasm_bindgen::from_value(v).map_err(|e| SyncError::Storage(format!("decode: {e}")))
}

pub(super) fn opt_from_js<T: DeserializeOwned>(v: JsValue) -> Result<Option<T>, SyncError> {
    if v.is_undefined() || v.is_null() {
        Ok(None)
    } else {
        from_js(v).map(Some)
    }
}

pub(super) fn get(row: &JsValue, f: &JsValue) -> JsValue {
    if row.is_object() {
        Reflect::get(row, f).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// A key's state from its row and its app record.
fn decode(
    f: &Fields,
    id: &RecordId,
    row: &JsValue,
    record: JsValue,
) -> Result<KeyState, SyncError> {
    let value: Option<Record> = value::fields_from_js(&id.table, &record)?;
    let pending = match get(row, &f.pending_kind)
        .as_string()
        .and_then(|k| OpKind::parse(&k))
    {
        None => None,
        Some(kind) => {
            let stored: Option<Record> =
                value::fields_from_js(&id.table, &get(row, &f.pending_record))?;
            let record = || {
                stored.clone().or_else(|| value.clone()).ok_or_else(|| {
                    SyncError::Storage(format!("{id}: pending {} without a record", kind.as_str()))
                })
            };
            let op = match kind {
                OpKind::Create => Op::Create { record: record()? },
                OpKind::Put => Op::Put { record: record()? },
                OpKind::Update => Op::Update {
                    patch: value::fields_from_js(&id.table, &get(row, &f.pending_patch))?
                        .unwrap_or_default(),
                },
                OpKind::Delete => Op::Delete,
            };
            Some(PendingOp {
                op,
                hlc: hlc_from_js(&get(row, &f.pending_hlc)).unwrap_or_default(),
                queued: get(row, &f.pending_queued).as_f64().unwrap_or(0.0) as u64,
            })
        }
    };
    Ok(KeyState {
        value,
        version: get(row, &f.version).as_f64().unwrap_or(0.0) as u64,
        hlc: hlc_from_js(&get(row, &f.hlc)),
        pending,
        in_flight: opt_from_js::<InFlightOp>(get(row, &f.in_flight))?,
        conflict: opt_from_js::<ManualConflict>(get(row, &f.conflict))?,
        acked_unpulled: get(row, &f.acked).is_truthy(),
    })
}

/// [`decode`] for a sync transaction: a record that other code wrote past idb-sync's
/// checks with a value that cannot be encoded (a `Map`, ...) reads as absent when no
/// pending change needs it, so a pulled change for it is applied (the server's copy
/// replaces it; it is rewritten only if the sync changes it) instead of failing every
/// round (I9). A pending change is never dropped here: the next batch sets it aside
/// ([`super::set_aside`]).
fn decode_for_sync(
    f: &Fields,
    id: &RecordId,
    row: &JsValue,
    record: JsValue,
) -> Result<KeyState, SyncError> {
    match decode(f, id, row, record) {
        Err(SyncError::InvalidValue { .. }) if get(row, &f.pending_kind).is_undefined() => {
            decode(f, id, row, JsValue::UNDEFINED)
        }
        other => other,
    }
}

/// A key's row (`None` if nothing needs keeping).
pub(super) fn encode_row(f: &Fields, state: &KeyState) -> Result<Option<JsValue>, SyncError> {
    if state.pending.is_none()
        && state.in_flight.is_none()
        && state.conflict.is_none()
        && state.version == 0
        && !state.acked_unpulled
    {
        return Ok(None);
    }
    let row: JsValue = Object::new().into();
    let set = |k: &JsValue, v: &JsValue| {
        let _ = Reflect::set(&row, k, v);
    };
    if state.version > 0 {
        set(&f.version, &JsValue::from_f64(state.version as f64));
    }
    if let Some(h) = &state.hlc {
        set(&f.hlc, &hlc_to_js(h));
    }
    if let Some(p) = &state.pending {
        set(&f.pending_kind, &JsValue::from_str(p.op.kind()));
        set(&f.pending_queued, &JsValue::from_f64(p.queued as f64));
        set(&f.pending_hlc, &hlc_to_js(&p.hlc));
        match &p.op {
            // Pending data is kept as the app wrote it (Dates as Dates), like the records.
            Op::Create { record } | Op::Put { record } if Some(record) != state.value.as_ref() => {
                set(&f.pending_record, &value::record_to_js(record))
            }
            Op::Update { patch } => set(&f.pending_patch, &value::record_to_js(patch)),
            _ => {}
        }
    }
    if let Some(op) = &state.in_flight {
        set(&f.in_flight, &to_js(op)?);
        set(&f.in_flight_seq, &JsValue::from_f64(op.seq as f64));
    }
    if let Some(c) = &state.conflict {
        set(&f.conflict, &to_js(c)?);
        set(&f.conflict_flag, &JsValue::from_f64(1.0));
    }
    if state.acked_unpulled {
        set(&f.acked, &JsValue::TRUE);
    }
    Ok(Some(row))
}

fn out_of_line(mode: &KeyMode) -> bool {
    matches!(mode, KeyMode::OutOfLine | KeyMode::OutOfLineAuto)
}

fn record_id(state_key: &JsValue) -> Option<RecordId> {
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

    /// A read-write transaction over the sync state, the metadata, the dead letters, the
    /// kept changes and every app table (taking a batch and resetting the replica touch
    /// records of any table; taking a batch may set a change aside as a dead letter).
    fn begin_over_everything(&self) -> Result<Tx, SyncError> {
        let names: Vec<String> = [STATE, META, DEAD_LETTERS, DEFERRED]
            .iter()
            .map(|s| s.to_string())
            .chain(self.table_names())
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        Tx::begin(&self.db()?, &refs, IdbTransactionMode::Readwrite)
    }

    async fn read_meta_in(tx: &Tx) -> Result<ClientMeta, SyncError> {
        let meta = idb::request(
            tx.store(META)?
                .get(&META_KEY.into())
                .map_err(|e| thrown("get meta", e))?,
        )
        .await?;
        from_js(meta)
    }

    async fn transact_inner<R>(
        &self,
        keys: &[RecordId],
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
        let tx = Tx::begin(&self.db()?, &refs, IdbTransactionMode::Readwrite)?;
        let result = async {
            let fields = Fields::new();
            let state_store = tx.store(STATE)?;
            let mut reads = vec![tx
                .store(META)?
                .get(&META_KEY.into())
                .map_err(|e| thrown("get meta", e))?];
            for id in keys {
                let key = from_record_key(&id.key);
                reads.push(
                    state_store
                        .get(&state_key(&id.table.as_str().into(), &key))
                        .map_err(|e| thrown("get state", e))?,
                );
                reads.push(
                    tx.store(&id.table)?
                        .get(&key)
                        .map_err(|e| thrown("get record", e))?,
                );
            }
            let mut results = idb::all(&reads).await?.into_iter();
            let meta: ClientMeta = from_js(results.next().unwrap_or(JsValue::UNDEFINED))?;
            let mut before = BTreeMap::new();
            for id in keys {
                let row = results.next().unwrap_or(JsValue::UNDEFINED);
                let record = results.next().unwrap_or(JsValue::UNDEFINED);
                before.insert(id.clone(), decode_for_sync(&fields, id, &row, record)?);
            }
            let mut stx = StorageTx {
                meta: Some(meta),
                states: before.clone(),
                ..StorageTx::default()
            };
            let out = f(&mut stx).map_err(SyncError::Core)?;
            let mut changed = Vec::new();
            if let Some(meta) = &stx.meta {
                tx.store(META)?
                    .put_with_key(&to_js(meta)?, &META_KEY.into())
                    .map_err(|e| thrown("put meta", e))?;
            }
            for (id, state) in &stx.states {
                let key = from_record_key(&id.key);
                let app = tx.store(&id.table)?;
                let old_value = before.get(id).and_then(|s| s.value.as_ref());
                if old_value != state.value.as_ref() {
                    match &state.value {
                        // Out-of-line tables take the key beside the record: pulled
                        // records, rollbacks and conflict resolutions alike.
                        Some(v) if out_of_line(&self.table(&id.table)?.key_mode) => app
                            .put_with_key(&self.record_to_js(id, v)?, &key)
                            .map_err(|e| thrown("put record", e))?,
                        Some(v) => app
                            .put(&self.record_to_js(id, v)?)
                            .map_err(|e| thrown("put record", e))?,
                        None => app.delete(&key).map_err(|e| thrown("delete record", e))?,
                    };
                    changed.push(id.clone());
                }
                let skey = state_key(&id.table.as_str().into(), &key);
                match encode_row(&fields, state)? {
                    Some(row) => state_store
                        .put_with_key(&row, &skey)
                        .map_err(|e| thrown("put state", e))?,
                    None => state_store
                        .delete(&skey)
                        .map_err(|e| thrown("delete state", e))?,
                };
            }
            let conflicts = tx.store(CONFLICTS)?;
            for entry in &stx.conflict_log {
                conflicts
                    .add(&to_js(entry)?)
                    .map_err(|e| thrown("add conflict", e))?;
            }
            let dead = tx.store(DEAD_LETTERS)?;
            for letter in &stx.new_dead_letters {
                dead.put_with_key(&to_js(letter)?, &JsValue::from_f64(letter.id as f64))
                    .map_err(|e| thrown("put dead letter", e))?;
            }
            for id in &stx.removed_dead_letters {
                dead.delete(&JsValue::from_f64(*id as f64))
                    .map_err(|e| thrown("delete dead letter", e))?;
            }
            super::deferred::keep_and_drop(&tx, &stx.deferred, &stx.applied_deferred).await?;
            Ok((out, changed))
        }
        .await;
        tx.finish(result).await
    }

    /// Takes the next batch: the in-flight entries, or else new ones from the pending
    /// queue. A pending change whose stored data cannot be encoded is set aside as a
    /// dead letter ([`super::set_aside`]); its key is returned with the batch (its
    /// local record was removed).
    async fn take_batch_inner(
        &self,
        limits: &BatchLimits,
        mode: &dyn Fn(&str) -> MergeMode,
    ) -> Result<(Vec<InFlightOp>, Vec<RecordId>), SyncError> {
        let tx = self.begin_over_everything()?;
        let result = async {
            let fields = Fields::new();
            let state_store = tx.store(STATE)?;
            let inflight = state_store
                .index(INFLIGHT_INDEX)
                .map_err(|e| thrown("index", e))?;
            let rows = Array::from(
                &idb::request(inflight.get_all().map_err(|e| thrown("getAll", e))?).await?,
            );
            if rows.length() > 0 {
                let mut ops = rows
                    .iter()
                    .map(|r| from_js::<InFlightOp>(get(&r, &fields.in_flight)))
                    .collect::<Result<Vec<_>, _>>()?;
                ops.sort_by_key(|o| o.seq);
                return Ok((ops, Vec::new()));
            }
            if limits.max_count == 0 {
                return Ok((Vec::new(), Vec::new()));
            }
            let pending = state_store
                .index(PENDING_INDEX)
                .map_err(|e| thrown("index", e))?;
            let limit = limits.max_count.min(u32::MAX as usize) as u32;
            let reads = [
                pending
                    .get_all_with_key_and_limit(&JsValue::UNDEFINED, limit)
                    .map_err(|e| thrown("getAll", e))?,
                pending
                    .get_all_keys_with_key_and_limit(&JsValue::UNDEFINED, limit)
                    .map_err(|e| thrown("getAllKeys", e))?,
            ];
            let read = idb::all(&reads).await?;
            let (rows, skeys) = (Array::from(&read[0]), Array::from(&read[1]));
            let mut records = Vec::new();
            let mut ids = Vec::new();
            for skey in skeys.iter() {
                let id = record_id(&skey)
                    .ok_or_else(|| SyncError::Storage("malformed state key".into()))?;
                let store = tx.store(&id.table)?;
                records.push(
                    store
                        .get(&from_record_key(&id.key))
                        .map_err(|e| thrown("get record", e))?,
                );
                ids.push((id, skey));
            }
            let mut records = idb::all(&records).await?.into_iter();
            let mut meta = Self::read_meta_in(&tx).await?;
            let mut selector = BatchSelector::new(*limits);
            let mut batch = Vec::new();
            let mut set_aside = Vec::new();
            for ((id, skey), row) in ids.into_iter().zip(rows.iter()) {
                let record = records.next().unwrap_or(JsValue::UNDEFINED);
                let mut state = match decode(&fields, &id, &row, record.clone()) {
                    Ok(state) => state,
                    // Written past idb-sync's checks: one dead letter, not a stuck queue.
                    Err(SyncError::InvalidValue { .. }) => {
                        let now = js_sys::Date::now() as u64;
                        super::set_aside::set_aside(
                            &tx, &fields, &id, &skey, &row, &record, &mut meta, now,
                        )?;
                        set_aside.push(id);
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                let Some(p) = &state.pending else { continue };
                if !selector.offer(wire_size(&id, &p.op)) {
                    break;
                }
                if let Some(entry) = assign_in_flight(&id, &mut state, &mut meta, mode(&id.table)) {
                    batch.push(entry);
                    match encode_row(&fields, &state)? {
                        Some(row) => state_store
                            .put_with_key(&row, &skey)
                            .map_err(|e| thrown("put state", e))?,
                        None => state_store
                            .delete(&skey)
                            .map_err(|e| thrown("delete state", e))?,
                    };
                }
            }
            tx.store(META)?
                .put_with_key(&to_js(&meta)?, &META_KEY.into())
                .map_err(|e| thrown("put meta", e))?;
            Ok((batch, set_aside))
        }
        .await;
        tx.finish(result).await
    }

    /// Drops every record without local changes and the cursor; returns the removed
    /// records' ids.
    async fn reset_inner(&self) -> Result<Vec<RecordId>, SyncError> {
        let tx = self.begin_over_everything()?;
        let result = async {
            let mut removed = Vec::new();
            let fields = Fields::new();
            let state_store = tx.store(STATE)?;
            let reads = [
                state_store.get_all().map_err(|e| thrown("getAll", e))?,
                state_store
                    .get_all_keys()
                    .map_err(|e| thrown("getAllKeys", e))?,
            ];
            let read = idb::all(&reads).await?;
            for (row, skey) in Array::from(&read[0])
                .iter()
                .zip(Array::from(&read[1]).iter())
            {
                let keep = !get(&row, &fields.pending_kind).is_undefined()
                    || !get(&row, &fields.in_flight).is_undefined()
                    || !get(&row, &fields.conflict).is_undefined();
                if keep {
                    continue;
                }
                state_store
                    .delete(&skey)
                    .map_err(|e| thrown("delete state", e))?;
                if let Some(id) = record_id(&skey) {
                    if self.table(&id.table).is_ok() {
                        tx.store(&id.table)?
                            .delete(&from_record_key(&id.key))
                            .map_err(|e| thrown("delete record", e))?;
                        removed.push(id);
                    }
                }
            }
            // The full pull that follows brings kept changes again (or they are gone).
            tx.store(DEFERRED)?
                .clear()
                .map_err(|e| thrown("clear", e))?;
            let mut meta = Self::read_meta_in(&tx).await?;
            meta.cursor = None;
            tx.store(META)?
                .put_with_key(&to_js(&meta)?, &META_KEY.into())
                .map_err(|e| thrown("put meta", e))?;
            Ok(removed)
        }
        .await;
        tx.finish(result).await
    }

    /// Wipes the synced tables, the sync state, the dead letters and the kept changes,
    /// and forgets the cursor and account, in one transaction (an account change,
    /// "clear"). Returns the ids of the records removed, for the change events.
    async fn clear_synced_inner(&self) -> Result<Vec<RecordId>, SyncError> {
        let names: Vec<String> = [STATE, META, DEAD_LETTERS, DEFERRED]
            .iter()
            .map(|s| s.to_string())
            .chain(self.table_names())
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let tx = Tx::begin(&self.db()?, &refs, IdbTransactionMode::Readwrite)?;
        let result = async {
            let tables = self.table_names();
            let mut reads = Vec::new();
            for table in &tables {
                reads.push(
                    tx.store(table)?
                        .get_all_keys()
                        .map_err(|e| thrown("getAllKeys", e))?,
                );
            }
            let keys = idb::all(&reads).await?;
            let mut removed = Vec::new();
            for (table, keys) in tables.iter().zip(keys) {
                removed.extend(Array::from(&keys).iter().filter_map(|k| {
                    Some(RecordId {
                        table: table.clone(),
                        key: to_record_key(&k)?,
                    })
                }));
            }
            for name in refs.iter().filter(|n| **n != META) {
                tx.store(name)?.clear().map_err(|e| thrown("clear", e))?;
            }
            let mut meta = Self::read_meta_in(&tx).await?;
            meta.cursor = None;
            meta.account = None;
            tx.store(META)?
                .put_with_key(&to_js(&meta)?, &META_KEY.into())
                .map_err(|e| thrown("put meta", e))?;
            Ok(removed)
        }
        .await;
        tx.finish(result).await
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
        self.read_only(&[store], async |tx| {
            let all = idb::request(
                tx.store(store)?
                    .get_all()
                    .map_err(|e| thrown("getAll", e))?,
            )
            .await?;
            Array::from(&all).iter().map(from_js).collect()
        })
        .await
    }

    async fn read_only<R>(
        &self,
        stores: &[&str],
        body: impl AsyncFnOnce(&Tx) -> Result<R, SyncError>,
    ) -> Result<R, SyncError> {
        let tx = Tx::begin(&self.db()?, stores, IdbTransactionMode::Readonly)?;
        let result = body(&tx).await;
        tx.finish(result).await
    }
}

impl Storage for IdbStorage {
    async fn read_meta(&self) -> Result<ClientMeta, CoreError> {
        self.read_only(&[META], async |tx| Self::read_meta_in(tx).await)
            .await
            .map_err(core)
    }

    async fn read_state(&self, id: &RecordId) -> Result<KeyState, CoreError> {
        self.table(&id.table).map_err(core)?;
        self.read_only(&[STATE, id.table.as_str()], async |tx| {
            let key = from_record_key(&id.key);
            let reads = [
                tx.store(STATE)?
                    .get(&state_key(&id.table.as_str().into(), &key))
                    .map_err(|e| thrown("get state", e))?,
                tx.store(&id.table)?
                    .get(&key)
                    .map_err(|e| thrown("get record", e))?,
            ];
            let mut read = idb::all(&reads).await?.into_iter();
            let row = read.next().unwrap_or(JsValue::UNDEFINED);
            decode(
                &Fields::new(),
                id,
                &row,
                read.next().unwrap_or(JsValue::UNDEFINED),
            )
        })
        .await
        .map_err(core)
    }

    async fn transact<R>(
        &self,
        keys: &[RecordId],
        f: impl FnOnce(&mut StorageTx) -> Result<R, CoreError>,
    ) -> Result<R, CoreError> {
        let (out, changed) = self.transact_inner(keys, f).await.map_err(core)?;
        self.emit_changed(&changed);
        Ok(out)
    }

    async fn take_batch(
        &self,
        limits: &BatchLimits,
        mode: &dyn Fn(&str) -> MergeMode,
    ) -> Result<Vec<InFlightOp>, CoreError> {
        let (batch, removed) = self.take_batch_inner(limits, mode).await.map_err(core)?;
        self.emit_changed(&removed);
        Ok(batch)
    }

    async fn reset_replica(&self) -> Result<(), CoreError> {
        let removed = self.reset_inner().await.map_err(core)?;
        self.emit_changed(&removed);
        Ok(())
    }

    async fn conflict_keys(&self) -> Result<Vec<RecordId>, CoreError> {
        self.read_only(&[STATE], async |tx| {
            let index = tx
                .store(STATE)?
                .index(CONFLICT_INDEX)
                .map_err(|e| thrown("index", e))?;
            let keys =
                idb::request(index.get_all_keys().map_err(|e| thrown("getAllKeys", e))?).await?;
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
        self.read_only(&[STATE], async |tx| {
            let store = tx.store(STATE)?;
            let reads = [
                store
                    .index(PENDING_INDEX)
                    .map_err(|e| thrown("index", e))?
                    .count()
                    .map_err(|e| thrown("count", e))?,
                store
                    .index(INFLIGHT_INDEX)
                    .map_err(|e| thrown("index", e))?
                    .count()
                    .map_err(|e| thrown("count", e))?,
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
        self.read_only(&[STATE], async |tx| {
            let keys = idb::request(
                tx.store(STATE)?
                    .get_all_keys()
                    .map_err(|e| thrown("getAllKeys", e))?,
            )
            .await?;
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
