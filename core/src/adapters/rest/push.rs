//! The rest adapter's push: one request per mutation, at most `concurrency` at once
//! (a batch holds one mutation per record, so no two requests race on one record);
//! each item's answer becomes that mutation's v1 result.
//!
//! | mutation | request | answer → v1 |
//! |---|---|---|
//! | create | `POST {base}/{table}` + record | 2xx applied; 409 (the id exists: an earlier delivery whose answer was lost) → sent again as `PUT` |
//! | put | `PUT {base}/{table}/{id}` + record | 2xx applied; 404 (deleted meanwhile) → sent again as `POST` (a put recreates, as in v1) |
//! | update | `PUT {base}/{table}/{id}` + changed fields | 2xx applied; 404 → conflict `missing` (the engine's policy decides) |
//! | delete | `DELETE {base}/{table}/{id}` | 2xx or 404 (already gone) applied |
//!
//! Any other 4xx refuses that item alone: the answer is a 422 and the engine halves
//! the batch until the item is alone, then parks it as a dead letter (the others are
//! resent, which the fallbacks above make safe). 401/403, 408, 429, 5xx and network
//! errors fail the whole batch, retried by the engine; no new item is started after
//! one.

use serde_json::{Map, Value};

use super::bounded::{run_bounded, Job};
use super::{malformed, path_segment, Rest};
use crate::adapters::{error_answer, own_error, HttpMethod, HttpPort, HttpRequest, HttpResponse};
use crate::error::SyncError;
use crate::ports::TransportResponse;
use crate::protocol::{
    ConflictReason, Mutation, MutationResult, PushRequest, PushResponse, ServerSnapshot,
};
use crate::record::Op;
use crate::PROTOCOL_VERSION;

/// What one item's request(s) came to.
#[derive(Clone, Debug, PartialEq)]
pub enum ItemOutcome {
    /// A v1 result for the mutation (applied, or a conflict), and the server's
    /// `updatedAt` in the answer if any (its clock at the write).
    Result(MutationResult, Option<u64>),
    /// The server refused this item alone (a 4xx): its status and message.
    Refused(u16, String),
    /// The whole batch fails: an error answer (401/403, 408, 429, 5xx, …), or the
    /// port's error as it gave it (no answer, closed, another tab leads, …).
    Failed(Result<TransportResponse, SyncError>),
}

impl ItemOutcome {
    fn fails_batch(&self) -> bool {
        matches!(self, ItemOutcome::Failed(_))
    }
}

fn ok(status: u16) -> bool {
    (200..300).contains(&status)
}

/// A status that refuses one item (any 4xx but credentials, timeouts, rate limits).
fn refuses_item(status: u16) -> bool {
    (400..500).contains(&status) && !matches!(status, 401 | 403 | 408 | 429)
}

impl Rest {
    /// The request for one mutation, in the table above.
    pub fn item_http(&self, m: &Mutation, method: HttpMethod) -> HttpRequest {
        let c = &self.config;
        let collection = format!("{}/{}", c.base_path, self.remote_table(&m.table));
        let key = serde_json::to_value(&m.key).unwrap_or(Value::Null);
        let mut body = match &m.op {
            Op::Create { record } | Op::Put { record } => record.clone(),
            Op::Update { patch } => patch.clone(),
            Op::Delete => Map::new(),
        };
        body.insert(c.id_field.clone(), key);
        let (path, body) = match method {
            HttpMethod::Post => (collection, Some(body)),
            HttpMethod::Delete => (format!("{collection}/{}", path_segment(&m.key)), None),
            _ => (format!("{collection}/{}", path_segment(&m.key)), Some(body)),
        };
        let json = ("Content-Type".to_owned(), "application/json".to_owned());
        HttpRequest {
            method,
            path,
            headers: if body.is_some() {
                vec![json]
            } else {
                Vec::new()
            },
            body: body.map(|b| Value::Object(b).to_string()),
        }
    }

    /// Sends one mutation (with its one fallback) and reads the answer.
    pub async fn push_item<H: HttpPort>(&self, http: &H, m: &Mutation) -> ItemOutcome {
        let first = match &m.op {
            Op::Create { .. } => HttpMethod::Post,
            Op::Put { .. } | Op::Update { .. } => HttpMethod::Put,
            Op::Delete => HttpMethod::Delete,
        };
        let send = |method| async move {
            let answer = http.fetch(self.item_http(m, method)).await;
            answer.map_err(|e| ItemOutcome::Failed(Err(e)))
        };
        let response = match send(first).await {
            Ok(r) => r,
            Err(failed) => return failed,
        };
        let fallback = match (&m.op, response.status) {
            (Op::Create { .. }, 409) => Some(HttpMethod::Put),
            (Op::Put { .. }, 404) => Some(HttpMethod::Post),
            _ => None,
        };
        let response = match fallback {
            Some(method) => match send(method).await {
                Ok(r) => r,
                Err(failed) => return failed,
            },
            None => response,
        };
        self.item_outcome(m, &response)
    }

    /// One item's answer as its outcome.
    pub fn item_outcome(&self, m: &Mutation, response: &HttpResponse) -> ItemOutcome {
        let status = response.status;
        let base = m.base_version;
        if ok(status) || (status == 404 && m.op == Op::Delete) {
            // The version is the answer's `updatedAt` (what pulls will report); an
            // answer without one (204) gets the lowest version above the base, so a
            // pull of the server's copy always supersedes it.
            let stamped = serde_json::from_str::<Value>(&response.body)
                .ok()
                .and_then(|v| self.updated_ms(&v))
                .filter(|_| ok(status));
            let version = stamped.unwrap_or(base + 1).max(1);
            let result = MutationResult::Applied {
                seq: m.seq,
                version,
                previous_version: base.min(version),
            };
            return ItemOutcome::Result(result, stamped);
        }
        if status == 404 && matches!(m.op, Op::Update { .. }) {
            let server = ServerSnapshot {
                version: base + 1,
                ..ServerSnapshot::absent()
            };
            let result = MutationResult::Conflict {
                seq: m.seq,
                reason: ConflictReason::Missing,
                server,
            };
            return ItemOutcome::Result(result, None);
        }
        if refuses_item(status) {
            let answer = error_answer(response);
            let message = serde_json::from_str::<Value>(&answer.body)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or_default();
            return ItemOutcome::Refused(status, message);
        }
        ItemOutcome::Failed(Ok(error_answer(response)))
    }

    /// The v1 answer to a push: every item's outcome, or the batch's failure.
    pub(super) async fn push_items<H: HttpPort>(
        &self,
        http: &H,
        request: &PushRequest,
    ) -> Result<TransportResponse, SyncError> {
        let jobs: Vec<Job<'_, ItemOutcome>> = request
            .mutations
            .iter()
            .map(|m| Box::pin(self.push_item(http, m)) as Job<'_, ItemOutcome>)
            .collect();
        let outcomes = run_bounded(jobs, self.config.concurrency, ItemOutcome::fails_batch).await;
        self.push_answer(request, outcomes)
    }

    /// Combines the items' outcomes (in the mutations' order; `None` = not sent):
    /// the first failure fails the batch; else any refusal makes a 422 (code
    /// `http_<status>` of the first refused item, every refusal in the message);
    /// else a 200 with one result per mutation.
    pub fn push_answer(
        &self,
        request: &PushRequest,
        outcomes: Vec<Option<ItemOutcome>>,
    ) -> Result<TransportResponse, SyncError> {
        let mut results = Vec::new();
        let mut refused: Vec<(u16, String)> = Vec::new();
        let mut server_time = 0;
        for (m, outcome) in request.mutations.iter().zip(outcomes) {
            match outcome {
                Some(ItemOutcome::Result(result, stamped)) => {
                    server_time = server_time.max(stamped.unwrap_or(m.base_version));
                    results.push(result);
                }
                Some(ItemOutcome::Refused(status, message)) => {
                    let what = format!("{}[{}]: {status} {message}", m.table, m.key);
                    refused.push((status, what));
                }
                Some(ItemOutcome::Failed(Ok(answer))) => return Ok(answer),
                Some(ItemOutcome::Failed(Err(error))) => return Err(error),
                None => return Err(SyncError::Network("an item was not sent".into())),
            }
        }
        if let Some((status, _)) = refused.first() {
            let all: Vec<String> = refused.iter().map(|(_, w)| w.clone()).collect();
            let message = format!("the server refused {}", all.join("; "));
            return Ok(own_error(422, &format!("http_{status}"), message));
        }
        // The server has no clock field: its newest `updatedAt` known (the engine's
        // clock offset only stamps local writes, which this adapter never sends).
        let answer = PushResponse {
            protocol_version: PROTOCOL_VERSION,
            server_time,
            results,
            account: None,
        };
        Ok(TransportResponse {
            status: 200,
            retry_after_ms: None,
            body: serde_json::to_string(&answer).map_err(|e| malformed(e.to_string()))?,
        })
    }
}
