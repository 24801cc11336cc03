//! Storage health in the tab machine (`status.storage`, rules in
//! `crate::sync_loop::storage`): the browser's estimate (read by the leader when it
//! takes the lead and after every round, never per write), a local write's storage
//! failure and the next write that succeeds, and an eviction — a round at once, to
//! refill the recreated database from the server.

use super::{Effect, Tabs};

impl Tabs {
    /// What `navigator.storage` said (`None`: unknown).
    pub fn storage_estimated(
        &mut self,
        persisted: Option<bool>,
        usage: Option<u64>,
        quota: Option<u64>,
    ) -> Vec<Effect> {
        self.status.storage.estimated(persisted, usage, quota);
        vec![Effect::Publish]
    }

    /// A local write of this tab failed with error `code`: a storage failure
    /// (`quota_exceeded`, `storage_error`) shows in `status.storage.writeError`.
    pub fn write_failed(&mut self, code: &str, message: String) -> Vec<Effect> {
        if self.closed || !self.status.storage.write_failed(code, message) {
            return Vec::new();
        }
        vec![Effect::Publish]
    }

    /// A local write of this tab succeeded: a storage failure shown before clears.
    pub fn write_succeeded(&mut self) -> Vec<Effect> {
        if self.closed || !self.status.storage.wrote() {
            return Vec::new();
        }
        vec![Effect::Publish]
    }

    /// The database was deleted behind the engine's back and opened again, empty,
    /// taking the `known` unsynced changes this tab kept in memory — or as many as the
    /// status counted, if more (some were queued before this tab opened:
    /// `KnownChanges`): the status says so, and the leader runs a round at once (the
    /// new database has no cursor: a full pull).
    pub fn storage_evicted(&mut self, known: usize) -> Vec<Effect> {
        if self.closed {
            return Vec::new();
        }
        let lost = known.max(self.status.counts().unacknowledged());
        self.status.storage.evicted_now(lost);
        let mut effects = vec![Effect::RefreshCounts, Effect::Publish];
        if self.leader {
            let _ = self.scheduler.request_sync_now();
            effects.push(Effect::Pump);
        }
        effects
    }
}

#[cfg(test)]
mod tests {
    use crate::sync_loop::tabs::{Browser, Effect, Heartbeat, Message, Now, Tabs};
    use crate::sync_loop::{Decision, Scheduler, SchedulerConfig, SyncStatus};

    fn tabs() -> Tabs {
        let scheduler = Scheduler::new(SchedulerConfig::default(), 0, true, true);
        let beat = Heartbeat { period_ms: 1_000 };
        Tabs::new(
            scheduler,
            SyncStatus::new(true),
            true,
            beat,
            "t".into(),
            0.0,
        )
    }

    fn lead(t: &mut Tabs) -> Vec<Effect> {
        t.became_leader(Browser {
            online: true,
            visible: true,
        })
    }

    #[test]
    fn the_leader_estimates_when_it_leads_and_after_each_round() {
        let mut t = tabs();
        assert!(lead(&mut t).contains(&Effect::EstimateStorage));
        let term = t.term();
        assert!(t.round_starting(term, None));
        let report = crate::engine::RoundReport::default();
        let effects = t.round_finished(term, 1, None, Ok(&report), 10, 0);
        assert!(effects.contains(&Effect::EstimateStorage));
        assert!(
            !t.own_write(11, 1).contains(&Effect::EstimateStorage),
            "never per write"
        );
        t.storage_estimated(Some(true), Some(1_000), Some(9_000));
        let s = &t.status().storage;
        assert_eq!(
            (s.persisted, s.usage, s.quota),
            (Some(true), Some(1_000), Some(9_000))
        );
    }

    #[test]
    fn a_quota_failure_shows_until_a_write_succeeds() {
        let mut t = tabs();
        assert_eq!(
            t.write_failed("quota_exceeded", "full".into()),
            vec![Effect::Publish]
        );
        let shown = t.status().storage.write_error.clone().expect("shown");
        assert_eq!(shown.code, "quota_exceeded");
        assert!(
            t.write_failed("invalid_record", "bad".into()).is_empty(),
            "bad input is not storage health"
        );
        assert_eq!(t.status().storage.write_error, Some(shown));
        assert_eq!(t.write_succeeded(), vec![Effect::Publish]);
        assert_eq!(t.status().storage.write_error, None);
        assert!(t.write_succeeded().is_empty(), "nothing to clear");
    }

    #[test]
    fn an_eviction_shows_and_the_leader_refills_at_once() {
        let mut t = tabs();
        lead(&mut t);
        let term = t.term();
        let report = crate::engine::RoundReport::default();
        // A round just ran: the next would wait for the interval.
        let Some(&Effect::RunRound { round, .. }) = t
            .pump(1)
            .iter()
            .find(|e| matches!(e, Effect::RunRound { .. }))
        else {
            panic!("the first round runs")
        };
        assert!(t.round_starting(term, None));
        t.round_finished(term, round, None, Ok(&report), 10, 0);
        assert!(!matches!(t.scheduler().decide(11), Decision::RunNow));
        let effects = t.storage_evicted(2);
        assert!(effects.contains(&Effect::Pump) && effects.contains(&Effect::Publish));
        assert!(matches!(t.scheduler().decide(11), Decision::RunNow));
        let s = &t.status().storage;
        assert_eq!(
            s.evicted.as_ref().map(|e| e.code.as_str()),
            Some("storage_evicted")
        );
        assert_eq!(s.lost, 2);
        t.storage_evicted(1);
        assert_eq!(t.status().storage.lost, 3, "a second eviction adds up");
        t.set_counts(crate::sync_loop::OutboxCounts {
            pending: 4,
            in_flight: 1,
            ..Default::default()
        });
        t.storage_evicted(2);
        assert_eq!(
            t.status().storage.lost,
            8,
            "the status counted more than were known: the count"
        );
    }

    #[test]
    fn every_tab_keeps_its_own_storage_health_and_a_follower_estimates_after_rounds() {
        let mut t = tabs();
        assert!(
            t.greet().contains(&Effect::EstimateStorage),
            "a follower reads at open"
        );
        let effects = t.storage_evicted(1);
        assert!(!effects.contains(&Effect::Pump), "a follower runs no round");
        t.write_failed("quota_exceeded", "full".into());
        t.storage_estimated(Some(true), Some(5), Some(50));
        let mine = t.status().storage.clone();
        let mut leaders = SyncStatus::new(true);
        leaders.pending = 7;
        let now = Now {
            wall_ms: 1,
            mono_ms: 1.0,
        };
        let effects = t.message(Message::Status { status: leaders }, now);
        assert!(
            effects.contains(&Effect::EstimateStorage),
            "the leader's round is over"
        );
        assert_eq!(t.status().pending, 7, "the leader's counts");
        assert_eq!(t.status().storage, mine, "this tab's storage health");
    }
}
