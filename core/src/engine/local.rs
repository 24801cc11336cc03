//! App-facing local operations: writes (I1), resolving manual conflicts, retrying or
//! discarding dead letters. Each is one storage transaction.

use crate::conflict::{ConflictLogEntry, ConflictPolicy, DeadLetter, ManualChoice};
use crate::error::SyncError;
use crate::key::RecordId;
use crate::merge::LocalOp;
use crate::outbox::plan_local_write;
use crate::ports::{Clock, Storage};
use crate::record::Op;

/// Writes a record locally and queues the change, in one transaction (I1). A bad
/// write (add of an existing key, update of a missing record) changes nothing (I8).
pub async fn write<S: Storage, C: Clock>(
    storage: &S,
    clock: &C,
    id: &RecordId,
    op: LocalOp,
) -> Result<(), SyncError> {
    let now = clock.now_ms();
    storage
        .transact(std::slice::from_ref(id), |tx| {
            let mut meta = tx.meta()?.clone();
            plan_local_write(tx.state(id), &mut meta, op, now)?;
            tx.meta = Some(meta);
            Ok(())
        })
        .await
}

/// Resolves the manual conflict of `id` (keep local, keep server, or a merged record).
/// The decision is logged; a kept or merged record is queued as a new local write.
pub async fn resolve_conflict<S: Storage, C: Clock>(
    storage: &S,
    clock: &C,
    id: &RecordId,
    choice: ManualChoice,
) -> Result<(), SyncError> {
    let now = clock.now_ms();
    storage
        .transact(std::slice::from_ref(id), |tx| {
            let mut meta = tx.meta()?.clone();
            let state = tx.state(id);
            let conflict = state
                .conflict
                .take()
                .ok_or_else(|| SyncError::NotFound(format!("no conflict on {id}")))?;
            let (target, outcome) = match choice {
                ManualChoice::KeepServer => (None, "app kept server"),
                ManualChoice::KeepLocal => (Some(conflict.local.clone()), "app kept local"),
                ManualChoice::Merged(v) => (Some(v), "app merged"),
            };
            if let Some(target) = target {
                let op = match target {
                    Some(r) => LocalOp::Put(r),
                    None => LocalOp::Delete,
                };
                plan_local_write(state, &mut meta, op, now)?;
            }
            let resolved = state.value.clone();
            tx.conflict_log.push(ConflictLogEntry {
                id: id.clone(),
                seqs: conflict.seqs,
                policy: ConflictPolicy::Manual,
                local: conflict.local,
                local_change: conflict.local_change,
                remote: conflict.remote,
                remote_version: conflict.remote_version,
                resolved,
                outcome: outcome.into(),
                at_ms: now,
                local_hlc: conflict.local_hlc,
                remote_hlc: None,
            });
            tx.meta = Some(meta);
            Ok(())
        })
        .await
}

/// Queues a dead letter's change again as a new local write and removes the dead
/// letter, atomically. Fails (changing nothing) if the change no longer applies.
pub async fn retry_dead_letter<S: Storage, C: Clock>(
    storage: &S,
    clock: &C,
    letter: &DeadLetter,
) -> Result<(), SyncError> {
    let now = clock.now_ms();
    let op = match &letter.op {
        Op::Create { record } | Op::Put { record } => LocalOp::Put(record.clone()),
        Op::Update { patch } => LocalOp::Update(patch.clone()),
        Op::Delete => LocalOp::Delete,
    };
    storage
        .transact(std::slice::from_ref(&letter.record), |tx| {
            let mut meta = tx.meta()?.clone();
            plan_local_write(tx.state(&letter.record), &mut meta, op, now)?;
            tx.meta = Some(meta);
            tx.removed_dead_letters.push(letter.id);
            Ok(())
        })
        .await
}

/// Deletes a dead letter.
pub async fn discard_dead_letter<S: Storage>(storage: &S, id: u64) -> Result<(), SyncError> {
    storage
        .transact(&[], |tx| {
            tx.removed_dead_letters.push(id);
            Ok(())
        })
        .await
}
