//! The delta adapter (seed 004, docs/adapters/delta.md): one endpoint, `POST
//! {basePath}/api/sync` with `{ apiKey, deviceId, lastSyncTime, changes, deletions }`,
//! answered `{ success, serverTime, changes, deletions, conflicts, stats }`. The
//! server keeps whole records (spools) stamped `lastUpdated` and resolves conflicts
//! last-write-wins on it, and answers what changed since `lastSyncTime` by the same
//! field. So the adapter stamps a pushed record with the server's time (asked first),
//! which makes the stamp the record's version (monotonic per record) and keeps the
//! server's delta filter right for edits made offline. This file: the names and the
//! push; `pull.rs`: the cursor (the server's `serverTime`, an overlap) and the pull.

mod pull;

pub use pull::DeltaCursor;

use serde_json::{Map, Value};

use super::ProtocolAdapter;
use super::{error_answer, own_error, HttpMethod, HttpPort, HttpRequest, HttpResponse};
use crate::error::SyncError;
use crate::hlc::Hlc;
use crate::key::RecordKey;
use crate::ports::TransportResponse;
use crate::protocol::{ConflictReason, Mutation, MutationResult, PushResponse, ServerSnapshot};
use crate::protocol::{PullRequest, PushRequest};
use crate::record::{Op, Record};
use crate::PROTOCOL_VERSION;

/// The code of a mutation of a table the server does not sync: parked by the engine.
pub const NOT_ACCEPTED: &str = "not_accepted";

/// A `lastSyncTime` later than any record: the server answers no change, only its
/// `serverTime` (the clock probe before a push, and the push itself).
const NO_CHANGES_SINCE: u64 = super::LATEST_DATE_MS;

/// How one delta server names things.
#[derive(Clone, Debug, PartialEq)]
pub struct DeltaConfig {
    /// Prefix of the path (default empty).
    pub base_path: String,
    /// The path after `basePath` (default `/api/sync`).
    pub path: String,
    /// The API key sent in every body (`SYNC_API_KEY` on the server).
    pub api_key: String,
    /// The one local table the server syncs (default `spools`).
    pub table: String,
    /// The field holding a record's key (default `id`).
    pub id_field: String,
    /// The modification stamp the server compares and filters on (default
    /// `lastUpdated`): the adapter writes the server's time into it.
    pub updated_field: String,
    /// The soft-delete flag (default `deleted`): a pulled record with it `true` is a
    /// tombstone.
    pub deleted_field: String,
    /// The signed-in account, reported in every answer (I10); `None`: none.
    pub user_id: Option<String>,
    /// How far before the server's last `serverTime` the next pull starts (60 s).
    pub overlap_ms: u64,
}

impl Default for DeltaConfig {
    fn default() -> Self {
        DeltaConfig {
            base_path: String::new(),
            path: "/api/sync".into(),
            api_key: String::new(),
            table: "spools".into(),
            id_field: "id".into(),
            updated_field: "lastUpdated".into(),
            deleted_field: "deleted".into(),
            user_id: None,
            overlap_ms: 60_000,
        }
    }
}

/// The delta adapter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Delta {
    /// Its names.
    pub config: DeltaConfig,
}

fn malformed(msg: impl Into<String>) -> SyncError {
    SyncError::MalformedResponse(msg.into())
}

fn v1_answer(body: &impl serde::Serialize) -> Result<TransportResponse, SyncError> {
    Ok(TransportResponse {
        status: 200,
        retry_after_ms: None,
        body: serde_json::to_string(body).map_err(|e| malformed(e.to_string()))?,
    })
}

/// `applied` at `version`, on a version the server does not name: it merges a record
/// into whatever it holds (maybe another device's change since the base) and stamps
/// it, so the result is not the local record. Not exact (`previousVersion` =
/// `version`, not the base): the engine keeps the key's version and lets the pull
/// that follows bring the record as the server holds it (`acked_unpulled`).
fn applied_over_unknown(seq: u64, version: u64) -> MutationResult {
    MutationResult::Applied {
        seq,
        version,
        previous_version: version,
    }
}

/// A 2xx answer's body, with its `serverTime`; `Err(answer)` for what the engine
/// must see as an error (non-2xx, or `success: false`).
fn sync_answer(
    response: &HttpResponse,
) -> Result<Result<(Value, u64), TransportResponse>, SyncError> {
    if !(200..300).contains(&response.status) {
        return Ok(Err(error_answer(response)));
    }
    let body: Value =
        serde_json::from_str(&response.body).map_err(|e| malformed(format!("sync: {e}")))?;
    if body["success"] == Value::Bool(false) {
        let message = body["error"]
            .as_str()
            .unwrap_or("success: false")
            .to_owned();
        return Ok(Err(own_error(502, "sync_failed", message)));
    }
    let server_time = body["serverTime"]
        .as_u64()
        .ok_or_else(|| malformed("sync answer without a numeric `serverTime`"))?;
    Ok(Ok((body, server_time)))
}

impl Delta {
    /// An adapter with these names.
    pub fn new(config: DeltaConfig) -> Self {
        Delta { config }
    }

    /// `POST {basePath}{path}` with the seed's body.
    pub fn sync_http(
        &self,
        last_sync_time: u64,
        changes: Vec<Value>,
        deletions: Vec<Value>,
        device: &str,
    ) -> HttpRequest {
        let c = &self.config;
        let mut body = Map::new();
        body.insert("apiKey".into(), c.api_key.clone().into());
        body.insert("deviceId".into(), device.into());
        body.insert("lastSyncTime".into(), last_sync_time.into());
        body.insert("changes".into(), Value::Array(changes));
        body.insert("deletions".into(), Value::Array(deletions));
        HttpRequest {
            method: HttpMethod::Post,
            path: format!("{}{}", c.base_path, c.path),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Some(Value::Object(body).to_string()),
        }
    }

    /// The clock probe: nothing sent, nothing asked; the answer's `serverTime`.
    pub fn clock_http(&self, request: &PushRequest) -> HttpRequest {
        self.sync_http(NO_CHANGES_SINCE, Vec::new(), Vec::new(), &request.client_id)
    }

    /// The stamp a pushed record carries: the server's time, and always above the
    /// version the change is based on (so it is a new version of the record).
    pub fn stamp(server_time: u64, m: &Mutation) -> u64 {
        server_time.max(m.base_version + 1)
    }

    /// The push: the records of the sync table (an update sends its fields; the
    /// server merges them into the stored record) stamped with [`Delta::stamp`], the
    /// keys of its deletes in `deletions`; `lastSyncTime` asks for no change back.
    pub fn push_http(&self, request: &PushRequest, server_time: u64) -> HttpRequest {
        let c = &self.config;
        let (mut changes, mut deletions) = (Vec::new(), Vec::new());
        for m in &request.mutations {
            let key = serde_json::to_value(&m.key).unwrap_or(Value::Null);
            let mut record = match &m.op {
                Op::Create { record } | Op::Put { record } => record.clone(),
                Op::Update { patch } => patch.clone(),
                Op::Delete => {
                    deletions.push(key);
                    continue;
                }
            };
            record.insert(c.id_field.clone(), key);
            record.insert(c.updated_field.clone(), Self::stamp(server_time, m).into());
            record.remove(&c.deleted_field);
            changes.push(Value::Object(record));
        }
        self.sync_http(NO_CHANGES_SINCE, changes, deletions, &request.client_id)
    }

    /// A push holding mutations of tables the server does not sync, answered before
    /// anything is sent: a 422 `not_accepted`, so the engine splits the batch and
    /// parks each such mutation alone (I6).
    pub fn other_tables(&self, request: &PushRequest) -> Option<TransportResponse> {
        let other: Vec<String> = request
            .mutations
            .iter()
            .filter(|m| m.table != self.config.table)
            .map(|m| format!("{}[{}]", m.table, m.key))
            .collect();
        let msg = format!(
            "the server syncs only `{}`: {}",
            self.config.table,
            other.join(", ")
        );
        (!other.is_empty()).then(|| own_error(422, NOT_ACCEPTED, msg))
    }

    /// The v1 answer to a push of the sync table's mutations: each record `applied`
    /// at its stamp, each delete at the answer's `serverTime` (when the server marked
    /// it), both not exact ([`applied_over_unknown`]); a record the server kept its own newer copy of (a conflict it resolved
    /// for the server) is a v1 conflict with that copy, for the engine's policy.
    pub fn push_answer(
        &self,
        request: &PushRequest,
        response: &HttpResponse,
        stamped_at: u64,
    ) -> Result<TransportResponse, SyncError> {
        let (body, server_time) = match sync_answer(response)? {
            Ok(answer) => answer,
            Err(error) => return Ok(error),
        };
        let conflicts = body["conflicts"].as_array().cloned().unwrap_or_default();
        let mut results = Vec::new();
        for m in &request.mutations {
            let key = serde_json::to_value(&m.key).unwrap_or(Value::Null);
            let lost = conflicts
                .iter()
                .find(|c| c["id"] == key && c["winner"].as_str() == Some("server"));
            let result = match (lost, &m.op) {
                (Some(conflict), op) if !matches!(op, Op::Delete) => {
                    self.conflict(m, &conflict["server"])?
                }
                (_, Op::Delete) => applied_over_unknown(m.seq, server_time.max(m.base_version + 1)),
                _ => applied_over_unknown(m.seq, Self::stamp(stamped_at, m)),
            };
            results.push(result);
        }
        v1_answer(&PushResponse {
            protocol_version: PROTOCOL_VERSION,
            server_time,
            results,
            account: self.config.user_id.clone(),
        })
    }

    /// The server's copy that won over a pushed record, as a v1 conflict.
    fn conflict(&self, m: &Mutation, server: &Value) -> Result<MutationResult, SyncError> {
        let what = || format!("{}[{}]", m.table, m.key);
        let version = server[self.config.updated_field.as_str()]
            .as_u64()
            .ok_or_else(|| {
                malformed(format!("a conflict of {} without a numeric stamp", what()))
            })?;
        let deleted = server[self.config.deleted_field.as_str()] == Value::Bool(true);
        let reason = match (&m.op, deleted) {
            (Op::Update { .. }, true) => ConflictReason::Missing,
            _ => ConflictReason::StaleBase,
        };
        Ok(MutationResult::Conflict {
            seq: m.seq,
            reason,
            server: ServerSnapshot {
                version,
                deleted,
                data: (!deleted).then(|| self.data(server)).flatten(),
                hlc: Some(Hlc {
                    millis: version,
                    counter: 0,
                    node: "server".into(),
                }),
            },
        })
    }

    /// A server record as app data: the soft-delete flag left out.
    fn data(&self, record: &Value) -> Option<Record> {
        let mut data = record.as_object()?.clone();
        data.remove(&self.config.deleted_field);
        Some(data)
    }

    /// A key as the server sends it (a number stays a number).
    fn key(&self, v: &Value) -> Option<RecordKey> {
        serde_json::from_value(v.clone()).ok()
    }
}

impl ProtocolAdapter for Delta {
    async fn push<H: HttpPort>(
        &self,
        http: &H,
        request: &PushRequest,
    ) -> Result<TransportResponse, SyncError> {
        if let Some(refused) = self.other_tables(request) {
            return Ok(refused);
        }
        let clock = http.fetch(self.clock_http(request)).await?;
        let server_time = match sync_answer(&clock)? {
            Ok((_, time)) => time,
            Err(error) => return Ok(error),
        };
        if request.mutations.is_empty() {
            return self.push_answer(request, &clock, server_time);
        }
        let response = http.fetch(self.push_http(request, server_time)).await?;
        self.push_answer(request, &response, server_time)
    }

    async fn pull<H: HttpPort>(
        &self,
        http: &H,
        request: &PullRequest,
    ) -> Result<TransportResponse, SyncError> {
        let response = http.fetch(self.pull_http(request)).await?;
        self.pull_answer(request, &response)
    }
}
