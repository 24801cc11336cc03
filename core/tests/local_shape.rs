//! `plan_local_write_shape` (facts only, used by the browser adapter) makes exactly the
//! decisions of `plan_local_write` (full values): checked on every sequence of up to
//! four local writes, from a key the server never saw, from one it holds, and from a
//! record without any sync state (written by Dexie: its update plans a create).

use idb_sync_core::merge::LocalOp;
use idb_sync_core::outbox::{
    plan_local_write, plan_local_write_shape, ClientMeta, KeyFacts, KeyState, OpKind, PendingData,
};
use idb_sync_core::{Op, Record};
use serde_json::json;

fn rec(v: serde_json::Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

fn writes(step: usize) -> Vec<(OpKind, LocalOp)> {
    let n = step as i64;
    vec![
        (
            OpKind::Create,
            LocalOp::Create(rec(json!({"id": "k", "a": n, "from": "add"}))),
        ),
        (OpKind::Put, LocalOp::Put(rec(json!({"id": "k", "b": n})))),
        (
            OpKind::Update,
            LocalOp::Update(rec(json!({"c": n, "a": n + 100}))),
        ),
        (OpKind::Delete, LocalOp::Delete),
    ]
}

fn facts(state: &KeyState) -> KeyFacts {
    KeyFacts {
        exists_locally: state.value.is_some(),
        pending: state
            .pending
            .as_ref()
            .map(|p| (OpKind::of(&p.op), p.queued)),
        may_exist_on_server: state.may_exist_on_server(),
        pending_may_have_left: false,
    }
}

fn check(state: KeyState, meta: ClientMeta, depth: usize, checked: &mut usize) {
    if depth == 4 {
        return;
    }
    for (kind, op) in writes(depth) {
        let (mut full_state, mut full_meta) = (state.clone(), meta.clone());
        let full = plan_local_write(
            &mut full_state,
            &mut full_meta,
            op.clone(),
            1_000 + depth as u64,
        );
        let mut shape_meta = meta.clone();
        let shape =
            plan_local_write_shape(facts(&state), &mut shape_meta, kind, 1_000 + depth as u64);
        *checked += 1;
        match (full, shape) {
            (Err(a), Err(b)) => {
                assert_eq!(a.code(), b.code());
                assert_eq!(
                    shape_meta, meta,
                    "a refused write leaves the metadata alone"
                );
                continue;
            }
            (Ok(()), Ok(None)) => {
                assert_eq!(full_state, state, "a no-op write changes nothing");
                assert_eq!(shape_meta, meta);
                continue;
            }
            (Ok(()), Ok(Some(plan))) => {
                assert_eq!(shape_meta, full_meta);
                assert_eq!(full_state.hlc.as_ref(), Some(&plan.hlc));
                assert_eq!(
                    plan.pending_delta(&facts(&state)),
                    i64::from(full_state.pending.is_some()) - i64::from(state.pending.is_some()),
                    "the pending count moves as the outbox does, from {state:?} with {op:?}"
                );
                let rebuilt = plan.pending.as_ref().map(|p| {
                    let op = match (p.kind, p.data) {
                        (OpKind::Create, PendingData::NewValue) => Op::Create {
                            record: full_state.value.clone().unwrap(),
                        },
                        (OpKind::Put, PendingData::NewValue) => Op::Put {
                            record: full_state.value.clone().unwrap(),
                        },
                        (OpKind::Update, PendingData::Patch) => {
                            let LocalOp::Update(patch) = &op else {
                                panic!("a patch comes from an update")
                            };
                            Op::Update {
                                patch: patch.clone(),
                            }
                        }
                        (OpKind::Update, PendingData::MergedPatch) => {
                            let Some(Op::Update { patch: before }) =
                                state.pending.as_ref().map(|p| &p.op)
                            else {
                                panic!("a merged patch needs a pending update")
                            };
                            let LocalOp::Update(patch) = &op else {
                                panic!("a patch comes from an update")
                            };
                            let mut merged = before.clone();
                            merged.extend(patch.clone());
                            Op::Update { patch: merged }
                        }
                        (OpKind::Delete, PendingData::Nothing) => Op::Delete,
                        other => panic!("impossible plan {other:?}"),
                    };
                    (op, p.queued, plan.hlc.clone())
                });
                let expected = full_state
                    .pending
                    .as_ref()
                    .map(|p| (p.op.clone(), p.queued, p.hlc.clone()));
                assert_eq!(rebuilt, expected, "from {state:?} with {op:?}");
            }
            (a, b) => panic!("planners disagree from {state:?} with {op:?}: {a:?} vs {b:?}"),
        }
        check(full_state, full_meta, depth + 1, checked);
    }
}

#[test]
fn the_shape_planner_agrees_with_the_full_planner() {
    let mut checked = 0;
    check(KeyState::default(), ClientMeta::new("c1"), 0, &mut checked);
    let on_server = KeyState {
        value: Some(rec(json!({"id": "k", "s": 1}))),
        version: 3,
        ..KeyState::default()
    };
    check(on_server, ClientMeta::new("c1"), 0, &mut checked);
    let deleted_on_server = KeyState {
        version: 4,
        ..KeyState::default()
    };
    check(deleted_on_server, ClientMeta::new("c1"), 0, &mut checked);
    // A row another library wrote: a value and no sync state (never seen by the server).
    let never_seen = KeyState {
        value: Some(rec(json!({"id": "k", "d": 1}))),
        ..KeyState::default()
    };
    check(never_seen, ClientMeta::new("c1"), 0, &mut checked);
    assert!(checked > 300, "{checked}");
}
