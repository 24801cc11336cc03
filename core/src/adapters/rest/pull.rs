//! The rest adapter's pull: one `GET {base}/{table}?since=<ms>` per synced table, in
//! order, merged into one v1 page. `since` is the table's newest `updatedAt` pulled
//! (server time) minus the overlap; what the overlap brings back at a version
//! already pulled is left out. The seed has no paging: every page is the last.

use serde_json::{Map, Value};

use super::cursor::{RestCursor, TableCursor};
use super::{malformed, Rest, BOOKKEEPING};
use crate::adapters::{error_answer, HttpMethod, HttpPort, HttpRequest, HttpResponse};
use crate::error::SyncError;
use crate::key::RecordKey;
use crate::ports::TransportResponse;
use crate::protocol::{Change, PullPage, PullRequest, PullResponse};
use crate::PROTOCOL_VERSION;

impl Rest {
    /// The request pulling server table `remote` from its position in `cursor`.
    pub fn pull_http(&self, remote: &str, cursor: &RestCursor) -> HttpRequest {
        let c = &self.config;
        let since = cursor.table(remote).since.saturating_sub(c.overlap_ms);
        HttpRequest {
            method: HttpMethod::Get,
            path: format!("{}/{remote}?{}={since}", c.base_path, c.since_param),
            headers: Vec::new(),
            body: None,
        }
    }

    /// One table's answer: its changes (each key once, at its newest version, repeats
    /// of the overlap left out) and its new position.
    pub fn table_answer(
        &self,
        local: &str,
        remote: &str,
        before: &RestCursor,
        response: &HttpResponse,
    ) -> Result<(Vec<Change>, TableCursor), SyncError> {
        let body: Value = serde_json::from_str(&response.body)
            .map_err(|e| malformed(format!("GET {remote}: {e}")))?;
        // The body is the array (`response.data` of the seed's client); `{ data: [...] }`
        // is read too.
        let records = body
            .as_array()
            .or_else(|| body.get("data")?.as_array())
            .ok_or_else(|| malformed(format!("GET {remote}: expected an array of records")))?;
        let before = before.table(remote);
        let mut changes: Vec<Change> = Vec::new();
        let mut stamps: Vec<(String, u64)> = Vec::new();
        for record in records {
            let change = self.change(local, record)?;
            let key_json = serde_json::to_string(&change.key).unwrap_or_default();
            stamps.push((key_json.clone(), change.version));
            if before.seen.contains(&(key_json, change.version)) {
                continue;
            }
            match changes.iter_mut().find(|c| c.key == change.key) {
                Some(held) if held.version < change.version => *held = change,
                Some(_) => {}
                None => changes.push(change),
            }
        }
        let since = stamps.iter().map(|(_, v)| *v).fold(before.since, u64::max);
        let window_start = since.saturating_sub(self.config.overlap_ms);
        let mut seen: Vec<(String, u64)> = Vec::new();
        for stamp in stamps {
            if stamp.1 > window_start && !seen.contains(&stamp) {
                seen.push(stamp);
            }
        }
        let position = TableCursor {
            table: remote.to_owned(),
            since,
            seen,
        };
        Ok((changes, position))
    }

    /// One pulled record as a v1 change at its `updatedAt`.
    fn change(&self, table: &str, record: &Value) -> Result<Change, SyncError> {
        let c = &self.config;
        let obj = record
            .as_object()
            .ok_or_else(|| malformed(format!("a {table} record that is not an object")))?;
        let key: RecordKey = obj
            .get(&c.id_field)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .ok_or_else(|| malformed(format!("a {table} record without `{}`", c.id_field)))?;
        let version = self
            .updated_ms(record)
            .filter(|v| *v > 0)
            .ok_or_else(|| malformed(format!("{table}[{key}] without `{}`", c.updated_field)))?;
        let deleted = obj.get(&c.deleted_field) == Some(&Value::Bool(true));
        let data = (!deleted).then(|| {
            let keep = |f: &String| !BOOKKEEPING.contains(&f.as_str()) && *f != c.deleted_field;
            let fields = obj.iter().filter(|(f, _)| keep(f));
            fields
                .map(|(f, v)| (f.clone(), v.clone()))
                .collect::<Map<_, _>>()
        });
        Ok(Change {
            table: table.to_owned(),
            key,
            version,
            previous_version: 0,
            deleted,
            data,
            hlc: None,
            origin: None,
        })
    }

    /// Pulls every table and answers one v1 page (or the first error answer).
    pub(super) async fn pull_tables<H: HttpPort>(
        &self,
        http: &H,
        request: &PullRequest,
    ) -> Result<TransportResponse, SyncError> {
        let before = RestCursor::decode(request.cursor.as_ref());
        let mut answers = Vec::new();
        for (local, remote) in &self.config.tables {
            let response = http.fetch(self.pull_http(remote, &before)).await?;
            if !(200..300).contains(&response.status) {
                return Ok(error_answer(&response));
            }
            answers.push((local.as_str(), remote.as_str(), response));
        }
        self.pull_answer(&before, &answers)
    }

    /// The v1 page of the tables' answers (local name, server name, answer).
    pub fn pull_answer(
        &self,
        before: &RestCursor,
        answers: &[(&str, &str, HttpResponse)],
    ) -> Result<TransportResponse, SyncError> {
        let mut changes = Vec::new();
        let mut next = RestCursor::default();
        for (local, remote, response) in answers {
            let (table_changes, position) = self.table_answer(local, remote, before, response)?;
            changes.extend(table_changes);
            next.tables.push(position);
        }
        // The seed's answers carry no clock: the newest `updatedAt` known stands in
        // (the engine's clock offset only stamps local writes, never sent here).
        let server_time = next.tables.iter().map(|t| t.since).max().unwrap_or(0);
        let page = PullResponse::Ok(PullPage {
            protocol_version: PROTOCOL_VERSION,
            server_time,
            changes,
            cursor: next.encode(),
            has_more: false,
            account: None,
        });
        Ok(TransportResponse {
            status: 200,
            retry_after_ms: None,
            body: serde_json::to_string(&page).map_err(|e| malformed(e.to_string()))?,
        })
    }
}
