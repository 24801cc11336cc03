//! `GET /health`: whether the server and its database answer.

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use super::AppState;
use crate::error::ApiError;

/// The body of a healthy answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// Always `"ok"` (an unhealthy server answers 503 with an error body).
    pub status: &'static str,
    /// The server's version.
    pub version: &'static str,
    /// The sync protocol version it speaks.
    pub protocol_version: u32,
    /// The kind of database behind it (`"sqlite"` or `"postgres"`).
    pub database: &'static str,
}

/// Answers 200 with [`Health`] when the database answers a query, 503 otherwise.
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    state
        .database
        .ping()
        .await
        .map_err(ApiError::database_unavailable)?;
    Ok(Json(Health {
        status: "ok",
        version: idb_sync_core::VERSION,
        protocol_version: idb_sync_core::PROTOCOL_VERSION,
        database: state.database.kind().name(),
    }))
}
