//! What the app sees of the outbox (`pendingChanges()`, `exportPendingChanges()`,
//! `onOutboxChange`): one [`OutboxEntry`] per outbox entry — a key's in-flight entry
//! and its pending entry are two changes, so the list is as long as the status's
//! `pending + inFlight` (`getPendingCount()`) — in the order they reach the server
//! (in flight by seq, then pending by FIFO position), and when a listener must hear
//! of a change ([`OutboxWatch`]). The browser builds the app's objects from these
//! facts by hand (`src/sync/manager/outbox.rs`): no serde serializer is instantiated
//! for them in the package.

use super::{InFlightOp, OpKind};
use crate::key::{RecordId, RecordKey};
use crate::record::Op;
use crate::sync_loop::{StatusError, SyncStatus};

/// Whether the change was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryState {
    /// Never sent: merges with later writes of the key.
    Pending,
    /// Sent and not answered yet: frozen, resent as it is (I2).
    InFlight,
}

impl EntryState {
    /// As the app sees it: `pending` or `inFlight`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryState::Pending => "pending",
            EntryState::InFlight => "inFlight",
        }
    }
}

/// The error an entry waits on: `{ code, message }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryError {
    /// The stable error code.
    pub code: String,
    /// Human-readable message.
    pub message: String,
}

/// One change not yet on the server, as the app sees it: `{ table, key, op, state,
/// since, attempts, lastError }` (`lastError` `null` when there is none), and in an
/// export also `change` (`{ kind, record | patch }` in its wire form, `null` when its
/// data could not be read).
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxEntry {
    /// The table.
    pub table: String,
    /// The record's key.
    pub key: RecordKey,
    /// `create`, `put`, `update` or `delete`.
    pub op: &'static str,
    /// Sent or not.
    pub state: EntryState,
    /// When its first write was made (ms since the epoch).
    pub since: u64,
    /// How many batches took it to send (0 while pending).
    pub attempts: u32,
    /// What the last round failed with, while rounds fail (`null` otherwise).
    pub last_error: Option<EntryError>,
    /// The change's data (read for an export only; not part of the app's view, so
    /// that view never converts a record into JS).
    pub change: Option<Op>,
}

/// A pending entry as storage reads it (its data only for an export).
#[derive(Clone, Debug, PartialEq)]
pub struct PendingFacts {
    /// The change's kind.
    pub kind: OpKind,
    /// FIFO position.
    pub queued: u64,
    /// [`super::PendingOp::since_ms`] (0: not recorded).
    pub since_ms: u64,
    /// The time of its latest write's timestamp (shown when `since_ms` is 0).
    pub hlc_ms: u64,
    /// The change itself, for an export.
    pub change: Option<Op>,
}

/// The error every entry waits on: the status's `lastError` while rounds fail. A
/// change the server refuses never waits in the outbox (it becomes a dead letter), so
/// what keeps an entry there is what keeps every round from finishing.
fn waiting_on(status: &SyncStatus) -> Option<EntryError> {
    status
        .last_error
        .as_ref()
        .map(|e: &StatusError| EntryError {
            code: e.code.clone(),
            message: e.message.clone(),
        })
}

/// Sorts `items` by `key`, stably, by insertion: linear for rows that come in order
/// already (IndexedDB's index reads do), and no sort algorithm instantiated per type
/// in the package (the library's sorts cost kilobytes each). Quadratic for rows in
/// no order: only for reads that come in order.
pub fn sort_in_place<T>(items: &mut [T], key: impl Fn(&T) -> u64) {
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && key(&items[j - 1]) > key(&items[j]) {
            items.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// The entries of the outbox, in the order they reach the server: in-flight entries
/// by seq, then pending ones by FIFO position. `export` keeps each change's data.
pub fn outbox_entries(
    mut in_flight: Vec<InFlightOp>,
    mut pending: Vec<(RecordId, PendingFacts)>,
    status: &SyncStatus,
    export: bool,
) -> Vec<OutboxEntry> {
    sort_in_place(&mut in_flight, |f| f.seq);
    sort_in_place(&mut pending, |(_, p)| p.queued);
    let error = waiting_on(status);
    let mut out = Vec::with_capacity(in_flight.len() + pending.len());
    let mut add = |id: RecordId, op, state, since, attempts, change: Option<Op>| {
        out.push(OutboxEntry {
            table: id.table,
            key: id.key,
            op,
            state,
            since,
            attempts,
            last_error: error.clone(),
            change: change.filter(|_| export),
        })
    };
    for f in in_flight {
        let since = if f.since_ms > 0 {
            f.since_ms
        } else {
            f.hlc.millis
        };
        let op = OpKind::of(&f.op).as_str();
        add(
            f.id,
            op,
            EntryState::InFlight,
            since,
            f.attempts.max(1),
            Some(f.op),
        );
    }
    for (id, p) in pending {
        let since = if p.since_ms > 0 { p.since_ms } else { p.hlc_ms };
        add(id, p.kind.as_str(), EntryState::Pending, since, 0, p.change);
    }
    out
}

/// Coalesces the reads behind `onOutboxChange`: a change of the outbox (a local write
/// in any tab, a status whose outbox part moved) starts one read of the entries; a
/// change during that read asks for one more read after it, never more; a listener
/// hears the entries only when they differ from what it heard last.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutboxWatch {
    reads: crate::sync_loop::SerialReads,
    told: Option<Vec<OutboxEntry>>,
    seen: Option<StatusPart>,
}

/// What of a status the entries show or depend on: the counts, the error (every entry
/// shows it) and whether a round runs (a round takes entries in flight and counts
/// their attempts).
type StatusPart = (usize, usize, bool, Option<StatusError>);

impl OutboxWatch {
    /// The outbox may have changed: whether to start a read now.
    pub fn touched(&mut self) -> bool {
        self.reads.touched()
    }

    /// A new status: whether to start a read now (its outbox part moved, see
    /// [`StatusPart`], and no read is running).
    pub fn status(&mut self, status: &SyncStatus) -> bool {
        let part = (
            status.pending,
            status.in_flight,
            status.syncing,
            status.last_error.clone(),
        );
        if self.seen.as_ref() == Some(&part) {
            return false;
        }
        self.seen = Some(part);
        self.touched()
    }

    /// A read finished with `entries` (`None`: it failed). Returns the entries to tell
    /// the listeners (if they changed) and whether to read again at once.
    pub fn read(&mut self, entries: Option<Vec<OutboxEntry>>) -> (Option<Vec<OutboxEntry>>, bool) {
        let again = self.reads.finished();
        let tell = match entries {
            Some(e) if self.told.as_ref() != Some(&e) => {
                self.told = Some(e.clone());
                Some(e)
            }
            _ => None,
        };
        (tell, again)
    }
}

#[cfg(test)]
#[path = "entry_tests.rs"]
mod tests;
