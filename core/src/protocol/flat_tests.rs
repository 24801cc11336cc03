//! The flat decodings accept what serde's tagged decodings accepted, and give the
//! same values: every variant round-trips, the tag may come anywhere, unknown fields
//! are ignored, and a missing field, an unknown tag or a wrong type is an error.

use serde::Deserialize;
use serde_json::{from_value, json, to_value, Value};

use super::*;
use crate::hlc::Hlc;
use crate::protocol::Origin;
use crate::ErrorClass;

fn round_trip<T>(value: T)
where
    T: serde::Serialize + for<'de> Deserialize<'de> + PartialEq + fmt::Debug,
{
    let json = to_value(&value).unwrap();
    let back: T = from_value(json.clone()).unwrap_or_else(|e| panic!("{json}: {e}"));
    assert_eq!(back, value, "{json}");
    // And through the text form, as the transport reads it.
    let back: T = serde_json::from_str(&json.to_string()).unwrap();
    assert_eq!(back, value);
}

fn refused<T: for<'de> Deserialize<'de> + fmt::Debug>(json: Value) {
    assert!(from_value::<T>(json.clone()).is_err(), "accepted {json}");
}

fn record(v: Value) -> Record {
    v.as_object().unwrap().clone()
}

fn snapshot() -> ServerSnapshot {
    ServerSnapshot {
        version: 4,
        deleted: false,
        data: Some(record(json!({ "title": "x", "n": 0.1 }))),
        hlc: Some(Hlc {
            millis: 5,
            counter: 1,
            node: "c".into(),
        }),
    }
}

/// serde's own internally tagged decoding of `Op`, the reference.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "camelCase")]
enum ReferenceOp {
    Create { record: Record },
    Put { record: Record },
    Update { patch: Patch },
    Delete,
}

fn reference(op: &Op) -> ReferenceOp {
    match op.clone() {
        Op::Create { record } => ReferenceOp::Create { record },
        Op::Put { record } => ReferenceOp::Put { record },
        Op::Update { patch } => ReferenceOp::Update { patch },
        Op::Delete => ReferenceOp::Delete,
    }
}

#[test]
fn ops_decode_as_the_tagged_decoding_did() {
    let inputs = [
        json!({ "kind": "create", "record": { "a": 1 } }),
        json!({ "record": { "a": [1, 2.5] }, "kind": "put" }),
        json!({ "kind": "update", "patch": { "b": null }, "extra": true }),
        json!({ "kind": "delete" }),
        json!({ "kind": "delete", "record": null }),
        json!({ "kind": "create" }),
        json!({ "kind": "create", "record": null }),
        json!({ "kind": "update", "record": { "a": 1 } }),
        json!({ "kind": "put", "record": [1] }),
        json!({ "kind": "frobnicate", "record": {} }),
        json!({ "kind": 3 }),
        json!({ "record": {} }),
        json!("delete"),
        json!(null),
    ];
    for input in inputs {
        let ours = from_value::<Op>(input.clone());
        let theirs = from_value::<ReferenceOp>(input.clone());
        match (ours, theirs) {
            (Ok(ours), Ok(theirs)) => assert_eq!(reference(&ours), theirs, "{input}"),
            (Err(_), Err(_)) => {}
            (ours, theirs) => panic!("{input}: ours {ours:?}, serde's {theirs:?}"),
        }
    }
    for op in [
        Op::Create {
            record: record(json!({ "a": 1 })),
        },
        Op::Put {
            record: record(json!({})),
        },
        Op::Update {
            patch: record(json!({ "f": 1.5e300 })),
        },
        Op::Delete,
    ] {
        round_trip(op);
    }
}

#[test]
fn every_mutation_result_round_trips_and_needs_its_fields() {
    round_trip(MutationResult::Applied {
        seq: 1,
        version: 2,
        previous_version: 1,
    });
    round_trip(MutationResult::Duplicate { seq: 7 });
    for reason in [
        ConflictReason::StaleBase,
        ConflictReason::AlreadyExists,
        ConflictReason::Missing,
    ] {
        round_trip(MutationResult::Conflict {
            seq: 3,
            reason,
            server: snapshot(),
        });
    }
    round_trip(MutationResult::Rejected {
        seq: 4,
        code: "invalid".into(),
        reason: "no".into(),
        server: ServerSnapshot::absent(),
    });
    let parsed: MutationResult =
        from_value(json!({ "seq": 9, "status": "duplicate", "version": 1, "later": {} })).unwrap();
    assert_eq!(parsed, MutationResult::Duplicate { seq: 9 });
    refused::<MutationResult>(json!({ "status": "applied", "seq": 1, "version": 2 }));
    refused::<MutationResult>(json!({ "status": "duplicate" }));
    refused::<MutationResult>(json!({ "status": "conflict", "seq": 1, "reason": "staleBase" }));
    refused::<MutationResult>(
        json!({ "status": "conflict", "seq": 1, "reason": "bored", "server": to_value(snapshot()).unwrap() }),
    );
    refused::<MutationResult>(
        json!({ "status": "rejected", "seq": 1, "reason": "r", "server": to_value(snapshot()).unwrap() }),
    );
    refused::<MutationResult>(json!({ "status": "weird", "seq": 1 }));
    refused::<MutationResult>(
        json!({ "status": "applied", "seq": "1", "version": 2, "previousVersion": 1 }),
    );
}

#[test]
fn pull_responses_round_trip_and_need_their_fields() {
    let change = Change {
        table: "t".into(),
        key: RecordKey::Number(3.0),
        version: 2,
        previous_version: 1,
        deleted: false,
        data: Some(record(json!({ "x": 0.30000000000000004 }))),
        hlc: None,
        origin: Some(Origin {
            client_id: "c".into(),
            seq: 1,
        }),
    };
    for account in [None, Some("u1".to_string())] {
        round_trip(PullResponse::Ok(PullPage {
            protocol_version: 1,
            server_time: 10,
            changes: vec![change.clone()],
            cursor: Cursor("abc".into()),
            has_more: true,
            account: account.clone(),
        }));
        round_trip(PullResponse::ResetRequired {
            protocol_version: 1,
            server_time: 10,
            reason: "old cursor".into(),
            account,
        });
    }
    let ok = json!({ "status": "ok", "protocolVersion": 1, "serverTime": 1, "changes": [], "cursor": "c", "hasMore": false });
    from_value::<PullResponse>(ok.clone()).unwrap();
    for field in [
        "changes",
        "cursor",
        "hasMore",
        "protocolVersion",
        "serverTime",
        "status",
    ] {
        let mut without = ok.clone();
        without.as_object_mut().unwrap().remove(field);
        refused::<PullResponse>(without);
    }
    refused::<PullResponse>(
        json!({ "status": "resetRequired", "protocolVersion": 1, "serverTime": 1 }),
    );
    refused::<PullResponse>(json!({ "status": "later", "protocolVersion": 1, "serverTime": 1 }));
}

#[test]
fn tab_messages_round_trip_and_need_their_fields() {
    for message in [
        Message::Heartbeat,
        Message::Status {
            status: SyncStatus::new(true),
        },
        Message::Hello,
        Message::Poke,
        Message::Reauth,
        Message::SyncNow { id: "1".into() },
        Message::SyncNowDone {
            id: "1".into(),
            result: Some(SyncNowResult {
                pushed: 1,
                pulled: 2,
                conflicts: 0,
                rejected: 0,
            }),
            error: None,
        },
        Message::SyncNowDone {
            id: "2".into(),
            result: None,
            error: Some(StatusError {
                code: "offline".into(),
                message: "m".into(),
                class: ErrorClass::Transient,
                server_code: None,
            }),
        },
    ] {
        round_trip(message);
    }
    refused::<Message>(json!({ "type": "status" }));
    refused::<Message>(json!({ "type": "syncNow" }));
    refused::<Message>(json!({ "type": "syncNowDone", "result": null }));
    refused::<Message>(json!({ "type": "shout" }));
    refused::<Message>(json!({ "id": "1" }));
}

#[test]
fn record_keys_are_numbers_or_strings() {
    let key = |v: Value| from_value::<RecordKey>(v);
    assert_eq!(key(json!(1)).unwrap(), RecordKey::Number(1.0));
    assert_eq!(key(json!(-7)).unwrap(), RecordKey::Number(-7.0));
    assert_eq!(key(json!(2.5)).unwrap(), RecordKey::Number(2.5));
    assert_eq!(
        key(json!(9_007_199_254_740_993u64)).unwrap(),
        RecordKey::Number(9_007_199_254_740_993u64 as f64)
    );
    assert_eq!(key(json!("a")).unwrap(), RecordKey::String("a".into()));
    assert_eq!(
        serde_json::from_str::<RecordKey>("\"\\u00e9\"").unwrap(),
        RecordKey::String("é".into())
    );
    for bad in [json!(true), json!(null), json!({}), json!([1])] {
        assert!(key(bad.clone()).is_err(), "accepted {bad}");
    }
    for k in [
        RecordKey::Number(1.0),
        RecordKey::Number(0.5),
        RecordKey::String("k".into()),
    ] {
        round_trip(k);
    }
}
