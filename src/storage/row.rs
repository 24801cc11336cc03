//! [`StateRow`]: the one codec of a key's row in `_idbsync_state` (its fields are in
//! [`super::layout`]). Every reader decodes a row here and every writer encodes one
//! here, so "is this row empty" and "may this key exist on the server" have one answer.
//!
//! A row that is there but cannot be read (not an object, or a field of the wrong
//! type) is a `storage_error`, never read as "no row": a missing row means the key
//! was never on the server, so a delete or update of it would never be sent. (Taking
//! a batch sets such a row aside as a `corrupt_state` dead letter instead of failing
//! the round: [`super::set_aside`].)
//! Fields that are absent read as their default (as every writer so far wrote them).

use std::fmt::Display;

use idb_sync_core::conflict::ManualConflict;
use idb_sync_core::hlc::Hlc;
use idb_sync_core::outbox::{InFlightOp, KeyFacts, KeyState, OpKind, PendingOp};
use idb_sync_core::{Op, Record, RecordId};
use js_sys::Object;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;

use crate::error::SyncError;
use crate::interop::{self, get, set};
use crate::storage::codec;
use crate::storage::layout::{hlc_from_js, hlc_to_js, Fields};
use crate::value;

/// A key's pending (unsent) change as stored: its data stay the JS values the app
/// wrote (Dates as Dates).
#[derive(Clone, Debug)]
pub(crate) struct PendingRow {
    /// The change's kind.
    pub(crate) kind: OpKind,
    /// Its FIFO position in the outbox.
    pub(crate) queued: u64,
    /// The timestamp of the latest local write merged into it.
    pub(crate) hlc: Hlc,
    /// An update's patch (`undefined` for other kinds).
    pub(crate) patch: JsValue,
    /// A create's or put's record when it differs from the app's row (`undefined`
    /// when the row is the record).
    pub(crate) record: JsValue,
    /// When its first write was made, ms (`ps`; 0 in rows written before it).
    pub(crate) since: u64,
}

/// A key's row in `_idbsync_state`, decoded. `StateRow::default()` is "no row".
#[derive(Clone, Debug, Default)]
pub(crate) struct StateRow {
    /// The server version the local record is based on (0 = never seen there).
    pub(crate) version: u64,
    /// The timestamp of the last write to the record.
    pub(crate) hlc: Option<Hlc>,
    /// The pending change (the outbox entry).
    pub(crate) pending: Option<PendingRow>,
    /// The change sent and not answered yet.
    pub(crate) in_flight: Option<InFlightOp>,
    /// An unresolved manual conflict.
    pub(crate) conflict: Option<ManualConflict>,
    /// The server acknowledged a mutation whose version is not pulled yet.
    pub(crate) acked_unpulled: bool,
}

fn corrupt(key: &dyn Display, reason: &str) -> SyncError {
    SyncError::Storage(format!("corrupt sync state row of {key}: {reason}"))
}

/// A stored count (a version, a queue position): a non-negative integer.
fn count(key: &dyn Display, name: &str, v: &JsValue) -> Result<u64, SyncError> {
    if v.is_undefined() {
        return Ok(0);
    }
    match v.as_f64() {
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= u64::MAX as f64 => Ok(n as u64),
        _ => Err(corrupt(key, &format!("`{name}` is not a count: {v:?}"))),
    }
}

fn hlc(key: &dyn Display, name: &str, v: &JsValue) -> Result<Option<Hlc>, SyncError> {
    if v.is_undefined() {
        return Ok(None);
    }
    hlc_from_js(v)
        .map(Some)
        .ok_or_else(|| corrupt(key, &format!("`{name}` is not a timestamp: {v:?}")))
}

/// The in-flight entry (`undefined` or `null`: none), by its hand-written codec.
fn in_flight(key: &dyn Display, v: &JsValue) -> Result<Option<InFlightOp>, SyncError> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    codec::in_flight_from_js(v)
        .map(Some)
        .map_err(|e| corrupt(key, &format!("`f` unreadable: {e}")))
}

/// A serde-encoded part of the row (a manual conflict, off the success path) (`undefined` or `null`: absent).
fn part<T: DeserializeOwned>(
    key: &dyn Display,
    name: &str,
    v: JsValue,
) -> Result<Option<T>, SyncError> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    interop::from_js(v)
        .map(Some)
        .map_err(|e| corrupt(key, &format!("`{name}` unreadable: {e}")))
}

impl StateRow {
    /// Decodes the row of `key` as read from IndexedDB (`undefined`: there is none).
    pub(crate) fn decode(f: &Fields, key: &dyn Display, row: &JsValue) -> Result<Self, SyncError> {
        if row.is_undefined() {
            return Ok(StateRow::default());
        }
        if !row.is_object() || js_sys::Array::is_array(row) {
            return Err(corrupt(key, &format!("not an object: {row:?}")));
        }
        let kind = get(row, &f.pending_kind);
        let pending = if kind.is_undefined() {
            None
        } else {
            let kind = kind
                .as_string()
                .and_then(|k| OpKind::parse(&k))
                .ok_or_else(|| corrupt(key, &format!("unknown pending kind {kind:?}")))?;
            Some(PendingRow {
                kind,
                queued: count(key, "pq", &get(row, &f.pending_queued))?,
                hlc: hlc(key, "ph", &get(row, &f.pending_hlc))?.unwrap_or_default(),
                patch: get(row, &f.pending_patch),
                record: get(row, &f.pending_record),
                since: count(key, "ps", &get(row, &f.pending_since))?,
            })
        };
        let acked = get(row, &f.acked);
        let acked_unpulled = match acked.as_bool() {
            Some(b) => b,
            None if acked.is_undefined() || acked.is_null() => false,
            None => return Err(corrupt(key, &format!("`a` is not a boolean: {acked:?}"))),
        };
        Ok(StateRow {
            version: count(key, "v", &get(row, &f.version))?,
            hlc: hlc(key, "h", &get(row, &f.hlc))?,
            pending,
            in_flight: in_flight(key, &get(row, &f.in_flight))?,
            conflict: part(key, "c", get(row, &f.conflict))?,
            acked_unpulled,
        })
    }

    /// True if the row keeps nothing (no version, outbox entry, conflict or ack): it
    /// is deleted rather than written.
    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_none()
            && self.in_flight.is_none()
            && self.conflict.is_none()
            && self.version == 0
            && !self.acked_unpulled
    }

    /// True if the key has local changes: a pending or in-flight change, or a conflict.
    pub(crate) fn has_local_changes(&self) -> bool {
        self.pending.is_some() || self.in_flight.is_some() || self.conflict.is_some()
    }

    /// The row as stored, or `None` if it is empty (delete it).
    pub(crate) fn encode(&self, f: &Fields) -> Result<Option<JsValue>, SyncError> {
        if self.is_empty() {
            return Ok(None);
        }
        let row: JsValue = Object::new().into();
        if self.version > 0 {
            set(&row, &f.version, &JsValue::from_f64(self.version as f64));
        }
        if let Some(h) = &self.hlc {
            set(&row, &f.hlc, &hlc_to_js(h));
        }
        if let Some(p) = &self.pending {
            set(&row, &f.pending_kind, &JsValue::from_str(p.kind.as_str()));
            set(&row, &f.pending_queued, &JsValue::from_f64(p.queued as f64));
            set(&row, &f.pending_hlc, &hlc_to_js(&p.hlc));
            if !p.patch.is_undefined() {
                set(&row, &f.pending_patch, &p.patch);
            }
            if !p.record.is_undefined() {
                set(&row, &f.pending_record, &p.record);
            }
            if p.since > 0 {
                set(&row, &f.pending_since, &JsValue::from_f64(p.since as f64));
            }
        }
        if let Some(op) = &self.in_flight {
            set(&row, &f.in_flight, &codec::in_flight_to_js(op));
            set(&row, &f.in_flight_seq, &JsValue::from_f64(op.seq as f64));
        }
        if let Some(c) = &self.conflict {
            set(&row, &f.conflict, &interop::encode("conflict", c)?);
            set(&row, &f.conflict_flag, &JsValue::from_f64(1.0));
        }
        if self.acked_unpulled {
            set(&row, &f.acked, &JsValue::TRUE);
        }
        Ok(Some(row))
    }

    /// What the local-write planner needs to know about the key; `keepalive`: a page's
    /// keepalive push may have sent the pending entry.
    pub(crate) fn facts(&self, exists_locally: bool, keepalive: bool) -> KeyFacts {
        KeyFacts {
            exists_locally,
            pending_may_have_left: keepalive && self.pending.is_some(),
            pending: self.pending.as_ref().map(|p| (p.kind, p.queued)),
            may_exist_on_server: self.version > 0
                || self.in_flight.is_some()
                || self.acked_unpulled,
        }
    }

    /// The key's state for the core, with `record` its row in the app's table.
    pub(crate) fn to_key_state(
        &self,
        id: &RecordId,
        record: &JsValue,
    ) -> Result<KeyState, SyncError> {
        let value: Option<Record> = value::fields_from_js(&id.table, record)?;
        let pending = match &self.pending {
            None => None,
            Some(p) => {
                let stored: Option<Record> = value::fields_from_js(&id.table, &p.record)?;
                let record = || {
                    stored.clone().or_else(|| value.clone()).ok_or_else(|| {
                        SyncError::Storage(format!(
                            "{id}: pending {} without a record",
                            p.kind.as_str()
                        ))
                    })
                };
                let op = match p.kind {
                    OpKind::Create => Op::Create { record: record()? },
                    OpKind::Put => Op::Put { record: record()? },
                    OpKind::Update => Op::Update {
                        patch: value::fields_from_js(&id.table, &p.patch)?.unwrap_or_default(),
                    },
                    OpKind::Delete => Op::Delete,
                };
                Some(PendingOp {
                    op,
                    hlc: p.hlc.clone(),
                    queued: p.queued,
                    since_ms: p.since,
                })
            }
        };
        Ok(KeyState {
            value,
            version: self.version,
            hlc: self.hlc.clone(),
            pending,
            in_flight: self.in_flight.clone(),
            conflict: self.conflict.clone(),
            acked_unpulled: self.acked_unpulled,
        })
    }

    /// The row of a core key state. A pending create's or put's record is stored only
    /// if it differs from the state's value (otherwise the app's row is the record).
    pub(crate) fn of_key_state(state: &KeyState) -> StateRow {
        let pending = state.pending.as_ref().map(|p| {
            let (patch, record) = match &p.op {
                // Pending data is kept as the app wrote it (Dates as Dates), like the records.
                Op::Create { record } | Op::Put { record }
                    if Some(record) != state.value.as_ref() =>
                {
                    (JsValue::UNDEFINED, value::record_to_js(record))
                }
                Op::Update { patch } => (value::record_to_js(patch), JsValue::UNDEFINED),
                _ => (JsValue::UNDEFINED, JsValue::UNDEFINED),
            };
            PendingRow {
                kind: OpKind::of(&p.op),
                queued: p.queued,
                hlc: p.hlc.clone(),
                patch,
                record,
                since: p.since_ms,
            }
        });
        StateRow {
            version: state.version,
            hlc: state.hlc.clone(),
            pending,
            in_flight: state.in_flight.clone(),
            conflict: state.conflict.clone(),
            acked_unpulled: state.acked_unpulled,
        }
    }
}
