//! Storage health, as the sync loop sees it: `status.storage` ([`StorageHealth`]: what
//! the browser says of the origin's storage, a local write's storage failure, an
//! eviction and what it took); which events of the IndexedDB connection may mean the
//! database is gone ([`on_connection_event`]) and, once it is opened again, whether it
//! was ([`was_evicted`]); and the outbox entries kept in memory, so that what an
//! eviction took is reported, not hidden ([`KnownChanges`]).
//!
//! What counts as an eviction: the database this tab had open was deleted behind the
//! engine's back — another script's `indexedDB.deleteDatabase` (the connection hears
//! `versionchange` with no new version), or the browser clearing the site's data or
//! evicting it (the connection is closed under it: `close`) — and the database opened
//! again has lost the client metadata this tab knew (it had to be created anew, or it
//! holds another client id: another tab recreated it first). An upgrade by another tab
//! (`versionchange` to a version) is not one: the connection yields, as before.

use serde::Serialize;

use crate::key::{RecordId, RecordKey};
use crate::outbox::{InFlightOp, OpKind};
use crate::sync_loop::StatusError;
use crate::{ErrorClass, ErrorCode};

/// `status.storage`: the health of the storage the engine lives in, as this tab sees
/// it (every tab reads `navigator.storage` itself, and detects an eviction of its own
/// connection: it is never taken from the leader's status broadcast).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageHealth {
    /// `navigator.storage.persisted()` (`null`: unknown — no Storage API, or not read yet).
    pub persisted: Option<bool>,
    /// Bytes the origin uses, from `navigator.storage.estimate()` (`null`: unknown).
    pub usage: Option<u64>,
    /// Bytes the origin may use, from the same estimate (`null`: unknown).
    pub quota: Option<u64>,
    /// The storage failure of this tab's last local write (`quota_exceeded`,
    /// `storage_error`), until one of its local writes succeeds. (Boxed, like
    /// `evicted`: the status travels in a `Message`, which stays small.)
    pub write_error: Option<Box<StatusError>>,
    /// `storage_evicted` once the database was deleted behind the engine's back, then
    /// recreated and refilled from the server; it stays until the manager closes.
    pub evicted: Option<Box<StatusError>>,
    /// How many unsynced changes were lost with it (`lostChanges()` lists them).
    pub lost: usize,
}

impl StorageHealth {
    /// What the browser said of the origin's storage.
    pub fn estimated(&mut self, persisted: Option<bool>, usage: Option<u64>, quota: Option<u64>) {
        self.persisted = persisted;
        self.usage = usage;
        self.quota = quota;
    }

    /// A local write failed with error `code`: a storage failure shows (true: changed);
    /// bad input (an invalid record, a missing key, ...) is the caller's, not the
    /// storage's, and only rejects the write.
    pub fn write_failed(&mut self, code: &str, message: String) -> bool {
        if code != ErrorCode::QuotaExceeded.as_str() && code != ErrorCode::StorageError.as_str() {
            return false;
        }
        self.write_error = Some(Box::new(StatusError {
            code: code.to_owned(),
            message,
            class: ErrorClass::Transient,
            server_code: None,
        }));
        true
    }

    /// A local write succeeded: its storage is fine again (true: changed).
    pub fn wrote(&mut self) -> bool {
        self.write_error.take().is_some()
    }

    /// The database was evicted, taking `lost` unsynced changes with it.
    pub fn evicted_now(&mut self, lost: usize) {
        self.lost += lost;
        self.evicted = Some(Box::new(StatusError {
            code: ErrorCode::StorageEvicted.as_str().to_owned(),
            message: format!(
                "the local database was deleted by the browser or another script; it was recreated and refilled from the server ({} unsynced change(s) lost: lostChanges())",
                self.lost
            ),
            class: ErrorClass::Transient,
            server_code: None,
        }));
    }
}

/// What the IndexedDB connection heard.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ConnectionEvent {
    /// `versionchange`: another connection asks for `new_version` (`None`: it deletes
    /// the database).
    VersionChange {
        /// The event's `newVersion`.
        new_version: Option<f64>,
    },
    /// `close`: the browser closed the connection (site data cleared, eviction).
    Closed,
}

/// What to do with the connection after a [`ConnectionEvent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionAction {
    /// Close it for good: another tab upgrades the database (this one is outdated).
    Yield,
    /// Close it and open the database again (it may be gone: [`was_evicted`]).
    Reopen,
}

/// The rule of the module docs: a deletion or a forced close reopens; an upgrade yields.
pub fn on_connection_event(event: ConnectionEvent) -> ConnectionAction {
    match event {
        ConnectionEvent::VersionChange {
            new_version: Some(_),
        } => ConnectionAction::Yield,
        _ => ConnectionAction::Reopen,
    }
}

/// How long to wait before attempt `attempt` (0-based) to open the database again;
/// `None`: give up. The first is at once; while the browser is still clearing the
/// site's data an open fails (`AbortError`), so later ones back off, for about 6 s
/// in all.
pub fn reopen_delay_ms(attempt: u32) -> Option<u64> {
    match attempt {
        0 => Some(0),
        1..=6 => Some(50 << attempt),
        _ => None,
    }
}

/// After [`ConnectionAction::Reopen`]: whether the data this tab expected is gone —
/// the metadata had to be `created`, or holds another client id than `expected`.
pub fn was_evicted(expected: &str, created: bool, found: &str) -> bool {
    created || expected != found
}

/// An unsynced change lost with an evicted database: `{ table, key, op }`, as
/// `pendingChanges()` listed it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LostChange {
    /// The table.
    pub table: String,
    /// The record's key.
    pub key: RecordKey,
    /// `create`, `put`, `update` or `delete`.
    pub op: &'static str,
}

/// The outbox entries this tab knows of, kept in memory: its own writes say what they
/// queued (no read). What was queued before this tab opened is not read at open (that
/// would cost every open a read of the whole outbox): the memory is *complete* from the
/// first time this tab sees the outbox empty (at open, or once a round drained it). While
/// complete, a count read from storage that differs from what it knows (another tab
/// wrote, a round ended) makes it read the entries again.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KnownChanges {
    changes: Vec<LostChange>,
    complete: bool,
}

impl KnownChanges {
    /// A local write of this tab on `table` left each key's pending entry as given
    /// (`None`: the key has none any more — its writes cancelled out).
    pub fn wrote(&mut self, table: &str, keys: Vec<(RecordKey, Option<OpKind>)>) {
        for (key, kind) in keys {
            let at = self
                .changes
                .iter()
                .rposition(|c| c.table == table && c.key == key);
            match (at, kind) {
                (Some(i), None) => {
                    self.changes.remove(i);
                }
                (Some(i), Some(kind)) => self.changes[i].op = kind.as_str(),
                (None, Some(kind)) => self.changes.push(LostChange {
                    table: table.to_owned(),
                    key,
                    op: kind.as_str(),
                }),
                (None, None) => {}
            }
        }
    }

    /// The outbox holds `unacknowledged` entries (the status's `pending + inFlight`):
    /// whether to read them again (the memory is complete and the count differs from
    /// it). An empty outbox is known without a read, and completes the memory.
    pub fn counted(&mut self, unacknowledged: usize) -> bool {
        if unacknowledged == 0 {
            self.changes.clear();
            self.complete = true;
        }
        self.complete && self.changes.len() != unacknowledged
    }

    /// The entries as read: in flight, then pending.
    pub fn read(&mut self, in_flight: Vec<InFlightOp>, pending: Vec<(RecordId, OpKind)>) {
        let sent = in_flight.into_iter().map(|f| (f.id, OpKind::of(&f.op)));
        self.changes = sent
            .chain(pending)
            .map(|(id, kind)| LostChange {
                table: id.table,
                key: id.key,
                op: kind.as_str(),
            })
            .collect();
    }

    /// The database was evicted: what it took, as known. The new database starts
    /// empty, so the memory is complete again.
    pub fn take(&mut self) -> Vec<LostChange> {
        self.complete = true;
        std::mem::take(&mut self.changes)
    }
}

#[cfg(test)]
#[path = "storage_tests.rs"]
mod tests;
