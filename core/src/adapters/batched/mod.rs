//! The batched adapter (seed 002, docs/adapters/batched.md): one endpoint,
//! `POST {basePath}/sync` with `{ deviceId, lastSyncTimestamp, changes: [{ localId,
//! entityType, operation, timestamp, data }] }`, answered `{ success, data: {
//! acknowledged: [{ localId, serverId, entityType, operation, success }], conflicts,
//! serverUpdates: { <collection>: [document, …] }, syncTimestamp } }`.
//!
//! The seed does push and pull in one request; the engine pushes, then pulls, and
//! only a pull may move the cursor (stored with its page, I4). So a v1 push sends the
//! changes and asks for no updates (`lastSyncTimestamp` far in the future); a v1
//! pull sends `changes: []` and the cursor's server time. Records keep the local key
//! (`localId`, which every device shares); the server's id lands in `serverIdField`
//! when the pull brings the document back: a push answers `applied` at a provisional
//! version (base + 1) below the document's `updatedAt`, which is the version pulls
//! carry (ms of the server's clock).

#[cfg(test)]
mod tests;
mod wire;

use serde_json::{Map, Value};

use super::format_iso_ms;
use super::push_pull::PushPullCursor;
use super::{error_answer, own_error, HttpMethod, HttpRequest, HttpResponse};
use crate::error::SyncError;
use crate::ports::TransportResponse;
use crate::protocol::{
    ConflictReason, MutationResult, PullPage, PullRequest, PullResponse, PushRequest, PushResponse,
};
use crate::PROTOCOL_VERSION;

pub use wire::{change_timestamp, NO_UPDATES};

/// The code of a mutation the server acknowledged without success (a validation
/// error, an unknown entity type) or did not answer: the engine parks it alone.
pub const NOT_ACCEPTED: &str = "not_accepted";

/// How one seed-002 server names things.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchedConfig {
    /// Prefix of the endpoint: the request goes to `{base_path}/sync` (default
    /// `/api`, the seed's `POST /api/sync`).
    pub base_path: String,
    /// The local record's field holding its key (default `localId`); sent as the
    /// change's `localId`, filled from the document's `localId` on pull.
    pub id_field: String,
    /// The local record's field that receives the server's id (default `serverId`).
    pub server_id_field: String,
    /// The document field that marks a soft delete (default `isDeleted`).
    pub deleted_field: String,
    /// (local table, key of `serverUpdates`); a table not listed keeps its name.
    pub tables: Vec<(String, String)>,
    /// (local table, `entityType`); a table not listed uses its collection name in
    /// the singular (`items` → `item`, `categories` → `category`).
    pub entity_types: Vec<(String, String)>,
    /// The signed-in user's id, reported as the account of every answer (I10).
    pub user_id: Option<String>,
    /// How far before the last `syncTimestamp` the next pull starts (default 60 s).
    pub overlap_ms: u64,
}

impl Default for BatchedConfig {
    fn default() -> Self {
        BatchedConfig {
            base_path: "/api".into(),
            id_field: "localId".into(),
            server_id_field: "serverId".into(),
            deleted_field: "isDeleted".into(),
            tables: Vec::new(),
            entity_types: Vec::new(),
            user_id: None,
            overlap_ms: 60_000,
        }
    }
}

/// The batched adapter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batched {
    /// Its names.
    pub config: BatchedConfig,
}

fn malformed(msg: impl Into<String>) -> SyncError {
    SyncError::MalformedResponse(msg.into())
}

fn ok_answer<T: serde::Serialize>(answer: &T) -> Result<TransportResponse, SyncError> {
    Ok(TransportResponse {
        status: 200,
        retry_after_ms: None,
        body: serde_json::to_string(answer).map_err(|e| malformed(e.to_string()))?,
    })
}

/// The `data` of a 2xx answer, or the v1 error answer for anything else. The seed
/// wraps every answer as `{ success, data }`; `success: false` is an error.
fn answer_data(response: &HttpResponse) -> Result<Result<Value, TransportResponse>, SyncError> {
    if !(200..300).contains(&response.status) {
        return Ok(Err(error_answer(response)));
    }
    let mut body: Value =
        serde_json::from_str(&response.body).map_err(|e| malformed(format!("sync: {e}")))?;
    if body["success"] == Value::Bool(false) {
        return Ok(Err(error_answer(&HttpResponse {
            status: 500,
            ..response.clone()
        })));
    }
    match body.get_mut("data").map(Value::take) {
        Some(data @ Value::Object(_)) => Ok(Ok(data)),
        _ => Err(malformed("sync answer without `data`")),
    }
}

impl Batched {
    /// An adapter with these names.
    pub fn new(config: BatchedConfig) -> Self {
        Batched { config }
    }

    /// The one request of the seed: `changes` and the time updates are asked from.
    fn sync_http(&self, device_id: &str, since: &str, changes: Vec<Value>) -> HttpRequest {
        let mut body = Map::new();
        body.insert("deviceId".into(), device_id.into());
        body.insert("lastSyncTimestamp".into(), since.into());
        body.insert("changes".into(), Value::Array(changes));
        HttpRequest {
            method: HttpMethod::Post,
            path: format!("{}/sync", self.config.base_path),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Some(Value::Object(body).to_string()),
        }
    }

    /// The push request: one change per mutation (see [`Batched::change_json`]),
    /// asking for no updates (they come with the pull, which owns the cursor).
    pub fn push_http(&self, request: &PushRequest) -> HttpRequest {
        let changes = request
            .mutations
            .iter()
            .map(|m| self.change_json(m))
            .collect();
        self.sync_http(&request.client_id, NO_UPDATES, changes)
    }

    /// The v1 answer to a push. Each mutation is found in `acknowledged` or
    /// `conflicts` by `(entityType, localId)`: acknowledged with success → `applied`
    /// at base + 1 (provisional: the pull then brings the document, with its
    /// `serverId`, at its `updatedAt`); a conflict → `conflict` with the server's
    /// document, for the engine's policy. A mutation acknowledged without success or
    /// not answered makes the whole answer a 422 `not_accepted`: the engine splits the
    /// batch and parks that one alone; resending the others is safe (the server
    /// upserts by `localId`, and the resend carries the same `timestamp`).
    pub fn push_answer(
        &self,
        request: &PushRequest,
        response: &HttpResponse,
    ) -> Result<TransportResponse, SyncError> {
        let data = match answer_data(response)? {
            Ok(data) => data,
            Err(error) => return Ok(error),
        };
        let server_time = wire::time_of(&data["syncTimestamp"])
            .ok_or_else(|| malformed("sync answer without a readable `syncTimestamp`"))?;
        let list = |field: &str| data[field].as_array().cloned().unwrap_or_default();
        let (acks, conflicts) = (list("acknowledged"), list("conflicts"));
        let mut results = Vec::new();
        let mut refused = Vec::new();
        for m in &request.mutations {
            let entity = self.entity_type(&m.table);
            let key = serde_json::to_value(&m.key).unwrap_or(Value::Null);
            let about = |v: &&Value| v["localId"] == key && v["entityType"] == entity;
            if let Some(conflict) = conflicts.iter().find(about) {
                match self.snapshot(
                    &m.table,
                    &conflict["serverData"],
                    &conflict["serverTimestamp"],
                ) {
                    Some(server) => results.push(MutationResult::Conflict {
                        seq: m.seq,
                        reason: ConflictReason::StaleBase,
                        server,
                    }),
                    None => refused.push(format!("{}[{}]: a conflict", m.table, m.key)),
                }
                continue;
            }
            match acks.iter().find(about) {
                Some(ack) if ack["success"] == Value::Bool(true) => {
                    results.push(MutationResult::Applied {
                        seq: m.seq,
                        version: m.base_version + 1,
                        previous_version: m.base_version,
                    })
                }
                Some(ack) => {
                    let why = ack["error"].as_str().unwrap_or("no success");
                    refused.push(format!("{}[{}]: {why}", m.table, m.key));
                }
                None => refused.push(format!("{}[{}]: not acknowledged", m.table, m.key)),
            }
        }
        if !refused.is_empty() {
            let msg = format!("the server did not accept {}", refused.join("; "));
            return Ok(own_error(422, NOT_ACCEPTED, msg));
        }
        ok_answer(&PushResponse {
            protocol_version: PROTOCOL_VERSION,
            server_time,
            results,
            account: self.config.user_id.clone(),
        })
    }

    /// The pull request: no changes, updates since the cursor's server time minus
    /// the overlap (the epoch for a first pull).
    pub fn pull_http(&self, request: &PullRequest) -> HttpRequest {
        let cursor = PushPullCursor::decode(request.cursor.as_ref());
        let since = cursor.since.saturating_sub(self.config.overlap_ms);
        self.sync_http(&request.client_id, &format_iso_ms(since), Vec::new())
    }

    /// The v1 page of a pull answer: every document of `serverUpdates` is a change
    /// of its table at its `updatedAt`; the new cursor is `syncTimestamp`, with the
    /// documents inside the overlap, which the next pull leaves out if they come back
    /// unchanged.
    pub fn pull_answer(
        &self,
        request: &PullRequest,
        response: &HttpResponse,
    ) -> Result<TransportResponse, SyncError> {
        let data = match answer_data(response)? {
            Ok(data) => data,
            Err(error) => return Ok(error),
        };
        let server_time = wire::time_of(&data["syncTimestamp"])
            .ok_or_else(|| malformed("sync answer without a readable `syncTimestamp`"))?;
        let before = PushPullCursor::decode(request.cursor.as_ref());
        let (changes, next) = self.page(&data["serverUpdates"], &before, server_time)?;
        ok_answer(&PullResponse::Ok(PullPage {
            protocol_version: PROTOCOL_VERSION,
            server_time,
            changes,
            cursor: next.encode(),
            has_more: false,
            account: self.config.user_id.clone(),
        }))
    }
}

super::seam::one_request_each!(Batched);
