//! A fixture of seed 002's server (../shared/seeds/002_*.txt: Express + MongoDB, one
//! `POST /api/sync`), in memory. The seed gives the request and answer shapes, the
//! collections and "newer timestamp wins"; where it is silent the fixture does what
//! its schema implies (docs/adapters/batched.md, "The fixture's reading"):
//! - every request is authenticated (`Authorization: Bearer <token>`, a JWT in the
//!   seed: here a token → userId table): else 401 `{ success: false, error }`; only
//!   `POST /api/sync` exists (404); `deviceId` and an array `changes` are required
//!   (400);
//! - changes are processed in order, each `{ localId, entityType, operation,
//!   timestamp, data }` against the user's document of that `localId` in `spaces`,
//!   `categories` or `items` (`entityType` space, category, item): `create` inserts
//!   (new `_id` and `serverId`) or, if the `localId` exists, `$set`s and restores it;
//!   `update` `$set`s the changed fields; `delete` soft-deletes (`isDeleted`,
//!   `deletedAt`). `updatedAt` is the server's clock (Mongoose timestamps);
//! - last write wins by the change's `timestamp`: a change older than the last one
//!   applied to that entity (its `SyncLogs`) is not applied and is reported in
//!   `conflicts` as `{ localId, entityType, operation, serverData, serverTimestamp }`;
//!   a change already processed (same device, localId, operation, timestamp) is
//!   acknowledged again without being applied twice (idempotency, from the seed's
//!   test list);
//! - a refused change (unknown entityType or operation, a value its schema type
//!   cannot cast, an update of an unknown localId) is acknowledged with `success:
//!   false` and `error`; the others go on;
//! - `serverUpdates` holds, per collection, the user's documents with `updatedAt >
//!   lastSyncTimestamp` (null: all), dates as JSON; `syncTimestamp` is the clock.
//!
//! The database is shared by instances, each with its own clock (a lagging instance).

use std::cell::RefCell;
use std::rc::Rc;

use idb_sync_core::adapters::{format_iso_ms, parse_iso_ms, HttpMethod, HttpRequest, HttpResponse};
use idb_sync_core::memory::ManualClock;
use idb_sync_core::ports::Clock;
use serde_json::{json, Map, Value};

/// A collection's typed fields: (field, schema type).
type Schema = &'static [(&'static str, &'static str)];

/// (collection, entityType, typed fields) as the seed's schema declares them.
pub const COLLECTIONS: [(&str, &str, Schema); 3] = [
    (
        "spaces",
        "space",
        &[
            ("name", "String"),
            ("icon", "String"),
            ("color", "String"),
            ("isVisible", "Boolean"),
            ("order", "Number"),
        ],
    ),
    (
        "categories",
        "category",
        &[
            ("name", "String"),
            ("spaceLocalId", "String"),
            ("icon", "String"),
            ("color", "String"),
            ("isVisible", "Boolean"),
            ("order", "Number"),
        ],
    ),
    (
        "items",
        "item",
        &[
            ("title", "String"),
            ("description", "String"),
            ("notes", "String"),
            ("type", "String"),
            ("movieId", "String"),
            ("isCompleted", "Boolean"),
            ("completedAt", "Date"),
            ("priority", "String"),
            ("order", "Number"),
            ("dueDate", "Date"),
            ("spaceLocalId", "String"),
            ("categoryLocalId", "String"),
        ],
    ),
];

/// One stored document: the collection, its fields (dates as ms), `updatedAt` in ms.
#[derive(Clone, Debug)]
pub struct Doc {
    pub collection: String,
    pub fields: Map<String, Value>,
    pub updated_at: u64,
}

/// One processed change (`SyncLogs`).
#[derive(Clone, Debug)]
pub struct SyncLog {
    pub user: String,
    pub device: String,
    pub entity_type: String,
    pub local_id: Value,
    pub operation: String,
    pub timestamp: u64,
}

#[derive(Debug, Default)]
pub struct Db {
    pub docs: Vec<Doc>,
    pub logs: Vec<SyncLog>,
    pub tokens: Vec<(String, String)>,
    /// Answer the next n requests 500, as a crashed server would (test plumbing).
    pub fail_next: u32,
    pub requests: u32,
    next_id: u64,
}

/// One server instance over the shared database.
#[derive(Clone)]
pub struct Seed002 {
    pub db: Rc<RefCell<Db>>,
    pub clock: ManualClock,
}

fn answer(status: u16, body: Value) -> HttpResponse {
    HttpResponse {
        status,
        retry_after_ms: None,
        body: body.to_string(),
    }
}

fn fail(status: u16, error: &str) -> HttpResponse {
    answer(status, json!({ "success": false, "error": error }))
}

/// Whether `value` casts to the schema `kind` (Mongoose's casts, simplified).
fn casts(kind: &str, value: &Value) -> bool {
    match (kind, value) {
        (_, Value::Null) => true,
        ("String", v) => v.is_string() || v.is_number(),
        ("Number", v) => {
            v.is_number() || v.as_str().is_some_and(|s| s.trim().parse::<f64>().is_ok())
        }
        ("Boolean", v) => v.is_boolean() || matches!(v.as_str(), Some("true" | "false")),
        ("Date", v) => v.is_number() || v.as_str().and_then(parse_iso_ms).is_some(),
        _ => true,
    }
}

impl Seed002 {
    /// A fresh database, one instance at `clock`, users by token.
    pub fn new(clock: ManualClock, tokens: &[(&str, &str)]) -> Self {
        let db = Db {
            tokens: tokens
                .iter()
                .map(|(t, u)| (t.to_string(), u.to_string()))
                .collect(),
            ..Db::default()
        };
        Seed002 {
            db: Rc::new(RefCell::new(db)),
            clock,
        }
    }

    /// Another instance of the same database, with its own clock.
    pub fn instance(&self, clock: ManualClock) -> Self {
        Seed002 {
            db: self.db.clone(),
            clock,
        }
    }

    /// The documents of `collection` with `localId` `local_id` (all, to see duplicates).
    pub fn docs(&self, collection: &str, local_id: &str) -> Vec<Doc> {
        let db = self.db.borrow();
        let id = Value::from(local_id);
        db.docs
            .iter()
            .filter(|d| d.collection == collection && d.fields["localId"] == id)
            .cloned()
            .collect()
    }

    /// The one document of `collection` with `localId` `local_id`.
    pub fn doc(&self, collection: &str, local_id: &str) -> Option<Doc> {
        let docs = self.docs(collection, local_id);
        assert!(
            docs.len() <= 1,
            "{} documents with localId {local_id}",
            docs.len()
        );
        docs.into_iter().next()
    }

    /// Answers one request as the seed's server does.
    pub fn handle(&self, request: &HttpRequest) -> HttpResponse {
        let mut db = self.db.borrow_mut();
        db.requests += 1;
        if db.fail_next > 0 {
            db.fail_next -= 1;
            return fail(500, "Internal server error");
        }
        let token = request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("authorization"));
        let token = token.and_then(|(_, v)| v.strip_prefix("Bearer "));
        let Some(user) = token
            .and_then(|t| db.tokens.iter().find(|(k, _)| k == t))
            .map(|(_, u)| u.clone())
        else {
            return fail(401, "Not authorized, token failed");
        };
        if request.method != HttpMethod::Post || request.path != "/api/sync" {
            return fail(404, "Not found");
        }
        let body: Value = match serde_json::from_str(request.body.as_deref().unwrap_or("")) {
            Ok(v) => v,
            Err(_) => return fail(400, "Invalid JSON"),
        };
        let (Some(device), Some(changes)) = (body["deviceId"].as_str(), body["changes"].as_array())
        else {
            return fail(400, "deviceId and changes are required");
        };
        let now = self.clock.now_ms();
        let (mut acknowledged, mut conflicts) = (Vec::new(), Vec::new());
        for change in changes {
            match apply(&mut db, &user, device, change, now) {
                Ok(ack) => acknowledged.push(ack),
                Err(Outcome::Refused(error)) => acknowledged.push(json!({
                    "localId": change["localId"], "entityType": change["entityType"],
                    "operation": change["operation"], "success": false, "error": error,
                })),
                Err(Outcome::Conflict(conflict)) => conflicts.push(conflict),
            }
        }
        let since = match &body["lastSyncTimestamp"] {
            Value::Null => Some(0),
            Value::String(s) => parse_iso_ms(s),
            _ => None,
        };
        let mut updates = Map::new();
        for (collection, _, _) in COLLECTIONS {
            let docs = db
                .docs
                .iter()
                .filter(|d| d.collection == collection && d.fields["userId"] == json!(user));
            let newer = docs.filter(|d| since.is_some_and(|s| d.updated_at > s));
            updates.insert(collection.into(), newer.map(as_json).collect());
        }
        let data = json!({
            "acknowledged": acknowledged, "conflicts": conflicts,
            "serverUpdates": updates, "syncTimestamp": format_iso_ms(self.clock.now_ms()),
        });
        answer(200, json!({ "success": true, "data": data }))
    }
}

enum Outcome {
    Refused(String),
    Conflict(Value),
}

/// A document as the seed's answers carry it (`JSON.stringify` of the Mongo document).
pub fn as_json(doc: &Doc) -> Value {
    let mut out = doc.fields.clone();
    for field in ["createdAt", "updatedAt", "deletedAt"] {
        if let Some(ms) = out.get(field).and_then(Value::as_u64) {
            out.insert(field.into(), format_iso_ms(ms).into());
        }
    }
    Value::Object(out)
}

fn apply(
    db: &mut Db,
    user: &str,
    device: &str,
    change: &Value,
    now: u64,
) -> Result<Value, Outcome> {
    let refuse = |e: &str| Outcome::Refused(e.to_owned());
    let entity = change["entityType"].as_str().unwrap_or("");
    let Some((collection, _, schema)) = COLLECTIONS.iter().find(|(_, e, _)| *e == entity) else {
        return Err(refuse("Unknown entity type"));
    };
    let operation = change["operation"].as_str().unwrap_or("");
    if !["create", "update", "delete"].contains(&operation) {
        return Err(refuse("Unknown operation"));
    }
    let local_id = change["localId"].clone();
    let timestamp = change["timestamp"]
        .as_str()
        .and_then(parse_iso_ms)
        .ok_or_else(|| refuse("Invalid timestamp"))?;
    let data = change["data"].as_object().cloned().unwrap_or_default();
    for (field, kind) in schema.iter() {
        if data.get(*field).is_some_and(|v| !casts(kind, v)) {
            return Err(refuse(&format!(
                "ValidationError: {field}: Cast to {kind} failed"
            )));
        }
    }
    let mine = |l: &&SyncLog| l.user == user && l.entity_type == entity && l.local_id == local_id;
    let found = db.docs.iter().position(|d| {
        d.collection == *collection
            && d.fields["userId"] == json!(user)
            && d.fields["localId"] == local_id
    });
    let ack = |doc: Option<&Doc>| {
        let server_id = doc.map_or(Value::Null, |d| d.fields["serverId"].clone());
        json!({ "localId": local_id, "serverId": server_id, "entityType": entity, "operation": operation, "success": true })
    };
    let repeat = db
        .logs
        .iter()
        .filter(mine)
        .any(|l| l.device == device && l.operation == operation && l.timestamp == timestamp);
    if repeat {
        return Ok(ack(found.map(|i| &db.docs[i])));
    }
    if let Some(last) = db.logs.iter().filter(mine).map(|l| l.timestamp).max() {
        if timestamp < last {
            let server = found.map_or(Value::Null, |i| as_json(&db.docs[i]));
            return Err(Outcome::Conflict(json!({
                "localId": local_id, "entityType": entity, "operation": operation,
                "serverData": server, "serverTimestamp": format_iso_ms(last),
            })));
        }
    }
    let index = match (found, operation) {
        (None, "update") => return Err(refuse("Entity not found")),
        (None, "delete") => None,
        (None, _) => {
            db.next_id += 1;
            let n = db.next_id;
            let mut fields = Map::new();
            fields.insert("_id".into(), format!("{n:024x}").into());
            fields.insert("localId".into(), local_id.clone());
            fields.insert(
                "serverId".into(),
                format!("00000000-0000-4000-8000-{n:012x}").into(),
            );
            fields.insert("userId".into(), user.into());
            fields.insert("createdAt".into(), now.into());
            db.docs.push(Doc {
                collection: collection.to_string(),
                fields,
                updated_at: now,
            });
            Some(db.docs.len() - 1)
        }
        (Some(i), _) => Some(i),
    };
    if let Some(i) = index {
        let doc = &mut db.docs[i];
        if operation == "delete" {
            doc.fields.insert("isDeleted".into(), true.into());
            doc.fields.insert("deletedAt".into(), now.into());
        } else {
            for (field, value) in &data {
                if ![
                    "_id",
                    "localId",
                    "serverId",
                    "userId",
                    "createdAt",
                    "updatedAt",
                ]
                .contains(&field.as_str())
                {
                    doc.fields.insert(field.clone(), value.clone());
                }
            }
            if operation == "create" {
                doc.fields.insert("isDeleted".into(), false.into());
                doc.fields.insert("deletedAt".into(), Value::Null);
            }
        }
        doc.fields.insert("deviceId".into(), device.into());
        doc.fields.insert("updatedAt".into(), now.into());
        doc.updated_at = now;
    }
    db.logs.push(SyncLog {
        user: user.into(),
        device: device.into(),
        entity_type: entity.into(),
        local_id: local_id.clone(),
        operation: operation.into(),
        timestamp,
    });
    Ok(ack(index.map(|i| &db.docs[i])))
}
