//! A fixture of seed 004's server (FilamentDB: a Next.js route `POST /api/sync` over
//! a JSON file of spools), as docs/adapters/delta.md reads the seed:
//! - `POST` only (405); a body that is not JSON, or whose `changes`/`deletions` are
//!   not arrays, or a change that is not an object with an `id`, is 400 `{ success:
//!   false, error }` and nothing is applied; an `apiKey` other than the server's
//!   (`SYNC_API_KEY`) is 401 `{ success: false, error }`;
//! - each change is last-write-wins on `lastUpdated`: a stored spool with a later
//!   `lastUpdated` is kept and the change is a conflict `{ id, winner: 'server',
//!   server, client }`; otherwise its fields are merged into the stored spool (the
//!   seed's "merge non-conflicting fields"), a soft-deleted one comes back, and if
//!   the stored one changed since the client's `lastSyncTime` that is a conflict
//!   `{ id, winner: 'client', … }`;
//! - each deletion soft-deletes (`deleted: true`, `lastUpdated` = the server's time);
//! - the answer: `{ success, serverTime, changes: spools with lastUpdated >
//!   lastSyncTime, deletions: ids soft-deleted since then, conflicts, stats }`.
//!
//! Instances share the file but each has its own clock (a server whose clock lags).

use std::cell::RefCell;
use std::rc::Rc;

use idb_sync_core::adapters::{HttpMethod, HttpRequest, HttpResponse};
use idb_sync_core::memory::ManualClock;
use idb_sync_core::ports::Clock;
use serde_json::{json, Map, Value};

#[derive(Debug, Default)]
pub struct Db {
    /// The spools, soft-deleted ones included, in insertion order.
    pub spools: Vec<Map<String, Value>>,
    pub api_key: String,
    /// Request bodies answered, in order.
    pub requests: Vec<Value>,
    /// Answer the next n requests 500.
    pub fail_next: usize,
}

/// One server instance over the shared file.
#[derive(Clone)]
pub struct Seed004 {
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

fn error(status: u16, message: &str) -> HttpResponse {
    answer(status, json!({ "success": false, "error": message }))
}

fn stamp(spool: &Map<String, Value>) -> u64 {
    spool
        .get("lastUpdated")
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

impl Seed004 {
    /// An empty file, one instance at `clock`, the server's API key.
    pub fn new(clock: ManualClock, api_key: &str) -> Self {
        let db = Db {
            api_key: api_key.into(),
            ..Db::default()
        };
        Seed004 {
            db: Rc::new(RefCell::new(db)),
            clock,
        }
    }

    /// Another instance of the same file, with its own clock.
    pub fn instance(&self, clock: ManualClock) -> Self {
        Seed004 {
            db: self.db.clone(),
            clock,
        }
    }

    /// The stored spool with this `id` (JSON), soft-deleted or not.
    pub fn spool(&self, id: Value) -> Option<Map<String, Value>> {
        let db = self.db.borrow();
        db.spools.iter().find(|s| s.get("id") == Some(&id)).cloned()
    }

    /// Answers one request as the seed's route does.
    pub fn handle(&self, request: &HttpRequest) -> HttpResponse {
        let mut db = self.db.borrow_mut();
        if db.fail_next > 0 {
            db.fail_next -= 1;
            return error(500, "Internal Server Error");
        }
        if request.path != "/api/sync" {
            return error(404, "Not found");
        }
        if request.method != HttpMethod::Post {
            return error(405, "Method not allowed");
        }
        let Ok(body) = serde_json::from_str::<Value>(request.body.as_deref().unwrap_or("")) else {
            return error(400, "Invalid JSON");
        };
        db.requests.push(body.clone());
        if body["apiKey"].as_str() != Some(db.api_key.as_str()) {
            return error(401, "Unauthorized");
        }
        let (Some(changes), Some(deletions)) =
            (body["changes"].as_array(), body["deletions"].as_array())
        else {
            return error(400, "changes and deletions must be arrays");
        };
        let valid = |c: &Value| c["id"].is_string() || c["id"].is_number();
        if !changes.iter().all(valid) {
            return error(400, "Invalid spool");
        }
        let since = body["lastSyncTime"].as_u64().unwrap_or(0);
        let now = self.clock.now_ms();
        let mut conflicts = Vec::new();
        for change in changes {
            let incoming = change.as_object().unwrap().clone();
            let found = db
                .spools
                .iter()
                .position(|s| s.get("id") == incoming.get("id"));
            match found {
                Some(i) if stamp(&db.spools[i]) > stamp(&incoming) => {
                    conflicts.push(json!({ "id": change["id"], "winner": "server",
                        "server": db.spools[i], "client": change }));
                }
                Some(i) => {
                    let stored = &mut db.spools[i];
                    if stamp(stored) > since {
                        conflicts.push(json!({ "id": change["id"], "winner": "client",
                            "server": stored, "client": change }));
                    }
                    if stored.get("deleted") == Some(&Value::Bool(true)) {
                        stored.clear();
                    }
                    stored.extend(incoming);
                    stored.remove("deleted");
                }
                None => db.spools.push(incoming),
            }
        }
        for id in deletions {
            match db.spools.iter_mut().find(|s| s.get("id") == Some(id)) {
                Some(s) => {
                    s.insert("deleted".into(), json!(true));
                    s.insert("lastUpdated".into(), json!(now));
                }
                None => {
                    let tombstone = json!({ "id": id, "deleted": true, "lastUpdated": now });
                    db.spools.push(tombstone.as_object().unwrap().clone());
                }
            }
        }
        let live = |s: &&Map<String, Value>| s.get("deleted") != Some(&Value::Bool(true));
        let since_filter = |s: &&Map<String, Value>| stamp(s) > since;
        let out: Vec<Value> = db
            .spools
            .iter()
            .filter(live)
            .filter(since_filter)
            .map(|s| Value::Object(s.clone()))
            .collect();
        let gone: Vec<Value> = db
            .spools
            .iter()
            .filter(|s| !live(s))
            .filter(since_filter)
            .map(|s| s["id"].clone())
            .collect();
        let total = db.spools.iter().filter(live).count();
        answer(
            200,
            json!({
                "success": true, "serverTime": now, "changes": out, "deletions": gone,
                "conflicts": conflicts,
                "stats": { "totalSpools": total, "synced": changes.len() + deletions.len(),
                           "conflictsResolved": conflicts.len() },
            }),
        )
    }
}
