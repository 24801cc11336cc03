//! A key's sync-state row that cannot be read (written into `_idbsync_state` past
//! idb-sync, or damaged) is a `storage_error` — never read as "no row", which would
//! mean "never on the server" and let a delete or update of a synced record vanish
//! without reaching the outbox. Headless Chromium, real IndexedDB.
//!
//! When the sync engine takes a batch, such a row is set aside instead of failing the
//! round (docs/INVARIANTS.md, I9): one `corrupt_state` dead letter showing the row, the
//! record rolled back, and the rest of the queue pushed (core's
//! `outbox::set_aside_corrupt_state`, docs/STORAGE.md).
#![cfg(target_arch = "wasm32")]

use idb_sync::LocalDatabase;
use idb_sync_core::engine::{retry_dead_letter, EngineConfig, SyncEngine};
use idb_sync_core::memory::{LoopbackTransport, ManualClock, MemoryServer};
use idb_sync_core::outbox::BatchLimits;
use idb_sync_core::ports::Storage;
use idb_sync_core::protocol::MergeMode;
use idb_sync_core::server::{BasicValidator, ServerConfig};
use idb_sync_core::{Op, RecordId, RecordKey};
use js_sys::{Reflect, JSON};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

mod common;

use common::{js, open, raw, state_key};

wasm_bindgen_test_configure!(run_in_browser);

fn code_and_message(e: &JsValue) -> (String, String) {
    let get = |f: &str| Reflect::get(e, &f.into()).unwrap().as_string();
    (
        get("code").unwrap_or_default(),
        get("message").unwrap_or_default(),
    )
}

/// Writes `row` as the state row of `tasks`/`key` through a connection of its own,
/// as other code on the page could.
async fn write_raw_state_row(name: &str, key: &str, row: &JsValue) {
    raw(name, "_idbsync_state", &state_key(key), Some(row)).await;
}

#[wasm_bindgen_test]
async fn a_state_row_that_cannot_be_read_is_a_storage_error_not_never_synced() {
    let cases = [
        ("not an object", JsValue::from_str("synced at version 3")),
        ("a version that is not a count", js(r#"{"v": "3"}"#)),
        (
            "an unknown pending kind",
            js(r#"{"v": 3, "pk": "upsert", "pq": 1}"#),
        ),
        (
            "an unreadable in-flight change",
            js(r#"{"v": 3, "f": 42, "fs": 1}"#),
        ),
    ];
    for (case, corrupt) in cases {
        let (db, name) = open("corrupt-state").await;
        let tasks = db.table("tasks".into()).unwrap();
        tasks
            .put(js(r#"{"id": "t1", "title": "synced"}"#), JsValue::UNDEFINED)
            .await
            .unwrap();
        write_raw_state_row(&name, "t1", &corrupt).await;

        for (what, result) in [
            ("delete", tasks.delete("t1".into()).await.map(|_| ())),
            (
                "update",
                tasks
                    .update("t1".into(), js(r#"{"title": "changed"}"#))
                    .await
                    .map(|_| ()),
            ),
            (
                "put",
                tasks
                    .put(js(r#"{"id": "t1", "title": "again"}"#), JsValue::UNDEFINED)
                    .await
                    .map(|_| ()),
            ),
        ] {
            let err = result.expect_err(&format!("{case}: {what} must fail"));
            let (code, message) = code_and_message(&err);
            assert_eq!(code, "storage_error", "{case}: {what}: {message}");
            assert!(
                message.contains("corrupt sync state row"),
                "{case}: {what}: {message}"
            );
        }
        // Nothing was written: the record is as it was.
        let record = tasks.get("t1".into()).await.unwrap();
        assert_eq!(
            JSON::stringify(&record).unwrap(),
            r#"{"id":"t1","title":"synced"}"#,
            "{case}"
        );
        // The sync engine's port refuses it too.
        let err = db
            .storage()
            .read_state(&RecordId::new("tasks", "t1"))
            .await
            .expect_err(case);
        assert_eq!(err.code(), "storage_error", "{case}: {err}");

        db.close();
        LocalDatabase::delete_database(name.into())
            .await
            .expect("delete database");
    }
}

/// The titles of the live records on the in-process server.
fn server_titles(server: &MemoryServer) -> Vec<(String, String)> {
    server
        .user("u")
        .records
        .values()
        .filter_map(|r| {
            let title = r.data.as_ref()?.get("title")?.as_str()?.to_owned();
            let RecordKey::String(key) = &r.key else {
                return None;
            };
            Some((key.clone(), title))
        })
        .collect()
}

#[wasm_bindgen_test]
async fn a_damaged_pending_or_in_flight_row_becomes_a_dead_letter_and_the_good_write_is_pushed() {
    // (case, taken into a batch before the damage, the damaged row)
    let cases = [
        ("pending", false, r#"{"pk":"upsert","pq":1}"#),
        ("in flight", true, r#"{"f":42,"fs":1}"#),
    ];
    for (case, in_flight, damaged) in cases {
        let (db, name) = open("corrupt-in-queue").await;
        let tasks = db.table("tasks".into()).unwrap();
        for (key, title) in [("t1", "damaged"), ("t2", "good")] {
            let record = js(&format!(r#"{{"id": "{key}", "title": "{title}"}}"#));
            tasks.put(record, JsValue::UNDEFINED).await.unwrap();
        }
        let storage = db.storage().clone();
        if in_flight {
            let batch = storage
                .take_batch(&BatchLimits::default(), &|_| MergeMode::FieldMerge)
                .await
                .unwrap();
            assert_eq!(batch.len(), 2, "{case}");
        }
        write_raw_state_row(&name, "t1", &js(damaged)).await;

        let server = MemoryServer::new();
        let clock = ManualClock::new(1_000);
        let transport = LoopbackTransport {
            server: server.clone(),
            user: "u".into(),
            config: ServerConfig::default(),
            validator: BasicValidator::default(),
            clock: clock.clone(),
        };
        let engine = SyncEngine::new(
            storage.clone(),
            transport,
            clock.clone(),
            EngineConfig::default(),
        );
        // The round goes through: the good write reaches the server, the damaged one does not.
        let report = engine
            .sync_round()
            .await
            .unwrap_or_else(|e| panic!("{case}: the round fails: {e}"));
        assert_eq!((report.sent, report.applied), (1, 1), "{case}: {report:?}");
        assert_eq!(
            server_titles(&server),
            [("t2".to_owned(), "good".to_owned())],
            "{case}"
        );
        assert_eq!(storage.outbox_len().await.unwrap(), 0, "{case}");

        // The app sees one corrupt_state dead letter that shows the row and keeps the record.
        let letters = storage.dead_letters().await.unwrap();
        assert_eq!(letters.len(), 1, "{case}: {letters:?}");
        let letter = &letters[0];
        assert_eq!(letter.code, "corrupt_state", "{case}");
        assert_eq!(letter.record, RecordId::new("tasks", "t1"), "{case}");
        assert!(letter.reason.contains(damaged), "{case}: {}", letter.reason);
        let Op::Put { record } = &letter.op else {
            panic!("{case}: {:?}", letter.op)
        };
        assert_eq!(
            record.get("title").and_then(|t| t.as_str()),
            Some("damaged"),
            "{case}"
        );
        // The record is rolled back (the server never had it) and the key is never
        // taken for one that was never on the server.
        assert!(
            tasks.get("t1".into()).await.unwrap().is_undefined(),
            "{case}"
        );
        let state = storage
            .read_state(&RecordId::new("tasks", "t1"))
            .await
            .unwrap();
        assert!(
            state.may_exist_on_server() && !state.has_local_changes(),
            "{case}"
        );

        // Retrying the dead letter brings the record back and pushes it.
        retry_dead_letter(&storage, &clock, letter).await.unwrap();
        engine.sync_round().await.unwrap();
        let mut titles = server_titles(&server);
        titles.sort();
        assert_eq!(
            titles,
            [
                ("t1".to_owned(), "damaged".to_owned()),
                ("t2".to_owned(), "good".to_owned())
            ],
            "{case}"
        );
        let back = tasks.get("t1".into()).await.unwrap();
        assert_eq!(
            JSON::stringify(&back).unwrap(),
            r#"{"id":"t1","title":"damaged"}"#,
            "{case}"
        );

        db.close();
        LocalDatabase::delete_database(name.into())
            .await
            .expect("delete database");
    }
}
