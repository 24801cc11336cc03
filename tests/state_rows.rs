//! A key's sync-state row that cannot be read (written into `_idbsync_state` past
//! idb-sync, or damaged) is a `storage_error` — never read as "no row", which would
//! mean "never on the server" and let a delete or update of a synced record vanish
//! without reaching the outbox. Headless Chromium, real IndexedDB.
#![cfg(target_arch = "wasm32")]

use idb_sync::LocalDatabase;
use idb_sync_core::ports::Storage;
use idb_sync_core::RecordId;
use js_sys::{Array, Function, Promise, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{IdbDatabase, IdbFactory, IdbRequest, IdbTransactionMode};

wasm_bindgen_test_configure!(run_in_browser);

fn js(json: &str) -> JsValue {
    JSON::parse(json).expect("valid JSON in the test")
}

async fn open(test: &str) -> (LocalDatabase, String) {
    let name = format!(
        "idb-sync-test-{test}-{}-{}",
        js_sys::Date::now() as u64,
        (js_sys::Math::random() * 1e9) as u64
    );
    let options = js_sys::Object::new();
    Reflect::set(&options, &"dbName".into(), &name.as_str().into()).unwrap();
    Reflect::set(&options, &"version".into(), &1.into()).unwrap();
    Reflect::set(&options, &"schema".into(), &js(r#"{"tasks": "id"}"#)).unwrap();
    let db = LocalDatabase::open(options.into()).await.expect("open");
    (db, name)
}

fn code_and_message(e: &JsValue) -> (String, String) {
    let get = |f: &str| Reflect::get(e, &f.into()).unwrap().as_string();
    (
        get("code").unwrap_or_default(),
        get("message").unwrap_or_default(),
    )
}

/// Resolves when `request` succeeds.
async fn settled(request: &IdbRequest) {
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    JsFuture::from(promise).await.expect("request succeeds");
}

/// Writes `row` as the state row of `tasks`/`key` through a connection of its own,
/// as other code on the page could.
async fn write_raw_state_row(name: &str, key: &str, row: &JsValue) {
    let factory: IdbFactory = Reflect::get(&js_sys::global(), &"indexedDB".into())
        .unwrap()
        .unchecked_into();
    let open = factory.open(name).unwrap();
    settled(&open).await;
    let db: IdbDatabase = open.result().unwrap().unchecked_into();
    let tx = db
        .transaction_with_str_and_mode("_idbsync_state", IdbTransactionMode::Readwrite)
        .unwrap();
    let state_key = Array::of2(&"tasks".into(), &key.into());
    let put = tx
        .object_store("_idbsync_state")
        .unwrap()
        .put_with_key(row, &state_key)
        .unwrap();
    settled(&put).await;
    db.close();
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
