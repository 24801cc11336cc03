//! Adopting records that have no sync state: rows another library (Dexie) or an older
//! app wrote into a synced table, before idb-sync opened the database or beside it.
//!
//! Such a row was never seen by the server. What happens to it is the app's choice,
//! [`AdoptMode`]: queue it as a create at once (`push`), let the server's copy win and
//! queue the rest after the first complete pull (`pull`), or leave it local-only
//! (`none`). The browser adapter scans the tables in chunks and asks
//! [`plan_adoption`] about each row; the queued create is stored like any pending
//! create (its record is the row itself), in the same transaction as the metadata
//! it advances (I1).

use crate::merge::LocalOp;
use crate::outbox::{
    plan_local_write, plan_local_write_shape, ClientMeta, KeyFacts, KeyState, LocalWritePlan,
    OpKind,
};

/// What to do with rows of synced tables that have no sync state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AdoptMode {
    /// Queue them as creates when the database opens (a record the server also has
    /// goes through the conflict policy).
    #[default]
    Push,
    /// The server's copy wins: adopt only after the first complete pull has written
    /// the server's records over the local ones; what is left is local-only and is
    /// queued as creates then.
    Pull,
    /// Leave them local-only; one is queued (as a create) when written through idb-sync.
    None,
}

impl AdoptMode {
    /// `push`, `pull` or `none`.
    pub fn parse(s: &str) -> Option<AdoptMode> {
        Some(match s {
            "push" => AdoptMode::Push,
            "pull" => AdoptMode::Pull,
            "none" => AdoptMode::None,
            _ => return None,
        })
    }

    /// When to scan, given whether this database has completed a pull (has a cursor).
    /// In `pull` mode a database that already pulled adopts at once: the server's
    /// records it has seen are already in place, so what lacks state is local-only.
    pub fn timing(self, has_pulled: bool) -> AdoptTiming {
        match self {
            AdoptMode::Push => AdoptTiming::Now,
            AdoptMode::Pull if has_pulled => AdoptTiming::Now,
            AdoptMode::Pull => AdoptTiming::AfterFirstPull,
            AdoptMode::None => AdoptTiming::Never,
        }
    }
}

/// When the adapter scans for rows to adopt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdoptTiming {
    /// Now (at open).
    Now,
    /// After the next sync round that completes its pull.
    AfterFirstPull,
    /// Never.
    Never,
}

/// One row of a synced table, as the adapter sees it while scanning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdoptCandidate {
    /// The key has a row in the sync state (anything: version, outbox entry, conflict).
    pub has_sync_state: bool,
    /// The key is one the protocol can carry (a string or a finite number).
    pub key_syncable: bool,
}

impl AdoptCandidate {
    /// Whether [`plan_adoption`] would queue this row: adapters scan read-only first
    /// and open a write only for ranges where this is true for some row.
    pub fn needs_adoption(self) -> bool {
        !self.has_sync_state && self.key_syncable
    }
}

/// The decision for one row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdoptDecision {
    /// idb-sync already tracks it: nothing to do.
    Known,
    /// Queue it: a pending create whose record is the row (`plan.pending` is a
    /// [`OpKind::Create`] with [`crate::outbox::PendingData::NewValue`]).
    Queue(LocalWritePlan),
    /// Its key cannot be synced (a Date, an array, binary): it stays local-only.
    Unsyncable,
}

/// Decides what to do with one row found while scanning, advancing `meta` (clock and
/// queue position) for a queued one.
pub fn plan_adoption(
    row: AdoptCandidate,
    meta: &mut ClientMeta,
    local_now_ms: u64,
) -> AdoptDecision {
    if row.has_sync_state {
        return AdoptDecision::Known;
    }
    if !row.key_syncable {
        return AdoptDecision::Unsyncable;
    }
    let facts = KeyFacts {
        exists_locally: true,
        pending: None,
        may_exist_on_server: false,
        pending_may_have_left: false,
    };
    match plan_local_write_shape(facts, meta, OpKind::Put, local_now_ms) {
        Ok(Some(plan)) => AdoptDecision::Queue(plan),
        // A put of a key without state always plans a create.
        _ => AdoptDecision::Known,
    }
}

/// [`plan_adoption`] on a full [`KeyState`] (for adapters that keep whole states, like
/// the in-memory one): queues a record without sync state as a create. Returns whether
/// it queued one.
pub fn adopt_state(state: &mut KeyState, meta: &mut ClientMeta, local_now_ms: u64) -> bool {
    let Some(value) = state.value.clone() else {
        return false;
    };
    if state.has_sync_state() {
        return false;
    }
    plan_local_write(state, meta, LocalOp::Put(value), local_now_ms).is_ok()
}
