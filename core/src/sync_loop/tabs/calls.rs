//! `syncNow()` in the tab machine: this tab's waiters (answered by the round whose
//! ticket covers them), a follower's calls relayed to the leader (answered by its
//! `SyncNowDone`, or refused when it does not answer in time), and the refusals.

use super::round::{Caller, Waiting};
use super::{Answer, Call, Effect, Message, Rejection, Tabs, WaiterId, CALL_TIMEOUT_MS};
use crate::sync_loop::{Blocked, IdleReason};

/// A relayed call the leader never answered.
pub(super) const NO_ANSWER: &str = "the tab that runs the sync loop did not answer within 60 s";
/// A relayed call taken by a leader that lost the lead before answering it.
pub(super) const LOST_LEAD: &str =
    "the tab that ran the sync loop lost the lead before its round; try again";

impl Tabs {
    /// `syncNow()` of this tab, settled later through `waiter`. `online`: the
    /// browser's `navigator.onLine` (a follower asks the leader only when online).
    pub fn sync_now(&mut self, waiter: WaiterId, online: bool) -> Vec<Effect> {
        let mut effects = Vec::new();
        if self.closed {
            effects.push(settle_err(waiter, Rejection::Closed));
        } else if self.adopting {
            // Its round must see the rows the scan at open queues (`adoption.rs`).
            self.held.push(waiter);
        } else if self.leader {
            self.wait_for_round(waiter, &mut effects, true);
        } else {
            self.call_leader(waiter, online, &mut effects);
        }
        effects
    }

    /// Asks the scheduler for a round for `waiter` (after an auth block the cached
    /// token is forgotten first, so that `getToken()` is asked again).
    pub(super) fn wait_for_round(
        &mut self,
        waiter: WaiterId,
        effects: &mut Vec<Effect>,
        pump: bool,
    ) {
        match self.request_round(effects) {
            Ok(ticket) => {
                self.waiting
                    .push(Waiting::new(ticket, Caller::Here(waiter)));
                if pump {
                    effects.push(Effect::Pump);
                }
            }
            Err(reason) => effects.push(settle_err(waiter, refusal(reason))),
        }
    }

    /// Asks the scheduler for a round on behalf of a call; its ticket, or why not.
    pub(super) fn request_round(&mut self, effects: &mut Vec<Effect>) -> Result<u64, IdleReason> {
        if self.scheduler.blocked() == Some(Blocked::Auth) {
            effects.push(Effect::ForgetCredentials);
        }
        self.scheduler.request_sync_now()
    }

    /// A follower's `syncNow()`: asks the leader, which answers with its next round.
    pub(super) fn call_leader(
        &mut self,
        waiter: WaiterId,
        online: bool,
        effects: &mut Vec<Effect>,
    ) {
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

    /// Settles relayed call `id` (and disarms its timeout), if it still waits.
    pub(super) fn answer_call(&mut self, id: &str, answer: Answer) -> Vec<Effect> {
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
}

/// A refused `syncNow()` of this tab.
pub(super) fn settle_err(waiter: WaiterId, rejection: Rejection) -> Effect {
    Effect::Settle {
        waiter,
        answer: Err(rejection),
    }
}

/// Why the scheduler refused a round, as a `syncNow()` refusal.
pub(super) fn refusal(reason: IdleReason) -> Rejection {
    match reason {
        IdleReason::Offline => Rejection::Offline,
        _ => Rejection::Closed,
    }
}
