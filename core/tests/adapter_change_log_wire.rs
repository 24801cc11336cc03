//! The changeLog adapter's wire format (seed 003, docs/adapters/changeLog.md), without
//! a server: how a v1 push becomes `pushChanges` changes and its answer v1 results,
//! and how a `getChanges` answer becomes one v1 page and the next cursor.

use idb_sync_core::adapters::change_log::ChangeLogCursor;
use idb_sync_core::adapters::{ChangeLog, ChangeLogConfig, HttpResponse};
use idb_sync_core::{Record, SyncError};
use serde_json::{json, Value};

fn rec(v: Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

#[test]
fn a_push_names_changes_as_the_seed_does() {
    use idb_sync_core::adapters::HttpMethod;
    use idb_sync_core::hlc::Hlc;
    use idb_sync_core::protocol::{MergeMode, Mutation, PushRequest};
    use idb_sync_core::Op;
    let adapter = ChangeLog::new(ChangeLogConfig {
        base_path: "/api/sync".into(),
        tables: vec![("things".to_string(), "items".to_string())],
        ..ChangeLogConfig::default()
    });
    let mutation = |seq, key: f64, op, base_version| Mutation {
        seq,
        table: "things".into(),
        key: key.into(),
        op,
        base_version,
        hlc: Hlc {
            millis: 77,
            counter: 0,
            node: "c".into(),
        },
        mode: MergeMode::FieldMerge,
    };
    let record = rec(json!({"name": "x", "sync": {"version": 3, "deviceId": "old"}}));
    let request = PushRequest {
        protocol_version: 1,
        client_id: "c".into(),
        account: None,
        mutations: vec![
            mutation(7, 5.0, Op::Create { record }, 0),
            mutation(
                8,
                6.0,
                Op::Update {
                    patch: rec(json!({"qty": 2})),
                },
                3,
            ),
            mutation(9, 7.0, Op::Delete, 4),
        ],
    };
    let http = adapter.push_http(&request);
    assert_eq!(
        (http.method, http.path.as_str()),
        (HttpMethod::Post, "/api/sync/pushChanges")
    );
    let body: Value = serde_json::from_str(http.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"changes": [
            {"id": "c:7", "entityType": "items", "entityId": "5", "operation": "create",
             "timestamp": 77, "data": {"name": "x", "id": 5}, "version": 0, "deviceId": "c"},
            {"id": "c:8", "entityType": "items", "entityId": "6", "operation": "update",
             "timestamp": 77, "data": {"qty": 2}, "version": 3, "deviceId": "c"},
            {"id": "c:9", "entityType": "items", "entityId": "7", "operation": "delete",
             "timestamp": 77, "data": null, "version": 4, "deviceId": "c"},
        ]}),
        "the seed client's `sync` bookkeeping is not sent"
    );
    let answer = HttpResponse {
        status: 200,
        retry_after_ms: None,
        body: json!({"accepted": ["c:7", "c:9"], "rejected": [], "conflicts": [
            {"local": {"id": "c:8"}, "server": {"entityType": "items", "entityId": "6",
             "operation": "update", "timestamp": 50, "data": {"id": 6, "qty": 1, "sync": {}},
             "version": 5, "deviceId": "d"}}]})
        .to_string(),
    };
    let v1: Value =
        serde_json::from_str(&adapter.push_answer(&request, &answer, 99).unwrap().body).unwrap();
    assert_eq!(
        v1["results"],
        json!([
            {"status": "applied", "seq": 7, "version": 1, "previousVersion": 0},
            {"status": "conflict", "seq": 8, "reason": "staleBase", "server": {"version": 5,
             "deleted": false, "data": {"id": 6, "qty": 1}, "hlc": {"millis": 50, "counter": 0, "node": "d"}}},
            {"status": "applied", "seq": 9, "version": 5, "previousVersion": 4},
        ])
    );
    assert_eq!(v1["serverTime"], json!(99));
}

#[test]
fn a_pulled_page_holds_each_key_once_at_its_highest_version() {
    use idb_sync_core::protocol::{decode_pull_response, PullRequest, PullResponse};
    let adapter = ChangeLog::default();
    let answer = HttpResponse {
        status: 200,
        retry_after_ms: None,
        body: json!({"changes": [
            {"id": 1, "entityType": "items", "entityId": "5", "operation": "create",
             "timestamp": 10, "data": {"id": 5, "t": "old"}, "version": 1},
            {"id": 2, "entityType": "items", "entityId": "5", "operation": "update",
             "timestamp": 20, "data": {"id": 5, "t": "new", "sync": {"version": 2}}, "version": 2},
            {"id": 3, "entityType": "lists", "entityId": "l1", "operation": "delete",
             "timestamp": 30, "data": null, "version": 4},
        ], "timestamp": 1_000})
        .to_string(),
    };
    let request = PullRequest {
        protocol_version: 1,
        client_id: "c".into(),
        account: None,
        cursor: None,
        limit: None,
        omit_own_through: None,
    };
    let page = adapter.pull_answer(&request, &answer).unwrap();
    let PullResponse::Ok(page) = decode_pull_response(&page.body).unwrap() else {
        panic!("not a page")
    };
    let changes: Vec<_> = page
        .changes
        .iter()
        .map(|c| {
            (
                c.table.clone(),
                c.key.to_string(),
                c.version,
                c.data.clone(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        vec![
            (
                "items".into(),
                "5".into(),
                2,
                Some(rec(json!({"id": 5, "t": "new"})))
            ),
            ("lists".into(), "\"l1\"".into(), 4, None),
        ],
        "a numeric key stays numeric; bookkeeping is left out"
    );
    let cursor = ChangeLogCursor::decode(Some(&page.cursor));
    assert_eq!(cursor.since, 1_000);
    assert_eq!(cursor.ack, vec!["1", "2", "3"]);
    let without_version = answer.body.replace("\"version\":4", "\"version\":0");
    let bad = HttpResponse {
        body: without_version,
        ..answer
    };
    assert!(matches!(
        adapter.pull_answer(&request, &bad),
        Err(SyncError::MalformedResponse(_))
    ));
}
