//! The local database in headless Chromium against real IndexedDB: every table
//! method, bad input (I8), atomic writes with their outbox entries (I1), the merge
//! rules as stored, queries, change events and additive upgrades. Each test opens a
//! fresh database and deletes it afterwards.
#![cfg(target_arch = "wasm32")]

use idb_sync::{LocalDatabase, Table};
use idb_sync_core::outbox::BatchLimits;
use idb_sync_core::ports::Storage;
use idb_sync_core::{Op, RecordId};
use js_sys::{Array, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SCHEMA: &str = r#"{"tasks": "id, status, [userId+status], *tags, title", "users": "id, &email", "log": "++id, at", "blobs": ""}"#;

fn js(json: &str) -> JsValue {
    JSON::parse(json).expect("valid JSON in the test")
}

fn fresh_name(test: &str) -> String {
    format!(
        "idb-sync-test-{test}-{}-{}",
        js_sys::Date::now() as u64,
        (js_sys::Math::random() * 1e9) as u64
    )
}

async fn open_with(name: &str, version: u32, schema: &str) -> Result<LocalDatabase, JsValue> {
    let options = js_sys::Object::new();
    Reflect::set(&options, &"dbName".into(), &name.into()).unwrap();
    Reflect::set(&options, &"version".into(), &version.into()).unwrap();
    Reflect::set(&options, &"schema".into(), &js(schema)).unwrap();
    LocalDatabase::open(options.into()).await
}

async fn open(test: &str) -> (LocalDatabase, String) {
    let name = fresh_name(test);
    (open_with(&name, 1, SCHEMA).await.expect("open"), name)
}

async fn finish(db: LocalDatabase, name: String) {
    db.close();
    LocalDatabase::delete_database(name.into())
        .await
        .expect("delete database");
}

fn code(e: JsValue) -> String {
    Reflect::get(&e, &"code".into())
        .unwrap()
        .as_string()
        .unwrap_or_default()
}

fn field(v: &JsValue, f: &str) -> JsValue {
    Reflect::get(v, &f.into()).unwrap()
}

fn strings(a: &Array) -> Vec<String> {
    a.iter()
        .map(|v| {
            v.as_string()
                .or_else(|| v.as_f64().map(|x| x.to_string()))
                .unwrap_or_default()
        })
        .collect()
}

fn tasks(db: &LocalDatabase) -> Table {
    db.table("tasks".into()).unwrap()
}

fn id(key: &str) -> RecordId {
    RecordId::new("tasks", key)
}

async fn outbox_len(db: &LocalDatabase) -> usize {
    db.storage().outbox_len().await.unwrap()
}

async fn pending_op(db: &LocalDatabase, key: &str) -> Option<Op> {
    db.storage()
        .read_state(&id(key))
        .await
        .unwrap()
        .pending
        .map(|p| p.op)
}

/// Marks `key` as synced at `version` (what a push result does), through the port.
async fn mark_synced(db: &LocalDatabase, key: &str, version: u64) {
    let k = id(key);
    db.storage()
        .transact(std::slice::from_ref(&k), |tx| {
            let s = tx.state(&k);
            s.pending = None;
            s.version = version;
            Ok(())
        })
        .await
        .unwrap();
}

#[wasm_bindgen_test]
async fn add_generates_a_uuid_v7_key_and_get_reads_the_record_back() {
    let (db, name) = open("add-get").await;
    let t = tasks(&db);
    let key = t
        .add(js(r#"{"title": "Buy milk"}"#), JsValue::UNDEFINED)
        .await
        .unwrap();
    let key_str = key.as_string().expect("a string key");
    assert_eq!(key_str.len(), 36);
    assert_eq!(&key_str[14..15], "7", "UUID version 7: {key_str}");
    let got = t.get(key.clone()).await.unwrap();
    assert_eq!(field(&got, "title"), JsValue::from_str("Buy milk"));
    assert_eq!(field(&got, "id"), key);
    assert!(t.get("missing".into()).await.unwrap().is_undefined());
    assert!(matches!(
        pending_op(&db, &key_str).await,
        Some(Op::Create { .. })
    ));
    finish(db, name).await;
}

#[wasm_bindgen_test]
async fn auto_increment_tables_number_their_records() {
    let (db, name) = open("autoinc").await;
    let log = db.table("log".into()).unwrap();
    let k1 = log
        .add(js(r#"{"at": 1}"#), JsValue::UNDEFINED)
        .await
        .unwrap();
    let ks = log
        .bulk_add(js(r#"[{"at": 2}, {"at": 3}]"#), JsValue::UNDEFINED)
        .await
        .unwrap();
    assert_eq!(k1.as_f64(), Some(1.0));
    assert_eq!(strings(&ks), ["2", "3"]);
    assert_eq!(log.count().await.unwrap(), 3);
    assert_eq!(outbox_len(&db).await, 3);
    finish(db, name).await;
}

#[wasm_bindgen_test]
async fn out_of_line_keys_are_given_with_the_write() {
    let (db, name) = open("outbound").await;
    let blobs = db.table("blobs".into()).unwrap();
    blobs.put(js(r#"{"size": 3}"#), "b1".into()).await.unwrap();
    assert_eq!(
        field(&blobs.get("b1".into()).await.unwrap(), "size").as_f64(),
        Some(3.0)
    );
    let err = blobs
        .put(js(r#"{"size": 4}"#), JsValue::UNDEFINED)
        .await
        .unwrap_err();
    assert_eq!(code(err), "missing_key");
    finish(db, name).await;
}

#[wasm_bindgen_test]
async fn bulk_put_bulk_get_count_to_array_keys_and_deletes() {
    let (db, name) = open("bulk").await;
    let t = tasks(&db);
    t.bulk_put(
        js(r#"[{"id": "b", "n": 2}, {"id": "a", "n": 1}, {"id": "c", "n": 3}]"#),
        JsValue::UNDEFINED,
    )
    .await
    .unwrap();
    assert_eq!(t.count().await.unwrap(), 3);
    let got = t.bulk_get(js(r#"["c", "x", "a"]"#)).await.unwrap();
    assert_eq!(field(&got.get(0), "n").as_f64(), Some(3.0));
    assert!(got.get(1).is_undefined());
    let all = t.to_array().await.unwrap();
    assert_eq!(
        all.iter()
            .map(|r| field(&r, "id").as_string().unwrap())
            .collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    assert_eq!(strings(&t.keys().await.unwrap()), ["a", "b", "c"]);
    assert_eq!(
        field(&t.first().await.unwrap(), "id"),
        JsValue::from_str("a")
    );
    t.put(js(r#"{"id": "a", "n": 10}"#), JsValue::UNDEFINED)
        .await
        .unwrap();
    assert_eq!(
        field(&t.get("a".into()).await.unwrap(), "n").as_f64(),
        Some(10.0)
    );
    t.delete("a".into()).await.unwrap();
    t.delete("nothing-here".into()).await.unwrap();
    t.bulk_delete(js(r#"["b"]"#)).await.unwrap();
    assert_eq!(strings(&t.keys().await.unwrap()), ["c"]);
    t.clear().await.unwrap();
    assert_eq!(t.count().await.unwrap(), 0);
    // Created and deleted before any sync: nothing left to send.
    assert_eq!(outbox_len(&db).await, 0);
    finish(db, name).await;
}

#[wasm_bindgen_test]
async fn update_sets_fields_and_reports_a_missing_record_with_zero() {
    let (db, name) = open("update").await;
    let t = tasks(&db);
    t.put(
        js(r#"{"id": "t1", "title": "a", "status": "todo"}"#),
        JsValue::UNDEFINED,
    )
    .await
    .unwrap();
    assert_eq!(
        t.update("t1".into(), js(r#"{"status": "done"}"#))
            .await
            .unwrap(),
        1
    );
    let got = t.get("t1".into()).await.unwrap();
    assert_eq!(field(&got, "status"), JsValue::from_str("done"));
    assert_eq!(field(&got, "title"), JsValue::from_str("a"));
    assert_eq!(
        t.update("nope".into(), js(r#"{"status": "done"}"#))
            .await
            .unwrap(),
        0
    );
    assert_eq!(t.count().await.unwrap(), 1);
    let err = t
        .update("t1".into(), js(r#"{"id": "other"}"#))
        .await
        .unwrap_err();
    assert_eq!(code(err), "invalid_argument");
    finish(db, name).await;
}

#[wasm_bindgen_test]
async fn bad_input_throws_a_coded_error_and_writes_nothing() {
    let (db, name) = open("bad-input").await;
    assert_eq!(
        code(db.table("nope".into()).err().unwrap()),
        "unknown_table"
    );
    let t = tasks(&db);
    assert_eq!(
        code(
            t.put("not an object".into(), JsValue::UNDEFINED)
                .await
                .unwrap_err()
        ),
        "invalid_record"
    );
    assert_eq!(
        code(t.put(js("[1, 2]"), JsValue::UNDEFINED).await.unwrap_err()),
        "invalid_record"
    );
    assert_eq!(
        code(
            t.put(js(r#"{"id": {"a": 1}}"#), JsValue::UNDEFINED)
                .await
                .unwrap_err()
        ),
        "invalid_key"
    );
    assert_eq!(
        code(
            t.put(js(r#"{"id": true}"#), JsValue::UNDEFINED)
                .await
                .unwrap_err()
        ),
        "invalid_key"
    );
    assert_eq!(code(t.get(js("[1]")).await.unwrap_err()), "invalid_key");
    assert_eq!(
        code(t.where_("nope".into()).err().unwrap()),
        "unknown_index"
    );
    assert_eq!(t.count().await.unwrap(), 0);
    assert_eq!(outbox_len(&db).await, 0);
    finish(db, name).await;
}

#[wasm_bindgen_test]
async fn a_bulk_call_with_one_bad_record_writes_nothing() {
    let (db, name) = open("bulk-atomic").await;
    let t = tasks(&db);
    let err = t
        .bulk_put(js(r#"[{"id": "a"}, {"id": "b"}, 7]"#), JsValue::UNDEFINED)
        .await
        .unwrap_err();
    assert_eq!(code(err), "invalid_record");
    t.put(js(r#"{"id": "x"}"#), JsValue::UNDEFINED)
        .await
        .unwrap();
    // A failure found by IndexedDB itself, in the middle of the transaction.
    let err = t
        .bulk_add(
            js(r#"[{"id": "a"}, {"id": "x"}, {"id": "c"}]"#),
            JsValue::UNDEFINED,
        )
        .await
        .unwrap_err();
    assert_eq!(code(err), "key_exists");
    assert_eq!(strings(&t.keys().await.unwrap()), ["x"]);
    assert_eq!(outbox_len(&db).await, 1);
    assert!(db.storage().read_state(&id("a")).await.unwrap().is_empty());
    finish(db, name).await;
}

#[wasm_bindgen_test]
async fn a_unique_index_violation_aborts_the_write() {
    let (db, name) = open("unique").await;
    let users = db.table("users".into()).unwrap();
    users
        .put(js(r#"{"id": "u1", "email": "a@x"}"#), JsValue::UNDEFINED)
        .await
        .unwrap();
    let err = users
        .bulk_put(
            js(r#"[{"id": "u2", "email": "b@x"}, {"id": "u3", "email": "a@x"}]"#),
            JsValue::UNDEFINED,
        )
        .await
        .unwrap_err();
    assert_eq!(code(err), "unique_violation");
    assert_eq!(users.count().await.unwrap(), 1);
    assert_eq!(outbox_len(&db).await, 1);
    finish(db, name).await;
}

/// key-exists vs unique-violation is decided from facts (the key was read), never from
/// the browser's message; a browser refusal keeps its DOMException as `error.cause`.
#[wasm_bindgen_test]
async fn constraint_errors_are_classified_from_facts_and_keep_their_dom_exception() {
    let (db, name) = open("constraint-facts").await;
    let users = db.table("users".into()).unwrap();
    users
        .put(js(r#"{"id": "u1", "email": "a@x"}"#), JsValue::UNDEFINED)
        .await
        .unwrap();
    // An add of an existing key (whose unique email collides too): the key decides.
    let err = users
        .add(js(r#"{"id": "u1", "email": "a@x"}"#), JsValue::UNDEFINED)
        .await
        .unwrap_err();
    assert_eq!(code(err.clone()), "key_exists");
    assert!(Reflect::get(&err, &"cause".into()).unwrap().is_undefined());
    // An add of a new key whose unique email collides: the browser's ConstraintError.
    let err = users
        .add(js(r#"{"id": "u2", "email": "a@x"}"#), JsValue::UNDEFINED)
        .await
        .unwrap_err();
    assert_eq!(code(err.clone()), "unique_violation");
    let cause = Reflect::get(&err, &"cause".into()).unwrap();
    let cause: web_sys::DomException = cause.dyn_into().expect("the cause is a DOMException");
    assert_eq!(cause.name(), "ConstraintError");
    // The same new key twice in one bulkAdd: key_exists, and nothing is written.
    let err = users
        .bulk_add(
            js(r#"[{"id": "u3", "email": "c@x"}, {"id": "u3", "email": "d@x"}]"#),
            JsValue::UNDEFINED,
        )
        .await
        .unwrap_err();
    assert_eq!(code(err), "key_exists");
    // The refusals wrote nothing: a later good write is the second record.
    users
        .bulk_put(js(r#"[{"id": "u4", "email": "e@x"}]"#), JsValue::UNDEFINED)
        .await
        .unwrap();
    assert_eq!(users.count().await.unwrap(), 2);
    assert_eq!(outbox_len(&db).await, 2);
    finish(db, name).await;
}

#[wasm_bindgen_test]
async fn a_failure_between_the_data_write_and_the_outbox_write_leaves_neither() {
    let (db, name) = open("i1").await;
    let t = tasks(&db);
    idb_sync::testing::fail_next_write_between_data_and_outbox();
    let err = t
        .put(js(r#"{"id": "t1", "title": "x"}"#), JsValue::UNDEFINED)
        .await
        .unwrap_err();
    assert_eq!(code(err), "storage_error");
    assert!(t.get("t1".into()).await.unwrap().is_undefined());
    assert_eq!(outbox_len(&db).await, 0);
    // The same write succeeds afterwards, with its outbox entry.
    t.put(js(r#"{"id": "t1", "title": "x"}"#), JsValue::UNDEFINED)
        .await
        .unwrap();
    assert_eq!(outbox_len(&db).await, 1);
    finish(db, name).await;
}

#[wasm_bindgen_test]
async fn a_full_disk_refuses_the_write_as_quota_exceeded_and_the_queue_moves_on() {
    let (db, name) = open("quota").await;
    let t = tasks(&db);
    let put = |k: &str| js(&format!(r#"{{"id": "{k}", "title": "x"}}"#));
    t.put(put("t0"), JsValue::UNDEFINED).await.unwrap();
    idb_sync::testing::fail_next_write_for_quota();
    let err = t.put(put("t1"), JsValue::UNDEFINED).await.unwrap_err();
    let cause = Reflect::get(&err, &"cause".into()).unwrap();
    assert_eq!(code(err), "quota_exceeded");
    assert_eq!(
        Reflect::get(&cause, &"name".into())
            .unwrap()
            .as_string()
            .as_deref(),
        Some("QuotaExceededError"),
        "the browser's exception is the cause"
    );
    // Nothing half-written: neither the record nor its outbox entry (I1).
    assert!(t.get("t1".into()).await.unwrap().is_undefined());
    assert_eq!(outbox_len(&db).await, 1);
    // Not stuck: the next write queues, and a batch takes both changes in order.
    t.put(put("t2"), JsValue::UNDEFINED).await.unwrap();
    let batch = db
        .storage()
        .take_batch(&BatchLimits::default(), &|_| Default::default())
        .await
        .unwrap();
    let keys: Vec<String> = batch.iter().map(|f| f.id.key.to_string()).collect();
    assert_eq!(keys, [r#""t0""#, r#""t2""#]);
    finish(db, name).await;
}

#[wasm_bindgen_test]
async fn an_entry_keeps_its_first_write_and_counts_its_sends_in_indexeddb() {
    let (db, name) = open("attempts").await;
    let t = tasks(&db);
    t.put(js(r#"{"id": "k", "n": 1}"#), JsValue::UNDEFINED)
        .await
        .unwrap();
    let first = db.storage().read_state(&id("k")).await.unwrap();
    let since = first.pending.as_ref().unwrap().since_ms;
    assert!(since > 0, "a new entry records its first write");
    t.update("k".into(), js(r#"{"n": 2}"#)).await.unwrap();
    let merged = db.storage().read_state(&id("k")).await.unwrap();
    assert_eq!(
        merged.pending.unwrap().since_ms,
        since,
        "kept through a merge"
    );
    let limits = BatchLimits::default();
    for attempt in 1..=3 {
        let batch = db
            .storage()
            .take_batch(&limits, &|_| Default::default())
            .await
            .unwrap();
        assert_eq!((batch[0].attempts, batch[0].since_ms), (attempt, since));
        let stored = db.storage().read_state(&id("k")).await.unwrap();
        assert_eq!(stored.in_flight.unwrap().attempts, attempt, "stored");
    }
    finish(db, name).await;
}

#[wasm_bindgen_test]
async fn merge_rules_hold_on_indexeddb() {
    let (db, name) = open("merge").await;
    let t = tasks(&db);
    let rec = |k: &str, extra: &str| js(&format!(r#"{{"id": "{k}", {extra}}}"#));
    // create + update = create with the fields merged
    t.add(rec("c1", r#""a": 1, "b": 1"#), JsValue::UNDEFINED)
        .await
        .unwrap();
    t.update("c1".into(), js(r#"{"b": 2}"#)).await.unwrap();
    match pending_op(&db, "c1").await {
        Some(Op::Create { record }) => assert_eq!(
            (record["a"].as_i64(), record["b"].as_i64()),
            (Some(1), Some(2))
        ),
        other => panic!("{other:?}"),
    }
    // create + delete = nothing
    t.add(rec("c2", r#""a": 1"#), JsValue::UNDEFINED)
        .await
        .unwrap();
    t.delete("c2".into()).await.unwrap();
    assert!(db.storage().read_state(&id("c2")).await.unwrap().is_empty());
    // update + update = one update with the patches merged (on a synced record)
    t.put(rec("u1", r#""a": 0, "b": 0, "c": 0"#), JsValue::UNDEFINED)
        .await
        .unwrap();
    mark_synced(&db, "u1", 1).await;
    t.update("u1".into(), js(r#"{"a": 1, "b": 1}"#))
        .await
        .unwrap();
    t.update("u1".into(), js(r#"{"b": 2}"#)).await.unwrap();
    match pending_op(&db, "u1").await {
        Some(Op::Update { patch }) => {
            assert_eq!(patch.len(), 2, "only changed fields: {patch:?}");
            assert_eq!(
                (patch["a"].as_i64(), patch["b"].as_i64()),
                (Some(1), Some(2))
            );
        }
        other => panic!("{other:?}"),
    }
    // update + delete = delete
    t.delete("u1".into()).await.unwrap();
    assert_eq!(pending_op(&db, "u1").await, Some(Op::Delete));
    // delete + put = put of the full new record
    t.put(rec("u1", r#""z": 9"#), JsValue::UNDEFINED)
        .await
        .unwrap();
    match pending_op(&db, "u1").await {
        Some(Op::Put { record }) => assert_eq!(record["z"].as_i64(), Some(9)),
        other => panic!("{other:?}"),
    }
    // N writes to one key leave one pending entry.
    assert_eq!(outbox_len(&db).await, 2);
    finish(db, name).await;
}

#[wasm_bindgen_test]
async fn an_in_flight_entry_stays_as_sent_and_a_later_write_queues_anew() {
    let (db, name) = open("inflight").await;
    let t = tasks(&db);
    t.add(js(r#"{"id": "k", "a": 1}"#), JsValue::UNDEFINED)
        .await
        .unwrap();
    let batch = db
        .storage()
        .take_batch(&BatchLimits::default(), &|_| Default::default())
        .await
        .unwrap();
    assert_eq!(batch.len(), 1);
    assert!(matches!(batch[0].op, Op::Create { .. }));
    t.delete("k".into()).await.unwrap();
    let state = db.storage().read_state(&id("k")).await.unwrap();
    assert!(
        matches!(state.in_flight.map(|f| f.op), Some(Op::Create { .. })),
        "the sent create is kept"
    );
    assert_eq!(
        state.pending.map(|p| p.op),
        Some(Op::Delete),
        "the delete is queued, not cancelling the create"
    );
    assert_eq!(outbox_len(&db).await, 2);
    // Taking a batch again resends the in-flight entry first.
    let again = db
        .storage()
        .take_batch(&BatchLimits::default(), &|_| Default::default())
        .await
        .unwrap();
    assert_eq!(
        again.iter().map(|f| f.seq).collect::<Vec<_>>(),
        vec![batch[0].seq]
    );
    finish(db, name).await;
}

#[wasm_bindgen_test]
async fn queries_select_order_and_page() {
    let (db, name) = open("queries").await;
    let t = tasks(&db);
    t.bulk_put(
        js(r#"[
          {"id": "1", "title": "apple", "status": "todo", "userId": "u1", "tags": ["x", "y"]},
          {"id": "2", "title": "banana", "status": "done", "userId": "u1", "tags": ["y"]},
          {"id": "3", "title": "apricot", "status": "todo", "userId": "u2", "tags": []},
          {"id": "4", "title": "cherry", "status": "doing", "userId": "u1", "tags": ["x"]}
        ]"#),
        JsValue::UNDEFINED,
    )
    .await
    .unwrap();
    let ids = |a: Array| {
        a.iter()
            .map(|r| field(&r, "id").as_string().unwrap())
            .collect::<Vec<_>>()
    };
    let w = |i: &str| t.where_(i.into()).unwrap();
    assert_eq!(
        ids(w("status")
            .equals("todo".into())
            .unwrap()
            .to_array()
            .await
            .unwrap()),
        ["1", "3"]
    );
    assert_eq!(
        ids(w("status")
            .any_of(js(r#"["done", "doing"]"#))
            .unwrap()
            .to_array()
            .await
            .unwrap()),
        ["4", "2"]
    );
    assert_eq!(
        ids(w("title")
            .between(
                "apple".into(),
                "banana".into(),
                JsValue::UNDEFINED,
                JsValue::UNDEFINED
            )
            .unwrap()
            .to_array()
            .await
            .unwrap()),
        ["1", "3"]
    );
    assert_eq!(
        ids(w("title")
            .above("banana".into())
            .unwrap()
            .to_array()
            .await
            .unwrap()),
        ["4"]
    );
    assert_eq!(
        ids(w("title")
            .below("apricot".into())
            .unwrap()
            .to_array()
            .await
            .unwrap()),
        ["1"]
    );
    assert_eq!(
        ids(w("title")
            .starts_with("ap".into())
            .unwrap()
            .to_array()
            .await
            .unwrap()),
        ["1", "3"]
    );
    assert_eq!(
        ids(w("tags")
            .equals("x".into())
            .unwrap()
            .to_array()
            .await
            .unwrap()),
        ["1", "4"]
    );
    assert_eq!(
        ids(w("[userId+status]")
            .equals(js(r#"["u1", "todo"]"#))
            .unwrap()
            .to_array()
            .await
            .unwrap()),
        ["1"]
    );
    assert_eq!(
        ids(w("id").above("2".into()).unwrap().to_array().await.unwrap()),
        ["3", "4"]
    );
    let by_title = t.order_by("title".into()).unwrap();
    assert_eq!(
        ids(by_title.to_array().await.unwrap()),
        ["1", "3", "2", "4"]
    );
    assert_eq!(
        ids(by_title
            .reverse()
            .offset(1.into())
            .unwrap()
            .limit(2.into())
            .unwrap()
            .to_array()
            .await
            .unwrap()),
        ["2", "3"]
    );
    let long = js_sys::Function::new_with_args("r", "return r.title.length > 5");
    assert_eq!(
        ids(by_title
            .filter(long.clone().into())
            .unwrap()
            .to_array()
            .await
            .unwrap()),
        ["3", "2", "4"]
    );
    assert_eq!(
        by_title.filter(long.into()).unwrap().count().await.unwrap(),
        3
    );
    assert_eq!(
        field(&by_title.reverse().first().await.unwrap(), "id"),
        JsValue::from_str("4")
    );
    assert_eq!(
        strings(
            &w("status")
                .equals("todo".into())
                .unwrap()
                .keys()
                .await
                .unwrap()
        ),
        ["1", "3"]
    );
    assert_eq!(
        w("status")
            .equals("todo".into())
            .unwrap()
            .count()
            .await
            .unwrap(),
        2
    );
    finish(db, name).await;
}

#[wasm_bindgen_test]
async fn change_listeners_hear_committed_writes_until_unsubscribed() {
    let (db, name) = open("events").await;
    let seen = Array::new();
    let record = js_sys::Function::new_with_args("e", "this.push(e)").bind0(&seen);
    let off = db.on_change("tasks".into(), record.into()).unwrap();
    let t = tasks(&db);
    t.bulk_put(js(r#"[{"id": "a"}, {"id": "b"}]"#), JsValue::UNDEFINED)
        .await
        .unwrap();
    let _ = t.put("bad".into(), JsValue::UNDEFINED).await;
    assert_eq!(
        seen.length(),
        1,
        "one event per committed call, none for a failed one"
    );
    let event = seen.get(0);
    assert_eq!(field(&event, "table"), JsValue::from_str("tasks"));
    assert_eq!(field(&event, "source"), JsValue::from_str("local"));
    assert_eq!(strings(&field(&event, "keys").unchecked_into()), ["a", "b"]);
    off.call0(&JsValue::NULL).unwrap();
    t.put(js(r#"{"id": "c"}"#), JsValue::UNDEFINED)
        .await
        .unwrap();
    assert_eq!(seen.length(), 1);
    finish(db, name).await;
}

#[wasm_bindgen_test]
async fn upgrades_are_additive_and_keep_data() {
    let name = fresh_name("upgrade");
    let db = open_with(&name, 1, r#"{"tasks": "id, status"}"#)
        .await
        .unwrap();
    tasks(&db)
        .put(
            js(r#"{"id": "t1", "status": "todo", "prio": 2}"#),
            JsValue::UNDEFINED,
        )
        .await
        .unwrap();
    db.close();
    let db = open_with(
        &name,
        2,
        r#"{"tasks": "id, status, prio", "projects": "id"}"#,
    )
    .await
    .unwrap();
    let t = tasks(&db);
    assert_eq!(
        field(&t.get("t1".into()).await.unwrap(), "status"),
        JsValue::from_str("todo")
    );
    assert_eq!(
        t.where_("prio".into())
            .unwrap()
            .equals(2.into())
            .unwrap()
            .count()
            .await
            .unwrap(),
        1,
        "new index filled"
    );
    assert_eq!(outbox_len(&db).await, 1, "the outbox survived");
    db.close();
    // A schema that no longer lists `tasks` keeps it anyway.
    let db = open_with(&name, 2, r#"{"projects": "id"}"#).await.unwrap();
    db.close();
    let db = open_with(&name, 2, r#"{"tasks": "id"}"#).await.unwrap();
    assert_eq!(tasks(&db).count().await.unwrap(), 1);
    db.close();
    // A redefinition IndexedDB cannot do in place is refused.
    let err = open_with(&name, 3, r#"{"tasks": "++id"}"#)
        .await
        .err()
        .unwrap();
    assert_eq!(code(err), "schema_conflict");
    LocalDatabase::delete_database(name.into()).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_schema_dexie_would_reject_is_refused() {
    let name = fresh_name("bad-schema");
    for bad in [
        r#"{"t": "*id"}"#,
        r#"{"t": "id, ++n"}"#,
        r#"{"t": "id, "}"#,
        r#"{"_idbsync_x": "id"}"#,
    ] {
        let err = open_with(&name, 1, bad).await.err().unwrap();
        assert_eq!(code(err), "invalid_schema", "{bad}");
    }
    let _ = LocalDatabase::delete_database(name.into()).await;
}
