//! [`Tabs`]: the sync loop of one tab among the tabs of a database, as a state machine
//! (docs/INVARIANTS.md, I7: one tab per database runs the loop). It owns whether this
//! tab leads and its *term*, the heartbeat [`Watch`], the [`Scheduler`] and the
//! [`SyncStatus`], this tab's `syncNow()` waiters, the calls other tabs relayed to it
//! (when it leads) and the calls it relayed to the leader (when it follows).
//!
//! Like the [`Scheduler`] it owns no timer and reads no clock: every input carries
//! the time it needs and returns the [`Effect`]s the browser half executes, in order
//! (settle a promise, post a message, arm a timer, run a round…).
//!
//! Terms: every change of leadership, and `close()`, ends a term. A round reports its
//! outcome with the term it started in, and a round of an old term changes nothing —
//! so a robbed or closed tab never writes a status or answers a call for it.

mod adoption;
mod app;
mod calls;
mod counts;
mod health;
mod heartbeat;
mod live;
mod message;
mod round;
mod takeover;
#[cfg(test)]
mod tests;

pub use heartbeat::{Heartbeat, Watch};
pub use message::{Answer, Effect, Message, Rejection, WaiterId, CLOSED, OFFLINE};
pub use takeover::{may_steal, still_holds, CandidateLock, Takeover};

use calls::{refusal, settle_err, LOST_LEAD};
use round::{Caller, Waiting};

use crate::sync_loop::{Live, Scheduler, StatusError, SyncNowResult, SyncStatus};
use crate::ErrorClass;

/// How long a follower waits for the leader's answer to a relayed `syncNow()`, ms.
pub const CALL_TIMEOUT_MS: u64 = 60_000;

const ROBBED: &str = "idb-sync: another tab took over the sync loop";

/// The wall-clock and monotonic time of an input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Now {
    /// Milliseconds since the epoch (the scheduler's clock).
    pub wall_ms: u64,
    /// Milliseconds on a monotonic clock (the heartbeat's clock).
    pub mono_ms: f64,
}

/// Whether the browser is online and the page visible, when an input needs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Browser {
    /// `navigator.onLine`.
    pub online: bool,
    /// The page is visible.
    pub visible: bool,
}

/// A relayed call of this tab, waiting for the leader's answer.
#[derive(Clone, Debug)]
struct Call {
    id: String,
    waiter: WaiterId,
}

/// The tab machine (see the module docs).
#[derive(Clone, Debug)]
pub struct Tabs {
    scheduler: Scheduler,
    status: SyncStatus,
    watch: Watch,
    wants_auto: bool,
    leader: bool,
    term: u64,
    closed: bool,
    frozen: bool,
    adopt_after_pull: bool,
    /// The scan at open runs (`adoption.rs`): no round starts, `syncNow()` is held.
    adopting: bool,
    /// This tab's `syncNow()` calls held until the scan at open is over.
    held: Vec<WaiterId>,
    /// The count rereads in progress.
    recount: counts::Recount,
    /// The `syncNow()` calls waiting for a round, this tab's and those other tabs
    /// relayed to this leader, by the ticket of the round that answers them.
    waiting: Vec<Waiting>,
    /// This follower's calls relayed to the leader.
    calls: Vec<Call>,
    /// This tab's own prefix for relayed call ids: every tab of a database shares the
    /// client id, so the client id alone would let two followers' calls collide.
    call_prefix: String,
    next_call: u64,
    /// The live channel (server push), held while this tab leads.
    live: Live,
}

impl Tabs {
    /// A follower (until [`Tabs::became_leader`]) started at monotonic time `mono_ms`.
    pub fn new(
        scheduler: Scheduler,
        status: SyncStatus,
        wants_auto: bool,
        heartbeat: Heartbeat,
        call_prefix: String,
        mono_ms: f64,
    ) -> Tabs {
        Tabs {
            status,
            watch: Watch::new(heartbeat, mono_ms),
            wants_auto,
            leader: false,
            term: 0,
            closed: false,
            frozen: false,
            adopt_after_pull: false,
            adopting: false,
            held: Vec::new(),
            recount: counts::Recount::default(),
            waiting: Vec::new(),
            calls: Vec::new(),
            live: Live::new(false, scheduler.config().retry),
            scheduler,
            call_prefix,
            next_call: 0,
        }
    }

    /// Whether this tab runs the loop.
    pub fn is_leader(&self) -> bool {
        self.leader
    }

    /// Whether `close()` (or a panic) ended this manager.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Whether the page is frozen (no IndexedDB work then).
    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// The current term (changes with every change of leadership and at close).
    pub fn term(&self) -> u64 {
        self.term
    }

    /// The status shown in this tab.
    pub fn status(&self) -> &SyncStatus {
        &self.status
    }

    /// The scheduler (read only: inputs go through the machine).
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    /// The heartbeat period, for the first [`Effect::ArmBeat`].
    pub fn heartbeat(&self) -> Heartbeat {
        self.watch.heartbeat()
    }

    /// Adopt the rows without sync state after the next round that succeeds.
    pub fn set_adopt_after_pull(&mut self, adopt: bool) {
        self.adopt_after_pull = adopt;
    }

    /// The manager is wired to the browser: the heartbeat starts.
    pub fn wired(&self) -> Vec<Effect> {
        vec![Effect::ArmBeat {
            after_ms: self.watch.heartbeat().period_ms,
        }]
    }

    /// A follower just opened: ask the leader for its status.
    pub fn greet(&self) -> Vec<Effect> {
        vec![
            Effect::RefreshCounts,
            Effect::EstimateStorage,
            Effect::Post(Message::Hello),
        ]
    }

    /// This tab now runs the loop. Its calls still waiting for the old leader's
    /// answer wait for this tab's next round instead (or are refused: offline).
    pub fn became_leader(&mut self, browser: Browser) -> Vec<Effect> {
        if self.closed || self.leader {
            return Vec::new();
        }
        self.leader = true;
        self.term += 1;
        self.scheduler.set_online(browser.online);
        self.scheduler.set_visible(browser.visible);
        if self.wants_auto {
            self.scheduler.start();
        }
        let mut effects = Vec::new();
        for call in std::mem::take(&mut self.calls) {
            effects.push(Effect::StopCallTimer {
                call: call.id.clone(),
            });
            self.wait_for_round(call.waiter, &mut effects, false);
        }
        effects.push(Effect::Post(Message::Heartbeat));
        effects.push(Effect::Post(Message::Status {
            status: self.status.clone(),
        }));
        effects.push(Effect::RefreshCounts);
        effects.push(Effect::EstimateStorage);
        self.live_sync(false, &mut effects);
        effects.push(Effect::Pump);
        effects
    }

    /// Another tab took the lead from this one: stop at once and follow. The
    /// abandoned round is safe to drop — its in-flight entries are resent by the new
    /// leader (docs/INVARIANTS.md, I2, I3). This tab's waiters become calls to the
    /// new leader; the calls relayed to it are answered `leader_unavailable`.
    pub fn lost_leadership(&mut self, now: Now, browser: Browser) -> Vec<Effect> {
        if !self.leader || self.closed {
            return Vec::new();
        }
        self.leader = false;
        self.term += 1;
        // A fresh scheduler: the abandoned round never reports to it.
        self.scheduler = Scheduler::new(
            *self.scheduler.config(),
            now.wall_ms,
            browser.online,
            browser.visible,
        );
        self.watch.heard(now.mono_ms);
        let mut effects = vec![Effect::StopLoopTimer, Effect::Warn(ROBBED)];
        self.live_sync(false, &mut effects);
        for waiting in std::mem::take(&mut self.waiting) {
            match waiting.who {
                Caller::Relayed(id) => {
                    let answer = Err(Rejection::LeaderUnavailable(LOST_LEAD));
                    effects.push(Effect::Answer { id, answer });
                }
                Caller::Here(waiter) => self.call_leader(waiter, browser.online, &mut effects),
            }
        }
        effects.push(Effect::Post(Message::Hello));
        effects.push(Effect::RefreshCounts);
        effects
    }

    /// A message from another tab, heard at `now`.
    pub fn message(&mut self, message: Message, now: Now) -> Vec<Effect> {
        if self.closed {
            return Vec::new();
        }
        let leader = self.leader;
        match message {
            Message::Heartbeat if !leader => {
                self.watch.heard(now.mono_ms);
                Vec::new()
            }
            // Another tab leads too: one of the two was robbed and has not heard yet.
            Message::Heartbeat => vec![Effect::VerifyLead],
            Message::Status { status } if !leader => {
                let round_over = !status.syncing;
                let own = std::mem::replace(&mut self.status, status);
                self.status.storage = own.storage; // this tab's own (`storage.rs`)
                self.watch.heard(now.mono_ms);
                let mut effects = vec![Effect::Publish];
                if round_over {
                    effects.push(Effect::RereadClientId); // the round may have renewed it
                    effects.push(Effect::EstimateStorage);
                }
                effects
            }
            Message::Hello if leader => vec![Effect::Post(Message::Status {
                status: self.status.clone(),
            })],
            Message::Poke if leader => self.local_write(now.wall_ms),
            Message::Reauth if leader => self.credentials_changed(),
            Message::SyncNow { id } if leader => {
                let mut effects = Vec::new();
                match self.request_round(&mut effects) {
                    Ok(ticket) => {
                        self.waiting.push(Waiting::new(ticket, Caller::Relayed(id)));
                        effects.push(Effect::Pump);
                    }
                    Err(reason) => effects.push(Effect::Answer {
                        id,
                        answer: Err(refusal(reason)),
                    }),
                }
                effects
            }
            Message::SyncNowDone { id, result, error } if !leader => {
                let answer = match (result, error) {
                    (Some(result), _) => Ok(result),
                    (None, Some(error)) => Err(Rejection::Failed(error)),
                    (None, None) => Ok(SyncNowResult::default()),
                };
                self.answer_call(&id, answer)
            }
            _ => Vec::new(),
        }
    }

    /// The heartbeat timer fired at monotonic `now`: the leader says it is alive; a
    /// follower checks that the leader did, and tries to take over when it has been
    /// silent for the stale window (a failed attempt waits a whole window again).
    pub fn beat(&mut self, now: f64) -> Vec<Effect> {
        if self.closed {
            return Vec::new();
        }
        let mut effects = Vec::new();
        if self.leader {
            effects.push(Effect::Post(Message::Heartbeat));
        } else if self.watch.tick(now) {
            self.watch.heard(now);
            effects.push(Effect::TakeOver { since: now });
        }
        effects.push(Effect::ArmBeat {
            after_ms: self.watch.heartbeat().period_ms,
        });
        effects
    }

    /// Asked again under the takeover lock: the leader is still silent since `since`
    /// (and this tab still follows and is open).
    pub fn still_silent(&self, since: f64) -> bool {
        !self.leader && !self.closed && self.watch.last_heard() <= since
    }

    /// `close()`: the term ends (a running round changes nothing any more), every
    /// timer stops and this tab's waiters and calls are refused `manager_closed`.
    /// Calls other tabs relayed here are left to them: the tab that takes over turns
    /// its own calls into waiters. Idempotent.
    pub fn close(&mut self) -> Vec<Effect> {
        if self.closed {
            return Vec::new();
        }
        self.end();
        let mut effects = vec![Effect::StopLoopTimer, Effect::StopBeat];
        self.live_sync(false, &mut effects);
        let held = std::mem::take(&mut self.held);
        let here = std::mem::take(&mut self.waiting)
            .into_iter()
            .filter_map(|w| match w.who {
                Caller::Here(waiter) => Some(waiter),
                Caller::Relayed(_) => None,
            });
        for waiter in here.chain(held) {
            effects.push(settle_err(waiter, Rejection::Closed));
        }
        for call in std::mem::take(&mut self.calls) {
            effects.push(Effect::StopCallTimer { call: call.id });
            effects.push(settle_err(call.waiter, Rejection::Closed));
        }
        effects
    }

    /// The package panicked (`message`): the loop stops for good and the status says
    /// so, with an error no retry clears.
    pub fn broken(&mut self, message: &str) -> Vec<Effect> {
        self.end();
        self.status.broken(StatusError {
            code: crate::ErrorCode::Panicked.as_str().into(),
            message: format!("idb-sync panicked: {message}"),
            class: ErrorClass::Fatal,
            server_code: None,
        });
        let mut effects = vec![Effect::StopLoopTimer, Effect::StopBeat];
        self.live_sync(false, &mut effects);
        effects.push(Effect::Publish);
        effects
    }

    fn end(&mut self) {
        self.closed = true;
        self.scheduler.close();
        self.leader = false;
        self.term += 1;
    }
}
