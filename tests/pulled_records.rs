//! Applying pulled changes without reading the records of keys that have no sync
//! state (`Storage::transact_pulled`, docs/STORAGE.md, "IndexedDB work per record"):
//! such a record is replaced, deleted or left exactly as stored, never lost, and one
//! that cannot be encoded is treated as before (read as absent: a tombstone leaves
//! it). Headless Chromium, real IndexedDB.
#![cfg(target_arch = "wasm32")]

use idb_sync::LocalDatabase;
use idb_sync_core::conflict::{NoResolver, PolicyConfig};
use idb_sync_core::engine::{apply_change, ApplyContext};
use idb_sync_core::ports::Storage;
use idb_sync_core::protocol::Change;
use idb_sync_core::{Record, RecordId};
use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::{IdbDatabase, IdbFactory, IdbTransactionMode};

mod common;

use common::{js, settled};

wasm_bindgen_test_configure!(run_in_browser);

/// Puts `records` into `tasks` through a connection of its own, as other code on the
/// page could: no sync state.
async fn write_raw_records(name: &str, records: &[JsValue]) {
    let factory: IdbFactory = Reflect::get(&js_sys::global(), &"indexedDB".into())
        .unwrap()
        .unchecked_into();
    let open = factory.open(name).unwrap();
    settled(&open).await;
    let db: IdbDatabase = open.result().unwrap().unchecked_into();
    let tx = db
        .transaction_with_str_and_mode("tasks", IdbTransactionMode::Readwrite)
        .unwrap();
    let store = tx.object_store("tasks").unwrap();
    for record in records {
        settled(&store.put(record).unwrap()).await;
    }
    db.close();
}

fn change(key: &str, version: u64, title: Option<&str>) -> Change {
    let data: Option<Record> = title.map(|t| {
        serde_json::json!({ "title": t })
            .as_object()
            .cloned()
            .unwrap()
    });
    Change {
        table: "tasks".into(),
        key: key.into(),
        version,
        previous_version: 0,
        deleted: data.is_none(),
        data,
        hlc: None,
        origin: None,
    }
}

fn title(record: &JsValue) -> Option<String> {
    Reflect::get(record, &"title".into()).ok()?.as_string()
}

#[wasm_bindgen_test]
async fn records_without_sync_state_are_replaced_deleted_or_kept_unread() {
    let name = format!("idb-sync-test-pulled-{}", js_sys::Date::now() as u64);
    let options = js_sys::Object::new();
    Reflect::set(&options, &"dbName".into(), &name.as_str().into()).unwrap();
    Reflect::set(&options, &"version".into(), &1.into()).unwrap();
    Reflect::set(&options, &"schema".into(), &js(r#"{"tasks": "id"}"#)).unwrap();
    let db = LocalDatabase::open(options.into()).await.expect("open");
    let tasks = db.table("tasks".into()).unwrap();
    // A record idb-sync wrote (it has a pending row), and four it never saw.
    tasks
        .put(
            js(r#"{"id": "synced", "title": "mine"}"#),
            JsValue::UNDEFINED,
        )
        .await
        .unwrap();
    let odd = js(r#"{"id": "odd", "title": "a Map inside"}"#);
    Reflect::set(&odd, &"m".into(), &js_sys::Map::new()).unwrap();
    let raw = ["put", "gone", "kept"].map(|k| js(&format!(r#"{{"id": "{k}", "title": "local"}}"#)));
    write_raw_records(
        &name,
        &[raw[0].clone(), raw[1].clone(), raw[2].clone(), odd],
    )
    .await;

    let keys = ["put", "gone", "kept", "odd", "synced"].map(|k| RecordId::new("tasks", k));
    let policies = PolicyConfig::default();
    let ctx = ApplyContext {
        policies: &policies,
        resolver: &NoResolver,
        local_now_ms: 1_000,
    };
    db.storage()
        .transact_pulled(&keys, |tx| {
            let unloaded: Vec<String> = tx.unloaded.iter().map(|id| id.to_string()).collect();
            assert_eq!(unloaded.len(), 4, "the rowless keys: {unloaded:?}");
            assert!(
                !tx.unloaded.contains(&keys[4]),
                "a key with a row is loaded"
            );
            assert!(tx.states[&keys[4]].value.is_some());
            apply_change(&change("put", 1, Some("server")), tx, &ctx)?;
            apply_change(&change("gone", 2, None), tx, &ctx)?;
            apply_change(&change("odd", 3, None), tx, &ctx)?;
            Ok(())
        })
        .await
        .unwrap();

    let mut now = Vec::new();
    for k in ["put", "gone", "kept", "odd", "synced"] {
        now.push(title(&tasks.get(k.into()).await.unwrap()));
    }
    let now: Vec<Option<&str>> = now.iter().map(Option::as_deref).collect();
    // "gone": a tombstone deletes it; "kept": untouched; "odd" cannot be encoded, so it
    // reads as absent (as it did when it was read first) and the tombstone leaves it.
    assert_eq!(
        now,
        [
            Some("server"),
            None,
            Some("local"),
            Some("a Map inside"),
            Some("mine")
        ]
    );
    // The pulled keys now have sync state: the next transaction reads them.
    db.storage()
        .transact_pulled(&keys[..2], |tx| {
            assert!(tx.unloaded.is_empty(), "{:?}", tx.unloaded);
            Ok(())
        })
        .await
        .unwrap();
}
