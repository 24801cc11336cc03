//! Regression tests for what `lastWriteWins` and `manual` promise (I12 of
//! docs/INVARIANTS.md): the later write by skew-corrected HLC wins at pull time and at push time,
//! whatever the device clocks say; a parked manual conflict is never overwritten.
//! Two real engines against the real server rules in memory.

use idb_sync_core::conflict::{ConflictPolicy, ManualChoice, PolicyConfig};
use idb_sync_core::engine::{self, EngineConfig, SyncEngine, SUPERSEDED_PARKED};
use idb_sync_core::memory::{
    block_on, LoopbackTransport, ManualClock, MemoryServer, MemoryStorage,
};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::ports::Storage;
use idb_sync_core::protocol::MergeMode;

use idb_sync_core::{Record, RecordId};
use serde_json::json;

type Engine = SyncEngine<MemoryStorage, LoopbackTransport<ManualClock>, ManualClock>;

fn rec(v: serde_json::Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

fn id() -> RecordId {
    RecordId::new("tasks", "t1")
}

/// A device whose own clock is `clock`; the server keeps true time (`clock` unskewed).
fn device(
    server: &MemoryServer,
    clock: &ManualClock,
    name: &str,
    policy: ConflictPolicy,
) -> Engine {
    let transport = LoopbackTransport::new(server, "u", clock.skewed(0));
    let config = EngineConfig {
        policies: PolicyConfig::uniform(policy),
        ..EngineConfig::default()
    };
    SyncEngine::new(MemoryStorage::new(name), transport, clock.clone(), config)
}

fn title(e: &Engine) -> serde_json::Value {
    block_on(e.storage().read_state(&id()))
        .unwrap()
        .value
        .map(|v| v["title"].clone())
        .unwrap_or_default()
}

fn server_title(server: &MemoryServer) -> serde_json::Value {
    let records = server.user("u").records;
    let data = records
        .get(&("tasks".to_owned(), "t1".into()))
        .and_then(|r| r.data.clone());
    data.map(|d| d["title"].clone()).unwrap_or_default()
}

fn outcomes(e: &Engine) -> Vec<String> {
    block_on(e.storage().conflict_log())
        .unwrap()
        .into_iter()
        .map(|l| l.outcome)
        .collect()
}

/// Where the conflict is found.
#[derive(Clone, Copy, Debug)]
enum Path {
    /// The second device's write is still pending when it pulls the first's change.
    Pull,
    /// The second device's write is already in flight (sent on a stale base) when the
    /// first device's change lands: the server answers `conflict`.
    Push,
}

/// Two devices, `a` with its clock `a_skew_ms` off and `b` with `b_skew_ms`, share
/// `{title: "v0"}` under `lastWriteWins` (both measured their clock offset). `first`
/// ("a" or "b") writes, the other writes 10 s later (true time); the first syncs, then
/// the second. Returns the server, both engines, and which one wrote later.
fn lww_race(
    a_skew_ms: i64,
    b_skew_ms: i64,
    first: &str,
    path: Path,
) -> (MemoryServer, Engine, Engine) {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_700_000_000_000);
    let a = device(
        &server,
        &clock.skewed(a_skew_ms),
        "a",
        ConflictPolicy::LastWriteWins,
    );
    let b = device(
        &server,
        &clock.skewed(b_skew_ms),
        "b",
        ConflictPolicy::LastWriteWins,
    );
    block_on(a.write(
        &id(),
        LocalOp::Create(rec(json!({"title": "v0", "done": false}))),
    ))
    .unwrap();
    block_on(a.sync_round()).unwrap();
    block_on(b.sync_round()).unwrap();
    clock.advance(60_000);
    let (early, late) = if first == "a" { (&a, &b) } else { (&b, &a) };
    block_on(early.write(
        &id(),
        LocalOp::Update(rec(json!({"title": format!("from {first} (earlier)")}))),
    ))
    .unwrap();
    clock.advance(10_000);
    let late_name = if first == "a" { "b" } else { "a" };
    block_on(late.write(
        &id(),
        LocalOp::Update(rec(json!({"title": format!("from {late_name} (later)")}))),
    ))
    .unwrap();
    if let Path::Push = path {
        // The later write leaves before the earlier one reaches the server.
        let batch = block_on(
            late.storage()
                .take_batch(&Default::default(), &|_| MergeMode::Strict),
        )
        .unwrap();
        assert_eq!(batch.len(), 1);
    }
    block_on(early.sync_round()).unwrap();
    block_on(late.sync_round()).unwrap();
    for _ in 0..2 {
        block_on(a.sync_round()).unwrap();
        block_on(b.sync_round()).unwrap();
    }
    (server, a, b)
}

fn assert_later_write_won(a_skew_ms: i64, b_skew_ms: i64, first: &str) {
    for path in [Path::Pull, Path::Push] {
        let (server, a, b) = lww_race(a_skew_ms, b_skew_ms, first, path);
        let later = if first == "a" {
            "from b (later)"
        } else {
            "from a (later)"
        };
        let ctx =
            format!("{path:?} path, a skew {a_skew_ms} ms, b skew {b_skew_ms} ms, {first} first");
        assert_eq!(server_title(&server), json!(later), "server, {ctx}");
        assert_eq!(title(&a), json!(later), "device a, {ctx}");
        assert_eq!(title(&b), json!(later), "device b, {ctx}");
        let (late, early) = if first == "a" { (&b, &a) } else { (&a, &b) };
        assert_eq!(
            outcomes(late),
            vec!["kept local (later write)".to_owned()],
            "the later writer's log, {ctx}"
        );
        assert!(
            outcomes(early).is_empty(),
            "the earlier writer pushed first without conflict, {ctx}"
        );
    }
}

fn assert_server_write_kept(a_skew_ms: i64, b_skew_ms: i64, first: &str) {
    // The mirror: the device that syncs second wrote *earlier*; the server's value stays.
    for path in [Path::Pull, Path::Push] {
        let server = MemoryServer::new();
        let clock = ManualClock::new(1_700_000_000_000);
        let a = device(
            &server,
            &clock.skewed(a_skew_ms),
            "a",
            ConflictPolicy::LastWriteWins,
        );
        let b = device(
            &server,
            &clock.skewed(b_skew_ms),
            "b",
            ConflictPolicy::LastWriteWins,
        );
        block_on(a.write(&id(), LocalOp::Create(rec(json!({"title": "v0"}))))).unwrap();
        block_on(a.sync_round()).unwrap();
        block_on(b.sync_round()).unwrap();
        let (early, late) = if first == "a" { (&a, &b) } else { (&b, &a) };
        block_on(early.write(&id(), LocalOp::Update(rec(json!({"title": "earlier"}))))).unwrap();
        clock.advance(10_000);
        block_on(late.write(&id(), LocalOp::Update(rec(json!({"title": "later"}))))).unwrap();
        if let Path::Push = path {
            block_on(
                early
                    .storage()
                    .take_batch(&Default::default(), &|_| MergeMode::Strict),
            )
            .unwrap();
        }
        // The later writer syncs first; the earlier one meets its write.
        block_on(late.sync_round()).unwrap();
        block_on(early.sync_round()).unwrap();
        block_on(a.sync_round()).unwrap();
        block_on(b.sync_round()).unwrap();
        let ctx =
            format!("{path:?} path, a skew {a_skew_ms} ms, b skew {b_skew_ms} ms, {first} first");
        assert_eq!(server_title(&server), json!("later"), "server, {ctx}");
        assert_eq!(title(&a), json!("later"), "device a, {ctx}");
        assert_eq!(title(&b), json!("later"), "device b, {ctx}");
        assert_eq!(
            outcomes(early),
            vec!["took server (later write)".to_owned()],
            "the earlier writer's log, {ctx}"
        );
    }
}

#[test]
fn lww_later_local_write_survives_on_server_and_both_devices() {
    // Defect 1: B writes, A writes 10 s later, B syncs, A syncs → A's value survives.
    assert_later_write_won(0, 0, "b");
    assert_later_write_won(0, 0, "a");
}

#[test]
fn lww_earlier_local_write_gives_way_to_the_later_server_write() {
    assert_server_write_kept(0, 0, "a");
    assert_server_write_kept(0, 0, "b");
}

#[test]
fn lww_device_clocks_hours_off_do_not_decide() {
    const HOUR: i64 = 3_600_000;
    // The later writer's clock is 3 h *behind*: by raw clocks it wrote first, and would lose.
    assert_later_write_won(-3 * HOUR, 0, "b");
    assert_later_write_won(0, -3 * HOUR, "a");
    // The earlier writer's clock is 5 h *ahead*: by raw clocks it wrote last, and would win.
    assert_server_write_kept(5 * HOUR, 0, "a");
    assert_server_write_kept(-2 * HOUR, 5 * HOUR, "b");
}

#[test]
fn lww_conflict_log_records_both_timestamps() {
    let (_server, a, _b) = lww_race(0, 0, "b", Path::Pull);
    let log = block_on(a.storage().conflict_log()).unwrap();
    let (local, remote) = (
        log[0].local_hlc.clone().unwrap(),
        log[0].remote_hlc.clone().unwrap(),
    );
    assert_eq!(local.node, "a");
    assert_eq!(remote.node, "b");
    assert!(
        local.millis >= remote.millis + 10_000,
        "{local:?} vs {remote:?}"
    );
}

/// Defect 7: a second conflict on a record whose first conflict is still open.
fn two_manual_conflicts() -> (MemoryServer, ManualClock, Engine, Engine) {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_700_000_000_000);
    let a = device(&server, &clock, "a", ConflictPolicy::Manual);
    let b = device(&server, &clock, "b", ConflictPolicy::Manual);
    block_on(a.write(
        &id(),
        LocalOp::Create(rec(json!({"title": "v0", "done": false}))),
    ))
    .unwrap();
    block_on(a.sync_round()).unwrap();
    block_on(b.sync_round()).unwrap();
    block_on(b.write(&id(), LocalOp::Update(rec(json!({"title": "B's title"}))))).unwrap();
    block_on(b.sync_round()).unwrap();
    block_on(a.write(
        &id(),
        LocalOp::Update(rec(json!({"title": "A's important title"}))),
    ))
    .unwrap();
    block_on(a.sync_round()).unwrap(); // first conflict, parked
    assert_eq!(block_on(a.storage().conflict_keys()).unwrap(), vec![id()]);
    // The app shows the server's record; the user edits another field of it.
    block_on(a.write(&id(), LocalOp::Update(rec(json!({"done": true}))))).unwrap();
    clock.advance(1_000);
    block_on(b.write(
        &id(),
        LocalOp::Update(rec(json!({"title": "B's second title"}))),
    ))
    .unwrap();
    block_on(b.sync_round()).unwrap();
    block_on(a.sync_round()).unwrap(); // second conflict on the same record
    (server, clock, a, b)
}

fn holds_title(r: &Option<Record>, t: &str) -> bool {
    r.as_ref()
        .is_some_and(|r| r.get("title") == Some(&json!(t)))
}

#[test]
fn manual_second_conflict_does_not_overwrite_the_first_parked_change() {
    let (_server, _clock, a, _b) = two_manual_conflicts();
    let state = block_on(a.storage().read_state(&id())).unwrap();
    let open = state.conflict.expect("the newer conflict is open");
    assert_eq!(
        open.local.as_ref().and_then(|r| r.get("done")),
        Some(&json!(true)),
        "the newer local change is the open conflict"
    );
    let log = block_on(a.storage().conflict_log()).unwrap();
    let kept: Vec<_> = log
        .iter()
        .filter(|e| holds_title(&e.local, "A's important title"))
        .collect();
    assert_eq!(
        kept.len(),
        1,
        "the first parked change is in the conflict log: {log:?}"
    );
    assert_eq!(kept[0].outcome, SUPERSEDED_PARKED);
    assert_eq!(
        kept[0]
            .local_change
            .as_ref()
            .and_then(|c| c.fields())
            .and_then(|f| f.get("title")),
        Some(&json!("A's important title"))
    );
}

#[test]
fn manual_first_parked_change_stays_findable_after_the_app_resolves() {
    let (server, clock, a, b) = two_manual_conflicts();
    block_on(engine::resolve_conflict(
        a.storage(),
        &clock,
        &id(),
        ManualChoice::KeepServer,
    ))
    .unwrap();
    block_on(a.sync_round()).unwrap();
    block_on(b.sync_round()).unwrap();
    assert_eq!(server_title(&server), json!("B's second title"));
    let log = block_on(a.storage().conflict_log()).unwrap();
    assert!(
        log.iter()
            .any(|e| holds_title(&e.local, "A's important title")),
        "{log:?}"
    );
    assert!(log.iter().any(|e| e.outcome == "app kept server"
        && e.local.as_ref().and_then(|r| r.get("done")) == Some(&json!(true))));
}
