//! The batched adapter (seed 002, docs/adapters/batched.md) under the real engine,
//! against a fixture of the seed's server (`adapter_fixtures/seed002.rs`): devices
//! converge on creates, updates and deletes under one key (the `localId`) with the
//! server's id mapped back; the cursor is the server's `syncTimestamp` and survives a
//! new engine; a lost answer is resent safely; a server error is retried; a refused
//! change is parked alone; the seed's conflicts meet the engine's policy.

#[path = "adapter_fixtures/seed002_device.rs"]
mod device;
#[path = "adapter_fixtures/seed002.rs"]
mod seed002;

use device::*;
use idb_sync_core::adapters::format_iso_ms;
use idb_sync_core::conflict::ConflictPolicy;
use idb_sync_core::memory::{block_on, MemoryStorage};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::ports::Storage;
use idb_sync_core::{RecordId, SyncError};
use seed002::Seed002;
use serde_json::json;

#[test]
fn two_devices_sync_creates_updates_and_deletes_under_one_key() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    let b = device(&server, clock.clone(), "b");
    create(&a, "i1", "Watch Inception");
    sync(&a);
    let stored = server.doc("items", "i1").expect("i1 on the server");
    assert_eq!(stored.fields["title"], json!("Watch Inception"));
    let server_id = stored.fields["serverId"].clone();
    assert!(server_id.is_string());
    assert_eq!(
        field(&a, "i1", "serverId"),
        Some(server_id.clone()),
        "the server's id mapped back"
    );
    assert_eq!(
        field(&a, "i1", "userId"),
        None,
        "the server's bookkeeping stays out"
    );

    clock.advance(1_000);
    sync(&b);
    assert_eq!(field(&b, "i1", "title"), Some(json!("Watch Inception")));
    assert_eq!(
        field(&b, "i1", "serverId"),
        Some(server_id.clone()),
        "one key, one server id"
    );

    clock.advance(1_000);
    write(&b, "i1", LocalOp::Update(rec(json!({"isCompleted": true}))));
    sync(&b);
    let stored = server.doc("items", "i1").unwrap();
    assert_eq!(stored.fields["isCompleted"], json!(true));
    assert_eq!(
        stored.fields["title"],
        json!("Watch Inception"),
        "an update sends its fields"
    );
    assert_eq!(
        stored.fields["serverId"], server_id,
        "never renamed by a push"
    );
    let last = b
        .transport()
        .http
        .bodies
        .borrow()
        .iter()
        .rev()
        .find(|v| v["changes"] != json!([]))
        .cloned();
    assert_eq!(
        last.unwrap()["changes"][0]["data"],
        json!({"isCompleted": true})
    );
    clock.advance(1_000);
    sync(&a);
    assert_eq!(field(&a, "i1", "isCompleted"), Some(json!(true)));

    clock.advance(1_000);
    write(&a, "i1", LocalOp::Delete);
    sync(&a);
    assert_eq!(
        server.doc("items", "i1").unwrap().fields["isDeleted"],
        json!(true)
    );
    clock.advance(1_000);
    sync(&b);
    assert_eq!(local(&b, "i1"), None, "the delete reached the other device");
    assert_eq!(local(&a, "i1"), None);
}

#[test]
fn the_cursor_is_the_servers_time_and_a_new_engine_resumes_from_it() {
    let (server, clock) = world();
    let slow = device(&server, clock.skewed(-5 * HOUR), "slow");
    let fast = device(&server, clock.skewed(5 * HOUR), "fast");
    sync(&fast);
    assert_eq!(
        cursor(&fast).since,
        clock.true_now(),
        "the server's syncTimestamp"
    );
    clock.advance(60_000);
    create(&slow, "i1", "late");
    sync(&slow);
    clock.advance(120_000);
    sync(&fast);
    assert_eq!(
        field(&fast, "i1", "title"),
        Some(json!("late")),
        "a clock 5 h ahead misses nothing"
    );
    assert_eq!(
        pull_sinces(&fast)[1],
        clock.true_now() - 180_000 - 60_000,
        "server time - overlap"
    );

    // The same storage, a new engine (a reload): it resumes from the stored cursor.
    let since = cursor(&fast).since;
    let reloaded = on(
        fast.storage().clone(),
        &server,
        clock.skewed(5 * HOUR),
        ConflictPolicy::default(),
    );
    clock.advance(1_000);
    write(&slow, "i1", LocalOp::Update(rec(json!({"title": "later"}))));
    sync(&slow);
    let report = block_on(reloaded.sync_round()).unwrap();
    assert_eq!(pull_sinces(&reloaded)[0], since - 60_000, "not a full pull");
    assert_eq!(report.pulled, 1, "only the update is new");
    assert_eq!(field(&reloaded, "i1", "title"), Some(json!("later")));
}

#[test]
fn a_write_committed_inside_the_overlap_is_pulled_once_and_not_lost() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    create(&a, "i1", "one");
    sync(&a);
    // B's request goes to an instance whose clock lags 5 s behind the one A asks.
    let b = device(&server.instance(clock.skewed(-5_000)), clock.clone(), "b");
    clock.advance(2_000);
    sync(&a);
    let a_since = cursor(&a).since;
    clock.advance(1_000);
    create(&b, "i2", "two");
    sync(&b);
    assert!(server.doc("items", "i2").unwrap().updated_at < a_since);
    clock.advance(1_000);
    let report = block_on(a.sync_round()).unwrap();
    assert_eq!(field(&a, "i2", "title"), Some(json!("two")), "not lost");
    assert_eq!(report.pulled, 1, "the overlap's repeat of i1 is left out");
}

#[test]
fn a_push_whose_answer_was_lost_is_resent_without_a_second_document() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    create(&a, "i1", "once");
    a.transport().http.lose_next_push_answer.set(true);
    assert!(
        block_on(a.sync_round()).is_err(),
        "no answer: the round fails"
    );
    let first = server.doc("items", "i1").unwrap();
    clock.advance(10_000);
    sync(&a);
    let docs = server.docs("items", "i1");
    assert_eq!(docs.len(), 1, "the resend did not create a second document");
    assert_eq!(docs[0].fields["serverId"], first.fields["serverId"]);
    assert_eq!(outbox(&a), 0);
    assert_eq!(
        field(&a, "i1", "serverId"),
        Some(first.fields["serverId"].clone())
    );
}

#[test]
fn a_server_error_is_retried_and_a_refused_change_is_parked_alone() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    create(&a, "i1", "first");
    write(
        &a,
        "i2",
        LocalOp::Create(rec(
            json!({"localId": "i2", "title": "bad", "order": "first"}),
        )),
    );
    block_on(a.write(
        &RecordId::new("notes", "n1"),
        LocalOp::Create(rec(json!({"localId": "n1"}))),
    ))
    .unwrap();
    create(&a, "i3", "third");
    server.db.borrow_mut().fail_next = 1;
    let error = block_on(a.sync_round()).unwrap_err();
    assert!(
        matches!(error, SyncError::Server { status: 500, .. }),
        "{error:?}"
    );
    assert!(server.doc("items", "i1").is_none());
    clock.advance(10_000);
    sync(&a);
    assert_eq!(
        server.doc("items", "i1").unwrap().fields["title"],
        json!("first")
    );
    assert_eq!(
        server.doc("items", "i3").unwrap().fields["title"],
        json!("third")
    );
    assert!(
        server.doc("items", "i2").is_none(),
        "the schema refused `order: 'first'`"
    );
    let parked: Vec<(String, String, String)> = block_on(a.storage().dead_letters())
        .unwrap()
        .iter()
        .map(|d| (d.record.table.clone(), d.code.clone(), d.reason.clone()))
        .collect();
    assert_eq!(parked.len(), 2, "{parked:?}");
    assert_eq!(
        (parked[0].0.as_str(), parked[0].1.as_str()),
        ("items", "not_accepted")
    );
    assert!(
        parked[0].2.contains("Cast to Number failed"),
        "{}",
        parked[0].2
    );
    assert_eq!(
        (parked[1].0.as_str(), parked[1].1.as_str()),
        ("notes", "not_accepted")
    );
    assert!(
        parked[1].2.contains("Unknown entity type"),
        "{}",
        parked[1].2
    );
    assert_eq!(outbox(&a), 0);
}

/// A and B hold i1; A changes its title offline, then B changes it later; B's
/// change reaches the server first. A's change is older: the seed reports a conflict.
fn conflict_world(policy: ConflictPolicy) -> (Seed002, Engine, Engine) {
    let (server, clock) = world();
    let a = on(MemoryStorage::new("a"), &server, clock.clone(), policy);
    let b = device(&server, clock.clone(), "b");
    create(&b, "i1", "original");
    sync(&b);
    clock.advance(1_000);
    sync(&a);
    clock.advance(1_000);
    write(&a, "i1", LocalOp::Update(rec(json!({"title": "from a"}))));
    clock.advance(5_000);
    write(&b, "i1", LocalOp::Update(rec(json!({"title": "from b"}))));
    sync(&b);
    clock.advance(1_000);
    (server, a, b)
}

#[test]
fn the_seeds_conflict_meets_the_engines_policy() {
    let (server, a, _) = conflict_world(ConflictPolicy::ServerWins);
    let report = block_on(a.sync_round()).unwrap();
    assert_eq!(report.conflicts, 1, "the seed reported A's older change");
    assert_eq!(
        server.doc("items", "i1").unwrap().fields["title"],
        json!("from b")
    );
    assert_eq!(
        field(&a, "i1", "title"),
        Some(json!("from b")),
        "serverWins took the server's"
    );
    assert_eq!(outbox(&a), 0);

    let (server, a, b) = conflict_world(ConflictPolicy::ClientWins);
    block_on(a.sync_round()).unwrap();
    // Rebased on the server's version, the resent change is newer than B's: applied.
    assert_eq!(
        server.doc("items", "i1").unwrap().fields["title"],
        json!("from a")
    );
    assert_eq!(
        field(&a, "i1", "title"),
        Some(json!("from a")),
        "clientWins kept A's"
    );
    sync(&b);
    assert_eq!(field(&b, "i1", "title"), Some(json!("from a")));
}

#[test]
fn a_newer_change_wins_without_a_conflict_as_the_seed_says() {
    // The seed's diagram: A writes at 14:00, B at 14:05, A syncs first: both are
    // accepted and B's, the newer, stays.
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    let b = device(&server, clock.clone(), "b");
    create(&a, "i1", "original");
    sync(&a);
    sync(&b);
    clock.advance(1_000);
    write(&a, "i1", LocalOp::Update(rec(json!({"title": "14:00"}))));
    clock.advance(5_000);
    write(&b, "i1", LocalOp::Update(rec(json!({"title": "14:05"}))));
    clock.advance(5_000);
    sync(&a);
    clock.advance(2_000);
    let report = block_on(b.sync_round()).unwrap();
    assert_eq!(report.conflicts, 0);
    assert_eq!(
        server.doc("items", "i1").unwrap().fields["title"],
        json!("14:05")
    );
    sync(&a);
    assert_eq!(field(&a, "i1", "title"), Some(json!("14:05")));
}

#[test]
fn a_change_travels_with_the_seeds_names_and_its_timestamp() {
    let (server, clock) = world();
    let a = device(&server, clock.clone(), "a");
    write(
        &a,
        "i1",
        LocalOp::Create(rec(
            json!({"localId": "i1", "serverId": "stale", "title": "t", "updatedAt": 1}),
        )),
    );
    sync(&a);
    let bodies = a.transport().http.bodies.borrow();
    let push = bodies.iter().find(|b| b["changes"] != json!([])).unwrap();
    assert_eq!(
        push["lastSyncTimestamp"],
        json!("9999-12-31T23:59:59.999Z"),
        "no updates asked"
    );
    assert_eq!(
        push["changes"],
        json!([{ "localId": "i1", "entityType": "item", "operation": "create",
            "timestamp": format_iso_ms(clock.true_now()), "data": { "title": "t" } }])
    );
    assert!(push["deviceId"].as_str().is_some_and(|d| !d.is_empty()));
}
