//! Native tests of the live channel in the tab machine: only the leader holds it,
//! pokes become rounds (coalesced), and `status.live` says the mode.

use super::super::{Browser, Effect, Heartbeat, Now, Tabs};
use crate::engine::RoundReport;
use crate::retry::RetryPolicy;
use crate::sync_loop::{Live, LiveFailure, LiveMode, Scheduler, SchedulerConfig, SyncStatus};

const UP: Browser = Browser {
    online: true,
    visible: true,
};
/// Intervals of hours: no timer is due in these tests.
const HOURS: SchedulerConfig = SchedulerConfig {
    interval_ms: Some(3_600_000),
    hidden_interval_ms: 3_600_000,
    debounce_ms: 250,
    max_debounce_ms: 2_000,
    retry: RetryPolicy {
        base_ms: 1_000,
        cap_ms: 60_000,
    },
};

fn tab(live: bool) -> Tabs {
    let scheduler = Scheduler::new(HOURS, 0, true, true);
    Tabs::new(
        scheduler,
        SyncStatus::new(true),
        true,
        Heartbeat { period_ms: 1_000 },
        "tab".into(),
        0.0,
    )
    .with_live(Live::new(live, HOURS.retry))
}

fn opened(effects: &[Effect]) -> Option<u64> {
    effects.iter().find_map(|e| match e {
        Effect::OpenLive { conn } => Some(*conn),
        _ => None,
    })
}

fn closes(effects: &[Effect]) -> bool {
    effects.contains(&Effect::CloseLive)
}

fn runs_round(t: &mut Tabs, now: u64) -> Option<(u64, u64)> {
    t.pump(now).iter().find_map(|e| match e {
        Effect::RunRound { round, term } => Some((*round, *term)),
        _ => None,
    })
}

fn finish(t: &mut Tabs, (round, term): (u64, u64), now: u64) {
    t.round_finished(term, round, None, Ok(&RoundReport::default()), now, 0);
}

/// A leader whose first round ran and whose stream 1 is ready at `seq`.
fn live_leader(seq: u64) -> Tabs {
    let mut t = tab(true);
    assert_eq!(opened(&t.became_leader(UP)), Some(1));
    let first = runs_round(&mut t, 0).expect("the round at start");
    t.round_starting(first.1, None);
    finish(&mut t, first, 10);
    t.live_ready(1, seq, None, 20);
    t
}

#[test]
fn only_the_leader_opens_the_channel_and_losing_the_lead_closes_it() {
    let mut t = tab(true);
    assert_eq!(
        opened(&t.set_online(true)),
        None,
        "a follower never opens it"
    );
    assert_eq!(opened(&t.set_auto(true)), None);
    let effects = t.became_leader(UP);
    assert_eq!(opened(&effects), Some(1));
    let now = Now {
        wall_ms: 5,
        mono_ms: 5.0,
    };
    assert!(closes(&t.lost_leadership(now, UP)));
    assert_eq!(opened(&t.set_visible(true)), None);
}

#[test]
fn close_offline_and_stop_close_it_online_and_start_reopen_it() {
    let mut t = live_leader(0);
    assert_eq!(t.status().live, LiveMode::Push);
    let effects = t.set_online(false);
    assert!(closes(&effects));
    assert!(effects.contains(&Effect::Publish));
    assert_eq!(t.status().live, LiveMode::Off);
    assert_eq!(opened(&t.set_online(true)), Some(2));
    assert_eq!(t.status().live, LiveMode::Polling, "until ready");
    t.live_ready(2, 0, None, 30);
    assert_eq!(t.status().live, LiveMode::Push);
    assert!(closes(&t.set_auto(false)));
    assert_eq!(t.status().live, LiveMode::Off);
    assert_eq!(opened(&t.set_auto(true)), Some(3));
    assert!(closes(&t.close()));
    assert_eq!(t.status().live, LiveMode::Off);
}

#[test]
fn a_poke_runs_a_round_with_no_timer_due_and_a_burst_during_it_is_one_more() {
    let mut t = live_leader(0);
    // The ready at 0 asked for a pull the first round may not have covered.
    let catch_up = runs_round(&mut t, 30).expect("catch-up round");
    t.round_progress(crate::sync_loop::RoundProgress::Pulling);
    finish(&mut t, catch_up, 40);
    assert_eq!(runs_round(&mut t, 50), None, "nothing due for an hour");
    // Another device wrote: seq 1.
    t.live_changed(1, 1, 100);
    let round = runs_round(&mut t, 100).expect("the poke runs a round now");
    t.round_starting(round.1, None);
    t.round_progress(crate::sync_loop::RoundProgress::Pulling);
    // A burst while it runs (after its pull went out).
    for seq in 2..=9 {
        t.live_changed(1, seq, 110);
    }
    assert_eq!(runs_round(&mut t, 110), None, "busy");
    finish(&mut t, round, 120);
    let more = runs_round(&mut t, 120).expect("one more round for the burst");
    t.round_starting(more.1, None);
    t.round_progress(crate::sync_loop::RoundProgress::Pulling);
    finish(&mut t, more, 130);
    assert_eq!(runs_round(&mut t, 130), None, "not one round per poke");
    // The echo of a seq already pulled runs nothing.
    t.live_changed(1, 9, 140);
    assert_eq!(runs_round(&mut t, 140), None);
}

#[test]
fn a_lost_channel_polls_then_comes_back_and_catches_up() {
    let mut t = live_leader(0);
    let effects = t.live_failed(1, LiveFailure::Lost, 1_000, 700);
    assert!(closes(&effects));
    assert!(effects.contains(&Effect::ArmLiveTimer { after_ms: 700 }));
    assert_eq!(t.status().live, LiveMode::Polling);
    assert_eq!(opened(&t.live_retry(1_700)), Some(2));
    t.live_ready(2, 5, None, 1_800);
    assert_eq!(t.status().live, LiveMode::Push);
    assert!(
        runs_round(&mut t, 1_800).is_some(),
        "pokes missed while lost"
    );
}

#[test]
fn a_server_without_the_channel_polls_for_the_session() {
    let mut t = tab(true);
    t.became_leader(UP);
    t.live_failed(1, LiveFailure::Unavailable, 0, 0);
    assert_eq!(t.status().live, LiveMode::Polling);
    t.set_online(false);
    assert_eq!(opened(&t.set_online(true)), None);
    assert_eq!(t.status().live, LiveMode::Polling);
}

#[test]
fn live_false_polls() {
    let mut t = tab(false);
    assert_eq!(opened(&t.became_leader(UP)), None);
    assert_eq!(t.status().live, LiveMode::Polling);
}

#[test]
fn a_silent_stream_leaves_push_closes_and_reopens_after_the_backoff() {
    let mut t = tab(true);
    t.became_leader(UP);
    t.live_ready(1, 0, Some(200), 20);
    assert_eq!(t.status().live, LiveMode::Push);
    assert_eq!(t.live().silence_limit_ms(), 1_000, "3 x 200 ms, floored");
    let effects = t.live_failed(1, LiveFailure::Silent, 2_000, 0);
    assert!(closes(&effects), "the dead connection is dropped");
    assert!(effects.contains(&Effect::Publish));
    assert_eq!(t.status().live, LiveMode::Polling, "no longer claims push");
    let after_ms = effects
        .iter()
        .find_map(|e| match e {
            Effect::ArmLiveTimer { after_ms } => Some(*after_ms),
            _ => None,
        })
        .expect("a reopen is scheduled");
    assert_eq!(opened(&t.live_retry(2_000 + after_ms)), Some(2));
    t.live_ready(2, 0, Some(200), 3_000);
    assert_eq!(t.status().live, LiveMode::Push);
}
