//! The storage's connection watch in headless Chromium (docs/STORAGE.md, "Storage
//! health"): a database deleted behind its back (another connection's
//! `deleteDatabase`) is opened again, recreated and empty, and works; another
//! connection's upgrade makes it yield for good (`database_closed`), as before. What
//! the sync manager makes of it (eviction, refill, lost changes) is tested end to end
//! in tests/e2e/storage_health.test.mjs.
#![cfg(target_arch = "wasm32")]

use idb_sync::LocalDatabase;
use js_sys::{Promise, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn name(test: &str) -> String {
    format!("idb-sync-eviction-{test}-{}", js_sys::Date::now() as u64)
}

async fn open(name: &str) -> LocalDatabase {
    let options = JSON::parse(&format!(
        r#"{{"dbName": "{name}", "version": 1, "schema": {{"tasks": "id"}}}}"#
    ))
    .unwrap();
    LocalDatabase::open(options).await.expect("open")
}

fn record(id: &str) -> JsValue {
    JSON::parse(&format!(r#"{{"id": "{id}"}}"#)).unwrap()
}

/// Runs `request` (an `IDBRequest`) to its end, as another script would.
async fn finish(request: web_sys::IdbRequest) {
    let done = Promise::new(&mut |resolve, _| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&resolve));
    });
    JsFuture::from(done).await.unwrap();
}

fn factory() -> web_sys::IdbFactory {
    Reflect::get(&js_sys::global(), &"indexedDB".into())
        .unwrap()
        .unchecked_into()
}

async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        let set = Reflect::get(&global, &"setTimeout".into()).unwrap();
        let set: js_sys::Function = set.unchecked_into();
        set.call2(&global, &resolve, &ms.into()).unwrap();
    });
    JsFuture::from(p).await.unwrap();
}

/// The table's `get(key)`, once the connection is back (a moment after the event).
async fn get_when_open(db: &LocalDatabase, key: &str) -> JsValue {
    let tasks = db.table("tasks".into()).unwrap();
    for _ in 0..100 {
        match tasks.get(key.into()).await {
            Ok(v) => return v,
            Err(_) => sleep(20).await,
        }
    }
    panic!("the database never came back");
}

#[wasm_bindgen_test]
async fn a_database_deleted_behind_its_back_is_opened_again_empty() {
    let name = name("deleted");
    let db = open(&name).await;
    let tasks = db.table("tasks".into()).unwrap();
    tasks.put(record("t1"), JsValue::UNDEFINED).await.unwrap();
    finish(factory().delete_database(&name).unwrap().into()).await;
    assert!(
        get_when_open(&db, "t1").await.is_undefined(),
        "recreated, empty"
    );
    tasks.put(record("t2"), JsValue::UNDEFINED).await.unwrap();
    assert!(
        !tasks.get("t2".into()).await.unwrap().is_undefined(),
        "and working"
    );
    db.close();
    LocalDatabase::delete_database(name.into()).await.unwrap();
}

#[wasm_bindgen_test]
async fn another_connections_upgrade_makes_it_yield() {
    let name = name("upgraded");
    let db = open(&name).await;
    let tasks = db.table("tasks".into()).unwrap();
    tasks.put(record("t1"), JsValue::UNDEFINED).await.unwrap();
    let upgrade = factory().open_with_u32(&name, 1_000).unwrap();
    finish(upgrade.clone().into()).await;
    let other: web_sys::IdbDatabase = upgrade.result().unwrap().unchecked_into();
    other.close();
    sleep(50).await;
    let e = tasks.get("t1".into()).await.expect_err("closed for good");
    let code = Reflect::get(&e, &"code".into()).unwrap().as_string();
    assert_eq!(code.as_deref(), Some("database_closed"));
    db.close();
    LocalDatabase::delete_database(name.into()).await.unwrap();
}
