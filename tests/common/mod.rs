//! Helpers shared by the browser tests that look at what idb-sync stored: open a
//! database, and read or write an entry of a store through a connection of its own,
//! as an older idb-sync or other code on the page would.
#![cfg(target_arch = "wasm32")]
// Each test file is its own crate and uses some of these.
#![allow(dead_code)]

use idb_sync::LocalDatabase;
use js_sys::{Array, Function, Promise, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbFactory, IdbRequest, IdbTransactionMode};

/// `json` parsed into a JS value.
pub fn js(json: &str) -> JsValue {
    JSON::parse(json).expect("valid JSON in the test")
}

/// A new database `idb-sync-test-<test>-…` with one synced table, `tasks: 'id'`;
/// resolves to it and its name.
pub async fn open(test: &str) -> (LocalDatabase, String) {
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

/// The result of `request` once it succeeds.
pub async fn settled(request: &IdbRequest) -> JsValue {
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    JsFuture::from(promise).await.expect("request succeeds");
    request.result().unwrap()
}

/// Reads (`value` is `None`) or writes the entry `key` of `store` of the database
/// `name` through a connection of its own; resolves to what the request returned.
pub async fn raw(name: &str, store: &str, key: &JsValue, value: Option<&JsValue>) -> JsValue {
    let factory: IdbFactory = Reflect::get(&js_sys::global(), &"indexedDB".into())
        .unwrap()
        .unchecked_into();
    let open = factory.open(name).unwrap();
    settled(&open).await;
    let db: IdbDatabase = open.result().unwrap().unchecked_into();
    let tx = db
        .transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite)
        .unwrap();
    let store = tx.object_store(store).unwrap();
    let request = match value {
        Some(v) => store.put_with_key(v, key).unwrap(),
        None => store.get(key).unwrap(),
    };
    let out = settled(&request).await;
    db.close();
    out
}

/// The key of `tasks`/`key`'s row in `_idbsync_state`.
pub fn state_key(key: &str) -> JsValue {
    Array::of2(&"tasks".into(), &key.into()).into()
}
