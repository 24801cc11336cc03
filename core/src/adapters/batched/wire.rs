//! The batched adapter's wire names: a mutation as one of the seed's `changes`, a
//! server document as a v1 change or snapshot, names of tables, entity types and
//! collections, and the page a pull answer makes.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{malformed, Batched};
use crate::adapters::push_pull::PushPullCursor;
use crate::adapters::{format_iso_ms, parse_iso_ms};
use crate::error::SyncError;
use crate::hlc::Hlc;
use crate::key::RecordKey;
use crate::protocol::{Change, Mutation, ServerSnapshot};
use crate::record::Op;

/// The `lastSyncTimestamp` of a push: later than any document, so the server sends
/// no updates with the push answer (the pull after it brings them, with the cursor).
pub const NO_UPDATES: &str = "9999-12-31T23:59:59.999Z";

/// Document fields the server keeps for itself: never pushed as data, and (but for
/// `createdAt`/`updatedAt`, which the app may show) left out of pulled records.
const SERVER_FIELDS: [&str; 7] = [
    "_id",
    "__v",
    "userId",
    "deviceId",
    "deletedAt",
    "createdAt",
    "updatedAt",
];

/// The change's `timestamp`, which the server's last-write-wins compares: the
/// write's hybrid logical clock (skew-corrected to the server's clock by the
/// engine), but never before the version the change is based on + 1 ms. A device
/// that has seen the server's latest version is never refused for a slow clock, and
/// a change resent after a conflict (rebased on the server's version) wins.
pub fn change_timestamp(m: &Mutation) -> String {
    format_iso_ms(m.hlc.millis.max(m.base_version.saturating_add(1)))
}

/// A time as the seed writes it (`JSON.stringify` of a `Date`), or ms.
pub(super) fn time_of(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => parse_iso_ms(s),
        other => other.as_u64(),
    }
}

/// `items` → `item`, `categories` → `category`: the seed's entity types are its
/// collections in the singular.
fn singular(collection: &str) -> String {
    if let Some(stem) = collection.strip_suffix("ies") {
        format!("{stem}y")
    } else {
        collection
            .strip_suffix('s')
            .unwrap_or(collection)
            .to_owned()
    }
}

impl Batched {
    /// The key of `serverUpdates` for a local table.
    pub(super) fn collection<'a>(&'a self, table: &'a str) -> &'a str {
        let found = self.config.tables.iter().find(|(local, _)| local == table);
        found.map_or(table, |(_, remote)| remote.as_str())
    }

    /// The local table of a `serverUpdates` key.
    fn local_table<'a>(&'a self, remote: &'a str) -> &'a str {
        let found = self.config.tables.iter().find(|(_, r)| r == remote);
        found.map_or(remote, |(local, _)| local.as_str())
    }

    /// The `entityType` of a local table.
    pub fn entity_type(&self, table: &str) -> String {
        let found = self.config.entity_types.iter().find(|(t, _)| t == table);
        found.map_or_else(|| singular(self.collection(table)), |(_, e)| e.clone())
    }

    /// One mutation as a change: a create or put sends the record (`create`: the
    /// server upserts by `localId`), an update its fields (`update`: the seed's
    /// "only changed fields"), a delete `delete` with empty data. The key travels as
    /// `localId`; the key, server id, deleted and server fields are not data.
    pub(super) fn change_json(&self, m: &Mutation) -> Value {
        let c = &self.config;
        let (operation, data) = match &m.op {
            Op::Create { record } | Op::Put { record } => ("create", record.clone()),
            Op::Update { patch } => ("update", patch.clone()),
            Op::Delete => ("delete", Map::new()),
        };
        let own = [&c.id_field, &c.server_id_field, &c.deleted_field];
        let data: Map<String, Value> = data
            .into_iter()
            .filter(|(f, _)| !own.contains(&f) && !SERVER_FIELDS.contains(&f.as_str()))
            .collect();
        let mut change = Map::new();
        change.insert(
            "localId".into(),
            serde_json::to_value(&m.key).unwrap_or_default(),
        );
        change.insert("entityType".into(), self.entity_type(&m.table).into());
        change.insert("operation".into(), operation.into());
        change.insert("timestamp".into(), change_timestamp(m).into());
        change.insert("data".into(), Value::Object(data));
        Value::Object(change)
    }

    /// A server document as (key, version = `updatedAt` in ms, deleted, record): the
    /// key is its `localId`, the record its fields without the server's bookkeeping,
    /// with the key in `idField` and the server's id in `serverIdField`.
    fn document(
        &self,
        table: &str,
        doc: &Value,
    ) -> Result<(RecordKey, u64, bool, Map<String, Value>), SyncError> {
        let c = &self.config;
        let obj = doc
            .as_object()
            .ok_or_else(|| malformed(format!("a {table} document that is not an object")))?;
        let key: RecordKey = obj
            .get("localId")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .ok_or_else(|| malformed(format!("a {table} document without a localId")))?;
        let version = obj
            .get("updatedAt")
            .and_then(time_of)
            .filter(|v| *v > 0)
            .ok_or_else(|| malformed(format!("{table}[{key}] without a readable updatedAt")))?;
        let deleted = obj.get(&c.deleted_field) == Some(&Value::Bool(true));
        let mut data = Map::new();
        for (field, value) in obj {
            let server = SERVER_FIELDS[..5].contains(&field.as_str());
            let wire = ["localId", "serverId"].contains(&field.as_str());
            if !server && !wire && *field != c.deleted_field {
                data.insert(field.clone(), value.clone());
            }
        }
        data.insert(c.id_field.clone(), obj["localId"].clone());
        if let Some(server_id) = obj.get("serverId").filter(|v| !v.is_null()) {
            data.insert(c.server_id_field.clone(), server_id.clone());
        }
        Ok((key, version, deleted, data))
    }

    /// The server's document of a conflict as a v1 snapshot (`None` if unreadable);
    /// `timestamp` (the time of the change the server holds, if it says) becomes its
    /// clock for the `lastWriteWins` policy.
    pub(super) fn snapshot(
        &self,
        table: &str,
        doc: &Value,
        timestamp: &Value,
    ) -> Option<ServerSnapshot> {
        let (_, version, deleted, data) = self.document(table, doc).ok()?;
        let hlc = time_of(timestamp).map(|millis| Hlc {
            millis,
            counter: 0,
            node: String::new(),
        });
        Some(ServerSnapshot {
            version,
            deleted,
            data: (!deleted).then_some(data),
            hlc,
        })
    }

    /// The changes of `serverUpdates` (a key twice keeps its latest document), less
    /// what `before` saw at the same version, and the next cursor.
    pub(super) fn page(
        &self,
        updates: &Value,
        before: &PushPullCursor,
        server_time: u64,
    ) -> Result<(Vec<Change>, PushPullCursor), SyncError> {
        let window_start = server_time.saturating_sub(self.config.overlap_ms);
        let mut next = PushPullCursor {
            since: server_time,
            seen: Vec::new(),
        };
        let mut changes: Vec<Change> = Vec::new();
        let mut keys: BTreeSet<(String, RecordKey)> = BTreeSet::new();
        for (remote, docs) in updates.as_object().into_iter().flatten() {
            let table = self.local_table(remote).to_owned();
            for doc in docs.as_array().into_iter().flatten() {
                let (key, version, deleted, data) = self.document(&table, doc)?;
                let key_json = serde_json::to_string(&key).unwrap_or_default();
                let seen = (table.clone(), key_json, version);
                if version > window_start && !next.seen.contains(&seen) {
                    next.seen.push(seen.clone());
                }
                if before.seen.contains(&seen) {
                    continue;
                }
                let change = Change {
                    table: table.clone(),
                    key: key.clone(),
                    version,
                    previous_version: 0,
                    deleted,
                    data: (!deleted).then_some(data),
                    hlc: None,
                    origin: None,
                };
                if keys.insert((table.clone(), key)) {
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
        Ok((changes, next))
    }
}
