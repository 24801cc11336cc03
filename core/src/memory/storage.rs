//! [`MemoryStorage`]: the client storage port in memory. Clones share the data, as
//! tabs share one IndexedDB database.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use crate::conflict::{ConflictLogEntry, DeadLetter};
use crate::error::SyncError;
use crate::key::RecordId;
use crate::outbox::{
    assign_in_flight, wire_size, BatchLimits, BatchSelector, ClientMeta, InFlightOp, KeyState,
};
use crate::ports::{Storage, StorageTx};
use crate::protocol::{Change, MergeMode};
use crate::record::Record;

/// Everything a client stores.
#[derive(Clone, Debug)]
pub struct MemoryData {
    /// Metadata.
    pub meta: ClientMeta,
    /// Per-key state.
    pub states: BTreeMap<RecordId, KeyState>,
    /// The conflict log.
    pub conflict_log: Vec<ConflictLogEntry>,
    /// Dead letters by id.
    pub dead_letters: BTreeMap<u64, DeadLetter>,
    /// Tables the database does not declare (an older schema); empty = all declared.
    pub undeclared: BTreeSet<String>,
    /// Pulled changes kept for undeclared tables, the latest version per key.
    pub deferred: BTreeMap<RecordId, Change>,
}

/// The client storage port in memory.
#[derive(Clone, Debug)]
pub struct MemoryStorage {
    data: Rc<RefCell<MemoryData>>,
}

impl MemoryStorage {
    /// An empty database for client `client_id`.
    pub fn new(client_id: impl Into<String>) -> Self {
        MemoryStorage {
            data: Rc::new(RefCell::new(MemoryData {
                meta: ClientMeta::new(client_id),
                states: BTreeMap::new(),
                conflict_log: Vec::new(),
                dead_letters: BTreeMap::new(),
                undeclared: BTreeSet::new(),
                deferred: BTreeMap::new(),
            })),
        }
    }

    /// An empty database for client `client_id` whose schema lacks `tables` (as an
    /// older app version's would): writes to them fail, pulled changes are kept.
    pub fn without_tables(client_id: impl Into<String>, tables: &[&str]) -> Self {
        let storage = MemoryStorage::new(client_id);
        storage.data.borrow_mut().undeclared = tables.iter().map(|t| t.to_string()).collect();
        storage
    }

    /// Reopens with a schema that declares `table` too.
    pub fn declare_table(&self, table: &str) {
        self.data.borrow_mut().undeclared.remove(table);
    }

    /// A copy of everything stored.
    pub fn snapshot(&self) -> MemoryData {
        self.data.borrow().clone()
    }

    /// The records as the app sees them.
    pub fn records(&self) -> BTreeMap<RecordId, Record> {
        self.data
            .borrow()
            .states
            .iter()
            .filter_map(|(id, s)| s.value.clone().map(|v| (id.clone(), v)))
            .collect()
    }

    /// One transaction; with `lazy` (as [`Storage::transact_pulled`] allows, and as
    /// the IndexedDB adapter does) the records of keys without sync state are not
    /// handed to `f` but listed in [`StorageTx::unloaded`], and kept if still listed.
    fn run_transact<R>(
        &self,
        keys: &[RecordId],
        lazy: bool,
        f: impl FnOnce(&mut StorageTx) -> Result<R, SyncError>,
    ) -> Result<R, SyncError> {
        let mut tx = {
            let data = self.data.borrow();
            if let Some(id) = keys.iter().find(|k| data.undeclared.contains(&k.table)) {
                return Err(SyncError::Storage(format!(
                    "unknown table {:?}: the schema does not declare it",
                    id.table
                )));
            }
            let mut tx = StorageTx {
                meta: Some(data.meta.clone()),
                ..StorageTx::default()
            };
            for k in keys {
                let mut state = data.states.get(k).cloned().unwrap_or_default();
                if lazy && !state.has_sync_state() {
                    state.value = None;
                    tx.unloaded.insert(k.clone());
                }
                tx.states.insert(k.clone(), state);
            }
            tx
        };
        let out = f(&mut tx)?;
        let mut data = self.data.borrow_mut();
        if let Some(meta) = tx.meta {
            data.meta = meta;
        }
        for id in &tx.unloaded {
            let stored = data.states.get(id).and_then(|s| s.value.clone());
            if let Some(state) = tx.states.get_mut(id) {
                state.value = stored;
            }
        }
        for (id, state) in tx.states {
            if state.is_empty() {
                data.states.remove(&id);
            } else {
                data.states.insert(id, state);
            }
        }
        data.conflict_log.extend(tx.conflict_log);
        for dl in tx.new_dead_letters {
            data.dead_letters.insert(dl.id, dl);
        }
        for id in tx.removed_dead_letters {
            data.dead_letters.remove(&id);
        }
        for change in tx.deferred {
            let id = change.record_id();
            let kept = data.deferred.remove(&id);
            data.deferred
                .insert(id, crate::engine::later_change(kept, change));
        }
        for id in tx.applied_deferred {
            data.deferred.remove(&id);
        }
        Ok(out)
    }
}

impl Storage for MemoryStorage {
    async fn read_meta(&self) -> Result<ClientMeta, SyncError> {
        Ok(self.data.borrow().meta.clone())
    }

    async fn read_state(&self, id: &RecordId) -> Result<KeyState, SyncError> {
        Ok(self
            .data
            .borrow()
            .states
            .get(id)
            .cloned()
            .unwrap_or_default())
    }

    async fn transact<R>(
        &self,
        keys: &[RecordId],
        f: impl FnOnce(&mut StorageTx) -> Result<R, SyncError>,
    ) -> Result<R, SyncError> {
        self.run_transact(keys, false, f)
    }

    async fn transact_pulled<R>(
        &self,
        keys: &[RecordId],
        f: impl FnOnce(&mut StorageTx) -> Result<R, SyncError>,
    ) -> Result<R, SyncError> {
        self.run_transact(keys, true, f)
    }

    async fn take_batch(
        &self,
        limits: &BatchLimits,
        mode: &dyn Fn(&str) -> MergeMode,
    ) -> Result<Vec<InFlightOp>, SyncError> {
        let mut data = self.data.borrow_mut();
        let mut in_flight: Vec<InFlightOp> = data
            .states
            .values_mut()
            .filter_map(|s| s.in_flight.as_mut())
            .map(|f| {
                f.resent();
                f.clone()
            })
            .collect();
        if !in_flight.is_empty() {
            in_flight.sort_by_key(|f| f.seq);
            return Ok(in_flight);
        }
        let mut queue: Vec<(u64, RecordId)> = data
            .states
            .iter()
            .filter_map(|(id, s)| s.pending.as_ref().map(|p| (p.queued, id.clone())))
            .collect();
        queue.sort();
        let mut selector = BatchSelector::new(*limits);
        let mut batch = Vec::new();
        let data = &mut *data;
        for (_, id) in queue {
            let Some(state) = data.states.get_mut(&id) else {
                continue;
            };
            let Some(pending) = &state.pending else {
                continue;
            };
            if !selector.offer(wire_size(&id, &pending.op)) {
                break;
            }
            if let Some(entry) = assign_in_flight(&id, state, &mut data.meta, mode(&id.table)) {
                batch.push(entry);
            }
        }
        Ok(batch)
    }

    async fn peek_batch(
        &self,
        limits: &BatchLimits,
        mode: &dyn Fn(&str) -> MergeMode,
    ) -> Result<(Vec<InFlightOp>, ClientMeta), SyncError> {
        let copy = MemoryStorage {
            data: Rc::new(RefCell::new(self.snapshot())),
        };
        let batch = copy.take_batch(limits, mode).await?;
        let meta = copy.data.borrow().meta.clone();
        Ok((batch, meta))
    }

    async fn reset_replica(&self) -> Result<(), SyncError> {
        let mut data = self.data.borrow_mut();
        data.states
            .retain(|_, s| s.has_local_changes() || s.conflict.is_some());
        data.deferred.clear(); // the full pull brings them again (or their tombstones are gone)
        data.meta.forget_cursor();
        Ok(())
    }

    async fn conflict_keys(&self) -> Result<Vec<RecordId>, SyncError> {
        Ok(self
            .data
            .borrow()
            .states
            .iter()
            .filter(|(_, s)| s.conflict.is_some())
            .map(|(id, _)| id.clone())
            .collect())
    }

    async fn conflict_log(&self) -> Result<Vec<ConflictLogEntry>, SyncError> {
        Ok(self.data.borrow().conflict_log.clone())
    }

    async fn dead_letters(&self) -> Result<Vec<DeadLetter>, SyncError> {
        Ok(self.data.borrow().dead_letters.values().cloned().collect())
    }

    fn declares_table(&self, table: &str) -> bool {
        !self.data.borrow().undeclared.contains(table)
    }

    async fn deferred_changes(&self) -> Result<Vec<Change>, SyncError> {
        let data = self.data.borrow();
        let mut out: Vec<Change> = data
            .deferred
            .values()
            .filter(|c| !data.undeclared.contains(&c.table))
            .cloned()
            .collect();
        out.sort_by_key(|c| c.version);
        Ok(out)
    }

    async fn outbox_len(&self) -> Result<usize, SyncError> {
        Ok(self
            .data
            .borrow()
            .states
            .values()
            .map(|s| usize::from(s.pending.is_some()) + usize::from(s.in_flight.is_some()))
            .sum())
    }

    async fn local_keys(&self) -> Result<Vec<RecordId>, SyncError> {
        Ok(self.data.borrow().states.keys().cloned().collect())
    }

    async fn clear_synced_data(&self) -> Result<(), SyncError> {
        let mut data = self.data.borrow_mut();
        data.states.clear();
        data.dead_letters.clear();
        data.deferred.clear(); // the other account's kept changes
        data.meta.forget_cursor();
        data.meta.account = None;
        Ok(())
    }
}
