//! One test per outbox merge rule (docs/ENGINE.md, "Outbox merge rules") and per local-write rule (I1, I2, I8).

use idb_sync_core::merge::{merge_into_pending, merge_ops, LocalOp, MergeOutcome};
use idb_sync_core::outbox::{
    plan_local_write, plan_local_write_shape, ClientMeta, InFlightOp, KeyFacts, KeyState, OpKind,
};
use idb_sync_core::protocol::MergeMode;
use idb_sync_core::{Op, Record, RecordId};
use serde_json::json;

fn rec(v: serde_json::Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

#[test]
fn create_then_update_is_a_create_with_fields_merged() {
    let out = merge_ops(
        Op::Create {
            record: rec(json!({"a": 1, "b": 1})),
        },
        Op::Update {
            patch: rec(json!({"b": 2, "c": 3})),
        },
    );
    assert_eq!(
        out,
        MergeOutcome::Pending(Op::Create {
            record: rec(json!({"a": 1, "b": 2, "c": 3}))
        })
    );
}

#[test]
fn create_then_delete_leaves_nothing() {
    assert_eq!(
        merge_ops(
            Op::Create {
                record: rec(json!({"a": 1}))
            },
            Op::Delete
        ),
        MergeOutcome::Cancelled
    );
}

#[test]
fn update_then_update_merges_patches_later_field_wins() {
    let out = merge_ops(
        Op::Update {
            patch: rec(json!({"a": 1, "b": 1})),
        },
        Op::Update {
            patch: rec(json!({"b": 2})),
        },
    );
    assert_eq!(
        out,
        MergeOutcome::Pending(Op::Update {
            patch: rec(json!({"a": 1, "b": 2}))
        })
    );
}

#[test]
fn update_then_delete_is_a_delete() {
    assert_eq!(
        merge_ops(
            Op::Update {
                patch: rec(json!({"a": 1}))
            },
            Op::Delete
        ),
        MergeOutcome::Pending(Op::Delete)
    );
}

#[test]
fn delete_then_create_is_a_put_of_the_full_new_record() {
    let out = merge_ops(
        Op::Delete,
        Op::Create {
            record: rec(json!({"a": 9})),
        },
    );
    assert_eq!(
        out,
        MergeOutcome::Pending(Op::Put {
            record: rec(json!({"a": 9}))
        })
    );
}

#[test]
fn put_then_update_is_a_put_with_fields_merged() {
    let out = merge_ops(
        Op::Put {
            record: rec(json!({"a": 1})),
        },
        Op::Update {
            patch: rec(json!({"b": 2})),
        },
    );
    assert_eq!(
        out,
        MergeOutcome::Pending(Op::Put {
            record: rec(json!({"a": 1, "b": 2}))
        })
    );
}

#[test]
fn update_then_put_is_a_put() {
    let out = merge_ops(
        Op::Update {
            patch: rec(json!({"a": 1})),
        },
        Op::Put {
            record: rec(json!({"z": 0})),
        },
    );
    assert_eq!(
        out,
        MergeOutcome::Pending(Op::Put {
            record: rec(json!({"z": 0}))
        })
    );
}

#[test]
fn put_of_a_record_the_server_never_saw_is_a_create() {
    assert_eq!(
        merge_into_pending(None, LocalOp::Put(rec(json!({"a": 1}))), false),
        MergeOutcome::Pending(Op::Create {
            record: rec(json!({"a": 1}))
        })
    );
    assert_eq!(
        merge_into_pending(None, LocalOp::Put(rec(json!({"a": 1}))), true),
        MergeOutcome::Pending(Op::Put {
            record: rec(json!({"a": 1}))
        })
    );
}

fn meta() -> ClientMeta {
    ClientMeta::new("c1")
}

#[test]
fn n_writes_to_one_key_leave_one_pending_entry() {
    let (mut state, mut meta) = (KeyState::default(), meta());
    plan_local_write(
        &mut state,
        &mut meta,
        LocalOp::Create(rec(json!({"a": 0}))),
        10,
    )
    .unwrap();
    for i in 1..50 {
        plan_local_write(
            &mut state,
            &mut meta,
            LocalOp::Update(rec(json!({"a": i}))),
            10 + i,
        )
        .unwrap();
    }
    assert_eq!(
        state.pending.as_ref().map(|p| &p.op),
        Some(&Op::Create {
            record: rec(json!({"a": 49}))
        })
    );
    assert_eq!(state.value, Some(rec(json!({"a": 49}))));
    assert_eq!(meta.next_queue_order, 2, "one queue position for the key");
}

#[test]
fn write_to_a_key_with_an_in_flight_entry_makes_a_new_pending_entry() {
    let id = RecordId::new("t", "k");
    let mut state = KeyState {
        value: Some(rec(json!({"a": 1}))),
        ..KeyState::default()
    };
    let create = Op::Create {
        record: rec(json!({"a": 1})),
    };
    state.in_flight = Some(InFlightOp {
        id,
        op: create.clone(),
        seq: 1,
        base_version: 0,
        hlc: Default::default(),
        mode: MergeMode::FieldMerge,
        since_ms: 0,
        attempts: 0,
    });
    let mut meta = meta();
    plan_local_write(
        &mut state,
        &mut meta,
        LocalOp::Update(rec(json!({"a": 2}))),
        5,
    )
    .unwrap();
    assert_eq!(
        state.in_flight.as_ref().map(|f| &f.op),
        Some(&create),
        "in-flight entry is frozen"
    );
    assert_eq!(
        state.pending.as_ref().map(|p| &p.op),
        Some(&Op::Update {
            patch: rec(json!({"a": 2}))
        })
    );
}

#[test]
fn delete_never_cancels_an_in_flight_create() {
    let id = RecordId::new("t", "k");
    let create = Op::Create {
        record: rec(json!({"a": 1})),
    };
    let mut state = KeyState {
        value: Some(rec(json!({"a": 1}))),
        ..KeyState::default()
    };
    state.in_flight = Some(InFlightOp {
        id,
        op: create.clone(),
        seq: 1,
        base_version: 0,
        hlc: Default::default(),
        mode: MergeMode::FieldMerge,
        since_ms: 0,
        attempts: 0,
    });
    plan_local_write(&mut state, &mut meta(), LocalOp::Delete, 5).unwrap();
    assert_eq!(state.in_flight.as_ref().map(|f| &f.op), Some(&create));
    assert_eq!(
        state.pending.as_ref().map(|p| &p.op),
        Some(&Op::Delete),
        "the delete is queued"
    );
    assert_eq!(state.value, None);
}

#[test]
fn create_then_delete_of_a_record_acknowledged_but_not_pulled_is_queued() {
    let mut state = KeyState {
        acked_unpulled: true,
        ..KeyState::default()
    };
    let mut meta = meta();
    plan_local_write(&mut state, &mut meta, LocalOp::Put(rec(json!({"a": 1}))), 1).unwrap();
    plan_local_write(&mut state, &mut meta, LocalOp::Delete, 2).unwrap();
    assert_eq!(state.pending.as_ref().map(|p| &p.op), Some(&Op::Delete));
}

#[test]
fn add_of_an_existing_key_changes_nothing() {
    let mut state = KeyState {
        value: Some(rec(json!({"a": 1}))),
        version: 3,
        ..KeyState::default()
    };
    let before = state.clone();
    let err = plan_local_write(
        &mut state,
        &mut meta(),
        LocalOp::Create(rec(json!({"a": 2}))),
        1,
    )
    .unwrap_err();
    assert_eq!(err.code(), "invalid_operation");
    assert_eq!(state, before);
}

#[test]
fn update_of_a_missing_record_changes_nothing() {
    let mut state = KeyState::default();
    let err = plan_local_write(
        &mut state,
        &mut meta(),
        LocalOp::Update(rec(json!({"a": 2}))),
        1,
    )
    .unwrap_err();
    assert_eq!(err.code(), "not_found");
    assert!(state.is_empty());
}

#[test]
fn local_timestamps_strictly_increase() {
    let (mut state, mut meta) = (KeyState::default(), meta());
    plan_local_write(
        &mut state,
        &mut meta,
        LocalOp::Put(rec(json!({"a": 0}))),
        100,
    )
    .unwrap();
    let first = state.hlc.clone().unwrap();
    plan_local_write(
        &mut state,
        &mut meta,
        LocalOp::Put(rec(json!({"a": 1}))),
        50,
    )
    .unwrap();
    assert!(
        state.hlc.clone().unwrap() > first,
        "a clock going backwards still gives a later timestamp"
    );
}

#[test]
fn create_then_delete_cancels_only_while_the_server_cannot_hold_the_record() {
    let create = || {
        Some(Op::Create {
            record: rec(json!({"a": 1})),
        })
    };
    assert_eq!(
        merge_into_pending(create(), LocalOp::Delete, false),
        MergeOutcome::Cancelled
    );
    // The create may be on the server (a keepalive push left with it): dropping the
    // pair would leave the record there, and the next pull would bring it back.
    assert_eq!(
        merge_into_pending(create(), LocalOp::Delete, true),
        MergeOutcome::Pending(Op::Delete)
    );
}

#[test]
fn a_pending_create_a_keepalive_may_have_sent_is_deleted_with_a_delete() {
    let facts = |pending_may_have_left| KeyFacts {
        exists_locally: true,
        pending: Some((OpKind::Create, 0)),
        may_exist_on_server: false,
        pending_may_have_left,
    };
    let planned = |may_have_left| {
        plan_local_write_shape(facts(may_have_left), &mut meta(), OpKind::Delete, 5)
            .unwrap()
            .unwrap()
            .pending
            .map(|p| p.kind)
    };
    assert_eq!(planned(false), None, "never left: the pair cancels out");
    assert_eq!(
        planned(true),
        Some(OpKind::Delete),
        "may have left: a delete is queued"
    );
}
