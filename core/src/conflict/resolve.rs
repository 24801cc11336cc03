//! The decision of every conflict policy, as one pure function.

use super::{ConflictPolicy, ConflictResolver, ResolverContext};
use crate::hlc::Hlc;
use crate::key::RecordId;
use crate::record::{apply_op, Op, Record};

/// A conflict to resolve.
#[derive(Clone, Debug)]
pub struct ConflictInput<'a> {
    /// The record.
    pub id: &'a RecordId,
    /// The policy of its table.
    pub policy: ConflictPolicy,
    /// The local change not (yet) on the server; `None` if it cancelled out.
    pub intent: Option<Op>,
    /// The local record.
    pub local: Option<&'a Record>,
    /// Timestamp of the latest local write.
    pub local_hlc: Option<&'a Hlc>,
    /// The server's record (`None` = deleted or absent).
    pub remote: Option<&'a Record>,
    /// The server's version (0 = never existed).
    pub remote_version: u64,
    /// Timestamp of the server's write.
    pub remote_hlc: Option<&'a Hlc>,
}

/// What to do with the key.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolution {
    /// Queue this change on top of the server's record (`None` = nothing to send)
    /// and show `value`. `outcome` words the decision for the conflict log.
    Rebase {
        /// The new pending change, based on the server's version.
        pending: Option<Op>,
        /// The record the app sees.
        value: Option<Record>,
        /// Words for the log.
        outcome: &'static str,
    },
    /// Park the conflict for the app (policy `manual`); show the server's record.
    Park,
}

/// An op that writes `target` over a server record `remote` (at `remote_version`).
fn overwrite_with(
    target: Option<&Record>,
    remote: Option<&Record>,
    remote_version: u64,
) -> Option<Op> {
    match (target, remote) {
        (Some(r), _) if remote_version == 0 => Some(Op::Create { record: r.clone() }),
        (Some(r), _) => Some(Op::Put { record: r.clone() }),
        (None, Some(_)) => Some(Op::Delete),
        (None, None) => None,
    }
}

fn field_merge(
    intent: Op,
    remote: Option<&Record>,
    remote_version: u64,
) -> (Option<Op>, &'static str) {
    match (intent, remote) {
        (Op::Update { patch }, Some(_)) => (Some(Op::Update { patch }), "merged fields"),
        (Op::Update { .. }, None) => (None, "update dropped: deleted on the server"),
        (Op::Create { record } | Op::Put { record }, Some(_)) => {
            (Some(Op::Update { patch: record }), "merged fields")
        }
        (Op::Create { record } | Op::Put { record }, None) => (
            overwrite_with(Some(&record), None, remote_version),
            "recreated the record deleted on the server",
        ),
        (Op::Delete, Some(_)) => (Some(Op::Delete), "deleted over server changes"),
        (Op::Delete, None) => (None, "already deleted on the server"),
    }
}

/// The fieldMerge resolution: `pending` (the local change rebased by [`field_merge`])
/// over the server's record.
fn merged_fields(
    pending: Option<Op>,
    remote: Option<&Record>,
    outcome: &'static str,
) -> Resolution {
    let value = match &pending {
        Some(op) => apply_op(remote, op),
        None => remote.cloned(),
    };
    Resolution::Rebase {
        pending,
        value,
        outcome,
    }
}

/// Decides a conflict. The caller applies the decision: the key's version becomes
/// `remote_version`, its pending entry and value those of the resolution.
pub fn resolve<R: ConflictResolver + ?Sized>(
    input: &ConflictInput<'_>,
    resolver: &R,
) -> Resolution {
    let remote = input.remote;
    let Some(intent) = input.intent.clone() else {
        return Resolution::Rebase {
            pending: None,
            value: remote.cloned(),
            outcome: "local change had cancelled out",
        };
    };
    let keep_local = |outcome| {
        let pending = overwrite_with(input.local, remote, input.remote_version);
        Resolution::Rebase {
            value: input.local.cloned(),
            pending,
            outcome,
        }
    };
    let take_server = |outcome| Resolution::Rebase {
        pending: None,
        value: remote.cloned(),
        outcome,
    };
    match input.policy {
        ConflictPolicy::FieldMerge => {
            let (pending, outcome) = field_merge(intent, remote, input.remote_version);
            merged_fields(pending, remote, outcome)
        }
        ConflictPolicy::ServerWins => take_server("took server"),
        ConflictPolicy::ClientWins => keep_local("kept local"),
        ConflictPolicy::LastWriteWins => {
            let local_later = match (input.local_hlc, input.remote_hlc) {
                (Some(l), Some(r)) => l > r,
                (Some(_), None) => true,
                (None, _) => false,
            };
            if local_later {
                keep_local("kept local (later write)")
            } else {
                take_server("took server (later write)")
            }
        }
        ConflictPolicy::Manual => Resolution::Park,
        ConflictPolicy::Custom => {
            let ctx = ResolverContext {
                id: input.id,
                local: input.local,
                remote,
                local_change: Some(&intent),
            };
            // A resolver that fails never blocks the key: the fieldMerge policy decides
            // (the local change on top of the server's record).
            let merged = match resolver.resolve(&ctx) {
                Ok(merged) => merged,
                Err(_) => {
                    let (pending, _) = field_merge(intent, remote, input.remote_version);
                    return merged_fields(pending, remote, "custom resolver failed: field merge");
                }
            };
            let pending = if merged.as_ref() == remote {
                None
            } else {
                overwrite_with(merged.as_ref(), remote, input.remote_version)
            };
            Resolution::Rebase {
                pending,
                value: merged,
                outcome: "custom resolver",
            }
        }
    }
}
