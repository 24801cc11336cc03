//! The sync loop's scheduler: when rounds run (debounced writes, interval, online and
//! visibility, `syncNow()`, backoff, auth block, stop and close). Time is passed in, so
//! every expectation is exact.

use idb_sync_core::retry::RetryPolicy;
use idb_sync_core::sync_loop::{Blocked, Decision, IdleReason, Scheduler, SchedulerConfig};
use idb_sync_core::SyncError;

const T0: u64 = 1_000_000;

fn config() -> SchedulerConfig {
    SchedulerConfig {
        interval_ms: Some(30_000),
        hidden_interval_ms: 300_000,
        debounce_ms: 250,
        max_debounce_ms: 2_000,
        retry: RetryPolicy {
            base_ms: 1_000,
            cap_ms: 60_000,
        },
    }
}

/// A started scheduler whose initial round has run and succeeded at `T0`.
fn settled() -> Scheduler {
    let mut s = Scheduler::new(config(), T0, true, true);
    s.start();
    assert_eq!(
        s.decide(T0),
        Decision::RunNow,
        "starting auto sync runs a round at once"
    );
    s.round_started(T0);
    s.round_succeeded(T0, false);
    s
}

fn network() -> SyncError {
    SyncError::Network("fetch failed".into())
}

fn unauthorized() -> SyncError {
    SyncError::Auth("token expired".into())
}

/// Runs the loop until `until`: every time the decision is "run", a round runs and
/// succeeds instantly. Returns the times rounds started.
fn run_until(s: &mut Scheduler, mut now: u64, until: u64, writes: &[u64]) -> Vec<u64> {
    let mut writes = writes.to_vec();
    writes.sort_unstable();
    let mut rounds = vec![];
    let mut next_write = 0;
    while now <= until {
        while next_write < writes.len() && writes[next_write] <= now {
            s.local_write(writes[next_write]);
            next_write += 1;
        }
        match s.decide(now) {
            Decision::RunNow => {
                rounds.push(now);
                s.round_started(now);
                s.round_succeeded(now, false);
            }
            Decision::SleepUntil(t) => {
                let wake = writes.get(next_write).copied().map_or(t, |w| w.min(t));
                now = wake.max(now + 1);
            }
            Decision::Idle(_) | Decision::Busy => match writes.get(next_write) {
                Some(&w) => now = w.max(now + 1),
                None => break,
            },
        }
    }
    rounds
}

#[test]
fn a_new_scheduler_does_nothing_until_auto_sync_starts() {
    let s = Scheduler::new(config(), T0, true, true);
    assert_eq!(
        s.decide(T0 + 1_000_000),
        Decision::Idle(IdleReason::Stopped)
    );
}

#[test]
fn a_burst_of_writes_within_the_debounce_window_is_one_round() {
    let mut s = settled();
    let writes: Vec<u64> = (0..100).map(|i| T0 + 1_000 + i * 2).collect();
    let rounds = run_until(&mut s, T0 + 1, T0 + 5_000, &writes);
    assert_eq!(
        rounds,
        vec![T0 + 1_000 + 198 + 250],
        "one round, 250 ms after the last write"
    );
}

#[test]
fn the_debounce_waits_for_the_last_write_of_the_burst() {
    let mut s = settled();
    s.local_write(T0 + 100);
    assert_eq!(s.decide(T0 + 100), Decision::SleepUntil(T0 + 350));
    s.local_write(T0 + 300);
    assert_eq!(s.decide(T0 + 300), Decision::SleepUntil(T0 + 550));
}

#[test]
fn a_steady_stream_of_writes_still_goes_out_after_the_max_debounce() {
    let mut s = settled();
    let writes: Vec<u64> = (0..50).map(|i| T0 + 1_000 + i * 100).collect();
    let rounds = run_until(&mut s, T0 + 1, T0 + 10_000, &writes);
    // Bursts start at 1 000 and 3 100 (the write at 3 000 went with the first round);
    // the last write, at 5 900, goes out after the plain debounce.
    assert_eq!(rounds, vec![T0 + 3_000, T0 + 5_100, T0 + 5_900 + 250]);
}

#[test]
fn the_interval_runs_a_round_when_nothing_else_does() {
    let s = settled();
    assert_eq!(s.decide(T0 + 1), Decision::SleepUntil(T0 + 30_000));
    assert_eq!(s.decide(T0 + 30_000), Decision::RunNow);
}

#[test]
fn without_an_interval_only_writes_and_events_run_rounds() {
    let mut s = Scheduler::new(
        SchedulerConfig {
            interval_ms: None,
            ..config()
        },
        T0,
        true,
        true,
    );
    s.start();
    s.round_started(T0);
    s.round_succeeded(T0, false);
    assert_eq!(
        s.decide(T0 + 10_000_000),
        Decision::Idle(IdleReason::NothingDue)
    );
    s.local_write(T0 + 5);
    assert_eq!(s.decide(T0 + 5), Decision::SleepUntil(T0 + 255));
}

#[test]
fn offline_runs_nothing_until_online_then_runs_at_once() {
    let mut s = settled();
    s.set_online(false);
    s.local_write(T0 + 10);
    assert_eq!(s.decide(T0 + 10), Decision::Idle(IdleReason::Offline));
    assert_eq!(
        s.decide(T0 + 10_000_000),
        Decision::Idle(IdleReason::Offline),
        "not even the interval"
    );
    s.set_online(true);
    assert_eq!(s.decide(T0 + 10_000_001), Decision::RunNow);
}

#[test]
fn sync_now_is_refused_while_offline() {
    let mut s = settled();
    s.set_online(false);
    assert_eq!(s.request_sync_now(), Err(IdleReason::Offline));
    assert_eq!(s.decide(T0 + 1), Decision::Idle(IdleReason::Offline));
}

#[test]
fn going_online_cuts_a_backoff_short() {
    let mut s = settled();
    s.round_started(T0 + 1);
    s.set_online(false);
    s.round_failed(T0 + 2, &network(), u64::MAX);
    s.set_online(true);
    assert_eq!(s.decide(T0 + 3), Decision::RunNow);
}

#[test]
fn a_repeated_online_event_does_not_run_a_round() {
    let mut s = settled();
    s.set_online(true);
    assert_eq!(s.decide(T0 + 1), Decision::SleepUntil(T0 + 30_000));
}

#[test]
fn hidden_pages_sync_on_the_slower_interval() {
    let mut s = settled();
    s.set_visible(false);
    assert_eq!(s.decide(T0 + 30_000), Decision::SleepUntil(T0 + 300_000));
}

#[test]
fn hidden_pages_still_push_writes_made_in_other_tabs() {
    let mut s = settled();
    s.set_visible(false);
    s.local_write(T0 + 100);
    assert_eq!(s.decide(T0 + 100), Decision::SleepUntil(T0 + 350));
}

#[test]
fn hidden_pages_retry_no_sooner_than_the_hidden_interval() {
    let mut s = settled();
    s.set_visible(false);
    s.round_started(T0 + 1);
    let next = s.round_failed(T0 + 1, &network(), 0);
    assert_eq!(next, Some(T0 + 1 + 300_000));
    assert_eq!(s.decide(T0 + 2), Decision::SleepUntil(T0 + 1 + 300_000));
}

#[test]
fn becoming_visible_runs_a_round_at_once() {
    let mut s = settled();
    s.set_visible(false);
    s.set_visible(true);
    assert_eq!(s.decide(T0 + 1), Decision::RunNow);
}

#[test]
fn backoff_grows_with_full_jitter_up_to_the_cap() {
    let mut s = settled();
    let mut now = T0;
    let mut waits = vec![];
    for _ in 0..9 {
        s.round_started(now);
        let due = s
            .round_failed(now, &network(), u64::MAX)
            .expect("retry scheduled");
        waits.push(due - now);
        assert_eq!(s.decide(now), Decision::SleepUntil(due));
        assert_eq!(s.decide(due), Decision::RunNow);
        now = due;
    }
    // `u64::MAX % (ceiling + 1)` with ceilings 1 s, 2 s, 4 s, … capped at 60 s.
    let expected: Vec<u64> = [
        1_000u64, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000,
    ]
    .iter()
    .map(|c| u64::MAX % (c + 1))
    .collect();
    assert_eq!(waits, expected);
    assert!(waits
        .iter()
        .zip([1_000u64, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000])
        .all(|(w, c)| *w <= c));
}

#[test]
fn full_jitter_can_retry_at_once() {
    let mut s = settled();
    s.round_started(T0 + 5);
    assert_eq!(s.round_failed(T0 + 5, &network(), 0), Some(T0 + 5));
    assert_eq!(s.decide(T0 + 5), Decision::RunNow);
}

#[test]
fn a_success_resets_the_backoff() {
    let mut s = settled();
    for _ in 0..5 {
        s.round_started(T0);
        s.round_failed(T0, &network(), 7);
    }
    assert_eq!(s.failures(), 5);
    s.round_started(T0 + 1);
    s.round_succeeded(T0 + 1, false);
    assert_eq!(s.failures(), 0);
    assert_eq!(s.next_retry_at(), None);
    s.round_started(T0 + 2);
    assert_eq!(
        s.round_failed(T0 + 2, &network(), u64::MAX),
        Some(T0 + 2 + u64::MAX % 1_001)
    );
}

#[test]
fn writes_do_not_cut_a_backoff_short() {
    let mut s = settled();
    s.round_started(T0);
    let due = s.round_failed(T0, &network(), 900).unwrap();
    assert_eq!(due, T0 + 900);
    s.local_write(T0 + 1);
    assert_eq!(s.decide(T0 + 1), Decision::SleepUntil(T0 + 900));
}

#[test]
fn retry_after_is_honoured_as_the_least_wait() {
    let mut s = settled();
    let busy = SyncError::Server {
        status: 503,
        code: "unavailable".into(),
        message: "busy".into(),
        retry_after_ms: Some(45_000),
    };
    s.round_started(T0);
    assert_eq!(s.round_failed(T0, &busy, 3), Some(T0 + 45_000));
    assert_eq!(s.decide(T0 + 44_999), Decision::SleepUntil(T0 + 45_000));
}

#[test]
fn a_persistent_401_blocks_the_loop_until_a_new_token() {
    let mut s = settled();
    s.round_started(T0);
    assert_eq!(s.round_failed(T0, &unauthorized(), 1), None);
    assert_eq!(s.blocked(), Some(Blocked::Auth));
    s.local_write(T0 + 1);
    s.set_visible(false);
    s.set_visible(true);
    assert_eq!(
        s.decide(T0 + 10_000_000),
        Decision::Idle(IdleReason::AuthBlocked),
        "no retry, no interval, no trigger"
    );
    s.credentials_changed();
    assert_eq!(s.decide(T0 + 10_000_001), Decision::RunNow);
}

#[test]
fn a_persistent_401_is_retried_by_sync_now() {
    let mut s = settled();
    s.round_started(T0);
    s.round_failed(T0, &unauthorized(), 1);
    assert_eq!(s.request_sync_now(), Ok(3));
    assert_eq!(s.decide(T0 + 1), Decision::RunNow);
}

#[test]
fn a_protocol_upgrade_blocks_until_sync_now() {
    let mut s = settled();
    s.round_started(T0);
    assert_eq!(
        s.round_failed(T0, &SyncError::UpgradeRequired("v2".into()), 1),
        None
    );
    s.credentials_changed();
    assert_eq!(
        s.decide(T0 + 10_000_000),
        Decision::Idle(IdleReason::FatalBlocked)
    );
    s.request_sync_now().unwrap();
    assert_eq!(s.decide(T0 + 10_000_000), Decision::RunNow);
}

#[test]
fn sync_now_runs_even_when_auto_sync_is_stopped() {
    let mut s = settled();
    s.stop();
    s.local_write(T0 + 1);
    assert_eq!(
        s.decide(T0 + 10_000_000),
        Decision::Idle(IdleReason::Stopped)
    );
    assert_eq!(s.request_sync_now(), Ok(2));
    assert_eq!(s.decide(T0 + 10_000_000), Decision::RunNow);
    assert_eq!(s.round_started(T0 + 10_000_000), 2);
    s.round_succeeded(T0 + 10_000_000, false);
    assert_eq!(
        s.decide(T0 + 20_000_000),
        Decision::Idle(IdleReason::Stopped)
    );
}

#[test]
fn sync_now_during_a_round_is_answered_by_the_next_round() {
    let mut s = settled();
    assert_eq!(s.round_started(T0 + 1), 2);
    assert_eq!(s.request_sync_now(), Ok(3));
    assert_eq!(s.decide(T0 + 2), Decision::Busy);
    s.round_succeeded(T0 + 3, false);
    assert_eq!(s.decide(T0 + 3), Decision::RunNow);
    assert_eq!(s.round_started(T0 + 3), 3);
}

#[test]
fn sync_now_during_a_failing_round_still_runs_the_next_round_at_once() {
    let mut s = settled();
    s.round_started(T0 + 1);
    s.request_sync_now().unwrap();
    s.round_failed(T0 + 2, &network(), u64::MAX);
    assert_eq!(s.decide(T0 + 2), Decision::RunNow);
}

#[test]
fn a_round_that_left_work_behind_is_followed_at_once() {
    let mut s = settled();
    s.round_started(T0 + 1);
    s.round_succeeded(T0 + 2, true);
    assert_eq!(s.decide(T0 + 2), Decision::RunNow);
}

#[test]
fn a_write_during_a_round_schedules_another_round() {
    let mut s = settled();
    s.round_started(T0 + 1);
    s.local_write(T0 + 2);
    s.round_succeeded(T0 + 3, false);
    assert_eq!(s.decide(T0 + 3), Decision::SleepUntil(T0 + 252));
}

#[test]
fn start_after_stop_runs_a_round_at_once() {
    let mut s = settled();
    s.stop();
    s.start();
    assert_eq!(s.decide(T0 + 1), Decision::RunNow);
}

#[test]
fn after_close_nothing_ever_runs_again() {
    let mut s = settled();
    s.local_write(T0 + 1);
    s.close();
    s.set_online(false);
    s.set_online(true);
    s.set_visible(false);
    s.set_visible(true);
    s.start();
    s.credentials_changed();
    assert_eq!(s.request_sync_now(), Err(IdleReason::Closed));
    for t in [T0 + 1, T0 + 1_000, T0 + 10_000_000] {
        assert_eq!(s.decide(t), Decision::Idle(IdleReason::Closed));
    }
}

#[test]
fn close_during_a_round_runs_nothing_after_it() {
    let mut s = settled();
    s.round_started(T0 + 1);
    s.close();
    s.round_succeeded(T0 + 2, true);
    assert_eq!(s.decide(T0 + 2), Decision::Idle(IdleReason::Closed));
}
