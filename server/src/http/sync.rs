//! `POST /v1/push` and `POST /v1/pull` (docs/PROTOCOL.md): the core's server rules,
//! each request in one database transaction; a push that changed data is announced
//! on the push channel after it commits.

use axum::extract::State;
use axum::Json;
use idb_sync_core::protocol::{PullRequest, PullResponse, PushRequest, PushResponse};
use idb_sync_core::server;

use super::body::JsonBody;
use super::{now_ms, AppState, AuthUser};
use crate::db::DatabaseKind;
use crate::error::ApiError;
use crate::events::postgres;
use crate::store::SqlStore;

/// Applies a push as the calling user; commits only if every mutation got a result.
pub async fn push(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(request): JsonBody<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    state.rules.check_push(&request)?;
    let mut store = SqlStore::begin_write(&state.database, &user).await?;
    let outcome = server::apply_push(
        &mut store,
        &user,
        &request,
        &state.rules.server,
        &state.rules.validator,
        now_ms(),
    )
    .await;
    match outcome {
        Ok(response) => {
            let changed = store.committed_seq(&user);
            store.commit().await?;
            if let Some(seq) = changed {
                announce(&state, user, seq);
            }
            Ok(Json(response))
        }
        Err(error) => {
            // Nothing of this push may stay: not the effects, not the high-water mark.
            let _ = store.rollback().await;
            Err(error.into())
        }
    }
}

/// Tells the user's event streams, here and (on PostgreSQL) on every instance, that
/// the user's change stream moved to `seq`. After the commit, never before.
fn announce(state: &AppState, user: String, seq: u64) {
    state.events.publish(&user, seq);
    if state.database.kind() == DatabaseKind::Postgres {
        let database = state.database.clone();
        tokio::spawn(async move {
            if let Err(error) = postgres::notify(&database, &user, seq).await {
                tracing::warn!(%error, "cannot NOTIFY other instances of a push");
            }
        });
    }
}

/// Answers a pull page for the calling user from one consistent snapshot.
pub async fn pull(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(request): JsonBody<PullRequest>,
) -> Result<Json<PullResponse>, ApiError> {
    let mut store = SqlStore::begin_read(&state.database).await?;
    let response = server::pull(&mut store, &user, &request, &state.rules.server, now_ms()).await;
    let _ = store.rollback().await;
    Ok(Json(response?))
}
