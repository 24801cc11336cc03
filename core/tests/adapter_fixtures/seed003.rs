//! A fixture of seed 003's server (its `SyncAPI` over HTTP, PostgreSQL's entity rows
//! and `change_log` table in memory), as docs/adapters/changeLog.md reads the seed:
//! - every request is authenticated first (`Authorization: Bearer <token>`, the
//!   seed's JWT: here a token → userId table); otherwise 401 `{ error }`;
//! - `POST /pushChanges` `{ changes: [Change] }` → `{ accepted, rejected,
//!   conflicts }`. Each change is validated (known `entityType`, an `entityId`, an
//!   `operation` of create/update/delete, a `version`, object `data` unless a
//!   delete): else its id is `rejected`. A change whose `version` is not the
//!   entity's current version (0 for none) — or an update of a deleted entity — is a
//!   conflict `{ local: <the change>, server: <the entity's last change> }`. Else it
//!   is applied (create sets the row, update merges `data` into it, delete removes
//!   it), the version increments and the "trigger" appends to the change log the row
//!   after the change (the row before, for a delete) at the server's time;
//! - `GET /getChanges?since=<ms>` → `{ changes, timestamp }`: the user's log rows
//!   with `timestamp > since`, in id order (`id` is the log's serial); a `since` that
//!   is not a number is 400;
//! - `POST /acknowledgeChanges` `{ changeIds: [string] }` → 204, recorded per user.
//!
//! Instances share the database but each has its own clock (a server whose clock
//! lags); the database persists across requests and instances.

use std::cell::RefCell;
use std::rc::Rc;

use idb_sync_core::adapters::{HttpMethod, HttpRequest, HttpResponse};
use idb_sync_core::memory::ManualClock;
use idb_sync_core::ports::Clock;
use serde_json::{json, Map, Value};

/// One entity row: (userId, entityType, entityId), its version, its row (`None`
/// once deleted).
#[derive(Clone, Debug)]
pub struct Entity {
    pub user: String,
    pub entity_type: String,
    pub entity_id: String,
    pub version: u64,
    pub row: Option<Map<String, Value>>,
}

#[derive(Debug, Default)]
pub struct Db {
    pub entities: Vec<Entity>,
    /// The `change_log` rows (with `userId`), in id order.
    pub log: Vec<Value>,
    /// (userId, change id) acknowledged.
    pub acknowledged: Vec<(String, String)>,
    /// token → userId.
    pub tokens: Vec<(String, String)>,
    /// Requests answered (method, path).
    pub requests: Vec<(HttpMethod, String)>,
    /// Answer the next n requests 500.
    pub fail_next: usize,
}

/// One server instance over the shared database.
#[derive(Clone)]
pub struct Seed003 {
    pub db: Rc<RefCell<Db>>,
    pub clock: ManualClock,
}

pub const ENTITY_TYPES: [&str; 2] = ["lists", "items"];

fn answer(status: u16, body: Value) -> HttpResponse {
    HttpResponse {
        status,
        retry_after_ms: None,
        body: if body.is_null() {
            String::new()
        } else {
            body.to_string()
        },
    }
}

fn error(status: u16, message: &str) -> HttpResponse {
    answer(status, json!({ "error": message }))
}

impl Seed003 {
    /// A fresh database, one instance at `clock`, users by token.
    pub fn new(clock: ManualClock, tokens: &[(&str, &str)]) -> Self {
        let db = Db {
            tokens: tokens
                .iter()
                .map(|(t, u)| (t.to_string(), u.to_string()))
                .collect(),
            ..Db::default()
        };
        Seed003 {
            db: Rc::new(RefCell::new(db)),
            clock,
        }
    }

    /// Another instance of the same database, with its own clock.
    pub fn instance(&self, clock: ManualClock) -> Self {
        Seed003 {
            db: self.db.clone(),
            clock,
        }
    }

    /// The stored entity `entity_type`/`entity_id` of user `user`.
    pub fn entity(&self, user: &str, entity_type: &str, entity_id: &str) -> Option<Entity> {
        let db = self.db.borrow();
        db.entities
            .iter()
            .find(|e| e.user == user && e.entity_type == entity_type && e.entity_id == entity_id)
            .cloned()
    }

    /// Change ids acknowledged by `user`.
    pub fn acknowledged(&self, user: &str) -> Vec<String> {
        let db = self.db.borrow();
        let acked = db.acknowledged.iter().filter(|(u, _)| u == user);
        acked.map(|(_, id)| id.clone()).collect()
    }

    /// Answers one request as the seed's server does.
    pub fn handle(&self, request: &HttpRequest) -> HttpResponse {
        let mut db = self.db.borrow_mut();
        db.requests.push((request.method, request.path.clone()));
        if db.fail_next > 0 {
            db.fail_next -= 1;
            return error(500, "internal server error");
        }
        let auth = request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
            .and_then(|(_, v)| v.strip_prefix("Bearer "));
        let user = auth.and_then(|t| db.tokens.iter().find(|(token, _)| token == t));
        let Some((_, user)) = user.cloned() else {
            return error(401, "Unauthorized");
        };
        let (path, query) = request.path.split_once('?').unwrap_or((&request.path, ""));
        let body = || serde_json::from_str::<Value>(request.body.as_deref().unwrap_or(""));
        let now = self.clock.now_ms();
        match (request.method, path) {
            (HttpMethod::Post, "/pushChanges") => match body() {
                Ok(b) if b["changes"].is_array() => push(&mut db, &user, &b["changes"], now),
                _ => error(400, "changes must be an array"),
            },
            (HttpMethod::Get, "/getChanges") => {
                let since = query.split('&').find_map(|p| p.strip_prefix("since="));
                match since.and_then(|s| s.parse::<f64>().ok()) {
                    Some(since) => {
                        let changes: Vec<Value> = db
                            .log
                            .iter()
                            .filter(|c| c["userId"] == json!(user))
                            .filter(|c| c["timestamp"].as_f64().unwrap() > since)
                            .map(|c| {
                                let mut c = c.clone();
                                c.as_object_mut().unwrap().remove("userId");
                                c
                            })
                            .collect();
                        answer(200, json!({ "changes": changes, "timestamp": now }))
                    }
                    None => error(400, "since must be a number"),
                }
            }
            (HttpMethod::Post, "/acknowledgeChanges") => match body() {
                Ok(b) if b["changeIds"].is_array() => {
                    for id in b["changeIds"].as_array().unwrap() {
                        let id = id.as_str().map_or_else(|| id.to_string(), str::to_owned);
                        db.acknowledged.push((user.clone(), id));
                    }
                    answer(204, Value::Null)
                }
                _ => error(400, "changeIds must be an array"),
            },
            _ => error(404, "Not found"),
        }
    }
}

/// Why a change is not valid, if it is not.
fn invalid(change: &Value) -> Option<&'static str> {
    let entity_type = change["entityType"].as_str().unwrap_or("");
    if !ENTITY_TYPES.contains(&entity_type) {
        return Some("unknown entityType");
    }
    if change["entityId"].as_str().is_none_or(str::is_empty) {
        return Some("entityId required");
    }
    if change["version"].as_u64().is_none() {
        return Some("version required");
    }
    match change["operation"].as_str() {
        Some("create" | "update") if change["data"].is_object() => None,
        Some("delete") => None,
        _ => Some("invalid operation or data"),
    }
}

fn push(db: &mut Db, user: &str, changes: &Value, now: u64) -> HttpResponse {
    let (mut accepted, mut rejected, mut conflicts) = (Vec::new(), Vec::new(), Vec::new());
    for change in changes.as_array().unwrap() {
        let id = change["id"].clone();
        if invalid(change).is_some() {
            rejected.push(id);
            continue;
        }
        let (entity_type, entity_id) = (
            change["entityType"].as_str().unwrap(),
            change["entityId"].as_str().unwrap(),
        );
        let found = db.entities.iter().position(|e| {
            e.user == user && e.entity_type == entity_type && e.entity_id == entity_id
        });
        let (version, row) = found.map_or((0, None), |i| {
            (db.entities[i].version, db.entities[i].row.clone())
        });
        let operation = change["operation"].as_str().unwrap();
        let stale = change["version"].as_u64() != Some(version);
        if stale || (operation == "update" && row.is_none()) {
            let last = db.log.iter().rev().find(|c| {
                c["userId"] == json!(user)
                    && c["entityType"] == json!(entity_type)
                    && c["entityId"] == json!(entity_id)
            });
            let mut server = last.cloned().unwrap_or_else(|| {
                json!({ "entityType": entity_type, "entityId": entity_id,
                        "operation": "delete", "version": 0, "data": null })
            });
            server.as_object_mut().unwrap().remove("userId");
            conflicts.push(json!({ "local": change, "server": server }));
            continue;
        }
        let data = change["data"].as_object().cloned().unwrap_or_default();
        let (after, logged) = match operation {
            "create" => (Some(data.clone()), data),
            "update" => {
                let mut merged = row.unwrap_or_default();
                merged.extend(data);
                (Some(merged.clone()), merged)
            }
            _ => (None, row.unwrap_or_default()),
        };
        let entity = Entity {
            user: user.into(),
            entity_type: entity_type.into(),
            entity_id: entity_id.into(),
            version: version + 1,
            row: after,
        };
        match found {
            Some(i) => db.entities[i] = entity,
            None => db.entities.push(entity),
        }
        let serial = db.log.len() + 1;
        db.log.push(json!({
            "id": serial, "entityType": entity_type, "entityId": entity_id,
            "operation": operation, "timestamp": now, "data": logged,
            "version": version + 1, "deviceId": change["deviceId"], "userId": user,
        }));
        accepted.push(id);
    }
    answer(
        200,
        json!({ "accepted": accepted, "rejected": rejected, "conflicts": conflicts }),
    )
}
