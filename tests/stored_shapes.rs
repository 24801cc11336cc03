//! The client metadata and a key's in-flight entry are read and written by
//! hand-written codecs (src/storage/codec.rs) instead of serde: databases written
//! before them must still open. Each test writes rows literally in the shape
//! serde-wasm-bindgen produced, reads them through the storage port, and checks that
//! what the codecs write back is that shape again (compared with serde's own encoding
//! of the same value). The other stored values (dead letters, the conflict log, kept
//! changes, a row's manual conflict) are read back through JSON (`interop::from_js`):
//! a dead letter in serde's shape checks that path. Headless Chromium, real IndexedDB.
#![cfg(target_arch = "wasm32")]

use idb_sync::LocalDatabase;
use idb_sync_core::conflict::DeadLetter;
use idb_sync_core::outbox::{BatchLimits, ClientMeta, InFlightOp};
use idb_sync_core::ports::Storage;
use idb_sync_core::protocol::MergeMode;
use idb_sync_core::RecordId;
use js_sys::{Reflect, JSON};
use serde_json::Value;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

mod common;

use common::{js, open, raw, state_key};

wasm_bindgen_test_configure!(run_in_browser);

/// A stored JS value as JSON (key order aside: `Value` objects compare as maps).
fn as_json(v: &JsValue) -> Value {
    serde_json::from_str(&JSON::stringify(v).unwrap().as_string().unwrap()).unwrap()
}

/// Metadata exactly as serde-wasm-bindgen (json_compatible) wrote it.
const OLD_META: &str = r#"{"client_id":"0190aaaa-old","next_seq":7,"next_queue_order":12,
  "cursor":"c:42","clock_offset_ms":-1500,
  "hlc":{"millis":1700000000000,"counter":3,"node":"0190aaaa-old"},
  "next_dead_letter_id":2,"account":"user-1","exact_through":6,"answered_through":6}"#;

/// ... and as written before `account`, `exact_through` and `answered_through` existed.
const OLDER_META: &str = r#"{"client_id":"0190bbbb-older","next_seq":1,"next_queue_order":1,
  "cursor":null,"clock_offset_ms":0,"hlc":{"millis":0,"counter":0,"node":"0190bbbb-older"},
  "next_dead_letter_id":1}"#;

#[wasm_bindgen_test]
async fn metadata_in_the_shape_serde_wrote_is_read_and_written_back_in_that_shape() {
    for (case, stored) in [("current", OLD_META), ("older", OLDER_META)] {
        let (db, name) = open("old-meta").await;
        raw(&name, "_idbsync_meta", &"client".into(), Some(&js(stored))).await;
        // What serde read from the same JSON is what the codec reads.
        let expected: ClientMeta = serde_json::from_str(stored).unwrap();
        let storage = db.storage().clone();
        assert_eq!(storage.read_meta().await.unwrap(), expected, "{case}");

        // A local write advances it (clock, queue position) and writes it back in the
        // shape serde wrote: the same JSON as serde's encoding of the same value.
        let tasks = db.table("tasks".into()).unwrap();
        tasks
            .put(js(r#"{"id": "t1", "title": "x"}"#), JsValue::UNDEFINED)
            .await
            .unwrap();
        let meta = storage.read_meta().await.unwrap();
        assert_eq!(
            meta.next_queue_order,
            expected.next_queue_order + 1,
            "{case}"
        );
        assert!(
            meta.hlc > expected.hlc,
            "{case}: the clock only moves forward"
        );
        let row = raw(&name, "_idbsync_meta", &"client".into(), None).await;
        assert_eq!(
            as_json(&row),
            serde_json::to_value(&meta).unwrap(),
            "{case}"
        );
        // The entry took the stored queue position (FIFO continues across the change).
        let state = raw(&name, "_idbsync_state", &state_key("t1"), None).await;
        let pq = Reflect::get(&state, &"pq".into()).unwrap().as_f64();
        assert_eq!(pq, Some(expected.next_queue_order as f64), "{case}");
        db.close();
        LocalDatabase::delete_database(name.into()).await.unwrap();
    }
}

#[wasm_bindgen_test]
async fn metadata_that_cannot_be_read_is_a_storage_error() {
    let cases = [
        (
            "a seq that is a string",
            r#""next_seq":7"#,
            r#""next_seq":"7""#,
        ),
        ("a clock without a node", r#","node":"0190aaaa-old""#, ""),
        (
            "a negative queue position",
            r#""next_queue_order":12"#,
            r#""next_queue_order":-1"#,
        ),
        (
            "a fractional offset",
            r#""clock_offset_ms":-1500"#,
            r#""clock_offset_ms":0.5"#,
        ),
    ];
    for (case, from, to) in cases {
        let (db, name) = open("bad-meta").await;
        let damaged = OLD_META.replace(from, to);
        assert_ne!(damaged, OLD_META, "{case}: the test damages the row");
        raw(
            &name,
            "_idbsync_meta",
            &"client".into(),
            Some(&js(&damaged)),
        )
        .await;
        let err = db.storage().read_meta().await.expect_err(case);
        assert_eq!(err.code(), "storage_error", "{case}: {err}");
        assert!(
            err.to_string().contains("client metadata unreadable"),
            "{case}: {err}"
        );
        let tasks = db.table("tasks".into()).unwrap();
        let err = tasks
            .put(js(r#"{"id": "t1"}"#), JsValue::UNDEFINED)
            .await
            .expect_err(case);
        let code = Reflect::get(&err, &"code".into()).unwrap().as_string();
        assert_eq!(code.as_deref(), Some("storage_error"), "{case}");
        db.close();
        LocalDatabase::delete_database(name.into()).await.unwrap();
    }
}

/// In-flight entries (field `f`) as serde-wasm-bindgen wrote them: a put whose record
/// holds every kind of JSON value (a Date as its wire tag), a strict update, a delete
/// with a numeric key.
const OLD_IN_FLIGHT: [(&str, &str); 3] = [
    (
        "t1",
        r#"{"id":{"table":"tasks","key":"t1"},"op":{"kind":"put","record":{"id":"t1",
        "title":"sent","n":-2.5,"big":9007199254740991,"tags":["a",null,true,0],
        "at":{"$date":"2024-05-31T12:00:00.000Z"},"nested":{"deep":{"x":1}}}},
        "seq":5,"base_version":3,"hlc":{"millis":1700000000000,"counter":1,"node":"c"},
        "mode":"fieldMerge"}"#,
    ),
    (
        "t2",
        r#"{"id":{"table":"tasks","key":"t2"},"op":{"kind":"update","patch":{"title":"u"}},
        "seq":6,"base_version":4,"hlc":{"millis":1700000000001,"counter":0,"node":"c"},
        "mode":"strict"}"#,
    ),
    (
        "t3",
        r#"{"id":{"table":"tasks","key":"t3"},"op":{"kind":"delete"},"seq":7,
        "base_version":1,"hlc":{"millis":1700000000002,"counter":0,"node":"c"},
        "mode":"fieldMerge"}"#,
    ),
];

#[wasm_bindgen_test]
async fn in_flight_entries_in_the_shape_serde_wrote_are_read_and_written_back_in_that_shape() {
    let (db, name) = open("old-in-flight").await;
    let tasks = db.table("tasks".into()).unwrap();
    let mut expected = Vec::new();
    for (key, entry) in OLD_IN_FLIGHT {
        let record = js(&format!(r#"{{"id": "{key}", "title": "local"}}"#));
        tasks.put(record, JsValue::UNDEFINED).await.unwrap();
        let op: InFlightOp = serde_json::from_str(entry).unwrap();
        let row = js(&format!(
            r#"{{"v": {}, "h": "1700000000000.1.c", "f": {entry}, "fs": {}}}"#,
            op.base_version, op.seq
        ));
        raw(&name, "_idbsync_state", &state_key(key), Some(&row)).await;
        expected.push(op);
    }
    let storage = db.storage().clone();
    // Read as serde read them: by a key's state, and as the batch to resend.
    for op in &expected {
        let state = storage.read_state(&op.id).await.unwrap();
        assert_eq!(state.in_flight.as_ref(), Some(op), "{}", op.id);
    }
    let batch = storage
        .take_batch(&BatchLimits::default(), &|_| MergeMode::FieldMerge)
        .await
        .unwrap();
    // Taken to resend, each counts one more attempt (an old entry was sent once):
    // `f` gains `attempts`, in the shape serde writes it, and nothing else changes.
    let resent: Vec<InFlightOp> = expected
        .iter()
        .map(|op| {
            let mut op = op.clone();
            op.resent();
            op
        })
        .collect();
    assert_eq!(batch, resent);
    assert!(resent.iter().all(|op| op.attempts == 2));

    // A local write to each key queues a pending entry beside its in-flight one, and
    // rewrites the row: its `f` is the shape serde wrote, unchanged but for `attempts`.
    for ((key, entry), op) in OLD_IN_FLIGHT.iter().zip(&resent) {
        tasks
            .put(
                js(&format!(r#"{{"id": "{key}", "title": "again"}}"#)),
                JsValue::UNDEFINED,
            )
            .await
            .unwrap();
        let row = raw(&name, "_idbsync_state", &state_key(key), None).await;
        assert_eq!(
            Reflect::get(&row, &"pk".into())
                .unwrap()
                .as_string()
                .as_deref(),
            Some("put"),
            "{key}: the write is queued"
        );
        let stored = as_json(&Reflect::get(&row, &"f".into()).unwrap());
        assert_eq!(
            stored,
            serde_json::to_value(op).unwrap(),
            "{key}: as serde writes it"
        );
        let mut without_attempts = stored.clone();
        without_attempts.as_object_mut().unwrap().remove("attempts");
        let old: Value = serde_json::from_str(entry).unwrap();
        assert_eq!(without_attempts, old, "{key}");
    }
    let state = storage.read_state(&expected[0].id).await.unwrap();
    assert_eq!(state.in_flight.as_ref(), Some(&resent[0]));
    db.close();
    LocalDatabase::delete_database(name.into()).await.unwrap();
}

#[wasm_bindgen_test]
async fn an_in_flight_entry_that_cannot_be_read_is_a_corrupt_row() {
    let cases = [
        (
            "a put without its record",
            r#"{"id":{"table":"tasks","key":"t1"},"op":{"kind":"put"},"seq":5,"base_version":3,"hlc":{"millis":1,"counter":0,"node":"c"},"mode":"fieldMerge"}"#,
        ),
        (
            "an unknown mode",
            r#"{"id":{"table":"tasks","key":"t1"},"op":{"kind":"delete"},"seq":5,"base_version":3,"hlc":{"millis":1,"counter":0,"node":"c"},"mode":"lww"}"#,
        ),
        (
            "a key that is not a key",
            r#"{"id":{"table":"tasks","key":true},"op":{"kind":"delete"},"seq":5,"base_version":3,"hlc":{"millis":1,"counter":0,"node":"c"},"mode":"strict"}"#,
        ),
        (
            "a fractional seq",
            r#"{"id":{"table":"tasks","key":"t1"},"op":{"kind":"delete"},"seq":5.5,"base_version":3,"hlc":{"millis":1,"counter":0,"node":"c"},"mode":"strict"}"#,
        ),
    ];
    for (case, entry) in cases {
        let (db, name) = open("bad-in-flight").await;
        let row = js(&format!(r#"{{"v": 3, "f": {entry}, "fs": 5}}"#));
        raw(&name, "_idbsync_state", &state_key("t1"), Some(&row)).await;
        let err = db
            .storage()
            .read_state(&RecordId::new("tasks", "t1"))
            .await
            .expect_err(case);
        assert_eq!(err.code(), "storage_error", "{case}: {err}");
        assert!(
            err.to_string().contains("corrupt sync state row"),
            "{case}: {err}"
        );
        db.close();
        LocalDatabase::delete_database(name.into()).await.unwrap();
    }
}

/// A dead letter as serde-wasm-bindgen wrote it (the conflict log, kept changes and a
/// row's manual conflict are read the same way: `interop::from_js`, through JSON).
const OLD_DEAD_LETTER: &str = r#"{"id":1,"record":{"table":"tasks","key":7},
  "op":{"kind":"update","patch":{"n":-0.5,"big":9007199254740991,"list":[1,"a",null],
  "at":{"$date":"2024-05-31T12:00:00.000Z"}}},"seq":3,"code":"validation_failed",
  "reason":"title is required","at_ms":1700000000000}"#;

#[wasm_bindgen_test]
async fn a_dead_letter_in_the_shape_serde_wrote_is_read_as_serde_read_it() {
    let (db, name) = open("old-dead-letter").await;
    let stored = js(OLD_DEAD_LETTER);
    raw(&name, "_idbsync_dead_letters", &1.into(), Some(&stored)).await;
    let expected: DeadLetter = serde_json::from_str(OLD_DEAD_LETTER).unwrap();
    assert_eq!(db.storage().dead_letters().await.unwrap(), [expected]);
    db.close();
    LocalDatabase::delete_database(name.into()).await.unwrap();
}
