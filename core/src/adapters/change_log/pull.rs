//! The changeLog adapter's pull: `GET {getChanges}?since=<ms>` answered
//! `{ changes, timestamp }`, and `acknowledgeChanges` of what was applied. The
//! cursor is the server's `timestamp` (never the device clock), pulled again with a
//! safety overlap whose repeats are left out by change id; it also carries the ids
//! of the page it came with, acknowledged at the start of the next pull — once the
//! engine has stored that page with this cursor (I4), never before.

use serde_json::{Map, Value};

use super::{id_text, malformed, v1_answer, ChangeLog};
use crate::adapters::{error_answer, HttpMethod, HttpRequest, HttpResponse};
use crate::error::SyncError;
use crate::key::RecordKey;
use crate::ports::TransportResponse;
use crate::protocol::{Change, Cursor, PullPage, PullRequest, PullResponse};
use crate::PROTOCOL_VERSION;

/// What the opaque v1 cursor holds for this adapter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChangeLogCursor {
    /// The server's `timestamp` of the last page applied.
    pub since: u64,
    /// The changes of the last answer inside the overlap (their ids; for a change
    /// without one, `entityType/entityId@version`): left out when pulled again.
    pub seen: Vec<String>,
    /// The ids of the changes of the page this cursor came with: applied once the
    /// cursor is stored, acknowledged by the next pull.
    pub ack: Vec<String>,
}

fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array()?
        .iter()
        .map(|s| s.as_str().map(str::to_owned))
        .collect()
}

impl ChangeLogCursor {
    /// Reads a stored cursor (`{"since":…,"seen":[…],"ack":[…]}`); `None` or
    /// anything unreadable starts from 0 (a full pull: the engine ignores versions
    /// it already has) and acknowledges nothing.
    pub fn decode(cursor: Option<&Cursor>) -> Self {
        let read = |c: &Cursor| -> Option<Self> {
            let v: Value = serde_json::from_str(&c.0).ok()?;
            Some(ChangeLogCursor {
                since: v["since"].as_u64()?,
                seen: strings(&v["seen"])?,
                ack: strings(&v["ack"])?,
            })
        };
        cursor.and_then(read).unwrap_or_default()
    }

    /// The opaque v1 cursor.
    pub fn encode(&self) -> Cursor {
        let list = |ids: &[String]| Value::Array(ids.iter().map(|s| s.as_str().into()).collect());
        let mut v = Map::new();
        v.insert("since".into(), self.since.into());
        v.insert("seen".into(), list(&self.seen));
        v.insert("ack".into(), list(&self.ack));
        Cursor(Value::Object(v).to_string())
    }
}

/// The `timestamp` of a `getChanges` answer.
pub(super) fn timestamp(response: &HttpResponse) -> Result<u64, SyncError> {
    let body: Value =
        serde_json::from_str(&response.body).map_err(|e| malformed(format!("getChanges: {e}")))?;
    body["timestamp"]
        .as_u64()
        .ok_or_else(|| malformed("getChanges answer without a numeric `timestamp`"))
}

impl ChangeLog {
    /// The `acknowledgeChanges` request for the ids the cursor carries, if any.
    pub fn acknowledge_http(&self, request: &PullRequest) -> Option<HttpRequest> {
        let cursor = ChangeLogCursor::decode(request.cursor.as_ref());
        if cursor.ack.is_empty() {
            return None;
        }
        let ids: Vec<Value> = cursor.ack.into_iter().map(Value::from).collect();
        let mut body = Map::new();
        body.insert("changeIds".into(), Value::Array(ids));
        let c = &self.config;
        Some(HttpRequest {
            method: HttpMethod::Post,
            path: format!("{}{}", c.base_path, c.acknowledge_path),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Some(Value::Object(body).to_string()),
        })
    }

    /// The `getChanges` request: `since` = the cursor's server timestamp minus the
    /// overlap.
    pub fn pull_http(&self, request: &PullRequest) -> HttpRequest {
        let cursor = ChangeLogCursor::decode(request.cursor.as_ref());
        let since = cursor.since.saturating_sub(self.config.overlap_ms);
        let c = &self.config;
        HttpRequest {
            method: HttpMethod::Get,
            path: format!("{}{}?since={since}", c.base_path, c.pull_path),
            headers: Vec::new(),
            body: None,
        }
    }

    /// The v1 page of a `getChanges` answer: each change at its `version` (a
    /// tombstone for `delete`), one per key (the highest version); the repeats of
    /// the overlap left out; the new cursor is the answer's `timestamp`, the
    /// overlap's ids and the page's ids to acknowledge.
    pub fn pull_answer(
        &self,
        request: &PullRequest,
        response: &HttpResponse,
    ) -> Result<TransportResponse, SyncError> {
        if !(200..300).contains(&response.status) {
            return Ok(error_answer(response));
        }
        let server_time = timestamp(response)?;
        let body: Value =
            serde_json::from_str(&response.body).map_err(|e| malformed(e.to_string()))?;
        let before = ChangeLogCursor::decode(request.cursor.as_ref());
        let window_start = server_time.saturating_sub(self.config.overlap_ms);
        let mut next = ChangeLogCursor {
            since: server_time,
            ..ChangeLogCursor::default()
        };
        let mut changes: Vec<Change> = Vec::new();
        for raw in body["changes"].as_array().into_iter().flatten() {
            let change = self.change(raw)?;
            let id = id_text(&raw["id"]);
            let seen = id.clone().unwrap_or_else(|| {
                let entity = format!("{}/{}", raw["entityType"], raw["entityId"]);
                format!("{entity}@{}", change.version)
            });
            if raw["timestamp"].as_u64().is_none_or(|t| t > window_start) {
                next.seen.push(seen.clone());
            }
            if before.seen.contains(&seen) {
                continue;
            }
            next.ack.extend(id);
            match changes
                .iter_mut()
                .find(|c| c.table == change.table && c.key == change.key)
            {
                Some(held) if held.version < change.version => *held = change,
                Some(_) => {}
                None => changes.push(change),
            }
        }
        v1_answer(&PullResponse::Ok(PullPage {
            protocol_version: PROTOCOL_VERSION,
            server_time,
            changes,
            cursor: next.encode(),
            has_more: false,
            account: self.config.user_id.clone(),
        }))
    }

    /// One server change as a v1 change. Its key is `data[idField]` when that is a
    /// string or number (keeps a numeric key numeric), else `entityId`.
    fn change(&self, raw: &Value) -> Result<Change, SyncError> {
        let entity = raw["entityType"]
            .as_str()
            .ok_or_else(|| malformed("a change without an entityType"))?;
        let table = self.local_table(entity).to_owned();
        let what = || format!("{entity}[{}]", raw["entityId"]);
        let version = raw["version"]
            .as_u64()
            .filter(|v| *v > 0)
            .ok_or_else(|| malformed(format!("a change of {} without a version > 0", what())))?;
        let deleted = match raw["operation"].as_str() {
            Some("create" | "update") => false,
            Some("delete") => true,
            _ => {
                return Err(malformed(format!(
                    "a change of {} with an unknown operation",
                    what()
                )))
            }
        };
        let id_field = &self.config.id_field;
        let key_value = match &raw["data"][id_field.as_str()] {
            v @ (Value::String(_) | Value::Number(_)) => v.clone(),
            _ => raw["entityId"].clone(),
        };
        let key: RecordKey = serde_json::from_value(key_value).map_err(|_| {
            malformed(format!(
                "a change of {} without a string or number key",
                what()
            ))
        })?;
        let data = if deleted {
            None
        } else {
            let mut data = self.data(raw).ok_or_else(|| {
                malformed(format!(
                    "a {} change of {} without data",
                    raw["operation"],
                    what()
                ))
            })?;
            if !data.contains_key(id_field) {
                data.insert(
                    id_field.clone(),
                    serde_json::to_value(&key).unwrap_or_default(),
                );
            }
            Some(data)
        };
        Ok(Change {
            table,
            key,
            version,
            previous_version: 0,
            deleted,
            data,
            hlc: self.hlc(raw),
            origin: None,
        })
    }
}
