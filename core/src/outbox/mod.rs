//! The outbox: per key at most one *pending* entry (never sent, merged by the rules in
//! [`crate::merge`]) and at most one *in-flight* entry (sent at least once, frozen, I2).
//!
//! [`KeyState`] is everything the client stores about one record; storage adapters
//! load it, let core change it, and write it back in one transaction.

mod adopt;
mod batch;
mod corrupt_state;
mod echoes;
pub mod entry;
mod local_shape;
mod local_write;
mod unencodable;

pub use adopt::{
    adopt_state, plan_adoption, AdoptCandidate, AdoptDecision, AdoptMode, AdoptTiming,
};
pub use batch::{assign_in_flight, wire_size, BatchLimits, BatchSelector};
pub use corrupt_state::{
    set_aside_corrupt_state, shown_row, CorruptRow, CorruptStateOutcome, CORRUPT_STATE,
    MAX_SHOWN_ROW_CHARS,
};
pub use echoes::{acknowledge, needs_record, Acked, SyncHeader};
pub use local_shape::{
    plan_local_write_shape, KeyFacts, LocalWritePlan, OpKind, PendingData, PlannedPending,
};
pub use local_write::plan_local_write;
pub use unencodable::{encodable_part, set_aside_unencodable, INVALID_VALUE};

use serde::{Deserialize, Serialize};

use crate::conflict::ManualConflict;
use crate::hlc::Hlc;
use crate::key::RecordId;
use crate::protocol::{MergeMode, Mutation};
use crate::record::{apply_op, Op, Record};

/// A local change not yet sent. Mergeable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingOp {
    /// The (merged) change.
    pub op: Op,
    /// Timestamp of the latest local write merged into it.
    pub hlc: Hlc,
    /// FIFO position in the outbox (from [`ClientMeta::next_queue_order`]).
    pub queued: u64,
    /// When its first write was made (ms, the timestamp's time; 0 in entries stored
    /// before it was recorded: [`entry`] then shows `hlc`'s).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub since_ms: u64,
}

fn is_zero<T: Default + PartialEq>(n: &T) -> bool {
    *n == T::default()
}

/// A change that was sent at least once. Frozen until the server answers it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InFlightOp {
    /// The record.
    pub id: RecordId,
    /// The change, as sent.
    pub op: Op,
    /// The `(clientId, seq)` seq it was sent with.
    pub seq: u64,
    /// The server version it was based on.
    pub base_version: u64,
    /// Timestamp of its latest local write.
    pub hlc: Hlc,
    /// How the server must treat a stale base.
    pub mode: MergeMode,
    /// When its first write was made (see [`PendingOp::since_ms`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub since_ms: u64,
    /// How many batches took it to send (1 when first sent; 0 in entries stored
    /// before it was counted).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempts: u32,
}

impl InFlightOp {
    /// A batch takes the entry to send it again: one more attempt (what
    /// `pendingChanges()` shows as `attempts`).
    pub fn resent(&mut self) {
        self.attempts = self.attempts.max(1).saturating_add(1);
    }

    /// The wire form of this entry.
    pub fn to_mutation(&self) -> Mutation {
        Mutation {
            seq: self.seq,
            table: self.id.table.clone(),
            key: self.id.key.clone(),
            op: self.op.clone(),
            base_version: self.base_version,
            hlc: self.hlc.clone(),
            mode: self.mode,
        }
    }
}

/// Everything the client stores about one record.
///
/// Invariant: `value` = the server's record at `version`, then the in-flight op, then
/// the pending op applied on top (`apply_op`).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct KeyState {
    /// The record as the app sees it (`None` = absent or deleted).
    pub value: Option<Record>,
    /// The server version `value` is based on (0 = never seen on the server).
    pub version: u64,
    /// Timestamp of the last write to `value` (local or pulled).
    pub hlc: Option<Hlc>,
    /// The pending (unsent) change.
    pub pending: Option<PendingOp>,
    /// The in-flight (sent, unanswered) change.
    pub in_flight: Option<InFlightOp>,
    /// An unresolved manual conflict (policy `manual`).
    pub conflict: Option<ManualConflict>,
    /// The server acknowledged a mutation of ours on this key whose resulting version
    /// we do not know yet (a `duplicate`, or an apply over other changes): the record
    /// exists on the server even if `version` is 0. Cleared by the next pulled change.
    #[serde(default)]
    pub acked_unpulled: bool,
}

impl KeyState {
    /// True if nothing about this key needs keeping (no record, no outbox, no conflict).
    pub fn is_empty(&self) -> bool {
        self.value.is_none()
            && self.pending.is_none()
            && self.in_flight.is_none()
            && self.conflict.is_none()
            && self.version == 0
            && !self.acked_unpulled
    }

    /// True if idb-sync keeps anything about this key besides its value: a server
    /// version, an outbox entry, a conflict or an acknowledgement. A record without
    /// sync state was never seen by the server (see [`adopt_state`]).
    pub fn has_sync_state(&self) -> bool {
        self.pending.is_some()
            || self.in_flight.is_some()
            || self.conflict.is_some()
            || self.version > 0
            || self.acked_unpulled
    }

    /// True if the server may hold this record (so a local create must be sent as a
    /// put, and a create followed by a delete does not cancel out).
    pub fn may_exist_on_server(&self) -> bool {
        self.version > 0 || self.in_flight.is_some() || self.acked_unpulled
    }

    /// True if the key has local changes not yet acknowledged by the server.
    pub fn has_local_changes(&self) -> bool {
        self.pending.is_some() || self.in_flight.is_some()
    }

    /// Recomputes `value` from a server record `server` at the key's version plus
    /// the in-flight and pending ops.
    pub fn rebuild_value(&mut self, server: Option<&Record>) {
        let mut value = server.cloned();
        if let Some(f) = &self.in_flight {
            value = apply_op(value.as_ref(), &f.op);
        }
        if let Some(p) = &self.pending {
            value = apply_op(value.as_ref(), &p.op);
        }
        self.value = value;
    }

    /// Rolls the record back to the server's copy after its local change became a dead
    /// letter without the server's answer carrying that copy (the one dead-letter rule,
    /// docs/SYNC_MANAGER.md): what is still pending stays on top of "absent"; if the
    /// server may have the record, the key forgets its version and the cursor is
    /// dropped, so the next pull brings the server's copy back. Returns whether the
    /// server may have the record. The key must have nothing in flight.
    pub fn roll_back_to_server_copy(&mut self, meta: &mut ClientMeta) -> bool {
        let server_had_it = self.version > 0 || self.acked_unpulled;
        self.rebuild_value(None);
        if server_had_it {
            self.version = 0;
            self.acked_unpulled = true;
            meta.forget_cursor();
        }
        server_had_it
    }

    /// The timestamp of the latest local write still outstanding.
    pub fn local_hlc(&self) -> Option<&Hlc> {
        match (&self.pending, &self.in_flight) {
            (Some(p), _) => Some(&p.hlc),
            (None, Some(f)) => Some(&f.hlc),
            (None, None) => None,
        }
    }
}

/// The client's sync bookkeeping, stored next to the records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientMeta {
    /// This client's id (one per database per device), sent with every mutation.
    pub client_id: String,
    /// The next `seq` to assign (I3: persisted, only grows).
    pub next_seq: u64,
    /// The next FIFO position for a pending entry.
    pub next_queue_order: u64,
    /// The cursor of the last pulled page applied (I4).
    pub cursor: Option<crate::protocol::Cursor>,
    /// Measured offset of the server clock to the local clock, ms.
    pub clock_offset_ms: i64,
    /// The last HLC timestamp issued or observed.
    pub hlc: Hlc,
    /// The next id for a dead letter.
    pub next_dead_letter_id: u64,
    /// The account (server user id) this database's synced data belongs to, recorded
    /// from the first successful exchange; `None` before it (and in metadata stored
    /// before accounts were recorded). Sent with every request (I10).
    #[serde(default)]
    pub account: Option<String>,
    /// Every own mutation with a seq up to this is held at its exact server version,
    /// so an incremental pull may leave its echo out ([`echoes`]; 0 in metadata
    /// stored before it).
    #[serde(default)]
    pub exact_through: u64,
    /// The highest own seq the server answered ([`echoes`]).
    #[serde(default)]
    pub answered_through: u64,
}

impl ClientMeta {
    /// Fresh metadata for a new client.
    pub fn new(client_id: impl Into<String>) -> Self {
        let client_id = client_id.into();
        ClientMeta {
            hlc: Hlc::zero(client_id.clone()),
            client_id,
            next_seq: 1,
            next_queue_order: 1,
            cursor: None,
            clock_offset_ms: 0,
            next_dead_letter_id: 1,
            account: None,
            exact_through: 0,
            answered_through: 0,
        }
    }

    /// Issues a timestamp for a local event at local wall time `local_now_ms`.
    pub fn tick_hlc(&mut self, local_now_ms: u64) -> Hlc {
        let now = crate::hlc::corrected_now(local_now_ms, self.clock_offset_ms);
        self.hlc = self.hlc.tick(now, &self.client_id);
        self.hlc.clone()
    }

    /// Checks the account a server answer names against the recorded one, and records
    /// it on the first exchange. Another account is [`crate::SyncError::AccountChanged`]
    /// (the caller applies nothing of that answer).
    pub fn check_account(&mut self, answered: Option<&str>) -> Result<(), crate::SyncError> {
        match (&self.account, answered) {
            (Some(recorded), Some(answered)) if recorded != answered => Err(crate::SyncError::AccountChanged(format!(
                "this database holds the data of account {recorded:?}, but the server answered for account {answered:?}"
            ))),
            (None, Some(answered)) => {
                self.account = Some(answered.to_owned());
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Takes the id of a new dead letter.
    pub fn take_dead_letter_id(&mut self) -> u64 {
        self.next_dead_letter_id += 1;
        self.next_dead_letter_id - 1
    }

    /// Records a timestamp received from the server.
    pub fn observe_hlc(&mut self, received: &Hlc, local_now_ms: u64) {
        let now = crate::hlc::corrected_now(local_now_ms, self.clock_offset_ms);
        self.hlc = self.hlc.observe(received, now, &self.client_id);
    }
}
