//! A fixture of seed 000's server (its two Netlify functions, `sync/push.js` and
//! `sync/pull.js`, over MongoDB), in memory, with the seed's rules exactly:
//! - every request is authenticated first (`Authorization: Bearer <token>`); a
//!   missing or unknown token — and any other failure, as the seed's catch-all
//!   does — answers 401 `{ error }`;
//! - push is `POST` only (405 otherwise); only `goals` and `activities` are read; a
//!   record whose `userId` is not the token's user is skipped without a result;
//!   the others are upserted by `_id || id` with `$set` (fields merge into the
//!   stored document), `_rev = (sent _rev || 0) + 1`, `updatedAt = new Date()`;
//!   results are keyed by the record's `id`;
//! - pull returns the user's records with `updatedAt > since`, `_id` as a string,
//!   `_rev || 1`, dates as `JSON.stringify` writes them, and `timestamp: Date.now()`.
//!
//! Collections are shared by all users, as in MongoDB (the filter is `_id` alone).
//! Instances share the database but each has its own clock (a function instance
//! whose clock lags), and the database persists across requests and instances.

use std::cell::RefCell;
use std::rc::Rc;

use idb_sync_core::adapters::{format_iso_ms, HttpMethod, HttpRequest, HttpResponse};
use idb_sync_core::memory::ManualClock;
use idb_sync_core::ports::Clock;
use serde_json::{json, Map, Value};

/// One stored document: its `_id` (as JSON text, so `5` and `"5"` differ, as in
/// MongoDB), its fields, its `updatedAt` in ms.
#[derive(Clone, Debug)]
pub struct Doc {
    pub id: String,
    pub fields: Map<String, Value>,
    pub updated_at: u64,
}

#[derive(Debug, Default)]
pub struct Db {
    /// (collection, documents in insertion order).
    pub collections: Vec<(String, Vec<Doc>)>,
    /// token → userId (the JWT's payload).
    pub tokens: Vec<(String, String)>,
    /// Every request answered, in order (method, path).
    pub log: Vec<(HttpMethod, String)>,
}

/// One function instance over the shared database.
#[derive(Clone)]
pub struct Seed000 {
    pub db: Rc<RefCell<Db>>,
    pub clock: ManualClock,
}

const COLLECTIONS: [&str; 2] = ["goals", "activities"];

fn answer(status: u16, body: Value) -> HttpResponse {
    HttpResponse {
        status,
        retry_after_ms: None,
        body: body.to_string(),
    }
}

/// JavaScript truthiness, for `goal._id || goal.id` and `goal._rev || 0`.
fn truthy(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    })
}

/// `String(value)` as a property name.
fn js_string(v: Option<&Value>) -> String {
    match v {
        None => "undefined".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

impl Seed000 {
    /// A fresh database, one instance at `clock`, and users by token.
    pub fn new(clock: ManualClock, tokens: &[(&str, &str)]) -> Self {
        let db = Db {
            collections: COLLECTIONS
                .iter()
                .map(|c| (c.to_string(), Vec::new()))
                .collect(),
            tokens: tokens
                .iter()
                .map(|(t, u)| (t.to_string(), u.to_string()))
                .collect(),
            log: Vec::new(),
        };
        Seed000 {
            db: Rc::new(RefCell::new(db)),
            clock,
        }
    }

    /// Another function instance of the same database, with its own clock.
    pub fn instance(&self, clock: ManualClock) -> Self {
        Seed000 {
            db: self.db.clone(),
            clock,
        }
    }

    /// The stored document of `collection` with `_id` `id` (JSON text).
    pub fn doc(&self, collection: &str, id: &str) -> Option<Doc> {
        let db = self.db.borrow();
        let (_, docs) = db.collections.iter().find(|(c, _)| c == collection)?;
        docs.iter().find(|d| d.id == id).cloned()
    }

    /// `verifyToken(req.headers.get('Authorization'))`.
    fn user(&self, authorization: Option<&str>) -> Result<String, String> {
        let token = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or("Missing or invalid token")?;
        let db = self.db.borrow();
        let found = db.tokens.iter().find(|(t, _)| t == token);
        found
            .map(|(_, u)| u.clone())
            .ok_or_else(|| "Invalid token".into())
    }

    /// Answers one request as the seed's functions do.
    pub fn handle(&self, request: &HttpRequest) -> HttpResponse {
        self.db
            .borrow_mut()
            .log
            .push((request.method, request.path.clone()));
        let auth = request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.as_str());
        let (path, query) = request.path.split_once('?').unwrap_or((&request.path, ""));
        let result = self.user(auth).and_then(|user| {
            if path.ends_with("/sync/push") {
                self.push(&user, request)
            } else if path.ends_with("/sync/pull") {
                Ok(self.pull(&user, query))
            } else {
                Ok(answer(404, json!({ "error": "Not found" })))
            }
        });
        result.unwrap_or_else(|e| answer(401, json!({ "error": e })))
    }

    fn push(&self, user: &str, request: &HttpRequest) -> Result<HttpResponse, String> {
        if request.method != HttpMethod::Post {
            return Ok(answer(405, json!({ "error": "Method not allowed" })));
        }
        let body: Value = serde_json::from_str(request.body.as_deref().unwrap_or(""))
            .map_err(|e| format!("Unexpected token in JSON: {e}"))?;
        let now = self.clock.now_ms();
        let mut out = Map::new();
        out.insert("success".into(), json!(true));
        let mut db = self.db.borrow_mut();
        for collection in COLLECTIONS {
            let mut results = Map::new();
            let docs = body[collection].as_array().cloned().unwrap_or_default();
            let (_, stored) = db
                .collections
                .iter_mut()
                .find(|(c, _)| c == collection)
                .unwrap();
            for doc in docs {
                let Some(fields) = doc.as_object() else {
                    continue;
                };
                if fields.get("userId") != Some(&Value::from(user)) {
                    continue; // Security: only sync own data
                }
                let id = truthy(fields.get("_id"))
                    .or(fields.get("id"))
                    .map_or("null".into(), Value::to_string);
                let rev = truthy(fields.get("_rev"))
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
                    + 1;
                let mut set = fields.clone();
                set.insert("userId".into(), json!(user));
                set.insert("_rev".into(), json!(rev));
                match stored.iter_mut().find(|d| d.id == id) {
                    Some(existing) => {
                        existing.fields.extend(set);
                        existing.updated_at = now;
                    }
                    None => {
                        let mut fields = Map::new();
                        fields.insert("_id".into(), serde_json::from_str(&id).unwrap());
                        fields.extend(set);
                        stored.push(Doc {
                            id,
                            fields,
                            updated_at: now,
                        });
                    }
                }
                results.insert(
                    js_string(fields.get("id")),
                    json!({ "rev": rev, "success": true }),
                );
            }
            out.insert(collection.into(), Value::Object(results));
        }
        out.insert("timestamp".into(), json!(now));
        Ok(answer(200, Value::Object(out)))
    }

    fn pull(&self, user: &str, query: &str) -> HttpResponse {
        let since = query
            .split('&')
            .find_map(|p| p.strip_prefix("since="))
            .unwrap_or("0");
        // parseInt: leading digits; NaN matches nothing (`$gt: Invalid Date`).
        let digits: String = since.chars().take_while(char::is_ascii_digit).collect();
        let since: Option<u64> = if since.is_empty() {
            Some(0)
        } else {
            digits.parse().ok()
        };
        let db = self.db.borrow();
        let mut out = Map::new();
        for (collection, docs) in &db.collections {
            let rows: Vec<Value> = docs
                .iter()
                .filter(|d| d.fields.get("userId") == Some(&Value::from(user)))
                .filter(|d| since.is_some_and(|s| d.updated_at > s))
                .map(|d| {
                    let mut f = d.fields.clone();
                    let id = f["_id"].clone();
                    f.insert("_id".into(), json!(js_string(Some(&id))));
                    let rev = truthy(f.get("_rev")).cloned().unwrap_or(json!(1));
                    f.insert("_rev".into(), rev);
                    f.insert("updatedAt".into(), json!(format_iso_ms(d.updated_at)));
                    Value::Object(f)
                })
                .collect();
            out.insert(collection.clone(), Value::Array(rows));
        }
        out.insert("timestamp".into(), json!(self.clock.now_ms()));
        answer(200, Value::Object(out))
    }
}
