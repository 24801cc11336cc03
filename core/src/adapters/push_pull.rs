//! The pushPull adapter (seed 000, docs/ADAPTERS.md): `POST {base}/sync/push` with
//! per-table arrays of records (`_id`/`id`, `_rev`), answered with a `rev` per id;
//! `GET {base}/sync/pull?since=<ms>` answered with per-table arrays and the server's
//! `timestamp`. The engine's version is `_rev` with the server's time of the write
//! below it ([`version_of`]). The cursor is the server's `timestamp` (never the
//! client clock), pulled again with a safety overlap; what the overlap brings back at
//! a version already applied is left out.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::parse_iso_ms;
use super::{error_answer, own_error, HttpMethod, HttpRequest, HttpResponse};
use crate::error::SyncError;
use crate::key::RecordKey;
use crate::ports::TransportResponse;
use crate::protocol::{Change, Cursor, MutationResult, PullPage, PullResponse};
use crate::protocol::{PullRequest, PushRequest, PushResponse};
use crate::record::Op;
use crate::PROTOCOL_VERSION;

/// The fields the server (or the seed's own client) keeps on a record that are not
/// the app's data: dropped from pulled records.
const BOOKKEEPING: [&str; 4] = ["_id", "_rev", "_synced", "_syncedAt"];

/// The engine's version of a seed document: its `_rev` in the high bits, the server's
/// time of the write below (tenths of a second since 2025). A higher `_rev` always
/// wins; within one `_rev` the later write wins. The seed gives two devices that write
/// from the same `_rev` both `_rev + 1` (the last push wins on the server): ordered by
/// `_rev` alone, the device whose write was overwritten would keep its own copy for
/// good; ordered this way, it takes the server's (unless both writes fall in one
/// tenth of a second). Exact in JavaScript (below 2^53) for `_rev` below 2^19 until
/// 2079; a time before 2025 counts as 2025.
pub fn version_of(rev: u64, at_ms: u64) -> u64 {
    let tenths = at_ms.saturating_sub(VERSION_EPOCH_MS) / 100;
    (rev << TIME_BITS) | tenths.min((1 << TIME_BITS) - 1)
}

/// The `_rev` of a version made by [`version_of`] (what a push sends as `_rev`).
pub fn rev_of(version: u64) -> u64 {
    version >> TIME_BITS
}

/// 2025-01-01T00:00:00Z, ms: where the time in a version starts.
const VERSION_EPOCH_MS: u64 = 1_735_689_600_000;

/// The bits of a version that hold the time (tenths of a second: 54 years).
const TIME_BITS: u32 = 34;

/// The code of a mutation the server answered no success for (it skips records of
/// another user and tables it does not know, silently): the engine parks it.
pub const NOT_ACCEPTED: &str = "not_accepted";

/// How one pushPull server names things.
#[derive(Clone, Debug, PartialEq)]
pub struct PushPullConfig {
    /// Prefix of the two paths, e.g. `/.netlify/functions` (default empty).
    pub base_path: String,
    /// The field holding a record's key on the wire (default `id`); the adapter also
    /// writes `_id`, the server's key, and reads `_id` when this field is absent.
    pub id_field: String,
    /// (local table name, the server's collection name); a table not listed keeps
    /// its name. (Lists, not maps, here and in the cursor: the package stays small.)
    pub tables: Vec<(String, String)>,
    /// The owner field the server checks (default `userId`).
    pub user_field: String,
    /// The signed-in user's id: stamped on pushed records that lack the owner field
    /// (an update sends only its fields, and the server skips records of others), and
    /// reported as the account of every answer, so that a database holding one
    /// user's data never syncs with another's (docs/INVARIANTS.md, I10).
    pub user_id: Option<String>,
    /// The field that marks a deleted record (default `_deleted`): the seed cannot
    /// delete, so a delete is pushed as this field set to `true`.
    pub deleted_field: String,
    /// How far before the server's last `timestamp` the next pull starts (default
    /// 60 s): covers writes committed after the server read its clock.
    pub overlap_ms: u64,
}

impl Default for PushPullConfig {
    fn default() -> Self {
        PushPullConfig {
            base_path: String::new(),
            id_field: "id".into(),
            tables: Vec::new(),
            user_field: "userId".into(),
            user_id: None,
            deleted_field: "_deleted".into(),
            overlap_ms: 60_000,
        }
    }
}

/// The pushPull adapter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PushPull {
    /// Its names.
    pub config: PushPullConfig,
}

/// What the opaque v1 cursor holds for this adapter: the server's `timestamp` of
/// the last page, and the `(table, key, version)` the overlap will bring back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PushPullCursor {
    /// The server's `timestamp` of the last page applied.
    pub since: u64,
    /// Records applied with an `updatedAt` inside the overlap: (table, key as
    /// JSON, `_rev`).
    pub seen: Vec<(String, String, u64)>,
}

impl PushPullCursor {
    /// Reads a stored cursor (`{"since":…,"seen":[[table,key,rev],…]}`); `None` or
    /// anything unreadable starts from 0 (a full pull: the engine ignores versions it
    /// already has). Read through `Value`, as the answers are: the package stays small.
    pub fn decode(cursor: Option<&Cursor>) -> Self {
        let read = |c: &Cursor| -> Option<Self> {
            let v: Value = serde_json::from_str(&c.0).ok()?;
            let mut seen = Vec::new();
            for item in v["seen"].as_array()? {
                let (t, k, r) = (item[0].as_str()?, item[1].as_str()?, item[2].as_u64()?);
                seen.push((t.to_owned(), k.to_owned(), r));
            }
            Some(PushPullCursor {
                since: v["since"].as_u64()?,
                seen,
            })
        };
        cursor.and_then(read).unwrap_or_default()
    }

    /// The opaque v1 cursor.
    pub fn encode(&self) -> Cursor {
        let seen: Vec<Value> = self
            .seen
            .iter()
            .map(|(t, k, r)| Value::Array(vec![t.as_str().into(), k.as_str().into(), (*r).into()]))
            .collect();
        let mut v = Map::new();
        v.insert("since".into(), self.since.into());
        v.insert("seen".into(), Value::Array(seen));
        Cursor(Value::Object(v).to_string())
    }
}

/// A key as the server's result map names it (`String(id)` in JavaScript).
fn key_text(key: &RecordKey) -> String {
    match key {
        RecordKey::String(s) => s.clone(),
        RecordKey::Number(_) => serde_json::to_string(key).unwrap_or_default(),
    }
}

fn malformed(msg: impl Into<String>) -> SyncError {
    SyncError::MalformedResponse(msg.into())
}

impl PushPull {
    /// An adapter with these names.
    pub fn new(config: PushPullConfig) -> Self {
        PushPull { config }
    }

    fn remote_table<'a>(&'a self, table: &'a str) -> &'a str {
        let found = self.config.tables.iter().find(|(local, _)| local == table);
        found.map_or(table, |(_, remote)| remote.as_str())
    }

    fn local_table<'a>(&'a self, remote: &'a str) -> &'a str {
        let found = self
            .config
            .tables
            .iter()
            .find(|(_, r)| r.as_str() == remote);
        found.map_or(remote, |(local, _)| local.as_str())
    }

    /// The push request: each mutation as one record of its table's array. A create
    /// or put sends the record, an update its fields (the seed `$set`s them), a
    /// delete the deleted field `true`; each with its key, `_id` and `_rev` = the base
    /// `_rev`. A create, put or update also sends the deleted field `false`: `$set`
    /// would otherwise leave a document another device deleted marked deleted under
    /// the fields just written, while this device holds it live (the write wins over
    /// the delete, on the server as on the device). Resending it is harmless: the
    /// seed upserts and computes `_rev` from the `_rev` sent.
    pub fn push_http(&self, request: &PushRequest) -> HttpRequest {
        let c = &self.config;
        let mut body: Map<String, Value> = Map::new();
        for m in &request.mutations {
            let (mut doc, deleted) = match &m.op {
                Op::Create { record } | Op::Put { record } => (record.clone(), false),
                Op::Update { patch } => (patch.clone(), false),
                Op::Delete => (Map::new(), true),
            };
            doc.insert(c.deleted_field.clone(), Value::Bool(deleted));
            let key = serde_json::to_value(&m.key).unwrap_or(Value::Null);
            doc.insert(c.id_field.clone(), key.clone());
            doc.insert("_id".into(), key);
            doc.insert("_rev".into(), Value::from(rev_of(m.base_version)));
            if let Some(user) = &c.user_id {
                if !doc.contains_key(&c.user_field) {
                    doc.insert(c.user_field.clone(), Value::from(user.clone()));
                }
            }
            let table = body
                .entry(self.remote_table(&m.table).to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(docs) = table {
                docs.push(Value::Object(doc));
            }
        }
        HttpRequest {
            method: HttpMethod::Post,
            path: format!("{}/sync/push", c.base_path),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Some(Value::Object(body).to_string()),
        }
    }

    /// The v1 answer to a push: `applied` at the `rev` the server answered for each
    /// mutation, at the answer's `timestamp` (the server wrote the record just before). A mutation without a successful result (the seed skipped it) makes
    /// the whole answer a 422 `not_accepted`: the engine splits the batch and parks
    /// that mutation alone (docs/INVARIANTS.md, I6); resending the others is safe.
    pub fn push_answer(
        &self,
        request: &PushRequest,
        response: &HttpResponse,
    ) -> Result<TransportResponse, SyncError> {
        if !(200..300).contains(&response.status) {
            return Ok(error_answer(response));
        }
        let body: Value =
            serde_json::from_str(&response.body).map_err(|e| malformed(format!("push: {e}")))?;
        let server_time = body["timestamp"]
            .as_u64()
            .ok_or_else(|| malformed("push answer without a numeric `timestamp`"))?;
        let mut results = Vec::new();
        let mut refused = Vec::new();
        for m in &request.mutations {
            let entry = &body[self.remote_table(&m.table)][key_text(&m.key)];
            match (entry["success"].as_bool(), entry["rev"].as_u64()) {
                (Some(true), Some(rev)) => {
                    let version = version_of(rev, server_time);
                    results.push(MutationResult::Applied {
                        seq: m.seq,
                        version,
                        previous_version: m.base_version.min(version),
                    })
                }
                _ => refused.push(format!("{}[{}]", m.table, m.key)),
            }
        }
        if !refused.is_empty() {
            let msg = format!("the server did not accept {}", refused.join(", "));
            return Ok(own_error(422, NOT_ACCEPTED, msg));
        }
        let answer = PushResponse {
            protocol_version: PROTOCOL_VERSION,
            server_time,
            results,
            account: self.config.user_id.clone(),
        };
        Ok(TransportResponse {
            status: 200,
            retry_after_ms: None,
            body: serde_json::to_string(&answer).map_err(|e| malformed(e.to_string()))?,
        })
    }

    /// The pull request: `since` = the cursor's server timestamp minus the overlap.
    pub fn pull_http(&self, request: &PullRequest) -> HttpRequest {
        let cursor = PushPullCursor::decode(request.cursor.as_ref());
        let since = cursor.since.saturating_sub(self.config.overlap_ms);
        HttpRequest {
            method: HttpMethod::Get,
            path: format!("{}/sync/pull?since={since}", self.config.base_path),
            headers: Vec::new(),
            body: None,
        }
    }

    /// The v1 page of a pull answer: every array is a table's records; a record is a
    /// tombstone if its deleted field is `true`; what the cursor saw at the same
    /// `_rev` is left out; the new cursor is the answer's `timestamp`.
    pub fn pull_answer(
        &self,
        request: &PullRequest,
        response: &HttpResponse,
    ) -> Result<TransportResponse, SyncError> {
        if !(200..300).contains(&response.status) {
            return Ok(error_answer(response));
        }
        let body: Value =
            serde_json::from_str(&response.body).map_err(|e| malformed(format!("pull: {e}")))?;
        let server_time = body["timestamp"]
            .as_u64()
            .ok_or_else(|| malformed("pull answer without a numeric `timestamp`"))?;
        let before = PushPullCursor::decode(request.cursor.as_ref());
        let window_start = server_time.saturating_sub(self.config.overlap_ms);
        let mut next = PushPullCursor {
            since: server_time,
            seen: Vec::new(),
        };
        // In the server's order; a key twice (two documents with one `id`) keeps its
        // highest version: a v1 page holds each key once.
        let mut changes: Vec<Change> = Vec::new();
        let mut keys: BTreeSet<(String, RecordKey)> = BTreeSet::new();
        for (remote, docs) in body.as_object().into_iter().flatten() {
            let Some(docs) = docs.as_array() else {
                continue;
            };
            let table = self.local_table(remote).to_owned();
            for doc in docs {
                let (updated, change) = self.change(&table, doc)?;
                let key_json = serde_json::to_string(&change.key).unwrap_or_default();
                let seen = (table.clone(), key_json, change.version);
                if updated.is_none_or(|t| t > window_start) && !next.seen.contains(&seen) {
                    next.seen.push(seen.clone());
                }
                if before.seen.contains(&seen) {
                    continue;
                }
                if keys.insert((table.clone(), change.key.clone())) {
                    changes.push(change);
                } else if let Some(held) = changes
                    .iter_mut()
                    .find(|c| c.table == change.table && c.key == change.key)
                {
                    if held.version < change.version {
                        *held = change;
                    }
                }
            }
        }
        let page = PullResponse::Ok(PullPage {
            protocol_version: PROTOCOL_VERSION,
            server_time,
            changes,
            cursor: next.encode(),
            has_more: false,
            account: self.config.user_id.clone(),
        });
        Ok(TransportResponse {
            status: 200,
            retry_after_ms: None,
            body: serde_json::to_string(&page).map_err(|e| malformed(e.to_string()))?,
        })
    }

    /// One pulled record as a v1 change, with its `updatedAt` in ms if readable.
    fn change(&self, table: &str, doc: &Value) -> Result<(Option<u64>, Change), SyncError> {
        let c = &self.config;
        let obj = doc
            .as_object()
            .ok_or_else(|| malformed(format!("a {table} record that is not an object")))?;
        let id = obj.get(&c.id_field).or_else(|| obj.get("_id"));
        let key: RecordKey = id
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .ok_or_else(|| malformed(format!("a {table} record without a string or number key")))?;
        let updated = match obj.get("updatedAt") {
            Some(Value::String(s)) => parse_iso_ms(s),
            Some(v) => v.as_u64(),
            None => None,
        };
        let rev = obj.get("_rev").and_then(Value::as_u64).unwrap_or(1).max(1);
        let version = version_of(rev, updated.unwrap_or(0));
        let deleted = obj.get(&c.deleted_field) == Some(&Value::Bool(true));
        let data = (!deleted).then(|| {
            let mut data = Map::new();
            for (field, value) in obj {
                let bookkeeping = BOOKKEEPING.contains(&field.as_str()) && *field != c.id_field;
                if !bookkeeping && *field != c.deleted_field {
                    data.insert(field.clone(), value.clone());
                }
            }
            data
        });
        let change = Change {
            table: table.to_owned(),
            key,
            version,
            previous_version: 0,
            deleted,
            data,
            hlc: None,
            origin: None,
        };
        Ok((updated, change))
    }
}

super::seam::one_request_each!(PushPull);
