//! The changeLog adapter (seed 003, docs/adapters/changeLog.md): the seed's `SyncAPI`
//! over HTTP — `pushChanges(changes)` → `{ accepted, rejected, conflicts }`,
//! `getChanges(since)` → `{ changes, timestamp }`, `acknowledgeChanges(ids)`. A
//! change is `{ id, entityType, entityId, operation, timestamp, data, version,
//! deviceId }`; the server's `version` (incremented on each change of an entity) is
//! the engine's version. This file: the names, the push; `pull.rs`: the cursor
//! (the server's `timestamp`, an overlap, the ids to acknowledge) and the pull.

mod pull;

pub use pull::ChangeLogCursor;

use serde_json::{Map, Value};

use super::{error_answer, own_error, HttpMethod, HttpPort, HttpRequest, HttpResponse};
use super::{ProtocolAdapter, LATEST_DATE_MS};
use crate::error::SyncError;
use crate::hlc::Hlc;
use crate::key::RecordKey;
use crate::ports::TransportResponse;
use crate::protocol::{ConflictReason, Mutation, MutationResult, PushResponse, ServerSnapshot};
use crate::protocol::{PullRequest, PushRequest};
use crate::record::{Op, Record};
use crate::PROTOCOL_VERSION;

/// The code of a mutation the server answered `rejected` for (or did not answer): the
/// engine parks it alone as a dead letter.
pub const REJECTED: &str = "rejected";

/// How one changeLog server names things.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeLogConfig {
    /// Prefix of the three paths, e.g. `/api/sync` (default empty).
    pub base_path: String,
    /// `pushChanges`: `POST` (default `/pushChanges`).
    pub push_path: String,
    /// `getChanges`: `GET …?since=<ms>` (default `/getChanges`).
    pub pull_path: String,
    /// `acknowledgeChanges`: `POST` (default `/acknowledgeChanges`).
    pub acknowledge_path: String,
    /// The field of `data` holding the record's key (default `id`): written into
    /// pushed data that lacks it, read (before `entityId`) from pulled data.
    pub id_field: String,
    /// The seed client's bookkeeping field on every entity (`sync: SyncMetadata`,
    /// default `sync`): never pushed, dropped from pulled data.
    pub meta_field: String,
    /// (local table name, the server's `entityType`); a table not listed keeps its name.
    pub tables: Vec<(String, String)>,
    /// The signed-in user's id, reported as the account of every answer
    /// (docs/INVARIANTS.md, I10); `None`: answers name no account.
    pub user_id: Option<String>,
    /// How far before the server's last `timestamp` the next pull starts (default
    /// 60 s): covers changes committed after the server read its clock.
    pub overlap_ms: u64,
}

impl Default for ChangeLogConfig {
    fn default() -> Self {
        ChangeLogConfig {
            base_path: String::new(),
            push_path: "/pushChanges".into(),
            pull_path: "/getChanges".into(),
            acknowledge_path: "/acknowledgeChanges".into(),
            id_field: "id".into(),
            meta_field: "sync".into(),
            tables: Vec::new(),
            user_id: None,
            overlap_ms: 60_000,
        }
    }
}

/// The changeLog adapter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChangeLog {
    /// Its names.
    pub config: ChangeLogConfig,
}

fn malformed(msg: impl Into<String>) -> SyncError {
    SyncError::MalformedResponse(msg.into())
}

/// A key as `entityId` carries it (`String(key)`).
fn key_text(key: &RecordKey) -> String {
    match key {
        RecordKey::String(s) => s.clone(),
        RecordKey::Number(_) => serde_json::to_string(key).unwrap_or_default(),
    }
}

/// A change id as text (the server may send numbers).
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn v1_answer(body: &impl serde::Serialize) -> Result<TransportResponse, SyncError> {
    Ok(TransportResponse {
        status: 200,
        retry_after_ms: None,
        body: serde_json::to_string(body).map_err(|e| malformed(e.to_string()))?,
    })
}

impl ChangeLog {
    /// An adapter with these names.
    pub fn new(config: ChangeLogConfig) -> Self {
        ChangeLog { config }
    }

    fn remote_table<'a>(&'a self, table: &'a str) -> &'a str {
        let found = self.config.tables.iter().find(|(local, _)| local == table);
        found.map_or(table, |(_, remote)| remote.as_str())
    }

    fn local_table<'a>(&'a self, remote: &'a str) -> &'a str {
        let found = self.config.tables.iter().find(|(_, r)| r == remote);
        found.map_or(remote, |(local, _)| local.as_str())
    }

    /// The id of the change a mutation is sent as: `<clientId>:<seq>`, the same on
    /// every resend.
    pub fn change_id(client_id: &str, m: &Mutation) -> String {
        format!("{client_id}:{}", m.seq)
    }

    /// The `pushChanges` request: one change per mutation. `version` is the version
    /// the change is based on; `timestamp` the write's (skew-corrected) time; an
    /// update sends only its fields (the server merges them into the entity), a
    /// delete `data: null`.
    pub fn push_http(&self, request: &PushRequest) -> HttpRequest {
        let c = &self.config;
        let changes: Vec<Value> = request
            .mutations
            .iter()
            .map(|m| {
                let (operation, data) = match &m.op {
                    Op::Create { record } => ("create", Some(record.clone())),
                    Op::Put { record } => ("update", Some(record.clone())),
                    Op::Update { patch } => ("update", Some(patch.clone())),
                    Op::Delete => ("delete", None),
                };
                let data = data.map(|mut d| {
                    d.remove(&c.meta_field);
                    if !matches!(m.op, Op::Update { .. }) && !d.contains_key(&c.id_field) {
                        let key = serde_json::to_value(&m.key).unwrap_or(Value::Null);
                        d.insert(c.id_field.clone(), key);
                    }
                    Value::Object(d)
                });
                let mut change = Map::new();
                change.insert("id".into(), Self::change_id(&request.client_id, m).into());
                change.insert("entityType".into(), self.remote_table(&m.table).into());
                change.insert("entityId".into(), key_text(&m.key).into());
                change.insert("operation".into(), operation.into());
                change.insert("timestamp".into(), m.hlc.millis.into());
                change.insert("data".into(), data.unwrap_or(Value::Null));
                change.insert("version".into(), m.base_version.into());
                change.insert("deviceId".into(), request.client_id.clone().into());
                Value::Object(change)
            })
            .collect();
        let mut body = Map::new();
        body.insert("changes".into(), Value::Array(changes));
        HttpRequest {
            method: HttpMethod::Post,
            path: format!("{}{}", c.base_path, c.push_path),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Some(Value::Object(body).to_string()),
        }
    }

    /// The clock probe: `getChanges` with a `since` after any change, whose answer's
    /// `timestamp` is the server's time for the push answer.
    pub fn clock_http(&self) -> HttpRequest {
        let c = &self.config;
        HttpRequest {
            method: HttpMethod::Get,
            path: format!("{}{}?since={LATEST_DATE_MS}", c.base_path, c.pull_path),
            headers: Vec::new(),
            body: None,
        }
    }

    /// The v1 answer to a push, at `server_time` (the clock probe's). `accepted` is
    /// `applied` at the sent version + 1 (the server increments an entity's version on
    /// each change, and accepts only changes based on its current version); a conflict
    /// is a v1 conflict with the server's change as the record, for the engine's
    /// policy — unless that change is this device's at the sent version + 1: then this
    /// is a resend of a change the server already took (its answer was lost), answered
    /// `applied`. Any mutation `rejected` or not answered makes the whole answer a 422
    /// `rejected`: the engine splits the batch and parks that mutation alone (I6).
    pub fn push_answer(
        &self,
        request: &PushRequest,
        response: &HttpResponse,
        server_time: u64,
    ) -> Result<TransportResponse, SyncError> {
        if !(200..300).contains(&response.status) {
            return Ok(error_answer(response));
        }
        let body: Value =
            serde_json::from_str(&response.body).map_err(|e| malformed(format!("push: {e}")))?;
        let ids = |field: &str| -> Vec<String> {
            let list = body[field].as_array();
            list.into_iter().flatten().filter_map(id_text).collect()
        };
        let (accepted, rejected) = (ids("accepted"), ids("rejected"));
        let conflicts = body["conflicts"].as_array().cloned().unwrap_or_default();
        let mut results = Vec::new();
        let mut refused = Vec::new();
        for m in &request.mutations {
            let id = Self::change_id(&request.client_id, m);
            let conflict = conflicts
                .iter()
                .find(|c| id_text(&c["local"]["id"]).as_deref() == Some(id.as_str()));
            if accepted.contains(&id) {
                results.push(MutationResult::Applied {
                    seq: m.seq,
                    version: m.base_version + 1,
                    previous_version: m.base_version,
                });
            } else if let (Some(conflict), false) = (conflict, rejected.contains(&id)) {
                results.push(self.conflict(request, m, &conflict["server"])?);
            } else {
                refused.push(format!("{}[{}] ({id})", m.table, m.key));
            }
        }
        if !refused.is_empty() {
            let msg = format!("the server rejected {}", refused.join(", "));
            return Ok(own_error(422, REJECTED, msg));
        }
        v1_answer(&PushResponse {
            protocol_version: PROTOCOL_VERSION,
            server_time,
            results,
            account: self.config.user_id.clone(),
        })
    }

    /// A conflict's server change as a v1 result (see [`ChangeLog::push_answer`]).
    fn conflict(
        &self,
        request: &PushRequest,
        m: &Mutation,
        server: &Value,
    ) -> Result<MutationResult, SyncError> {
        let version = server["version"].as_u64().ok_or_else(|| {
            malformed(format!(
                "a conflict of {}[{}] without a version",
                m.table, m.key
            ))
        })?;
        let own = server["deviceId"].as_str() == Some(request.client_id.as_str());
        if own && version == m.base_version + 1 {
            return Ok(MutationResult::Applied {
                seq: m.seq,
                version,
                previous_version: m.base_version,
            });
        }
        let deleted = server["operation"].as_str() == Some("delete");
        let reason = match (&m.op, deleted) {
            (Op::Update { .. }, true) => ConflictReason::Missing,
            (Op::Create { .. }, false) if m.base_version == 0 => ConflictReason::AlreadyExists,
            _ => ConflictReason::StaleBase,
        };
        Ok(MutationResult::Conflict {
            seq: m.seq,
            reason,
            server: ServerSnapshot {
                version,
                deleted,
                data: (!deleted).then(|| self.data(server)).flatten(),
                hlc: self.hlc(server),
            },
        })
    }

    /// A server change's `data` as a record: the seed client's bookkeeping left out.
    fn data(&self, change: &Value) -> Option<Record> {
        let mut data = change["data"].as_object()?.clone();
        data.remove(&self.config.meta_field);
        Some(data)
    }

    /// A server change's time as the write's timestamp (its `timestamp`, server time;
    /// the device that made it breaks ties), for `lastWriteWins`.
    fn hlc(&self, change: &Value) -> Option<Hlc> {
        Some(Hlc {
            millis: change["timestamp"].as_u64()?,
            counter: 0,
            node: change["deviceId"].as_str().unwrap_or("server").to_owned(),
        })
    }
}

impl ProtocolAdapter for ChangeLog {
    async fn push<H: HttpPort>(
        &self,
        http: &H,
        request: &PushRequest,
    ) -> Result<TransportResponse, SyncError> {
        // The server's time first: nothing is sent if the server does not answer.
        let clock = http.fetch(self.clock_http()).await?;
        if !(200..300).contains(&clock.status) {
            return Ok(error_answer(&clock));
        }
        let server_time = pull::timestamp(&clock)?;
        if request.mutations.is_empty() {
            return self.push_answer(request, &empty_push_answer(), server_time);
        }
        let response = http.fetch(self.push_http(request)).await?;
        self.push_answer(request, &response, server_time)
    }

    async fn pull<H: HttpPort>(
        &self,
        http: &H,
        request: &PullRequest,
    ) -> Result<TransportResponse, SyncError> {
        if let Some(ack) = self.acknowledge_http(request) {
            let answer = http.fetch(ack).await?;
            if !(200..300).contains(&answer.status) {
                return Ok(error_answer(&answer));
            }
        }
        let response = http.fetch(self.pull_http(request)).await?;
        self.pull_answer(request, &response)
    }
}

/// What the server would answer to no changes.
fn empty_push_answer() -> HttpResponse {
    HttpResponse {
        status: 200,
        retry_after_ms: None,
        body: r#"{"accepted":[],"rejected":[],"conflicts":[]}"#.into(),
    }
}
