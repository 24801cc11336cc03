//! Retry policy (backoff with full jitter, cap, Retry-After, classes, reset, wake)
//! and the hybrid logical clock.

use idb_sync_core::hlc::{measure_offset, Hlc};
use idb_sync_core::memory::{block_on, ManualClock};
use idb_sync_core::retry::{wait, Backoff, NextStep, RetryPolicy, WaitEnd, WakeSignal};
use idb_sync_core::SyncError;

fn transient() -> SyncError {
    SyncError::Network("down".into())
}

#[test]
fn backoff_grows_exponentially_up_to_the_cap_with_full_jitter() {
    let mut b = Backoff::new(RetryPolicy {
        base_ms: 100,
        cap_ms: 1_000,
    });
    let mut ceilings = vec![];
    for _ in 0..6 {
        ceilings.push(b.ceiling_ms());
        let NextStep::RetryAfter(d) = b.on_failure(&transient(), u64::MAX - 7) else {
            panic!()
        };
        assert!(d <= *ceilings.last().unwrap());
    }
    assert_eq!(ceilings, vec![100, 200, 400, 800, 1_000, 1_000]);
    let mut b = Backoff::new(RetryPolicy {
        base_ms: 100,
        cap_ms: 1_000,
    });
    assert_eq!(
        b.on_failure(&transient(), 0),
        NextStep::RetryAfter(0),
        "full jitter reaches 0"
    );
}

#[test]
fn retry_after_is_honoured() {
    let mut b = Backoff::new(RetryPolicy {
        base_ms: 100,
        cap_ms: 1_000,
    });
    let e = SyncError::Server {
        status: 503,
        code: "x".into(),
        message: "x".into(),
        retry_after_ms: Some(30_000),
    };
    assert_eq!(b.on_failure(&e, 0), NextStep::RetryAfter(30_000));
}

#[test]
fn success_resets_the_backoff() {
    let mut b = Backoff::new(RetryPolicy::default());
    b.on_failure(&transient(), 1);
    b.on_failure(&transient(), 1);
    b.on_success();
    assert_eq!(b.failures(), 0);
    assert_eq!(b.ceiling_ms(), RetryPolicy::default().base_ms);
}

#[test]
fn auth_and_fatal_errors_wait_for_the_app() {
    let mut b = Backoff::new(RetryPolicy::default());
    assert_eq!(
        b.on_failure(&SyncError::Auth("no".into()), 1),
        NextStep::WaitForApp
    );
    assert_eq!(
        b.on_failure(&SyncError::UpgradeRequired("v2".into()), 1),
        NextStep::WaitForApp
    );
}

#[test]
fn a_wake_signal_cuts_the_wait_short() {
    let clock = ManualClock::new(0);
    let signal = WakeSignal::new();
    signal.wake();
    assert_eq!(block_on(wait(&clock, 60_000, &signal)), WaitEnd::Woken);
    assert_eq!(clock.true_now(), 0);
    assert_eq!(block_on(wait(&clock, 60_000, &signal)), WaitEnd::Elapsed);
}

#[test]
fn hlc_ticks_strictly_increase_even_if_the_wall_clock_goes_back() {
    let a = Hlc::zero("n").tick(100, "n");
    let b = a.tick(50, "n");
    assert!(b > a);
}

#[test]
fn hlc_after_observing_a_remote_timestamp_is_later_than_it() {
    let remote = Hlc {
        millis: 10_000,
        counter: 3,
        node: "r".into(),
    };
    let local = Hlc::zero("n").tick(5_000, "n").observe(&remote, 5_000, "n");
    assert!(local > remote);
}

#[test]
fn clock_offset_is_measured_from_the_round_trip_midpoint() {
    assert_eq!(measure_offset(1_000, 1_200, 5_100), 4_000);
    assert_eq!(measure_offset(1_000, 1_200, 100), -1_000);
}
