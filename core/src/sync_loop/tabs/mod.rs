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

mod heartbeat;
mod message;
#[cfg(test)]
mod tests;

pub use heartbeat::{Heartbeat, Watch};
pub use message::{Answer, Effect, Message, Rejection, WaiterId};

use crate::engine::RoundReport;
use crate::error::SyncError;
use crate::sync_loop::{
    Blocked, Decision, IdleReason, OutboxCounts, RoundProgress, Scheduler, StatusError,
    SyncNowResult, SyncStatus,
};
use crate::ErrorClass;

/// How long a follower waits for the leader's answer to a relayed `syncNow()`, ms.
pub const CALL_TIMEOUT_MS: u64 = 60_000;

const NO_ANSWER: &str = "the tab that runs the sync loop did not answer within 60 s";
const LOST_LEAD: &str = "the tab that ran the sync loop lost the lead before its round; try again";
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
    /// This tab's `syncNow()` calls, by the ticket of the round that answers them.
    waiters: Vec<(u64, WaiterId)>,
    /// Calls other tabs relayed to this leader, by ticket.
    remote: Vec<(u64, String)>,
    /// This follower's calls relayed to the leader.
    calls: Vec<Call>,
    /// This tab's own prefix for relayed call ids: every tab of a database shares the
    /// client id, so the client id alone would let two followers' calls collide.
    call_prefix: String,
    next_call: u64,
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
            scheduler,
            status,
            watch: Watch::new(heartbeat, mono_ms),
            wants_auto,
            leader: false,
            term: 0,
            closed: false,
            frozen: false,
            adopt_after_pull: false,
            waiters: Vec::new(),
            remote: Vec::new(),
            calls: Vec::new(),
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
        vec![Effect::RefreshCounts, Effect::Post(Message::Hello)]
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
        for (_, id) in std::mem::take(&mut self.remote) {
            let answer = Err(Rejection::LeaderUnavailable(LOST_LEAD));
            effects.push(Effect::Answer { id, answer });
        }
        for (_, waiter) in std::mem::take(&mut self.waiters) {
            self.call_leader(waiter, browser.online, &mut effects);
        }
        effects.push(Effect::Post(Message::Hello));
        effects.push(Effect::RefreshCounts);
        effects
    }

    /// `syncNow()` of this tab, settled later through `waiter`. `online`: the
    /// browser's `navigator.onLine` (a follower asks the leader only when online).
    pub fn sync_now(&mut self, waiter: WaiterId, online: bool) -> Vec<Effect> {
        let mut effects = Vec::new();
        if self.closed {
            effects.push(settle_err(waiter, Rejection::Closed));
        } else if self.leader {
            self.wait_for_round(waiter, &mut effects, true);
        } else {
            self.call_leader(waiter, online, &mut effects);
        }
        effects
    }

    /// Asks the scheduler for a round for `waiter` (after an auth block the cached
    /// token is forgotten first, so that `getToken()` is asked again).
    fn wait_for_round(&mut self, waiter: WaiterId, effects: &mut Vec<Effect>, pump: bool) {
        match self.request_round(effects) {
            Ok(ticket) => {
                self.waiters.push((ticket, waiter));
                if pump {
                    effects.push(Effect::Pump);
                }
            }
            Err(reason) => effects.push(settle_err(waiter, refusal(reason))),
        }
    }

    fn request_round(&mut self, effects: &mut Vec<Effect>) -> Result<u64, IdleReason> {
        if self.scheduler.blocked() == Some(Blocked::Auth) {
            effects.push(Effect::ForgetCredentials);
        }
        self.scheduler.request_sync_now()
    }

    /// A follower's `syncNow()`: asks the leader, which answers with its next round.
    fn call_leader(&mut self, waiter: WaiterId, online: bool, effects: &mut Vec<Effect>) {
        if !online {
            effects.push(settle_err(waiter, Rejection::Offline));
            return;
        }
        self.next_call += 1;
        let id = format!("{}:{}", self.call_prefix, self.next_call);
        self.calls.push(Call {
            id: id.clone(),
            waiter,
        });
        effects.push(Effect::ArmCallTimer {
            call: id.clone(),
            after_ms: CALL_TIMEOUT_MS,
        });
        effects.push(Effect::Post(Message::SyncNow { id }));
    }

    /// The timeout of relayed call `call` fired: the leader did not answer.
    pub fn timed_out(&mut self, call: &str) -> Vec<Effect> {
        let error = Rejection::LeaderUnavailable(NO_ANSWER);
        self.answer_call(call, Err(error))
    }

    fn answer_call(&mut self, id: &str, answer: Answer) -> Vec<Effect> {
        let Some(at) = self.calls.iter().position(|c| c.id == id) else {
            return Vec::new();
        };
        let call = self.calls.remove(at);
        vec![
            Effect::StopCallTimer { call: call.id },
            Effect::Settle {
                waiter: call.waiter,
                answer,
            },
        ]
    }

    /// Decides what the loop does at `now` (after [`Effect::Pump`] and the loop's
    /// timer): start a round, arm the timer, or idle.
    pub fn pump(&mut self, now: u64) -> Vec<Effect> {
        if self.frozen {
            return Vec::new(); // decided again on resume
        }
        if !self.leader || self.closed {
            return vec![Effect::StopLoopTimer];
        }
        match self.scheduler.decide(now) {
            Decision::RunNow => {
                let round = self.scheduler.round_started(now);
                vec![
                    Effect::StopLoopTimer,
                    Effect::RunRound {
                        round,
                        term: self.term,
                    },
                ]
            }
            Decision::SleepUntil(at) => vec![Effect::ArmLoopTimer {
                after_ms: at.saturating_sub(now),
            }],
            Decision::Busy => Vec::new(),
            Decision::Idle(_) => vec![Effect::StopLoopTimer],
        }
    }

    /// Whether a round of `term` still counts (its tab still leads in that term).
    pub fn in_term(&self, term: u64) -> bool {
        self.term == term && self.leader && !self.closed
    }

    /// Round of `term` starts (the lead verified) with these counts: the status says
    /// so. False (and nothing changes) when the term is over.
    pub fn round_starting(&mut self, term: u64, counts: Option<OutboxCounts>) -> bool {
        if !self.in_term(term) {
            return false;
        }
        if let Some(counts) = counts {
            self.status.set_counts(counts);
        }
        let total = self.status.pending + self.status.in_flight;
        self.status.round_started(total);
        true
    }

    /// The running round made progress; true when the status changed (publish).
    pub fn round_progress(&mut self, step: RoundProgress) -> bool {
        if !self.leader || self.closed {
            return false; // an abandoned round
        }
        self.status.round_progress(step);
        true
    }

    /// Round `round` of `term` ended at `now` with `result` (and these counts read
    /// after it; `random` for the backoff's jitter). It answers the waiters whose
    /// ticket it covers. A round of an old term changes nothing.
    pub fn round_finished(
        &mut self,
        term: u64,
        round: u64,
        counts: Option<OutboxCounts>,
        result: Result<&RoundReport, &SyncError>,
        now: u64,
        random: u64,
    ) -> Vec<Effect> {
        if !self.in_term(term) {
            return Vec::new();
        }
        if let Some(counts) = counts {
            self.status.set_counts(counts);
        }
        let answer = match result {
            Ok(report) => {
                let more = report.sent > 0 && self.status.pending > 0;
                self.scheduler.round_succeeded(now, more);
                self.status.round_succeeded(now, report);
                Ok(SyncNowResult::from(report))
            }
            Err(error) => {
                let next = self.scheduler.round_failed(now, error, random);
                self.status.round_failed(error, next);
                Err(Rejection::Failed(StatusError::from(error)))
            }
        };
        let mut effects = Vec::new();
        let (done, rest) = std::mem::take(&mut self.waiters)
            .into_iter()
            .partition::<Vec<_>, _>(|(ticket, _)| *ticket <= round);
        self.waiters = rest;
        for (_, waiter) in done {
            let answer = answer.clone();
            effects.push(Effect::Settle { waiter, answer });
        }
        let (done, rest) = std::mem::take(&mut self.remote)
            .into_iter()
            .partition::<Vec<_>, _>(|(ticket, _)| *ticket <= round);
        self.remote = rest;
        for (_, id) in done {
            let answer = answer.clone();
            effects.push(Effect::Answer { id, answer });
        }
        effects.push(Effect::Publish);
        if answer.is_ok() && std::mem::take(&mut self.adopt_after_pull) {
            effects.push(Effect::AdoptRows);
        }
        effects.push(Effect::Pump);
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
                self.status = status;
                self.watch.heard(now.mono_ms);
                let mut effects = vec![Effect::Publish];
                if round_over {
                    effects.push(Effect::RereadClientId); // the round may have renewed it
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
                        self.remote.push((ticket, id));
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

    /// A local write at `now` (in this tab or another, or a decision that queued
    /// something).
    pub fn local_write(&mut self, now: u64) -> Vec<Effect> {
        if self.closed {
            return Vec::new();
        }
        self.scheduler.local_write(now);
        vec![Effect::RefreshCounts, Effect::Pump]
    }

    /// Something this tab changed in the outbox outside the table API (a conflict or
    /// dead-letter decision): the leader syncs soon; a follower tells the leader.
    pub fn poke(&mut self, now: u64) -> Vec<Effect> {
        if self.leader {
            self.local_write(now)
        } else {
            vec![Effect::Post(Message::Poke), Effect::RefreshCounts]
        }
    }

    /// New credentials: forget the cached token and end an auth block (in the leader,
    /// wherever this is called).
    pub fn credentials_changed(&mut self) -> Vec<Effect> {
        self.scheduler.credentials_changed();
        let next = if self.leader {
            Effect::Pump
        } else {
            Effect::Post(Message::Reauth)
        };
        vec![Effect::ForgetCredentials, next]
    }

    /// The app decided what to do after `account_changed`: a round runs at once, in
    /// the leader tab (a follower asks it, as the relayed call `<client_id>:account-resolved`
    /// that nobody waits for).
    pub fn account_resolved(&mut self, client_id: &str) -> Vec<Effect> {
        if self.leader {
            let _ = self.scheduler.request_sync_now();
            vec![Effect::Pump]
        } else {
            let id = format!("{client_id}:account-resolved");
            vec![Effect::Post(Message::SyncNow { id })]
        }
    }

    /// `startAutoSync()` (`true`) or `stopAutoSync()`.
    pub fn set_auto(&mut self, on: bool) -> Vec<Effect> {
        self.wants_auto = on;
        if on {
            self.scheduler.start();
        } else {
            self.scheduler.stop();
        }
        vec![Effect::Pump]
    }

    /// The browser went online or offline.
    pub fn set_online(&mut self, online: bool) -> Vec<Effect> {
        self.scheduler.set_online(online);
        self.status.set_online(online);
        vec![Effect::Publish, Effect::Pump]
    }

    /// The page became visible or hidden.
    pub fn set_visible(&mut self, visible: bool) -> Vec<Effect> {
        self.scheduler.set_visible(visible);
        vec![Effect::Pump]
    }

    /// The page is frozen (`true`) or resumed. A frozen page's IndexedDB transactions
    /// never finish and block every other tab's, so a frozen manager starts no round
    /// and reads nothing; on resume it rereads the counts and decides again.
    pub fn set_frozen(&mut self, frozen: bool) -> Vec<Effect> {
        self.frozen = frozen;
        if frozen {
            Vec::new()
        } else {
            vec![Effect::RefreshCounts, Effect::Pump]
        }
    }

    /// New outbox counts, read from storage.
    pub fn set_counts(&mut self, counts: OutboxCounts) {
        self.status.set_counts(counts);
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
        for (_, waiter) in std::mem::take(&mut self.waiters) {
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
            code: "panicked".into(),
            message: format!("idb-sync panicked: {message}"),
            class: ErrorClass::Fatal,
        });
        vec![Effect::StopLoopTimer, Effect::StopBeat, Effect::Publish]
    }

    fn end(&mut self) {
        self.closed = true;
        self.scheduler.close();
        self.leader = false;
        self.term += 1;
    }
}

fn settle_err(waiter: WaiterId, rejection: Rejection) -> Effect {
    Effect::Settle {
        waiter,
        answer: Err(rejection),
    }
}

/// Why the scheduler refused a round, as a `syncNow()` refusal.
fn refusal(reason: IdleReason) -> Rejection {
    match reason {
        IdleReason::Offline => Rejection::Offline,
        _ => Rejection::Closed,
    }
}
