//! The sync status the app sees: phases, progress from the wire, errors, counts, its
//! camelCase JSON, and what `syncNow()` resolves with.

use std::cell::RefCell;
use std::rc::Rc;

use idb_sync_core::engine::{EngineConfig, RoundReport, SyncEngine};
use idb_sync_core::memory::{
    block_on, LoopbackTransport, ManualClock, MemoryServer, MemoryStorage,
};
use idb_sync_core::merge::LocalOp;

use idb_sync_core::sync_loop::{
    OutboxCounts, Phase, Progress, ProgressTransport, RoundProgress, SyncNowResult, SyncStatus,
};
use idb_sync_core::{ErrorClass, RecordId, SyncError};
use serde_json::json;

#[test]
fn a_new_status_is_idle_online_or_offline() {
    assert_eq!(SyncStatus::new(true).phase, Phase::Idle);
    assert_eq!(SyncStatus::new(false).phase, Phase::Offline);
}

#[test]
fn a_round_with_pending_changes_starts_pushing_and_one_without_starts_pulling() {
    let mut s = SyncStatus::new(true);
    s.round_started(3);
    assert!(s.syncing);
    assert_eq!(
        (s.phase, s.progress),
        (
            Phase::Pushing,
            Progress {
                pushed: 0,
                total: 3,
                pulled: 0
            }
        )
    );
    let mut s = SyncStatus::new(true);
    s.round_started(0);
    assert_eq!(s.phase, Phase::Pulling);
}

#[test]
fn progress_counts_pushed_of_total_and_pulled() {
    let mut s = SyncStatus::new(true);
    s.round_started(5);
    s.round_progress(RoundProgress::Pulling);
    s.round_progress(RoundProgress::Pulled { changes: 7 });
    s.round_progress(RoundProgress::Pushing { mutations: 5 });
    assert_eq!(s.phase, Phase::Pushing);
    s.round_progress(RoundProgress::Pushed { results: 2 });
    s.round_progress(RoundProgress::Pushed { results: 3 });
    assert_eq!(
        s.progress,
        Progress {
            pushed: 5,
            total: 5,
            pulled: 7
        }
    );
}

#[test]
fn progress_outside_a_round_is_ignored() {
    let mut s = SyncStatus::new(true);
    s.round_progress(RoundProgress::Pulling);
    assert_eq!(s, SyncStatus::new(true));
}

#[test]
fn a_successful_round_records_the_time_and_clears_the_error() {
    let mut s = SyncStatus::new(true);
    s.round_started(1);
    s.round_failed(&SyncError::Network("down".into()), Some(5_000));
    assert_eq!((s.phase, s.next_retry_at), (Phase::Error, Some(5_000)));
    s.round_started(1);
    s.round_succeeded(
        9_000,
        &RoundReport {
            pulled: 4,
            ..RoundReport::default()
        },
    );
    assert_eq!(
        (s.phase, s.syncing, s.last_sync_at, s.next_retry_at),
        (Phase::Idle, false, Some(9_000), None)
    );
    assert_eq!(s.last_error, None);
    assert_eq!(s.progress.pulled, 4);
}

#[test]
fn a_persistent_401_shows_an_auth_error_without_a_retry_time() {
    let mut s = SyncStatus::new(true);
    s.round_started(1);
    s.round_failed(&SyncError::Auth("expired".into()), None);
    let e = s.last_error.clone().unwrap();
    assert_eq!(
        (e.code.as_str(), e.class),
        ("auth_failed", ErrorClass::Auth)
    );
    assert_eq!((s.phase, s.next_retry_at), (Phase::Error, None));
}

#[test]
fn offline_shows_offline_and_online_shows_the_previous_state() {
    let mut s = SyncStatus::new(true);
    s.set_online(false);
    assert_eq!((s.phase, s.online), (Phase::Offline, false));
    s.set_online(true);
    assert_eq!(s.phase, Phase::Idle);
}

#[test]
fn counts_come_from_storage() {
    let mut s = SyncStatus::new(true);
    s.set_counts(OutboxCounts {
        pending: 4,
        in_flight: 2,
        conflicts: 1,
        dead_letters: 3,
    });
    assert_eq!(
        (s.pending, s.in_flight, s.conflicts, s.dead_letters),
        (4, 2, 1, 3)
    );
}

#[test]
fn the_status_serializes_in_camel_case_with_nulls() {
    let mut s = SyncStatus::new(true);
    s.round_started(2);
    s.round_failed(&SyncError::Auth("expired".into()), None);
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(
        v,
        json!({
            "phase": "error", "syncing": false, "pending": 0, "inFlight": 0, "lastSyncAt": null,
            "lastError": { "code": "auth_failed", "message": "authentication failed: expired", "class": "auth" },
            "online": true, "progress": { "pushed": 0, "total": 2, "pulled": 0 }, "nextRetryAt": null,
            "conflicts": 0, "deadLetters": 0, "live": "off",
            "storage": { "persisted": null, "usage": null, "quota": null, "writeError": null, "evicted": null, "lost": 0 }
        })
    );
    let back: SyncStatus = serde_json::from_value(v).unwrap();
    assert_eq!(
        back, s,
        "the leader's broadcast round-trips to the other tabs"
    );
}

#[test]
fn a_server_answer_shows_the_servers_code_in_last_error() {
    let mut s = SyncStatus::new(true);
    s.round_started(1);
    let limited = SyncError::Server {
        status: 429,
        code: "rate_limited".into(),
        message: "slow down".into(),
        retry_after_ms: Some(1_000),
    };
    s.round_failed(&limited, None);
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(
        v["lastError"],
        json!({ "code": "server_error", "message": "server error (HTTP 429, rate_limited): slow down",
                "class": "transient", "serverCode": "rate_limited" })
    );
    let back: SyncStatus = serde_json::from_value(v).unwrap();
    assert_eq!(back, s, "the server code is relayed to the other tabs");
    s.round_failed(&SyncError::Network("down".into()), None);
    let v = serde_json::to_value(&s).unwrap();
    assert!(v["lastError"].get("serverCode").is_none(), "{v}");
}

#[test]
fn sync_now_result_counts_accepted_pulled_conflicts_and_rejected() {
    let report = RoundReport {
        sent: 9,
        applied: 5,
        duplicates: 2,
        conflicts: 1,
        rejected: 1,
        pulled: 4,
        resets: 0,
    };
    let r = SyncNowResult::from(&report);
    assert_eq!(
        r,
        SyncNowResult {
            pushed: 7,
            pulled: 4,
            conflicts: 1,
            rejected: 1
        }
    );
    assert_eq!(
        serde_json::to_value(r).unwrap(),
        json!({"pushed": 7, "pulled": 4, "conflicts": 1, "rejected": 1})
    );
}

#[test]
fn the_progress_transport_reports_a_real_round_step_by_step() {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_000_000);
    let steps = Rc::new(RefCell::new(Vec::new()));
    let seen = steps.clone();
    let loopback = LoopbackTransport::new(&server, "u", clock.clone());
    let transport = ProgressTransport::new(loopback, move |step| seen.borrow_mut().push(step));
    let engine = SyncEngine::new(
        MemoryStorage::new("a"),
        transport,
        clock.clone(),
        EngineConfig::default(),
    );
    // Another device wrote two records: the first pull brings them.
    let other = SyncEngine::new(
        MemoryStorage::new("b"),
        LoopbackTransport::new(&server, "u", clock.clone()),
        clock.clone(),
        EngineConfig::default(),
    );
    for i in 0..2 {
        let record = json!({ "title": i }).as_object().cloned().unwrap();
        block_on(other.write(
            &RecordId::new("tasks", format!("o{i}")),
            LocalOp::Create(record),
        ))
        .unwrap();
    }
    block_on(other.sync_round()).unwrap();
    for i in 0..3 {
        let record = json!({ "title": i }).as_object().cloned().unwrap();
        block_on(engine.write(
            &RecordId::new("tasks", format!("t{i}")),
            LocalOp::Create(record),
        ))
        .unwrap();
    }
    let report = block_on(engine.sync_round()).unwrap();
    assert_eq!(report.applied, 3);
    assert_eq!(
        *steps.borrow(),
        vec![
            RoundProgress::Pulling,
            RoundProgress::Pulled { changes: 2 },
            RoundProgress::Pushing { mutations: 3 },
            RoundProgress::Pushed { results: 3 },
            RoundProgress::Pulling,
            // The three were applied exactly: the pull leaves their echoes out
            // (docs/ENGINE.md, "Own echoes").
            RoundProgress::Pulled { changes: 0 },
        ]
    );
    let mut status = SyncStatus::new(true);
    status.round_started(3);
    steps
        .borrow()
        .iter()
        .for_each(|s| status.round_progress(*s));
    status.round_succeeded(clock.true_now(), &report);
    assert_eq!(
        status.progress,
        Progress {
            pushed: 3,
            total: 3,
            pulled: 2
        }
    );
}
