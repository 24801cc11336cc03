//! `apply_push`: idempotency (with content hashes and pruned outcomes), the account
//! check, conflict detection and field merge for one push.

use super::validate::storable_key;
use super::{
    content_hash, ClientState, MutationValidator, OutcomeKind, ServerConfig, ServerError,
    ServerRecord, ServerStore, StoredOutcome,
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
///
/// Refuses the whole request with `account_changed` when it names another account
/// (I10), and with `client_id_reused` when a `(clientId, seq)` comes back with other
/// content or below the seqs the client has acknowledged (I11).
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
    check_account(request.account.as_deref(), user)?;
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
    // A state stored before content hashes: its processed seqs have no outcome.
    let legacy = client.acked_below == 0 && client.high_water > 0;
    if let Some(first) = request.mutations.first() {
        if first.seq < client.acked_below {
            return Err(ServerError::ClientIdReused(format!(
                "seq {} was already acknowledged (this client moved past seq {})",
                first.seq, client.acked_below
            )));
        }
        // The client resends from its oldest unanswered seq: outcomes below it were received.
        client.acked_below = first.seq;
        client.outcomes.retain(|seq, _| *seq >= first.seq);
    }
    let mut results = Vec::with_capacity(request.mutations.len());
    for m in &request.mutations {
        let result = apply_one(
            store,
            user,
            &request.client_id,
            &mut client,
            m,
            validator,
            legacy,
        )
        .await?;
        results.push(result);
    }
    if !request.mutations.is_empty() {
        // An empty push (a client's health probe) leaves no trace.
        prune_outcomes(
            &mut client,
            config
                .max_outcomes_per_client
                .max(config.max_mutations_per_push),
        );
        store
            .put_client_state(user, &request.client_id, &client)
            .await?;
    }
    Ok(PushResponse {
        protocol_version: PROTOCOL_VERSION,
        server_time: now_ms,
        results,
        account: Some(user.to_owned()),
    })
}

/// Refuses a request whose `account` is not the authenticated user (I10).
pub(super) fn check_account(claimed: Option<&str>, user: &str) -> Result<(), ServerError> {
    match claimed {
        Some(claimed) if claimed != user => Err(ServerError::AccountChanged {
            claimed: claimed.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// Keeps at most `cap` outcomes: the oldest go, and the acknowledged-below mark rises
/// past them (a resend of a pruned seq is refused rather than answered `duplicate`).
fn prune_outcomes(client: &mut ClientState, cap: usize) {
    while client.outcomes.len() > cap {
        client.outcomes.pop_first();
    }
    if client.outcomes.len() == cap {
        if let Some((&lowest, _)) = client.outcomes.first_key_value() {
            client.acked_below = client.acked_below.max(lowest);
        }
    }
}

fn reused(seq: u64, why: &str) -> ServerError {
    ServerError::ClientIdReused(format!("seq {seq} {why}"))
}

/// The answer to a resend of a processed seq, from its stored outcome.
async fn answer_resend<S: ServerStore>(
    store: &mut S,
    user: &str,
    m: &Mutation,
    outcome: OutcomeKind,
) -> Result<MutationResult, ServerError> {
    let seq = m.seq;
    Ok(match outcome {
        OutcomeKind::Applied => MutationResult::Duplicate { seq },
        OutcomeKind::Conflict(reason) => {
            let current = store.get_record(user, &m.table, &m.key).await?;
            MutationResult::Conflict {
                seq,
                reason,
                server: ServerRecord::snapshot(current.as_ref()),
            }
        }
        OutcomeKind::Rejected { code, reason } => {
            let current = if storable_key(&m.key) {
                store.get_record(user, &m.table, &m.key).await?
            } else {
                None
            };
            MutationResult::Rejected {
                seq,
                code,
                reason,
                server: ServerRecord::snapshot(current.as_ref()),
            }
        }
    })
}

async fn apply_one<S: ServerStore, V: MutationValidator + ?Sized>(
    store: &mut S,
    user: &str,
    client_id: &str,
    client: &mut ClientState,
    m: &Mutation,
    validator: &V,
    legacy: bool,
) -> Result<MutationResult, ServerError> {
    let seq = m.seq;
    let hash = content_hash(m);
    if seq <= client.high_water {
        return match client.outcomes.get(&seq).cloned() {
            Some(stored) if stored.hash.as_ref().is_some_and(|h| *h != hash) => Err(reused(
                seq,
                "came back with other content than the server processed",
            )),
            Some(stored) => answer_resend(store, user, m, stored.kind).await,
            None if legacy => {
                // Processed before outcomes had hashes: remember this content from now on.
                client.outcomes.insert(
                    seq,
                    StoredOutcome {
                        hash: Some(hash),
                        kind: OutcomeKind::Applied,
                    },
                );
                Ok(MutationResult::Duplicate { seq })
            }
            None => Err(reused(
                seq,
                "was processed, but this client never sent it with this content",
            )),
        };
    }
    client.high_water = seq;
    let (result, kind) = decide_one(store, user, client_id, m, validator).await?;
    client.outcomes.insert(
        seq,
        StoredOutcome {
            hash: Some(hash),
            kind,
        },
    );
    Ok(result)
}

async fn decide_one<S: ServerStore, V: MutationValidator + ?Sized>(
    store: &mut S,
    user: &str,
    client_id: &str,
    m: &Mutation,
    validator: &V,
) -> Result<(MutationResult, OutcomeKind), ServerError> {
    let seq = m.seq;
    if let Err((code, reason)) = validator.validate(m) {
        let current = if code == "invalid_table" || !storable_key(&m.key) {
            None
        } else {
            store.get_record(user, &m.table, &m.key).await?
        };
        let kind = OutcomeKind::Rejected {
            code: code.clone(),
            reason: reason.clone(),
        };
        return Ok((
            MutationResult::Rejected {
                seq,
                code,
                reason,
                server: ServerRecord::snapshot(current.as_ref()),
            },
            kind,
        ));
    }
    let current = store.get_record(user, &m.table, &m.key).await?;
    match decide(m, current.as_ref()) {
        Decision::Conflict(reason) => Ok((
            MutationResult::Conflict {
                seq,
                reason,
                server: ServerRecord::snapshot(current.as_ref()),
            },
            OutcomeKind::Conflict(reason),
        )),
        Decision::Unchanged => {
            let version = current.map_or(0, |r| r.version);
            Ok((
                MutationResult::Applied {
                    seq,
                    version,
                    previous_version: version,
                },
                OutcomeKind::Applied,
            ))
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
            Ok((
                MutationResult::Applied {
                    seq,
                    version,
                    previous_version,
                },
                OutcomeKind::Applied,
            ))
        }
    }
}
