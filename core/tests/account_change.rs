//! One account per local database (I10): a database whose data belongs to one
//! account never pushes into another, never pulls another user's stream from its
//! cursor, and syncs again only after the app decides what to do with its data.

use idb_sync_core::engine::{self, EngineConfig, LocalDataChoice, SyncEngine};
use idb_sync_core::memory::{
    block_on, LoopbackTransport, ManualClock, MemoryServer, MemoryStorage,
};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::outbox::ClientMeta;
use idb_sync_core::ports::{Storage, Transport, TransportRequest, TransportResponse};
use idb_sync_core::protocol::{PullRequest, PullResponse, PushRequest};
use idb_sync_core::server::{apply_push, pull, BasicValidator, ServerConfig};
use idb_sync_core::{Record, RecordId, SyncError};
use serde_json::json;

type Engine<T = LoopbackTransport<ManualClock>> = SyncEngine<MemoryStorage, T, ManualClock>;

fn rec(v: serde_json::Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

fn signed_in(
    server: &MemoryServer,
    clock: &ManualClock,
    storage: &MemoryStorage,
    user: &str,
) -> Engine {
    let transport = LoopbackTransport::new(server, user, clock.clone());
    SyncEngine::new(
        storage.clone(),
        transport,
        clock.clone(),
        EngineConfig::default(),
    )
}

fn key_text(key: &idb_sync_core::RecordKey) -> String {
    key.to_string().trim_matches('"').to_owned()
}

fn server_keys(server: &MemoryServer, user: &str) -> Vec<String> {
    server
        .user(user)
        .records
        .values()
        .filter(|r| r.data.is_some())
        .map(|r| key_text(&r.key))
        .collect()
}

fn local_keys(storage: &MemoryStorage) -> Vec<String> {
    storage
        .records()
        .keys()
        .map(|id| key_text(&id.key))
        .collect()
}

/// Bob has `bob-1` on the server (from another device). Alice synced `alice-1` on the
/// shared database, then wrote offline: an update of `alice-1` and a new `alice-2`.
fn alice_then_bob() -> (MemoryServer, ManualClock, MemoryStorage) {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_000_000);
    let bobs_phone = signed_in(&server, &clock, &MemoryStorage::new("bobs-phone"), "bob");
    block_on(bobs_phone.write(
        &RecordId::new("tasks", "bob-1"),
        LocalOp::Create(rec(json!({"t": "bob"}))),
    ))
    .unwrap();
    block_on(bobs_phone.sync_round()).unwrap();
    let storage = MemoryStorage::new("shared");
    let alice = signed_in(&server, &clock, &storage, "alice");
    block_on(alice.write(
        &RecordId::new("tasks", "alice-1"),
        LocalOp::Create(rec(json!({"t": "a"}))),
    ))
    .unwrap();
    block_on(alice.sync_round()).unwrap();
    block_on(alice.write(
        &RecordId::new("tasks", "alice-1"),
        LocalOp::Update(rec(json!({"t": "offline"}))),
    ))
    .unwrap();
    block_on(alice.write(
        &RecordId::new("tasks", "alice-2"),
        LocalOp::Create(rec(json!({"t": "secret"}))),
    ))
    .unwrap();
    (server, clock, storage)
}

#[test]
fn the_first_exchange_records_the_account_of_the_local_data() {
    let (_, _, storage) = alice_then_bob();
    assert_eq!(
        block_on(storage.read_meta()).unwrap().account.as_deref(),
        Some("alice")
    );
}

#[test]
fn another_account_signed_in_fails_the_round_with_account_changed_and_touches_nothing() {
    let (server, clock, storage) = alice_then_bob();
    let before = storage.snapshot();
    let bob = signed_in(&server, &clock, &storage, "bob");
    for _ in 0..2 {
        let error = block_on(bob.sync_round()).unwrap_err();
        assert_eq!(error.code(), "account_changed", "{error}");
    }
    assert_eq!(
        server_keys(&server, "bob"),
        vec!["bob-1"],
        "nothing of Alice's reached Bob's account"
    );
    assert_eq!(
        server.user("alice").records.len(),
        1,
        "Alice's offline writes wait for Alice"
    );
    let after = storage.snapshot();
    assert_eq!(
        (after.meta, after.states),
        (before.meta, before.states),
        "the local database is untouched"
    );
}

#[test]
fn clear_gives_the_new_account_a_fresh_database_with_its_own_records() {
    let (server, clock, storage) = alice_then_bob();
    let bob = signed_in(&server, &clock, &storage, "bob");
    assert!(block_on(bob.sync_round()).is_err());
    block_on(engine::resolve_account_change(
        &storage,
        &clock,
        LocalDataChoice::Clear,
    ))
    .unwrap();
    block_on(bob.sync_round()).unwrap();
    assert_eq!(local_keys(&storage), vec!["bob-1"]);
    assert_eq!(server_keys(&server, "bob"), vec!["bob-1"]);
    assert_eq!(block_on(storage.outbox_len()).unwrap(), 0);
    assert_eq!(
        block_on(storage.read_meta()).unwrap().account.as_deref(),
        Some("bob")
    );
}

#[test]
fn keep_parks_unsynced_changes_as_dead_letters_and_pulls_the_new_account() {
    let (server, clock, storage) = alice_then_bob();
    let bob = signed_in(&server, &clock, &storage, "bob");
    assert!(block_on(bob.sync_round()).is_err());
    block_on(engine::resolve_account_change(
        &storage,
        &clock,
        LocalDataChoice::Keep,
    ))
    .unwrap();
    block_on(bob.sync_round()).unwrap();
    assert_eq!(
        server_keys(&server, "bob"),
        vec!["bob-1"],
        "kept changes are not pushed into Bob's account"
    );
    assert_eq!(
        local_keys(&storage),
        vec!["alice-1", "alice-2", "bob-1"],
        "Alice's records stay, Bob's arrive"
    );
    let letters = block_on(storage.dead_letters()).unwrap();
    let parked: Vec<String> = letters
        .iter()
        .map(|l| format!("{}:{}", key_text(&l.record.key), l.code))
        .collect();
    assert_eq!(
        parked,
        vec!["alice-1:account_changed", "alice-2:account_changed"]
    );
    // Only an explicit retry pushes one of them, into the account now signed in.
    let letter = letters
        .iter()
        .find(|l| key_text(&l.record.key) == "alice-2")
        .unwrap();
    block_on(engine::retry_dead_letter(&storage, &clock, letter)).unwrap();
    block_on(bob.sync_round()).unwrap();
    assert_eq!(server_keys(&server, "bob"), vec!["alice-2", "bob-1"]);
}

/// A server from before accounts: it ignores the request's `account`.
struct IgnoresAccount(LoopbackTransport<ManualClock>);

impl Transport for IgnoresAccount {
    async fn send(&self, mut request: TransportRequest) -> Result<TransportResponse, SyncError> {
        let mut body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
        body.as_object_mut().unwrap().remove("account");
        request.body = body.to_string();
        self.0.send(request).await
    }
}

#[test]
fn an_answer_for_another_account_is_refused_and_nothing_of_it_applied() {
    let (server, clock, storage) = alice_then_bob();
    let before = storage.snapshot();
    let transport = IgnoresAccount(bobs_transport(&server, &clock));
    let bob: Engine<IgnoresAccount> = SyncEngine::new(
        storage.clone(),
        transport,
        clock.clone(),
        EngineConfig::default(),
    );
    let error = block_on(bob.sync_round()).unwrap_err();
    assert_eq!(error.code(), "account_changed");
    let after = storage.snapshot();
    assert_eq!((after.meta, after.states), (before.meta, before.states));
    // That server did apply the push it heard (it cannot know better), but the client
    // learnt nothing from Bob's stream and keeps refusing.
    assert!(block_on(bob.sync_round()).is_err());
}

fn bobs_transport(server: &MemoryServer, clock: &ManualClock) -> LoopbackTransport<ManualClock> {
    LoopbackTransport::new(server, "bob", clock.clone())
}

#[test]
fn the_server_refuses_a_request_naming_another_account_with_409() {
    let server = MemoryServer::new();
    let mut tx = server.begin();
    let push = PushRequest {
        protocol_version: 1,
        client_id: "c".into(),
        account: Some("alice".into()),
        mutations: vec![],
    };
    let error = block_on(apply_push(
        &mut tx,
        "bob",
        &push,
        &ServerConfig::default(),
        &BasicValidator::default(),
        1,
    ))
    .unwrap_err();
    assert_eq!((error.status(), error.code()), (409, "account_changed"));
    let pull_req = PullRequest {
        protocol_version: 1,
        client_id: "c".into(),
        account: Some("alice".into()),
        cursor: None,
        limit: None,
        omit_own_through: None,
    };
    let error = block_on(pull(&mut tx, "bob", &pull_req, &ServerConfig::default(), 1)).unwrap_err();
    assert_eq!((error.status(), error.code()), (409, "account_changed"));
}

#[test]
fn another_users_cursor_is_answered_with_a_reset_never_with_data() {
    let (server, clock, storage) = alice_then_bob();
    block_on(signed_in(&server, &clock, &storage, "alice").sync_round()).unwrap();
    let alices_cursor = block_on(storage.read_meta()).unwrap().cursor;
    let mut tx = server.begin();
    let request = PullRequest {
        protocol_version: 1,
        client_id: "c".into(),
        account: None,
        cursor: alices_cursor,
        limit: None,
        omit_own_through: None,
    };
    match block_on(pull(&mut tx, "bob", &request, &ServerConfig::default(), 1)).unwrap() {
        PullResponse::ResetRequired { account, .. } => assert_eq!(account.as_deref(), Some("bob")),
        page => panic!("Alice's cursor gave Bob {page:?}"),
    }
}

#[test]
fn metadata_stored_before_accounts_still_loads() {
    let mut stored = serde_json::to_value(ClientMeta::new("old")).unwrap();
    stored.as_object_mut().unwrap().remove("account");
    let meta: ClientMeta = serde_json::from_value(stored).unwrap();
    assert_eq!(meta.account, None);
}
