//! The server rules: idempotency (I3), conflict detection, field merge, pull pages,
//! tombstone horizon, protocol version, size limits.

use idb_sync_core::hlc::Hlc;
use idb_sync_core::memory::{block_on, MemoryServer};
use idb_sync_core::protocol::{
    ConflictReason, MergeMode, Mutation, MutationResult, PullRequest, PullResponse, PushRequest,
};
use idb_sync_core::server::{apply_push, collect_tombstones, pull, BasicValidator, ServerConfig};
use idb_sync_core::{Op, Record, RecordKey};
use serde_json::json;

fn rec(v: serde_json::Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

fn m(seq: u64, key: &str, op: Op, base: u64, mode: MergeMode) -> Mutation {
    Mutation {
        seq,
        table: "t".into(),
        key: RecordKey::from(key),
        op,
        base_version: base,
        hlc: Hlc::zero("c"),
        mode,
    }
}

fn push(server: &MemoryServer, client: &str, mutations: Vec<Mutation>) -> Vec<MutationResult> {
    let mut tx = server.begin();
    let req = PushRequest {
        protocol_version: 1,
        client_id: client.into(),
        account: None,
        mutations,
    };
    let resp = block_on(apply_push(
        &mut tx,
        "u",
        &req,
        &ServerConfig::default(),
        &BasicValidator::default(),
        5,
    ))
    .unwrap();
    tx.commit();
    resp.results
}

fn create(seq: u64, key: &str) -> Mutation {
    m(
        seq,
        key,
        Op::Create {
            record: rec(json!({"a": 1, "b": 1})),
        },
        0,
        MergeMode::FieldMerge,
    )
}

#[test]
fn a_resent_mutation_is_answered_duplicate_and_not_applied_twice() {
    let server = MemoryServer::new();
    let first = push(&server, "c", vec![create(1, "k")]);
    let change_seq = server.user("u").change_seq;
    let again = push(&server, "c", vec![create(1, "k")]);
    assert!(matches!(first[0], MutationResult::Applied { .. }));
    assert_eq!(again[0], MutationResult::Duplicate { seq: 1 });
    assert_eq!(server.user("u").change_seq, change_seq, "nothing written");
}

#[test]
fn a_resent_conflicted_mutation_is_answered_conflict_again_not_duplicate() {
    let server = MemoryServer::new();
    push(&server, "other", vec![create(1, "k")]);
    let first = push(&server, "c", vec![create(1, "k")]);
    let again = push(&server, "c", vec![create(1, "k")]);
    assert!(matches!(
        first[0],
        MutationResult::Conflict {
            reason: ConflictReason::AlreadyExists,
            ..
        }
    ));
    assert_eq!(first, again);
}

#[test]
fn the_high_water_mark_is_per_client() {
    let server = MemoryServer::new();
    push(&server, "a", vec![create(1, "k1")]);
    let r = push(&server, "b", vec![create(1, "k2")]);
    assert!(matches!(r[0], MutationResult::Applied { .. }));
}

#[test]
fn a_failed_transaction_keeps_neither_effects_nor_high_water_mark() {
    let server = MemoryServer::new();
    let mut tx = server.begin();
    let req = PushRequest {
        protocol_version: 1,
        client_id: "c".into(),
        account: None,
        mutations: vec![create(1, "k")],
    };
    block_on(apply_push(
        &mut tx,
        "u",
        &req,
        &ServerConfig::default(),
        &BasicValidator::default(),
        5,
    ))
    .unwrap();
    drop(tx); // rolled back
    let r = push(&server, "c", vec![create(1, "k")]);
    assert!(
        matches!(r[0], MutationResult::Applied { .. }),
        "applied on the resend, once"
    );
}

#[test]
fn strict_update_with_a_stale_base_is_a_conflict_carrying_the_server_record() {
    let server = MemoryServer::new();
    push(&server, "c", vec![create(1, "k")]);
    push(
        &server,
        "c",
        vec![m(
            2,
            "k",
            Op::Update {
                patch: rec(json!({"a": 2})),
            },
            1,
            MergeMode::FieldMerge,
        )],
    );
    let r = push(
        &server,
        "c",
        vec![m(
            3,
            "k",
            Op::Update {
                patch: rec(json!({"b": 9})),
            },
            1,
            MergeMode::Strict,
        )],
    );
    match &r[0] {
        MutationResult::Conflict { reason, server, .. } => {
            assert_eq!(*reason, ConflictReason::StaleBase);
            assert_eq!(server.data, Some(rec(json!({"a": 2, "b": 1}))));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn field_merge_update_with_a_stale_base_patches_the_current_record() {
    let server = MemoryServer::new();
    push(&server, "c", vec![create(1, "k")]);
    push(
        &server,
        "c",
        vec![m(
            2,
            "k",
            Op::Update {
                patch: rec(json!({"a": 2})),
            },
            1,
            MergeMode::FieldMerge,
        )],
    );
    push(
        &server,
        "d",
        vec![m(
            1,
            "k",
            Op::Update {
                patch: rec(json!({"b": 3})),
            },
            1,
            MergeMode::FieldMerge,
        )],
    );
    let rows = server.user("u");
    assert_eq!(
        rows.records.values().next().and_then(|r| r.data.clone()),
        Some(rec(json!({"a": 2, "b": 3})))
    );
}

#[test]
fn update_of_a_deleted_record_is_a_missing_conflict() {
    let server = MemoryServer::new();
    push(
        &server,
        "c",
        vec![
            create(1, "k"),
            m(2, "k", Op::Delete, 1, MergeMode::FieldMerge),
        ],
    );
    let r = push(
        &server,
        "d",
        vec![m(
            1,
            "k",
            Op::Update {
                patch: rec(json!({"a": 5})),
            },
            1,
            MergeMode::FieldMerge,
        )],
    );
    assert!(matches!(
        r[0],
        MutationResult::Conflict {
            reason: ConflictReason::Missing,
            ..
        }
    ));
}

#[test]
fn pull_pages_through_the_change_stream_with_an_opaque_cursor() {
    let server = MemoryServer::new();
    push(
        &server,
        "c",
        (1..=5).map(|i| create(i, &format!("k{i}"))).collect(),
    );
    let mut cursor = None;
    let mut seen = 0;
    loop {
        let mut tx = server.begin();
        let req = PullRequest {
            protocol_version: 1,
            client_id: "c".into(),
            account: None,
            cursor: cursor.clone(),
            limit: Some(2),
            omit_own_through: None,
        };
        let PullResponse::Ok(page) =
            block_on(pull(&mut tx, "u", &req, &ServerConfig::default(), 9)).unwrap()
        else {
            panic!()
        };
        seen += page.changes.len();
        cursor = Some(page.cursor);
        if !page.has_more {
            break;
        }
    }
    assert_eq!(seen, 5);
}

#[test]
fn a_cursor_older_than_the_tombstone_horizon_gets_reset_required() {
    let server = MemoryServer::new();
    push(&server, "c", vec![create(1, "k")]);
    let mut tx = server.begin();
    let req = PullRequest {
        protocol_version: 1,
        client_id: "c".into(),
        account: None,
        cursor: None,
        limit: None,
        omit_own_through: None,
    };
    let PullResponse::Ok(page) =
        block_on(pull(&mut tx, "u", &req, &ServerConfig::default(), 9)).unwrap()
    else {
        panic!()
    };
    push(
        &server,
        "c",
        vec![m(2, "k", Op::Delete, 1, MergeMode::FieldMerge)],
    );
    let mut tx = server.begin();
    block_on(collect_tombstones(&mut tx, "u", 2)).unwrap();
    tx.commit();
    let mut tx = server.begin();
    let req = PullRequest {
        protocol_version: 1,
        client_id: "c".into(),
        account: None,
        cursor: Some(page.cursor),
        limit: None,
        omit_own_through: None,
    };
    assert!(matches!(
        block_on(pull(&mut tx, "u", &req, &ServerConfig::default(), 9)).unwrap(),
        PullResponse::ResetRequired { .. }
    ));
}

#[test]
fn another_protocol_version_gets_upgrade_required() {
    let server = MemoryServer::new();
    let mut tx = server.begin();
    let req = PushRequest {
        protocol_version: 2,
        client_id: "c".into(),
        account: None,
        mutations: vec![],
    };
    let err = block_on(apply_push(
        &mut tx,
        "u",
        &req,
        &ServerConfig::default(),
        &BasicValidator::default(),
        5,
    ))
    .unwrap_err();
    assert_eq!((err.status(), err.code()), (426, "upgrade_required"));
}

#[test]
fn too_many_mutations_get_payload_too_large() {
    let server = MemoryServer::new();
    let mut tx = server.begin();
    let config = ServerConfig {
        max_mutations_per_push: 2,
        ..ServerConfig::default()
    };
    let req = PushRequest {
        protocol_version: 1,
        client_id: "c".into(),
        account: None,
        mutations: (1..=3).map(|i| create(i, "k")).collect(),
    };
    let err = block_on(apply_push(
        &mut tx,
        "u",
        &req,
        &config,
        &BasicValidator::default(),
        5,
    ))
    .unwrap_err();
    assert_eq!(err.status(), 413);
}

#[test]
fn users_never_see_each_others_records() {
    let server = MemoryServer::new();
    push(&server, "c", vec![create(1, "k")]);
    let mut tx = server.begin();
    let req = PullRequest {
        protocol_version: 1,
        client_id: "c".into(),
        account: None,
        cursor: None,
        limit: None,
        omit_own_through: None,
    };
    let PullResponse::Ok(page) = block_on(pull(
        &mut tx,
        "someone-else",
        &req,
        &ServerConfig::default(),
        9,
    ))
    .unwrap() else {
        panic!()
    };
    assert!(page.changes.is_empty());
}

/// One page for client `client` after `cursor`, leaving out its own changes through
/// `omit`.
fn pull_page(
    server: &MemoryServer,
    client: &str,
    cursor: Option<idb_sync_core::protocol::Cursor>,
    limit: u32,
    omit: Option<u64>,
) -> idb_sync_core::protocol::PullPage {
    let mut tx = server.begin();
    let req = PullRequest {
        protocol_version: 1,
        client_id: client.into(),
        account: None,
        cursor,
        limit: Some(limit),
        omit_own_through: omit,
    };
    let PullResponse::Ok(page) =
        block_on(pull(&mut tx, "u", &req, &ServerConfig::default(), 9)).unwrap()
    else {
        panic!("a page")
    };
    page
}

#[test]
fn an_incremental_pull_leaves_out_the_clients_own_echoes_and_still_moves_its_cursor() {
    let server = MemoryServer::new();
    push(&server, "c", vec![create(1, "k0")]);
    let start = pull_page(&server, "c", None, 10, Some(99));
    assert_eq!(
        start.changes.len(),
        1,
        "a full pull never leaves anything out"
    );
    // Own seqs 2..=5, then another client's change, then own seq 6.
    push(
        &server,
        "c",
        (2..=5).map(|i| create(i, &format!("k{i}"))).collect(),
    );
    push(&server, "d", vec![create(1, "other")]);
    push(&server, "c", vec![create(6, "k6")]);
    // A page of only own echoes: empty, but its cursor moved past them.
    let first = pull_page(&server, "c", Some(start.cursor.clone()), 2, Some(5));
    assert!(first.changes.is_empty());
    assert!(first.has_more);
    let second = pull_page(&server, "c", Some(first.cursor), 10, Some(5));
    let keys: Vec<String> = second.changes.iter().map(|c| c.key.to_string()).collect();
    assert_eq!(keys, ["\"other\"", "\"k6\""]);
    assert!(!second.has_more);
    // Without the field (or for another client id) everything comes.
    let all = pull_page(&server, "c", Some(start.cursor.clone()), 10, None);
    assert_eq!(all.changes.len(), 6);
    let other = pull_page(&server, "e", Some(start.cursor), 10, Some(5));
    assert_eq!(other.changes.len(), 6);
}
