//! Local writes from the table API — add, put, update, delete, one or many — each
//! call one transaction over the app's table, the state/outbox store and the metadata
//! (I1: the record and its outbox entry commit together or not at all; a bulk call is
//! all or nothing). Records stay JS objects: only keys and update patches are read.
//!
//! Requests are issued in two phases: reads (metadata, state rows, and the records an
//! update or delete needs), awaited on the last one; then every write, not awaited
//! one by one — the commit reports the first failure and aborts everything.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use idb_sync_core::outbox::{plan_local_write_shape, OpKind, PendingData};
use idb_sync_core::{RecordId, RecordKey};
use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbObjectStore, IdbRequest};

pub(crate) use super::write_check::Write;
use super::write_check::{check, Checked};
use crate::error::{OrStorage, SyncError};
use crate::idb::{self, Tx};
use crate::storage::codec;
use crate::storage::keys::{self, KeyMode};
use crate::storage::layout::{state_key, Fields, META, META_KEY, STATE};
use crate::storage::row::{PendingRow, StateRow};
use crate::storage::{IdbStorage, TableInfo};

/// Maps an aborted write's `ConstraintError` (by `DOMException.name`, never by its
/// message) to the bad-input error it stands for, from facts read after the abort: if
/// a key this call added exists, the add was refused (`key_exists`, the first such key
/// in call order); otherwise a unique index refused a value (`unique_violation`). The
/// success path reads nothing for this: `add` refuses an existing key itself.
async fn classify(storage: &IdbStorage, table: &str, added: &[JsValue], e: SyncError) -> SyncError {
    let exception = match e {
        SyncError::Browser { exception, .. } if exception.name() == "ConstraintError" => exception,
        other => return other,
    };
    // (The app's own read of many keys, reused: this is the error path.)
    let found = storage
        .get_many(table, added)
        .await
        .ok()
        .and_then(|records| {
            let i = records.iter().position(|r| !r.is_undefined())?;
            added.get(i).cloned()
        });
    match found {
        Some(key) => SyncError::KeyExists {
            table: table.into(),
            key: keys::to_record_key(&key).map_or_else(String::new, |k| k.to_string()),
        },
        _ => SyncError::UniqueViolation {
            table: table.into(),
            exception,
        },
    }
}

fn put_in(
    store: &IdbObjectStore,
    kind: OpKind,
    record: &JsValue,
    key: Option<&JsValue>,
    out_of_line: bool,
) -> Result<IdbRequest, SyncError> {
    let r = match (kind, out_of_line, key) {
        (OpKind::Create, true, Some(k)) => store.add_with_key(record, k),
        (OpKind::Create, _, _) => store.add(record),
        (_, true, Some(k)) => store.put_with_key(record, k),
        _ => store.put(record),
    };
    r.or_storage("write")
}

fn merged_patch(previous: &JsValue, changes: &JsValue) -> JsValue {
    let out = Object::new();
    if previous.is_object() {
        Object::assign(&out, previous.unchecked_ref());
    }
    Object::assign(&out, changes.unchecked_ref());
    out.into()
}

/// What a call wrote: the keys, in order (a delete of a missing key is skipped and not
/// returned), and how it moved the number of pending outbox entries.
#[derive(Default)]
pub(crate) struct Written {
    /// The keys written.
    pub(crate) keys: Vec<JsValue>,
    /// The change of the pending count (`LocalWritePlan::pending_delta`, summed).
    pub(crate) pending_delta: i64,
    /// Each key's pending entry afterwards (`None`: it has none), for the outbox
    /// entries the manager keeps in memory (`idb_sync_core::sync_loop::KnownChanges`).
    pub(crate) queued: Vec<(RecordKey, Option<OpKind>)>,
}

/// Runs `writes` on `table` in one transaction.
pub(crate) async fn write(
    storage: &IdbStorage,
    table: &str,
    writes: Vec<Write>,
) -> Result<Written, SyncError> {
    let info = storage.table(table)?;
    let items = check(&info, writes)?;
    if items.is_empty() {
        return Ok(Written::default());
    }
    let now = js_sys::Date::now() as u64;
    let added: Vec<JsValue> = items
        .iter()
        .filter(|i| i.kind == OpKind::Create)
        .filter_map(|i| i.key.clone())
        .collect();
    let keepalive = storage.keepalive_may_send();
    let result = idb::read_write(&storage.db()?, &[table, STATE, META], async |tx| {
        run(tx, &info, items, now, keepalive).await
    })
    .await;
    match result {
        Err(e) => Err(classify(storage, table, &added, e).await),
        ok => ok,
    }
}

async fn run(
    tx: &Tx,
    info: &TableInfo,
    mut items: Vec<Checked>,
    now: u64,
    keepalive: bool,
) -> Result<Written, SyncError> {
    let name = &info.schema.name;
    let table_js = JsValue::from_str(name);
    let app = tx.store(name)?;
    let state = tx.store(STATE)?;
    let meta_store = tx.store(META)?;
    let fields = Fields::new();
    let out_of_line = matches!(info.key_mode, KeyMode::OutOfLine | KeyMode::OutOfLineAuto);

    // Records without a key: IndexedDB assigns one (auto-increment) when they are
    // written, first, so that their state can be read like the others'.
    let auto: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].key.is_none())
        .collect();
    if !auto.is_empty() {
        let requests = auto
            .iter()
            .map(|&i| put_in(&app, items[i].kind, &items[i].data, None, out_of_line))
            .collect::<Result<Vec<_>, _>>()?;
        for (&i, key) in auto.iter().zip(idb::all(&requests).await?) {
            items[i].key = Some(key);
            items[i].prewritten = true;
        }
    }

    // Phase 1: reads. A table without any state row (a fresh table, or everything
    // synced and dropped) needs no per-key state read: one count answers for all.
    let has_state = if items.len() > 1 {
        let lower = js_sys::Array::of1(&table_js);
        let upper = js_sys::Array::of2(&table_js, &js_sys::Array::new());
        let range = web_sys::IdbKeyRange::bound(&lower, &upper).or_storage("key range")?;
        let n = idb::request(state.count_with_key(&range).or_storage("count state")?).await?;
        n.as_f64().unwrap_or(1.0) > 0.0
    } else {
        true
    };
    // (Issued after the count: a request that finished before we awaited it never
    // wakes us.)
    let mut reads = vec![meta_store.get(&META_KEY.into()).or_storage("get meta")?];

    let mut state_req = vec![None; items.len()];
    let mut record_req = vec![None; items.len()];
    for (i, item) in items.iter().enumerate() {
        let key = item.key.as_ref().expect("every key is known now");
        if !item.fresh && has_state {
            reads.push(
                state
                    .get(&state_key(&table_js, key))
                    .or_storage("get state")?,
            );
            state_req[i] = Some(reads.len() - 1);
        }
        // A create reads nothing: `add` refuses an existing key itself, and
        // `classify` tells that from a unique index after the abort. (An add of a key
        // added earlier in this call is refused below, before anything is written.)
        let reads_record = matches!(item.kind, OpKind::Update | OpKind::Delete);
        if reads_record {
            reads.push(app.get(key).or_storage("get record")?);
            record_req[i] = Some(reads.len() - 1);
        }
    }
    let results = idb::all(&reads).await?;
    let mut meta = codec::meta_from_js(&results[0])?;

    // Phase 2: plan each write in order (later writes to the same key see the earlier
    // ones), then issue every write.
    struct Current {
        row: StateRow,
        record: JsValue,
    }
    let mut current: BTreeMap<RecordKey, Current> = BTreeMap::new();
    let mut written = Vec::with_capacity(items.len());
    let mut pending_delta = 0;
    let mut queued = Vec::with_capacity(items.len());
    #[cfg(feature = "test-hooks")]
    let mut fault = crate::testing::take_fault();
    for (i, item) in items.iter().enumerate() {
        let key = item.key.clone().expect("every key is known now");
        let record_key = keys::to_record_key(&key).ok_or_else(|| SyncError::InvalidKey {
            table: name.clone(),
            reason: "generated key is not a string or number".into(),
        })?;
        let entry = match current.entry(record_key.clone()) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let id = RecordId {
                    table: name.clone(),
                    key: e.key().clone(),
                };
                let row = state_req[i].map_or(JsValue::UNDEFINED, |r| results[r].clone());
                e.insert(Current {
                    // A row that cannot be read is an error, never "no row" (which
                    // would mean "never on the server").
                    row: StateRow::decode(&fields, &id, &row)?,
                    record: record_req[i].map_or(JsValue::UNDEFINED, |r| results[r].clone()),
                })
            }
        };
        if item.kind == OpKind::Create && !entry.record.is_undefined() {
            let key = keys::to_record_key(&key).map_or_else(String::new, |k| k.to_string());
            return Err(SyncError::KeyExists {
                table: name.clone(),
                key,
            });
        }
        let exists = match item.kind {
            // IndexedDB's `add` refuses an existing key itself (see `classify`).
            OpKind::Create | OpKind::Put => false,
            _ => !entry.record.is_undefined(),
        };
        let facts = entry.row.facts(exists, keepalive);
        let plan = match plan_local_write_shape(facts, &mut meta, item.kind, now) {
            Ok(Some(plan)) => plan,
            Ok(None) => continue,
            Err(idb_sync_core::SyncError::NotFound(_)) => {
                return Err(SyncError::NotFound(format!(
                    "update: no record with key {key:?} in `{name}`"
                )))
            }
            Err(e) => return Err(e.into()),
        };
        pending_delta += plan.pending_delta(&facts);
        queued.push((record_key, plan.pending.as_ref().map(|p| p.kind)));
        // The app's record.
        match item.kind {
            OpKind::Create | OpKind::Put => {
                if !item.prewritten {
                    put_in(&app, item.kind, &item.data, Some(&key), out_of_line)?;
                }
                entry.record = item.data.clone();
            }
            OpKind::Update => {
                let record = &entry.record;
                let changes = Object::keys(item.data.unchecked_ref::<Object>());
                for field in changes.iter() {
                    let value = Reflect::get(&item.data, &field).unwrap_or(JsValue::UNDEFINED);
                    Reflect::set(record, &field, &value).or_storage("apply update")?;
                }
                put_in(&app, OpKind::Put, record, Some(&key), out_of_line)?;
            }
            OpKind::Delete => {
                app.delete(&key).or_storage("delete")?;
                entry.record = JsValue::UNDEFINED;
            }
        }
        #[cfg(feature = "test-hooks")]
        if let Some(fault) = fault.take() {
            return Err(fault);
        }
        // Its state row (the outbox entry).
        let row = &mut entry.row;
        let previous = row.pending.take();
        // A pending entry is unsynced since its first write (kept through merges).
        let since = previous.as_ref().map_or(now, |p| p.since);
        let previous_patch = previous.map_or(JsValue::UNDEFINED, |p| p.patch);
        row.hlc = Some(plan.hlc.clone());
        row.pending = plan.pending.as_ref().map(|p| PendingRow {
            kind: p.kind,
            queued: p.queued,
            hlc: plan.hlc.clone(),
            patch: match p.data {
                PendingData::Patch => merged_patch(&JsValue::UNDEFINED, &item.data),
                PendingData::MergedPatch => merged_patch(&previous_patch, &item.data),
                PendingData::NewValue | PendingData::Nothing => JsValue::UNDEFINED,
            },
            record: JsValue::UNDEFINED,
            since,
        });
        let skey = state_key(&table_js, &key);
        match row.encode(&fields)? {
            None => state.delete(&skey).or_storage("delete state")?,
            Some(js) => state.put_with_key(&js, &skey).or_storage("put state")?,
        };
        written.push(key);
    }
    meta_store
        .put_with_key(&codec::meta_to_js(&meta), &META_KEY.into())
        .or_storage("put meta")?;
    Ok(Written {
        keys: written,
        pending_delta,
        queued,
    })
}
