//! The live channel in the tab machine: only the leader holds it (docs/INVARIANTS.md,
//! I7), while it is open, online and auto sync is on; its pokes become rounds through
//! the scheduler (coalesced there), and `status.live` says which mode the loop is in.

use super::{Effect, Tabs};
use crate::sync_loop::{Live, LiveAction, LiveFailure};

impl Tabs {
    /// Gives this tab its live channel (`live` option; off by default).
    pub fn with_live(mut self, live: Live) -> Tabs {
        self.live = live;
        self
    }

    /// The live channel (read only).
    pub fn live(&self) -> &Live {
        &self.live
    }

    /// Stream `conn` said `ready` at `now`, the user's stream at `seq`, the server's
    /// keepalive interval `keepalive_ms` (`None`: not said).
    pub fn live_ready(
        &mut self,
        conn: u64,
        seq: u64,
        keepalive_ms: Option<u64>,
        now: u64,
    ) -> Vec<Effect> {
        let actions = self.live.ready(conn, seq, keepalive_ms);
        self.live_effects(actions, now)
    }

    /// Stream `conn` said `changed` at `now`: the user's stream moved to `seq`.
    pub fn live_changed(&mut self, conn: u64, seq: u64, now: u64) -> Vec<Effect> {
        let actions = self.live.changed(conn, seq);
        self.live_effects(actions, now)
    }

    /// Stream `conn` failed or ended at `now` (`random` for the backoff's jitter).
    pub fn live_failed(
        &mut self,
        conn: u64,
        failure: LiveFailure,
        now: u64,
        random: u64,
    ) -> Vec<Effect> {
        let actions = self.live.failed(conn, now, failure, random);
        self.live_effects(actions, now)
    }

    /// The live channel's retry timer fired at `now`.
    pub fn live_retry(&mut self, now: u64) -> Vec<Effect> {
        let actions = self.live.retry(now);
        self.live_effects(actions, now)
    }

    /// Opens or closes the channel as the state now wants (leader, open, online,
    /// auto sync on); `hurry`: a waiting reopen happens now.
    pub(super) fn live_sync(&mut self, hurry: bool, effects: &mut Vec<Effect>) {
        let wanted =
            self.leader && !self.closed && self.scheduler.is_online() && self.scheduler.is_auto();
        let mut actions = self.live.want(wanted);
        if hurry && wanted {
            actions.extend(self.live.hurry());
        }
        effects.extend(self.live_effects(actions, 0));
    }

    fn live_effects(&mut self, actions: Vec<LiveAction>, now: u64) -> Vec<Effect> {
        let mut effects = Vec::new();
        for action in actions {
            effects.push(match action {
                LiveAction::Open { conn } => Effect::OpenLive { conn },
                LiveAction::Close => Effect::CloseLive,
                LiveAction::ArmTimer { after_ms } => Effect::ArmLiveTimer { after_ms },
                LiveAction::Pull => {
                    self.scheduler.poked(now);
                    Effect::Pump
                }
            });
        }
        if self.leader || self.closed {
            let runs = !self.closed && self.scheduler.is_online() && self.scheduler.is_auto();
            let mode = self.live.mode(runs);
            if self.status.live != mode {
                self.status.live = mode;
                effects.push(Effect::Publish);
            }
        }
        effects
    }
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
