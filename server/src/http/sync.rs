//! `POST /v1/push` and `POST /v1/pull` (docs/PROTOCOL.md): the core's server rules,
//! each request in one database transaction.

use axum::extract::State;
use axum::Json;
use idb_sync_core::protocol::{PullRequest, PullResponse, PushRequest, PushResponse};
use idb_sync_core::server;

use super::body::JsonBody;
use super::{now_ms, AppState, AuthUser};
use crate::error::ApiError;
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
            store.commit().await?;
            Ok(Json(response))
        }
        Err(error) => {
            // Nothing of this push may stay: not the effects, not the high-water mark.
            let _ = store.rollback().await;
            Err(error.into())
        }
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
