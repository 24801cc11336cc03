//! I9 "no mutation blocks another": a mutation that makes every push of its batch fail
//! is isolated and dead-lettered while the rest of the queue flows; a server that is
//! down dead-letters nothing. Also the other ways a queue or a pull could stall: a
//! request refused as a whole (rolled back like a rejected mutation, one rule), and a
//! cursor the server no longer knows (`bad_cursor`).

use std::cell::Cell;

use idb_sync_core::engine::{EngineConfig, SyncEngine, POISON_CODE, STRIKES};
use idb_sync_core::memory::{
    block_on, LoopbackTransport, ManualClock, MemoryServer, MemoryStorage,
};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::ports::{Storage, Transport, TransportRequest, TransportResponse};
use idb_sync_core::protocol::{Cursor, Endpoint};
use idb_sync_core::server::{BasicValidator, ServerConfig};
use idb_sync_core::{Record, RecordId, SyncError};
use serde_json::json;

fn rec(v: serde_json::Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

/// How the server in front of the real rules misbehaves.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// Answers every request.
    Healthy,
    /// Answers 500 to any push containing the text `poison` (as PostgreSQL once
    /// refused a key with U+0000), like a database error for the whole batch.
    FailsPoison,
    /// Answers every push, even an empty one, with this status while pulls still
    /// work (a database that cannot write, a broken push path): the worst case, where
    /// failing pushes must still not be blamed on a mutation.
    PushesFail(u16),
    /// The network is gone.
    Offline,
}

/// The real server rules behind a switchable fault, counting the push requests.
struct Faulty {
    inner: LoopbackTransport<ManualClock>,
    mode: Cell<Mode>,
    /// Body size over which a push is answered 413 (the HTTP body limit).
    body_limit: usize,
    pushes: Cell<usize>,
}

fn error(status: u16, code: &str) -> TransportResponse {
    TransportResponse {
        status,
        retry_after_ms: None,
        body: json!({ "error": { "code": code, "message": "test" } }).to_string(),
    }
}

impl Transport for Faulty {
    async fn send(&self, request: TransportRequest) -> Result<TransportResponse, SyncError> {
        let push = request.endpoint == Endpoint::Push;
        if push {
            self.pushes.set(self.pushes.get() + 1);
        }
        match self.mode.get() {
            Mode::Offline => return Err(SyncError::Network("offline".into())),
            Mode::PushesFail(status) if push => return Ok(error(status, "internal")),
            Mode::FailsPoison if push && request.body.contains("poison") => {
                return Ok(error(500, "internal"))
            }
            _ => {}
        }
        if push && request.body.len() > self.body_limit {
            return Ok(error(413, "payload_too_large"));
        }
        self.inner.send(request).await
    }
}

type Engine = SyncEngine<MemoryStorage, Faulty, ManualClock>;

fn device(
    server: &MemoryServer,
    clock: &ManualClock,
    id: &str,
    max_record_bytes: usize,
    body_limit: usize,
) -> Engine {
    let inner = LoopbackTransport {
        server: server.clone(),
        user: "u".into(),
        config: ServerConfig::default(),
        validator: BasicValidator { max_record_bytes },
        clock: clock.clone(),
    };
    let transport = Faulty {
        inner,
        mode: Cell::new(Mode::Healthy),
        body_limit,
        pushes: Cell::new(0),
    };
    SyncEngine::new(
        MemoryStorage::new(id),
        transport,
        clock.clone(),
        EngineConfig::default(),
    )
}

fn key(k: &str) -> RecordId {
    RecordId::new("tasks", k)
}

fn server_keys(server: &MemoryServer) -> Vec<String> {
    let user = server.user("u");
    user.records
        .iter()
        .filter(|(_, r)| r.data.is_some())
        .map(|((_, k), _)| k.to_string())
        .collect()
}

/// Runs rounds until one succeeds (at most `max`); returns how many rounds failed.
fn rounds_until_ok(e: &Engine, max: usize) -> usize {
    for failed in 0..max {
        if block_on(e.sync_round()).is_ok() {
            return failed;
        }
    }
    panic!("no round succeeded in {max} rounds");
}

/// Five creates, the third carrying the poison.
fn write_five_with_poison(e: &Engine) {
    for k in ["a", "b", "poison", "c", "d"] {
        block_on(e.write(&key(k), LocalOp::Create(rec(json!({ "title": k }))))).unwrap();
    }
}

#[test]
fn a_mutation_that_fails_every_push_is_dead_lettered_and_the_rest_of_the_queue_flows() {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_000);
    let e = device(&server, &clock, "a", 1 << 20, usize::MAX);
    e_mode(&e, Mode::FailsPoison);
    write_five_with_poison(&e);

    // A failing batch is first retried as it is: one failure is not a verdict.
    for _ in 0..STRIKES - 1 {
        assert_eq!(block_on(e.sync_round()).unwrap_err().code(), "server_error");
        assert!(block_on(e.storage().dead_letters()).unwrap().is_empty());
        assert!(server_keys(&server).is_empty());
    }
    let failed = rounds_until_ok(&e, 20);
    assert!(
        failed <= 2 * STRIKES as usize,
        "isolated in {failed} more failed rounds"
    );

    let mut keys = server_keys(&server);
    keys.sort();
    assert_eq!(
        keys,
        ["\"a\"", "\"b\"", "\"c\"", "\"d\""],
        "every other mutation reached the server"
    );
    let dead = block_on(e.storage().dead_letters()).unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].record, key("poison"));
    assert_eq!(dead[0].code, POISON_CODE);
    assert!(dead[0].reason.contains("rolled back"), "{}", dead[0].reason);
    assert_eq!(block_on(e.storage().outbox_len()).unwrap(), 0);
    assert_eq!(
        block_on(e.storage().read_state(&key("poison")))
            .unwrap()
            .value,
        None,
        "rolled back: the server never had it"
    );

    // Later writes flow at once.
    block_on(e.write(&key("e"), LocalOp::Create(rec(json!({ "title": "e" }))))).unwrap();
    block_on(e.sync_round()).unwrap();
    assert!(server_keys(&server).contains(&"\"e\"".to_owned()));
}

fn e_mode(e: &Engine, mode: Mode) {
    transport(e).mode.set(mode);
}

fn transport(e: &Engine) -> &Faulty {
    e.transport()
}

#[test]
fn a_server_that_is_down_dead_letters_nothing_and_everything_goes_once_it_is_back() {
    for outage in [
        Mode::PushesFail(500),
        Mode::PushesFail(503),
        Mode::PushesFail(502),
        Mode::Offline,
    ] {
        let server = MemoryServer::new();
        let clock = ManualClock::new(1_000);
        let e = device(&server, &clock, "a", 1 << 20, usize::MAX);
        write_five_with_poison(&e);
        e_mode(&e, outage);
        for _ in 0..10 * STRIKES {
            assert!(block_on(e.sync_round()).is_err());
        }
        assert!(
            block_on(e.storage().dead_letters()).unwrap().is_empty(),
            "{outage:?} dead-lettered a mutation"
        );
        assert_eq!(block_on(e.storage().outbox_len()).unwrap(), 5, "{outage:?}");
        e_mode(&e, Mode::Healthy);
        block_on(e.sync_round()).unwrap();
        assert_eq!(
            server_keys(&server).len(),
            5,
            "{outage:?}: all five arrive after the outage"
        );
        assert_eq!(block_on(e.storage().outbox_len()).unwrap(), 0);
    }
}

#[test]
fn two_failures_of_a_batch_in_a_row_dead_letter_nothing() {
    // The batch fails twice while the server answers everything else (a hiccup that
    // happened to hit this batch): that is no proof against any of its mutations.
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_000);
    let e = device(&server, &clock, "a", 1 << 20, usize::MAX);
    write_five_with_poison(&e);
    e_mode(&e, Mode::FailsPoison);
    for _ in 0..2 {
        assert!(block_on(e.sync_round()).is_err());
    }
    e_mode(&e, Mode::Healthy);
    block_on(e.sync_round()).unwrap();
    assert!(block_on(e.storage().dead_letters()).unwrap().is_empty());
    assert_eq!(server_keys(&server).len(), 5);
}

#[test]
fn a_poison_mutation_is_kept_while_the_server_fails_the_probe_too() {
    // The batch fails often enough to isolate the poison, but then the whole server
    // goes down: the single mutation must not be dead-lettered on that evidence.
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_000);
    let e = device(&server, &clock, "a", 1 << 20, usize::MAX);
    block_on(e.write(
        &key("poison"),
        LocalOp::Create(rec(json!({ "title": "p" }))),
    ))
    .unwrap();
    e_mode(&e, Mode::PushesFail(500));
    for _ in 0..5 * STRIKES {
        assert!(block_on(e.sync_round()).is_err());
    }
    assert!(block_on(e.storage().dead_letters()).unwrap().is_empty());
    assert_eq!(block_on(e.storage().outbox_len()).unwrap(), 1);
    // The server comes back but still fails this mutation: now it is isolated.
    e_mode(&e, Mode::FailsPoison);
    rounds_until_ok(&e, 2 * STRIKES as usize);
    let dead = block_on(e.storage().dead_letters()).unwrap();
    assert_eq!(
        dead.iter().map(|d| d.code.as_str()).collect::<Vec<_>>(),
        [POISON_CODE]
    );
}

#[test]
fn a_request_refused_as_a_whole_is_rolled_back_like_a_rejected_mutation() {
    // One rule for every dead letter: the local change is rolled back to the server's
    // copy. A record over the server's record limit (rejected per mutation) and one
    // over its body limit (413 for the request) end the same way.
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_000);
    let e = device(&server, &clock, "a", 1_500, 5_000);
    block_on(e.write(
        &key("kept"),
        LocalOp::Create(rec(json!({ "title": "old" }))),
    ))
    .unwrap();
    block_on(e.sync_round()).unwrap();

    block_on(e.write(
        &key("rejected"),
        LocalOp::Create(rec(json!({ "text": "r".repeat(2_000) }))),
    ))
    .unwrap();
    block_on(e.write(
        &key("refused"),
        LocalOp::Create(rec(json!({ "text": "x".repeat(6_000) }))),
    ))
    .unwrap();
    block_on(e.write(
        &key("kept"),
        LocalOp::Update(rec(json!({ "title": "y".repeat(6_000) }))),
    ))
    .unwrap();
    let report = block_on(e.sync_round()).unwrap();
    assert_eq!(report.rejected, 3, "{report:?}");

    let value = |k: &str| block_on(e.storage().read_state(&key(k))).unwrap().value;
    assert_eq!(
        value("rejected"),
        None,
        "rejected by the server: rolled back"
    );
    assert_eq!(
        value("refused"),
        None,
        "refused as a request: rolled back the same way"
    );
    assert_eq!(
        value("kept"),
        Some(rec(json!({ "title": "old" }))),
        "the server's copy is back"
    );
    let dead = block_on(e.storage().dead_letters()).unwrap();
    let mut codes: Vec<_> = dead
        .iter()
        .map(|d| (d.record.key.to_string(), d.code.clone()))
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            ("\"kept\"".to_owned(), "payload_too_large".to_owned()),
            ("\"refused\"".to_owned(), "payload_too_large".to_owned()),
            ("\"rejected\"".to_owned(), "record_too_large".to_owned()),
        ]
    );
    assert!(dead
        .iter()
        .filter(|d| d.code == "payload_too_large")
        .all(|d| d.reason.contains("rolled back")));
    // Nothing is left to send, and the next round is quiet.
    assert_eq!(block_on(e.storage().outbox_len()).unwrap(), 0);
    let next = block_on(e.sync_round()).unwrap();
    assert_eq!((next.sent, next.rejected), (0, 0));
}

#[test]
fn a_cursor_the_server_does_not_know_is_dropped_and_the_pull_starts_over() {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_000);
    let writer = device(&server, &clock, "w", 1 << 20, usize::MAX);
    let reader = device(&server, &clock, "r", 1 << 20, usize::MAX);
    block_on(writer.write(&key("a"), LocalOp::Create(rec(json!({ "title": "a" }))))).unwrap();
    block_on(writer.sync_round()).unwrap();
    block_on(reader.sync_round()).unwrap();
    // The reader's cursor becomes one the server never issued (a server migrated to
    // another cursor format, a restored backup of another server...).
    block_on(reader.storage().transact(&[], |tx| {
        tx.meta()?.cursor = Some(Cursor("from-another-server".into()));
        Ok(())
    }))
    .unwrap();
    block_on(reader.write(
        &key("local"),
        LocalOp::Create(rec(json!({ "title": "mine" }))),
    ))
    .unwrap();
    block_on(writer.write(&key("b"), LocalOp::Create(rec(json!({ "title": "b" }))))).unwrap();
    block_on(writer.sync_round()).unwrap();

    let report = block_on(reader.sync_round()).expect("a bad cursor does not fail the round");
    assert_eq!(report.resets, 1);
    let records = reader.storage().records();
    assert_eq!(records.len(), 3, "{records:?}");
    assert_eq!(records.get(&key("b")), Some(&rec(json!({ "title": "b" }))));
    assert_eq!(
        server_keys(&server).len(),
        3,
        "the local change was kept and pushed"
    );
    let cursor = block_on(reader.storage().read_meta())
        .unwrap()
        .cursor
        .unwrap();
    assert!(
        cursor.0.starts_with("c1."),
        "a cursor the server issued: {cursor:?}"
    );
}
