//! The changeLog adapter (seed 003, docs/adapters/changeLog.md) under the real engine,
//! against a fixture of the seed's server (`adapter_fixtures/seed003.rs`): devices
//! converge on creates, updates and deletes; the cursor is the server's `timestamp`
//! (devices with skewed clocks), pulled again with an overlap whose repeats are left
//! out, and survives a new engine; a page is acknowledged only by the pull after it
//! was stored; a lost answer is resent safely; a server error is retried; a refused
//! change is parked alone; a conflict the server reports goes through the policy.

#[path = "adapter_fixtures/seed003.rs"]
mod seed003;

use std::cell::Cell;

use idb_sync_core::adapters::change_log::ChangeLogCursor;
use idb_sync_core::adapters::{
    AdapterTransport, ChangeLog, ChangeLogConfig, HttpPort, HttpRequest, HttpResponse,
};
use idb_sync_core::conflict::{ConflictPolicy, PolicyConfig};
use idb_sync_core::engine::{EngineConfig, SyncEngine};
use idb_sync_core::memory::{block_on, ManualClock, MemoryStorage};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::ports::Storage;
use idb_sync_core::{Record, RecordId, SyncError};
use seed003::Seed003;
use serde_json::{json, Value};

const HOUR: i64 = 3_600_000;

fn rec(v: Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

fn item(key: &str) -> RecordId {
    RecordId::new("items", key)
}

/// A device's network: bearer token added, the seed's server answering; can lose the
/// next push's answer (the request is served, the answer never arrives).
struct Device {
    server: Seed003,
    token: String,
    lose_next_push_answer: Cell<bool>,
}

impl HttpPort for Device {
    async fn fetch(&self, mut request: HttpRequest) -> Result<HttpResponse, SyncError> {
        let bearer = format!("Bearer {}", self.token);
        request.headers.push(("Authorization".into(), bearer));
        let response = self.server.handle(&request);
        if request.path == "/pushChanges" && self.lose_next_push_answer.replace(false) {
            return Err(SyncError::Network("the answer was lost".into()));
        }
        Ok(response)
    }
}

type Engine = SyncEngine<MemoryStorage, AdapterTransport<Device, ChangeLog>, ManualClock>;

fn engine(
    server: &Seed003,
    clock: ManualClock,
    storage: MemoryStorage,
    policy: ConflictPolicy,
) -> Engine {
    let http = Device {
        server: server.clone(),
        token: "t1".into(),
        lose_next_push_answer: Cell::new(false),
    };
    let adapter = ChangeLog::new(ChangeLogConfig {
        user_id: Some("u1".into()),
        ..ChangeLogConfig::default()
    });
    let config = EngineConfig {
        policies: PolicyConfig::uniform(policy),
        ..EngineConfig::default()
    };
    SyncEngine::new(storage, AdapterTransport { http, adapter }, clock, config)
}

fn device(server: &Seed003, clock: ManualClock, name: &str) -> Engine {
    engine(
        server,
        clock,
        MemoryStorage::new(name),
        ConflictPolicy::FieldMerge,
    )
}

fn world() -> (Seed003, ManualClock) {
    let clock = ManualClock::new(1_800_000_000_000);
    let server = Seed003::new(clock.clone(), &[("t1", "u1"), ("t2", "u2")]);
    (server, clock)
}

fn local(engine: &Engine, key: &str) -> Option<Record> {
    engine.storage().records().get(&item(key)).cloned()
}

fn field(engine: &Engine, key: &str, name: &str) -> Option<Value> {
    local(engine, key).and_then(|r| r.get(name).cloned())
}

fn row(server: &Seed003, key: &str) -> Option<(u64, Option<Value>)> {
    let e = server.entity("u1", "items", key)?;
    Some((e.version, e.row.map(Value::Object)))
}

fn cursor(engine: &Engine) -> ChangeLogCursor {
    let meta = block_on(engine.storage().read_meta()).unwrap();
    ChangeLogCursor::decode(meta.cursor.as_ref())
}

fn write(engine: &Engine, key: &str, op: LocalOp) {
    block_on(engine.write(&item(key), op)).unwrap();
}

fn sync(engine: &Engine) {
    block_on(engine.sync_round()).unwrap();
}

fn create(engine: &Engine, key: &str, v: Value) {
    let mut r = rec(v);
    r.insert("id".into(), key.into());
    write(engine, key, LocalOp::Create(r));
}

#[test]
fn two_devices_sync_creates_updates_and_deletes() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    let b = device(&server, clock.clone(), "b");
    create(&a, "i1", json!({"name": "tent", "packed": false}));
    sync(&a);
    assert_eq!(
        row(&server, "i1"),
        Some((
            1,
            Some(json!({"id": "i1", "name": "tent", "packed": false}))
        ))
    );
    clock.advance(1_000);
    sync(&b);
    assert_eq!(field(&b, "i1", "name"), Some(json!("tent")));

    clock.advance(1_000);
    write(&b, "i1", LocalOp::Update(rec(json!({"packed": true}))));
    sync(&b);
    let (version, data) = row(&server, "i1").unwrap();
    assert_eq!(version, 2, "the server's version is the engine's");
    assert_eq!(
        data.unwrap()["name"],
        json!("tent"),
        "an update merges its fields"
    );
    clock.advance(1_000);
    sync(&a);
    assert_eq!(field(&a, "i1", "packed"), Some(json!(true)));
    assert_eq!(field(&a, "i1", "name"), Some(json!("tent")));

    clock.advance(1_000);
    write(&a, "i1", LocalOp::Delete);
    sync(&a);
    assert_eq!(row(&server, "i1"), Some((3, None)));
    clock.advance(1_000);
    sync(&b);
    assert_eq!(local(&b, "i1"), None, "the delete reached the other device");
    let conflicts = block_on(b.storage().conflict_log()).unwrap();
    assert!(conflicts.is_empty(), "{conflicts:?}");
}

#[test]
fn the_cursor_is_the_servers_timestamp_whatever_the_client_clock_says() {
    let (server, clock) = world();
    let slow = device(&server, clock.skewed(-5 * HOUR), "slow");
    let fast = device(&server, clock.skewed(5 * HOUR), "fast");
    sync(&fast);
    assert_eq!(
        cursor(&fast).since,
        clock.true_now(),
        "the server's timestamp"
    );
    clock.advance(60_000);
    create(&slow, "i1", json!({"name": "late"}));
    sync(&slow);
    clock.advance(120_000);
    sync(&fast);
    assert_eq!(
        field(&fast, "i1", "name"),
        Some(json!("late")),
        "a clock 5 h ahead misses nothing"
    );
    let pulls: Vec<String> = server
        .db
        .borrow()
        .requests
        .iter()
        .map(|(_, p)| p.clone())
        .collect();
    let expected = format!(
        "/getChanges?since={}",
        clock.true_now() - 120_000 - 60_000 - 60_000
    );
    assert!(
        pulls.contains(&expected),
        "since = server time - overlap: {pulls:?}"
    );
}

#[test]
fn a_change_committed_inside_the_overlap_is_pulled_once_and_not_lost() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    create(&a, "i1", json!({"name": "one"}));
    sync(&a);
    // B writes through an instance whose clock lags 5 s: its log row's timestamp is
    // before the `timestamp` A's last pull stored.
    let lagging = server.instance(clock.skewed(-5_000));
    let b = device(&lagging, clock.clone(), "b");
    clock.advance(2_000);
    sync(&a);
    let a_since = cursor(&a).since;
    clock.advance(1_000);
    create(&b, "i2", json!({"name": "two"}));
    sync(&b);
    let logged = server.db.borrow().log.last().unwrap()["timestamp"]
        .as_u64()
        .unwrap();
    assert!(logged < a_since);
    clock.advance(1_000);
    let report = block_on(a.sync_round()).unwrap();
    assert_eq!(field(&a, "i2", "name"), Some(json!("two")), "not lost");
    assert_eq!(
        report.pulled, 1,
        "only i2 is new: the overlap's repeats are left out"
    );
    assert_eq!(cursor(&a).seen, vec!["1".to_string(), "2".to_string()]);
}

#[test]
fn a_page_is_acknowledged_by_the_next_pull_and_the_cursor_survives_a_new_engine() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    let storage = MemoryStorage::new("b");
    let b = engine(
        &server,
        clock.clone(),
        storage.clone(),
        ConflictPolicy::FieldMerge,
    );
    create(&a, "i1", json!({"name": "one"}));
    create(&a, "i2", json!({"name": "two"}));
    sync(&a);
    clock.advance(1_000);
    sync(&b);
    assert_eq!(
        server.acknowledged("u1"),
        Vec::<String>::new(),
        "not before the page is stored"
    );
    assert_eq!(cursor(&b).ack, vec!["1".to_string(), "2".to_string()]);
    drop(b);

    // A new engine (a reload) on the same storage resumes from the stored cursor.
    clock.advance(120_000);
    let again = engine(&server, clock.clone(), storage, ConflictPolicy::FieldMerge);
    let before = server.db.borrow().requests.len();
    sync(&again);
    assert_eq!(
        server.acknowledged("u1"),
        vec!["1".to_string(), "2".to_string()]
    );
    let requests = server.db.borrow().requests[before..].to_vec();
    let pull = requests
        .iter()
        .find(|(_, p)| p.starts_with("/getChanges?since=1"))
        .unwrap();
    assert_ne!(pull.1, "/getChanges?since=0", "not a full pull");
    assert_eq!(
        cursor(&again).ack,
        Vec::<String>::new(),
        "nothing new to acknowledge"
    );
    assert_eq!(field(&again, "i2", "name"), Some(json!("two")));
}

#[test]
fn a_push_whose_answer_was_lost_is_resent_and_applied_once() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    create(&a, "i1", json!({"name": "once"}));
    sync(&a);
    write(&a, "i1", LocalOp::Update(rec(json!({"name": "twice"}))));
    a.transport().http.lose_next_push_answer.set(true);
    assert!(
        block_on(a.sync_round()).is_err(),
        "no answer: the round fails"
    );
    assert_eq!(row(&server, "i1").unwrap().0, 2);
    clock.advance(10_000);
    let report = block_on(a.sync_round()).unwrap();
    assert_eq!(
        report.applied, 1,
        "the server's conflict with this device's own change is its answer"
    );
    assert_eq!(row(&server, "i1").unwrap().0, 2, "applied once");
    assert_eq!(block_on(a.storage().outbox_len()).unwrap(), 0);
    assert!(block_on(a.storage().conflict_log()).unwrap().is_empty());
    write(&a, "i1", LocalOp::Update(rec(json!({"name": "thrice"}))));
    sync(&a);
    assert_eq!(
        row(&server, "i1").unwrap(),
        (3, Some(json!({"id": "i1", "name": "thrice"})))
    );
}

#[test]
fn a_server_error_is_retried_and_a_refused_change_is_parked_alone() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    create(&a, "i1", json!({"name": "mine"}));
    // `notes` is not an entity type of the server: it rejects the change.
    let note = RecordId::new("notes", "n1");
    block_on(a.write(&note, LocalOp::Create(rec(json!({"id": "n1"}))))).unwrap();
    create(&a, "i2", json!({"name": "also mine"}));
    server.db.borrow_mut().fail_next = 1;
    let error = block_on(a.sync_round()).unwrap_err();
    assert!(
        matches!(error, SyncError::Server { status: 500, .. }),
        "{error:?}"
    );
    assert_eq!(
        block_on(a.storage().outbox_len()).unwrap(),
        3,
        "kept for the retry"
    );
    clock.advance(5_000);
    sync(&a);
    assert_eq!(
        row(&server, "i1").unwrap().0,
        1,
        "applied once, though resent after the split"
    );
    assert_eq!(row(&server, "i2").unwrap().0, 1);
    let parked: Vec<String> = block_on(a.storage().dead_letters())
        .unwrap()
        .iter()
        .map(|d| format!("{}:{}", d.record.table, d.code))
        .collect();
    assert_eq!(parked, vec!["notes:rejected"]);
    assert_eq!(block_on(a.storage().outbox_len()).unwrap(), 0);
    assert!(block_on(a.storage().conflict_log()).unwrap().is_empty());
}

#[test]
fn a_conflict_the_server_reports_resolves_per_the_policy() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    let b = device(&server, clock.clone(), "b");
    create(&a, "i1", json!({"name": "tent", "qty": 1}));
    sync(&a);
    sync(&b);
    // Both edit version 1: different fields (fieldMerge keeps both)…
    write(&a, "i1", LocalOp::Update(rec(json!({"name": "big tent"}))));
    write(&b, "i1", LocalOp::Update(rec(json!({"qty": 2}))));
    sync(&a);
    clock.advance(1_000);
    sync(&b);
    assert_eq!(
        row(&server, "i1").unwrap(),
        (3, Some(json!({"id": "i1", "name": "big tent", "qty": 2}))),
        "B's change, in conflict at version 1, was rebased onto version 2"
    );
    sync(&a);
    assert_eq!(local(&a, "i1"), local(&b, "i1"));

    // …and serverWins drops the local change.
    let c = engine(
        &server,
        clock.clone(),
        MemoryStorage::new("c"),
        ConflictPolicy::ServerWins,
    );
    sync(&c);
    write(&a, "i1", LocalOp::Update(rec(json!({"qty": 5}))));
    write(&c, "i1", LocalOp::Update(rec(json!({"qty": 9}))));
    sync(&a);
    sync(&c);
    assert_eq!(
        field(&c, "i1", "qty"),
        Some(json!(5)),
        "the server's record won"
    );
    assert_eq!(row(&server, "i1").unwrap().0, 4);
    let log = block_on(c.storage().conflict_log()).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, "took server");
}

#[test]
fn a_bad_token_is_a_401_and_touches_nothing() {
    let (server, clock) = world();
    let a = device(&server, clock, "a");
    let http = Device {
        server: server.clone(),
        token: "nope".into(),
        lose_next_push_answer: Cell::new(false),
    };
    let bad = SyncEngine::new(
        a.storage().clone(),
        AdapterTransport {
            http,
            adapter: ChangeLog::default(),
        },
        ManualClock::new(1),
        EngineConfig::default(),
    );
    create(&a, "i1", json!({}));
    let error = block_on(bad.sync_round()).unwrap_err();
    assert!(matches!(error, SyncError::Unauthorized { .. }), "{error:?}");
    assert!(server.entity("u1", "items", "i1").is_none());
}

#[test]
fn a_push_names_changes_as_the_seed_does() {
    use idb_sync_core::adapters::HttpMethod;
    use idb_sync_core::hlc::Hlc;
    use idb_sync_core::protocol::{MergeMode, Mutation, PushRequest};
    use idb_sync_core::Op;
    let adapter = ChangeLog::new(ChangeLogConfig {
        base_path: "/api/sync".into(),
        tables: vec![("things".to_string(), "items".to_string())],
        ..ChangeLogConfig::default()
    });
    let mutation = |seq, key: f64, op, base_version| Mutation {
        seq,
        table: "things".into(),
        key: key.into(),
        op,
        base_version,
        hlc: Hlc {
            millis: 77,
            counter: 0,
            node: "c".into(),
        },
        mode: MergeMode::FieldMerge,
    };
    let record = rec(json!({"name": "x", "sync": {"version": 3, "deviceId": "old"}}));
    let request = PushRequest {
        protocol_version: 1,
        client_id: "c".into(),
        account: None,
        mutations: vec![
            mutation(7, 5.0, Op::Create { record }, 0),
            mutation(
                8,
                6.0,
                Op::Update {
                    patch: rec(json!({"qty": 2})),
                },
                3,
            ),
            mutation(9, 7.0, Op::Delete, 4),
        ],
    };
    let http = adapter.push_http(&request);
    assert_eq!(
        (http.method, http.path.as_str()),
        (HttpMethod::Post, "/api/sync/pushChanges")
    );
    let body: Value = serde_json::from_str(http.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"changes": [
            {"id": "c:7", "entityType": "items", "entityId": "5", "operation": "create",
             "timestamp": 77, "data": {"name": "x", "id": 5}, "version": 0, "deviceId": "c"},
            {"id": "c:8", "entityType": "items", "entityId": "6", "operation": "update",
             "timestamp": 77, "data": {"qty": 2}, "version": 3, "deviceId": "c"},
            {"id": "c:9", "entityType": "items", "entityId": "7", "operation": "delete",
             "timestamp": 77, "data": null, "version": 4, "deviceId": "c"},
        ]}),
        "the seed client's `sync` bookkeeping is not sent"
    );
    let answer = HttpResponse {
        status: 200,
        retry_after_ms: None,
        body: json!({"accepted": ["c:7", "c:9"], "rejected": [], "conflicts": [
            {"local": {"id": "c:8"}, "server": {"entityType": "items", "entityId": "6",
             "operation": "update", "timestamp": 50, "data": {"id": 6, "qty": 1, "sync": {}},
             "version": 5, "deviceId": "d"}}]})
        .to_string(),
    };
    let v1: Value =
        serde_json::from_str(&adapter.push_answer(&request, &answer, 99).unwrap().body).unwrap();
    assert_eq!(
        v1["results"],
        json!([
            {"status": "applied", "seq": 7, "version": 1, "previousVersion": 0},
            {"status": "conflict", "seq": 8, "reason": "staleBase", "server": {"version": 5,
             "deleted": false, "data": {"id": 6, "qty": 1}, "hlc": {"millis": 50, "counter": 0, "node": "d"}}},
            {"status": "applied", "seq": 9, "version": 5, "previousVersion": 4},
        ])
    );
    assert_eq!(v1["serverTime"], json!(99));
}

#[test]
fn a_pulled_page_holds_each_key_once_at_its_highest_version() {
    use idb_sync_core::protocol::{decode_pull_response, PullRequest, PullResponse};
    let adapter = ChangeLog::default();
    let answer = HttpResponse {
        status: 200,
        retry_after_ms: None,
        body: json!({"changes": [
            {"id": 1, "entityType": "items", "entityId": "5", "operation": "create",
             "timestamp": 10, "data": {"id": 5, "t": "old"}, "version": 1},
            {"id": 2, "entityType": "items", "entityId": "5", "operation": "update",
             "timestamp": 20, "data": {"id": 5, "t": "new", "sync": {"version": 2}}, "version": 2},
            {"id": 3, "entityType": "lists", "entityId": "l1", "operation": "delete",
             "timestamp": 30, "data": null, "version": 4},
        ], "timestamp": 1_000})
        .to_string(),
    };
    let request = PullRequest {
        protocol_version: 1,
        client_id: "c".into(),
        account: None,
        cursor: None,
        limit: None,
        omit_own_through: None,
    };
    let page = adapter.pull_answer(&request, &answer).unwrap();
    let PullResponse::Ok(page) = decode_pull_response(&page.body).unwrap() else {
        panic!("not a page")
    };
    let changes: Vec<_> = page
        .changes
        .iter()
        .map(|c| {
            (
                c.table.clone(),
                c.key.to_string(),
                c.version,
                c.data.clone(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        vec![
            (
                "items".into(),
                "5".into(),
                2,
                Some(rec(json!({"id": 5, "t": "new"})))
            ),
            ("lists".into(), "\"l1\"".into(), 4, None),
        ],
        "a numeric key stays numeric; bookkeeping is left out"
    );
    let cursor = ChangeLogCursor::decode(Some(&page.cursor));
    assert_eq!(cursor.since, 1_000);
    assert_eq!(cursor.ack, vec!["1", "2", "3"]);
    let without_version = answer.body.replace("\"version\":4", "\"version\":0");
    let bad = HttpResponse {
        body: without_version,
        ..answer
    };
    assert!(matches!(
        adapter.pull_answer(&request, &bad),
        Err(SyncError::MalformedResponse(_))
    ));
}
