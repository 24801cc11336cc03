//! The loop in the tab machine: what to do now ([`Tabs::pump`]: run a round, sleep,
//! idle; nothing before the scan at open is over, `adoption.rs`), and how a round's start, progress and outcome change the status and answer
//! the waiters — only within the leadership term the round started in.

use super::{Answer, Effect, Rejection, Tabs, WaiterId};
use crate::engine::RoundReport;
use crate::error::SyncError;
use crate::sync_loop::{Decision, OutboxCounts, RoundProgress, StatusError, SyncNowResult};

impl Tabs {
    /// Decides what the loop does at `now` (after [`Effect::Pump`] and the loop's
    /// timer): start a round, arm the timer, or idle.
    pub fn pump(&mut self, now: u64) -> Vec<Effect> {
        if self.frozen {
            return Vec::new(); // decided again on resume
        }
        if !self.leader || self.closed {
            return vec![Effect::StopLoopTimer];
        }
        if self.adopting {
            return Vec::new(); // decided again when the scan at open is over
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
        if step == RoundProgress::Pulling {
            self.live.pull_sent();
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
        self.live.round_ended(result.is_ok());
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
        for (who, answer) in answered(&mut self.waiting, round, &answer) {
            effects.push(match who {
                Caller::Here(waiter) => Effect::Settle { waiter, answer },
                Caller::Relayed(id) => Effect::Answer { id, answer },
            });
        }
        effects.push(Effect::Publish);
        effects.push(Effect::EstimateStorage);
        if answer.is_ok() && std::mem::take(&mut self.adopt_after_pull) {
            effects.push(Effect::AdoptRows);
        }
        effects.push(Effect::Pump);
        effects
    }
}

/// Who made a `syncNow()` call.
#[derive(Clone, Debug)]
pub(super) enum Caller {
    /// This tab, settled through its waiter.
    Here(WaiterId),
    /// Another tab, which relayed it to this leader under this id.
    Relayed(String),
}

/// A `syncNow()` call waiting for the round with its ticket. `so_far` adds up what the
/// rounds that ended while it waited did: a call made while a round runs is answered
/// by the next one, which may find nothing left to push, yet the changes pending at
/// the call went out in the round it waited through.
#[derive(Clone, Debug)]
pub(super) struct Waiting {
    /// The round that answers it.
    pub(super) ticket: u64,
    /// Whom to answer.
    pub(super) who: Caller,
    /// What the rounds that ended while it waited did.
    pub(super) so_far: SyncNowResult,
}

impl Waiting {
    /// A call answered by round `ticket`.
    pub(super) fn new(ticket: u64, who: Caller) -> Self {
        Waiting {
            ticket,
            who,
            so_far: SyncNowResult::default(),
        }
    }
}

/// Round `round` ended with `answer`: takes the calls it answers out of `waiting`, each
/// with its answer (a success adds up every round it waited through), and adds a
/// success to the calls still waiting.
fn answered(waiting: &mut Vec<Waiting>, round: u64, answer: &Answer) -> Vec<(Caller, Answer)> {
    let (done, rest) = std::mem::take(waiting)
        .into_iter()
        .partition::<Vec<_>, _>(|w| w.ticket <= round);
    *waiting = rest;
    if let Ok(result) = answer {
        for w in waiting.iter_mut() {
            w.so_far += *result;
        }
    }
    done.into_iter()
        .map(|w| {
            let answer = answer.clone().map(|result| w.so_far + result);
            (w.who, answer)
        })
        .collect()
}
