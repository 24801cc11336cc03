//! A fixture of seed 001's server (`../shared/seeds/001_*.txt`: the `/api/{table}`
//! endpoints the seed's `SyncManager.syncItem` and `fullSync` call through `api`, an
//! axios-like client), in memory. The seed shows the client only; the server's rules
//! here are what that client relies on, written down:
//! - tables `tasks` and `projects` (the seed's `AppDatabase`); any other path is 404;
//! - `POST /api/{table}` with a record carrying its client-generated `id`: stored
//!   with `updatedAt` = the server's `Date.now()` (ms, the number `fullSync` compares
//!   with `_localUpdatedAt`), answered 201 with the stored record; an `id` already
//!   stored (live) is 409 `{ error }`; a deleted one is created anew;
//! - `PUT /api/{table}/{id}`: the body's fields merged into the stored record
//!   (`findByIdAndUpdate`), `updatedAt` = now, answered 200 with the record; an
//!   unknown or deleted id is 404 `{ error }`;
//! - `DELETE /api/{table}/{id}`: a soft delete (`{ id, _deleted: true, updatedAt }`,
//!   the seed's `_deleted` flag, so that other devices' `?since=` pulls see it),
//!   answered 204; an unknown or deleted id is 404;
//! - validation (the seed's `Task`/`Project` types): a task needs a non-empty string
//!   `title` and, when present, a `status` of todo/in_progress/done and a `priority`
//!   of low/medium/high; a project a non-empty string `name`; else 400 `{ error }`;
//! - `GET /api/{table}?since=<ms>`: the bare array (`response.data`) of records and
//!   tombstones with `updatedAt > since`, oldest first.
//!
//! Instances share the database but each has its own clock (a server whose clock
//! lags); the database persists across requests and instances. Test plumbing:
//! `fail_next(n)` answers the next n requests 500 without touching anything.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use idb_sync_core::adapters::{HttpMethod, HttpRequest, HttpResponse};
use idb_sync_core::memory::ManualClock;
use idb_sync_core::ports::Clock;
use serde_json::{json, Map, Value};

pub const TABLES: [&str; 2] = ["tasks", "projects"];

#[derive(Debug, Default)]
pub struct Db {
    /// (table, stored records in insertion order; tombstones included).
    pub tables: Vec<(String, Vec<Map<String, Value>>)>,
    /// Every request answered, in order (method, path).
    pub log: Vec<(HttpMethod, String)>,
    /// Requests still to answer 500.
    pub fail_next: Cell<u32>,
}

/// One server instance over the shared database.
#[derive(Clone)]
pub struct Seed001 {
    pub db: Rc<RefCell<Db>>,
    pub clock: ManualClock,
}

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

fn deleted(record: &Map<String, Value>) -> bool {
    record.get("_deleted") == Some(&Value::Bool(true))
}

/// `decodeURIComponent` of one path segment.
fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The seed's types, as a server would check them.
fn validate(table: &str, record: &Map<String, Value>) -> Result<(), String> {
    let text = |f: &str| {
        record
            .get(f)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let one_of = |f: &str, allowed: &[&str]| match record.get(f) {
        None => Ok(()),
        Some(v) if v.as_str().is_some_and(|s| allowed.contains(&s)) => Ok(()),
        Some(_) => Err(format!("{f} must be one of {}", allowed.join(", "))),
    };
    match table {
        "tasks" => {
            text("title").ok_or("title is required")?;
            one_of("status", &["todo", "in_progress", "done"])?;
            one_of("priority", &["low", "medium", "high"])
        }
        _ => text("name")
            .map(|_| ())
            .ok_or_else(|| "name is required".into()),
    }
}

impl Seed001 {
    /// A fresh database, one instance at `clock`.
    pub fn new(clock: ManualClock) -> Self {
        let db = Db {
            tables: TABLES.iter().map(|t| (t.to_string(), Vec::new())).collect(),
            ..Db::default()
        };
        Seed001 {
            db: Rc::new(RefCell::new(db)),
            clock,
        }
    }

    /// Another instance of the same database, with its own clock.
    pub fn instance(&self, clock: ManualClock) -> Self {
        Seed001 {
            db: self.db.clone(),
            clock,
        }
    }

    /// The stored record (or tombstone) of `table` with `id`.
    pub fn record(&self, table: &str, id: &str) -> Option<Map<String, Value>> {
        let db = self.db.borrow();
        let (_, rows) = db.tables.iter().find(|(t, _)| t == table)?;
        rows.iter().find(|r| r["id"] == json!(id)).cloned()
    }

    /// How many stored rows of `table` (tombstones included).
    pub fn count(&self, table: &str) -> usize {
        let db = self.db.borrow();
        db.tables
            .iter()
            .find(|(t, _)| t == table)
            .map_or(0, |(_, r)| r.len())
    }

    /// The requests answered so far (method, path).
    pub fn log(&self) -> Vec<(HttpMethod, String)> {
        self.db.borrow().log.clone()
    }

    /// Answers the next `n` requests 500.
    pub fn fail_next(&self, n: u32) {
        self.db.borrow().fail_next.set(n);
    }

    /// Answers one request as the seed's server does.
    pub fn handle(&self, request: &HttpRequest) -> HttpResponse {
        let mut db = self.db.borrow_mut();
        db.log.push((request.method, request.path.clone()));
        if db.fail_next.get() > 0 {
            db.fail_next.set(db.fail_next.get() - 1);
            return error(500, "Internal Server Error");
        }
        let (path, query) = request.path.split_once('?').unwrap_or((&request.path, ""));
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let (table, id) = match parts.as_slice() {
            ["api", table] => (*table, None),
            ["api", table, id] => (*table, Some(decode(id))),
            _ => return error(404, "Not found"),
        };
        let now = self.clock.now_ms();
        let Some((_, rows)) = db.tables.iter_mut().find(|(t, _)| t == table) else {
            return error(404, "Not found");
        };
        let body = || -> Result<Map<String, Value>, HttpResponse> {
            let text = request.body.as_deref().unwrap_or("");
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(o)) => Ok(o),
                _ => Err(error(400, "Invalid JSON body")),
            }
        };
        match (request.method, id) {
            (HttpMethod::Get, None) => {
                let since = query
                    .split('&')
                    .find_map(|p| p.strip_prefix("since="))
                    .unwrap_or("0");
                let Ok(since) = since.parse::<f64>() else {
                    return error(400, "since must be a number");
                };
                let mut out: Vec<&Map<String, Value>> = rows
                    .iter()
                    .filter(|r| r["updatedAt"].as_f64().unwrap_or(0.0) > since)
                    .collect();
                out.sort_by_key(|r| r["updatedAt"].as_u64());
                answer(200, json!(out))
            }
            (HttpMethod::Post, None) => {
                let mut record = match body() {
                    Ok(r) => r,
                    Err(e) => return e,
                };
                let Some(id) = record.get("id").and_then(Value::as_str).map(str::to_owned) else {
                    return error(400, "id is required");
                };
                if let Err(e) = validate(table, &record) {
                    return error(400, &e);
                }
                record.insert("updatedAt".into(), json!(now));
                match rows.iter_mut().find(|r| r["id"] == json!(id)) {
                    Some(stored) if !deleted(stored) => error(409, "Record already exists"),
                    Some(stored) => {
                        *stored = record.clone();
                        answer(201, Value::Object(record))
                    }
                    None => {
                        rows.push(record.clone());
                        answer(201, Value::Object(record))
                    }
                }
            }
            (HttpMethod::Put, Some(id)) => {
                let patch = match body() {
                    Ok(r) => r,
                    Err(e) => return e,
                };
                let Some(stored) = rows.iter_mut().find(|r| r["id"] == json!(id)) else {
                    return error(404, "Not found");
                };
                if deleted(stored) {
                    return error(404, "Not found");
                }
                let mut merged = stored.clone();
                merged.extend(patch);
                merged.insert("id".into(), json!(id));
                merged.insert("updatedAt".into(), json!(now));
                if let Err(e) = validate(table, &merged) {
                    return error(400, &e);
                }
                *stored = merged.clone();
                answer(200, Value::Object(merged))
            }
            (HttpMethod::Delete, Some(id)) => {
                let Some(stored) = rows.iter_mut().find(|r| r["id"] == json!(id)) else {
                    return error(404, "Not found");
                };
                if deleted(stored) {
                    return error(404, "Not found");
                }
                let tombstone = json!({ "id": id, "_deleted": true, "updatedAt": now });
                *stored = tombstone.as_object().cloned().unwrap_or_default();
                answer(204, Value::Null)
            }
            _ => error(405, "Method not allowed"),
        }
    }
}
