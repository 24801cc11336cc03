//! Executes core's decision for a pending change whose stored data cannot be encoded
//! for the wire (a `Map`, a `BigInt`, ... that Dexie or other code wrote into a synced
//! table past idb-sync's checks): `idb_sync_core::outbox::set_aside_unencodable`
//! makes it one dead letter (code `invalid_value`) and rolls the record back; this
//! file reads the row, and writes the outcome inside the batch's transaction, so the
//! rest of the queue flows (I9).

use idb_sync_core::conflict::ManualConflict;
use idb_sync_core::outbox::{set_aside_unencodable, ClientMeta, InFlightOp, KeyState, OpKind};
use idb_sync_core::{Record, RecordId};
use wasm_bindgen::JsValue;

use super::keys::from_record_key;
use super::layout::{hlc_from_js, Fields, DEAD_LETTERS, STATE};
use super::port::{encode_row, get, opt_from_js, to_js};
use crate::error::SyncError;
use crate::idb::{thrown, Tx};
use crate::value;

/// Sets aside the pending change of `id` (state row `row` under `skey`, app record
/// `record`): deletes the local row, rewrites or deletes the state row, stores the
/// dead letter, and advances `meta` (the caller writes it).
#[allow(clippy::too_many_arguments)]
pub(super) fn set_aside(
    tx: &Tx,
    f: &Fields,
    id: &RecordId,
    skey: &JsValue,
    row: &JsValue,
    record: &JsValue,
    meta: &mut ClientMeta,
    now_ms: u64,
) -> Result<(), SyncError> {
    let kind = get(row, &f.pending_kind)
        .as_string()
        .and_then(|k| OpKind::parse(&k))
        .ok_or_else(|| SyncError::Storage(format!("{id}: no pending change to set aside")))?;
    // What the change holds: its patch, its stored record, or else the row itself.
    let change = match kind {
        OpKind::Update => get(row, &f.pending_patch),
        OpKind::Delete => JsValue::UNDEFINED,
        OpKind::Create | OpKind::Put => {
            let stored = get(row, &f.pending_record);
            if stored.is_undefined() {
                record.clone()
            } else {
                stored
            }
        }
    };
    let part = |v: &JsValue| {
        if value::is_plain_object(v) {
            value::encodable_part(v)
        } else {
            (Record::new(), Vec::new())
        }
    };
    let (kept, mut errors) = part(&change);
    if errors.is_empty() {
        // The change encodes; the record it applies to does not.
        errors = part(record).1;
    }
    let mut state = KeyState {
        value: None,
        version: get(row, &f.version).as_f64().unwrap_or(0.0) as u64,
        hlc: hlc_from_js(&get(row, &f.hlc)),
        pending: None,
        in_flight: opt_from_js::<InFlightOp>(get(row, &f.in_flight))?,
        conflict: opt_from_js::<ManualConflict>(get(row, &f.conflict))?,
        acked_unpulled: get(row, &f.acked).is_truthy(),
    };
    let letter = set_aside_unencodable(id, &mut state, kind, kept, &errors, meta, now_ms);
    tx.store(&id.table)?
        .delete(&from_record_key(&id.key))
        .map_err(|e| thrown("delete record", e))?;
    let states = tx.store(STATE)?;
    match encode_row(f, &state)? {
        Some(r) => states
            .put_with_key(&r, skey)
            .map_err(|e| thrown("put state", e))?,
        None => states.delete(skey).map_err(|e| thrown("delete state", e))?,
    };
    tx.store(DEAD_LETTERS)?
        .put_with_key(&to_js(&letter)?, &JsValue::from_f64(letter.id as f64))
        .map_err(|e| thrown("put dead letter", e))?;
    Ok(())
}
