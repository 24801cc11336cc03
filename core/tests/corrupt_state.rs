//! A sync-state row the port cannot decode when it takes a batch is set aside
//! (`outbox::set_aside_corrupt_state`, docs/INVARIANTS.md, I9): one `corrupt_state`
//! dead letter showing the stored row and keeping the local record, the record rolled
//! back, and a state that never reads as "never on the server".

use idb_sync_core::merge::LocalOp;
use idb_sync_core::outbox::{
    plan_local_write, set_aside_corrupt_state, shown_row, ClientMeta, CorruptRow, OpKind,
    CORRUPT_STATE, MAX_SHOWN_ROW_CHARS,
};
use idb_sync_core::protocol::Cursor;
use idb_sync_core::value::{Problem, Step, ValueError, ValuePath};
use idb_sync_core::{ErrorCode, Op, Record, RecordId, RecordKey};
use serde_json::json;

fn id() -> RecordId {
    RecordId::new("tasks", RecordKey::String("t1".into()))
}

fn record(v: serde_json::Value) -> Record {
    serde_json::from_value(v).unwrap()
}

fn meta() -> ClientMeta {
    let mut meta = ClientMeta::new("c1");
    meta.cursor = Some(Cursor("cursor".into()));
    meta
}

const RAW: &str = r#"{"v":3,"pk":"upsert","pq":1}"#;

fn row() -> CorruptRow<'static> {
    CorruptRow {
        raw: RAW,
        problem: "unknown pending kind \"upsert\"",
    }
}

#[test]
fn a_corrupt_row_becomes_one_corrupt_state_dead_letter_keeping_the_local_record() {
    let mut meta = meta();
    let before = meta.next_dead_letter_id;
    let local = record(json!({"id": "t1", "title": "mine"}));
    let out = set_aside_corrupt_state(&id(), row(), Some(local.clone()), &[], &mut meta, 9);

    assert_eq!(CORRUPT_STATE, ErrorCode::CorruptState.as_str());
    assert_eq!(out.letter.code, "corrupt_state");
    assert_eq!((out.letter.id, out.letter.seq), (before, 0));
    assert_eq!(meta.next_dead_letter_id, before + 1);
    assert_eq!((out.letter.record.clone(), out.letter.at_ms), (id(), 9));
    // Retrying the dead letter puts the record back as it was.
    assert_eq!(out.letter.op, Op::Put { record: local });
    // The user sees the stored row and why it could not be read.
    let reason = &out.letter.reason;
    assert!(reason.contains(RAW), "{reason}");
    assert!(reason.contains("unknown pending kind"), "{reason}");
    assert!(reason.contains("rolled back"), "{reason}");
    assert!(
        reason.contains("keeps the local record as it was"),
        "{reason}"
    );
}

#[test]
fn the_key_is_never_taken_for_one_the_server_never_had() {
    let mut meta = meta();
    let out = set_aside_corrupt_state(&id(), row(), None, &[], &mut meta, 9);
    let state = out.state;
    // Rolled back: the local record is removed and nothing is queued, sent or parked.
    assert!(state.value.is_none());
    assert!(state.pending.is_none() && state.in_flight.is_none() && state.conflict.is_none());
    // The server may have it: the row is kept (so the record is not adopted as new),
    // and the cursor is dropped so the next pull brings the server's copy back.
    assert!(state.may_exist_on_server());
    assert!(state.has_sync_state() && !state.is_empty());
    assert_eq!(meta.cursor, None);
    // No local record: the dead letter keeps that as a delete.
    assert_eq!(out.letter.op, Op::Delete);
    assert!(
        out.letter.reason.contains("local record was absent"),
        "{}",
        out.letter.reason
    );

    // A later write of the key is sent as a put and a delete is sent at all: neither
    // is a create, nor a delete cancelled as "never on the server".
    let mut put = state.clone();
    plan_local_write(
        &mut put,
        &mut meta,
        LocalOp::Put(record(json!({"id": "t1", "title": "again"}))),
        10,
    )
    .unwrap();
    assert_eq!(
        put.pending.as_ref().map(|p| OpKind::of(&p.op)),
        Some(OpKind::Put)
    );
    let mut delete = state.clone();
    delete.value = Some(record(json!({"id": "t1"})));
    plan_local_write(&mut delete, &mut meta, LocalOp::Delete, 11).unwrap();
    assert_eq!(
        delete.pending.as_ref().map(|p| OpKind::of(&p.op)),
        Some(OpKind::Delete)
    );
}

#[test]
fn fields_of_the_local_record_that_cannot_be_kept_are_named() {
    let mut meta = meta();
    let left_out = [ValueError {
        path: ValuePath(vec![Step::Field("tags".into())]),
        problem: Problem::Unsupported("Map".into()),
    }];
    let kept = record(json!({"id": "t1"}));
    let out = set_aside_corrupt_state(&id(), row(), Some(kept.clone()), &left_out, &mut meta, 9);
    assert_eq!(out.letter.op, Op::Put { record: kept });
    assert!(
        out.letter.reason.contains("without `tags`"),
        "{}",
        out.letter.reason
    );
}

#[test]
fn a_huge_row_is_shown_cut_saying_how_much_was_cut() {
    let small = "{\"v\":1}";
    assert_eq!(shown_row(small), small);
    let exact = "é".repeat(MAX_SHOWN_ROW_CHARS);
    assert_eq!(shown_row(&exact), exact);
    let huge = format!("{}{}", "é".repeat(MAX_SHOWN_ROW_CHARS), "x".repeat(5));
    let shown = shown_row(&huge);
    assert!(shown.starts_with(&exact), "cut at a character boundary");
    assert!(shown.ends_with("… (5 more characters)"), "{shown}");

    let mut meta = meta();
    let raw = "x".repeat(MAX_SHOWN_ROW_CHARS * 3);
    let row = CorruptRow {
        raw: &raw,
        problem: "not an object",
    };
    let out = set_aside_corrupt_state(&id(), row, None, &[], &mut meta, 9);
    assert!(out.letter.reason.len() < MAX_SHOWN_ROW_CHARS + 1_000);
    assert!(out
        .letter
        .reason
        .contains(&format!("({} more characters)", MAX_SHOWN_ROW_CHARS * 2)));
}
