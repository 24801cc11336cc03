//! The rest adapter (seed 001, docs/adapters/rest.md) under the real engine, against
//! a fixture of the seed's server (`adapter_fixtures/seed001.rs`): devices with
//! skewed clocks converge on creates, updates and deletes; the per-table cursor is the
//! server's `updatedAt` and survives a new engine; a lost answer is resent safely; a
//! server error is retried; a refused item is parked alone; conflicts the server
//! reports (404 on an update) and conflicts met on pull go through the policy; never
//! more than `concurrency` requests at once.

#[path = "adapter_fixtures/seed001.rs"]
mod seed001;
#[path = "adapter_fixtures/rest_world.rs"]
mod world;

use idb_sync_core::adapters::HttpMethod;
use idb_sync_core::conflict::ConflictPolicy;
use idb_sync_core::memory::{block_on, MemoryStorage};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::ports::Storage;
use idb_sync_core::{RecordId, SyncError};
use serde_json::json;
use world::*;

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
    local_write(
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
    local_write(&a, "t1", LocalOp::Delete);
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

    local_write(&a, "t1", LocalOp::Delete);
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
    local_write(
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
        local_write(&b, "t1", LocalOp::Update(rec(json!({ "title": "edited" }))));
        *b.transport().http.script.borrow_mut() = vec![true];
        assert!(block_on(b.sync_round()).is_err());
        clock.advance(1_000);
        local_write(&a, "t1", LocalOp::Delete);
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
    local_write(&a, "t1", LocalOp::Update(rec(json!({ "title": "from a" }))));
    local_write(&b, "t1", LocalOp::Update(rec(json!({ "title": "from b" }))));
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
