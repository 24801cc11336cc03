//! The keepalive push of a page that hides for good (docs/SYNC_MANAGER.md, "After the
//! tab closes"): the body read from the outbox changes nothing locally, carries the
//! seqs the next round gives the same entries, so the next session's push of them is
//! answered `duplicate` and changes nothing on the server; and when an entry changes
//! before that push, nothing is lost (`client_id_reused`, I11).

use idb_sync_core::engine::{EngineConfig, SyncEngine};
use idb_sync_core::memory::{
    block_on, serve, LoopbackTransport, ManualClock, MemoryServer, MemoryStorage,
};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::ports::{Storage, TransportRequest};
use idb_sync_core::protocol::{Endpoint, PushRequest};
use idb_sync_core::server::{BasicValidator, ServerConfig};
use idb_sync_core::sync_loop::read_keepalive;
use idb_sync_core::{Record, RecordId};
use serde_json::json;

type Engine = SyncEngine<MemoryStorage, LoopbackTransport<ManualClock>, ManualClock>;

fn rec(v: serde_json::Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

fn device(server: &MemoryServer, clock: &ManualClock, storage: MemoryStorage) -> Engine {
    let transport = LoopbackTransport::new(server, "u", clock.clone());
    SyncEngine::new(storage, transport, clock.clone(), EngineConfig::default())
}

fn write(engine: &Engine, key: &str, title: &str) {
    let op = LocalOp::Put(rec(json!({ "t": title })));
    block_on(engine.write(&RecordId::new("tasks", key), op)).unwrap();
}

/// What the page's `fetch(…, { keepalive: true })` does: the server applies it; its
/// answer reaches nobody.
fn send_keepalive(server: &MemoryServer, clock: &ManualClock, body: String) {
    let request = TransportRequest {
        endpoint: Endpoint::Push,
        body,
    };
    let config = ServerConfig::default();
    let answer = block_on(serve(
        server,
        "u",
        &config,
        &BasicValidator::default(),
        clock,
        &request,
    ));
    assert_eq!(answer.status, 200, "{}", answer.body);
}

fn server_titles(server: &MemoryServer) -> Vec<(String, String)> {
    server
        .user("u")
        .records
        .values()
        .filter_map(|r| {
            let t = r.data.as_ref()?.get("t")?.as_str()?.to_owned();
            Some((r.key.to_string().trim_matches('"').to_owned(), t))
        })
        .collect()
}

#[test]
fn the_next_sessions_push_of_a_keepalive_batch_is_a_no_op_on_the_server() {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_000_000);
    let storage = MemoryStorage::new("device-1");
    let page = device(&server, &clock, storage.clone());
    block_on(page.sync_round()).unwrap(); // signed in: the account is known
    for (key, title) in [("a", "one"), ("b", "two"), ("c", "three")] {
        write(&page, key, title);
    }
    let before = storage.snapshot();
    let body = block_on(read_keepalive(page.storage(), page.config()))
        .unwrap()
        .expect("three pending entries make a body");
    assert_eq!(
        storage.snapshot().states,
        before.states,
        "reading took nothing"
    );
    assert_eq!(storage.snapshot().meta, before.meta, "nor a seq");
    let request: PushRequest = serde_json::from_str(&body).unwrap();
    assert_eq!(request.mutations.len(), 3);
    assert!(request.account.is_some(), "I10: it names the account");

    // The page is gone; the server took the keepalive.
    send_keepalive(&server, &clock, body);
    let delivered = server.user("u");
    assert_eq!(server_titles(&server).len(), 3, "the server has the writes");

    // The next session pushes the same entries again: nothing changes on the server.
    clock.advance(60_000);
    let next = device(&server, &clock, storage.clone());
    let report = block_on(next.sync_round()).unwrap();
    assert_eq!((report.sent, report.duplicates, report.applied), (3, 3, 0));
    let after = server.user("u");
    assert_eq!(
        after.change_seq, delivered.change_seq,
        "no new change on the server"
    );
    assert_eq!(after.records, delivered.records);
    assert_eq!(
        block_on(storage.outbox_len()).unwrap(),
        0,
        "acknowledged now"
    );
}

#[test]
fn an_entry_written_again_before_the_next_push_is_not_lost() {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_000_000);
    let storage = MemoryStorage::new("device-1");
    let page = device(&server, &clock, storage.clone());
    write(&page, "a", "keepalive copy");
    write(&page, "b", "untouched");
    let body = block_on(read_keepalive(page.storage(), page.config()))
        .unwrap()
        .unwrap();
    send_keepalive(&server, &clock, body);

    // The next session writes "a" again before its first push: seq 1 now carries
    // other content; the server refuses the reuse and the client resends under a new id.
    clock.advance(60_000);
    let next = device(&server, &clock, storage.clone());
    write(&next, "a", "written later");
    write(&next, "c", "new");
    block_on(next.sync_round()).unwrap();
    let mut titles = server_titles(&server);
    titles.sort();
    assert_eq!(
        titles,
        vec![
            ("a".into(), "written later".into()),
            ("b".into(), "untouched".into()),
            ("c".into(), "new".into()),
        ]
    );
    assert_eq!(block_on(storage.outbox_len()).unwrap(), 0);
    let meta = block_on(storage.read_meta()).unwrap();
    assert_ne!(meta.client_id, "device-1", "I11: a new identity");
}

#[test]
fn in_flight_entries_leave_as_they_are_and_nothing_from_an_empty_outbox() {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_000_000);
    let storage = MemoryStorage::new("device-1");
    let page = device(&server, &clock, storage.clone());
    assert_eq!(
        block_on(read_keepalive(page.storage(), page.config())).unwrap(),
        None
    );
    write(&page, "a", "sent once");
    // A round took it in flight and its answer never came (frozen, I2).
    let taken = block_on(storage.take_batch(&Default::default(), &|_| Default::default())).unwrap();
    write(&page, "a", "pending on top");
    let body = block_on(read_keepalive(page.storage(), page.config()))
        .unwrap()
        .unwrap();
    let request: PushRequest = serde_json::from_str(&body).unwrap();
    assert_eq!(
        request.mutations,
        vec![taken[0].to_mutation()],
        "the in-flight entry, as sent"
    );
    send_keepalive(&server, &clock, body);
    let report = block_on(page.sync_round()).unwrap();
    assert_eq!(report.duplicates, 1, "the resend of the in-flight entry");
    assert_eq!(
        server_titles(&server),
        vec![("a".into(), "pending on top".into())]
    );
}
