//! The devices of the batched adapter's native tests (`core/tests/adapter_batched.rs`):
//! a `SyncEngine` over `MemoryStorage` whose network is the seed-002 fixture
//! (`seed002.rs`), with a bearer token, a log of request bodies and a lost answer on
//! demand; and the helpers the tests read and write records with.

use std::cell::{Cell, RefCell};

use crate::seed002::Seed002;
use idb_sync_core::adapters::push_pull::PushPullCursor;
use idb_sync_core::adapters::{parse_iso_ms, HttpResponse};
use idb_sync_core::adapters::{AdapterTransport, Batched, BatchedConfig, HttpPort, HttpRequest};
use idb_sync_core::conflict::{ConflictPolicy, PolicyConfig};
use idb_sync_core::engine::{EngineConfig, SyncEngine};
use idb_sync_core::memory::{block_on, ManualClock, MemoryStorage};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::ports::Storage;
use idb_sync_core::{Record, RecordId, SyncError};
use serde_json::{json, Value};

/// An hour in ms.
pub const HOUR: i64 = 3_600_000;

/// A JSON object as a record.
pub fn rec(v: Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

/// The `items` record of `key`.
pub fn item(key: &str) -> RecordId {
    RecordId::new("items", key)
}

/// A device's network: bearer token added, the seed's server answering; can lose the
/// next answer to a request with changes (served, never received).
pub struct Device {
    /// The server it talks to.
    pub server: Seed002,
    /// Lose the answer to the next request with changes.
    pub lose_next_push_answer: Cell<bool>,
    /// Every request body sent.
    pub bodies: RefCell<Vec<Value>>,
}

impl HttpPort for Device {
    async fn fetch(&self, mut request: HttpRequest) -> Result<HttpResponse, SyncError> {
        request
            .headers
            .push(("Authorization".into(), "Bearer t1".into()));
        let body: Value = serde_json::from_str(request.body.as_deref().unwrap_or("null")).unwrap();
        let pushing = body["changes"].as_array().is_some_and(|c| !c.is_empty());
        self.bodies.borrow_mut().push(body);
        let response = self.server.handle(&request);
        if pushing && self.lose_next_push_answer.replace(false) {
            return Err(SyncError::Network("the answer was lost".into()));
        }
        Ok(response)
    }
}

/// A device: the real engine over memory storage and the adapter.
pub type Engine = SyncEngine<MemoryStorage, AdapterTransport<Device, Batched>, ManualClock>;

/// A device over `storage` (a new engine on a stored database: a reload).
pub fn on(
    storage: MemoryStorage,
    server: &Seed002,
    clock: ManualClock,
    policy: ConflictPolicy,
) -> Engine {
    let http = Device {
        server: server.clone(),
        lose_next_push_answer: Cell::new(false),
        bodies: RefCell::new(Vec::new()),
    };
    let transport = AdapterTransport {
        http,
        adapter: Batched::new(BatchedConfig::default()),
    };
    let config = EngineConfig {
        policies: PolicyConfig::uniform(policy),
        ..EngineConfig::default()
    };
    SyncEngine::new(storage, transport, clock, config)
}

/// A fresh device with the default policy.
pub fn device(server: &Seed002, clock: ManualClock, name: &str) -> Engine {
    on(
        MemoryStorage::new(name),
        server,
        clock,
        ConflictPolicy::default(),
    )
}

/// The fixture server (token `t1` is user `u1`) and the true clock.
pub fn world() -> (Seed002, ManualClock) {
    let clock = ManualClock::new(1_800_000_000_000);
    (Seed002::new(clock.clone(), &[("t1", "u1")]), clock)
}

/// The device's record of `key`.
pub fn local(engine: &Engine, key: &str) -> Option<Record> {
    engine.storage().records().get(&item(key)).cloned()
}

/// One field of the device's record of `key`.
pub fn field(engine: &Engine, key: &str, name: &str) -> Option<Value> {
    local(engine, key).and_then(|r| r.get(name).cloned())
}

/// The device's stored cursor.
pub fn cursor(engine: &Engine) -> PushPullCursor {
    let meta = block_on(engine.storage().read_meta()).unwrap();
    PushPullCursor::decode(meta.cursor.as_ref())
}

/// A local write through the engine.
pub fn write(engine: &Engine, key: &str, op: LocalOp) {
    block_on(engine.write(&item(key), op)).unwrap();
}

/// Creates item `key` with `title`.
pub fn create(engine: &Engine, key: &str, title: &str) {
    write(
        engine,
        key,
        LocalOp::Create(rec(json!({"localId": key, "title": title}))),
    );
}

/// One sync round that must succeed.
pub fn sync(engine: &Engine) {
    block_on(engine.sync_round()).unwrap();
}

/// Local changes not yet answered.
pub fn outbox(engine: &Engine) -> usize {
    block_on(engine.storage().outbox_len()).unwrap()
}

/// The `lastSyncTimestamp` of every pull (`changes: []`) the device sent, in ms.
pub fn pull_sinces(engine: &Engine) -> Vec<u64> {
    let bodies = engine.transport().http.bodies.borrow();
    let pulls = bodies.iter().filter(|b| b["changes"] == json!([]));
    pulls
        .map(|b| parse_iso_ms(b["lastSyncTimestamp"].as_str().unwrap()).unwrap())
        .collect()
}
