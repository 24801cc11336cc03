//! The deterministic simulation harness: several clients (each the real engine over
//! in-memory storage that can crash between any two storage steps), a server model
//! running the real server rules (`apply_push` / `pull`) over an in-memory store, and
//! a network that drops, delays, duplicates and reorders requests, answers 5xx / 413 /
//! garbage. After quiescence the invariants are checked; a violation names the seed.

#![allow(dead_code)]

mod oracles;

pub use oracles::Oracles;

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use idb_sync_core::conflict::{ConflictPolicy, ManualChoice, PolicyConfig};
use idb_sync_core::engine::{self, EngineConfig, SyncEngine};
use idb_sync_core::memory::{block_on, ManualClock, MemoryServer, MemoryServerTx, MemoryStorage};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::outbox::{BatchLimits, ClientMeta, InFlightOp, KeyState};
use idb_sync_core::ports::{
    Clock, Storage, StorageTx, Transport, TransportRequest, TransportResponse,
};
use idb_sync_core::protocol::{
    Endpoint, MergeMode, MutationResult, PullRequest, PushRequest, PushResponse,
};
use idb_sync_core::server::{
    self, ClientState, MutationValidator, ServerConfig, ServerError, ServerRecord, ServerStore,
};
use idb_sync_core::{Op, Record, RecordId, RecordKey, SyncError};
use serde_json::{json, Value};

/// A small seeded PRNG (SplitMix64): deterministic, no dependency.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// True with probability `p` percent.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Deliberately broken rules, to prove the simulation detects them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Breakage {
    /// The server forgets every client's idempotency high-water mark.
    pub server_forgets_high_water: bool,
    /// The client storage cancels an in-flight create when the record is deleted
    /// (merging into the frozen in-flight entry, against I2).
    pub client_cancels_in_flight_create: bool,
    /// `lastWriteWins` takes the server's record even when the local write is later
    /// (I12).
    pub lww_takes_server: bool,
    /// `clientWins` takes the server's record.
    pub client_wins_takes_server: bool,
    /// `fieldMerge` drops the local fields of a create/put it should merge.
    pub field_merge_drops_local_fields: bool,
    /// `serverWins` discards local changes without logging them.
    pub server_wins_forgets_log: bool,
    /// A second manual conflict overwrites the parked one (I12).
    pub manual_overwrites_parked: bool,
    /// The server ignores the content hashes of stored outcomes and the acknowledged
    /// mark: a reused `(clientId, seq)` is answered `duplicate` instead of
    /// `client_id_reused` (against I11).
    pub server_ignores_content_hash: bool,
}

/// Faults the network and storage inject (percent per event).
#[derive(Clone, Copy, Debug)]
pub struct Faults {
    pub drop_request: u64,
    pub drop_response: u64,
    pub duplicate: u64,
    pub delay: u64,
    pub server_error: u64,
    pub too_large: u64,
    pub garbage: u64,
    pub crash: u64,
    pub write_during_flight: u64,
}

impl Faults {
    pub fn none() -> Self {
        Faults {
            drop_request: 0,
            drop_response: 0,
            duplicate: 0,
            delay: 0,
            server_error: 0,
            too_large: 0,
            garbage: 0,
            crash: 0,
            write_during_flight: 0,
        }
    }
    pub fn chaos() -> Self {
        Faults {
            drop_request: 8,
            drop_response: 8,
            duplicate: 6,
            delay: 5,
            server_error: 6,
            too_large: 6,
            garbage: 3,
            crash: 8,
            write_during_flight: 20,
        }
    }
}

/// The server store of the simulation: the in-memory store, optionally broken.
struct SimStore {
    inner: MemoryServerTx,
    forget_high_water: bool,
    ignore_hashes: bool,
}

impl ServerStore for SimStore {
    async fn client_state(
        &mut self,
        user: &str,
        client_id: &str,
    ) -> Result<ClientState, ServerError> {
        if self.forget_high_water {
            return Ok(ClientState::default());
        }
        let mut state = self.inner.client_state(user, client_id).await?;
        if self.ignore_hashes {
            state.acked_below = 0;
            for outcome in state.outcomes.values_mut() {
                outcome.hash = None;
            }
        }
        Ok(state)
    }
    async fn put_client_state(
        &mut self,
        user: &str,
        client_id: &str,
        state: &ClientState,
    ) -> Result<(), ServerError> {
        self.inner.put_client_state(user, client_id, state).await
    }
    async fn get_record(
        &mut self,
        user: &str,
        table: &str,
        key: &RecordKey,
    ) -> Result<Option<ServerRecord>, ServerError> {
        self.inner.get_record(user, table, key).await
    }
    async fn put_record(&mut self, user: &str, record: &ServerRecord) -> Result<(), ServerError> {
        self.inner.put_record(user, record).await
    }
    async fn next_change_seq(&mut self, user: &str) -> Result<u64, ServerError> {
        self.inner.next_change_seq(user).await
    }
    async fn changes_since(
        &mut self,
        user: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ServerRecord>, ServerError> {
        self.inner.changes_since(user, after, limit).await
    }
    async fn tombstone_horizon(&mut self, user: &str) -> Result<u64, ServerError> {
        self.inner.tombstone_horizon(user).await
    }
    async fn purge_tombstones(&mut self, user: &str, up_to: u64) -> Result<(), ServerError> {
        self.inner.purge_tombstones(user, up_to).await
    }
}

/// Rejects records carrying `"poison": true` (to exercise the rejected path, I6).
struct PoisonValidator;

impl MutationValidator for PoisonValidator {
    fn validate(&self, m: &idb_sync_core::protocol::Mutation) -> Result<(), (String, String)> {
        match m.op.fields().and_then(|f| f.get("poison")) {
            Some(Value::Bool(true)) => Err(("validation_failed".into(), "poisoned record".into())),
            _ => Ok(()),
        }
    }
}

pub const USER: &str = "user-1";

/// The server model plus everything the network saw, shared by all clients.
pub struct World {
    pub rng: RefCell<Rng>,
    pub server: MemoryServer,
    pub server_clock: ManualClock,
    pub config: ServerConfig,
    pub faults: Cell<Faults>,
    pub breakage: Breakage,
    /// Requests held back by the network, delivered later (reordering).
    pub delayed: RefCell<Vec<TransportRequest>>,
    /// How many times each (clientId, seq) was applied by the server.
    pub applied: RefCell<BTreeMap<(String, u64), u32>>,
    /// Every seq each client ever sent, in send order.
    pub sent: RefCell<BTreeMap<String, Vec<u64>>>,
    /// Violations noticed while running (seqs going backwards, ...).
    pub violations: RefCell<Vec<String>>,
    /// The policy oracles (I12).
    pub oracles: Rc<Oracles>,
    /// Which simulated client sent under each client id (ids change on renewal, I11).
    pub alias: RefCell<BTreeMap<String, String>>,
    /// Client ids the server refused as `client_id_reused`: the client renumbers every
    /// unanswered mutation sent under such an id and resends it under a new id (I11).
    pub refused: RefCell<BTreeSet<String>>,
}

impl World {
    fn serve(&self, request: &TransportRequest) -> TransportResponse {
        let now = self.server_clock.now_ms();
        let mut store = SimStore {
            inner: self.server.begin(),
            forget_high_water: self.breakage.server_forgets_high_water,
            ignore_hashes: self.breakage.server_ignores_content_hash,
        };
        let mut reused_push: Option<PushRequest> = None;
        let result: Result<String, ServerError> = block_on(async {
            match request.endpoint {
                Endpoint::Push => {
                    let req: PushRequest = serde_json::from_str(&request.body)
                        .map_err(|e| ServerError::BadRequest(e.to_string()))?;
                    reused_push = Some(req.clone());
                    let records = self.server.user(USER).records;
                    let before: BTreeMap<RecordId, ServerRecord> = req
                        .mutations
                        .iter()
                        .filter_map(|m| {
                            records.get(&(m.table.clone(), m.key.clone())).map(|r| {
                                (
                                    RecordId {
                                        table: m.table.clone(),
                                        key: m.key.clone(),
                                    },
                                    r.clone(),
                                )
                            })
                        })
                        .collect();
                    let resp = server::apply_push(
                        &mut store,
                        USER,
                        &req,
                        &self.config,
                        &PoisonValidator,
                        now,
                    )
                    .await?;
                    self.record_applied(&req, &resp);
                    let name = self.alias.borrow().get(&req.client_id).cloned();
                    let name = name.unwrap_or_else(|| req.client_id.clone());
                    self.oracles.on_push(&name, &req, &resp, &before);
                    if std::env::var("IDB_SYNC_SIM_TRACE").is_ok() {
                        for (m, r) in req.mutations.iter().zip(&resp.results) {
                            eprintln!(
                                "push {} seq {} {}[{}] {} base {} -> {:?}",
                                req.client_id,
                                m.seq,
                                m.table,
                                m.key,
                                m.op.kind(),
                                m.base_version,
                                r
                            );
                        }
                    }
                    Ok(serde_json::to_string(&resp).unwrap_or_default())
                }
                Endpoint::Pull => {
                    let req: PullRequest = serde_json::from_str(&request.body)
                        .map_err(|e| ServerError::BadRequest(e.to_string()))?;
                    let resp = server::pull(&mut store, USER, &req, &self.config, now).await?;
                    if std::env::var("IDB_SYNC_SIM_TRACE").is_ok() {
                        eprintln!(
                            "pull {} cursor {:?} -> {}",
                            req.client_id,
                            req.cursor,
                            serde_json::to_string(&resp)
                                .unwrap_or_default()
                                .chars()
                                .take(600)
                                .collect::<String>()
                        );
                    }
                    Ok(serde_json::to_string(&resp).unwrap_or_default())
                }
            }
        });
        match result {
            Ok(body) => {
                store.inner.commit();
                TransportResponse {
                    status: 200,
                    retry_after_ms: None,
                    body,
                }
            }
            Err(e) => {
                if let (ServerError::ClientIdReused(_), Some(req)) = (&e, reused_push) {
                    self.refused.borrow_mut().insert(req.client_id);
                }
                TransportResponse {
                    status: e.status(),
                    retry_after_ms: None,
                    body: serde_json::to_string(&e.to_body()).unwrap_or_default(),
                }
            }
        }
    }

    fn record_applied(&self, req: &PushRequest, resp: &PushResponse) {
        let mut applied = self.applied.borrow_mut();
        for r in &resp.results {
            if let MutationResult::Applied { seq, .. } = r {
                *applied.entry((req.client_id.clone(), *seq)).or_default() += 1;
            }
        }
    }

    fn note_sent(&self, client: &str, request: &TransportRequest) {
        if request.endpoint != Endpoint::Push {
            return;
        }
        let Ok(req) = serde_json::from_str::<PushRequest>(&request.body) else {
            return;
        };
        self.alias
            .borrow_mut()
            .insert(req.client_id.clone(), client.to_owned());
        let mut sent = self.sent.borrow_mut();
        let seqs = sent.entry(req.client_id.clone()).or_default();
        let max = seqs.iter().copied().max().unwrap_or(0);
        let known: BTreeSet<u64> = seqs.iter().copied().collect();
        let mut last_new = max;
        for m in &req.mutations {
            if !known.contains(&m.seq) {
                if m.seq <= last_new {
                    self.violations.borrow_mut().push(format!(
                        "client {} sent new seq {} after seq {} (seqs must grow)",
                        req.client_id, m.seq, last_new
                    ));
                }
                last_new = m.seq;
                seqs.push(m.seq);
            }
        }
    }
}

/// Storage that can crash between any two storage steps (the crash happens either
/// before the transaction commits or after it committed but before the caller heard).
#[derive(Clone)]
pub struct CrashyStorage {
    pub inner: MemoryStorage,
    pub countdown: Rc<Cell<Option<u32>>>,
    pub crashed: Rc<Cell<bool>>,
    pub commit_then_crash: Rc<Cell<bool>>,
    pub breakage: Breakage,
    /// The client's id, for the oracles' messages.
    pub client_id: String,
    /// True while the app (not the sync engine) calls into the storage.
    pub app_call: Rc<Cell<bool>>,
    pub oracles: Rc<Oracles>,
}

impl CrashyStorage {
    fn step(&self) -> Result<bool, SyncError> {
        if self.crashed.get() {
            return Err(SyncError::Storage("crashed".into()));
        }
        match self.countdown.get() {
            Some(0) => {
                self.crashed.set(true);
                self.countdown.set(None);
                Ok(true)
            }
            Some(n) => {
                self.countdown.set(Some(n - 1));
                Ok(false)
            }
            None => Ok(false),
        }
    }

    fn crash_result<R>(
        &self,
        crash: bool,
        run: impl FnOnce() -> Result<R, SyncError>,
    ) -> Result<R, SyncError> {
        if !crash {
            return run();
        }
        if self.commit_then_crash.get() {
            let _ = run();
        }
        Err(SyncError::Storage("crashed".into()))
    }

    fn break_in_flight_creates(&self, tx: &mut StorageTx) {
        if !self.breakage.client_cancels_in_flight_create {
            return;
        }
        for state in tx.states.values_mut() {
            let in_flight_create = matches!(
                state.in_flight.as_ref().map(|f| &f.op),
                Some(Op::Create { .. })
            );
            if in_flight_create && matches!(state.pending.as_ref().map(|p| &p.op), Some(Op::Delete))
            {
                state.in_flight = None;
                state.pending = None;
            }
        }
    }
}

impl CrashyStorage {
    /// One transaction of the wrapped storage (`lazy`: as `transact_pulled`, records
    /// of keys without sync state unloaded), with crashes, breakages and oracles.
    fn transact_as<R>(
        &self,
        keys: &[RecordId],
        lazy: bool,
        f: impl FnOnce(&mut StorageTx) -> Result<R, SyncError>,
    ) -> Result<R, SyncError> {
        let crash = self.step()?;
        let this = self.clone();
        self.crash_result(crash, move || {
            let body = |tx: &mut StorageTx| {
                let before = tx.states.clone();
                let out = f(tx)?;
                this.break_in_flight_creates(tx);
                let app = this.app_call.get();
                if !app {
                    oracles::break_rules(&this.breakage, &before, tx);
                }
                this.oracles
                    .on_transaction(&this.client_id, app, &before, tx);
                Ok(out)
            };
            if lazy {
                block_on(this.inner.transact_pulled(keys, body))
            } else {
                block_on(this.inner.transact(keys, body))
            }
        })
    }
}

impl Storage for CrashyStorage {
    async fn read_meta(&self) -> Result<ClientMeta, SyncError> {
        self.step().map(|_| ())?;
        self.inner.read_meta().await
    }
    async fn read_state(&self, id: &RecordId) -> Result<KeyState, SyncError> {
        self.inner.read_state(id).await
    }
    async fn transact<R>(
        &self,
        keys: &[RecordId],
        f: impl FnOnce(&mut StorageTx) -> Result<R, SyncError>,
    ) -> Result<R, SyncError> {
        self.transact_as(keys, false, f)
    }
    async fn transact_pulled<R>(
        &self,
        keys: &[RecordId],
        f: impl FnOnce(&mut StorageTx) -> Result<R, SyncError>,
    ) -> Result<R, SyncError> {
        self.transact_as(keys, true, f)
    }
    async fn take_batch(
        &self,
        limits: &BatchLimits,
        mode: &dyn Fn(&str) -> MergeMode,
    ) -> Result<Vec<InFlightOp>, SyncError> {
        let crash = self.step()?;
        self.crash_result(crash, || block_on(self.inner.take_batch(limits, mode)))
    }
    async fn reset_replica(&self) -> Result<(), SyncError> {
        let crash = self.step()?;
        self.crash_result(crash, || block_on(self.inner.reset_replica()))
    }
    async fn conflict_keys(&self) -> Result<Vec<RecordId>, SyncError> {
        self.inner.conflict_keys().await
    }
    async fn conflict_log(
        &self,
    ) -> Result<Vec<idb_sync_core::conflict::ConflictLogEntry>, SyncError> {
        self.inner.conflict_log().await
    }
    async fn dead_letters(&self) -> Result<Vec<idb_sync_core::conflict::DeadLetter>, SyncError> {
        self.inner.dead_letters().await
    }
    async fn outbox_len(&self) -> Result<usize, SyncError> {
        self.inner.outbox_len().await
    }
    async fn local_keys(&self) -> Result<Vec<RecordId>, SyncError> {
        self.inner.local_keys().await
    }
    async fn clear_synced_data(&self) -> Result<(), SyncError> {
        let crash = self.step()?;
        self.crash_result(crash, || block_on(self.inner.clear_synced_data()))
    }
    fn declares_table(&self, table: &str) -> bool {
        self.inner.declares_table(table)
    }
    async fn deferred_changes(&self) -> Result<Vec<idb_sync_core::protocol::Change>, SyncError> {
        self.step().map(|_| ())?;
        self.inner.deferred_changes().await
    }
}

/// One simulated device.
pub struct Client {
    pub id: String,
    pub storage: CrashyStorage,
    pub clock: ManualClock,
    pub writes: Cell<u64>,
}

/// The network as seen by one client.
pub struct SimTransport<'w> {
    pub world: &'w World,
    pub client: &'w Client,
}

pub const TABLES: [&str; 2] = ["tasks", "notes"];
const FIELDS: [&str; 3] = ["title", "done", "tag"];

/// A random local write by the app of `client`.
pub fn random_write(world: &World, client: &Client) {
    let trace = std::env::var("IDB_SYNC_SIM_TRACE").is_ok();
    let (id, op) = {
        let mut rng = world.rng.borrow_mut();
        let table = TABLES[rng.below(2) as usize];
        let key: RecordKey = if rng.chance(50) {
            RecordKey::Number(rng.below(4) as f64)
        } else {
            RecordKey::from(format!("k{}", rng.below(4)))
        };
        let id = RecordId::new(table, key);
        let n = client.writes.get() + 1;
        client.writes.set(n);
        let token = json!(format!("{}-{}", client.id, n));
        let mut record = Record::new();
        for f in FIELDS {
            if rng.chance(60) {
                record.insert(f.to_owned(), token.clone());
            }
        }
        record.insert(format!("by_{}", client.id), token.clone());
        if rng.chance(3) {
            record.insert("poison".into(), json!(true));
        }
        let exists = block_on(client.storage.inner.read_state(&id))
            .map(|s| s.value.is_some())
            .unwrap_or(false);
        let op = match (exists, rng.below(10)) {
            (false, 0..=7) => LocalOp::Create(record),
            (false, _) => LocalOp::Put(record),
            (true, 0..=5) => {
                let mut patch = Record::new();
                let f = FIELDS[rng.below(3) as usize];
                patch.insert(f.to_owned(), token.clone());
                patch.insert(format!("by_{}", client.id), token);
                LocalOp::Update(patch)
            }
            (true, 6..=7) => LocalOp::Delete,
            (true, _) => LocalOp::Put(record),
        };
        (id, op)
    };
    let desc = if trace {
        format!("{op:?}")
    } else {
        String::new()
    };
    let hlc_before = block_on(client.storage.inner.read_meta())
        .map(|m| m.hlc)
        .ok();
    let was_app = client.storage.app_call.replace(true);
    let r = block_on(engine::write(
        &client.storage,
        &client.clock,
        &id,
        op.clone(),
    ));
    client.storage.app_call.set(was_app);
    let hlc_after = block_on(client.storage.inner.read_meta())
        .map(|m| m.hlc)
        .ok();
    // A write that crashed right after its commit did happen: the timestamp moved.
    let committed = r.is_ok() || hlc_after != hlc_before;
    if committed {
        let hlc = hlc_after.filter(|h| Some(h) != hlc_before.as_ref());
        let after = block_on(client.storage.inner.read_state(&id)).unwrap_or_default();
        let server = world
            .server
            .user(USER)
            .records
            .get(&(id.table.clone(), id.key.clone()))
            .cloned();
        world
            .oracles
            .on_local_write(&client.id, &id, &op, hlc, &after, server.as_ref());
    }
    if trace {
        eprintln!("write {} {id} {desc} -> {r:?}", client.id);
    }
}

impl Transport for SimTransport<'_> {
    async fn send(&self, request: TransportRequest) -> Result<TransportResponse, SyncError> {
        let world = self.world;
        let f = world.faults.get();
        world.note_sent(&self.client.id, &request);
        let roll = |p: u64| world.rng.borrow_mut().chance(p);
        // Reordering: a request held back earlier arrives now, before this one.
        if !world.delayed.borrow().is_empty() && roll(30) {
            let late = world.delayed.borrow_mut().remove(0);
            world.serve(&late);
        }
        if roll(f.write_during_flight) {
            random_write(world, self.client);
        }
        if roll(f.drop_request) {
            return Err(SyncError::Network("request dropped".into()));
        }
        if roll(f.delay) {
            world.delayed.borrow_mut().push(request);
            return Err(SyncError::Network("request delayed".into()));
        }
        if roll(f.server_error) {
            let retry_after_ms = if roll(50) { Some(1_000) } else { None };
            return Ok(TransportResponse {
                status: 503,
                retry_after_ms,
                body: "Service Unavailable".into(),
            });
        }
        // A real 413 is deterministic in size: a lone mutation that passed once passes again.
        let several = request.endpoint == Endpoint::Push
            && serde_json::from_str::<PushRequest>(&request.body)
                .is_ok_and(|r| r.mutations.len() > 1);
        if several && roll(f.too_large) {
            let body = r#"{"error":{"code":"payload_too_large","message":"simulated"}}"#;
            return Ok(TransportResponse {
                status: 413,
                retry_after_ms: None,
                body: body.into(),
            });
        }
        let mut response = world.serve(&request);
        if roll(f.duplicate) {
            response = world.serve(&request); // the second delivery's answer is the one heard
        }
        if roll(f.drop_response) {
            return Err(SyncError::Network("response dropped".into()));
        }
        if roll(f.garbage) {
            response.body = garble(&response.body, &mut world.rng.borrow_mut());
        }
        Ok(response)
    }
}

/// Breaks an answer the way buggy servers and proxies do.
fn garble(body: &str, rng: &mut Rng) -> String {
    let Ok(mut v) = serde_json::from_str::<Value>(body) else {
        return "<html>".into();
    };
    match rng.below(5) {
        0 => return body[..body.len() / 2].to_owned(),
        1 => {
            if let Some(results) = v.get_mut("results").and_then(Value::as_array_mut) {
                results.pop();
            } else if let Some(o) = v.as_object_mut() {
                o.remove("cursor");
            }
        }
        2 => {
            if let Some(r) = v
                .get_mut("results")
                .and_then(Value::as_array_mut)
                .and_then(|a| a.first_mut())
            {
                r["status"] = json!("maybe");
            } else if let Some(o) = v.as_object_mut() {
                o.insert("hasMore".into(), json!("no"));
            }
        }
        3 => {
            if let Some(r) = v
                .get_mut("results")
                .and_then(Value::as_array_mut)
                .and_then(|a| a.first_mut())
            {
                r["seq"] = json!(999_999_999u64);
            } else if let Some(c) = v
                .get_mut("changes")
                .and_then(Value::as_array_mut)
                .and_then(|a| a.first_mut())
            {
                c["deleted"] = json!(!c["deleted"].as_bool().unwrap_or(false));
            } else {
                v["status"] = json!("teapot");
            }
        }
        _ => v["protocolVersion"] = json!(7),
    }
    serde_json::to_string(&v).unwrap_or_default()
}

/// The outcome of one seeded run.
#[derive(Debug)]
pub struct RunReport {
    pub violations: Vec<String>,
    pub stats: BTreeMap<&'static str, u64>,
}

fn policies_for(rng: &mut Rng) -> PolicyConfig {
    let all = [
        ConflictPolicy::FieldMerge,
        ConflictPolicy::ServerWins,
        ConflictPolicy::ClientWins,
        ConflictPolicy::LastWriteWins,
        ConflictPolicy::Manual,
        ConflictPolicy::Custom,
    ];
    let mut p = PolicyConfig::uniform(all[rng.below(6) as usize]);
    p.tables.insert("notes".into(), all[rng.below(6) as usize]);
    p
}

/// Runs one seed: random writes, rounds, crashes and faults, then quiescence and checks.
pub fn run(seed: u64, breakage: Breakage) -> RunReport {
    let mut rng = Rng::new(seed);
    let n_clients = 2 + rng.below(2) as usize;
    let policies = policies_for(&mut rng);
    let engine_config = EngineConfig {
        policies: policies.clone(),
        batch: BatchLimits {
            max_count: 1 + rng.below(6) as usize,
            max_bytes: 300 + rng.below(2000) as usize,
        },
        pull_limit: 1 + rng.below(5) as u32,
        ..EngineConfig::default()
    };
    let server_clock = ManualClock::new(1_700_000_000_000);
    let oracles = Rc::new(Oracles::new(policies.clone()));
    let world = World {
        rng: RefCell::new(rng.clone()),
        server: MemoryServer::new(),
        server_clock: server_clock.clone(),
        config: ServerConfig {
            max_mutations_per_push: 4,
            default_pull_limit: 3,
            max_pull_limit: 4,
            ..ServerConfig::default()
        },
        faults: Cell::new(Faults::chaos()),
        breakage,
        delayed: RefCell::new(Vec::new()),
        applied: RefCell::new(BTreeMap::new()),
        sent: RefCell::new(BTreeMap::new()),
        violations: RefCell::new(Vec::new()),
        oracles: oracles.clone(),
        alias: RefCell::new(BTreeMap::new()),
        refused: RefCell::new(BTreeSet::new()),
    };
    // Two schema versions (docs/STORAGE.md, "Layout") in a quarter of the seeds: the first
    // client runs an older app without `notes`. On by default since seeds 1218 and 5606
    // were fixed (20,000 seeds pass); `IDB_SYNC_SIM_OLD_SCHEMA=0` switches it off.
    let old_schema =
        rng.chance(25) && std::env::var("IDB_SYNC_SIM_OLD_SCHEMA").as_deref() != Ok("0");
    let mut clients: Vec<Client> = (0..n_clients)
        .map(|i| {
            let id = format!("c{i}");
            // Device clocks up to 4 hours off either way (skew must not decide: I12).
            let skew = (rng.below(28_800_000) as i64) - 14_400_000;
            Client {
                storage: CrashyStorage {
                    // Two schema versions: sometimes the first client runs an older app
                    // whose schema lacks `notes` until the quiescence (its reopen).
                    inner: if i == 0 && old_schema {
                        MemoryStorage::without_tables(id.clone(), &["notes"])
                    } else {
                        MemoryStorage::new(id.clone())
                    },
                    countdown: Rc::new(Cell::new(None)),
                    crashed: Rc::new(Cell::new(false)),
                    commit_then_crash: Rc::new(Cell::new(false)),
                    breakage,
                    client_id: id.clone(),
                    app_call: Rc::new(Cell::new(false)),
                    oracles: oracles.clone(),
                },
                clock: server_clock.skewed(skew),
                id,
                writes: Cell::new(0),
            }
        })
        .collect();
    let mut stats: BTreeMap<&'static str, u64> = BTreeMap::new();
    let round = |client: &Client, stats: &mut BTreeMap<&'static str, u64>| {
        let transport = SimTransport {
            world: &world,
            client,
        };
        let engine = SyncEngine::new(
            client.storage.clone(),
            transport,
            client.clock.clone(),
            engine_config.clone(),
        );
        match block_on(engine.sync_round()) {
            Ok(r) => {
                *stats.entry("rounds_ok").or_default() += 1;
                *stats.entry("conflicts").or_default() += r.conflicts as u64;
                *stats.entry("duplicates").or_default() += r.duplicates as u64;
                *stats.entry("resets").or_default() += r.resets as u64;
                r.sent + r.pulled
            }
            Err(e) => {
                if std::env::var("IDB_SYNC_SIM_DEBUG").is_ok() {
                    eprintln!("round of {} failed: {e}", client.id);
                }
                *stats
                    .entry(if client.storage.crashed.get() {
                        "crashes"
                    } else {
                        "rounds_failed"
                    })
                    .or_default() += 1;
                if e.code() == "malformed_response" {
                    *stats.entry("malformed").or_default() += 1;
                }
                client.storage.crashed.set(false); // restart: a new engine next time
                1
            }
        }
    };
    let resolve_all = |client: &Client, rng: &mut Rng| {
        for id in block_on(client.storage.inner.conflict_keys()).unwrap_or_default() {
            let choice = match rng.below(3) {
                0 => ManualChoice::KeepLocal,
                1 => ManualChoice::KeepServer,
                _ => ManualChoice::Merged(Some(Record::from_iter([(
                    "merged".to_owned(),
                    json!(true),
                )]))),
            };
            let was_app = client.storage.app_call.replace(true);
            let _ = block_on(engine::resolve_conflict(
                &client.storage,
                &client.clock,
                &id,
                choice,
            ));
            client.storage.app_call.set(was_app);
        }
    };

    let steps = 40 + rng.below(40);
    // A wiped database keeping its client id (I11), in 1 seed of 8: drawn from a
    // separate generator, so that the other seeds run exactly as before.
    let mut wipe_rng = Rng::new(seed ^ 0x5749_5045);
    let wipe = (wipe_rng.chance(12) && std::env::var("IDB_SYNC_SIM_WIPE").as_deref() != Ok("0"))
        .then(|| {
            (
                wipe_rng.below(steps),
                wipe_rng.below(n_clients as u64) as usize,
            )
        });
    for step in 0..steps {
        if wipe.is_some_and(|(at, _)| at == step) {
            let (_, i) = wipe.unwrap_or_default();
            wipe_database(&world, &mut clients[i]);
            *stats.entry("wipes").or_default() += 1;
        }
        let c = &clients[rng.below(n_clients as u64) as usize];
        match rng.below(10) {
            0..=4 => random_write(&world, c),
            5..=8 => {
                if rng.chance(world.faults.get().crash) {
                    c.storage.countdown.set(Some(rng.below(12) as u32));
                    c.storage.commit_then_crash.set(rng.chance(50));
                }
                round(c, &mut stats);
                c.storage.countdown.set(None);
            }
            _ => {
                if rng.chance(30) {
                    resolve_all(c, &mut rng);
                }
                if rng.chance(20) {
                    let mut tx = world.server.begin();
                    let horizon = world
                        .server
                        .user(USER)
                        .change_seq
                        .saturating_sub(rng.below(5));
                    let _ = block_on(server::collect_tombstones(&mut tx, USER, horizon));
                    tx.commit();
                }
            }
        }
        server_clock.advance(rng.below(5_000));
    }

    // Quiescence: the network heals, delayed requests arrive, apps resolve conflicts,
    // the old app version is reopened with the new schema.
    world.faults.set(Faults::none());
    if old_schema {
        stats.insert("old_schema_runs", 1);
        clients[0].storage.inner.declare_table("notes");
    }
    for late in world.delayed.take() {
        world.serve(&late);
    }
    let mut violations = world.violations.take();
    let mut quiet = false;
    for _ in 0..30 {
        let mut activity = 0;
        for c in &clients {
            resolve_all(c, &mut rng);
            activity += round(c, &mut stats);
        }
        let settled = clients.iter().all(|c| {
            let d = c.storage.inner.snapshot();
            d.states
                .values()
                .all(|s| !s.has_local_changes() && s.conflict.is_none())
        });
        if settled && activity == 0 {
            quiet = true;
            break;
        }
        server_clock.advance(1_000);
    }
    if !quiet {
        violations.push("no quiescence after 30 fault-free passes".into());
    }
    violations.extend(world.violations.take());
    check(&world, &clients, &mut violations);
    let agreed: BTreeSet<(String, u64)> = clients
        .iter()
        .flat_map(|c| {
            let log = c.storage.inner.snapshot().conflict_log;
            log.into_iter()
                .filter(|e| e.resolved == e.remote && !e.outcome.starts_with("took server"))
                .flat_map(|e| {
                    e.seqs
                        .into_iter()
                        .map(|s| (c.id.clone(), s))
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    oracles.check_end(&agreed, &mut violations);
    for (k, v) in oracles.stats.borrow().iter() {
        *stats.entry(k).or_default() += v;
    }
    RunReport { violations, stats }
}

/// Replaces the database of `client` with an empty one that keeps its current client
/// id, next seq 1 (a cleared or restored database, a copied id). Its un-pushed writes
/// are lost by the wipe itself: the harness stops expecting them; every write made
/// after the wipe must still reach the server (I11).
fn wipe_database(world: &World, client: &mut Client) {
    let before = client.storage.inner.snapshot();
    let wire_id = before.meta.client_id.clone();
    let undeclared: Vec<&str> = before.undeclared.iter().map(String::as_str).collect();
    client.storage.inner = MemoryStorage::without_tables(wire_id.clone(), &undeclared);
    // The hybrid clock survives (as an id copied with its clock would): a database
    // restarting its clock under a skewed device clock is a lastWriteWins question,
    // not I11's (reported separately: IDB_SYNC_SIM_WIPE_HLC=0 shows it).
    if std::env::var("IDB_SYNC_SIM_WIPE_HLC").as_deref() != Ok("0") {
        let hlc = before.meta.hlc.clone();
        let _ = block_on(client.storage.inner.transact(&[], |tx| {
            tx.meta()?.hlc = hlc;
            Ok(())
        }));
    }
    // What the old database sent is no longer checked against this id: its answers
    // died with it. Its applied seqs move aside, so that a reused seq counts afresh.
    let archive = format!("{wire_id} (before a wipe)");
    world.sent.borrow_mut().remove(&wire_id);
    let mut applied = world.applied.borrow_mut();
    let moved: Vec<((String, u64), u32)> = applied
        .iter()
        .filter(|((id, _), _)| *id == wire_id)
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    for ((_, seq), n) in moved {
        applied.remove(&(wire_id.clone(), seq));
        *applied.entry((archive.clone(), seq)).or_default() += n;
    }
    world.refused.borrow_mut().remove(&wire_id);
    world.oracles.forget_client(&client.id);
}

/// The invariants after quiescence.
fn check(world: &World, clients: &[Client], violations: &mut Vec<String>) {
    let server = world.server.user(USER);
    let server_live: BTreeMap<RecordId, Record> = server
        .records
        .values()
        .filter_map(|r| {
            r.data.clone().map(|d| {
                (
                    RecordId {
                        table: r.table.clone(),
                        key: r.key.clone(),
                    },
                    d,
                )
            })
        })
        .collect();
    for ((client, seq), n) in world.applied.borrow().iter() {
        if *n > 1 {
            violations.push(format!("I3: mutation ({client}, {seq}) applied {n} times"));
        }
    }
    for c in clients {
        let data = c.storage.inner.snapshot();
        // Every client equals the server.
        let local = c.storage.inner.records();
        if local != server_live {
            let diff: Vec<String> = local
                .keys()
                .chain(server_live.keys())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .filter(|k| local.get(*k) != server_live.get(*k))
                .map(|k| {
                    format!(
                        "{k}: client {:?} server {:?}",
                        local.get(k),
                        server_live.get(k)
                    )
                })
                .collect();
            if std::env::var("IDB_SYNC_SIM_DEBUG").is_ok() {
                for k in local.keys().chain(server_live.keys()) {
                    if local.get(k) != server_live.get(k) {
                        eprintln!(
                            "{k}: client state {:?}\n   server {:?}\n   log {:?}\n   dead {:?}",
                            data.states.get(k),
                            server.records.get(&(k.table.clone(), k.key.clone())),
                            data.conflict_log
                                .iter()
                                .filter(|e| &e.id == k)
                                .collect::<Vec<_>>(),
                            data.dead_letters
                                .values()
                                .filter(|d| &d.record == k)
                                .collect::<Vec<_>>()
                        );
                    }
                }
            }
            violations.push(format!(
                "convergence: client {} differs from the server: {}",
                c.id,
                diff.join("; ")
            ));
        }
        // The outbox is empty, no conflict is open.
        for (id, s) in &data.states {
            if s.has_local_changes() {
                violations.push(format!("outbox: client {} still has {id} queued", c.id));
            }
            if s.conflict.is_some() {
                violations.push(format!(
                    "conflicts: client {} has an open conflict on {id}",
                    c.id
                ));
            }
        }
        // Every seq sent is on the server exactly once, or logged with a reason.
        let logged: BTreeSet<u64> = data
            .conflict_log
            .iter()
            .flat_map(|e| e.seqs.iter().copied())
            .chain(data.dead_letters.values().map(|d| d.seq))
            .collect();
        let applied = world.applied.borrow();
        let refused = world.refused.borrow();
        let ids: Vec<String> = world
            .alias
            .borrow()
            .iter()
            .filter(|(_, name)| **name == c.id)
            .map(|(id, _)| id.clone())
            .collect();
        let sent = world.sent.borrow();
        for (wire_id, seq) in ids
            .iter()
            .flat_map(|id| sent.get(id).into_iter().flatten().map(move |s| (id, *s)))
        {
            let n = applied.get(&(wire_id.clone(), seq)).copied().unwrap_or(0);
            // Unanswered under a refused id: renumbered and resent under the next id.
            let renumbered = refused.contains(wire_id);
            match (n, logged.contains(&seq)) {
                (1, false) | (0, true) => {}
                (0, false) if renumbered => {}
                (0, false) => violations.push(format!(
                    "lost write: client {} seq {seq} (id {wire_id}) neither applied nor logged",
                    c.id
                )),
                // The log names seqs, not ids: after a renewal the new id's seqs start
                // at 1 again, so a logged seq is only attributable to the current id.
                (_, true) if *wire_id != data.meta.client_id => {}
                (_, true) => violations.push(format!(
                    "client {} seq {seq} applied and also logged as not applied",
                    c.id
                )),
                (_, false) => {}
            }
        }
        // Seqs only grow, also across crashes.
        let max_sent = world
            .sent
            .borrow()
            .get(&data.meta.client_id)
            .and_then(|s| s.iter().max().copied())
            .unwrap_or(0);
        if data.meta.next_seq <= max_sent {
            violations.push(format!(
                "I3: client {} next seq {} not above sent seq {max_sent}",
                c.id, data.meta.next_seq
            ));
        }
    }
}
