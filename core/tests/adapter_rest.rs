//! The rest adapter (seed 001, docs/adapters/rest.md) under the real engine, against
//! a fixture of the seed's server (`adapter_fixtures/seed001.rs`): devices with
//! skewed clocks converge on creates, updates and deletes; the per-table cursor is the
//! server's `updatedAt` and survives a new engine; a lost answer is resent safely; a
//! server error is retried; a refused item is parked alone; conflicts the server
//! reports (404 on an update) and conflicts met on pull go through the policy; never
//! more than `concurrency` requests at once.

#[path = "adapter_fixtures/seed001.rs"]
mod seed001;

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::task::Poll;

use idb_sync_core::adapters::rest::RestCursor;
use idb_sync_core::adapters::{
    AdapterTransport, HttpMethod, HttpPort, HttpRequest, HttpResponse, Rest, RestConfig,
};
use idb_sync_core::conflict::{ConflictPolicy, PolicyConfig};
use idb_sync_core::engine::{EngineConfig, SyncEngine};
use idb_sync_core::memory::{block_on, ManualClock, MemoryStorage};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::ports::Storage;
use idb_sync_core::{Record, RecordId, SyncError};
use seed001::Seed001;
use serde_json::{json, Value};

const HOUR: i64 = 3_600_000;

fn rec(v: Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

fn task(key: &str) -> RecordId {
    RecordId::new("tasks", key)
}

/// A device's network to the seed's server. Each request waits one poll before it
/// is served (so concurrent requests overlap); the answer to the next request of
/// `lose` is lost after the server handled it.
struct Device {
    server: Seed001,
    lose: Cell<Option<HttpMethod>>,
    in_flight: Cell<usize>,
    most_in_flight: Cell<usize>,
    paths: RefCell<Vec<String>>,
    /// For the next item (non-GET) requests in order: `true` answers 500 without
    /// reaching the server.
    script: RefCell<Vec<bool>>,
}

async fn yield_once() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

impl HttpPort for Device {
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, SyncError> {
        self.in_flight.set(self.in_flight.get() + 1);
        let most = self.most_in_flight.get().max(self.in_flight.get());
        self.most_in_flight.set(most);
        yield_once().await;
        self.paths.borrow_mut().push(request.path.clone());
        let crash = request.method != HttpMethod::Get && {
            let mut script = self.script.borrow_mut();
            !script.is_empty() && script.remove(0)
        };
        let response = if crash {
            let body = json!({ "error": "Internal Server Error" }).to_string();
            HttpResponse {
                status: 500,
                retry_after_ms: None,
                body,
            }
        } else {
            self.server.handle(&request)
        };
        self.in_flight.set(self.in_flight.get() - 1);
        if self.lose.get() == Some(request.method) {
            self.lose.set(None);
            return Err(SyncError::Network("the answer was lost".into()));
        }
        Ok(response)
    }
}

type Engine = SyncEngine<MemoryStorage, AdapterTransport<Device, Rest>, ManualClock>;

fn config() -> RestConfig {
    RestConfig {
        tables: vec![
            ("tasks".into(), "tasks".into()),
            ("projects".into(), "projects".into()),
        ],
        ..RestConfig::default()
    }
}

fn engine_on(
    server: &Seed001,
    clock: ManualClock,
    storage: MemoryStorage,
    policy: ConflictPolicy,
) -> Engine {
    let http = Device {
        server: server.clone(),
        lose: Cell::new(None),
        in_flight: Cell::new(0),
        most_in_flight: Cell::new(0),
        paths: RefCell::new(Vec::new()),
        script: RefCell::new(Vec::new()),
    };
    let transport = AdapterTransport {
        http,
        adapter: Rest::new(config()),
    };
    let config = EngineConfig {
        policies: PolicyConfig::uniform(policy),
        ..EngineConfig::default()
    };
    SyncEngine::new(storage, transport, clock, config)
}

fn device(server: &Seed001, clock: ManualClock, name: &str) -> Engine {
    engine_on(
        server,
        clock,
        MemoryStorage::new(name),
        ConflictPolicy::FieldMerge,
    )
}

fn world() -> (Seed001, ManualClock) {
    let clock = ManualClock::new(1_800_000_000_000);
    (Seed001::new(clock.clone()), clock)
}

fn local(engine: &Engine, key: &str) -> Option<Record> {
    engine.storage().records().get(&task(key)).cloned()
}

fn title(engine: &Engine, key: &str) -> Option<Value> {
    local(engine, key).and_then(|r| r.get("title").cloned())
}

fn stored(server: &Seed001, key: &str) -> Option<Value> {
    server.record("tasks", key).map(Value::Object)
}

fn cursor(engine: &Engine) -> RestCursor {
    let meta = block_on(engine.storage().read_meta()).unwrap();
    RestCursor::decode(meta.cursor.as_ref())
}

fn write(engine: &Engine, key: &str, op: LocalOp) {
    block_on(engine.write(&task(key), op)).unwrap();
}

fn create(engine: &Engine, key: &str, title: &str) {
    let record = rec(json!({ "id": key, "title": title, "status": "todo", "priority": "low" }));
    write(engine, key, LocalOp::Create(record));
}

fn sync(engine: &Engine) {
    block_on(engine.sync_round()).unwrap();
}

fn dead(engine: &Engine) -> Vec<String> {
    let letters = block_on(engine.storage().dead_letters()).unwrap();
    letters
        .iter()
        .map(|d| format!("{}:{}", d.record.key, d.code))
        .collect()
}

fn outbox(engine: &Engine) -> usize {
    block_on(engine.storage().outbox_len()).unwrap()
}

#[test]
fn two_devices_with_skewed_clocks_sync_creates_updates_and_deletes() {
    let (server, clock) = world();
    let a = device(&server, clock.skewed(5 * HOUR), "a");
    let b = device(&server, clock.skewed(-5 * HOUR), "b");
    create(&a, "t1", "write");
    sync(&a);
    let t1 = stored(&server, "t1").expect("t1 on the server");
    assert_eq!(t1["title"], json!("write"));
    assert_eq!(
        t1["updatedAt"],
        json!(clock.true_now()),
        "the server's clock"
    );
    clock.advance(1_000);
    sync(&b);
    assert_eq!(title(&b, "t1"), Some(json!("write")));

    clock.advance(1_000);
    write(
        &b,
        "t1",
        LocalOp::Update(rec(json!({ "title": "write more" }))),
    );
    sync(&b);
    let t1 = stored(&server, "t1").unwrap();
    assert_eq!(
        (t1["title"].clone(), t1["status"].clone()),
        (json!("write more"), json!("todo"))
    );
    clock.advance(1_000);
    sync(&a);
    assert_eq!(
        title(&a, "t1"),
        Some(json!("write more")),
        "a clock 5 h ahead misses nothing"
    );

    clock.advance(1_000);
    write(&a, "t1", LocalOp::Delete);
    sync(&a);
    assert_eq!(stored(&server, "t1").unwrap()["_deleted"], json!(true));
    clock.advance(1_000);
    sync(&b);
    assert_eq!(local(&b, "t1"), None, "the delete reached the other device");
    let log = server.log();
    let writes: Vec<_> = log.iter().filter(|(m, _)| *m != HttpMethod::Get).collect();
    assert_eq!(
        writes,
        vec![
            &(HttpMethod::Post, "/api/tasks".to_string()),
            &(HttpMethod::Put, "/api/tasks/t1".to_string()),
            &(HttpMethod::Delete, "/api/tasks/t1".to_string()),
        ],
        "one request per item, as the seed sends them"
    );
}

#[test]
fn the_cursor_is_the_servers_updated_at_and_a_new_engine_resumes_from_it() {
    let (server, clock) = world();
    let a = device(&server, clock.skewed(-5 * HOUR), "a");
    create(&a, "t1", "one");
    sync(&a);
    let written = clock.true_now();
    assert_eq!(cursor(&a).table("tasks").since, written);
    clock.advance(3 * HOUR as u64);
    sync(&a);
    assert_eq!(
        cursor(&a).table("tasks").since,
        written,
        "no new write: the cursor stays"
    );
    // The app restarts: a new engine over the same storage.
    let again = engine_on(
        &server,
        clock.clone(),
        a.storage().clone(),
        ConflictPolicy::FieldMerge,
    );
    sync(&again);
    let pulls: Vec<String> = again.transport().http.paths.borrow().clone();
    assert_eq!(
        pulls,
        vec![
            format!("/api/tasks?since={}", written - 60_000),
            "/api/projects?since=0".to_string(),
        ],
        "resumes at the stored server time minus the overlap"
    );
}

#[test]
fn a_write_stamped_inside_the_overlap_is_pulled_once_and_not_lost() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    let lagging = server.instance(clock.skewed(-5_000));
    let b = device(&lagging, clock.clone(), "b");
    create(&a, "t1", "one");
    sync(&a);
    clock.advance(2_000);
    create(&b, "t2", "two");
    sync(&b); // stamped 3 s before t1 by the lagging server
    assert!(
        stored(&server, "t2").unwrap()["updatedAt"].as_u64()
            < stored(&server, "t1").unwrap()["updatedAt"].as_u64()
    );
    clock.advance(1_000);
    let report = block_on(a.sync_round()).unwrap();
    assert_eq!(title(&a, "t2"), Some(json!("two")), "not lost");
    assert_eq!(report.pulled, 1);
    let seen = cursor(&a).table("tasks").seen;
    assert!(
        seen.contains(&(
            "\"t1\"".into(),
            stored(&server, "t1").unwrap()["updatedAt"]
                .as_u64()
                .unwrap()
        )),
        "{seen:?}"
    );
    clock.advance(1_000);
    let report = block_on(a.sync_round()).unwrap();
    assert_eq!(report.pulled, 0, "the overlap's repeats are left out");
}

#[test]
fn a_lost_answer_is_resent_safely() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    let b = device(&server, clock.clone(), "b");
    create(&a, "t1", "once");
    a.transport().http.lose.set(Some(HttpMethod::Post));
    assert!(
        block_on(a.sync_round()).is_err(),
        "no answer: the round fails"
    );
    assert!(stored(&server, "t1").is_some(), "the server did create it");
    clock.advance(10_000);
    sync(&a); // POST again: 409, sent again as PUT of the same record
    assert_eq!(server.count("tasks"), 1, "one record, not two");
    assert_eq!(stored(&server, "t1").unwrap()["title"], json!("once"));
    assert_eq!(outbox(&a), 0);
    assert!(dead(&a).is_empty());

    write(&a, "t1", LocalOp::Delete);
    a.transport().http.lose.set(Some(HttpMethod::Delete));
    assert!(block_on(a.sync_round()).is_err());
    clock.advance(10_000);
    sync(&a); // DELETE again: 404, already gone
    assert_eq!(outbox(&a), 0);
    assert!(dead(&a).is_empty(), "{:?}", dead(&a));
    sync(&b);
    assert_eq!(local(&b, "t1"), None);
}

#[test]
fn a_server_error_is_retried_and_items_already_sent_are_safe_to_resend() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    for i in 0..6 {
        create(&a, &format!("t{i}"), "x");
    }
    // The 2nd and 3rd item requests crash the server; the 1st and 4th go through.
    *a.transport().http.script.borrow_mut() = vec![false, true, true, false];
    let error = block_on(a.sync_round()).unwrap_err();
    assert!(
        matches!(error, SyncError::Server { status: 500, .. }),
        "{error:?}"
    );
    assert_eq!(outbox(&a), 6, "kept for the retry");
    assert_eq!(
        server.count("tasks"),
        2,
        "two items went through before the failure"
    );
    clock.advance(10_000);
    sync(&a);
    assert_eq!(outbox(&a), 0);
    assert_eq!(server.count("tasks"), 6, "each created once");
    assert!(dead(&a).is_empty(), "{:?}", dead(&a));
    // A pull answered 500 fails the round too, and is retried.
    server.fail_next(1);
    assert!(block_on(a.sync_round()).is_err());
    sync(&a);
}

#[test]
fn a_refused_item_is_parked_alone_and_the_queue_flows() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    create(&a, "t1", "fine");
    write(
        &a,
        "t2",
        LocalOp::Create(rec(
            json!({ "id": "t2", "title": "bad", "status": "someday" }),
        )),
    );
    create(&a, "t3", "fine too");
    block_on(a.write(
        &RecordId::new("notes", "n1"),
        LocalOp::Create(rec(json!({ "id": "n1" }))),
    ))
    .unwrap();
    sync(&a);
    assert!(stored(&server, "t1").is_some() && stored(&server, "t3").is_some());
    assert!(stored(&server, "t2").is_none());
    let mut parked = dead(&a);
    parked.sort();
    assert_eq!(parked, vec!["\"n1\":http_404", "\"t2\":http_400"]);
    let letters = block_on(a.storage().dead_letters()).unwrap();
    assert!(
        letters
            .iter()
            .any(|d| d.reason.contains("status must be one of")),
        "the server's message"
    );
    assert_eq!(
        local(&a, "t2"),
        None,
        "rolled back: the server never had it"
    );
    assert_eq!(outbox(&a), 0);
    assert_eq!(
        server.count("tasks"),
        2,
        "the resends of t1 and t3 made no duplicates"
    );
}

#[test]
fn an_update_of_a_record_deleted_elsewhere_goes_through_the_policy() {
    for (policy, survives) in [
        (ConflictPolicy::FieldMerge, false),
        (ConflictPolicy::ClientWins, true),
    ] {
        let (server, clock) = world();
        let a = device(&server, clock.clone(), "a");
        let b = engine_on(&server, clock.clone(), MemoryStorage::new("b"), policy);
        create(&a, "t1", "shared");
        sync(&a);
        sync(&b);
        // B's update is sent but the server crashes: it stays in flight.
        write(&b, "t1", LocalOp::Update(rec(json!({ "title": "edited" }))));
        *b.transport().http.script.borrow_mut() = vec![true];
        assert!(block_on(b.sync_round()).is_err());
        clock.advance(1_000);
        write(&a, "t1", LocalOp::Delete);
        sync(&a);
        clock.advance(1_000);
        let before = server.log().len();
        // The resend comes before the pull: PUT answers 404, a conflict `missing`.
        sync(&b);
        let log = server.log();
        assert_eq!(
            log[before],
            (HttpMethod::Put, "/api/tasks/t1".to_string()),
            "{policy:?}"
        );
        sync(&b);
        let on_server = stored(&server, "t1").unwrap();
        assert_eq!(
            on_server.get("_deleted").is_none(),
            survives,
            "{policy:?}: {on_server:?}"
        );
        assert_eq!(local(&b, "t1").is_some(), survives, "{policy:?}");
        if survives {
            assert_eq!(
                on_server["title"],
                json!("edited"),
                "clientWins: recreated by POST"
            );
        }
        // Logged once from the 404, and (clientWins) again when the tombstone is
        // pulled at its real `updatedAt`, above the version a 404 can tell.
        let conflicts = block_on(b.storage().conflict_log()).unwrap();
        assert!(!conflicts.is_empty(), "{policy:?}");
        let outcome = &conflicts[0].outcome;
        assert!(
            conflicts.iter().all(|c| &c.outcome == outcome),
            "{policy:?}: {conflicts:?}"
        );
        assert!(dead(&b).is_empty(), "{policy:?}: {:?}", dead(&b));
        assert_eq!(outbox(&b), 0, "{policy:?}");
    }
}

#[test]
fn concurrent_offline_edits_resolve_per_the_policy() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    let b = engine_on(
        &server,
        clock.clone(),
        MemoryStorage::new("b"),
        ConflictPolicy::ServerWins,
    );
    create(&a, "t1", "base");
    sync(&a);
    sync(&b);
    write(&a, "t1", LocalOp::Update(rec(json!({ "title": "from a" }))));
    write(&b, "t1", LocalOp::Update(rec(json!({ "title": "from b" }))));
    clock.advance(1_000);
    sync(&a);
    clock.advance(1_000);
    sync(&b);
    assert_eq!(
        title(&b, "t1"),
        Some(json!("from a")),
        "serverWins: the server's record"
    );
    assert_eq!(stored(&server, "t1").unwrap()["title"], json!("from a"));
    let log = block_on(b.storage().conflict_log()).unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].outcome, "took server");
}

#[test]
fn never_more_than_concurrency_requests_at_once() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    for i in 0..10 {
        create(&a, &format!("t{i}"), "x");
    }
    sync(&a);
    assert_eq!(server.count("tasks"), 10);
    assert_eq!(
        a.transport().http.most_in_flight.get(),
        4,
        "the default bound"
    );
}
