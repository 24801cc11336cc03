//! Adopting the rows without sync state in the tab machine (docs/STORAGE.md,
//! "Adopting a database another library wrote"): when the scan runs, and what waits
//! for it.
//!
//! When the `adopt` option says to adopt at open ([`AdoptTiming::Now`]), the scan runs
//! in the background, so that `SyncManager.open` resolves as soon as the database is
//! open and the election decided: reads and writes through the manager do not wait
//! for it (a row the app writes meanwhile gets its sync state from that write, and the
//! scan, which reads the state again in each adopting transaction, leaves it alone).
//! What would see the outbox without the adopted rows waits instead: no round starts
//! in this tab and this tab's `syncNow()` calls are held (neither run here nor relayed
//! to the leader) until the scan is over, so the first round still pushes every
//! adopted row, as when the scan ran inside `open`.

use super::{Effect, Tabs};
use crate::outbox::AdoptTiming;

impl Tabs {
    /// The database is open and the `adopt` option's timing is known: adopt now (in
    /// the background: [`Effect::AdoptRows`], rounds and `syncNow()` wait for it),
    /// after the first round that succeeds, or never.
    pub fn opened(&mut self, timing: AdoptTiming) -> Vec<Effect> {
        match timing {
            AdoptTiming::Now => {
                self.adopting = true;
                vec![Effect::AdoptRows]
            }
            AdoptTiming::AfterFirstPull => {
                self.adopt_after_pull = true;
                Vec::new()
            }
            AdoptTiming::Never => Vec::new(),
        }
    }

    /// Whether the scan started at open is still running (rounds and `syncNow()`
    /// wait for it, and so does the pending count the app asks for).
    pub fn is_adopting(&self) -> bool {
        self.adopting
    }

    /// Adopting the rows without sync state ([`Effect::AdoptRows`]) queued `queued`
    /// changes at `now`: a round is scheduled for them, as for a local write. If it
    /// was the scan at open, what waited for it goes on (`online`: the browser's
    /// `navigator.onLine`, for the held `syncNow()` calls).
    pub fn adopted(&mut self, queued: usize, now: u64, online: bool) -> Vec<Effect> {
        let mut effects = if queued > 0 {
            self.local_write(now)
        } else {
            Vec::new()
        };
        effects.extend(self.adoption_over(online));
        effects
    }

    /// Adopting the rows failed: it is tried again after the next round that
    /// succeeds. If it was the scan at open, what waited for it goes on.
    pub fn adoption_failed(&mut self, online: bool) -> Vec<Effect> {
        self.adopt_after_pull = true;
        self.adoption_over(online)
    }

    /// The scan at open is over: the held `syncNow()` calls go on, and the loop
    /// decides again.
    fn adoption_over(&mut self, online: bool) -> Vec<Effect> {
        if !std::mem::take(&mut self.adopting) || self.closed {
            return Vec::new();
        }
        let mut effects = Vec::new();
        for waiter in std::mem::take(&mut self.held) {
            effects.extend(self.sync_now(waiter, online));
        }
        if !effects.contains(&Effect::Pump) {
            effects.push(Effect::Pump);
        }
        effects
    }
}

#[cfg(test)]
mod tests {
    use crate::outbox::AdoptTiming;
    use crate::sync_loop::tabs::{Browser, Effect, Heartbeat, Message, Rejection, Tabs};
    use crate::sync_loop::{Scheduler, SchedulerConfig, SyncStatus};

    const UP: Browser = Browser {
        online: true,
        visible: true,
    };

    fn tabs(auto: bool) -> Tabs {
        let scheduler = Scheduler::new(SchedulerConfig::default(), 0, true, true);
        let beat = Heartbeat { period_ms: 1_000 };
        Tabs::new(
            scheduler,
            SyncStatus::new(true),
            auto,
            beat,
            "t".into(),
            0.0,
        )
    }

    fn runs_round(effects: &[Effect]) -> bool {
        effects.iter().any(|e| matches!(e, Effect::RunRound { .. }))
    }

    #[test]
    fn adopting_at_open_scans_in_the_background() {
        let mut t = tabs(false);
        assert_eq!(t.opened(AdoptTiming::Now), vec![Effect::AdoptRows]);
        assert!(t.is_adopting());
        let mut later = tabs(false);
        assert_eq!(later.opened(AdoptTiming::AfterFirstPull), Vec::new());
        assert!(
            !later.is_adopting(),
            "'pull' on a database that never pulled"
        );
        let mut never = tabs(false);
        assert_eq!(never.opened(AdoptTiming::Never), Vec::new());
        assert!(!never.is_adopting());
    }

    #[test]
    fn no_round_starts_before_the_scan_at_open_is_over() {
        let mut t = tabs(true);
        t.opened(AdoptTiming::Now);
        t.became_leader(UP);
        assert_eq!(t.pump(0), Vec::<Effect>::new(), "auto sync waits");
        t.sync_now(1, true);
        assert!(!runs_round(&t.pump(0)), "syncNow() waits");
        let effects = t.adopted(50, 5, true);
        assert!(
            effects.contains(&Effect::RefreshCounts),
            "the adopted rows count"
        );
        assert!(effects.contains(&Effect::Pump));
        assert!(runs_round(&t.pump(5)), "now the round runs");
        assert!(!t.is_adopting());
    }

    #[test]
    fn a_leader_holds_its_sync_now_until_the_scan_is_over() {
        let mut t = tabs(false);
        t.opened(AdoptTiming::Now);
        t.became_leader(UP);
        assert_eq!(t.sync_now(1, true), Vec::<Effect>::new(), "held");
        assert!(!runs_round(&t.pump(0)));
        let effects = t.adopted(0, 5, true);
        assert_eq!(
            effects,
            vec![Effect::Pump],
            "nothing queued: the held call goes on"
        );
        let effects = t.pump(5);
        let Some(&Effect::RunRound { round, term }) = effects.get(1) else {
            panic!("{effects:?}")
        };
        let report = crate::engine::RoundReport::default();
        let effects = t.round_finished(term, round, None, Ok(&report), 10, 0);
        assert!(
            effects.iter().any(|e| matches!(
                e,
                Effect::Settle {
                    waiter: 1,
                    answer: Ok(_)
                }
            )),
            "the held call is answered by that round: {effects:?}"
        );
    }

    #[test]
    fn a_follower_relays_its_sync_now_only_after_the_scan() {
        let mut t = tabs(false);
        t.opened(AdoptTiming::Now);
        assert_eq!(t.sync_now(7, true), Vec::<Effect>::new(), "not relayed yet");
        let effects = t.adopted(3, 5, true);
        assert!(
            effects
                .iter()
                .any(|e| matches!(e, Effect::Post(Message::SyncNow { .. }))),
            "relayed once the rows are queued: {effects:?}"
        );
        assert!(effects
            .iter()
            .any(|e| matches!(e, Effect::ArmCallTimer { .. })));
    }

    #[test]
    fn a_held_sync_now_is_refused_offline_after_the_scan_like_any_other() {
        let mut t = tabs(false);
        t.opened(AdoptTiming::Now);
        t.sync_now(7, false);
        let effects = t.adopted(0, 5, false);
        assert!(effects.contains(&Effect::Settle {
            waiter: 7,
            answer: Err(Rejection::Offline)
        }));
    }

    #[test]
    fn a_failed_scan_at_open_lets_the_loop_go_on_and_is_tried_after_a_good_round() {
        let mut t = tabs(false);
        t.opened(AdoptTiming::Now);
        t.became_leader(UP);
        t.sync_now(1, true);
        let effects = t.adoption_failed(true);
        assert!(effects.contains(&Effect::Pump));
        assert!(!t.is_adopting());
        let effects = t.pump(5);
        let Some(&Effect::RunRound { round, term }) = effects.get(1) else {
            panic!("{effects:?}")
        };
        let report = crate::engine::RoundReport::default();
        let effects = t.round_finished(term, round, None, Ok(&report), 10, 0);
        assert!(effects.contains(&Effect::AdoptRows), "tried again");
        assert_eq!(
            t.adopted(0, 20, true),
            Vec::<Effect>::new(),
            "no longer at open"
        );
    }

    #[test]
    fn close_refuses_the_held_calls_and_the_end_of_the_scan_changes_nothing() {
        let mut t = tabs(false);
        t.opened(AdoptTiming::Now);
        t.sync_now(1, true);
        let effects = t.close();
        assert!(effects.contains(&Effect::Settle {
            waiter: 1,
            answer: Err(Rejection::Closed)
        }));
        assert_eq!(t.adopted(4, 5, true), Vec::<Effect>::new());
        assert_eq!(t.adoption_failed(true), Vec::<Effect>::new());
    }
}
