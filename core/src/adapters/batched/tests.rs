//! The batched adapter's answers as the engine reads them: the seed's error bodies,
//! `success: false`, an unreadable conflict, the provisional version of `applied`.

use serde_json::json;

use super::{Batched, BatchedConfig};
use crate::adapters::HttpResponse;
use crate::protocol::{MergeMode, Mutation, PushRequest};

#[test]
fn error_answers_of_the_seed_become_v1_errors() {
    let adapter = Batched::new(BatchedConfig::default());
    let request = PushRequest {
        protocol_version: 1,
        client_id: "c".into(),
        account: None,
        mutations: vec![Mutation {
            seq: 1,
            table: "items".into(),
            key: "i1".into(),
            op: crate::record::Op::Delete,
            base_version: 5,
            hlc: crate::hlc::Hlc {
                millis: 1,
                counter: 0,
                node: "c".into(),
            },
            mode: MergeMode::FieldMerge,
        }],
    };
    let answer = |status: u16, body: serde_json::Value| {
        let response = HttpResponse {
            status,
            retry_after_ms: None,
            body: body.to_string(),
        };
        let v1 = adapter.push_answer(&request, &response).unwrap();
        (
            v1.status,
            serde_json::from_str::<serde_json::Value>(&v1.body).unwrap(),
        )
    };
    let (status, body) = answer(
        401,
        json!({"success": false, "error": "Not authorized, token failed"}),
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("http_401"))
    );
    assert_eq!(
        body["error"]["message"],
        json!("Not authorized, token failed")
    );
    let (status, _) = answer(200, json!({"success": false, "error": "db down"}));
    assert_eq!(
        status, 500,
        "a 2xx saying success: false is retried as a 500"
    );
    // A conflict whose server document is missing cannot be resolved: parked.
    let conflict = json!({"success": true, "data": {"acknowledged": [], "serverUpdates": {},
        "conflicts": [{"localId": "i1", "entityType": "item", "operation": "delete"}],
        "syncTimestamp": "2026-01-01T00:00:00.000Z"}});
    let (status, body) = answer(200, conflict);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("not_accepted"))
    );
    let applied = json!({"success": true, "data": {"conflicts": [], "serverUpdates": {},
        "acknowledged": [{"localId": "i1", "entityType": "item", "operation": "delete", "success": true}],
        "syncTimestamp": "2026-01-01T00:00:00.000Z"}});
    let (status, body) = answer(200, applied);
    assert_eq!(status, 200);
    assert_eq!(
        body["results"],
        json!([{"status": "applied", "seq": 1, "version": 6, "previousVersion": 5}]),
        "applied at the provisional base + 1"
    );
    assert_eq!(body["serverTime"], json!(1_767_225_600_000_u64));
}
