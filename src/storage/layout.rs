//! The IndexedDB layout (see docs/STORAGE.md): the app's tables are plain object
//! stores holding the app's objects (so Dexie still reads them), and idb-sync keeps
//! its bookkeeping in stores of its own, prefixed `_idbsync_`:
//!
//! - `_idbsync_state`: one row per record with sync state, key `[table, key]`. It is
//!   the outbox too: a row with a pending entry has `pk` (kind) and `pq` (FIFO
//!   position, indexed as `pending`); a row with an in-flight entry has `f` (the op
//!   as sent) and `fs` (its seq, indexed as `inflight`); `c`/`cf` hold a manual
//!   conflict (indexed as `conflict`). A pending create/put stores no record: it is
//!   the record in the app's table (see `idb_sync_core::outbox::plan_local_write_shape`).
//! - `_idbsync_meta`: the client metadata under the key `client`.
//! - `_idbsync_conflicts`: the conflict log, auto-incremented keys (oldest first).
//! - `_idbsync_dead_letters`: rejected mutations by id.
//! - `_idbsync_deferred`: pulled changes for tables this database's schema does not
//!   declare (an app's v2 added them while this v1 tab syncs), key `[table, key]`, the
//!   latest version per key, kept until a schema declares the table (docs/STORAGE.md, "Layout").

use idb_sync_core::hlc::Hlc;
use idb_sync_core::schema::{DatabaseSchema, IndexSpec, KeyPath, PrimaryKey, TableSchema};
use js_sys::Array;
use wasm_bindgen::JsValue;

/// Per-record sync state and the outbox.
pub(crate) const STATE: &str = "_idbsync_state";
/// Client metadata.
pub(crate) const META: &str = "_idbsync_meta";
/// The conflict log.
pub(crate) const CONFLICTS: &str = "_idbsync_conflicts";
/// Dead letters.
pub(crate) const DEAD_LETTERS: &str = "_idbsync_dead_letters";
/// Kept pulled changes of undeclared tables (`idb_sync_core::protocol::Change`).
pub(crate) const DEFERRED: &str = "_idbsync_deferred";
/// The key of the client metadata in [`META`].
pub(crate) const META_KEY: &str = "client";

/// Index of [`STATE`] over pending entries' FIFO position.
pub(crate) const PENDING_INDEX: &str = "pending";
/// Index of [`STATE`] over in-flight entries' seq.
pub(crate) const INFLIGHT_INDEX: &str = "inflight";
/// Index of [`STATE`] over keys with a manual conflict.
pub(crate) const CONFLICT_INDEX: &str = "conflict";

fn index(name: &str, field: &str) -> IndexSpec {
    IndexSpec {
        name: name.into(),
        key_path: KeyPath::Single(field.into()),
        unique: false,
        multi_entry: false,
    }
}

/// The stores idb-sync adds to every database, as schemas for the upgrade planner.
pub(crate) fn own_stores() -> DatabaseSchema {
    let out_of_line = PrimaryKey {
        key_path: None,
        auto_increment: false,
    };
    [
        TableSchema {
            name: STATE.into(),
            primary: out_of_line.clone(),
            indexes: vec![
                index(PENDING_INDEX, "pq"),
                index(INFLIGHT_INDEX, "fs"),
                index(CONFLICT_INDEX, "cf"),
            ],
        },
        TableSchema {
            name: META.into(),
            primary: out_of_line.clone(),
            indexes: vec![],
        },
        TableSchema {
            name: CONFLICTS.into(),
            primary: PrimaryKey {
                key_path: None,
                auto_increment: true,
            },
            indexes: vec![],
        },
        TableSchema {
            name: DEAD_LETTERS.into(),
            primary: out_of_line.clone(),
            indexes: vec![],
        },
        TableSchema {
            name: DEFERRED.into(),
            primary: out_of_line,
            indexes: vec![],
        },
    ]
    .into_iter()
    .map(|t| (t.name.clone(), t))
    .collect()
}

/// The key of a record's row in [`STATE`] (and of a kept change in [`DEFERRED`]):
/// `[table, key]`.
pub(crate) fn state_key(table: &JsValue, key: &JsValue) -> JsValue {
    Array::of2(table, key).into()
}

/// An [`Hlc`] as stored: `millis.counter.node`.
pub(crate) fn hlc_to_js(hlc: &Hlc) -> JsValue {
    JsValue::from_str(&format!("{}.{}.{}", hlc.millis, hlc.counter, hlc.node))
}

/// The inverse of [`hlc_to_js`].
pub(crate) fn hlc_from_js(v: &JsValue) -> Option<Hlc> {
    let s = v.as_string()?;
    let mut parts = s.splitn(3, '.');
    Some(Hlc {
        millis: parts.next()?.parse().ok()?,
        counter: parts.next()?.parse().ok()?,
        node: parts.next()?.to_owned(),
    })
}

/// Interned property names of state rows (created once per call, not per record);
/// rows are read and written by [`super::row::StateRow`].
pub(crate) struct Fields {
    pub version: JsValue,
    pub hlc: JsValue,
    pub pending_kind: JsValue,
    pub pending_queued: JsValue,
    pub pending_hlc: JsValue,
    pub pending_patch: JsValue,
    pub pending_record: JsValue,
    pub pending_since: JsValue,
    pub in_flight: JsValue,
    pub in_flight_seq: JsValue,
    pub conflict: JsValue,
    pub conflict_flag: JsValue,
    pub acked: JsValue,
}

impl Fields {
    pub(crate) fn new() -> Fields {
        Fields {
            version: "v".into(),
            hlc: "h".into(),
            pending_kind: "pk".into(),
            pending_queued: "pq".into(),
            pending_hlc: "ph".into(),
            pending_patch: "pp".into(),
            pending_record: "pr".into(),
            pending_since: "ps".into(),
            in_flight: "f".into(),
            in_flight_seq: "fs".into(),
            conflict: "c".into(),
            conflict_flag: "cf".into(),
            acked: "a".into(),
        }
    }
}
