//! Pure application of server answers to a key's state: push results and pulled
//! changes, going through the conflict policy where local changes meet a server state
//! they were not based on (I5). Storage adapters never see this logic; the engine
//! runs it inside [`crate::ports::Storage::transact`].

use crate::conflict::{
    resolve, ConflictInput, ConflictLogEntry, ConflictResolver, DeadLetter, ManualConflict,
    PolicyConfig, Resolution,
};
use crate::hlc::Hlc;
use crate::key::RecordId;
use crate::merge::{merge_ops, MergeOutcome};
use crate::outbox::{ClientMeta, KeyState, PendingOp};
use crate::ports::StorageTx;
use crate::protocol::{Change, MutationResult, ServerSnapshot};
use crate::record::{Op, Record};

/// What applying needs besides the key: policies, resolver, the time.
pub struct ApplyContext<'a, R: ?Sized> {
    /// Conflict policies.
    pub policies: &'a PolicyConfig,
    /// Custom resolver.
    pub resolver: &'a R,
    /// Local wall-clock time.
    pub local_now_ms: u64,
}

struct Remote<'a> {
    data: Option<&'a Record>,
    version: u64,
    hlc: Option<&'a Hlc>,
}

/// Resolves `intent` (the local change, queued at `queued`) against a server state.
#[allow(clippy::too_many_arguments)]
fn settle<R: ConflictResolver + ?Sized>(
    id: &RecordId,
    state: &mut KeyState,
    intent: Option<Op>,
    queued: u64,
    remote: Remote<'_>,
    seqs: Vec<u64>,
    ctx: &ApplyContext<'_, R>,
    meta: &mut ClientMeta,
    log: &mut Vec<ConflictLogEntry>,
    always_log: bool,
) {
    let policy = ctx.policies.for_table(&id.table);
    let local_hlc = state.local_hlc().cloned();
    let input = ConflictInput {
        id,
        policy,
        intent: intent.clone(),
        local: state.value.as_ref(),
        local_hlc: local_hlc.as_ref(),
        remote: remote.data,
        remote_version: remote.version,
        remote_hlc: remote.hlc,
    };
    let decision = resolve(&input, ctx.resolver);
    let local_before = state.value.clone();
    state.version = remote.version;
    if let Some(h) = remote.hlc {
        meta.observe_hlc(h, ctx.local_now_ms);
    }
    match decision {
        Resolution::Rebase {
            pending, outcome, ..
        } => {
            let hlc = local_hlc.unwrap_or_else(|| meta.tick_hlc(ctx.local_now_ms));
            state.pending = pending.map(|op| PendingOp { op, hlc, queued });
            state.rebuild_value(remote.data);
            let quiet_rebase =
                outcome == "merged fields" && matches!(intent, Some(Op::Update { .. }));
            if always_log || !quiet_rebase {
                log.push(ConflictLogEntry {
                    id: id.clone(),
                    seqs,
                    policy,
                    local: local_before,
                    local_change: intent,
                    remote: remote.data.cloned(),
                    remote_version: remote.version,
                    resolved: state.value.clone(),
                    outcome: outcome.to_owned(),
                    at_ms: ctx.local_now_ms,
                });
            }
        }
        Resolution::Park => {
            let mut all_seqs = state.conflict.take().map(|c| c.seqs).unwrap_or_default();
            all_seqs.extend(seqs);
            state.conflict = Some(ManualConflict {
                local: local_before,
                local_change: intent,
                remote: remote.data.cloned(),
                remote_version: remote.version,
                seqs: all_seqs,
                local_hlc,
                at_ms: ctx.local_now_ms,
            });
            state.pending = None;
            state.rebuild_value(remote.data);
        }
    }
    state.hlc = remote.hlc.cloned().or(state.hlc.take());
}

/// Applies one push result to the key whose in-flight entry it answers. Results that
/// answer nothing in flight are ignored (the answer was already applied).
pub fn apply_result<R: ConflictResolver + ?Sized>(
    id: &RecordId,
    result: &MutationResult,
    tx: &mut StorageTx,
    ctx: &ApplyContext<'_, R>,
) -> Result<(), crate::SyncError> {
    let mut meta = tx.meta()?.clone();
    let state = tx.states.entry(id.clone()).or_default();
    let Some(sent) = state.in_flight.clone().filter(|f| f.seq == result.seq()) else {
        return Ok(());
    };
    match result {
        MutationResult::Applied {
            version,
            previous_version,
            ..
        } => {
            state.in_flight = None;
            // Only when nothing else happened on the server in between do we know
            // the server record at `version` exactly; otherwise the next pull brings it.
            if state.version == sent.base_version
                && *previous_version == sent.base_version
                && version > previous_version
            {
                state.version = *version;
            } else {
                state.acked_unpulled = true;
            }
        }
        MutationResult::Duplicate { .. } => {
            state.in_flight = None;
            state.acked_unpulled = true;
        }
        MutationResult::Conflict { server, .. } => {
            state.in_flight = None;
            let (intent, queued) = match state.pending.take() {
                None => {
                    meta.next_queue_order += 1;
                    (Some(sent.op.clone()), meta.next_queue_order - 1)
                }
                Some(p) => match merge_ops(sent.op.clone(), p.op) {
                    MergeOutcome::Pending(op) => (Some(op), p.queued),
                    MergeOutcome::Cancelled => (None, p.queued),
                },
            };
            let remote = snapshot_remote(server);
            settle(
                id,
                state,
                intent,
                queued,
                remote,
                vec![sent.seq],
                ctx,
                &mut meta,
                &mut tx.conflict_log,
                true,
            );
        }
        MutationResult::Rejected {
            code,
            reason,
            server,
            ..
        } => {
            state.in_flight = None;
            state.version = server.version;
            state.rebuild_value(server.data.as_ref());
            let dl_id = meta.next_dead_letter_id;
            meta.next_dead_letter_id += 1;
            tx.new_dead_letters.push(DeadLetter {
                id: dl_id,
                record: id.clone(),
                op: sent.op.clone(),
                seq: sent.seq,
                code: code.clone(),
                reason: reason.clone(),
                at_ms: ctx.local_now_ms,
            });
        }
    }
    tx.meta = Some(meta);
    Ok(())
}

fn snapshot_remote(s: &ServerSnapshot) -> Remote<'_> {
    Remote {
        data: s.data.as_ref(),
        version: s.version,
        hlc: s.hlc.as_ref(),
    }
}

/// Applies one pulled change to its key (I5: local changes go through the policy).
pub fn apply_change<R: ConflictResolver + ?Sized>(
    change: &Change,
    tx: &mut StorageTx,
    ctx: &ApplyContext<'_, R>,
) -> Result<(), crate::SyncError> {
    let mut meta = tx.meta()?.clone();
    let id = RecordId {
        table: change.table.clone(),
        key: change.key.clone(),
    };
    let state = tx.states.entry(id.clone()).or_default();
    if change.version <= state.version {
        return Ok(());
    }
    if let Some(h) = &change.hlc {
        meta.observe_hlc(h, ctx.local_now_ms);
    }
    let ours = change
        .origin
        .as_ref()
        .filter(|o| o.client_id == meta.client_id);
    if let (Some(o), Some(f)) = (ours, &state.in_flight) {
        if o.seq == f.seq {
            state.in_flight = None; // the echo of our own unanswered mutation
        }
    }
    let consecutive_own = ours.is_some() && change.previous_version == state.version;
    state.acked_unpulled = false;
    // The server knows the key now: a pending create must go as a put.
    if let Some(p) = &mut state.pending {
        if let Op::Create { record } = &p.op {
            p.op = Op::Put {
                record: record.clone(),
            };
        }
    }
    if !state.has_local_changes() || consecutive_own || state.pending.is_none() {
        state.version = change.version;
        state.rebuild_value(change.data.as_ref());
        state.hlc = change.hlc.clone().or(state.hlc.take());
        if let Some(c) = &mut state.conflict {
            c.remote = change.data.clone();
            c.remote_version = change.version;
        }
    } else {
        let pending = state.pending.take();
        let (intent, queued) = match pending {
            Some(p) => (Some(p.op), p.queued),
            None => (None, meta.next_queue_order),
        };
        let remote = Remote {
            data: change.data.as_ref(),
            version: change.version,
            hlc: change.hlc.as_ref(),
        };
        settle(
            &id,
            state,
            intent,
            queued,
            remote,
            Vec::new(),
            ctx,
            &mut meta,
            &mut tx.conflict_log,
            false,
        );
    }
    tx.meta = Some(meta);
    Ok(())
}
