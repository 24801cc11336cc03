//! [`SyncStatus`]: what the app shows about syncing (`getSyncStatus()`, `subscribe`),
//! and how a round, its progress, an error and the outbox counts change it. Serialized
//! in camelCase for JavaScript and for the leader tab's status broadcast, so every tab
//! shows the same thing. [`SyncNowResult`] is what `syncNow()` resolves with.

use serde::{Deserialize, Serialize};

use super::{LiveMode, StorageHealth};
use crate::engine::RoundReport;
use crate::error::{ErrorClass, SyncError};

/// The loop's phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    /// Nothing running, nothing wrong.
    #[default]
    Idle,
    /// A round is sending local changes.
    Pushing,
    /// A round is fetching server changes.
    Pulling,
    /// The browser is offline; changes queue.
    Offline,
    /// The last round failed (see `lastError`, `nextRetryAt`).
    Error,
}

/// The last error, as shown to the app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusError {
    /// The stable error code (`SyncError.code`), e.g. `network_error`, `auth_failed`.
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// How the loop reacts: `transient` (retrying), `auth` (waiting for a new token
    /// or `syncNow()`), `fatal` (waiting for `syncNow()`), `rejected`.
    pub class: ErrorClass,
    /// The code of the server's error body when the server answered
    /// (`rate_limited`, `token_expired`, ...: [`SyncError::server_code`]); shown as
    /// `lastError.serverCode` and as `serverCode` on the `syncNow()` rejection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_code: Option<String>,
}

impl From<&SyncError> for StatusError {
    fn from(error: &SyncError) -> Self {
        StatusError {
            code: error.code().to_owned(),
            message: error.to_string(),
            class: error.class(),
            server_code: error.server_code().map(str::to_owned),
        }
    }
}

/// Progress of the running round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// Local changes the server has answered so far in this round.
    pub pushed: usize,
    /// Local changes waiting when the round started (pending + in flight).
    pub total: usize,
    /// Server changes received so far in this round.
    pub pulled: usize,
}

/// One step of a running round, as seen on the wire (see
/// [`super::ProgressTransport`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoundProgress {
    /// A push request of this many mutations is being sent.
    Pushing {
        /// Mutations in the request.
        mutations: usize,
    },
    /// The server answered this many mutations.
    Pushed {
        /// Results in the answer.
        results: usize,
    },
    /// A pull request is being sent.
    Pulling,
    /// The server sent this many changes.
    Pulled {
        /// Changes in the page.
        changes: usize,
    },
}

/// Outbox and conflict counts, read from storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct OutboxCounts {
    /// Entries never sent.
    pub pending: usize,
    /// Entries sent and not yet answered.
    pub in_flight: usize,
    /// Open manual conflicts.
    pub conflicts: usize,
    /// Dead letters (rejected changes kept for the app).
    pub dead_letters: usize,
}

/// The status last told to the app's subscribers: a status is published (to them,
/// and from the leader to the other tabs) only when it differs from it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Published(Option<SyncStatus>);

impl Published {
    /// Whether `status` differs from the one last published; if so, it now is.
    pub fn changed(&mut self, status: &SyncStatus) -> bool {
        if self.0.as_ref() == Some(status) {
            return false;
        }
        self.0 = Some(status.clone());
        true
    }
}

impl OutboxCounts {
    /// The local changes the server has not acknowledged (`getPendingCount()`):
    /// never sent, or sent and not answered. Conflicts and dead letters are not
    /// counted: they wait for the app, not for the server.
    pub fn unacknowledged(&self) -> usize {
        self.pending + self.in_flight
    }
}

/// The sync status (`getSyncStatus()`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    /// What the loop is doing.
    pub phase: Phase,
    /// Whether a round is running.
    pub syncing: bool,
    /// Local changes never sent.
    pub pending: usize,
    /// Local changes sent and not yet answered.
    pub in_flight: usize,
    /// When the last round succeeded (ms since the epoch, local clock).
    pub last_sync_at: Option<u64>,
    /// The error of the last round, until a round succeeds.
    pub last_error: Option<StatusError>,
    /// Whether the browser is online.
    pub online: bool,
    /// Progress of the running (or last) round.
    pub progress: Progress,
    /// When the next retry runs (ms since the epoch), after a failed round.
    pub next_retry_at: Option<u64>,
    /// Open manual conflicts.
    pub conflicts: usize,
    /// Dead letters.
    pub dead_letters: usize,
    /// How another device's changes arrive: `push` (the live channel is open),
    /// `polling` (interval and triggers only), `off` (no automatic sync).
    #[serde(default)]
    pub live: LiveMode,
    /// The health of the browser storage: persisted flag, usage and quota, a local
    /// write's storage failure, an eviction (`super::storage`). Each tab reads its own
    /// (`Tabs::storage_estimated`), so it is not read from the leader's broadcast.
    #[serde(default, skip_deserializing)]
    pub storage: StorageHealth,
}

impl SyncStatus {
    /// The status before any round.
    pub fn new(online: bool) -> Self {
        let mut status = SyncStatus {
            phase: Phase::Idle,
            syncing: false,
            pending: 0,
            in_flight: 0,
            last_sync_at: None,
            last_error: None,
            online,
            progress: Progress::default(),
            next_retry_at: None,
            conflicts: 0,
            dead_letters: 0,
            live: LiveMode::Off,
            storage: StorageHealth::default(),
        };
        status.refresh_phase();
        status
    }

    /// The outbox and conflict counts shown.
    pub fn counts(&self) -> OutboxCounts {
        OutboxCounts {
            pending: self.pending,
            in_flight: self.in_flight,
            conflicts: self.conflicts,
            dead_letters: self.dead_letters,
        }
    }

    /// New outbox and conflict counts.
    pub fn set_counts(&mut self, counts: OutboxCounts) {
        self.pending = counts.pending;
        self.in_flight = counts.in_flight;
        self.conflicts = counts.conflicts;
        self.dead_letters = counts.dead_letters;
    }

    /// The browser went online or offline.
    pub fn set_online(&mut self, online: bool) {
        self.online = online;
        self.refresh_phase();
    }

    /// A round starts with `total` local changes waiting.
    pub fn round_started(&mut self, total: usize) {
        self.syncing = true;
        self.progress = Progress {
            pushed: 0,
            total,
            pulled: 0,
        };
        self.phase = if total > 0 {
            Phase::Pushing
        } else {
            Phase::Pulling
        };
    }

    /// The running round made progress.
    pub fn round_progress(&mut self, step: RoundProgress) {
        if !self.syncing {
            return;
        }
        match step {
            RoundProgress::Pushing { .. } => self.phase = Phase::Pushing,
            RoundProgress::Pushed { results } => {
                self.progress.pushed += results;
                self.progress.total = self.progress.total.max(self.progress.pushed);
            }
            RoundProgress::Pulling => self.phase = Phase::Pulling,
            RoundProgress::Pulled { changes } => self.progress.pulled += changes,
        }
    }

    /// The running round succeeded at `now`.
    pub fn round_succeeded(&mut self, now: u64, report: &RoundReport) {
        self.syncing = false;
        self.last_sync_at = Some(now);
        self.last_error = None;
        self.next_retry_at = None;
        self.progress.pulled = self.progress.pulled.max(report.pulled);
        self.refresh_phase();
    }

    /// The running round failed; `next_retry_at` from
    /// [`super::Scheduler::round_failed`].
    pub fn round_failed(&mut self, error: &SyncError, next_retry_at: Option<u64>) {
        self.syncing = false;
        self.last_error = Some(error.into());
        self.next_retry_at = next_retry_at;
        self.refresh_phase();
    }

    /// The manager stopped working (a panic, a storage failure at open): shown as an
    /// error that no retry clears.
    pub fn broken(&mut self, error: StatusError) {
        self.syncing = false;
        self.last_error = Some(error);
        self.next_retry_at = None;
        self.phase = Phase::Error;
    }

    fn refresh_phase(&mut self) {
        if self.syncing {
            return;
        }
        self.phase = if !self.online {
            Phase::Offline
        } else if self.last_error.is_some() {
            Phase::Error
        } else {
            Phase::Idle
        };
    }
}

/// What `syncNow()` resolves with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SyncNowResult {
    /// Local changes the server took (`applied` or `duplicate`).
    pub pushed: usize,
    /// Server changes applied locally.
    pub pulled: usize,
    /// Conflicts met (resolved by policy or kept for the app).
    pub conflicts: usize,
    /// Local changes the server rejected (now dead letters).
    pub rejected: usize,
}

impl std::ops::AddAssign for SyncNowResult {
    fn add_assign(&mut self, other: SyncNowResult) {
        self.pushed += other.pushed;
        self.pulled += other.pulled;
        self.conflicts += other.conflicts;
        self.rejected += other.rejected;
    }
}

impl std::ops::Add for SyncNowResult {
    type Output = SyncNowResult;
    fn add(mut self, other: SyncNowResult) -> SyncNowResult {
        self += other;
        self
    }
}

impl From<&RoundReport> for SyncNowResult {
    fn from(report: &RoundReport) -> Self {
        SyncNowResult {
            pushed: report.applied + report.duplicates,
            pulled: report.pulled,
            conflicts: report.conflicts,
            rejected: report.rejected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{OutboxCounts, Published, SyncStatus};

    #[test]
    fn a_status_is_published_once_per_change() {
        let mut published = Published::default();
        let mut status = SyncStatus::new(true);
        assert!(published.changed(&status), "the first one");
        assert!(!published.changed(&status), "the same again");
        status.set_online(false);
        assert!(published.changed(&status), "changed");
        assert!(!published.changed(&status.clone()));
    }

    #[test]
    fn unacknowledged_counts_pending_and_in_flight_only() {
        let counts = OutboxCounts {
            pending: 2,
            in_flight: 3,
            conflicts: 5,
            dead_letters: 7,
        };
        assert_eq!(counts.unacknowledged(), 5);
        assert_eq!(OutboxCounts::default().unacknowledged(), 0);
    }
}
