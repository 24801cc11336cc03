//! Records idb-sync did not write (a Dexie app's existing rows, rows Dexie writes
//! later) are "never seen by the server", never "deleted on the server" (docs/STORAGE.md,
//! "Adopting a database another library wrote"): an update of one syncs as a create of the whole record, and adoption
//! queues them so a second device sees them. Two real engines against the real server
//! rules in memory; a row without sync state is made the way Dexie makes one: a value
//! and nothing else.

use idb_sync_core::conflict::{ConflictPolicy, NoResolver, PolicyConfig};
use idb_sync_core::engine::{EngineConfig, SyncEngine};
use idb_sync_core::memory::{
    block_on, LoopbackTransport, ManualClock, MemoryServer, MemoryStorage,
};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::outbox::{
    adopt_state, plan_adoption, AdoptCandidate, AdoptDecision, AdoptMode, AdoptTiming, ClientMeta,
    OpKind, PendingData,
};
use idb_sync_core::ports::Storage;
use idb_sync_core::server::{BasicValidator, ServerConfig};
use idb_sync_core::{Op, Record, RecordId};
use serde_json::json;

type Engine = SyncEngine<MemoryStorage, LoopbackTransport<ManualClock>, ManualClock, NoResolver>;

fn rec(v: serde_json::Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

fn device(server: &MemoryServer, clock: &ManualClock, id: &str, policy: ConflictPolicy) -> Engine {
    let transport = LoopbackTransport {
        server: server.clone(),
        user: "u".into(),
        config: ServerConfig::default(),
        validator: BasicValidator {
            max_record_bytes: 10_000,
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
        NoResolver,
    )
}

fn task(n: usize) -> RecordId {
    RecordId::new("tasks", format!("t{n:02}"))
}

fn task_record(n: usize) -> Record {
    rec(
        json!({"id": format!("t{n:02}"), "title": format!("task {n}"), "status": "todo", "createdAt": n}),
    )
}

/// Writes rows the way Dexie does: the value only, no sync state.
fn dexie_rows(e: &Engine, rows: &[(RecordId, Record)]) {
    let ids: Vec<RecordId> = rows.iter().map(|(id, _)| id.clone()).collect();
    block_on(e.storage().transact(&ids, |tx| {
        for (id, r) in rows {
            tx.state(id).value = Some(r.clone());
        }
        Ok(())
    }))
    .unwrap();
}

/// Adopts every listed key (what the browser's scan does table by table).
fn adopt(e: &Engine, ids: &[RecordId], now: u64) -> usize {
    block_on(e.storage().transact(ids, |tx| {
        let mut meta = tx.meta()?.clone();
        let mut queued = 0;
        for id in ids {
            if adopt_state(tx.state(id), &mut meta, now) {
                queued += 1;
            }
        }
        tx.meta = Some(meta);
        Ok(queued)
    }))
    .unwrap()
}

fn value(e: &Engine, id: &RecordId) -> Option<Record> {
    block_on(e.storage().read_state(id)).unwrap().value
}

fn server_value(server: &MemoryServer, id: &RecordId) -> Option<Record> {
    server
        .user("u")
        .records
        .get(&(id.table.clone(), id.key.clone()))
        .and_then(|r| r.data.clone())
}

#[test]
fn an_update_of_a_record_the_server_never_saw_syncs_as_a_create_and_the_record_survives() {
    for policy in [
        ConflictPolicy::FieldMerge,
        ConflictPolicy::ServerWins,
        ConflictPolicy::LastWriteWins,
    ] {
        let server = MemoryServer::new();
        let clock = ManualClock::new(1_000_000);
        let a = device(&server, &clock, "a", policy);
        dexie_rows(&a, &[(task(1), task_record(1))]);
        block_on(a.write(&task(1), LocalOp::Update(rec(json!({"status": "done"}))))).unwrap();
        let state = block_on(a.storage().read_state(&task(1))).unwrap();
        let mut expected = task_record(1);
        expected.insert("status".into(), json!("done"));
        assert_eq!(
            state.pending.map(|p| p.op),
            Some(Op::Create {
                record: expected.clone()
            }),
            "{policy:?}"
        );
        block_on(a.sync_round()).unwrap();
        assert_eq!(
            value(&a, &task(1)),
            Some(expected.clone()),
            "{policy:?}: the record is still on the device"
        );
        assert_eq!(
            server_value(&server, &task(1)),
            Some(expected.clone()),
            "{policy:?}: and on the server"
        );
        assert!(
            block_on(a.storage().conflict_log()).unwrap().is_empty(),
            "{policy:?}: no conflict, nothing dropped"
        );
        let b = device(&server, &clock, "b", policy);
        block_on(b.sync_round()).unwrap();
        assert_eq!(
            value(&b, &task(1)),
            Some(expected),
            "{policy:?}: a second device sees it"
        );
    }
}

#[test]
fn adopted_rows_reach_a_second_device_and_a_later_update_syncs_as_an_update() {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_000_000);
    let a = device(&server, &clock, "a", ConflictPolicy::FieldMerge);
    let rows: Vec<_> = (1..=50).map(|n| (task(n), task_record(n))).collect();
    let ids: Vec<_> = rows.iter().map(|(id, _)| id.clone()).collect();
    dexie_rows(&a, &rows);
    assert_eq!(block_on(a.storage().outbox_len()).unwrap(), 0);
    assert_eq!(adopt(&a, &ids, now_of(&clock)), 50);
    assert_eq!(block_on(a.storage().outbox_len()).unwrap(), 50);
    assert_eq!(
        adopt(&a, &ids, now_of(&clock)),
        0,
        "adopting twice queues nothing more"
    );
    let report = block_on(a.sync_round()).unwrap();
    assert_eq!(report.sent, 50);
    let b = device(&server, &clock, "b", ConflictPolicy::FieldMerge);
    block_on(b.sync_round()).unwrap();
    for (id, r) in &rows {
        assert_eq!(value(&b, id).as_ref(), Some(r), "{id}");
    }
    // An old row is now synced: its update goes as a patch and lands on both devices.
    block_on(a.write(&task(7), LocalOp::Update(rec(json!({"status": "done"}))))).unwrap();
    let pending = block_on(a.storage().read_state(&task(7)))
        .unwrap()
        .pending
        .unwrap();
    assert_eq!(
        pending.op,
        Op::Update {
            patch: rec(json!({"status": "done"}))
        }
    );
    block_on(a.sync_round()).unwrap();
    block_on(b.sync_round()).unwrap();
    assert_eq!(value(&b, &task(7)).unwrap()["status"], json!("done"));
    assert_eq!(value(&a, &task(7)).unwrap()["status"], json!("done"));
    assert!(block_on(a.storage().conflict_log()).unwrap().is_empty());
}

#[test]
fn an_adopted_row_the_server_also_has_goes_through_the_conflict_policy() {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_000_000);
    let b = device(&server, &clock, "b", ConflictPolicy::FieldMerge);
    block_on(b.write(
        &task(1),
        LocalOp::Create(rec(json!({"id": "t01", "title": "from b"}))),
    ))
    .unwrap();
    block_on(b.sync_round()).unwrap();
    let a = device(&server, &clock, "a", ConflictPolicy::FieldMerge);
    dexie_rows(
        &a,
        &[(task(1), rec(json!({"id": "t01", "status": "todo"})))],
    );
    adopt(&a, &[task(1)], now_of(&clock));
    block_on(a.sync_round()).unwrap();
    block_on(a.sync_round()).unwrap();
    let merged = Some(rec(
        json!({"id": "t01", "title": "from b", "status": "todo"}),
    ));
    assert_eq!(
        server_value(&server, &task(1)),
        merged,
        "field merge keeps both sides' fields"
    );
    assert_eq!(value(&a, &task(1)), merged);
}

#[test]
fn pull_adoption_lets_the_server_copy_win_and_pushes_the_local_only_rows() {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_000_000);
    let b = device(&server, &clock, "b", ConflictPolicy::FieldMerge);
    block_on(b.write(
        &task(1),
        LocalOp::Create(rec(json!({"id": "t01", "title": "server copy"}))),
    ))
    .unwrap();
    block_on(b.sync_round()).unwrap();
    let a = device(&server, &clock, "a", ConflictPolicy::FieldMerge);
    dexie_rows(
        &a,
        &[
            (
                task(1),
                rec(json!({"id": "t01", "title": "stale local copy"})),
            ),
            (task(2), task_record(2)),
        ],
    );
    let meta = block_on(a.storage().read_meta()).unwrap();
    assert_eq!(
        AdoptMode::Pull.timing(meta.cursor.is_some()),
        AdoptTiming::AfterFirstPull
    );
    block_on(a.sync_round()).unwrap(); // the first pull: nothing of ours is queued
    let meta = block_on(a.storage().read_meta()).unwrap();
    assert_eq!(
        AdoptMode::Pull.timing(meta.cursor.is_some()),
        AdoptTiming::Now
    );
    assert_eq!(
        adopt(&a, &[task(1), task(2)], now_of(&clock)),
        1,
        "only the local-only row is queued"
    );
    block_on(a.sync_round()).unwrap();
    assert_eq!(
        value(&a, &task(1)),
        Some(rec(json!({"id": "t01", "title": "server copy"})))
    );
    assert_eq!(
        server_value(&server, &task(1)),
        Some(rec(json!({"id": "t01", "title": "server copy"})))
    );
    assert_eq!(server_value(&server, &task(2)), Some(task_record(2)));
}

#[test]
fn the_adoption_planner_queues_only_rows_without_state_and_with_syncable_keys() {
    let mut meta = ClientMeta::new("c");
    let known = AdoptCandidate {
        has_sync_state: true,
        key_syncable: true,
    };
    assert_eq!(plan_adoption(known, &mut meta, 5), AdoptDecision::Known);
    let bad_key = AdoptCandidate {
        has_sync_state: false,
        key_syncable: false,
    };
    assert_eq!(
        plan_adoption(bad_key, &mut meta, 5),
        AdoptDecision::Unsyncable
    );
    assert_eq!(
        meta,
        ClientMeta::new("c"),
        "nothing queued, nothing advanced"
    );
    let fresh = AdoptCandidate {
        has_sync_state: false,
        key_syncable: true,
    };
    let AdoptDecision::Queue(first) = plan_adoption(fresh, &mut meta, 5) else {
        panic!("a row without state is queued")
    };
    let AdoptDecision::Queue(second) = plan_adoption(fresh, &mut meta, 5) else {
        panic!()
    };
    let p = first.pending.unwrap();
    assert_eq!((p.kind, p.data), (OpKind::Create, PendingData::NewValue));
    assert!(second.pending.unwrap().queued > p.queued, "FIFO order");
    assert!(second.hlc > first.hlc);
    assert_eq!(AdoptMode::parse("push"), Some(AdoptMode::Push));
    assert_eq!(AdoptMode::parse("pull"), Some(AdoptMode::Pull));
    assert_eq!(AdoptMode::parse("none"), Some(AdoptMode::None));
    assert_eq!(AdoptMode::parse("Push"), None);
    assert_eq!(AdoptMode::default(), AdoptMode::Push);
    assert_eq!(AdoptMode::Push.timing(false), AdoptTiming::Now);
    assert_eq!(AdoptMode::None.timing(true), AdoptTiming::Never);
}

/// The read-only pre-scan's test agrees with the planner on every kind of row: a range
/// where no row needs adoption is never written.
#[test]
fn needs_adoption_is_true_exactly_for_the_rows_the_planner_queues() {
    for has_sync_state in [false, true] {
        for key_syncable in [false, true] {
            let row = AdoptCandidate {
                has_sync_state,
                key_syncable,
            };
            let queued = matches!(
                plan_adoption(row, &mut ClientMeta::new("c"), 5),
                AdoptDecision::Queue(_)
            );
            assert_eq!(row.needs_adoption(), queued, "{row:?}");
        }
    }
}

fn now_of(clock: &ManualClock) -> u64 {
    use idb_sync_core::ports::Clock;
    clock.now_ms()
}
