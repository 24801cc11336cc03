//! The world of the rest adapter's native tests (`adapter_rest.rs`): devices (the
//! real engine over memory storage, the rest adapter, an [`HttpPort`] to the seed-001
//! fixture that can lose answers, crash item requests and count requests in flight)
//! and the helpers the tests read them with.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::task::Poll;

use crate::seed001::Seed001;
use idb_sync_core::adapters::rest::RestCursor;
use idb_sync_core::adapters::{
    AdapterTransport, HttpMethod, HttpPort, HttpRequest, HttpResponse, Rest, RestConfig,
};
use idb_sync_core::conflict::{ConflictPolicy, PolicyConfig};
use idb_sync_core::engine::{EngineConfig, SyncEngine};
use idb_sync_core::memory::{block_on, ManualClock, MemoryStorage};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::ports::Storage;
use idb_sync_core::{Record, RecordId, SyncError};
use serde_json::{json, Value};

pub const HOUR: i64 = 3_600_000;

pub fn rec(v: Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

pub fn task(key: &str) -> RecordId {
    RecordId::new("tasks", key)
}

/// A device's network to the seed's server. Each request waits one poll before it
/// is served (so concurrent requests overlap); the answer to the next request of
/// `lose` is lost after the server handled it.
pub struct Device {
    pub server: Seed001,
    pub lose: Cell<Option<HttpMethod>>,
    pub in_flight: Cell<usize>,
    pub most_in_flight: Cell<usize>,
    pub paths: RefCell<Vec<String>>,
    /// For the next item (non-GET) requests in order: `true` answers 500 without
    /// reaching the server.
    pub script: RefCell<Vec<bool>>,
}

async fn yield_once() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

impl HttpPort for Device {
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, SyncError> {
        self.in_flight.set(self.in_flight.get() + 1);
        let most = self.most_in_flight.get().max(self.in_flight.get());
        self.most_in_flight.set(most);
        yield_once().await;
        self.paths.borrow_mut().push(request.path.clone());
        let crash = request.method != HttpMethod::Get && {
            let mut script = self.script.borrow_mut();
            !script.is_empty() && script.remove(0)
        };
        let response = if crash {
            let body = json!({ "error": "Internal Server Error" }).to_string();
            HttpResponse {
                status: 500,
                retry_after_ms: None,
                body,
            }
        } else {
            self.server.handle(&request)
        };
        self.in_flight.set(self.in_flight.get() - 1);
        if self.lose.get() == Some(request.method) {
            self.lose.set(None);
            return Err(SyncError::Network("the answer was lost".into()));
        }
        Ok(response)
    }
}

pub type Engine = SyncEngine<MemoryStorage, AdapterTransport<Device, Rest>, ManualClock>;

pub fn config() -> RestConfig {
    RestConfig {
        tables: vec![
            ("tasks".into(), "tasks".into()),
            ("projects".into(), "projects".into()),
        ],
        ..RestConfig::default()
    }
}

pub fn engine_on(
    server: &Seed001,
    clock: ManualClock,
    storage: MemoryStorage,
    policy: ConflictPolicy,
) -> Engine {
    let http = Device {
        server: server.clone(),
        lose: Cell::new(None),
        in_flight: Cell::new(0),
        most_in_flight: Cell::new(0),
        paths: RefCell::new(Vec::new()),
        script: RefCell::new(Vec::new()),
    };
    let transport = AdapterTransport {
        http,
        adapter: Rest::new(config()),
    };
    let config = EngineConfig {
        policies: PolicyConfig::uniform(policy),
        ..EngineConfig::default()
    };
    SyncEngine::new(storage, transport, clock, config)
}

pub fn device(server: &Seed001, clock: ManualClock, name: &str) -> Engine {
    engine_on(
        server,
        clock,
        MemoryStorage::new(name),
        ConflictPolicy::FieldMerge,
    )
}

pub fn world() -> (Seed001, ManualClock) {
    let clock = ManualClock::new(1_800_000_000_000);
    (Seed001::new(clock.clone()), clock)
}

pub fn local(engine: &Engine, key: &str) -> Option<Record> {
    engine.storage().records().get(&task(key)).cloned()
}

pub fn title(engine: &Engine, key: &str) -> Option<Value> {
    local(engine, key).and_then(|r| r.get("title").cloned())
}

pub fn stored(server: &Seed001, key: &str) -> Option<Value> {
    server.record("tasks", key).map(Value::Object)
}

pub fn cursor(engine: &Engine) -> RestCursor {
    let meta = block_on(engine.storage().read_meta()).unwrap();
    RestCursor::decode(meta.cursor.as_ref())
}

pub fn local_write(engine: &Engine, key: &str, op: LocalOp) {
    block_on(engine.write(&task(key), op)).unwrap();
}

pub fn create(engine: &Engine, key: &str, title: &str) {
    let record = rec(json!({ "id": key, "title": title, "status": "todo", "priority": "low" }));
    local_write(engine, key, LocalOp::Create(record));
}

pub fn sync(engine: &Engine) {
    block_on(engine.sync_round()).unwrap();
}

pub fn dead(engine: &Engine) -> Vec<String> {
    let letters = block_on(engine.storage().dead_letters()).unwrap();
    letters
        .iter()
        .map(|d| format!("{}:{}", d.record.key, d.code))
        .collect()
}

pub fn outbox(engine: &Engine) -> usize {
    block_on(engine.storage().outbox_len()).unwrap()
}
