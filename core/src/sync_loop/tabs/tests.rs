//! Native tests of every transition of [`Tabs`].

use super::calls::{LOST_LEAD, NO_ANSWER};
use super::*;
use crate::engine::RoundReport;
use crate::error::SyncError;
use crate::sync_loop::{OutboxCounts, RoundProgress, SchedulerConfig};

const UP: Browser = Browser {
    online: true,
    visible: true,
};
const DOWN: Browser = Browser {
    online: false,
    visible: true,
};
const BEAT: Heartbeat = Heartbeat { period_ms: 1_000 };

fn at(wall_ms: u64) -> Now {
    Now {
        wall_ms,
        mono_ms: wall_ms as f64,
    }
}

fn tabs(auto: bool) -> Tabs {
    let scheduler = Scheduler::new(SchedulerConfig::default(), 0, true, true);
    Tabs::new(
        scheduler,
        SyncStatus::new(true),
        auto,
        BEAT,
        "tab".into(),
        0.0,
    )
}

fn leader() -> Tabs {
    let mut t = tabs(false);
    t.became_leader(UP);
    t
}

fn settled(effects: &[Effect]) -> Vec<(WaiterId, Answer)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Settle { waiter, answer } => Some((*waiter, answer.clone())),
            _ => None,
        })
        .collect()
}

fn answered(effects: &[Effect]) -> Vec<(String, Answer)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Answer { id, answer } => Some((id.clone(), answer.clone())),
            _ => None,
        })
        .collect()
}

fn posted(effects: &[Effect]) -> Vec<Message> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Post(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

/// Starts the round the machine decides on; returns (round, term).
fn start_round(t: &mut Tabs, now: u64) -> (u64, u64) {
    let effects = t.pump(now);
    let Some((round, term)) = effects.iter().find_map(|e| match e {
        Effect::RunRound { round, term } => Some((*round, *term)),
        _ => None,
    }) else {
        panic!("no round in {effects:?}");
    };
    assert!(t.round_starting(term, None));
    (round, term)
}

fn report() -> RoundReport {
    RoundReport {
        sent: 1,
        applied: 1,
        ..RoundReport::default()
    }
}

#[test]
fn became_leader_starts_a_term_beats_and_pumps() {
    let mut t = tabs(true);
    let effects = t.became_leader(UP);
    assert!(t.is_leader());
    assert_eq!(t.term(), 1);
    let messages = posted(&effects);
    assert_eq!(messages[0], Message::Heartbeat);
    assert!(matches!(messages[1], Message::Status { .. }));
    assert!(effects.contains(&Effect::Pump));
    assert!(t.scheduler().is_auto(), "autoSync starts in the leader");
    assert!(t.became_leader(UP).is_empty(), "twice is once");
}

#[test]
fn a_leaders_sync_now_is_answered_by_the_next_round() {
    let mut t = leader();
    assert_eq!(t.sync_now(7, true), vec![Effect::Pump]);
    let (round, term) = start_round(&mut t, 10);
    let effects = t.round_finished(term, round, None, Ok(&report()), 20, 0);
    let expected = SyncNowResult {
        pushed: 1,
        ..SyncNowResult::default()
    };
    assert_eq!(settled(&effects), vec![(7, Ok(expected))]);
    assert!(effects.contains(&Effect::Publish));
    assert_eq!(t.status().last_sync_at, Some(20));
}

#[test]
fn a_failed_round_rejects_its_waiters_with_its_error() {
    let mut t = leader();
    t.sync_now(1, true);
    let (round, term) = start_round(&mut t, 10);
    let error = SyncError::Network("down".into());
    let effects = t.round_finished(term, round, None, Err(&error), 20, 0);
    let settled = settled(&effects);
    let [(1, Err(Rejection::Failed(e)))] = settled.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(e.code, error.code());
    assert!(t.status().last_error.is_some());
}

#[test]
fn a_call_made_during_a_round_waits_for_the_next_one() {
    let mut t = leader();
    t.sync_now(1, true);
    let (round, term) = start_round(&mut t, 10);
    t.sync_now(2, true);
    let effects = t.round_finished(term, round, None, Ok(&report()), 20, 0);
    assert_eq!(settled(&effects).len(), 1);
    let (round, term) = start_round(&mut t, 30);
    let effects = t.round_finished(term, round, None, Ok(&report()), 40, 0);
    assert_eq!(settled(&effects)[0].0, 2);
}

#[test]
fn a_call_made_during_a_round_counts_what_that_round_did_too() {
    // An automatic round takes the pending changes and pushes them; syncNow() is
    // called meanwhile and answered by the next round, which finds nothing left. The
    // user still sees the changes that were pending at the call as pushed.
    let mut t = leader();
    t.sync_now(9, true); // what starts the first round (the loop's timer, in the app)
    let (round, term) = start_round(&mut t, 10);
    t.sync_now(1, true);
    let pushed_three = RoundReport {
        sent: 3,
        applied: 3,
        pulled: 2,
        ..RoundReport::default()
    };
    let first = t.round_finished(term, round, None, Ok(&pushed_three), 20, 0);
    assert_eq!(
        settled(&first).len(),
        1,
        "only the call the round was started for"
    );
    let (round, term) = start_round(&mut t, 30);
    let nothing_left = RoundReport::default();
    let effects = t.round_finished(term, round, None, Ok(&nothing_left), 40, 0);
    let expected = SyncNowResult {
        pushed: 3,
        pulled: 2,
        ..SyncNowResult::default()
    };
    assert_eq!(settled(&effects), vec![(1, Ok(expected))]);
    // A relayed call adds up the same way.
    t.sync_now(8, true);
    let (round, term) = start_round(&mut t, 50);
    t.message(
        Message::SyncNow {
            id: "other:1".into(),
        },
        at(51),
    );
    t.round_finished(term, round, None, Ok(&pushed_three), 60, 0);
    let (round, term) = start_round(&mut t, 70);
    let effects = t.round_finished(term, round, None, Ok(&nothing_left), 80, 0);
    assert_eq!(
        answered(&effects),
        vec![("other:1".to_string(), Ok(expected))]
    );
}

#[test]
fn sync_now_offline_or_closed_is_refused() {
    let mut t = leader();
    t.set_online(false);
    assert_eq!(
        settled(&t.sync_now(1, false)),
        vec![(1, Err(Rejection::Offline))]
    );
    let mut f = tabs(false);
    assert_eq!(
        settled(&f.sync_now(2, false)),
        vec![(2, Err(Rejection::Offline))]
    );
    f.close();
    assert_eq!(
        settled(&f.sync_now(3, true)),
        vec![(3, Err(Rejection::Closed))]
    );
}

#[test]
fn sync_now_after_an_auth_block_forgets_the_token() {
    let mut t = leader();
    t.sync_now(1, true);
    let (round, term) = start_round(&mut t, 10);
    let error = SyncError::Auth("no".into());
    t.round_finished(term, round, None, Err(&error), 20, 0);
    let effects = t.sync_now(2, true);
    assert_eq!(effects[0], Effect::ForgetCredentials);
    assert!(effects.contains(&Effect::Pump));
}

#[test]
fn a_followers_sync_now_is_relayed_to_the_leader() {
    let mut f = tabs(false);
    let effects = f.sync_now(5, true);
    assert_eq!(
        effects,
        vec![
            Effect::ArmCallTimer {
                call: "tab:1".into(),
                after_ms: CALL_TIMEOUT_MS
            },
            Effect::Post(Message::SyncNow { id: "tab:1".into() }),
        ]
    );
    let result = SyncNowResult {
        pulled: 3,
        ..SyncNowResult::default()
    };
    let done = Message::SyncNowDone {
        id: "tab:1".into(),
        result: Some(result),
        error: None,
    };
    let effects = f.message(done.clone(), at(5));
    assert_eq!(settled(&effects), vec![(5, Ok(result))]);
    assert!(effects.contains(&Effect::StopCallTimer {
        call: "tab:1".into()
    }));
    assert!(f.message(done, at(6)).is_empty(), "answered once");
}

#[test]
fn the_leaders_error_or_empty_answer_settles_the_call() {
    let mut f = tabs(false);
    f.sync_now(1, true);
    f.sync_now(2, true);
    let error = StatusError {
        code: "network_error".into(),
        message: "down".into(),
        class: ErrorClass::Transient,
        server_code: None,
    };
    let effects = f.message(
        Message::SyncNowDone {
            id: "tab:1".into(),
            result: None,
            error: Some(error.clone()),
        },
        at(1),
    );
    assert_eq!(settled(&effects), vec![(1, Err(Rejection::Failed(error)))]);
    let effects = f.message(
        Message::SyncNowDone {
            id: "tab:2".into(),
            result: None,
            error: None,
        },
        at(1),
    );
    assert_eq!(settled(&effects), vec![(2, Ok(SyncNowResult::default()))]);
}

#[test]
fn a_relayed_call_whose_leader_dies_times_out() {
    let mut f = tabs(false);
    f.sync_now(1, true);
    let effects = f.timed_out("tab:1");
    assert_eq!(
        settled(&effects),
        vec![(1, Err(Rejection::LeaderUnavailable(NO_ANSWER)))]
    );
    assert!(f.timed_out("tab:1").is_empty());
}

#[test]
fn a_relayed_call_becomes_the_new_leaders_waiter() {
    let mut f = tabs(false);
    f.sync_now(1, true);
    let effects = f.became_leader(UP);
    assert!(effects.contains(&Effect::StopCallTimer {
        call: "tab:1".into()
    }));
    assert!(settled(&effects).is_empty());
    assert!(f.timed_out("tab:1").is_empty(), "no longer a call");
    let (round, term) = start_round(&mut f, 10);
    let effects = f.round_finished(term, round, None, Ok(&report()), 20, 0);
    assert_eq!(settled(&effects)[0].0, 1);
}

#[test]
fn became_leader_while_offline_refuses_the_calls() {
    let mut f = tabs(false);
    f.sync_now(1, true);
    let effects = f.became_leader(DOWN);
    assert_eq!(settled(&effects), vec![(1, Err(Rejection::Offline))]);
}

#[test]
fn the_leader_takes_relayed_calls_and_answers_them() {
    let mut t = leader();
    let effects = t.message(Message::SyncNow { id: "b:1".into() }, at(1));
    assert_eq!(effects, vec![Effect::Pump]);
    let (round, term) = start_round(&mut t, 10);
    let effects = t.round_finished(term, round, None, Ok(&report()), 20, 0);
    assert_eq!(answered(&effects)[0].0, "b:1");
    assert!(answered(&effects)[0].1.is_ok());
}

#[test]
fn the_leader_refuses_relayed_calls_while_offline() {
    let mut t = leader();
    t.set_online(false);
    let effects = t.message(Message::SyncNow { id: "b:1".into() }, at(1));
    assert_eq!(
        answered(&effects),
        vec![("b:1".into(), Err(Rejection::Offline))]
    );
}

#[test]
fn a_robbed_leader_relays_its_waiters_and_gives_up_its_calls() {
    let mut t = leader();
    t.sync_now(1, true);
    t.message(Message::SyncNow { id: "b:1".into() }, at(1));
    let (round, term) = start_round(&mut t, 10);
    let effects = t.lost_leadership(at(15), UP);
    assert!(!t.is_leader());
    assert_eq!(
        answered(&effects),
        vec![("b:1".into(), Err(Rejection::LeaderUnavailable(LOST_LEAD)))]
    );
    let messages = posted(&effects);
    assert_eq!(messages[0], Message::SyncNow { id: "tab:1".into() });
    assert_eq!(messages[1], Message::Hello);
    assert!(effects.contains(&Effect::StopLoopTimer));
    // The abandoned round reports nothing, answers nobody.
    let before = t.status().clone();
    let effects = t.round_finished(term, round, None, Ok(&report()), 20, 0);
    assert!(effects.is_empty());
    assert_eq!(t.status(), &before);
    assert!(!t.round_progress(RoundProgress::Pulling));
    // The relayed waiter is answered by the new leader.
    let done = Message::SyncNowDone {
        id: "tab:1".into(),
        result: Some(SyncNowResult::default()),
        error: None,
    };
    assert_eq!(settled(&t.message(done, at(30))).len(), 1);
}

#[test]
fn a_robbed_leader_offline_refuses_its_waiters() {
    let mut t = leader();
    t.sync_now(1, true);
    let effects = t.lost_leadership(at(15), DOWN);
    assert_eq!(settled(&effects), vec![(1, Err(Rejection::Offline))]);
}

#[test]
fn a_leader_hearing_another_leader_verifies_its_lead() {
    let mut t = leader();
    assert_eq!(
        t.message(Message::Heartbeat, at(1)),
        vec![Effect::VerifyLead]
    );
    let mut f = tabs(false);
    assert!(f.message(Message::Heartbeat, at(1)).is_empty());
}

#[test]
fn close_during_a_round_ends_the_term() {
    let mut t = leader();
    t.sync_now(1, true);
    let (round, term) = start_round(&mut t, 10);
    let effects = t.close();
    assert_eq!(settled(&effects), vec![(1, Err(Rejection::Closed))]);
    assert!(effects.contains(&Effect::StopBeat));
    assert!(!t.is_leader());
    assert!(!t.in_term(term));
    // The round's error changes nothing and answers nobody.
    let before = t.status().clone();
    let error = SyncError::Network("aborted".into());
    assert!(t
        .round_finished(term, round, None, Err(&error), 20, 0)
        .is_empty());
    assert_eq!(t.status(), &before);
    assert!(!t.round_starting(term, None));
    assert!(t.close().is_empty(), "idempotent");
    assert!(t.message(Message::Hello, at(30)).is_empty());
    assert!(t.beat(30.0).is_empty());
}

#[test]
fn close_refuses_a_followers_calls() {
    let mut f = tabs(false);
    f.sync_now(1, true);
    let effects = f.close();
    assert!(effects.contains(&Effect::StopCallTimer {
        call: "tab:1".into()
    }));
    assert_eq!(settled(&effects), vec![(1, Err(Rejection::Closed))]);
}

#[test]
fn a_round_of_a_new_term_is_not_mistaken_for_an_old_one() {
    let mut t = leader();
    t.sync_now(1, true);
    let (_, old) = start_round(&mut t, 10);
    t.lost_leadership(at(15), UP);
    t.became_leader(UP);
    assert!(!t.in_term(old));
    assert!(t.in_term(t.term()));
}

#[test]
fn a_follower_takes_the_leaders_status() {
    let mut f = tabs(false);
    let mut status = SyncStatus::new(true);
    status.pending = 4;
    status.syncing = true;
    let effects = f.message(
        Message::Status {
            status: status.clone(),
        },
        at(1),
    );
    assert_eq!(effects, vec![Effect::Publish]);
    assert_eq!(f.status().pending, 4);
    status.syncing = false;
    let effects = f.message(Message::Status { status }, at(2));
    assert_eq!(
        effects,
        vec![
            Effect::Publish,
            Effect::RereadClientId,
            Effect::EstimateStorage
        ]
    );
    // The leader ignores a status: it has its own.
    let mut t = leader();
    let mut other = SyncStatus::new(true);
    other.pending = 9;
    assert!(t
        .message(Message::Status { status: other }, at(3))
        .is_empty());
    assert_eq!(t.status().pending, 0);
}

#[test]
fn hello_poke_and_reauth_reach_only_the_leader() {
    let mut t = leader();
    let effects = t.message(Message::Hello, at(1));
    assert!(matches!(posted(&effects)[..], [Message::Status { .. }]));
    assert_eq!(
        t.message(Message::Poke, at(1)),
        vec![Effect::RefreshCounts, Effect::Pump]
    );
    assert_eq!(
        t.message(Message::Reauth, at(1)),
        vec![Effect::ForgetCredentials, Effect::Pump]
    );
    let mut f = tabs(false);
    for m in [Message::Hello, Message::Poke, Message::Reauth] {
        assert!(f.message(m, at(1)).is_empty());
    }
    assert!(f
        .message(Message::SyncNow { id: "x".into() }, at(1))
        .is_empty());
}

#[test]
fn a_follower_pokes_and_reauths_through_the_leader() {
    let mut f = tabs(false);
    assert_eq!(
        f.poke(1),
        vec![Effect::Post(Message::Poke), Effect::RefreshCounts]
    );
    assert_eq!(
        f.credentials_changed(),
        vec![Effect::ForgetCredentials, Effect::Post(Message::Reauth)]
    );
    assert_eq!(
        f.account_resolved("c"),
        vec![Effect::Post(Message::SyncNow {
            id: "c:account-resolved".into()
        })]
    );
    let mut t = leader();
    assert_eq!(t.account_resolved("c"), vec![Effect::Pump]);
    assert_eq!(t.pump(0)[1], Effect::RunRound { round: 1, term: 1 });
}

#[test]
fn the_leader_beats_and_a_follower_watches() {
    let mut t = leader();
    let effects = t.beat(1_000.0);
    assert_eq!(
        effects,
        vec![
            Effect::Post(Message::Heartbeat),
            Effect::ArmBeat { after_ms: 1_000 }
        ]
    );
    let mut f = tabs(false);
    for i in 1..=4 {
        let effects = f.beat(f64::from(i) * 1_000.0);
        assert_eq!(effects, vec![Effect::ArmBeat { after_ms: 1_000 }]);
    }
    let effects = f.beat(5_000.0);
    assert_eq!(effects[0], Effect::TakeOver { since: 5_000.0 });
    assert!(f.still_silent(5_000.0));
    // A failed attempt waits a whole window again.
    assert_eq!(f.beat(6_000.0).len(), 1);
    // Heard after the silence was noticed: the takeover stands down.
    f.message(Message::Heartbeat, at(5_500));
    assert!(!f.still_silent(5_000.0));
}

#[test]
fn a_follower_heard_from_the_leader_never_takes_over() {
    let mut f = tabs(false);
    for i in 1..=20 {
        let t = f64::from(i) * 1_000.0;
        f.message(Message::Heartbeat, at(t as u64 - 10));
        assert_eq!(f.beat(t).len(), 1, "takeover at {t}");
    }
}

#[test]
fn a_frozen_tab_decides_nothing_until_resumed() {
    let mut t = leader();
    t.sync_now(1, true);
    assert!(t.set_frozen(true).is_empty());
    assert!(t.pump(0).is_empty());
    assert_eq!(
        t.set_frozen(false),
        vec![Effect::RefreshCounts, Effect::Pump]
    );
    assert!(matches!(t.pump(0)[1], Effect::RunRound { .. }));
}

#[test]
fn a_follower_never_runs_a_round() {
    let mut f = tabs(true);
    assert_eq!(f.pump(0), vec![Effect::StopLoopTimer]);
    let mut t = leader();
    assert_eq!(
        t.pump(0),
        vec![Effect::StopLoopTimer],
        "stopped, nothing due"
    );
    // status.live goes from off to polling: published.
    assert_eq!(t.set_auto(true), vec![Effect::Publish, Effect::Pump]);
    assert!(matches!(t.pump(0)[1], Effect::RunRound { .. }));
    assert_eq!(t.pump(0), Vec::<Effect>::new(), "busy");
}

#[test]
fn adoption_waits_for_the_first_round_that_succeeds() {
    let mut t = leader();
    t.set_adopt_after_pull(true);
    t.sync_now(1, true);
    let (round, term) = start_round(&mut t, 10);
    let error = SyncError::Network("down".into());
    let effects = t.round_finished(term, round, None, Err(&error), 20, 0);
    assert!(!effects.contains(&Effect::AdoptRows));
    t.sync_now(2, true);
    let (round, term) = start_round(&mut t, 30);
    let effects = t.round_finished(term, round, None, Ok(&report()), 40, 0);
    assert!(effects.contains(&Effect::AdoptRows));
}

#[test]
fn a_failed_adoption_is_tried_again_after_the_next_good_round() {
    let mut t = leader();
    t.set_adopt_after_pull(true);
    t.sync_now(1, true);
    let (round, term) = start_round(&mut t, 10);
    let effects = t.round_finished(term, round, None, Ok(&report()), 20, 0);
    assert!(effects.contains(&Effect::AdoptRows));
    t.adoption_failed(true);
    t.sync_now(2, true);
    let (round, term) = start_round(&mut t, 30);
    let effects = t.round_finished(term, round, None, Ok(&report()), 40, 0);
    assert!(effects.contains(&Effect::AdoptRows), "tried again");
    t.sync_now(3, true);
    let (round, term) = start_round(&mut t, 50);
    let effects = t.round_finished(term, round, None, Ok(&report()), 60, 0);
    assert!(
        !effects.contains(&Effect::AdoptRows),
        "adopted: once is enough"
    );
}

#[test]
fn adopted_rows_are_synced_like_a_local_write() {
    let mut t = leader();
    assert_eq!(
        t.adopted(0, 10, true),
        Vec::<Effect>::new(),
        "nothing queued"
    );
    assert_eq!(
        t.adopted(3, 10, true),
        vec![Effect::RefreshCounts, Effect::Pump],
        "queued: counts and a round"
    );
    let mut follower = tabs(false);
    assert_eq!(
        follower.adopted(3, 10, true),
        vec![Effect::RefreshCounts, Effect::Pump]
    );
    follower.close();
    assert_eq!(
        follower.adopted(3, 10, true),
        Vec::<Effect>::new(),
        "closed"
    );
}

#[test]
fn counts_before_and_after_a_round_reach_the_status() {
    let mut t = leader();
    t.sync_now(1, true);
    let effects = t.pump(10);
    let Some(&Effect::RunRound { round, term }) = effects.get(1) else {
        panic!("{effects:?}")
    };
    let counts = OutboxCounts {
        pending: 2,
        ..OutboxCounts::default()
    };
    assert!(t.round_starting(term, Some(counts)));
    assert_eq!(t.status().progress.total, 2);
    assert!(t.round_progress(RoundProgress::Pushed { results: 2 }));
    t.round_finished(
        term,
        round,
        Some(OutboxCounts::default()),
        Ok(&report()),
        20,
        0,
    );
    assert_eq!(t.status().pending, 0);
}

#[test]
fn online_and_visibility_reach_the_scheduler_and_status() {
    let mut t = leader();
    assert_eq!(t.set_online(false), vec![Effect::Publish, Effect::Pump]);
    assert!(!t.status().online);
    assert_eq!(t.set_visible(false), vec![Effect::Pump]);
    assert!(t.local_write(5).contains(&Effect::RefreshCounts));
}

#[test]
fn a_panic_breaks_the_status_for_good() {
    let mut t = leader();
    let effects = t.broken("boom");
    assert!(effects.contains(&Effect::Publish));
    assert_eq!(t.status().last_error.as_ref().unwrap().code, "panicked");
    assert!(!t.is_leader() && t.is_closed());
}

#[test]
fn messages_keep_their_wire_format() {
    let json = serde_json::to_string(&Message::SyncNow { id: "a:1".into() }).unwrap();
    assert_eq!(json, r#"{"type":"syncNow","id":"a:1"}"#);
    let done: Message =
        serde_json::from_str(r#"{"type":"syncNowDone","id":"a:1","result":null,"error":null}"#)
            .unwrap();
    assert_eq!(
        done,
        Message::SyncNowDone {
            id: "a:1".into(),
            result: None,
            error: None
        }
    );
    assert_eq!(
        serde_json::to_string(&Message::Heartbeat).unwrap(),
        r#"{"type":"heartbeat"}"#
    );
}
