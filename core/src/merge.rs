//! The outbox merge rules of docs/ENGINE.md, as pure functions.
//!
//! The browser storage adapter calls [`merge_into_pending`] inside the IndexedDB
//! transaction that writes the record, so the rules live here once. In-flight entries
//! are never merged (I2): the caller only ever passes the *pending* entry.

use crate::record::{apply_patch, Op};

/// A local write requested by the app.
#[derive(Clone, Debug, PartialEq)]
pub enum LocalOp {
    /// Add a new record (`table.add`). The key must not exist locally.
    Create(crate::Record),
    /// Replace the whole record, or create it (`table.put`).
    Put(crate::Record),
    /// Change some fields (`table.update`). The record must exist locally.
    Update(crate::Patch),
    /// Delete the record.
    Delete,
}

impl LocalOp {
    /// The outbox op for this write when nothing is pending for the key.
    /// `exists_on_server` tells a put of a record the server may have (a put) from a
    /// brand-new record (a create).
    pub fn into_op(self, exists_on_server: bool) -> Op {
        match self {
            LocalOp::Create(record) | LocalOp::Put(record) if !exists_on_server => {
                Op::Create { record }
            }
            LocalOp::Create(record) | LocalOp::Put(record) => Op::Put { record },
            LocalOp::Update(patch) => Op::Update { patch },
            LocalOp::Delete => Op::Delete,
        }
    }
}

/// The result of merging a new op into the pending entry of its key.
#[derive(Clone, Debug, PartialEq)]
pub enum MergeOutcome {
    /// The key's pending entry is now this op.
    Pending(Op),
    /// The ops cancel out: the key has no pending entry any more.
    Cancelled,
}

/// Merges `then` (later) into `first` (earlier), both not yet sent: the op that has
/// the effect of both. This is the merge table of docs/ENGINE.md:
///
/// | first | then | result |
/// |---|---|---|
/// | create | update | create (fields merged) |
/// | create | put | create (new record) |
/// | create | delete | nothing (a delete when the server may hold it: [`merge_into_pending`]) |
/// | update | update | update (patches merged, later field wins) |
/// | update / put | delete | delete |
/// | update | put | put |
/// | put | update | put (fields merged) |
/// | delete | create / put | put (the server still has the old record) |
/// | delete | delete | delete |
/// | delete | update | delete (nothing to update; callers reject this earlier) |
/// | any | create | as put |
pub fn merge_ops(first: Op, then: Op) -> MergeOutcome {
    use MergeOutcome::{Cancelled, Pending};
    match (first, then) {
        (Op::Create { mut record }, Op::Update { patch }) => {
            apply_patch(&mut record, &patch);
            Pending(Op::Create { record })
        }
        (Op::Create { .. }, Op::Create { record } | Op::Put { record }) => {
            Pending(Op::Create { record })
        }
        (Op::Create { .. }, Op::Delete) => Cancelled,
        (Op::Update { mut patch }, Op::Update { patch: later }) => {
            apply_patch(&mut patch, &later);
            Pending(Op::Update { patch })
        }
        (Op::Update { .. } | Op::Put { .. }, Op::Create { record } | Op::Put { record }) => {
            Pending(Op::Put { record })
        }
        (Op::Put { mut record }, Op::Update { patch }) => {
            apply_patch(&mut record, &patch);
            Pending(Op::Put { record })
        }
        (Op::Update { .. } | Op::Put { .. } | Op::Delete, Op::Delete) => Pending(Op::Delete),
        (Op::Delete, Op::Create { record } | Op::Put { record }) => Pending(Op::Put { record }),
        (Op::Delete, Op::Update { .. }) => Pending(Op::Delete),
    }
}

/// Merges a new local op into the key's pending entry (`None` if there is none).
/// `exists_on_server` is whether the server may hold the record (its local version is
/// not 0, an in-flight entry for the key may create it, or the pending entry itself may
/// have left unanswered: a keepalive push, docs/SYNC_MANAGER.md "After the tab
/// closes"). A pending create then deleted cancels out only when the server cannot
/// hold the record; otherwise the delete is queued, or the record the create may have
/// made would come back on the next pull.
pub fn merge_into_pending(
    existing_pending: Option<Op>,
    new: LocalOp,
    exists_on_server: bool,
) -> MergeOutcome {
    match existing_pending {
        None => MergeOutcome::Pending(new.into_op(exists_on_server)),
        Some(Op::Create { .. }) if exists_on_server && matches!(new, LocalOp::Delete) => {
            MergeOutcome::Pending(Op::Delete)
        }
        Some(first) => {
            let then = match new {
                LocalOp::Create(record) | LocalOp::Put(record) => Op::Put { record },
                LocalOp::Update(patch) => Op::Update { patch },
                LocalOp::Delete => Op::Delete,
            };
            merge_ops(first, then)
        }
    }
}
