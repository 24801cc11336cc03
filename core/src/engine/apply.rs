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
use crate::record::{apply_op, Op, Record};

/// The conflict-log outcome of a parked (manual) local change that a newer conflict
/// on the same record replaced as the open conflict.
pub const SUPERSEDED_PARKED: &str = "parked local change superseded by a newer conflict";

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

/// Resolves `intent` (the local change, queued at `queued` = (FIFO position, ms of
/// its first write: [`PendingOp::since_ms`]), whose latest write is
/// stamped `local_hlc`) against a server state. The caller has already taken the
/// local change off `state`, so the timestamp comes in as an argument: read from the
/// state here it would be gone, and `lastWriteWins` would always take the server.
#[allow(clippy::too_many_arguments)]
fn settle<R: ConflictResolver + ?Sized>(
    id: &RecordId,
    state: &mut KeyState,
    intent: Option<Op>,
    local_hlc: Option<Hlc>,
    queued: (u64, u64),
    remote: Remote<'_>,
    seqs: Vec<u64>,
    ctx: &ApplyContext<'_, R>,
    meta: &mut ClientMeta,
    log: &mut Vec<ConflictLogEntry>,
    always_log: bool,
) -> bool {
    let policy = ctx.policies.for_table(&id.table);
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
    let mut visible = true;
    let local_before = state.value.clone();
    state.version = remote.version;
    if let Some(h) = remote.hlc {
        meta.observe_hlc(h, ctx.local_now_ms);
    }
    match decision {
        Resolution::Rebase {
            pending, outcome, ..
        } => {
            let hlc = local_hlc
                .clone()
                .unwrap_or_else(|| meta.tick_hlc(ctx.local_now_ms));
            let (queued, since_ms) = queued;
            state.pending = pending.map(|op| PendingOp {
                op,
                hlc,
                queued,
                since_ms,
            });
            state.rebuild_value(remote.data);
            let quiet_rebase =
                outcome == "merged fields" && matches!(intent, Some(Op::Update { .. }));
            visible = always_log || !quiet_rebase;
            if visible {
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
                    local_hlc,
                    remote_hlc: remote.hlc.cloned(),
                });
            }
        }
        Resolution::Park => {
            // A conflict already open for this key holds an earlier local change:
            // it is never overwritten. It moves to the conflict log (with its seqs)
            // and the newer local change becomes the open conflict.
            if let Some(earlier) = state.conflict.take() {
                log.push(ConflictLogEntry {
                    id: id.clone(),
                    seqs: earlier.seqs,
                    policy,
                    local: earlier.local,
                    local_change: earlier.local_change,
                    remote: earlier.remote,
                    remote_version: earlier.remote_version,
                    resolved: remote.data.cloned(),
                    outcome: SUPERSEDED_PARKED.to_owned(),
                    at_ms: ctx.local_now_ms,
                    local_hlc: earlier.local_hlc,
                    remote_hlc: None,
                });
            }
            state.conflict = Some(ManualConflict {
                local: local_before,
                local_change: intent,
                remote: remote.data.cloned(),
                remote_version: remote.version,
                seqs,
                local_hlc,
                at_ms: ctx.local_now_ms,
            });
            state.pending = None;
            state.rebuild_value(remote.data);
        }
    }
    state.hlc = remote.hlc.cloned().or(state.hlc.take());
    visible
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
    // `applied` and `duplicate` touch only the key's sync header (the one rule
    // storage adapters also run without the record: `crate::outbox::acknowledge`).
    if crate::outbox::acknowledge(&mut meta, state.header(), result).is_some() {
        tx.meta = Some(meta);
        return Ok(());
    }
    // A conflict or a rejection: the server did not apply it as sent (see
    // crate::outbox::echoes, "Own echoes" in docs/ENGINE.md).
    meta.note_answer(sent.seq, false);
    match result {
        MutationResult::Applied { .. } | MutationResult::Duplicate { .. } => {}
        MutationResult::Conflict { server, .. } => {
            state.in_flight = None;
            // The latest local write is the pending one if any (written after the
            // in-flight one was sent), else the in-flight one.
            let local_hlc = latest(state.pending.as_ref().map(|p| &p.hlc), Some(&sent.hlc));
            // The change rebased stays unsynced since the in-flight one's first write.
            let (intent, queued) = match state.pending.take() {
                None => {
                    meta.next_queue_order += 1;
                    (
                        Some(sent.op.clone()),
                        (meta.next_queue_order - 1, sent.since_ms),
                    )
                }
                Some(p) => match merge_ops(sent.op.clone(), p.op) {
                    MergeOutcome::Pending(op) => (Some(op), (p.queued, sent.since_ms)),
                    MergeOutcome::Cancelled => (None, (p.queued, sent.since_ms)),
                },
            };
            let remote = snapshot_remote(server);
            settle(
                id,
                state,
                intent,
                local_hlc,
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
            match state.pending.take() {
                // A later local change was based on a server version that has moved
                // on: it meets a server state it was not based on, so it goes through
                // the conflict policy (I5) — on top of the server's record, without
                // the rejected change.
                Some(p) if server.version != state.version => {
                    state.value = apply_op(server.data.as_ref(), &p.op);
                    settle(
                        id,
                        state,
                        Some(p.op),
                        Some(p.hlc),
                        (p.queued, p.since_ms),
                        snapshot_remote(server),
                        Vec::new(),
                        ctx,
                        &mut meta,
                        &mut tx.conflict_log,
                        false,
                    );
                }
                pending => {
                    state.pending = pending;
                    state.version = server.version;
                    state.rebuild_value(server.data.as_ref());
                    // The app now sees the server's record: a later local write is
                    // stamped after it (else `lastWriteWins` would rank the edit of a
                    // record as earlier than the record it edited).
                    if let Some(h) = &server.hlc {
                        meta.observe_hlc(h, ctx.local_now_ms);
                    }
                    state.hlc = server.hlc.clone().or(state.hlc.take());
                }
            }
            tx.new_dead_letters.push(DeadLetter {
                id: meta.take_dead_letter_id(),
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

/// The later of two optional timestamps.
fn latest(a: Option<&Hlc>, b: Option<&Hlc>) -> Option<Hlc> {
    a.into_iter().chain(b).max().cloned()
}

fn snapshot_remote(s: &ServerSnapshot) -> Remote<'_> {
    Remote {
        data: s.data.as_ref(),
        version: s.version,
        hlc: s.hlc.as_ref(),
    }
}

/// What applying one pulled change did: what `syncNow()` reports as `pulled` and
/// `conflicts` (docs/SYNC_MANAGER.md, "What syncNow() resolves with").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pulled {
    /// The key already had this version (or a later one): nothing changed.
    AlreadyHad,
    /// This device's own change, back from the server: its data were already here.
    OwnChange,
    /// Another device's change, applied.
    Applied,
    /// Another device's change met a local change: the conflict policy settled it, and
    /// the conflict log or the open conflicts show it.
    Conflict,
    /// Another device's change met a local change and the fields merged without
    /// overlapping: applied, nothing to show.
    Merged,
}

impl Pulled {
    /// Whether the change came from another device and changed the local copy.
    pub fn is_new(self) -> bool {
        matches!(self, Pulled::Applied | Pulled::Conflict | Pulled::Merged)
    }
}

/// Applies one pulled change to its key (I5: local changes go through the policy).
pub fn apply_change<R: ConflictResolver + ?Sized>(
    change: &Change,
    tx: &mut StorageTx,
    ctx: &ApplyContext<'_, R>,
) -> Result<Pulled, crate::SyncError> {
    let mut meta = tx.meta()?.clone();
    let id = change.record_id();
    let state = tx.states.entry(id.clone()).or_default();
    if change.version <= state.version {
        return Ok(Pulled::AlreadyHad); // an unloaded record stays as stored
    }
    // Past this point the value is rebuilt from the pulled record (both branches
    // below), so a record the adapter did not load is replaced, not kept.
    let unloaded = tx.unloaded.remove(&id);
    debug_assert!(
        !unloaded || !state.has_sync_state(),
        "only stateless keys are unloaded"
    );
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
    if ours.is_some_and(|o| o.seq >= meta.next_seq) && state.pending.is_some() {
        // A keepalive's echo (docs/SYNC_MANAGER.md, "After the tab closes"): our own
        // change at a seq this database never gave out, sent from the pending entry by
        // a page that hid. The entry stays as it is, so that its push under that seq
        // is answered `duplicate` (or, changed since, `client_id_reused`: I11).
        tx.meta = Some(meta);
        return Ok(Pulled::OwnChange);
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
    let outcome;
    if !state.has_local_changes() || consecutive_own || state.pending.is_none() {
        outcome = if ours.is_some() {
            Pulled::OwnChange
        } else {
            Pulled::Applied
        };
        state.version = change.version;
        state.rebuild_value(change.data.as_ref());
        state.hlc = change.hlc.clone().or(state.hlc.take());
        if let Some(c) = &mut state.conflict {
            c.remote = change.data.clone();
            c.remote_version = change.version;
        }
    } else {
        let pending = state.pending.take();
        let local_hlc = latest(
            pending.as_ref().map(|p| &p.hlc),
            state.in_flight.as_ref().map(|f| &f.hlc),
        );
        let (intent, queued) = match pending {
            Some(p) => (Some(p.op), (p.queued, p.since_ms)),
            None => (
                None,
                (
                    meta.next_queue_order,
                    state.in_flight.as_ref().map_or(0, |f| f.since_ms),
                ),
            ),
        };
        let remote = Remote {
            data: change.data.as_ref(),
            version: change.version,
            hlc: change.hlc.as_ref(),
        };
        let visible = settle(
            &id,
            state,
            intent,
            local_hlc,
            queued,
            remote,
            Vec::new(),
            ctx,
            &mut meta,
            &mut tx.conflict_log,
            false,
        );
        outcome = if visible {
            Pulled::Conflict
        } else {
            Pulled::Merged
        };
    }
    tx.meta = Some(meta);
    Ok(outcome)
}
