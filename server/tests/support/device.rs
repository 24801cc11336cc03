//! A native client device: the core's real sync engine over in-memory storage, talking
//! to a test server over real HTTP (reqwest). Used to test that devices converge.

use idb_sync_core::engine::{EngineConfig, RoundReport, SyncEngine};
use idb_sync_core::memory::MemoryStorage;
use idb_sync_core::merge::LocalOp;
use idb_sync_core::ports::{Clock, Transport, TransportRequest, TransportResponse};
use idb_sync_core::{Record, RecordId, RecordKey, SyncError};

/// Sends protocol requests to `base` with a bearer token.
pub struct HttpTransport {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Transport for HttpTransport {
    async fn send(&self, request: TransportRequest) -> Result<TransportResponse, SyncError> {
        let response = self
            .http
            .post(format!("{}{}", self.base, request.endpoint.path()))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(request.body)
            .send()
            .await
            .map_err(|e| SyncError::Network(e.to_string()))?;
        let status = response.status().as_u16();
        let retry_after_ms = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .map(|secs| secs * 1000);
        let body = response
            .text()
            .await
            .map_err(|e| SyncError::Network(e.to_string()))?;
        Ok(TransportResponse {
            status,
            retry_after_ms,
            body,
        })
    }
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
    async fn sleep(&self, ms: u64) {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}

/// One device of a user.
pub struct Device {
    pub engine: SyncEngine<MemoryStorage, HttpTransport, SystemClock>,
}

impl Device {
    pub fn new(client_id: &str, base: &str, token: &str) -> Self {
        let transport = HttpTransport {
            http: reqwest::Client::new(),
            base: base.to_owned(),
            token: token.to_owned(),
        };
        Self {
            engine: SyncEngine::new(
                MemoryStorage::new(client_id),
                transport,
                SystemClock,
                EngineConfig::default(),
            ),
        }
    }

    pub async fn write(&self, table: &str, key: &str, op: LocalOp) {
        let id = RecordId {
            table: table.to_owned(),
            key: RecordKey::String(key.to_owned()),
        };
        self.engine.write(&id, op).await.expect("local write");
    }

    pub async fn sync(&self) -> RoundReport {
        self.engine.sync_round().await.expect("sync round")
    }

    pub fn records(&self) -> std::collections::BTreeMap<RecordId, Record> {
        self.engine.storage().records()
    }
}

/// A JSON object literal as a record.
pub fn record(value: serde_json::Value) -> Record {
    value.as_object().expect("an object").clone()
}
