//! The pushPull adapter (seed 000, docs/ADAPTERS.md) under the real engine, against a
//! fixture of the seed's server (`adapter_fixtures/seed000.rs`): devices converge on
//! creates, updates and deletes; the cursor is the server's `timestamp`, pulled again
//! with an overlap whose repeats are left out; a lost answer is resent safely; what
//! the server skips is parked without blocking the queue.

#[path = "adapter_fixtures/seed000.rs"]
mod seed000;

use std::cell::{Cell, RefCell};

use idb_sync_core::adapters::parse_iso_ms;
use idb_sync_core::adapters::push_pull::{rev_of, version_of, PushPullCursor};
use idb_sync_core::adapters::{
    AdapterTransport, HttpMethod, HttpPort, HttpRequest, HttpResponse, PushPull, PushPullConfig,
};
use idb_sync_core::engine::{EngineConfig, SyncEngine};
use idb_sync_core::memory::{block_on, ManualClock, MemoryStorage};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::ports::Storage;
use idb_sync_core::protocol::Cursor;
use idb_sync_core::{Record, RecordId, SyncError};
use seed000::Seed000;
use serde_json::{json, Value};

const HOUR: i64 = 3_600_000;
const BASE: &str = "/.netlify/functions";

fn rec(v: Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

fn goal(key: &str) -> RecordId {
    RecordId::new("goals", key)
}

/// A device's network: bearer token added, the seed's server answering; can lose the
/// next push's answer (the request is served, the answer never arrives).
struct Device {
    server: Seed000,
    token: String,
    lose_next_push_answer: Cell<bool>,
    /// Drops the next push before it reaches the server.
    drop_next_push: Cell<bool>,
    paths: RefCell<Vec<String>>,
}

impl HttpPort for Device {
    async fn fetch(&self, mut request: HttpRequest) -> Result<HttpResponse, SyncError> {
        let bearer = format!("Bearer {}", self.token);
        request.headers.push(("Authorization".into(), bearer));
        self.paths.borrow_mut().push(request.path.clone());
        if request.path.ends_with("/sync/push") && self.drop_next_push.replace(false) {
            return Err(SyncError::Network("the request was lost".into()));
        }
        let response = self.server.handle(&request);
        if request.path.ends_with("/sync/push") && self.lose_next_push_answer.replace(false) {
            return Err(SyncError::Network("the answer was lost".into()));
        }
        Ok(response)
    }
}

type Engine = SyncEngine<MemoryStorage, AdapterTransport<Device, PushPull>, ManualClock>;

fn config() -> PushPullConfig {
    PushPullConfig {
        base_path: BASE.into(),
        user_id: Some("u1".into()),
        ..PushPullConfig::default()
    }
}

fn device(server: &Seed000, clock: ManualClock, name: &str, token: &str) -> Engine {
    let http = Device {
        server: server.clone(),
        token: token.into(),
        lose_next_push_answer: Cell::new(false),
        drop_next_push: Cell::new(false),
        paths: RefCell::new(Vec::new()),
    };
    let transport = AdapterTransport {
        http,
        adapter: PushPull::new(config()),
    };
    SyncEngine::new(
        MemoryStorage::new(name),
        transport,
        clock,
        EngineConfig::default(),
    )
}

fn world() -> (Seed000, ManualClock) {
    let clock = ManualClock::new(1_800_000_000_000);
    let server = Seed000::new(clock.clone(), &[("t1", "u1"), ("t2", "u2")]);
    (server, clock)
}

fn local(engine: &Engine, key: &str) -> Option<Record> {
    engine.storage().records().get(&goal(key)).cloned()
}

fn title(engine: &Engine, key: &str) -> Option<Value> {
    local(engine, key).and_then(|r| r.get("title").cloned())
}

fn cursor(engine: &Engine) -> PushPullCursor {
    let meta = block_on(engine.storage().read_meta()).unwrap();
    PushPullCursor::decode(meta.cursor.as_ref())
}

fn pull_sinces(engine: &Engine) -> Vec<u64> {
    let paths = engine.transport().http.paths.borrow();
    let prefix = format!("{BASE}/sync/pull?since=");
    paths
        .iter()
        .filter_map(|p| p.strip_prefix(&prefix)?.parse().ok())
        .collect()
}

fn write(engine: &Engine, key: &str, op: LocalOp) {
    block_on(engine.write(&goal(key), op)).unwrap();
}

fn sync(engine: &Engine) {
    block_on(engine.sync_round()).unwrap();
}

#[test]
fn two_devices_sync_creates_updates_and_deletes() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a", "t1");
    let b = device(&server, clock.clone(), "b", "t1");
    write(
        &a,
        "g1",
        LocalOp::Create(rec(json!({"id": "g1", "userId": "u1", "title": "run"}))),
    );
    sync(&a);
    let stored = server.doc("goals", "\"g1\"").expect("g1 on the server");
    assert_eq!(stored.fields["_rev"], json!(1));
    assert_eq!(stored.fields["title"], json!("run"));
    clock.advance(1_000);
    sync(&b);
    assert_eq!(title(&b, "g1"), Some(json!("run")));
    assert_eq!(
        local(&b, "g1").unwrap().get("_rev"),
        None,
        "bookkeeping stays out"
    );

    clock.advance(1_000);
    write(&b, "g1", LocalOp::Update(rec(json!({"title": "run 5k"}))));
    sync(&b);
    let stored = server.doc("goals", "\"g1\"").unwrap();
    assert_eq!(
        stored.fields["_rev"],
        json!(2),
        "_rev is the base version + 1"
    );
    assert_eq!(
        stored.fields["userId"],
        json!("u1"),
        "an update is stamped with its owner"
    );
    clock.advance(1_000);
    sync(&a);
    assert_eq!(title(&a, "g1"), Some(json!("run 5k")));

    clock.advance(1_000);
    write(&a, "g1", LocalOp::Delete);
    sync(&a);
    assert_eq!(
        server.doc("goals", "\"g1\"").unwrap().fields["_deleted"],
        json!(true)
    );
    clock.advance(1_000);
    sync(&b);
    assert_eq!(local(&b, "g1"), None, "the delete reached the other device");
    assert_eq!(local(&a, "g1"), None);
}

#[test]
fn a_write_committed_inside_the_overlap_is_pulled_once_and_not_lost() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a", "t1");
    write(
        &a,
        "g1",
        LocalOp::Create(rec(json!({"userId": "u1", "title": "one"}))),
    );
    sync(&a);
    // B's push goes through a function instance whose clock lags 5 s: its record's
    // `updatedAt` is before the `timestamp` A's last pull stored.
    let lagging = server.instance(clock.skewed(-5_000));
    let b = device(&lagging, clock.clone(), "b", "t1");
    clock.advance(2_000);
    sync(&a);
    let a_cursor = cursor(&a).since;
    clock.advance(1_000);
    write(
        &b,
        "g2",
        LocalOp::Create(rec(json!({"userId": "u1", "title": "two"}))),
    );
    sync(&b);
    assert!(server.doc("goals", "\"g2\"").unwrap().updated_at < a_cursor);

    clock.advance(1_000);
    let report = block_on(a.sync_round()).unwrap();
    assert_eq!(title(&a, "g2"), Some(json!("two")), "not lost");
    assert_eq!(report.pulled, 1, "only g2 is new");
    // Not applied twice: the overlap brings g1 and g2 back at the versions the cursor
    // saw (`_rev` 1 at their `updatedAt`), and the adapter leaves both out of the page.
    let seen = cursor(&a).seen;
    for key in ["g1", "g2"] {
        let at = server
            .doc("goals", &format!("\"{key}\""))
            .unwrap()
            .updated_at;
        let entry = ("goals".into(), format!("\"{key}\""), version_of(1, at));
        assert!(seen.contains(&entry), "{key}: {seen:?}");
    }
    let adapter = PushPull::new(config());
    let again = server.handle(&HttpRequest {
        method: HttpMethod::Get,
        path: format!("{BASE}/sync/pull?since={}", cursor(&a).since - 60_000),
        headers: vec![("Authorization".into(), "Bearer t1".into())],
        body: None,
    });
    let request = idb_sync_core::protocol::PullRequest {
        protocol_version: 1,
        client_id: "a".into(),
        account: None,
        cursor: Some(cursor(&a).encode()),
        limit: None,
        omit_own_through: None,
    };
    let page = adapter.pull_answer(&request, &again).unwrap();
    let page: Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(
        page["changes"],
        json!([]),
        "repeats of the overlap are left out"
    );
}

#[test]
fn the_cursor_is_the_servers_timestamp_whatever_the_client_clock_says() {
    let (server, clock) = world();
    let slow = device(&server, clock.skewed(-5 * HOUR), "slow", "t1");
    let fast = device(&server, clock.skewed(5 * HOUR), "fast", "t1");
    sync(&fast);
    assert_eq!(
        cursor(&fast).since,
        clock.true_now(),
        "the server's timestamp"
    );
    clock.advance(60_000);
    write(
        &slow,
        "g1",
        LocalOp::Create(rec(json!({"userId": "u1", "title": "late"}))),
    );
    sync(&slow);
    clock.advance(120_000);
    sync(&fast);
    assert_eq!(
        title(&fast, "g1"),
        Some(json!("late")),
        "a clock 5 h ahead misses nothing"
    );
    let sinces = pull_sinces(&fast);
    assert_eq!(sinces[0], 0);
    assert_eq!(
        sinces[1],
        clock.true_now() - 120_000 - 60_000 - 60_000,
        "server time - overlap"
    );
    assert_eq!(cursor(&slow).since, clock.true_now() - 120_000);
}

#[test]
fn a_push_whose_answer_was_lost_is_resent_and_converges() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a", "t1");
    let b = device(&server, clock.clone(), "b", "t1");
    write(
        &a,
        "g1",
        LocalOp::Create(rec(json!({"userId": "u1", "title": "once"}))),
    );
    a.transport().http.lose_next_push_answer.set(true);
    assert!(
        block_on(a.sync_round()).is_err(),
        "no answer: the round fails"
    );
    assert_eq!(
        server.doc("goals", "\"g1\"").unwrap().fields["_rev"],
        json!(1)
    );
    clock.advance(10_000);
    sync(&a);
    let stored = server.doc("goals", "\"g1\"").unwrap();
    assert_eq!(
        stored.fields["_rev"],
        json!(1),
        "the resend upserted the same _rev"
    );
    assert_eq!(block_on(a.storage().outbox_len()).unwrap(), 0);
    clock.advance(1_000);
    sync(&b);
    assert_eq!(title(&b, "g1"), Some(json!("once")));
    write(&b, "g1", LocalOp::Update(rec(json!({"title": "twice"}))));
    sync(&b);
    assert_eq!(
        server.doc("goals", "\"g1\"").unwrap().fields["_rev"],
        json!(2)
    );
}

#[test]
fn what_the_server_skips_is_parked_and_the_queue_flows() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a", "t1");
    // `notes` is a table the seed does not sync; `g2` belongs to another user.
    write(
        &a,
        "g1",
        LocalOp::Create(rec(json!({"userId": "u1", "title": "mine"}))),
    );
    block_on(a.write(
        &RecordId::new("notes", "n1"),
        LocalOp::Create(rec(json!({"t": 1}))),
    ))
    .unwrap();
    write(
        &a,
        "g2",
        LocalOp::Create(rec(json!({"userId": "u2", "title": "theirs"}))),
    );
    write(
        &a,
        "g3",
        LocalOp::Create(rec(json!({"userId": "u1", "title": "also mine"}))),
    );
    sync(&a);
    assert!(server.doc("goals", "\"g1\"").is_some());
    assert!(server.doc("goals", "\"g3\"").is_some());
    assert!(server.doc("goals", "\"g2\"").is_none());
    let parked: Vec<String> = block_on(a.storage().dead_letters())
        .unwrap()
        .iter()
        .map(|d| format!("{}:{}", d.record.table, d.code))
        .collect();
    assert_eq!(parked, vec!["notes:not_accepted", "goals:not_accepted"]);
    assert_eq!(block_on(a.storage().outbox_len()).unwrap(), 0);
}

#[test]
fn a_bad_token_is_a_401_and_touches_nothing() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a", "nope");
    write(&a, "g1", LocalOp::Create(rec(json!({"userId": "u1"}))));
    let error = block_on(a.sync_round()).unwrap_err();
    assert!(matches!(error, SyncError::Unauthorized { .. }), "{error:?}");
    assert!(server.doc("goals", "\"g1\"").is_none());
    assert_eq!(
        block_on(a.storage().outbox_len()).unwrap(),
        1,
        "kept for later"
    );
}

#[test]
fn an_unreadable_cursor_pulls_everything_again() {
    let garbage = Cursor("not json".into());
    assert_eq!(
        PushPullCursor::decode(Some(&garbage)),
        PushPullCursor::default()
    );
    assert_eq!(PushPullCursor::decode(None).since, 0);
}

#[test]
fn a_push_names_keys_revs_owner_and_tables_as_the_server_does() {
    use idb_sync_core::protocol::{MergeMode, Mutation, PushRequest};
    use idb_sync_core::Op;
    let adapter = PushPull::new(PushPullConfig {
        tables: vec![("tasks".to_string(), "goals".to_string())],
        user_id: Some("u1".into()),
        ..PushPullConfig::default()
    });
    let request = PushRequest {
        protocol_version: 1,
        client_id: "c".into(),
        account: None,
        mutations: vec![Mutation {
            seq: 7,
            table: "tasks".into(),
            key: 5_i64.into(),
            op: Op::Update {
                patch: rec(json!({"title": "x"})),
            },
            base_version: version_of(3, 50_000),
            hlc: idb_sync_core::hlc::Hlc {
                millis: 1,
                counter: 0,
                node: "c".into(),
            },
            mode: MergeMode::FieldMerge,
        }],
    };
    let http = adapter.push_http(&request);
    assert_eq!(
        (http.method, http.path.as_str()),
        (HttpMethod::Post, "/sync/push")
    );
    let body: Value = serde_json::from_str(http.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"goals": [{"title": "x", "id": 5, "_id": 5, "_rev": 3, "userId": "u1", "_deleted": false}]})
    );
    let answer = HttpResponse {
        status: 200,
        retry_after_ms: None,
        body: json!({"success": true, "goals": {"5": {"rev": 4, "success": true}},
            "activities": {}, "timestamp": 99_000})
        .to_string(),
    };
    let v1: Value =
        serde_json::from_str(&adapter.push_answer(&request, &answer).unwrap().body).unwrap();
    assert_eq!(
        v1["results"],
        json!([{"status": "applied", "seq": 7, "version": version_of(4, 99_000),
            "previousVersion": version_of(3, 50_000)}])
    );
    assert_eq!(v1["serverTime"], json!(99_000));
    assert_eq!(rev_of(version_of(4, 99_000)), 4);
}

#[test]
fn a_database_of_one_user_does_not_sync_as_another() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a", "t1");
    write(
        &a,
        "g1",
        LocalOp::Create(rec(json!({"userId": "u1", "title": "mine"}))),
    );
    sync(&a);
    write(
        &a,
        "g2",
        LocalOp::Create(rec(json!({"userId": "u1", "title": "offline"}))),
    );
    // The same database, now signed in as u2.
    let transport = AdapterTransport {
        http: Device {
            server: server.clone(),
            token: "t2".into(),
            lose_next_push_answer: Cell::new(false),
            drop_next_push: Cell::new(false),
            paths: RefCell::new(Vec::new()),
        },
        adapter: PushPull::new(PushPullConfig {
            user_id: Some("u2".into()),
            ..config()
        }),
    };
    let as_u2 = SyncEngine::new(
        a.storage().clone(),
        transport,
        clock,
        EngineConfig::default(),
    );
    let error = block_on(as_u2.sync_round()).unwrap_err();
    assert!(matches!(error, SyncError::AccountChanged(_)), "{error:?}");
    assert!(
        server.doc("goals", "\"g2\"").is_none(),
        "nothing pushed as u2"
    );
}

#[test]
fn two_documents_with_one_key_make_one_change_at_the_highest_rev() {
    let adapter = PushPull::new(PushPullConfig::default());
    let answer = HttpResponse {
        status: 200,
        retry_after_ms: None,
        body: json!({ "goals": [
            { "_id": "5", "id": 5, "_rev": 3, "t": "new", "updatedAt": "2027-01-15T08:00:00.000Z" },
            { "_id": "65a0", "id": 5, "_rev": 2, "t": "old", "updatedAt": "2027-01-15T09:00:00.000Z" },
            { "_id": "6", "_rev": 1, "_deleted": true },
        ], "activities": [], "timestamp": 1_000 })
        .to_string(),
    };
    let request = idb_sync_core::protocol::PullRequest {
        protocol_version: 1,
        client_id: "c".into(),
        account: None,
        cursor: None,
        limit: None,
        omit_own_through: None,
    };
    let page = adapter.pull_answer(&request, &answer).unwrap();
    let page = idb_sync_core::protocol::decode_pull_response(&page.body).unwrap();
    let idb_sync_core::protocol::PullResponse::Ok(page) = page else {
        panic!("not a page")
    };
    // A higher `_rev` wins over a later write.
    let at_8 = parse_iso_ms("2027-01-15T08:00:00.000Z").unwrap();
    let changes: Vec<_> = page
        .changes
        .iter()
        .map(|c| (c.key.to_string(), c.version, c.deleted, c.data.clone()))
        .collect();
    assert_eq!(
        changes,
        vec![
            (
                "5".into(),
                version_of(3, at_8),
                false,
                Some(rec(
                    json!({ "id": 5, "t": "new", "updatedAt": "2027-01-15T08:00:00.000Z" })
                ))
            ),
            ("\"6\"".into(), version_of(1, 0), true, None),
        ]
    );
    assert_eq!(
        page.cursor,
        PushPullCursor {
            since: 1_000,
            seen: vec![
                ("goals".into(), "5".into(), version_of(3, at_8)),
                ("goals".into(), "5".into(), version_of(2, at_8 + 3_600_000)),
                ("goals".into(), "\"6\"".into(), version_of(1, 0)),
            ]
        }
        .encode()
    );
}

#[test]
fn two_devices_writing_from_one_rev_end_with_what_the_server_kept() {
    // B's push is lost on the way, so B's next round resends it (in-flight changes go
    // first, before any pull) from `_rev` 1 after A already pushed from `_rev` 1: the
    // seed gives both `_rev` 2 and keeps the later. A's copy is the same `_rev` at an
    // earlier server time, so A takes what the server kept.
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a", "t1");
    let b = device(&server, clock.clone(), "b", "t1");
    write(
        &a,
        "g1",
        LocalOp::Create(rec(json!({"userId": "u1", "title": "start"}))),
    );
    sync(&a);
    clock.advance(1_000);
    sync(&b);
    write(&a, "g1", LocalOp::Update(rec(json!({"title": "from a"}))));
    write(&b, "g1", LocalOp::Update(rec(json!({"title": "from b"}))));
    b.transport().http.drop_next_push.set(true);
    assert!(block_on(b.sync_round()).is_err(), "the push was lost");
    clock.advance(1_000);
    sync(&a);
    clock.advance(2_000);
    sync(&b);
    let stored = server.doc("goals", "\"g1\"").unwrap();
    assert_eq!(stored.fields["_rev"], json!(2), "both pushed from _rev 1");
    assert_eq!(
        stored.fields["title"],
        json!("from b"),
        "the last push wins"
    );
    clock.advance(1_000);
    sync(&a);
    sync(&b);
    assert_eq!(
        title(&a, "g1"),
        Some(json!("from b")),
        "a takes what the server kept"
    );
    assert_eq!(title(&b, "g1"), Some(json!("from b")));
}

#[test]
fn a_write_to_a_record_another_device_deleted_is_live_on_the_server_as_on_the_device() {
    // The seed `$set`s fields: without `_deleted: false`, B's update would leave the
    // document deleted on the server while B shows it, and the other devices never
    // see B's edit.
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a", "t1");
    let b = device(&server, clock.clone(), "b", "t1");
    write(
        &a,
        "g1",
        LocalOp::Create(rec(json!({"userId": "u1", "title": "start"}))),
    );
    sync(&a);
    clock.advance(1_000);
    sync(&b);
    write(
        &b,
        "g1",
        LocalOp::Update(rec(json!({"title": "kept by b"}))),
    );
    b.transport().http.drop_next_push.set(true);
    assert!(block_on(b.sync_round()).is_err(), "b's push is lost");
    clock.advance(1_000);
    write(&a, "g1", LocalOp::Delete);
    sync(&a);
    clock.advance(1_000);
    // B's resend goes first (from _rev 1, as A's delete did), then B pulls.
    sync(&b);
    let stored = server.doc("goals", "\"g1\"").unwrap();
    assert_eq!(
        stored.fields["_deleted"],
        json!(false),
        "live again on the server"
    );
    assert_eq!(stored.fields["title"], json!("kept by b"));
    clock.advance(1_000);
    sync(&a);
    sync(&b);
    assert_eq!(title(&a, "g1"), Some(json!("kept by b")), "a sees b's edit");
    assert_eq!(title(&b, "g1"), Some(json!("kept by b")));
}
