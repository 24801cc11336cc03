//! Browser tier smoke test: a record written to IndexedDB with rexie is read back, in
//! headless Chromium (`wasm-pack test --headless --chrome`). Each test uses a fresh
//! database name and deletes it afterwards.
#![cfg(target_arch = "wasm32")]

use rexie::{ObjectStore, Rexie, TransactionMode};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn fresh_db_name(test: &str) -> String {
    format!("idb-sync-test-{test}-{}", js_sys::Date::now() as u64)
}

#[wasm_bindgen_test]
async fn a_record_written_with_rexie_is_read_back() {
    let name = fresh_db_name("rexie-roundtrip");
    let db = Rexie::builder(&name)
        .version(1)
        .add_object_store(ObjectStore::new("tasks").key_path("id"))
        .build()
        .await
        .expect("open database");

    let record = js_sys::Object::new();
    js_sys::Reflect::set(&record, &"id".into(), &"t1".into()).unwrap();
    js_sys::Reflect::set(&record, &"title".into(), &"Buy milk".into()).unwrap();

    let tx = db
        .transaction(&["tasks"], TransactionMode::ReadWrite)
        .expect("transaction");
    tx.store("tasks")
        .unwrap()
        .put(&record, None)
        .await
        .expect("put");
    tx.done().await.expect("commit");

    let tx = db
        .transaction(&["tasks"], TransactionMode::ReadOnly)
        .expect("transaction");
    let read = tx
        .store("tasks")
        .unwrap()
        .get(JsValue::from_str("t1"))
        .await
        .expect("get");
    let read = read.expect("the record exists");
    assert_eq!(
        js_sys::Reflect::get(&read, &"title".into()).unwrap(),
        JsValue::from_str("Buy milk")
    );
    tx.done().await.expect("finish");

    db.close();
    Rexie::delete(&name).await.expect("delete database");
}

#[wasm_bindgen_test]
fn the_package_reports_its_versions() {
    assert_eq!(idb_sync::version(), env!("CARGO_PKG_VERSION"));
    assert_eq!(idb_sync::protocol_version(), 1);
}
