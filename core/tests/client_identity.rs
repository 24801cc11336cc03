//! A client identity is never reused (I11), and the server's idempotency outcomes
//! stay bounded (docs/INVARIANTS.md, "Server resources are bounded"): a wiped or restored database that comes back
//! with its old client id loses no write, and a client's stored outcomes do not grow
//! with the number of pushes.

use idb_sync_core::engine::{EngineConfig, SyncEngine};
use idb_sync_core::hlc::Hlc;
use idb_sync_core::memory::{
    block_on, LoopbackTransport, ManualClock, MemoryServer, MemoryStorage,
};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::ports::Storage;
use idb_sync_core::protocol::{MergeMode, Mutation, MutationResult, PushRequest};
use idb_sync_core::server::{
    apply_push, BasicValidator, ClientState, OutcomeKind, ServerConfig, ServerError, ServerStore,
    StoredOutcome,
};
use idb_sync_core::{Op, Record, RecordId};
use serde_json::json;

type Engine = SyncEngine<MemoryStorage, LoopbackTransport<ManualClock>, ManualClock>;

fn rec(v: serde_json::Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

fn device(server: &MemoryServer, clock: &ManualClock, storage: MemoryStorage) -> Engine {
    let transport = LoopbackTransport::new(server, "u", clock.clone());
    SyncEngine::new(storage, transport, clock.clone(), EngineConfig::default())
}

fn server_titles(server: &MemoryServer) -> Vec<String> {
    server
        .user("u")
        .records
        .values()
        .filter_map(|r| r.data.as_ref()?.get("t")?.as_str().map(str::to_owned))
        .collect()
}

fn create(seq: u64, key: &str, title: &str) -> Mutation {
    Mutation {
        seq,
        table: "tasks".into(),
        key: key.into(),
        op: Op::Create {
            record: rec(json!({ "t": title })),
        },
        base_version: 0,
        hlc: Hlc {
            millis: 1,
            counter: 0,
            node: "c".into(),
        },
        mode: MergeMode::FieldMerge,
    }
}

fn push(
    server: &MemoryServer,
    config: &ServerConfig,
    mutations: Vec<Mutation>,
) -> Result<Vec<MutationResult>, ServerError> {
    let mut tx = server.begin();
    let request = PushRequest {
        protocol_version: 1,
        client_id: "c".into(),
        account: None,
        mutations,
    };
    let response = block_on(apply_push(
        &mut tx,
        "u",
        &request,
        config,
        &BasicValidator::default(),
        1,
    ))?;
    tx.commit();
    Ok(response.results)
}

#[test]
fn a_wiped_database_that_keeps_its_client_id_loses_no_write() {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_000_000);
    let before = device(&server, &clock, MemoryStorage::new("device-1"));
    for (key, title) in [("a", "first"), ("b", "second")] {
        block_on(before.write(
            &RecordId::new("tasks", key),
            LocalOp::Create(rec(json!({ "t": title }))),
        ))
        .unwrap();
    }
    block_on(before.sync_round()).unwrap();
    // Storage cleared (or a backup restored): same id, seqs from 1 again.
    clock.advance(5_000);
    let after = device(&server, &clock, MemoryStorage::new("device-1"));
    for (key, title) in [("c", "after the wipe"), ("d", "also after")] {
        block_on(after.write(
            &RecordId::new("tasks", key),
            LocalOp::Create(rec(json!({ "t": title }))),
        ))
        .unwrap();
    }
    block_on(after.sync_round()).unwrap();
    let mut titles = server_titles(&server);
    titles.sort();
    assert_eq!(
        titles,
        vec!["after the wipe", "also after", "first", "second"]
    );
    let meta = block_on(after.storage().read_meta()).unwrap();
    assert_ne!(
        meta.client_id, "device-1",
        "the database took a new identity"
    );
    assert_eq!(block_on(after.storage().outbox_len()).unwrap(), 0);
    // And it keeps syncing under the new id.
    block_on(after.write(
        &RecordId::new("tasks", "e"),
        LocalOp::Create(rec(json!({ "t": "later" }))),
    ))
    .unwrap();
    block_on(after.sync_round()).unwrap();
    assert!(server_titles(&server).contains(&"later".to_owned()));
}

#[test]
fn a_seq_that_comes_back_with_other_content_is_refused_and_nothing_applied() {
    let server = MemoryServer::new();
    let config = ServerConfig::default();
    push(
        &server,
        &config,
        vec![create(1, "a", "original"), create(2, "b", "original")],
    )
    .unwrap();
    let error = push(
        &server,
        &config,
        vec![create(1, "a", "original"), create(2, "z", "other")],
    )
    .unwrap_err();
    assert_eq!((error.status(), error.code()), (409, "client_id_reused"));
    assert_eq!(
        server.user("u").records.len(),
        2,
        "nothing of the refused push was applied"
    );
    // The same content again is still a plain duplicate (a lost answer, I3).
    let again = push(
        &server,
        &config,
        vec![create(1, "a", "original"), create(2, "b", "original")],
    )
    .unwrap();
    assert!(
        again
            .iter()
            .all(|r| matches!(r, MutationResult::Duplicate { .. })),
        "{again:?}"
    );
}

#[test]
fn a_push_starting_below_the_acknowledged_seqs_is_refused() {
    let server = MemoryServer::new();
    let config = ServerConfig::default();
    push(
        &server,
        &config,
        vec![create(1, "a", "x"), create(2, "b", "x")],
    )
    .unwrap();
    push(&server, &config, vec![create(3, "c", "x")]).unwrap(); // answers for 1 and 2 were received
    let error = push(&server, &config, vec![create(1, "a", "x")]).unwrap_err();
    assert_eq!(error.code(), "client_id_reused");
}

#[test]
fn stored_outcomes_stay_bounded_after_many_pushes() {
    let server = MemoryServer::new();
    let config = ServerConfig::default();
    for i in 0..300u64 {
        let seqs = [3 * i + 1, 3 * i + 2, 3 * i + 3];
        push(
            &server,
            &config,
            seqs.iter()
                .map(|&s| create(s, &format!("k{s}"), "x"))
                .collect(),
        )
        .unwrap();
    }
    let state = &server.user("u").clients["c"];
    assert_eq!(
        state.outcomes.len(),
        3,
        "only the latest push's outcomes are kept"
    );
    assert_eq!(state.high_water, 900);
}

#[test]
fn stored_outcomes_are_capped_even_when_a_client_never_moves_on() {
    let server = MemoryServer::new();
    let config = ServerConfig {
        max_mutations_per_push: 2,
        max_outcomes_per_client: 5,
        ..ServerConfig::default()
    };
    for s in 2..=6u64 {
        // Always resending seq 1 first keeps every outcome above it "unacknowledged".
        push(
            &server,
            &config,
            vec![create(1, "a", "x"), create(s, &format!("k{s}"), "x")],
        )
        .unwrap();
    }
    assert_eq!(server.user("u").clients["c"].outcomes.len(), 5);
    let error = push(&server, &config, vec![create(1, "a", "x")]).unwrap_err();
    assert_eq!(
        error.code(),
        "client_id_reused",
        "a pruned seq is never answered `duplicate`"
    );
}

#[test]
fn outcomes_stored_before_content_hashes_are_still_answered() {
    let server = MemoryServer::new();
    let mut tx = server.begin();
    let mut legacy = ClientState {
        high_water: 2,
        ..ClientState::default()
    };
    legacy.outcomes.insert(
        2,
        StoredOutcome {
            hash: None,
            kind: OutcomeKind::Conflict(idb_sync_core::protocol::ConflictReason::Missing),
        },
    );
    block_on(tx.put_client_state("u", "c", &legacy)).unwrap();
    tx.commit();
    let results = push(
        &server,
        &ServerConfig::default(),
        vec![create(1, "a", "x"), create(2, "b", "x")],
    )
    .unwrap();
    assert!(
        matches!(results[0], MutationResult::Duplicate { .. }),
        "{results:?}"
    );
    assert!(
        matches!(results[1], MutationResult::Conflict { .. }),
        "{results:?}"
    );
}
