//! The delta adapter (seed 004, docs/adapters/delta.md) under the real engine,
//! against a fixture of the seed's server (`adapter_fixtures/seed004.rs`): devices
//! converge on creates, updates and deletes; pushed records are stamped with the
//! server's time (devices with skewed clocks, an edit made offline); the cursor is the
//! server's `serverTime`, pulled again with an overlap whose repeats are left out, and
//! survives a new engine; a lost answer is resent safely; a server error is retried;
//! another table's change is parked alone; a record the server kept goes through the
//! engine's policy.

#[path = "adapter_fixtures/seed004.rs"]
mod seed004;

use std::cell::{Cell, RefCell};

use idb_sync_core::adapters::delta::DeltaCursor;
use idb_sync_core::adapters::{
    AdapterTransport, Delta, DeltaConfig, HttpPort, HttpRequest, HttpResponse,
};
use idb_sync_core::conflict::{ConflictPolicy, PolicyConfig};
use idb_sync_core::engine::{EngineConfig, SyncEngine};
use idb_sync_core::memory::{block_on, ManualClock, MemoryStorage};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::ports::Storage;
use idb_sync_core::{Record, RecordId, SyncError};
use seed004::Seed004;
use serde_json::{json, Value};

const HOUR: i64 = 3_600_000;
const KEY: &str = "secret";

fn rec(v: Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

fn spool(id: i64) -> RecordId {
    RecordId::new("spools", id)
}

/// Something that happens on the server just before a device's next push arrives.
type BeforePush = RefCell<Option<Box<dyn FnOnce()>>>;

/// A device's network to the seed's server; can lose the next push's answer, or let
/// another client write first.
struct Device {
    server: Seed004,
    lose_next_push_answer: Cell<bool>,
    before_push: BeforePush,
}

impl HttpPort for Device {
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, SyncError> {
        let body = request.body.as_deref().unwrap_or("");
        let pushes = body.contains("\"changes\":[{") || !body.contains("\"deletions\":[]");
        if pushes {
            if let Some(other_client) = self.before_push.borrow_mut().take() {
                other_client();
            }
        }
        let response = self.server.handle(&request);
        if pushes && self.lose_next_push_answer.replace(false) {
            return Err(SyncError::Network("the answer was lost".into()));
        }
        Ok(response)
    }
}

type Engine = SyncEngine<MemoryStorage, AdapterTransport<Device, Delta>, ManualClock>;

fn engine(
    server: &Seed004,
    clock: ManualClock,
    storage: MemoryStorage,
    policy: ConflictPolicy,
) -> Engine {
    let http = Device {
        server: server.clone(),
        lose_next_push_answer: Cell::new(false),
        before_push: RefCell::new(None),
    };
    let adapter = Delta::new(DeltaConfig {
        api_key: KEY.into(),
        ..DeltaConfig::default()
    });
    let config = EngineConfig {
        policies: PolicyConfig::uniform(policy),
        ..EngineConfig::default()
    };
    SyncEngine::new(storage, AdapterTransport { http, adapter }, clock, config)
}

fn device(server: &Seed004, clock: ManualClock, name: &str) -> Engine {
    engine(
        server,
        clock,
        MemoryStorage::new(name),
        ConflictPolicy::FieldMerge,
    )
}

fn world() -> (Seed004, ManualClock) {
    let clock = ManualClock::new(1_800_000_000_000);
    (Seed004::new(clock.clone(), KEY), clock)
}

fn local(engine: &Engine, id: i64) -> Option<Record> {
    engine.storage().records().get(&spool(id)).cloned()
}

fn field(engine: &Engine, id: i64, name: &str) -> Option<Value> {
    local(engine, id).and_then(|r| r.get(name).cloned())
}

fn stored(server: &Seed004, id: i64) -> Value {
    server
        .spool(json!(id))
        .map(Value::Object)
        .unwrap_or(Value::Null)
}

fn cursor(engine: &Engine) -> DeltaCursor {
    let meta = block_on(engine.storage().read_meta()).unwrap();
    DeltaCursor::decode(meta.cursor.as_ref())
}

fn write(engine: &Engine, id: i64, op: LocalOp) {
    block_on(engine.write(&spool(id), op)).unwrap();
}

fn create(engine: &Engine, id: i64, v: Value) {
    let mut r = rec(v);
    r.insert("id".into(), id.into());
    write(engine, id, LocalOp::Create(r));
}

fn sync(engine: &Engine) {
    block_on(engine.sync_round()).unwrap();
}

#[test]
fn two_devices_sync_creates_updates_and_deletes() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    let b = device(&server, clock.clone(), "b");
    create(&a, 1, json!({"serial": "ABC-123", "brand": "Prusament"}));
    sync(&a);
    let now = clock.true_now();
    assert_eq!(
        stored(&server, 1),
        json!({"id": 1, "serial": "ABC-123", "brand": "Prusament", "lastUpdated": now})
    );
    clock.advance(1_000);
    sync(&b);
    assert_eq!(field(&b, 1, "brand"), Some(json!("Prusament")));
    assert_eq!(field(&b, 1, "lastUpdated"), Some(json!(now)));

    clock.advance(1_000);
    write(&b, 1, LocalOp::Update(rec(json!({"brand": "Polymaker"}))));
    sync(&b);
    assert_eq!(
        stored(&server, 1)["serial"],
        json!("ABC-123"),
        "an update merges its fields"
    );
    assert_eq!(stored(&server, 1)["lastUpdated"], json!(clock.true_now()));
    clock.advance(1_000);
    sync(&a);
    assert_eq!(field(&a, 1, "brand"), Some(json!("Polymaker")));

    clock.advance(1_000);
    write(&a, 1, LocalOp::Delete);
    sync(&a);
    assert_eq!(stored(&server, 1)["deleted"], json!(true));
    clock.advance(1_000);
    sync(&b);
    assert_eq!(local(&b, 1), None, "the delete reached the other device");
    assert!(block_on(b.storage().conflict_log()).unwrap().is_empty());
}

#[test]
fn stamps_and_the_cursor_are_the_servers_time_whatever_the_client_clock_says() {
    let (server, clock) = world();
    let slow = device(&server, clock.skewed(-5 * HOUR), "slow");
    let fast = device(&server, clock.skewed(5 * HOUR), "fast");
    sync(&fast);
    assert_eq!(cursor(&fast).since, clock.true_now());
    clock.advance(60_000);
    create(&slow, 1, json!({"brand": "late", "lastUpdated": 1}));
    sync(&slow);
    assert_eq!(
        stored(&server, 1)["lastUpdated"],
        json!(clock.true_now()),
        "not the device's clock"
    );
    clock.advance(120_000);
    sync(&fast);
    assert_eq!(
        field(&fast, 1, "brand"),
        Some(json!("late")),
        "a clock 5 h ahead misses nothing"
    );
    let last = server.db.borrow().requests.last().unwrap()["lastSyncTime"].clone();
    assert_eq!(
        last,
        json!(clock.true_now() - 120_000 - 60_000 - 60_000),
        "server time - overlap"
    );
}

#[test]
fn an_edit_made_offline_reaches_a_device_that_synced_meanwhile() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    let b = device(&server, clock.clone(), "b");
    create(&a, 1, json!({"brand": "one"}));
    sync(&a);
    sync(&b);
    write(
        &a,
        1,
        LocalOp::Update(rec(json!({"brand": "edited offline"}))),
    );
    clock.advance(10 * 60_000);
    sync(&b); // B's cursor passes the time of A's edit…
    clock.advance(10 * 60_000);
    sync(&a); // …which reaches the server only now: stamped now, not when made.
    clock.advance(1_000);
    sync(&b);
    assert_eq!(field(&b, 1, "brand"), Some(json!("edited offline")));
}

#[test]
fn a_write_through_a_lagging_instance_is_pulled_once_and_not_lost() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    create(&a, 1, json!({"brand": "one"}));
    sync(&a);
    let b = device(&server.instance(clock.skewed(-5_000)), clock.clone(), "b");
    clock.advance(2_000);
    sync(&a);
    let a_since = cursor(&a).since;
    clock.advance(1_000);
    create(&b, 2, json!({"brand": "two"}));
    sync(&b);
    assert!(stored(&server, 2)["lastUpdated"].as_u64().unwrap() < a_since);
    clock.advance(1_000);
    let report = block_on(a.sync_round()).unwrap();
    assert_eq!(field(&a, 2, "brand"), Some(json!("two")), "not lost");
    assert_eq!(report.pulled, 1, "the overlap's repeats are left out");
}

#[test]
fn the_cursor_survives_a_new_engine() {
    let (server, clock) = world();
    let storage = MemoryStorage::new("a");
    let a = engine(
        &server,
        clock.clone(),
        storage.clone(),
        ConflictPolicy::FieldMerge,
    );
    create(&a, 1, json!({"brand": "one"}));
    sync(&a);
    let since = cursor(&a).since;
    drop(a);
    clock.advance(5_000);
    let again = engine(&server, clock.clone(), storage, ConflictPolicy::FieldMerge);
    sync(&again);
    let last = server.db.borrow().requests.last().unwrap()["lastSyncTime"].clone();
    assert_eq!(last, json!(since - 60_000), "resumed, not a full pull");
}

#[test]
fn a_push_whose_answer_was_lost_is_resent_and_converges() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    let b = device(&server, clock.clone(), "b");
    create(&a, 1, json!({"brand": "once"}));
    a.transport().http.lose_next_push_answer.set(true);
    assert!(block_on(a.sync_round()).is_err());
    clock.advance(10_000);
    sync(&a);
    assert_eq!(stored(&server, 1)["brand"], json!("once"));
    assert_eq!(
        stored(&server, 1)["lastUpdated"],
        json!(clock.true_now()),
        "stamped again"
    );
    assert_eq!(block_on(a.storage().outbox_len()).unwrap(), 0);
    sync(&b);
    assert_eq!(local(&b, 1), local(&a, 1));
}

#[test]
fn a_server_error_is_retried_and_another_tables_change_is_parked_alone() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    create(&a, 1, json!({"brand": "mine"}));
    block_on(a.write(
        &RecordId::new("notes", "n1"),
        LocalOp::Create(rec(json!({"id": "n1"}))),
    ))
    .unwrap();
    create(&a, 2, json!({"brand": "also mine"}));
    server.db.borrow_mut().fail_next = 1;
    let error = block_on(a.sync_round()).unwrap_err();
    assert!(
        matches!(error, SyncError::Server { status: 500, .. }),
        "{error:?}"
    );
    clock.advance(5_000);
    sync(&a);
    assert_eq!(stored(&server, 1)["brand"], json!("mine"));
    assert_eq!(stored(&server, 2)["brand"], json!("also mine"));
    let parked: Vec<String> = block_on(a.storage().dead_letters())
        .unwrap()
        .iter()
        .map(|d| format!("{}:{}", d.record.table, d.code))
        .collect();
    assert_eq!(parked, vec!["notes:not_accepted"]);
    let sent: Vec<Value> = server
        .db
        .borrow()
        .requests
        .iter()
        .flat_map(|r| r["changes"].as_array().cloned().unwrap_or_default())
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(
        sent,
        vec![json!(1), json!(2)],
        "each spool sent once: the other table's change was set aside before sending"
    );
}

#[test]
fn a_record_the_server_kept_goes_through_the_policy() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    create(&a, 1, json!({"brand": "one", "weight": 1000}));
    sync(&a);
    write(&a, 1, LocalOp::Update(rec(json!({"weight": 750}))));
    // The seed's own client (clock 1 s ahead) writes the spool between this device's
    // clock probe and its push: the server keeps that newer spool and says so.
    let other = server.clone();
    let at = clock.true_now() + 1_000;
    *a.transport().http.before_push.borrow_mut() = Some(Box::new(move || {
        let body = json!({"apiKey": KEY, "deviceId": "seed-client", "lastSyncTime": 0,
            "changes": [{"id": 1, "brand": "two", "weight": 1000, "lastUpdated": at}],
            "deletions": []});
        let request = HttpRequest {
            method: idb_sync_core::adapters::HttpMethod::Post,
            path: "/api/sync".into(),
            headers: Vec::new(),
            body: Some(body.to_string()),
        };
        assert_eq!(other.handle(&request).status, 200);
    }));
    let report = block_on(a.sync_round()).unwrap();
    assert_eq!(report.conflicts, 1, "{report:?}");
    let log = block_on(a.storage().conflict_log()).unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        log[0].remote_version, at,
        "the server's spool, at its stamp"
    );
    sync(&a);
    let spool = stored(&server, 1);
    assert_eq!(
        (&spool["brand"], &spool["weight"]),
        (&json!("two"), &json!(750)),
        "fieldMerge: the local field rebased onto the server's spool and pushed again"
    );
    assert!(spool["lastUpdated"].as_u64().unwrap() > at);
    assert_eq!(field(&a, 1, "brand"), Some(json!("two")));
}
