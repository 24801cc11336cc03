//! [`Scheduler`]: decides *when* the next sync round runs, from the triggers of
//! docs/SYNC_MANAGER.md, "When a round runs" — local writes (debounced), an interval, `online`/`offline`, page
//! visibility, `syncNow()`, start/stop of auto sync, the outcome of the last round
//! (backoff with full jitter, `Retry-After`, auth and fatal errors) and `close()`.
//!
//! It owns no timer and reads no clock: every input carries the time (ms) and the
//! randomness it needs, and [`Scheduler::decide`] answers run now, sleep until a time,
//! or stay idle and why. The browser loop calls `decide` after every input and arms
//! one timer; tests drive it exactly.

use crate::error::{ErrorClass, SyncError};
use crate::retry::{Backoff, NextStep, RetryPolicy};

/// Scheduler settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchedulerConfig {
    /// Periodic sync while the page is visible, ms; `None`: no periodic sync (rounds
    /// still run after writes and on the other triggers).
    pub interval_ms: Option<u64>,
    /// Periodic sync while the page is hidden, ms (used instead of `interval_ms` when
    /// it is longer). A retry while hidden also waits at least this long after the
    /// failure: a background tab does not hammer a failing server.
    pub hidden_interval_ms: u64,
    /// A local write schedules a push this long after the *last* write of a burst…
    pub debounce_ms: u64,
    /// …but never later than this long after the *first* write of the burst, so a
    /// steady stream of writes still goes out.
    pub max_debounce_ms: u64,
    /// Backoff after failed rounds.
    pub retry: RetryPolicy,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            interval_ms: Some(30_000),
            hidden_interval_ms: 5 * 60_000,
            debounce_ms: 250,
            max_debounce_ms: 2_000,
            retry: RetryPolicy::default(),
        }
    }
}

/// Why no round is scheduled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdleReason {
    /// The browser is offline: no network attempt until it is back online.
    Offline,
    /// Auto sync is stopped: only `syncNow()` runs a round.
    Stopped,
    /// The server refused the credentials: waiting for a new token or `syncNow()`.
    AuthBlocked,
    /// An error retrying cannot fix (protocol upgrade): waiting for `syncNow()`.
    FatalBlocked,
    /// Auto sync is on but nothing is due (no interval, no pending write).
    NothingDue,
    /// `close()` was called: nothing will ever run again.
    Closed,
}

/// What the sync loop should do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Start a round now.
    RunNow,
    /// Sleep until this time (ms), then ask again. Any input may change the answer.
    SleepUntil(u64),
    /// A round is running: wait for it to finish.
    Busy,
    /// Do nothing until an input changes the state.
    Idle(IdleReason),
}

/// Why a round that failed stopped the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocked {
    /// Persistent 401/403: until new credentials or `syncNow()`.
    Auth,
    /// Retrying cannot help: until `syncNow()`.
    Fatal,
}

/// A scheduled retry after a failed round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Retry {
    failed_at: u64,
    due: u64,
}

/// The scheduling state machine of one sync loop (see the module docs).
#[derive(Clone, Debug)]
pub struct Scheduler {
    config: SchedulerConfig,
    backoff: Backoff,
    auto: bool,
    closed: bool,
    online: bool,
    visible: bool,
    running: bool,
    blocked: Option<Blocked>,
    /// Run as soon as auto sync allows (online, visible, start, more work left).
    asap: bool,
    /// Run as soon as possible even when stopped or blocked (`syncNow()`).
    explicit: bool,
    burst_started_at: Option<u64>,
    write_due: Option<u64>,
    /// The live channel heard the server's stream move (`poked`): a pull is due.
    poke_due: Option<u64>,
    last_round_end: u64,
    retry: Option<Retry>,
    rounds_started: u64,
}

impl Scheduler {
    /// A scheduler created at `now`, online and visible as given, auto sync stopped
    /// (call [`Scheduler::start`]).
    pub fn new(config: SchedulerConfig, now: u64, online: bool, visible: bool) -> Self {
        Scheduler {
            config,
            backoff: Backoff::new(config.retry),
            auto: false,
            closed: false,
            online,
            visible,
            running: false,
            blocked: None,
            asap: false,
            explicit: false,
            burst_started_at: None,
            write_due: None,
            poke_due: None,
            last_round_end: now,
            retry: None,
            rounds_started: 0,
        }
    }

    /// The settings.
    pub fn config(&self) -> &SchedulerConfig {
        &self.config
    }

    /// Whether auto sync is on.
    pub fn is_auto(&self) -> bool {
        self.auto
    }

    /// Whether the browser is online (as last reported).
    pub fn is_online(&self) -> bool {
        self.online
    }

    /// Whether a round is running.
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// Why the loop is blocked, if it is.
    pub fn blocked(&self) -> Option<Blocked> {
        self.blocked
    }

    /// Consecutive failed rounds.
    pub fn failures(&self) -> u32 {
        self.backoff.failures()
    }

    /// Rounds started so far (the number of the running or last round).
    pub fn rounds_started(&self) -> u64 {
        self.rounds_started
    }

    /// When the scheduled retry will run (ms), if one is scheduled; shown as
    /// `nextRetryAt`.
    pub fn next_retry_at(&self) -> Option<u64> {
        self.retry.map(|r| self.retry_due(r))
    }

    /// Turns auto sync on; a round runs at once.
    pub fn start(&mut self) {
        if !self.auto {
            self.auto = true;
            self.asap = true;
        }
    }

    /// Turns auto sync off: only `syncNow()` runs rounds. A running round finishes.
    pub fn stop(&mut self) {
        self.auto = false;
        self.asap = false;
    }

    /// `close()`: nothing will ever run again.
    pub fn close(&mut self) {
        self.closed = true;
        self.auto = false;
    }

    /// Whether `close()` was called.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The app wrote locally at `now` (in this tab or, for the leader, in another tab).
    /// The push is debounced: a burst of writes is one round.
    pub fn local_write(&mut self, now: u64) {
        let first = *self.burst_started_at.get_or_insert(now);
        let due = now
            .saturating_add(self.config.debounce_ms)
            .min(first.saturating_add(self.config.max_debounce_ms));
        self.write_due = Some(due);
    }

    /// The live channel says the server's stream moved, at `now`: a round runs as
    /// soon as auto sync allows (after a running one; not cutting a backoff short).
    /// Pokes before the round starts are all served by it.
    pub fn poked(&mut self, now: u64) {
        self.poke_due.get_or_insert(now);
    }

    /// The browser went online or offline. Going online runs a round at once (when
    /// auto sync is on), cutting a backoff short.
    pub fn set_online(&mut self, online: bool) {
        if online && !self.online {
            self.asap = true;
        }
        self.online = online;
    }

    /// The page became visible or hidden. Becoming visible runs a round at once (when
    /// auto sync is on); while hidden, the interval and retries are slower.
    pub fn set_visible(&mut self, visible: bool) {
        if visible && !self.visible {
            self.asap = true;
        }
        self.visible = visible;
    }

    /// New credentials: an auth block ends and a round runs at once.
    pub fn credentials_changed(&mut self) {
        if self.blocked == Some(Blocked::Auth) {
            self.blocked = None;
            self.asap = true;
        }
    }

    /// `syncNow()`: runs a round as soon as possible, even when auto sync is stopped
    /// or blocked. Returns the number of the round that will answer the call (the next
    /// round to start; a running round may have missed the latest writes), or why none
    /// can run.
    pub fn request_sync_now(&mut self) -> Result<u64, IdleReason> {
        if self.closed {
            return Err(IdleReason::Closed);
        }
        if !self.online {
            return Err(IdleReason::Offline);
        }
        self.blocked = None;
        self.explicit = true;
        Ok(self.rounds_started + 1)
    }

    /// What to do at `now`.
    pub fn decide(&self, now: u64) -> Decision {
        if self.closed {
            return Decision::Idle(IdleReason::Closed);
        }
        if self.running {
            return Decision::Busy;
        }
        if !self.online {
            return Decision::Idle(IdleReason::Offline);
        }
        if self.explicit {
            return Decision::RunNow;
        }
        match self.blocked {
            Some(Blocked::Auth) => return Decision::Idle(IdleReason::AuthBlocked),
            Some(Blocked::Fatal) => return Decision::Idle(IdleReason::FatalBlocked),
            None => {}
        }
        if !self.auto {
            return Decision::Idle(IdleReason::Stopped);
        }
        if self.asap {
            return Decision::RunNow;
        }
        let due = match self.retry {
            Some(retry) => Some(self.retry_due(retry)),
            None => [self.write_due, self.poke_due, self.interval_due()]
                .into_iter()
                .flatten()
                .min(),
        };
        match due {
            None => Decision::Idle(IdleReason::NothingDue),
            Some(due) if due <= now => Decision::RunNow,
            Some(due) => Decision::SleepUntil(due),
        }
    }

    /// A round starts at `now`; returns its number. Every trigger so far is served
    /// by it.
    pub fn round_started(&mut self, _now: u64) -> u64 {
        self.running = true;
        self.asap = false;
        self.explicit = false;
        self.burst_started_at = None;
        self.write_due = None;
        self.poke_due = None;
        self.retry = None;
        self.rounds_started += 1;
        self.rounds_started
    }

    /// The running round succeeded at `now`. `more_work`: it stopped with changes
    /// still pending (batch limits), so another round runs at once.
    pub fn round_succeeded(&mut self, now: u64, more_work: bool) {
        self.running = false;
        self.last_round_end = now;
        self.backoff.on_success();
        self.blocked = None;
        self.retry = None;
        if more_work {
            self.asap = true;
        }
    }

    /// The running round failed at `now` with `error`; `random` is a uniformly random
    /// `u64` for the jitter. Returns when the retry is due (`nextRetryAt`), or `None`
    /// when the loop is now blocked (auth, fatal).
    pub fn round_failed(&mut self, now: u64, error: &SyncError, random: u64) -> Option<u64> {
        self.running = false;
        self.last_round_end = now;
        match self.backoff.on_failure(error, random) {
            NextStep::RetryAfter(ms) => {
                self.retry = Some(Retry {
                    failed_at: now,
                    due: now.saturating_add(ms),
                });
                self.next_retry_at()
            }
            NextStep::WaitForApp => {
                self.retry = None;
                self.blocked = Some(match error.class() {
                    ErrorClass::Auth => Blocked::Auth,
                    _ => Blocked::Fatal,
                });
                None
            }
        }
    }

    fn interval_due(&self) -> Option<u64> {
        let interval = self.config.interval_ms?;
        let interval = if self.visible {
            interval
        } else {
            interval.max(self.config.hidden_interval_ms)
        };
        Some(self.last_round_end.saturating_add(interval))
    }

    fn retry_due(&self, retry: Retry) -> u64 {
        if self.visible {
            retry.due
        } else {
            retry.due.max(
                retry
                    .failed_at
                    .saturating_add(self.config.hidden_interval_ms),
            )
        }
    }
}
