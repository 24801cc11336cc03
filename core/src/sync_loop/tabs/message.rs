//! What the tab machine says and hears: the [`Message`] between the tabs of one
//! database (its JSON is the wire format of the `idb-sync-loop:<dbName>` channel),
//! the [`Effect`]s the browser half executes, and why a `syncNow()` is refused
//! ([`Rejection`]).

use serde::{Deserialize, Serialize};

use crate::sync_loop::{StatusError, SyncNowResult, SyncStatus};
use crate::{ErrorClass, ErrorCode};

/// A message between the tabs of one database.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
// Decoded through a flat struct (`crate::protocol::flat`), not serde's buffering
// internally tagged decoding; encoded with `type` as the tag.
#[serde(
    tag = "type",
    rename_all = "camelCase",
    try_from = "crate::protocol::flat::RawMessage"
)]
pub enum Message {
    /// The leader is alive (every heartbeat period, and when a tab takes over).
    Heartbeat,
    /// The leader's status.
    Status {
        /// The status.
        status: SyncStatus,
    },
    /// A new tab asks the leader for its status.
    Hello,
    /// Something changed that the leader should sync soon.
    Poke,
    /// The app has new credentials (`refreshAuth()` in a follower).
    Reauth,
    /// A follower's `syncNow()`.
    SyncNow {
        /// The request's id.
        id: String,
    },
    /// The leader's answer to `SyncNow`.
    SyncNowDone {
        /// The request's id.
        id: String,
        /// The result, on success.
        result: Option<SyncNowResult>,
        /// The error, on failure.
        error: Option<StatusError>,
    },
}

/// The browser half's handle on one `syncNow()` promise of this tab (it maps the id
/// to the promise's `resolve`/`reject`).
pub type WaiterId = u64;

/// Why a `syncNow()` is refused or failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The browser is offline.
    Offline,
    /// `close()` was called (here, or in the leader before it took the call).
    Closed,
    /// The tab that runs the loop did not answer (says why).
    LeaderUnavailable(&'static str),
    /// The round failed with this error.
    Failed(StatusError),
}

/// The message of a `syncNow()` refused while offline ([`Rejection::Offline`]).
pub const OFFLINE: &str =
    "the browser is offline; changes stay queued and sync when it is back online";
/// The message of a `syncNow()` refused after `close()` ([`Rejection::Closed`]).
pub const CLOSED: &str = "the sync manager is closed";

impl Rejection {
    /// The error JavaScript sees for this refusal (`SyncError.code` and message), and
    /// what a leader sends back to the tab that relayed the call (`SyncNowDone`): a
    /// failed round keeps its own error; a refusal is `offline`, `manager_closed` or
    /// `leader_unavailable`, of class `transient` (the call may be tried again).
    pub fn status_error(&self) -> StatusError {
        let (code, message) = match self {
            Rejection::Failed(e) => return e.clone(),
            Rejection::Offline => (ErrorCode::Offline, OFFLINE),
            Rejection::Closed => (ErrorCode::ManagerClosed, CLOSED),
            Rejection::LeaderUnavailable(why) => (ErrorCode::LeaderUnavailable, *why),
        };
        StatusError {
            code: code.as_str().to_owned(),
            message: message.to_owned(),
            class: ErrorClass::Transient,
            server_code: None,
        }
    }
}

/// The answer to a `syncNow()`.
pub type Answer = Result<SyncNowResult, Rejection>;

/// What the browser half does after an input, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Settle this tab's `syncNow()` `waiter`.
    Settle {
        /// The waiter.
        waiter: WaiterId,
        /// Its answer.
        answer: Answer,
    },
    /// Answer another tab's relayed `syncNow()` `id` (a `SyncNowDone` message).
    Answer {
        /// The call's id.
        id: String,
        /// Its answer.
        answer: Answer,
    },
    /// Send this message to the other tabs.
    Post(Message),
    /// Ask the machine what the loop does now ([`super::Tabs::pump`]).
    Pump,
    /// Start round `round`, of leadership term `term` (first verify the lead).
    RunRound {
        /// The round's number (waiters with a ticket up to it are answered by it).
        round: u64,
        /// The term it belongs to: its outcome counts only in the same term.
        term: u64,
    },
    /// Arm the loop's timer: pump again after this many ms (replaces the last one).
    ArmLoopTimer {
        /// The delay, ms.
        after_ms: u64,
    },
    /// Disarm the loop's timer.
    StopLoopTimer,
    /// Arm the heartbeat timer: call [`super::Tabs::beat`] after this many ms.
    ArmBeat {
        /// The delay, ms.
        after_ms: u64,
    },
    /// Disarm the heartbeat timer.
    StopBeat,
    /// Arm the timeout of relayed call `call` ([`super::Tabs::timed_out`]).
    ArmCallTimer {
        /// The call's id.
        call: String,
        /// The delay, ms.
        after_ms: u64,
    },
    /// Disarm the timeout of relayed call `call`.
    StopCallTimer {
        /// The call's id.
        call: String,
    },
    /// Forget the cached token (`getToken()` is asked again).
    ForgetCredentials,
    /// Reread the outbox counts ([`super::Tabs::set_counts`]) and publish.
    RefreshCounts,
    /// Reread the client id (the leader's round may have renewed it).
    RereadClientId,
    /// Tell the status subscribers (and, from the leader, the other tabs).
    Publish,
    /// Ask the lock manager whether this tab still leads; if not, call
    /// [`super::Tabs::lost_leadership`].
    VerifyLead,
    /// Try to take the lead from a silent leader; the takeover goes ahead only while
    /// [`super::Tabs::still_silent`] holds for `since`.
    TakeOver {
        /// When the silence was noticed (monotonic ms).
        since: f64,
    },
    /// Adopt the rows without sync state (`adopt: 'pull'`, after the first pull).
    AdoptRows,
    /// Read `navigator.storage.persisted()` and `estimate()` into
    /// [`super::Tabs::storage_estimated`].
    EstimateStorage,
    /// Open live stream `conn` (`GET /v1/events`), closing any other; its events go
    /// to [`super::Tabs::live_ready`], `live_changed`, `live_failed`.
    OpenLive {
        /// The stream's number.
        conn: u64,
    },
    /// Close the live stream and stop its retry timer.
    CloseLive,
    /// Call [`super::Tabs::live_retry`] after this many ms.
    ArmLiveTimer {
        /// The delay, ms.
        after_ms: u64,
    },
    /// Tell the developer (console warning).
    Warn(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_have_their_own_codes_and_are_transient() {
        let cases = [
            (Rejection::Offline, "offline", OFFLINE),
            (Rejection::Closed, "manager_closed", CLOSED),
            (
                Rejection::LeaderUnavailable("gone"),
                "leader_unavailable",
                "gone",
            ),
        ];
        for (rejection, code, message) in cases {
            let e = rejection.status_error();
            assert_eq!((e.code.as_str(), e.message.as_str()), (code, message));
            assert_eq!(e.class, ErrorClass::Transient, "{code}");
            assert_eq!(e.server_code, None, "{code}");
        }
    }

    #[test]
    fn a_failed_round_keeps_its_error() {
        let error = StatusError {
            code: "server_error".into(),
            message: "boom".into(),
            class: ErrorClass::Fatal,
            server_code: Some("internal".into()),
        };
        assert_eq!(Rejection::Failed(error.clone()).status_error(), error);
    }
}
