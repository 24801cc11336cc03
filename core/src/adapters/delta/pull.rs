//! The delta adapter's pull: the same `POST`, with no changes and `lastSyncTime` =
//! the cursor's server time minus an overlap; its `changes` (records at their
//! `lastUpdated`, a tombstone when soft-deleted) and `deletions` (keys only: a
//! tombstone at the answer's `serverTime`) make one v1 page. The repeats the overlap
//! brings back are left out: records by (key, stamp), deletions by key.

use serde_json::{Map, Value};

use super::{malformed, sync_answer, v1_answer, Delta, NO_CHANGES_SINCE};
use crate::adapters::HttpRequest;
use crate::adapters::HttpResponse;
use crate::error::SyncError;
use crate::hlc::Hlc;
use crate::ports::TransportResponse;
use crate::protocol::{Change, Cursor, PullPage, PullRequest, PullResponse};
use crate::PROTOCOL_VERSION;

/// What the opaque v1 cursor holds for this adapter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeltaCursor {
    /// The server's `serverTime` of the last page applied.
    pub since: u64,
    /// Records of the last answer stamped inside the overlap: (key as JSON, stamp).
    pub seen: Vec<(String, u64)>,
    /// The keys (as JSON) of the last answer's `deletions`.
    pub gone: Vec<String>,
}

impl DeltaCursor {
    /// Reads a stored cursor; `None` or anything unreadable starts from 0 (a full
    /// pull: the engine ignores versions it already has).
    pub fn decode(cursor: Option<&Cursor>) -> Self {
        let read = |c: &Cursor| -> Option<Self> {
            let v: Value = serde_json::from_str(&c.0).ok()?;
            let mut seen = Vec::new();
            for item in v["seen"].as_array()? {
                seen.push((item[0].as_str()?.to_owned(), item[1].as_u64()?));
            }
            let gone = v["gone"].as_array()?.iter();
            let gone = gone
                .map(|k| k.as_str().map(str::to_owned))
                .collect::<Option<_>>()?;
            Some(DeltaCursor {
                since: v["since"].as_u64()?,
                seen,
                gone,
            })
        };
        cursor.and_then(read).unwrap_or_default()
    }

    /// The opaque v1 cursor.
    pub fn encode(&self) -> Cursor {
        let seen = self
            .seen
            .iter()
            .map(|(k, s)| Value::Array(vec![k.as_str().into(), (*s).into()]));
        let mut v = Map::new();
        v.insert("since".into(), self.since.into());
        v.insert("seen".into(), Value::Array(seen.collect()));
        let gone = self.gone.iter().map(|k| Value::from(k.as_str()));
        v.insert("gone".into(), Value::Array(gone.collect()));
        Cursor(Value::Object(v).to_string())
    }
}

impl Delta {
    /// The pull: `lastSyncTime` = the cursor's server time minus the overlap.
    pub fn pull_http(&self, request: &PullRequest) -> HttpRequest {
        let cursor = DeltaCursor::decode(request.cursor.as_ref());
        let since = cursor.since.saturating_sub(self.config.overlap_ms);
        self.sync_http(
            since.min(NO_CHANGES_SINCE),
            Vec::new(),
            Vec::new(),
            &request.client_id,
        )
    }

    /// The v1 page of a sync answer (see the module docs); the new cursor is its
    /// `serverTime`.
    pub fn pull_answer(
        &self,
        request: &PullRequest,
        response: &HttpResponse,
    ) -> Result<TransportResponse, SyncError> {
        let (body, server_time) = match sync_answer(response)? {
            Ok(answer) => answer,
            Err(error) => return Ok(error),
        };
        let before = DeltaCursor::decode(request.cursor.as_ref());
        let window_start = server_time.saturating_sub(self.config.overlap_ms);
        let mut next = DeltaCursor {
            since: server_time,
            ..DeltaCursor::default()
        };
        let mut changes: Vec<Change> = Vec::new();
        let mut add = |change: Change| match changes.iter_mut().find(|c| c.key == change.key) {
            Some(held) if held.version < change.version => *held = change,
            Some(_) => {}
            None => changes.push(change),
        };
        for record in body["changes"].as_array().into_iter().flatten() {
            let change = self.change(record)?;
            let key = serde_json::to_string(&change.key).unwrap_or_default();
            let seen = (key, change.version);
            if change.version > window_start {
                next.seen.push(seen.clone());
            }
            if !before.seen.contains(&seen) {
                add(change);
            }
        }
        for id in body["deletions"].as_array().into_iter().flatten() {
            let key = self
                .key(id)
                .ok_or_else(|| malformed(format!("a deletion that is not a key: {id}")))?;
            let text = serde_json::to_string(&key).unwrap_or_default();
            next.gone.push(text.clone());
            if !before.gone.contains(&text) {
                add(self.tombstone(key, server_time));
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

    fn tombstone(&self, key: crate::key::RecordKey, version: u64) -> Change {
        Change {
            table: self.config.table.clone(),
            key,
            version,
            previous_version: 0,
            deleted: true,
            data: None,
            hlc: None,
            origin: None,
        }
    }

    /// One pulled record at its stamp (a tombstone if soft-deleted).
    fn change(&self, record: &Value) -> Result<Change, SyncError> {
        let c = &self.config;
        let key = self.key(&record[c.id_field.as_str()]).ok_or_else(|| {
            malformed(format!(
                "a {} record without a string or number `{}`",
                c.table, c.id_field
            ))
        })?;
        let version = record[c.updated_field.as_str()]
            .as_u64()
            .filter(|v| *v > 0)
            .ok_or_else(|| {
                malformed(format!(
                    "{}[{key}] without a numeric `{}`",
                    c.table, c.updated_field
                ))
            })?;
        let deleted = record[c.deleted_field.as_str()] == Value::Bool(true);
        Ok(Change {
            table: c.table.clone(),
            key,
            version,
            previous_version: 0,
            deleted,
            data: (!deleted).then(|| self.data(record)).flatten(),
            hlc: Some(Hlc {
                millis: version,
                counter: 0,
                node: "server".into(),
            }),
            origin: None,
        })
    }
}
