//! What a sync transaction starts from (the port's `transact`, [`super::port`]): the
//! client metadata and the state of each key, from its row in `_idbsync_state` and
//! its record in the app's table — or, for applying pulled changes
//! (`Storage::transact_pulled`), without the record of a key that has no row: a key
//! without sync state has its record replaced whole by a pulled change, so reading it
//! first is wasted (docs/STORAGE.md, "IndexedDB work per record").

use std::collections::{BTreeMap, BTreeSet};

use idb_sync_core::outbox::{ClientMeta, KeyState};
use idb_sync_core::RecordId;
use wasm_bindgen::JsValue;
use web_sys::IdbRequest;

use crate::error::{OrStorage, SyncError};
use crate::idb::{self, Tx};
use crate::storage::codec;
use crate::storage::keys::from_record_key;
use crate::storage::layout::{state_key, Fields, META, META_KEY, STATE};
use crate::storage::row::StateRow;
use crate::storage::IdbStorage;

/// A key's state from its row and its app record, for a sync transaction: a record
/// that other code wrote past idb-sync's checks with a value that cannot be encoded
/// (a `Map`, ...) reads as absent when no pending change needs it, so a pulled change
/// for it is applied (the server's copy replaces it; it is rewritten only if the sync
/// changes it) instead of failing every round (docs/INVARIANTS.md, I9). A pending
/// change is never dropped here: the next batch sets it aside ([`super::set_aside`]).
/// A row that cannot be read at all is an error ([`StateRow::decode`]).
pub(super) fn decode_for_sync(
    f: &Fields,
    id: &RecordId,
    row: &JsValue,
    record: JsValue,
) -> Result<KeyState, SyncError> {
    let row = StateRow::decode(f, id, row)?;
    match row.to_key_state(id, &record) {
        Err(SyncError::InvalidValue { .. }) if row.pending.is_none() => {
            row.to_key_state(id, &JsValue::UNDEFINED)
        }
        other => other,
    }
}

/// Issues a `get` of the record of `id` in `tx`.
fn get_record(tx: &Tx, id: &RecordId) -> Result<IdbRequest, SyncError> {
    let store = tx.store(&id.table)?;
    store
        .get(&from_record_key(&id.key))
        .or_storage("get record")
}

/// The records of `ids` as stored (`undefined`: none), read in `tx`.
pub(super) async fn read_records(tx: &Tx, ids: &[&RecordId]) -> Result<Vec<JsValue>, SyncError> {
    let reads = ids
        .iter()
        .map(|id| get_record(tx, id))
        .collect::<Result<Vec<_>, _>>()?;
    idb::all(&reads).await
}

/// The start of a sync transaction.
pub(super) struct Loaded {
    /// The client metadata.
    pub(super) meta: ClientMeta,
    /// The states of the keys asked for.
    pub(super) states: BTreeMap<RecordId, KeyState>,
    /// The keys whose record was not read (no row; their state's value is `None`).
    pub(super) unloaded: BTreeSet<RecordId>,
}

impl IdbStorage {
    /// Reads the metadata and the states of `keys` in `tx`. With `lazy`, the rows
    /// come first, then the records of the keys that have a row; a key without one
    /// is not read and listed in [`Loaded::unloaded`].
    pub(super) async fn load(
        &self,
        tx: &Tx,
        keys: &[RecordId],
        lazy: bool,
    ) -> Result<Loaded, SyncError> {
        let (fields, state_store) = (Fields::new(), tx.store(STATE)?);
        let mut reads = Vec::with_capacity(1 + keys.len() * 2);
        reads.push(
            tx.store(META)?
                .get(&META_KEY.into())
                .or_storage("get meta")?,
        );
        for id in keys {
            let skey = state_key(&id.table.as_str().into(), &from_record_key(&id.key));
            reads.push(state_store.get(&skey).or_storage("get state")?);
            if !lazy {
                reads.push(get_record(tx, id)?);
            }
        }
        let mut results = idb::all(&reads).await?.into_iter();
        let meta = results.next().unwrap_or(JsValue::UNDEFINED);
        let meta = codec::meta_from_js(&meta)?;
        let mut rows = Vec::with_capacity(keys.len());
        for _ in keys {
            let row = results.next().unwrap_or(JsValue::UNDEFINED);
            let record = if lazy { None } else { results.next() };
            rows.push((row, record));
        }
        if lazy {
            let with_row: Vec<usize> = (0..keys.len())
                .filter(|&i| !rows[i].0.is_undefined())
                .collect();
            let ids: Vec<&RecordId> = with_row.iter().map(|&i| &keys[i]).collect();
            for (i, record) in with_row.iter().zip(read_records(tx, &ids).await?) {
                rows[*i].1 = Some(record);
            }
        }
        let mut loaded = Loaded {
            meta,
            states: BTreeMap::new(),
            unloaded: BTreeSet::new(),
        };
        for (id, (row, record)) in keys.iter().zip(rows) {
            let state = match record {
                Some(record) => decode_for_sync(&fields, id, &row, record)?,
                None => {
                    loaded.unloaded.insert(id.clone());
                    KeyState::default()
                }
            };
            loaded.states.insert(id.clone(), state);
        }
        Ok(loaded)
    }
}
