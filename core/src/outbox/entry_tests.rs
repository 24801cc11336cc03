//! Native tests of what `pendingChanges()` shows and when `onOutboxChange` reads.

use serde_json::json;

use super::*;
use crate::error::SyncError;
use crate::hlc::Hlc;
use crate::merge::LocalOp;
use crate::outbox::{assign_in_flight, plan_local_write, ClientMeta, KeyState};
use crate::protocol::MergeMode;
use crate::record::Record;

fn rec(v: serde_json::Value) -> Record {
    serde_json::from_value(v).unwrap()
}

fn status() -> SyncStatus {
    SyncStatus::new(true)
}

fn facts(kind: OpKind, queued: u64, since_ms: u64) -> PendingFacts {
    PendingFacts {
        kind,
        queued,
        since_ms,
        hlc_ms: 7,
        change: Some(Op::Delete),
    }
}

fn sent(key: &str, seq: u64, since_ms: u64, attempts: u32) -> InFlightOp {
    InFlightOp {
        id: RecordId::new("t", key),
        op: Op::Delete,
        seq,
        base_version: 1,
        hlc: Hlc {
            millis: 3,
            ..Hlc::zero("c")
        },
        mode: MergeMode::FieldMerge,
        since_ms,
        attempts,
    }
}

#[test]
fn entries_come_in_the_order_they_reach_the_server() {
    let entries = outbox_entries(
        vec![sent("b", 9, 100, 2), sent("a", 4, 50, 1)],
        vec![
            (RecordId::new("t", "z"), facts(OpKind::Update, 8, 300)),
            (RecordId::new("t", "b"), facts(OpKind::Put, 2, 200)),
        ],
        &status(),
        false,
    );
    let shown: Vec<_> = entries
        .iter()
        .map(|e| (e.key.to_string(), e.state, e.op, e.since, e.attempts))
        .collect();
    assert_eq!(
        shown,
        vec![
            ("\"a\"".into(), EntryState::InFlight, "delete", 50, 1),
            ("\"b\"".into(), EntryState::InFlight, "delete", 100, 2),
            ("\"b\"".into(), EntryState::Pending, "put", 200, 0),
            ("\"z\"".into(), EntryState::Pending, "update", 300, 0),
        ]
    );
    assert!(entries
        .iter()
        .all(|e| e.change.is_none() && e.last_error.is_none()));
}

#[test]
fn what_an_entry_shows_is_what_the_typings_say() {
    let mut s = status();
    s.round_failed(&SyncError::Network("down".into()), Some(5));
    let entries = outbox_entries(
        vec![sent("a", 1, 50, 3)],
        vec![(RecordId::new("t", 2.0), facts(OpKind::Create, 1, 60))],
        &s,
        true,
    );
    let e = &entries[1];
    assert_eq!(
        (e.table.as_str(), e.key.to_string(), e.op, e.state.as_str()),
        ("t", "2".to_string(), "create", "pending")
    );
    assert_eq!(
        (e.since, e.attempts, e.change.as_ref()),
        (60, 0, Some(&Op::Delete))
    );
    assert_eq!(e.last_error.as_ref().unwrap().code, "network_error");
    assert_eq!(entries[0].state.as_str(), "inFlight");
    assert_eq!(
        entries[0].last_error.as_ref().unwrap().code,
        "network_error",
        "in flight waits on it too"
    );
    assert_eq!(entries[0].attempts, 3);
    let view = outbox_entries(vec![sent("a", 1, 50, 3)], vec![], &s, false);
    assert!(
        view[0].change.is_none(),
        "the app's view never carries data"
    );
}

#[test]
fn entries_in_reverse_order_come_out_in_order() {
    let in_flight = (1..=20).rev().map(|seq| sent("k", seq, 1, 1)).collect();
    let pending = (1..=20)
        .rev()
        .map(|q| (RecordId::new("t", q as f64), facts(OpKind::Put, q, 1)))
        .collect();
    let entries = outbox_entries(in_flight, pending, &status(), false);
    let keys: Vec<String> = entries[20..].iter().map(|e| e.key.to_string()).collect();
    let expected: Vec<String> = (1..=20).map(|q| q.to_string()).collect();
    assert_eq!(keys, expected);
}

#[test]
fn entries_stored_before_since_and_attempts_show_their_timestamp_and_one_send() {
    let entries = outbox_entries(
        vec![sent("a", 1, 0, 0)],
        vec![(RecordId::new("t", "b"), facts(OpKind::Delete, 1, 0))],
        &status(),
        false,
    );
    assert_eq!((entries[0].since, entries[0].attempts), (3, 1));
    assert_eq!((entries[1].since, entries[1].attempts), (7, 0));
}

#[test]
fn since_is_the_first_unsynced_write_through_merges_and_the_send() {
    let mut meta = ClientMeta::new("c");
    let mut state = KeyState::default();
    plan_local_write(
        &mut state,
        &mut meta,
        LocalOp::Create(rec(json!({"a": 1}))),
        1_000,
    )
    .unwrap();
    plan_local_write(
        &mut state,
        &mut meta,
        LocalOp::Update(rec(json!({"a": 2}))),
        2_000,
    )
    .unwrap();
    assert_eq!(
        state.pending.as_ref().unwrap().since_ms,
        1_000,
        "kept through a merge"
    );
    let id = RecordId::new("t", "k");
    let f = assign_in_flight(&id, &mut state, &mut meta, MergeMode::FieldMerge).unwrap();
    assert_eq!((f.since_ms, f.attempts), (1_000, 1));
    plan_local_write(
        &mut state,
        &mut meta,
        LocalOp::Update(rec(json!({"a": 3}))),
        3_000,
    )
    .unwrap();
    assert_eq!(
        state.pending.as_ref().unwrap().since_ms,
        3_000,
        "a new pending entry"
    );
}

#[test]
fn a_watch_reads_once_per_burst_and_tells_only_changes() {
    let mut w = OutboxWatch::default();
    assert!(w.touched(), "the first change reads");
    assert!(!w.touched(), "changes during the read wait");
    assert!(!w.touched());
    let one = outbox_entries(vec![sent("a", 1, 5, 1)], vec![], &status(), false);
    let (told, again) = w.read(Some(one.clone()));
    assert_eq!(told.as_ref(), Some(&one));
    assert!(again, "one more read after a burst, not one per change");
    let (told, again) = w.read(Some(one.clone()));
    assert_eq!(told, None, "same entries: nobody is told");
    assert!(!again);
    assert!(w.touched());
    assert_eq!(w.read(None), (None, false), "a failed read tells nothing");
    assert!(w.touched());
    assert_eq!(w.read(Some(vec![])).0, Some(vec![]), "emptied: told");
}

#[test]
fn a_watch_reads_on_a_status_only_when_its_outbox_part_moved() {
    let mut w = OutboxWatch::default();
    let mut s = status();
    assert!(w.status(&s));
    w.read(Some(vec![]));
    s.set_online(false);
    assert!(!w.status(&s), "going offline moves no entry");
    s.pending = 1;
    assert!(w.status(&s));
    w.read(Some(vec![]));
    s.round_started(1);
    assert!(w.status(&s), "a round takes entries in flight");
    w.read(Some(vec![]));
    s.round_failed(&SyncError::Network("down".into()), None);
    assert!(w.status(&s), "every entry shows the error");
}
