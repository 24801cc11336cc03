//! The rest adapter (seed 001, docs/adapters/rest.md): one REST request per mutation
//! — `POST {base}/{table}`, `PUT {base}/{table}/{id}`, `DELETE {base}/{table}/{id}` —
//! run with bounded concurrency, each item's answer becoming that mutation's v1
//! result; and one `GET {base}/{table}?since=<ms>` per table, merged into one v1
//! page. A record's version is the server's `updatedAt` (ms); the cursor holds, per
//! table, the newest `updatedAt` pulled (the server's clock, never the device's) and
//! what the safety overlap will bring back.

mod bounded;
mod cursor;
mod pull;
mod push;

pub use bounded::{run_bounded, Job};
pub use cursor::{RestCursor, TableCursor};
pub use push::ItemOutcome;

use serde_json::Value;

use super::{parse_iso_ms, HttpPort, ProtocolAdapter};
use crate::error::SyncError;
use crate::key::RecordKey;
use crate::ports::TransportResponse;
use crate::protocol::{PullRequest, PushRequest};

/// Fields the seed's own client keeps on its rows (sync bookkeeping, not the app's
/// data): left out of pulled records.
pub const BOOKKEEPING: [&str; 4] = ["_synced", "_syncedAt", "_localUpdatedAt", "_version"];

/// How one REST server names things.
#[derive(Clone, Debug, PartialEq)]
pub struct RestConfig {
    /// Prefix of every path (default `/api`): `{basePath}/{table}`.
    pub base_path: String,
    /// The field holding a record's key (default `id`): written into pushed records,
    /// read from pulled ones.
    pub id_field: String,
    /// Every synced table with the server's name for it (local, server), in the
    /// order they are pulled. `SyncManager.open` lists every schema table, renamed by
    /// `protocol.tables`.
    pub tables: Vec<(String, String)>,
    /// The server's last-write time on each record, ms or an ISO date (default
    /// `updatedAt`): the record's version and the pull cursor.
    pub updated_field: String,
    /// The field marking a deleted record in pulls (default `_deleted`).
    pub deleted_field: String,
    /// The query parameter of the pull (default `since`).
    pub since_param: String,
    /// How far before the newest `updatedAt` pulled the next pull starts (default
    /// 60 s): covers writes committed with an earlier stamp than one already pulled.
    pub overlap_ms: u64,
    /// Most item requests in flight at once (default 4; 1 sends in the outbox's order).
    pub concurrency: usize,
}

impl Default for RestConfig {
    fn default() -> Self {
        RestConfig {
            base_path: "/api".into(),
            id_field: "id".into(),
            tables: Vec::new(),
            updated_field: "updatedAt".into(),
            deleted_field: "_deleted".into(),
            since_param: "since".into(),
            overlap_ms: 60_000,
            concurrency: 4,
        }
    }
}

/// The rest adapter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rest {
    /// Its names.
    pub config: RestConfig,
}

fn malformed(msg: impl Into<String>) -> SyncError {
    SyncError::MalformedResponse(msg.into())
}

/// `encodeURIComponent` of a key's text (a number as its JSON text).
pub fn path_segment(key: &RecordKey) -> String {
    let text = match key {
        RecordKey::String(s) => s.clone(),
        RecordKey::Number(_) => serde_json::to_string(key).unwrap_or_default(),
    };
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Rest {
    /// An adapter with these names.
    pub fn new(config: RestConfig) -> Self {
        Rest { config }
    }

    /// The server's name of a local table (itself when not renamed).
    pub fn remote_table<'a>(&'a self, table: &'a str) -> &'a str {
        let found = self.config.tables.iter().find(|(local, _)| local == table);
        found.map_or(table, |(_, remote)| remote.as_str())
    }

    /// The `updatedAt` of a record, in ms (a number, or an ISO date as
    /// `JSON.stringify` writes one).
    pub fn updated_ms(&self, record: &Value) -> Option<u64> {
        match record.get(&self.config.updated_field)? {
            Value::String(s) => parse_iso_ms(s),
            v => v
                .as_u64()
                .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        }
    }
}

impl ProtocolAdapter for Rest {
    async fn push<H: HttpPort>(
        &self,
        http: &H,
        request: &PushRequest,
    ) -> Result<TransportResponse, SyncError> {
        self.push_items(http, request).await
    }

    async fn pull<H: HttpPort>(
        &self,
        http: &H,
        request: &PullRequest,
    ) -> Result<TransportResponse, SyncError> {
        self.pull_tables(http, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_encoded_as_one_path_segment() {
        assert_eq!(path_segment(&"a b/c?d".into()), "a%20b%2Fc%3Fd");
        assert_eq!(path_segment(&RecordKey::from(5_i64)), "5");
        assert_eq!(path_segment(&"é".into()), "%C3%A9");
    }

    #[test]
    fn updated_at_is_read_as_ms_or_an_iso_date() {
        let rest = Rest::default();
        let at = |v: Value| rest.updated_ms(&serde_json::json!({ "updatedAt": v }));
        assert_eq!(at(1_000.into()), Some(1_000));
        assert_eq!(at("1970-01-01T00:00:01.500Z".into()), Some(1_500));
        assert_eq!(at(Value::Null), None);
        assert_eq!(at("yesterday".into()), None);
    }
}
