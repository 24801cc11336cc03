//! Browser tier (docs/STORAGE.md, "Layout"): the IndexedDB port's store of kept (deferred)
//! pulled changes, `_idbsync_deferred`, against real IndexedDB in headless Chromium.
//! What `declares_table` says follows the schema the database was opened with; kept
//! changes wait for a schema that declares their table, the latest version per key;
//! applied ones are deleted; `reset_replica` and `clear_synced_data` clear them; and a
//! database created before the store existed gains it, keeping its data. Each test
//! uses a fresh database and deletes it afterwards.
#![cfg(target_arch = "wasm32")]

use idb_sync::LocalDatabase;
use idb_sync_core::ports::Storage;
use idb_sync_core::protocol::Change;
use idb_sync_core::{RecordId, RecordKey};
use js_sys::{Reflect, JSON};
use rexie::{Index, ObjectStore, Rexie, TransactionMode};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const V1: &str = r#"{"tasks":"id, status"}"#;
const V2: &str = r#"{"tasks":"id, status","projects":"id, name"}"#;

fn fresh_name(test: &str) -> String {
    format!(
        "idb-sync-test-{test}-{}-{}",
        js_sys::Date::now() as u64,
        (js_sys::Math::random() * 1e9) as u64
    )
}

async fn open_with(name: &str, version: u32, schema: &str) -> LocalDatabase {
    let options = js_sys::Object::new();
    Reflect::set(&options, &"dbName".into(), &name.into()).unwrap();
    Reflect::set(&options, &"version".into(), &version.into()).unwrap();
    Reflect::set(&options, &"schema".into(), &JSON::parse(schema).unwrap()).unwrap();
    LocalDatabase::open(options.into()).await.expect("open")
}

async fn finish(db: LocalDatabase, name: String) {
    db.close();
    LocalDatabase::delete_database(name.into())
        .await
        .expect("delete database");
}

/// A pulled change of `projects/key` at `version` (a tombstone if `name` is `None`).
fn project(key: &str, version: u64, name: Option<&str>) -> Change {
    Change {
        table: "projects".into(),
        key: RecordKey::String(key.into()),
        version,
        previous_version: version.saturating_sub(1),
        deleted: name.is_none(),
        data: name
            .map(|n| serde_json::from_value(serde_json::json!({ "id": key, "name": n })).unwrap()),
        hlc: None,
        origin: None,
    }
}

/// Keeps `changes` through the port, as a pull page does.
async fn keep(db: &LocalDatabase, changes: Vec<Change>) {
    db.storage()
        .transact(&[], move |tx| {
            tx.deferred.extend(changes);
            Ok(())
        })
        .await
        .expect("keep");
}

/// The kept changes the port would apply now, as `(key, version, deleted)`.
async fn kept(db: &LocalDatabase) -> Vec<(String, u64, bool)> {
    db.storage()
        .deferred_changes()
        .await
        .expect("deferred changes")
        .into_iter()
        .map(|c| {
            let key = match c.key {
                RecordKey::String(s) => s,
                RecordKey::Number(x) => x.to_string(),
            };
            (key, c.version, c.deleted)
        })
        .collect()
}

#[wasm_bindgen_test]
async fn kept_changes_wait_for_a_schema_that_declares_their_table_latest_version_per_key() {
    let name = fresh_name("deferred-wait");
    let db = open_with(&name, 1, V1).await;
    assert!(db.storage().declares_table("tasks"));
    assert!(!db.storage().declares_table("projects"));
    keep(
        &db,
        vec![
            project("p1", 3, Some("third")),
            project("p1", 2, Some("second")),
            project("p2", 4, Some("two")),
        ],
    )
    .await;
    keep(
        &db,
        vec![project("p1", 1, Some("first")), project("p2", 5, None)],
    )
    .await;
    assert_eq!(kept(&db).await, vec![], "v1 does not declare projects");
    db.close();

    let db = open_with(&name, 2, V2).await;
    assert!(db.storage().declares_table("projects"));
    let changes = db.storage().deferred_changes().await.unwrap();
    assert_eq!(
        changes,
        vec![project("p1", 3, Some("third")), project("p2", 5, None)],
        "the latest version of each key, in version order, exactly as pulled"
    );
    let p1 = RecordId {
        table: "projects".into(),
        key: RecordKey::String("p1".into()),
    };
    db.storage()
        .transact(&[], |tx| {
            tx.applied_deferred.push(p1);
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(kept(&db).await, vec![("p2".into(), 5, true)]);
    finish(db, name).await;
}

#[wasm_bindgen_test]
async fn a_failed_transaction_keeps_nothing() {
    let name = fresh_name("deferred-abort");
    let db = open_with(&name, 1, V2).await;
    let failed = db
        .storage()
        .transact(&[], |tx| {
            tx.deferred.push(project("p1", 1, Some("never")));
            Err::<(), _>(idb_sync_core::SyncError::Storage("refused".into()))
        })
        .await;
    assert!(failed.is_err());
    assert_eq!(kept(&db).await, vec![]);
    finish(db, name).await;
}

#[wasm_bindgen_test]
async fn reset_replica_and_clear_synced_data_drop_kept_changes() {
    let name = fresh_name("deferred-reset");
    let db = open_with(&name, 1, V2).await;
    keep(&db, vec![project("p1", 1, Some("one"))]).await;
    assert_eq!(kept(&db).await, vec![("p1".into(), 1, false)]);
    db.storage().reset_replica().await.unwrap();
    assert_eq!(kept(&db).await, vec![], "resetRequired drops them");

    keep(&db, vec![project("p2", 2, Some("two"))]).await;
    assert_eq!(kept(&db).await, vec![("p2".into(), 2, false)]);
    db.storage().clear_synced_data().await.unwrap();
    assert_eq!(kept(&db).await, vec![], "an account change drops them");
    finish(db, name).await;
}

#[wasm_bindgen_test]
async fn a_database_made_before_the_store_existed_gains_it_and_keeps_its_data() {
    let name = fresh_name("deferred-upgrade");
    // The layout of an idb-sync database before `_idbsync_deferred`, at version 10.
    let old = Rexie::builder(&name)
        .version(10)
        .add_object_store(ObjectStore::new("tasks").key_path("id"))
        .add_object_store(
            ObjectStore::new("_idbsync_state")
                .add_index(Index::new("pending", "pq"))
                .add_index(Index::new("inflight", "fs"))
                .add_index(Index::new("conflict", "cf")),
        )
        .add_object_store(ObjectStore::new("_idbsync_meta"))
        .add_object_store(ObjectStore::new("_idbsync_conflicts").auto_increment(true))
        .add_object_store(ObjectStore::new("_idbsync_dead_letters"))
        .build()
        .await
        .expect("create the old database");
    let tx = old
        .transaction(&["tasks"], TransactionMode::ReadWrite)
        .unwrap();
    let task = JSON::parse(r#"{"id":"t1","status":"open"}"#).unwrap();
    tx.store("tasks").unwrap().put(&task, None).await.unwrap();
    tx.done().await.unwrap();
    old.close();

    let db = open_with(&name, 1, V1).await;
    let record = db
        .table(JsValue::from_str("tasks"))
        .unwrap()
        .get(JsValue::from_str("t1"))
        .await
        .unwrap();
    assert_eq!(
        JSON::stringify(&record).unwrap(),
        r#"{"id":"t1","status":"open"}"#
    );
    keep(&db, vec![project("p1", 1, Some("one"))]).await;
    db.close();
    let db = open_with(&name, 2, V2).await;
    assert_eq!(kept(&db).await, vec![("p1".into(), 1, false)]);
    finish(db, name).await;
}
