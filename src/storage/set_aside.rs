//! Executes core's decisions for a change the batch cannot take, inside the batch's
//! transaction, so the rest of the queue flows (docs/INVARIANTS.md, I9):
//!
//! - a pending change whose stored data cannot be encoded for the wire (a `Map`, a
//!   `BigInt`, ... that Dexie or other code wrote into a synced table past idb-sync's
//!   checks): `idb_sync_core::outbox::set_aside_unencodable` makes it one dead letter
//!   (code `invalid_value`) and rolls the record back;
//! - a state row that cannot be decoded at all: `idb_sync_core::outbox::set_aside_corrupt_state`
//!   makes it one dead letter (code `corrupt_state`, showing the row) and rolls the
//!   record back, keeping a state that says the server may have it.
//!
//! This file reads the row and the record, and writes the outcome: the local record
//! deleted, the state row rewritten (or deleted), the dead letter stored.

use idb_sync_core::conflict::DeadLetter;
use idb_sync_core::outbox::{
    set_aside_corrupt_state, set_aside_unencodable, ClientMeta, CorruptRow, KeyState, OpKind,
};
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
    write_outcome(tx, f, id, skey, &state, &letter)
}

/// Sets aside the key `id` whose state row `row` (under `skey`) cannot be decoded, for
/// `problem`, keeping what encodes of its app record `record` in the dead letter;
/// advances `meta` (the caller writes it).
#[allow(clippy::too_many_arguments)]
pub(super) fn set_aside_corrupt(
    tx: &Tx,
    f: &Fields,
    id: &RecordId,
    skey: &JsValue,
    row: &JsValue,
    record: &JsValue,
    problem: &str,
    meta: &mut ClientMeta,
    now_ms: u64,
) -> Result<(), SyncError> {
    // The row as JSON; a row JSON cannot show (a BigInt, a cycle) as the debugger would.
    let raw = js_sys::JSON::stringify(row)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| format!("{row:?}"));
    let (local, left_out) = if record.is_undefined() || record.is_null() {
        (None, Vec::new())
    } else if value::is_plain_object(record) {
        let (kept, errors) = value::encodable_part(record);
        (Some(kept), errors)
    } else {
        (Some(Record::new()), Vec::new())
    };
    let row = CorruptRow { raw: &raw, problem };
    let out = set_aside_corrupt_state(id, row, local, &left_out, meta, now_ms);
    web_sys::console::warn_1(&JsValue::from_str(&format!(
        "idb-sync: {id}: {}",
        out.letter.reason
    )));
    write_outcome(tx, f, id, skey, &out.state, &out.letter)
}

/// Writes a set-aside key's outcome: deletes its local record, rewrites (or deletes)
/// its state row, and stores its dead letter.
fn write_outcome(
    tx: &Tx,
    f: &Fields,
    id: &RecordId,
    skey: &JsValue,
    state: &KeyState,
    letter: &DeadLetter,
) -> Result<(), SyncError> {
    tx.store(&id.table)?
        .delete(&from_record_key(&id.key))
        .or_storage("delete record")?;
    let states = tx.store(STATE)?;
    match encode_row(f, state)? {
        Some(r) => states.put_with_key(&r, skey).or_storage("put state")?,
        None => states.delete(skey).or_storage("delete state")?,
    };
    tx.store(DEAD_LETTERS)?
        .put_with_key(
            &interop::encode("dead letter", letter)?,
            &JsValue::from_f64(letter.id as f64),
        )
        .or_storage("put dead letter")?;
    Ok(())
}
