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
