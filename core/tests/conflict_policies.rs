//! One test per conflict policy, plus rejected mutations (I6), malformed answers and
//! resets, with two real engines against the real server rules in memory.

use idb_sync_core::conflict::{
    ConflictPolicy, ConflictResolver, ManualChoice, NoResolver, PolicyConfig, ResolverContext,
    ResolverFailed,
};
use idb_sync_core::engine::{self, EngineConfig, SyncEngine};
use idb_sync_core::memory::{
    block_on, LoopbackTransport, ManualClock, MemoryServer, MemoryStorage,
};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::ports::{Storage, Transport, TransportRequest, TransportResponse};
use idb_sync_core::server::{BasicValidator, ServerConfig};
use idb_sync_core::{Record, RecordId, SyncError};
use serde_json::json;

fn rec(v: serde_json::Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

type Engine<R = NoResolver> =
    SyncEngine<MemoryStorage, LoopbackTransport<ManualClock>, ManualClock, R>;

fn device_with<R: ConflictResolver>(
    server: &MemoryServer,
    clock: &ManualClock,
    id: &str,
    policy: ConflictPolicy,
    resolver: R,
) -> Engine<R> {
    let transport = LoopbackTransport {
        server: server.clone(),
        user: "u".into(),
        config: ServerConfig::default(),
        validator: BasicValidator {
            max_record_bytes: 200,
        },
        clock: clock.clone(),
    };
    let config = EngineConfig {
        policies: PolicyConfig::uniform(policy),
        ..EngineConfig::default()
    };
    SyncEngine::with_resolver(
        MemoryStorage::new(id),
        transport,
        clock.clone(),
        config,
        resolver,
    )
}

fn device(server: &MemoryServer, clock: &ManualClock, id: &str, policy: ConflictPolicy) -> Engine {
    device_with(server, clock, id, policy, NoResolver)
}

fn id() -> RecordId {
    RecordId::new("tasks", "t1")
}

/// Both devices have the record `{title: "a", done: false}` synced.
fn two_devices(policy: ConflictPolicy) -> (MemoryServer, ManualClock, Engine, Engine) {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_000_000);
    let a = device(&server, &clock, "a", policy);
    let b = device(&server, &clock, "b", policy);
    block_on(a.write(
        &id(),
        LocalOp::Create(rec(json!({"title": "a", "done": false}))),
    ))
    .unwrap();
    block_on(a.sync_round()).unwrap();
    block_on(b.sync_round()).unwrap();
    (server, clock, a, b)
}

fn value(e: &Engine<impl ConflictResolver>) -> Option<Record> {
    block_on(e.storage().read_state(&id())).unwrap().value
}

fn server_value(server: &MemoryServer) -> Option<Record> {
    server
        .user("u")
        .records
        .get(&("tasks".to_owned(), "t1".into()))
        .and_then(|r| r.data.clone())
}

fn converge(a: &Engine<impl ConflictResolver>, b: &Engine<impl ConflictResolver>) {
    for _ in 0..3 {
        block_on(a.sync_round()).unwrap();
        block_on(b.sync_round()).unwrap();
    }
}

#[test]
fn field_merge_keeps_non_overlapping_fields_from_both_sides() {
    let (server, _clock, a, b) = two_devices(ConflictPolicy::FieldMerge);
    block_on(a.write(&id(), LocalOp::Update(rec(json!({"title": "from a"}))))).unwrap();
    block_on(b.write(&id(), LocalOp::Update(rec(json!({"done": true}))))).unwrap();
    converge(&a, &b);
    let expected = Some(rec(json!({"title": "from a", "done": true})));
    assert_eq!(server_value(&server), expected);
    assert_eq!(value(&a), expected);
    assert_eq!(value(&b), expected);
}

#[test]
fn field_merge_overlapping_field_goes_to_the_write_the_server_applies_last() {
    let (server, _clock, a, b) = two_devices(ConflictPolicy::FieldMerge);
    block_on(a.write(&id(), LocalOp::Update(rec(json!({"title": "from a"}))))).unwrap();
    block_on(b.write(&id(), LocalOp::Update(rec(json!({"title": "from b"}))))).unwrap();
    block_on(a.sync_round()).unwrap();
    converge(&b, &a);
    assert_eq!(server_value(&server).unwrap()["title"], json!("from b"));
    assert_eq!(value(&a), server_value(&server));
}

#[test]
fn field_merge_delete_beats_a_concurrent_field_update_and_logs_the_lost_update() {
    let (server, _clock, a, b) = two_devices(ConflictPolicy::FieldMerge);
    block_on(a.write(&id(), LocalOp::Delete)).unwrap();
    block_on(a.sync_round()).unwrap();
    block_on(b.write(&id(), LocalOp::Update(rec(json!({"done": true}))))).unwrap();
    converge(&b, &a);
    assert_eq!(server_value(&server), None);
    assert_eq!(value(&b), None);
    let log = block_on(b.storage().conflict_log()).unwrap();
    assert_eq!(log.len(), 1);
    assert!(log[0].outcome.contains("deleted"), "{:?}", log[0]);
}

#[test]
fn server_wins_drops_the_local_change_and_logs_it() {
    let (server, _clock, a, b) = two_devices(ConflictPolicy::ServerWins);
    block_on(a.write(&id(), LocalOp::Update(rec(json!({"title": "from a"}))))).unwrap();
    block_on(a.sync_round()).unwrap();
    block_on(b.write(
        &id(),
        LocalOp::Update(rec(json!({"title": "from b", "done": true}))),
    ))
    .unwrap();
    converge(&b, &a);
    assert_eq!(
        server_value(&server),
        Some(rec(json!({"title": "from a", "done": false})))
    );
    assert_eq!(value(&b), server_value(&server));
    let log = block_on(b.storage().conflict_log()).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        log[0].local,
        Some(rec(json!({"title": "from b", "done": true})))
    );
}

#[test]
fn server_wins_at_push_time_logs_the_conflicted_seq() {
    let (server, _clock, a, b) = two_devices(ConflictPolicy::ServerWins);
    block_on(b.write(&id(), LocalOp::Update(rec(json!({"title": "from b"}))))).unwrap();
    // b takes its batch before a's change lands: the conflict is found by the server.
    let batch = block_on(b.storage().take_batch(&Default::default(), &|_| {
        idb_sync_core::protocol::MergeMode::Strict
    }))
    .unwrap();
    assert_eq!(batch.len(), 1);
    block_on(a.write(&id(), LocalOp::Update(rec(json!({"title": "from a"}))))).unwrap();
    block_on(a.sync_round()).unwrap();
    converge(&b, &a);
    assert_eq!(server_value(&server).unwrap()["title"], json!("from a"));
    let log = block_on(b.storage().conflict_log()).unwrap();
    assert_eq!(log[0].seqs, vec![batch[0].seq]);
}

#[test]
fn client_wins_overwrites_the_server_record() {
    let (server, _clock, a, b) = two_devices(ConflictPolicy::ClientWins);
    block_on(a.write(
        &id(),
        LocalOp::Update(rec(json!({"title": "from a", "extra": 1}))),
    ))
    .unwrap();
    block_on(a.sync_round()).unwrap();
    block_on(b.write(&id(), LocalOp::Update(rec(json!({"done": true}))))).unwrap();
    converge(&b, &a);
    assert_eq!(
        server_value(&server),
        Some(rec(json!({"title": "a", "done": true})))
    );
    assert_eq!(value(&a), server_value(&server));
}

#[test]
fn last_write_wins_is_decided_by_corrected_clock_not_by_a_skewed_device_clock() {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_000_000_000);
    let ahead = device(
        &server,
        &clock.skewed(3_600_000),
        "ahead",
        ConflictPolicy::LastWriteWins,
    );
    let honest = device(&server, &clock, "honest", ConflictPolicy::LastWriteWins);
    block_on(ahead.write(&id(), LocalOp::Create(rec(json!({"title": "v0"}))))).unwrap();
    block_on(ahead.sync_round()).unwrap(); // measures its offset (-1h)
    block_on(honest.sync_round()).unwrap();
    // The device whose clock is an hour ahead writes first ...
    block_on(ahead.write(&id(), LocalOp::Update(rec(json!({"title": "earlier"}))))).unwrap();
    clock.advance(10_000);
    // ... the honest device writes 10 s later, and pushes first.
    block_on(honest.write(&id(), LocalOp::Update(rec(json!({"title": "later"}))))).unwrap();
    block_on(honest.sync_round()).unwrap();
    converge(&ahead, &honest);
    assert_eq!(server_value(&server).unwrap()["title"], json!("later"));
    assert_eq!(value(&ahead).unwrap()["title"], json!("later"));
}

#[test]
fn manual_conflict_is_kept_until_the_app_keeps_local() {
    let (server, clock, a, b) = two_devices(ConflictPolicy::Manual);
    block_on(a.write(&id(), LocalOp::Update(rec(json!({"title": "from a"}))))).unwrap();
    block_on(a.sync_round()).unwrap();
    block_on(b.write(&id(), LocalOp::Update(rec(json!({"title": "from b"}))))).unwrap();
    converge(&b, &a);
    assert_eq!(block_on(b.storage().conflict_keys()).unwrap(), vec![id()]);
    assert_eq!(
        server_value(&server).unwrap()["title"],
        json!("from a"),
        "nothing decided yet"
    );
    block_on(engine::resolve_conflict(
        b.storage(),
        &clock,
        &id(),
        ManualChoice::KeepLocal,
    ))
    .unwrap();
    converge(&b, &a);
    assert_eq!(server_value(&server).unwrap()["title"], json!("from b"));
    assert!(block_on(b.storage().conflict_keys()).unwrap().is_empty());
    assert_eq!(block_on(b.storage().conflict_log()).unwrap().len(), 1);
}

#[test]
fn manual_conflict_resolved_keep_server_or_merged() {
    for (choice, expected) in [
        (
            ManualChoice::KeepServer,
            rec(json!({"title": "from a", "done": false})),
        ),
        (
            ManualChoice::Merged(Some(rec(json!({"title": "both"})))),
            rec(json!({"title": "both"})),
        ),
    ] {
        let (server, clock, a, b) = two_devices(ConflictPolicy::Manual);
        block_on(a.write(&id(), LocalOp::Update(rec(json!({"title": "from a"}))))).unwrap();
        block_on(a.sync_round()).unwrap();
        block_on(b.write(&id(), LocalOp::Update(rec(json!({"title": "from b"}))))).unwrap();
        converge(&b, &a);
        block_on(engine::resolve_conflict(b.storage(), &clock, &id(), choice)).unwrap();
        converge(&b, &a);
        assert_eq!(server_value(&server), Some(expected.clone()));
        assert_eq!(value(&a), Some(expected));
    }
}

struct Concat;
impl ConflictResolver for Concat {
    fn resolve(&self, ctx: &ResolverContext<'_>) -> Result<Option<Record>, ResolverFailed> {
        let t = |r: Option<&Record>| {
            r.and_then(|r| r.get("title"))
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_owned()
        };
        Ok(Some(rec(
            json!({"title": format!("{}+{}", t(ctx.remote), t(ctx.local))}),
        )))
    }
}

/// An app function that throws, as the browser half reports it.
struct Throws;
impl ConflictResolver for Throws {
    fn resolve(&self, _: &ResolverContext<'_>) -> Result<Option<Record>, ResolverFailed> {
        Err(ResolverFailed("threw".into()))
    }
}

#[test]
fn a_failing_resolver_never_blocks_the_key_field_merge_decides_and_the_log_says_so() {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1);
    let a = device_with(&server, &clock, "a", ConflictPolicy::Custom, Throws);
    let b = device_with(&server, &clock, "b", ConflictPolicy::Custom, Throws);
    block_on(a.write(
        &id(),
        LocalOp::Create(rec(json!({"title": "x", "done": false}))),
    ))
    .unwrap();
    converge(&a, &b);
    block_on(a.write(&id(), LocalOp::Update(rec(json!({"title": "A"}))))).unwrap();
    block_on(a.sync_round()).unwrap();
    block_on(b.write(&id(), LocalOp::Update(rec(json!({"done": true}))))).unwrap();
    converge(&b, &a);
    // Field merge: both devices' fields survive, on the server and on both devices.
    let merged = rec(json!({"title": "A", "done": true}));
    assert_eq!(server_value(&server), Some(merged.clone()));
    assert_eq!(value(&a), Some(merged.clone()));
    assert_eq!(value(&b), Some(merged));
    let log = block_on(b.storage().conflict_log()).unwrap();
    assert!(
        log.iter()
            .any(|e| e.outcome == "custom resolver failed: field merge"),
        "{log:?}"
    );
}

#[test]
fn custom_resolver_computes_the_merged_record() {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1);
    let a = device_with(&server, &clock, "a", ConflictPolicy::Custom, Concat);
    let b = device_with(&server, &clock, "b", ConflictPolicy::Custom, Concat);
    block_on(a.write(&id(), LocalOp::Create(rec(json!({"title": "x"}))))).unwrap();
    converge(&a, &b);
    block_on(a.write(&id(), LocalOp::Update(rec(json!({"title": "A"}))))).unwrap();
    block_on(a.sync_round()).unwrap();
    block_on(b.write(&id(), LocalOp::Update(rec(json!({"title": "B"}))))).unwrap();
    converge(&b, &a);
    assert_eq!(server_value(&server), Some(rec(json!({"title": "A+B"}))));
    assert_eq!(value(&a), server_value(&server));
}

#[test]
fn rejected_mutation_rolls_back_and_goes_to_dead_letters_without_blocking_the_queue() {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1);
    let a = device(&server, &clock, "a", ConflictPolicy::FieldMerge);
    let big = "x".repeat(500);
    block_on(a.write(
        &RecordId::new("tasks", "big"),
        LocalOp::Create(rec(json!({"blob": big}))),
    ))
    .unwrap();
    block_on(a.write(&id(), LocalOp::Create(rec(json!({"title": "ok"}))))).unwrap();
    let report = block_on(a.sync_round()).unwrap();
    assert_eq!(report.rejected, 1);
    assert_eq!(
        server_value(&server),
        Some(rec(json!({"title": "ok"}))),
        "the queue moved on"
    );
    assert_eq!(
        block_on(a.storage().read_state(&RecordId::new("tasks", "big")))
            .unwrap()
            .value,
        None,
        "rolled back"
    );
    let dead = block_on(a.storage().dead_letters()).unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].code, "record_too_large");
    block_on(engine::discard_dead_letter(a.storage(), dead[0].id)).unwrap();
    assert!(block_on(a.storage().dead_letters()).unwrap().is_empty());
}

/// Found by the policy oracles (simulation seed 4281): a pending change queued behind
/// an in-flight one the server rejects was based on a server version that has since
/// moved on. It must meet the newer server record through the conflict policy (I5),
/// not be pushed blindly over it.
#[test]
fn a_pending_change_behind_a_rejected_one_goes_through_the_policy_when_the_server_moved() {
    let (server, clock, a, b) = two_devices(ConflictPolicy::LastWriteWins);
    // A's first change is too large for the server: it will be rejected. It is sent
    // (in flight) but its answer never arrives.
    block_on(a.write(
        &id(),
        LocalOp::Update(rec(json!({"blob": "x".repeat(500)}))),
    ))
    .unwrap();
    let mode = |_: &str| idb_sync_core::protocol::MergeMode::Strict;
    let limits = idb_sync_core::outbox::BatchLimits::default();
    assert_eq!(
        block_on(a.storage().take_batch(&limits, &mode))
            .unwrap()
            .len(),
        1
    );
    // A then edits the title (pending, behind the in-flight change) ...
    clock.advance(1_000);
    block_on(a.write(&id(), LocalOp::Update(rec(json!({"title": "a, earlier"}))))).unwrap();
    // ... and B edits it 10 s later, and syncs first.
    clock.advance(10_000);
    block_on(b.write(&id(), LocalOp::Update(rec(json!({"title": "b, later"}))))).unwrap();
    block_on(b.sync_round()).unwrap();
    converge(&a, &b);
    assert_eq!(
        block_on(a.storage().dead_letters()).unwrap().len(),
        1,
        "the big change is a dead letter"
    );
    assert_eq!(
        server_value(&server).unwrap()["title"],
        json!("b, later"),
        "the later write survives on the server"
    );
    assert_eq!(value(&a).unwrap()["title"], json!("b, later"));
    assert_eq!(value(&b).unwrap()["title"], json!("b, later"));
}

/// Found by the lastWriteWins oracle (simulation seed 6368): a rejected change rolls
/// the key back to the server's record, written by a device whose clock runs 2 h
/// ahead. The app shows that record and the user edits it: the edit happened after
/// the record it edits, so its timestamp must be later (the HLC observes every
/// timestamp the server sends, rejection answers included). Stamped by the local
/// clock alone, it ranks *before* the record it replaced: the server then holds a
/// write that `lastWriteWins` treats as older than what it overwrote.
#[test]
fn an_edit_after_a_rejection_rolled_back_to_the_server_record_is_stamped_after_it() {
    const HOUR: u64 = 3_600_000;
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_700_000_000_000);
    let a = device(&server, &clock, "a", ConflictPolicy::LastWriteWins);
    // B's clock runs 2 h ahead and it writes before it ever talked to the server.
    let b = SyncEngine::new(
        MemoryStorage::new("b"),
        LoopbackTransport {
            server: server.clone(),
            user: "u".into(),
            config: ServerConfig::default(),
            validator: BasicValidator {
                max_record_bytes: 200,
            },
            clock: clock.clone(),
        },
        clock.skewed(2 * HOUR as i64),
        EngineConfig {
            policies: PolicyConfig::uniform(ConflictPolicy::LastWriteWins),
            ..EngineConfig::default()
        },
    );
    // A creates the record with a value the server refuses (too large); it is sent
    // (in flight), but the answer is lost ...
    block_on(a.write(
        &id(),
        LocalOp::Create(rec(json!({"blob": "x".repeat(500)}))),
    ))
    .unwrap();
    let mode = |_: &str| idb_sync_core::protocol::MergeMode::Strict;
    let limits = idb_sync_core::outbox::BatchLimits::default();
    let sent = block_on(a.storage().take_batch(&limits, &mode)).unwrap();
    assert_eq!(sent.len(), 1);
    // ... B creates it too, and syncs first.
    block_on(b.write(&id(), LocalOp::Create(rec(json!({"title": "from b"}))))).unwrap();
    block_on(b.sync_round()).unwrap();
    let b_hlc = server_hlc(&server);
    // A resends its create and it is rejected: A rolls back to B's record and shows it.
    block_on(a.sync_round()).unwrap();
    assert_eq!(block_on(a.storage().dead_letters()).unwrap().len(), 1);
    assert_eq!(value(&a).unwrap()["title"], json!("from b"));
    // The user edits what A shows, 10 s later.
    clock.advance(10_000);
    block_on(a.write(&id(), LocalOp::Update(rec(json!({"title": "a, after b"}))))).unwrap();
    converge(&a, &b);
    assert_eq!(server_value(&server).unwrap()["title"], json!("a, after b"));
    let a_hlc = server_hlc(&server);
    assert_eq!(a_hlc.node, "a");
    assert!(
        a_hlc > b_hlc,
        "A's edit {a_hlc:?} must rank after the record it edited {b_hlc:?}"
    );
    assert_eq!(value(&b).unwrap()["title"], json!("a, after b"));
}

fn server_hlc(server: &MemoryServer) -> idb_sync_core::hlc::Hlc {
    server
        .user("u")
        .records
        .get(&("tasks".to_owned(), "t1".into()))
        .and_then(|r| r.hlc.clone())
        .expect("the server record has a timestamp")
}

#[test]
fn dead_letter_retry_queues_the_change_again() {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1);
    let a = device(&server, &clock, "a", ConflictPolicy::FieldMerge);
    block_on(a.write(
        &RecordId::new("bad table!", "k"),
        LocalOp::Create(rec(json!({"a": 1}))),
    ))
    .unwrap();
    block_on(a.sync_round()).unwrap();
    let dead = block_on(a.storage().dead_letters()).unwrap();
    assert_eq!(dead[0].code, "invalid_table");
    block_on(engine::retry_dead_letter(a.storage(), &clock, &dead[0])).unwrap();
    assert!(block_on(a.storage().dead_letters()).unwrap().is_empty());
    assert_eq!(block_on(a.storage().outbox_len()).unwrap(), 1);
}

/// A transport whose push answers are broken in a given way.
struct Broken<T> {
    inner: T,
    body: fn(&str) -> String,
}
impl<T: Transport> Transport for Broken<T> {
    async fn send(&self, request: TransportRequest) -> Result<TransportResponse, SyncError> {
        let push = request.endpoint == idb_sync_core::protocol::Endpoint::Push;
        let mut r = self.inner.send(request).await?;
        if push {
            r.body = (self.body)(&r.body);
        }
        Ok(r)
    }
}

#[test]
fn malformed_server_answers_are_typed_errors_and_apply_nothing() {
    let breakers: [fn(&str) -> String; 5] = [
        |b| b.replace("\"applied\"", "\"weird\""),
        |b| b.replace("\"results\"", "\"resultz\""),
        |b| b.replace("\"seq\":1", "\"seq\":77"),
        |b| b.replace("\"version\":1", "\"version\":\"one\""),
        |_| "<html>502</html>".into(),
    ];
    for broken in breakers {
        let server = MemoryServer::new();
        let clock = ManualClock::new(1);
        let storage = MemoryStorage::new("a");
        let inner = LoopbackTransport::new(&server, "u", clock.clone());
        let e = SyncEngine::new(
            storage.clone(),
            Broken {
                inner,
                body: broken,
            },
            clock.clone(),
            EngineConfig::default(),
        );
        block_on(e.write(&id(), LocalOp::Create(rec(json!({"title": "x"}))))).unwrap();
        let before = storage.snapshot();
        let err = block_on(e.sync_round()).unwrap_err();
        assert_eq!(err.code(), "malformed_response", "{err}");
        let after = storage.snapshot();
        assert_eq!(
            after
                .states
                .get(&id())
                .and_then(|s| s.in_flight.as_ref())
                .map(|f| f.seq),
            Some(1),
            "still in flight, to resend"
        );
        assert_eq!(
            after.states.get(&id()).map(|s| &s.value),
            before.states.get(&id()).map(|s| &s.value)
        );
        // The honest server then gets a resend and answers `duplicate`.
        let honest = SyncEngine::new(
            storage.clone(),
            LoopbackTransport::new(&server, "u", clock.clone()),
            clock.clone(),
            EngineConfig::default(),
        );
        block_on(honest.sync_round()).unwrap();
        assert_eq!(block_on(storage.outbox_len()).unwrap(), 0);
    }
}

#[test]
fn reset_required_drops_the_synced_copy_and_keeps_local_changes() {
    let (server, _clock, a, b) = two_devices(ConflictPolicy::FieldMerge);
    block_on(a.write(&id(), LocalOp::Delete)).unwrap();
    block_on(a.sync_round()).unwrap();
    let mut tx = server.begin();
    let horizon = server.user("u").change_seq;
    block_on(idb_sync_core::server::collect_tombstones(
        &mut tx, "u", horizon,
    ))
    .unwrap();
    tx.commit();
    let other = RecordId::new("tasks", "mine");
    block_on(b.write(&other, LocalOp::Create(rec(json!({"title": "unsynced"}))))).unwrap();
    let report = block_on(b.sync_round()).unwrap();
    assert_eq!(report.resets, 1);
    assert_eq!(value(&b), None, "the purged tombstone's record is gone");
    assert!(
        server
            .user("u")
            .records
            .contains_key(&("tasks".to_owned(), "mine".into())),
        "local change kept and pushed"
    );
}

/// Found by the simulation (seeds 1218, 5606): a key kept through a reset only for
/// its open manual conflict showed — and "keep server" then kept — a record the
/// server had deleted and purged. A full pull is the truth about such a key.
#[test]
fn keep_server_after_a_reset_never_keeps_a_record_the_server_deleted_and_purged() {
    let (server, clock, a, b) = two_devices(ConflictPolicy::Manual);
    block_on(a.write(&id(), LocalOp::Update(rec(json!({"title": "from a"}))))).unwrap();
    block_on(a.sync_round()).unwrap();
    block_on(b.write(&id(), LocalOp::Update(rec(json!({"title": "from b"}))))).unwrap();
    block_on(b.sync_round()).unwrap();
    assert_eq!(
        block_on(b.storage().conflict_keys()).unwrap(),
        vec![id()],
        "parked on b"
    );
    // A deletes the record; the server purges the tombstone, so b must reset.
    block_on(a.write(&id(), LocalOp::Delete)).unwrap();
    block_on(a.sync_round()).unwrap();
    let mut tx = server.begin();
    let horizon = server.user("u").change_seq;
    block_on(idb_sync_core::server::collect_tombstones(
        &mut tx, "u", horizon,
    ))
    .unwrap();
    tx.commit();
    assert_eq!(block_on(b.sync_round()).unwrap().resets, 1);
    block_on(engine::resolve_conflict(
        b.storage(),
        &clock,
        &id(),
        ManualChoice::KeepServer,
    ))
    .unwrap();
    converge(&a, &b);
    assert_eq!(server_value(&server), None);
    assert_eq!(value(&b), None, "b shows what the server has: nothing");
}
