//! A local write: the record and its outbox entry change together (I1), in the one
//! transaction in which the adapter calls [`plan_local_write`].
//!
//! A record with no sync state at all (no server version, nothing queued or in flight,
//! never acknowledged) was never seen by the server — other code (Dexie, an older app
//! version) wrote it. An update of it is queued as a create of the whole new record,
//! never as a patch the server could only answer "missing" (which the conflict policy
//! would read as "deleted on the server" and delete locally).

use crate::error::SyncError;
use crate::merge::{merge_into_pending, LocalOp, MergeOutcome};
use crate::outbox::{ClientMeta, KeyState, PendingOp};
use crate::record::apply_op;

/// Applies a local write to a key's state: new value, merged pending entry, fresh
/// timestamp and queue position. Rejects (and changes nothing) a create of an existing
/// record and an update of a missing one (I8).
pub fn plan_local_write(
    state: &mut KeyState,
    meta: &mut ClientMeta,
    op: LocalOp,
    local_now_ms: u64,
) -> Result<(), SyncError> {
    match &op {
        LocalOp::Create(_) if state.value.is_some() => {
            return Err(SyncError::InvalidOperation(
                "add: a record with this key exists".into(),
            ))
        }
        LocalOp::Update(_) if state.value.is_none() => {
            return Err(SyncError::NotFound(
                "update: no record with this key".into(),
            ))
        }
        LocalOp::Delete if state.value.is_none() => return Ok(()),
        _ => {}
    }
    let hlc = meta.tick_hlc(local_now_ms);
    let exists_on_server = state.may_exist_on_server();
    let previous = state.pending.take();
    let (queued, since_ms) = match &previous {
        Some(p) => (p.queued, p.since_ms),
        None => {
            let q = meta.next_queue_order;
            meta.next_queue_order += 1;
            (q, local_now_ms)
        }
    };
    let new_value = match &op {
        LocalOp::Create(r) | LocalOp::Put(r) => Some(r.clone()),
        LocalOp::Update(p) => apply_op(
            state.value.as_ref(),
            &crate::Op::Update { patch: p.clone() },
        ),
        LocalOp::Delete => None,
    };
    let op = match (op, &new_value) {
        (LocalOp::Update(_), Some(whole)) if never_seen(previous.is_some(), exists_on_server) => {
            LocalOp::Put(whole.clone())
        }
        (op, _) => op,
    };
    match merge_into_pending(previous.map(|p| p.op), op, exists_on_server) {
        MergeOutcome::Pending(op) => {
            state.pending = Some(PendingOp {
                op,
                hlc: hlc.clone(),
                queued,
                since_ms,
            })
        }
        MergeOutcome::Cancelled => state.pending = None,
    }
    state.value = new_value;
    state.hlc = Some(hlc);
    Ok(())
}

/// True if nothing says the server knows the key: nothing pending, and no version,
/// in-flight entry or acknowledgement. A local update of such a record is sent as a
/// create of the whole record.
pub(crate) fn never_seen(has_pending: bool, may_exist_on_server: bool) -> bool {
    !has_pending && !may_exist_on_server
}
