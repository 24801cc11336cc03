//! `apply_push`: idempotency, conflict detection and field merge for one push.

use super::{
    ClientState, MutationValidator, ServerConfig, ServerError, ServerRecord, ServerStore,
    StoredOutcome,
};
use crate::protocol::{
    ConflictReason, MergeMode, Mutation, MutationResult, Origin, PushRequest, PushResponse,
};
use crate::record::{apply_op, Op, Record};
use crate::PROTOCOL_VERSION;

/// What a mutation does to the current record.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Write a new version with this content (`None` = tombstone).
    Apply(Option<Record>),
    /// Nothing to change (a delete of a tombstone); answered `applied`.
    Unchanged,
    /// Do not apply.
    Conflict(ConflictReason),
}

/// The conflict rules: what mutation `m` does to `current` (see `docs/PROTOCOL.md`).
pub fn decide(m: &Mutation, current: Option<&ServerRecord>) -> Decision {
    let current_version = current.map_or(0, |r| r.version);
    let live = current.and_then(|r| r.data.as_ref());
    let stale = m.base_version != current_version;
    let strict = m.mode == MergeMode::Strict;
    match &m.op {
        Op::Create { record } => match live {
            Some(_) => Decision::Conflict(ConflictReason::AlreadyExists),
            None => Decision::Apply(Some(record.clone())),
        },
        Op::Put { record } => {
            if !stale || (live.is_none() && !strict) {
                Decision::Apply(Some(record.clone()))
            } else {
                Decision::Conflict(ConflictReason::StaleBase)
            }
        }
        Op::Update { .. } => match live {
            None => Decision::Conflict(ConflictReason::Missing),
            Some(_) if stale && strict => Decision::Conflict(ConflictReason::StaleBase),
            Some(r) => Decision::Apply(apply_op(Some(r), &m.op)),
        },
        Op::Delete => match (current, live) {
            (None, _) => Decision::Apply(None),
            (Some(_), None) => Decision::Unchanged,
            (Some(_), Some(_)) if stale && strict => Decision::Conflict(ConflictReason::StaleBase),
            (Some(_), Some(_)) => Decision::Apply(None),
        },
    }
}

/// Applies a push for `user` inside the transaction `store`, and returns the answer.
/// The caller commits `store` on `Ok` and rolls it back on `Err`: the idempotency
/// high-water mark is written in the same transaction as the effects (I3).
pub async fn apply_push<S: ServerStore, V: MutationValidator + ?Sized>(
    store: &mut S,
    user: &str,
    request: &PushRequest,
    config: &ServerConfig,
    validator: &V,
    now_ms: u64,
) -> Result<PushResponse, ServerError> {
    if request.protocol_version != PROTOCOL_VERSION {
        return Err(ServerError::UpgradeRequired(request.protocol_version));
    }
    if request.client_id.is_empty() || request.client_id.len() > 128 {
        return Err(ServerError::BadRequest(
            "clientId must be 1 to 128 characters".into(),
        ));
    }
    if request.mutations.len() > config.max_mutations_per_push {
        return Err(ServerError::PayloadTooLarge(format!(
            "{} mutations, at most {} per push",
            request.mutations.len(),
            config.max_mutations_per_push
        )));
    }
    if request.mutations.windows(2).any(|w| w[0].seq >= w[1].seq)
        || request.mutations.iter().any(|m| m.seq == 0)
    {
        return Err(ServerError::BadRequest(
            "seqs must be positive and strictly increasing".into(),
        ));
    }
    let mut client = store.client_state(user, &request.client_id).await?;
    if let Some(first) = request.mutations.first() {
        // The client resends from its oldest unanswered seq: outcomes below it were received.
        client.unapplied.retain(|seq, _| *seq >= first.seq);
    }
    let mut results = Vec::with_capacity(request.mutations.len());
    for m in &request.mutations {
        let result = apply_one(store, user, &request.client_id, &mut client, m, validator).await?;
        results.push(result);
    }
    store
        .put_client_state(user, &request.client_id, &client)
        .await?;
    Ok(PushResponse {
        protocol_version: PROTOCOL_VERSION,
        server_time: now_ms,
        results,
    })
}

async fn apply_one<S: ServerStore, V: MutationValidator + ?Sized>(
    store: &mut S,
    user: &str,
    client_id: &str,
    client: &mut ClientState,
    m: &Mutation,
    validator: &V,
) -> Result<MutationResult, ServerError> {
    let seq = m.seq;
    if seq <= client.high_water {
        let outcome = client.unapplied.get(&seq).cloned();
        return Ok(match outcome {
            None => MutationResult::Duplicate { seq },
            Some(StoredOutcome::Conflict(reason)) => {
                let current = store.get_record(user, &m.table, &m.key).await?;
                MutationResult::Conflict {
                    seq,
                    reason,
                    server: ServerRecord::snapshot(current.as_ref()),
                }
            }
            Some(StoredOutcome::Rejected { code, reason }) => {
                let current = store.get_record(user, &m.table, &m.key).await?;
                MutationResult::Rejected {
                    seq,
                    code,
                    reason,
                    server: ServerRecord::snapshot(current.as_ref()),
                }
            }
        });
    }
    client.high_water = seq;
    if let Err((code, reason)) = validator.validate(m) {
        client.unapplied.insert(
            seq,
            StoredOutcome::Rejected {
                code: code.clone(),
                reason: reason.clone(),
            },
        );
        let current = if code == "invalid_table" {
            None
        } else {
            store.get_record(user, &m.table, &m.key).await?
        };
        return Ok(MutationResult::Rejected {
            seq,
            code,
            reason,
            server: ServerRecord::snapshot(current.as_ref()),
        });
    }
    let current = store.get_record(user, &m.table, &m.key).await?;
    match decide(m, current.as_ref()) {
        Decision::Conflict(reason) => {
            client
                .unapplied
                .insert(seq, StoredOutcome::Conflict(reason));
            Ok(MutationResult::Conflict {
                seq,
                reason,
                server: ServerRecord::snapshot(current.as_ref()),
            })
        }
        Decision::Unchanged => {
            let version = current.map_or(0, |r| r.version);
            Ok(MutationResult::Applied {
                seq,
                version,
                previous_version: version,
            })
        }
        Decision::Apply(data) => {
            let previous_version = current.as_ref().map_or(0, |r| r.version);
            let change_seq = store.next_change_seq(user).await?;
            let version = change_seq;
            let record = ServerRecord {
                table: m.table.clone(),
                key: m.key.clone(),
                version,
                previous_version,
                data,
                hlc: Some(m.hlc.clone()),
                change_seq,
                origin: Some(Origin {
                    client_id: client_id.to_owned(),
                    seq,
                }),
            };
            store.put_record(user, &record).await?;
            Ok(MutationResult::Applied {
                seq,
                version,
                previous_version,
            })
        }
    }
}
