//! The port's operations over every store of the database: taking the next batch
//! (setting aside what cannot be encoded), resetting the replica, and clearing the
//! synced data on an account change. Each is one read-write transaction.

use idb_sync_core::outbox::{
    assign_in_flight, wire_size, BatchLimits, BatchSelector, ClientMeta, InFlightOp,
};
use idb_sync_core::protocol::MergeMode;
use idb_sync_core::RecordId;
use js_sys::Array;
use wasm_bindgen::JsValue;

use super::port::{encode_row, record_id};
use crate::error::{OrStorage, SyncError};
use crate::idb;
use crate::storage::codec;
use crate::storage::keys::{from_record_key, to_record_key};
use crate::storage::layout::*;
use crate::storage::row::StateRow;
use crate::storage::IdbStorage;

impl IdbStorage {
    /// The stores a sync-wide transaction spans: the sync state, the metadata, the
    /// dead letters, the kept changes and every app table (taking a batch and
    /// resetting the replica touch records of any table; taking a batch may set a
    /// change aside as a dead letter).
    fn sync_stores(&self) -> Vec<String> {
        [STATE, META, DEAD_LETTERS, DEFERRED]
            .iter()
            .map(|s| s.to_string())
            .chain(self.table_names())
            .collect()
    }

    /// Takes the next batch: the in-flight entries, or else new ones from the pending
    /// queue. A change the batch cannot take is set aside as a dead letter
    /// ([`super::set_aside`]): a pending change whose stored data cannot be encoded,
    /// or a pending or in-flight key whose state row cannot be decoded. The keys set
    /// aside are returned with the batch (their local records were removed), and the
    /// metadata as left. `dry` (a keepalive's read, `Storage::peek_batch`): the same
    /// batch in a read-only transaction that writes nothing and sets nothing aside
    /// (what would be set aside is left out, as the real batch leaves it out).
    pub(super) async fn take_batch_inner(
        &self,
        limits: &BatchLimits,
        mode: &dyn Fn(&str) -> MergeMode,
        dry: bool,
    ) -> Result<(Vec<InFlightOp>, Vec<RecordId>, ClientMeta), SyncError> {
        let body = async |tx: &idb::Tx| {
            let fields = Fields::new();
            let state_store = tx.store(STATE)?;
            let mut meta = Self::read_meta_in(tx).await?;
            let meta_before = meta.clone();
            let mut set_aside = Vec::new();
            let inflight = state_store.index(INFLIGHT_INDEX).or_storage("index")?;
            let reads = [
                inflight.get_all().or_storage("getAll")?,
                inflight.get_all_keys().or_storage("getAllKeys")?,
            ];
            let read = idb::all(&reads).await?;
            let mut ops = Vec::new();
            for (row, skey) in Array::from(&read[0])
                .iter()
                .zip(Array::from(&read[1]).iter())
            {
                let id = record_id(&skey)
                    .ok_or_else(|| SyncError::Storage("malformed state key".into()))?;
                let problem = match StateRow::decode(&fields, &id, &row) {
                    Ok(StateRow {
                        in_flight: Some(mut op),
                        ..
                    }) => {
                        // Sent again: one more attempt, stored (only `f` changes).
                        if !dry {
                            op.resent();
                            crate::interop::set(
                                &row,
                                &fields.in_flight,
                                &codec::in_flight_to_js(&op),
                            );
                            state_store
                                .put_with_key(&row, &skey)
                                .or_storage("put state")?;
                        }
                        ops.push(op);
                        continue;
                    }
                    _ if dry => continue,
                    Ok(_) => "an in-flight seq without an in-flight change".to_owned(),
                    Err(e) => e.to_string(),
                };
                let record = idb::request(
                    tx.store(&id.table)?
                        .get(&from_record_key(&id.key))
                        .or_storage("get record")?,
                )
                .await?;
                let now = js_sys::Date::now() as u64;
                super::set_aside::set_aside_corrupt(
                    tx, &fields, &id, &skey, &row, &record, &problem, &mut meta, now,
                )?;
                set_aside.push(id);
            }
            let batch = if !ops.is_empty() {
                // In seq order already (the `inflight` index is over it).
                idb_sync_core::outbox::entry::sort_in_place(&mut ops, |o| o.seq);
                ops
            } else {
                self.take_pending(
                    tx,
                    &fields,
                    limits,
                    mode,
                    &mut meta,
                    (!dry).then_some(&mut set_aside),
                )
                .await?
            };
            if meta != meta_before && !dry {
                Self::write_meta_in(tx, &meta)?;
            }
            Ok((batch, set_aside, meta))
        };
        let (db, stores) = (self.db()?, self.sync_stores());
        if dry {
            idb::read_only(&db, &stores, body).await
        } else {
            idb::read_write(&db, &stores, body).await
        }
    }

    /// Takes new entries from the pending queue (nothing is in flight), setting aside
    /// what cannot be taken into `set_aside` (`None`: dry, see `take_batch_inner`).
    async fn take_pending(
        &self,
        tx: &idb::Tx,
        fields: &Fields,
        limits: &BatchLimits,
        mode: &dyn Fn(&str) -> MergeMode,
        meta: &mut ClientMeta,
        mut set_aside: Option<&mut Vec<RecordId>>,
    ) -> Result<Vec<InFlightOp>, SyncError> {
        let dry = set_aside.is_none();
        if limits.max_count == 0 {
            return Ok(Vec::new());
        }
        let state_store = tx.store(STATE)?;
        let pending = state_store.index(PENDING_INDEX).or_storage("index")?;
        let limit = limits.max_count.min(u32::MAX as usize) as u32;
        let reads = [
            pending
                .get_all_with_key_and_limit(&JsValue::UNDEFINED, limit)
                .or_storage("getAll")?,
            pending
                .get_all_keys_with_key_and_limit(&JsValue::UNDEFINED, limit)
                .or_storage("getAllKeys")?,
        ];
        let read = idb::all(&reads).await?;
        let (rows, skeys) = (Array::from(&read[0]), Array::from(&read[1]));
        let mut records = Vec::new();
        let mut ids = Vec::new();
        for skey in skeys.iter() {
            let id =
                record_id(&skey).ok_or_else(|| SyncError::Storage("malformed state key".into()))?;
            let store = tx.store(&id.table)?;
            records.push(
                store
                    .get(&from_record_key(&id.key))
                    .or_storage("get record")?,
            );
            ids.push((id, skey));
        }
        let mut records = idb::all(&records).await?.into_iter();
        let mut selector = BatchSelector::new(*limits);
        let mut batch = Vec::new();
        for ((id, skey), row) in ids.into_iter().zip(rows.iter()) {
            let record = records.next().unwrap_or(JsValue::UNDEFINED);
            let now = js_sys::Date::now() as u64;
            let decoded = StateRow::decode(fields, &id, &row);
            let state = decoded.and_then(|r| r.to_key_state(&id, &record));
            let mut state = match (state, set_aside.as_deref_mut()) {
                (Ok(state), _) => state,
                // Dry: what would be set aside is left out.
                (Err(_), None) => continue,
                // Written past idb-sync's checks: one dead letter, not a stuck queue.
                (Err(SyncError::InvalidValue { .. }), Some(set_aside)) => {
                    super::set_aside::set_aside(tx, fields, &id, &skey, &row, &record, meta, now)?;
                    set_aside.push(id);
                    continue;
                }
                // A row that cannot be read (or a pending create or put without its
                // record): one dead letter too, never "never on the server".
                (Err(e), Some(set_aside)) => {
                    let problem = e.to_string();
                    super::set_aside::set_aside_corrupt(
                        tx, fields, &id, &skey, &row, &record, &problem, meta, now,
                    )?;
                    set_aside.push(id);
                    continue;
                }
            };
            let Some(p) = &state.pending else { continue };
            if !selector.offer(wire_size(&id, &p.op)) {
                break;
            }
            if let Some(entry) = assign_in_flight(&id, &mut state, meta, mode(&id.table)) {
                batch.push(entry);
                if dry {
                    continue;
                }
                match encode_row(fields, &state)? {
                    Some(row) => state_store
                        .put_with_key(&row, &skey)
                        .or_storage("put state")?,
                    None => state_store.delete(&skey).or_storage("delete state")?,
                };
            }
        }
        Ok(batch)
    }

    /// Drops every record without local changes and the cursor; returns the removed
    /// records' ids.
    pub(super) async fn reset_inner(&self) -> Result<Vec<RecordId>, SyncError> {
        idb::read_write(&self.db()?, &self.sync_stores(), async |tx| {
            let mut removed = Vec::new();
            let fields = Fields::new();
            let state_store = tx.store(STATE)?;
            let reads = [
                state_store.get_all().or_storage("getAll")?,
                state_store.get_all_keys().or_storage("getAllKeys")?,
            ];
            let read = idb::all(&reads).await?;
            for (row, skey) in Array::from(&read[0])
                .iter()
                .zip(Array::from(&read[1]).iter())
            {
                let id = record_id(&skey);
                let name: &dyn std::fmt::Display = match &id {
                    Some(id) => id,
                    None => &"a malformed key",
                };
                // A row that cannot be read is kept, and reported.
                if StateRow::decode(&fields, name, &row)?.has_local_changes() {
                    continue;
                }
                state_store.delete(&skey).or_storage("delete state")?;
                if let Some(id) = id {
                    if self.table(&id.table).is_ok() {
                        tx.store(&id.table)?
                            .delete(&from_record_key(&id.key))
                            .or_storage("delete record")?;
                        removed.push(id);
                    }
                }
            }
            // The full pull that follows brings kept changes again (or they are gone).
            tx.store(DEFERRED)?.clear().or_storage("clear")?;
            let mut meta = Self::read_meta_in(tx).await?;
            meta.forget_cursor();
            Self::write_meta_in(tx, &meta)?;
            Ok(removed)
        })
        .await
    }

    /// Wipes the synced tables, the sync state, the dead letters and the kept changes,
    /// and forgets the cursor and account, in one transaction (an account change,
    /// "clear"). Returns the ids of the records removed, for the change events.
    pub(super) async fn clear_synced_inner(&self) -> Result<Vec<RecordId>, SyncError> {
        let names = self.sync_stores();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        idb::read_write(&self.db()?, &refs, async |tx| {
            let tables = self.table_names();
            let mut reads = Vec::new();
            for table in &tables {
                reads.push(tx.store(table)?.get_all_keys().or_storage("getAllKeys")?);
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
                tx.store(name)?.clear().or_storage("clear")?;
            }
            let mut meta = Self::read_meta_in(tx).await?;
            meta.forget_cursor();
            meta.account = None;
            Self::write_meta_in(tx, &meta)?;
            Ok(removed)
        })
        .await
    }
}
