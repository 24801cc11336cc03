//! A key's sync-state row that the storage port cannot decode when it takes a batch
//! (damaged, or written into the state store past idb-sync). Failing the batch would
//! fail every round and stall the whole queue behind one row (docs/INVARIANTS.md, I9);
//! reading it as "no row" would take the record for one the server never had
//! (docs/INVARIANTS.md, I5). Instead the port sets it aside with
//! [`set_aside_corrupt_state`], the way it sets aside an unencodable change
//! ([`super::set_aside_unencodable`]):
//!
//! - one dead letter, code `corrupt_state`, whose reason shows the stored row (as JSON,
//!   cut at [`MAX_SHOWN_ROW_CHARS`]) and whose change is the local record as it was
//!   (a put of it, or a delete when there is none), so `retryDeadLetter` restores it;
//! - the record is rolled back by the one dead-letter rule (docs/SYNC_MANAGER.md):
//!   removed locally, and the key keeps a state that says "the server may have it"
//!   (version unknown, the cursor dropped), so the next pull brings the server's copy
//!   back and the record is never adopted or re-created as new;
//! - the rest of the batch is taken as usual.

use crate::conflict::DeadLetter;
use crate::key::RecordId;
use crate::outbox::{ClientMeta, KeyState};
use crate::record::{Op, Record};
use crate::value::{Step, ValueError};

/// The dead-letter code of a change set aside this way.
pub const CORRUPT_STATE: &str = crate::ErrorCode::CorruptState.as_str();

/// The most characters of the stored row a dead letter's reason shows.
pub const MAX_SHOWN_ROW_CHARS: usize = 16_000;

/// What the port can tell of a row it cannot decode.
#[derive(Clone, Copy, Debug)]
pub struct CorruptRow<'a> {
    /// The row as stored, as JSON (or as much of it as the port can show).
    pub raw: &'a str,
    /// Why it cannot be read.
    pub problem: &'a str,
}

/// What [`set_aside_corrupt_state`] decided: the key's new state (the port writes it
/// in place of the damaged row, and deletes the local record: `value` is `None`) and
/// the dead letter to store.
#[derive(Clone, Debug, PartialEq)]
pub struct CorruptStateOutcome {
    /// The key's state from now on: nothing queued, in flight or in conflict; the
    /// server may have the record (never "never on the server").
    pub state: KeyState,
    /// The dead letter the app sees in `deadLetters()`.
    pub letter: DeadLetter,
}

/// `raw`, cut to at most [`MAX_SHOWN_ROW_CHARS`] characters (saying how many were cut).
pub fn shown_row(raw: &str) -> String {
    match raw.char_indices().nth(MAX_SHOWN_ROW_CHARS) {
        None => raw.to_owned(),
        Some((cut, _)) => format!(
            "{}… ({} more characters)",
            &raw[..cut],
            raw[cut..].chars().count()
        ),
    }
}

/// Sets aside the key `id` whose state row cannot be decoded (`row`). `local` is what
/// can be kept of its record in the app's table (`None`: there is none; see
/// [`super::encodable_part`]), `left_out` why the rest of it could not be kept. The
/// dead letter's id is taken from `meta`, whose cursor is dropped (the next pull is
/// full and brings the server's copy of the record back).
pub fn set_aside_corrupt_state(
    id: &RecordId,
    row: CorruptRow<'_>,
    local: Option<Record>,
    left_out: &[ValueError],
    meta: &mut ClientMeta,
    now_ms: u64,
) -> CorruptStateOutcome {
    // Whatever the row said, the server may have the record: its copy is pulled again.
    let state = KeyState {
        acked_unpulled: true,
        ..KeyState::default()
    };
    meta.forget_cursor();
    let kept = match &local {
        None => "the local record was absent, this dead letter keeps that as a delete".into(),
        Some(_) => {
            let fields: Vec<String> = left_out
                .iter()
                .filter_map(|e| match e.path.0.first() {
                    Some(Step::Field(name)) => Some(format!("`{name}`")),
                    _ => None,
                })
                .collect();
            if fields.is_empty() {
                "this dead letter keeps the local record as it was".to_owned()
            } else {
                format!(
                    "this dead letter keeps the local record as it was, without {} ({})",
                    fields.join(", "),
                    left_out
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            }
        }
    };
    let reason = format!(
        "the sync state of this record cannot be read ({}), it was damaged or written outside idb-sync; the stored row: {}; the local record was rolled back to the server's copy (it is pulled again); {kept}",
        row.problem,
        shown_row(row.raw),
    );
    let op = match local {
        Some(record) => Op::Put { record },
        None => Op::Delete,
    };
    CorruptStateOutcome {
        state,
        letter: DeadLetter {
            id: meta.take_dead_letter_id(),
            record: id.clone(),
            op,
            seq: 0,
            code: CORRUPT_STATE.into(),
            reason,
            at_ms: now_ms,
        },
    }
}
