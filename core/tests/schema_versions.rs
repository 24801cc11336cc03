//! Two schema versions on one account (docs/STORAGE.md, "Layout"): a client whose schema lacks
//! a table another app version writes keeps syncing — the round goes on, its pending
//! writes push — and the kept changes appear once its schema declares the table.

use idb_sync_core::conflict::{ConflictPolicy, PolicyConfig};
use idb_sync_core::engine::{later_change, split_by_declared, EngineConfig, SyncEngine};
use idb_sync_core::memory::{
    block_on, LoopbackTransport, ManualClock, MemoryServer, MemoryStorage,
};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::ports::Storage;
use idb_sync_core::protocol::Change;

use idb_sync_core::{Record, RecordId};
use serde_json::json;

type Engine = SyncEngine<MemoryStorage, LoopbackTransport<ManualClock>, ManualClock>;

fn rec(v: serde_json::Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

fn device(server: &MemoryServer, clock: &ManualClock, storage: MemoryStorage) -> Engine {
    let transport = LoopbackTransport::new(server, "u", clock.clone());
    let config = EngineConfig {
        policies: PolicyConfig::uniform(ConflictPolicy::FieldMerge),
        ..EngineConfig::default()
    };
    SyncEngine::new(storage, transport, clock.clone(), config)
}

fn on_server(server: &MemoryServer, table: &str, key: &str) -> Option<Record> {
    server
        .user("u")
        .records
        .get(&(table.to_owned(), key.into()))
        .and_then(|r| r.data.clone())
}

fn change(table: &str, key: &str, version: u64) -> Change {
    Change {
        table: table.into(),
        key: key.into(),
        version,
        previous_version: 0,
        deleted: false,
        data: Some(rec(json!({"v": version}))),
        hlc: None,
        origin: None,
    }
}

#[test]
fn split_keeps_changes_of_undeclared_tables_in_page_order() {
    let page = [
        change("tasks", "a", 1),
        change("projects", "p", 2),
        change("tasks", "b", 3),
        change("projects", "q", 4),
    ];
    let (apply, keep) = split_by_declared(&page, |t| t == "tasks");
    assert_eq!(
        apply.iter().map(|c| c.version).collect::<Vec<_>>(),
        vec![1, 3]
    );
    assert_eq!(
        keep.iter().map(|c| c.version).collect::<Vec<_>>(),
        vec![2, 4]
    );
}

#[test]
fn kept_change_is_the_latest_version_of_its_key() {
    assert_eq!(
        later_change(Some(change("p", "k", 5)), change("p", "k", 3)).version,
        5
    );
    assert_eq!(
        later_change(Some(change("p", "k", 5)), change("p", "k", 8)).version,
        8
    );
    assert_eq!(later_change(None, change("p", "k", 2)).version, 2);
}

#[test]
fn a_v1_client_pulls_a_v2_table_keeps_pushing_and_applies_it_when_the_table_appears() {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_700_000_000_000);
    let v2 = device(&server, &clock, MemoryStorage::new("v2"));
    let v1_storage = MemoryStorage::without_tables("v1", &["projects"]);
    let v1 = device(&server, &clock, v1_storage.clone());
    let project = RecordId::new("projects", "p1");
    block_on(v2.write(&project, LocalOp::Create(rec(json!({"name": "Launch"}))))).unwrap();
    block_on(v2.sync_round()).unwrap();

    let task = RecordId::new("tasks", "t1");
    block_on(v1.write(
        &task,
        LocalOp::Create(rec(json!({"title": "written by v1"}))),
    ))
    .unwrap();
    assert!(
        block_on(v1.write(&project, LocalOp::Create(rec(json!({"name": "x"}))))).is_err(),
        "v1 cannot write a table it lacks"
    );
    let report = block_on(v1.sync_round()).expect("the round goes on past the unknown table");
    assert_eq!(
        on_server(&server, "tasks", "t1"),
        Some(rec(json!({"title": "written by v1"}))),
        "the pending write pushed"
    );
    assert_eq!(block_on(v1_storage.outbox_len()).unwrap(), 0);
    assert_eq!(
        v1_storage.snapshot().deferred.len(),
        1,
        "the project is pulled and kept for when the table appears"
    );
    assert_eq!(report.pulled, 0, "nothing the app can see was pulled yet");
    assert!(
        !v1_storage.records().contains_key(&project),
        "not applied while undeclared"
    );
    // Later rounds keep working.
    block_on(v1.write(&task, LocalOp::Update(rec(json!({"done": true}))))).unwrap();
    block_on(v1.sync_round()).unwrap();
    assert_eq!(
        on_server(&server, "tasks", "t1").unwrap()["done"],
        json!(true)
    );

    // v2 edits the project meanwhile; the kept change is the latest.
    block_on(v2.write(&project, LocalOp::Update(rec(json!({"name": "Launch v2"}))))).unwrap();
    block_on(v2.sync_round()).unwrap();
    block_on(v1.sync_round()).unwrap();

    // Reopened with the v2 schema: the record is there, without a full pull.
    v1_storage.declare_table("projects");
    let cursor_before = v1_storage.snapshot().meta.cursor;
    block_on(v1.sync_round()).unwrap();
    assert_eq!(
        v1_storage.records().get(&project),
        Some(&rec(json!({"name": "Launch v2"})))
    );
    assert_eq!(
        v1_storage.snapshot().meta.cursor,
        cursor_before,
        "nothing new was pulled: it came from the kept store"
    );
    assert!(v1_storage.snapshot().deferred.is_empty());
    // And it syncs like any other record.
    let v1b = device(&server, &clock, v1_storage.clone());
    block_on(v1b.write(&project, LocalOp::Update(rec(json!({"owner": "v1"}))))).unwrap();
    block_on(v1b.sync_round()).unwrap();
    assert_eq!(
        on_server(&server, "projects", "p1"),
        Some(rec(json!({"name": "Launch v2", "owner": "v1"})))
    );
}
