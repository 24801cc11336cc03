//! Executes core's decision for a pending change whose stored data cannot be encoded
//! for the wire (a `Map`, a `BigInt`, ... that Dexie or other code wrote into a synced
//! table past idb-sync's checks): `idb_sync_core::outbox::set_aside_unencodable`
//! makes it one dead letter (code `invalid_value`) and rolls the record back; this
//! file reads the row, and writes the outcome inside the batch's transaction, so the
//! rest of the queue flows (I9).

use idb_sync_core::outbox::{set_aside_unencodable, ClientMeta, KeyState, OpKind};
use idb_sync_core::{Record, RecordId};
use wasm_bindgen::JsValue;

use super::keys::from_record_key;
use super::layout::{Fields, DEAD_LETTERS, STATE};
use super::port::encode_row;
use super::row::StateRow;
use crate::error::{OrStorage, SyncError};
use crate::idb::Tx;
use crate::interop;
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
    let row = StateRow::decode(f, id, row)?;
    let pending = row
        .pending
        .as_ref()
        .ok_or_else(|| SyncError::Storage(format!("{id}: no pending change to set aside")))?;
    let kind = pending.kind;
    // What the change holds: its patch, its stored record, or else the row itself.
    let change = match kind {
        OpKind::Update => pending.patch.clone(),
        OpKind::Delete => JsValue::UNDEFINED,
        OpKind::Create | OpKind::Put if pending.record.is_undefined() => record.clone(),
        OpKind::Create | OpKind::Put => pending.record.clone(),
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
        version: row.version,
        hlc: row.hlc,
        pending: None,
        in_flight: row.in_flight,
        conflict: row.conflict,
        acked_unpulled: row.acked_unpulled,
    };
    let letter = set_aside_unencodable(id, &mut state, kind, kept, &errors, meta, now_ms);
    tx.store(&id.table)?
        .delete(&from_record_key(&id.key))
        .or_storage("delete record")?;
    let states = tx.store(STATE)?;
    match encode_row(f, &state)? {
        Some(r) => states.put_with_key(&r, skey).or_storage("put state")?,
        None => states.delete(skey).or_storage("delete state")?,
    };
    tx.store(DEAD_LETTERS)?
        .put_with_key(
            &interop::encode("dead letter", &letter)?,
            &JsValue::from_f64(letter.id as f64),
        )
        .or_storage("put dead letter")?;
    Ok(())
}
