//! Tests of `storage.rs`: what counts as an eviction, and the outbox entries kept in
//! memory for the report of what it took.

use super::*;
use crate::hlc::Hlc;
use crate::protocol::MergeMode;
use crate::record::Op;

fn key(s: &str) -> RecordKey {
    RecordKey::String(s.into())
}

fn id(table: &str, k: &str) -> RecordId {
    RecordId {
        table: table.into(),
        key: key(k),
    }
}

fn ops(known: &KnownChanges) -> Vec<(String, RecordKey, &'static str)> {
    known
        .changes
        .iter()
        .map(|c| (c.table.clone(), c.key.clone(), c.op))
        .collect()
}

#[test]
fn a_deletion_or_a_forced_close_reopens_and_an_upgrade_yields() {
    let deleted = ConnectionEvent::VersionChange { new_version: None };
    let upgraded = ConnectionEvent::VersionChange {
        new_version: Some(30.0),
    };
    assert_eq!(on_connection_event(deleted), ConnectionAction::Reopen);
    assert_eq!(
        on_connection_event(ConnectionEvent::Closed),
        ConnectionAction::Reopen
    );
    assert_eq!(on_connection_event(upgraded), ConnectionAction::Yield);
}

#[test]
fn reopening_backs_off_then_gives_up() {
    let delays: Vec<u64> = (0..).map_while(reopen_delay_ms).collect();
    assert_eq!(delays, vec![0, 100, 200, 400, 800, 1_600, 3_200]);
}

#[test]
fn a_reopened_database_was_evicted_when_its_metadata_is_not_the_one_known() {
    assert!(was_evicted("c1", true, "c2"), "created anew: gone");
    assert!(
        was_evicted("c1", false, "c2"),
        "another tab recreated it first"
    );
    assert!(!was_evicted("c1", false, "c1"), "the same database: intact");
}

#[test]
fn what_was_queued_before_the_tab_opened_is_not_read_until_the_outbox_drains() {
    let mut known = KnownChanges::default();
    assert!(!known.counted(200), "at open: no read of the whole outbox");
    known.wrote("tasks", vec![(key("a"), Some(OpKind::Create))]);
    assert!(!known.counted(201), "still incomplete: no read");
    assert!(!known.counted(0), "drained: complete");
    known.wrote("tasks", vec![(key("b"), Some(OpKind::Put))]);
    assert!(!known.counted(1));
    assert!(known.counted(2), "complete, and another tab wrote: read");
}

#[test]
fn own_writes_are_known_without_a_read() {
    let mut known = KnownChanges::default();
    assert!(!known.counted(0), "an empty outbox at open");
    known.wrote(
        "tasks",
        vec![
            (key("a"), Some(OpKind::Create)),
            (key("b"), Some(OpKind::Put)),
        ],
    );
    known.wrote("tasks", vec![(key("a"), Some(OpKind::Create))]);
    known.wrote("notes", vec![(key("a"), Some(OpKind::Update))]);
    assert!(!known.counted(3), "what the count says: no read");
    known.wrote("tasks", vec![(key("b"), None), (key("z"), None)]);
    assert!(!known.counted(2));
    assert_eq!(
        ops(&known),
        vec![
            ("tasks".into(), key("a"), "create"),
            ("notes".into(), key("a"), "update")
        ]
    );
}

#[test]
fn a_count_that_differs_rereads_and_an_empty_outbox_needs_no_read() {
    let mut known = KnownChanges::default();
    assert!(!known.counted(0));
    known.wrote("tasks", vec![(key("a"), Some(OpKind::Create))]);
    assert!(known.counted(2), "another tab wrote: read");
    let sent = InFlightOp {
        id: id("tasks", "a"),
        op: Op::Delete,
        seq: 1,
        base_version: 1,
        hlc: Hlc {
            millis: 1,
            counter: 0,
            node: "c".into(),
        },
        mode: MergeMode::FieldMerge,
        since_ms: 0,
        attempts: 1,
    };
    known.read(vec![sent], vec![(id("tasks", "b"), OpKind::Put)]);
    assert!(!known.counted(2));
    assert_eq!(
        ops(&known),
        vec![
            ("tasks".into(), key("a"), "delete"),
            ("tasks".into(), key("b"), "put")
        ]
    );
    assert!(!known.counted(0), "synced: nothing to read");
    assert!(known.take().is_empty());
}

#[test]
fn an_eviction_takes_what_was_known() {
    let mut known = KnownChanges::default();
    known.wrote("tasks", vec![(key("a"), Some(OpKind::Create))]);
    let lost = known.take();
    assert_eq!(lost.len(), 1);
    assert_eq!((lost[0].table.as_str(), lost[0].op), ("tasks", "create"));
    assert!(known.take().is_empty(), "told once");
    let mut health = StorageHealth::default();
    health.evicted_now(lost.len());
    assert_eq!(health.lost, 1);
    assert!(health
        .evicted
        .expect("shown")
        .message
        .contains("1 unsynced"));
}
