//! A local write planned from *facts* about a key instead of its full value, for
//! storage adapters that keep records outside core (the browser keeps app records as
//! JavaScript objects and must not convert each one to JSON on the hot path).
//!
//! [`plan_local_write_shape`] makes the same decisions as
//! [`crate::outbox::plan_local_write`] — it runs the same merge table
//! ([`crate::merge::merge_into_pending`]) on data-less ops — and says where the
//! pending entry's data comes from. This is exact because of the [`KeyState`]
//! invariant: when the pending op is a create or a put, its record *is* the record's
//! local value (nothing can be applied on top of a pending op), so adapters may store
//! such a pending entry as its kind alone and read the record from the app's table.
//! `core/tests/local_shape.rs` checks the equivalence on every combination.
//!
//! [`KeyState`]: crate::outbox::KeyState

use crate::error::SyncError;
use crate::hlc::Hlc;
use crate::merge::{merge_into_pending, LocalOp, MergeOutcome};
use crate::outbox::ClientMeta;
use crate::record::{Op, Record};

/// The kind of an op, without its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// A create.
    Create,
    /// A whole-record put.
    Put,
    /// A field update (a patch).
    Update,
    /// A delete.
    Delete,
}

impl OpKind {
    /// The kind of `op`.
    pub fn of(op: &Op) -> OpKind {
        match op {
            Op::Create { .. } => OpKind::Create,
            Op::Put { .. } => OpKind::Put,
            Op::Update { .. } => OpKind::Update,
            Op::Delete => OpKind::Delete,
        }
    }

    /// `create`, `put`, `update` or `delete` (as in [`Op::kind`]).
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Create => "create",
            OpKind::Put => "put",
            OpKind::Update => "update",
            OpKind::Delete => "delete",
        }
    }

    /// The inverse of [`OpKind::as_str`].
    pub fn parse(s: &str) -> Option<OpKind> {
        Some(match s {
            "create" => OpKind::Create,
            "put" => OpKind::Put,
            "update" => OpKind::Update,
            "delete" => OpKind::Delete,
            _ => return None,
        })
    }

    fn placeholder(self) -> Op {
        match self {
            OpKind::Create => Op::Create {
                record: Record::new(),
            },
            OpKind::Put => Op::Put {
                record: Record::new(),
            },
            OpKind::Update => Op::Update {
                patch: Record::new(),
            },
            OpKind::Delete => Op::Delete,
        }
    }
}

/// What the adapter knows about a key before a local write, read cheaply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyFacts {
    /// The app's table holds a record with this key.
    pub exists_locally: bool,
    /// The kind and queue position of the key's pending entry, if any.
    pub pending: Option<(OpKind, u64)>,
    /// [`crate::outbox::KeyState::may_exist_on_server`].
    pub may_exist_on_server: bool,
    /// The pending entry may have reached the server without an answer (the page's
    /// keepalive push, docs/SYNC_MANAGER.md "After the tab closes"): a pending create
    /// deleted now is then queued as a delete, not dropped.
    pub pending_may_have_left: bool,
}

/// Where the new pending entry's data comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PendingData {
    /// The record's new local value (for a create or a put).
    NewValue,
    /// This write's patch (an update with nothing pending before).
    Patch,
    /// The previous pending patch with this write's patch applied on top.
    MergedPatch,
    /// Nothing (a delete).
    Nothing,
}

/// The key's pending entry after the write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedPending {
    /// Its kind.
    pub kind: OpKind,
    /// Where its data comes from.
    pub data: PendingData,
    /// Its FIFO position (kept from the previous pending entry, if any).
    pub queued: u64,
}

/// A planned local write: the key's pending entry afterwards (`None`: the writes
/// cancelled out) and the timestamp of the write (the key's new `hlc` and the pending
/// entry's). The record's new local value is the write applied to the old one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalWritePlan {
    /// The pending entry afterwards.
    pub pending: Option<PlannedPending>,
    /// The write's timestamp.
    pub hlc: Hlc,
}

impl LocalWritePlan {
    /// How this write changed the number of pending entries (the outbox count shown in
    /// the sync status), for a key described by `before`: +1 when the key joins the
    /// queue, -1 when its writes cancelled out (a create then a delete), else 0. The
    /// status is kept from this instead of recounting the outbox after every write.
    pub fn pending_delta(&self, before: &KeyFacts) -> i64 {
        i64::from(self.pending.is_some()) - i64::from(before.pending.is_some())
    }
}

/// Plans a local write of kind `write` (`Create` = add, `Put`, `Update`, `Delete`) on
/// a key described by `facts`, advancing `meta` (clock, queue position). An update of
/// a record the server never saw (no pending entry, `may_exist_on_server` false) is
/// planned as a create of the new value. `Ok(None)`:
/// a delete of a missing record, which changes nothing. Errors, like
/// [`crate::outbox::plan_local_write`]: an add of an existing record, an update of a
/// missing one (I8; `meta` is then unchanged).
pub fn plan_local_write_shape(
    facts: KeyFacts,
    meta: &mut ClientMeta,
    write: OpKind,
    local_now_ms: u64,
) -> Result<Option<LocalWritePlan>, SyncError> {
    match write {
        OpKind::Create if facts.exists_locally => {
            return Err(SyncError::InvalidOperation(
                "add: a record with this key exists".into(),
            ))
        }
        OpKind::Update if !facts.exists_locally => {
            return Err(SyncError::NotFound(
                "update: no record with this key".into(),
            ))
        }
        OpKind::Delete if !facts.exists_locally => return Ok(None),
        _ => {}
    }
    let hlc = meta.tick_hlc(local_now_ms);
    let queued = match facts.pending {
        Some((_, q)) => q,
        None => {
            let q = meta.next_queue_order;
            meta.next_queue_order += 1;
            q
        }
    };
    let local = match write {
        OpKind::Create => LocalOp::Create(Record::new()),
        OpKind::Put => LocalOp::Put(Record::new()),
        // A record the server never saw: the update goes as the whole new record
        // (see `crate::outbox::plan_local_write`).
        OpKind::Update
            if super::local_write::never_seen(
                facts.pending.is_some(),
                facts.may_exist_on_server,
            ) =>
        {
            LocalOp::Put(Record::new())
        }
        OpKind::Update => LocalOp::Update(Record::new()),
        OpKind::Delete => LocalOp::Delete,
    };
    let previous = facts.pending.map(|(kind, _)| kind);
    let pending = match merge_into_pending(
        previous.map(OpKind::placeholder),
        local,
        facts.may_exist_on_server || facts.pending_may_have_left,
    ) {
        MergeOutcome::Cancelled => None,
        MergeOutcome::Pending(op) => {
            let kind = OpKind::of(&op);
            let data = match kind {
                OpKind::Create | OpKind::Put => PendingData::NewValue,
                OpKind::Delete => PendingData::Nothing,
                OpKind::Update if previous == Some(OpKind::Update) => PendingData::MergedPatch,
                OpKind::Update => PendingData::Patch,
            };
            Some(PlannedPending { kind, data, queued })
        }
    };
    Ok(Some(LocalWritePlan { pending, hlc }))
}
