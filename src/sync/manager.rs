//! `SyncManager`: the class apps import. A thin wrapper over [`Inner`] — opening,
//! the seed-compatible methods, status and subscriptions, conflicts and dead letters.
//! The loop itself is in [`super::inner`] (an executor of the core's tab machine).

use std::cell::Cell;
use std::rc::Rc;

use idb_sync_core::conflict::ManualChoice;
use idb_sync_core::engine::{self, EngineConfig};
use idb_sync_core::outbox::{AdoptMode, AdoptTiming};
use idb_sync_core::ports::Storage;
use idb_sync_core::sync_loop::tabs::Heartbeat;
use idb_sync_core::sync_loop::{Scheduler, SyncStatus, Tabs};
use idb_sync_core::RecordId;
use js_sys::{Array, Function, Promise};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::clock::monotonic_ms;
use super::clock::{now_ms, BrowserClock};
use super::counts;
use super::election::Leadership;
use super::error::ManagerError;
use super::inner::{Inner, Parts};
use super::options;
use super::panic::{install_panic_hook, panicked};
use super::resolver::JsResolver;
use super::transport::{Credentials, FetchTransport};
use super::triggers;
use crate::args;
use crate::database::LocalDatabase;
use crate::interop;
use crate::storage::keys::to_record_key;
use crate::table::Table;
use crate::value;

/// Syncs an IndexedDB database with an idb-sync server, in the background.
///
/// One tab per database runs the sync loop (the leader, chosen with Web Locks); the
/// others write to the same outbox, and see the leader's status. Every method that
/// fails rejects with a `SyncError` (`error.code` is stable).
///
/// ```ts
/// const sync = await SyncManager.open({
///   dbName: 'MyApp', version: 1, schema: { tasks: 'id, status' },
///   endpoint: 'https://sync.example.com', auth: { getToken: async () => token },
/// });
/// await sync.create('tasks', { title: 'Buy milk', status: 'todo' });
/// const off = sync.subscribe((status) => console.log(status.phase, status.pending));
/// const { pushed, pulled } = await sync.syncNow();
/// ```
#[wasm_bindgen]
pub struct SyncManager {
    inner: Rc<Inner>,
}

fn check(inner: &Inner) -> Result<(), ManagerError> {
    if let Some(message) = panicked() {
        return Err(ManagerError::Panicked(message));
    }
    if inner.closed.get() {
        return Err(ManagerError::Closed);
    }
    Ok(())
}

fn record_id(table: &str, key: &JsValue) -> Result<RecordId, ManagerError> {
    let key = to_record_key(key).ok_or_else(|| ManagerError::InvalidArgument {
        argument: "key",
        reason: "expected a string or a finite number".into(),
    })?;
    Ok(RecordId {
        table: table.to_owned(),
        key,
    })
}

/// A manual conflict, as the app sees it (`local` and `remote` are set on it as
/// JavaScript records, with their Dates).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConflictView {
    table: String,
    key: serde_json::Value,
    remote_version: u64,
    at: u64,
}

/// The table named by the argument `table` (`invalid_argument`, `unknown_table`).
fn table_arg(inner: &Inner, table: &JsValue) -> Result<Table, ManagerError> {
    Ok(inner.db.table_named(args::string(table, "table")?)?)
}

/// A dead letter, as the app sees it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeadLetterView {
    id: u64,
    table: String,
    key: serde_json::Value,
    code: String,
    reason: String,
    at: u64,
}

fn key_json(id: &RecordId) -> serde_json::Value {
    serde_json::to_value(&id.key).unwrap_or(serde_json::Value::Null)
}

#[wasm_bindgen]
impl SyncManager {
    /// Opens the database and starts syncing (unless `autoSync: false`). Rejects with a
    /// `SyncError` whose code names the bad option (`invalid_db_name`,
    /// `invalid_version`, `invalid_schema`, `invalid_endpoint`, `invalid_auth`,
    /// `invalid_interval`, `invalid_conflict`, `invalid_batch_count`, ...).
    #[wasm_bindgen(unchecked_return_type = "SyncManager")]
    pub async fn open(
        #[wasm_bindgen(unchecked_param_type = "SyncManagerOptions")] options: JsValue,
    ) -> Result<SyncManager, JsValue> {
        install_panic_hook();
        if let Some(message) = panicked() {
            return Err(ManagerError::Panicked(message).into());
        }
        let options::Options {
            core: opts,
            auth,
            resolver,
        } = options::parse(&options)?;
        let db = LocalDatabase::open_with(opts.database).await?;
        let storage = db.storage().clone();
        let client_id = match storage.read_meta().await {
            Ok(meta) => meta.client_id,
            Err(e) => {
                db.close();
                return Err(ManagerError::from(e).into());
            }
        };
        let adopt_after_pull = match adopt_at_open(&storage, opts.adopt).await {
            Ok(later) => later,
            Err(e) => {
                db.close();
                return Err(e.into());
            }
        };
        let credentials = Rc::new(Credentials::new(auth));
        let closed = Rc::new(Cell::new(false));
        let leading = Rc::new(Cell::new(false));
        let transport = FetchTransport::new(
            opts.endpoint,
            credentials.clone(),
            closed.clone(),
            leading.clone(),
        );
        let heartbeat = Heartbeat {
            period_ms: opts
                .leader_heartbeat_ms
                .unwrap_or(Heartbeat::DEFAULT_PERIOD_MS),
        };
        let online = triggers::is_online();
        let scheduler = Scheduler::new(opts.scheduler, now_ms(), online, triggers::is_visible());
        let config = EngineConfig {
            policies: opts.conflict.policies,
            batch: opts.batch,
            ..EngineConfig::default()
        };
        let mut tabs = Tabs::new(
            scheduler,
            SyncStatus::new(online),
            opts.auto_sync,
            heartbeat,
            uuid::Uuid::now_v7().to_string(),
            monotonic_ms(),
        );
        tabs.set_adopt_after_pull(adopt_after_pull);
        let resolver = JsResolver(resolver);
        let parts = Parts {
            db,
            transport,
            credentials,
            closed,
            leading,
            client_id,
            resolver,
            config,
            tabs,
        };
        let inner = Inner::new(parts);
        inner.wire();
        let weak = Rc::downgrade(&inner);
        let (leadership, leads) = Leadership::join(inner.storage.name(), move |leads| {
            if let Some(inner) = weak.upgrade() {
                if leads {
                    inner.became_leader();
                } else {
                    inner.lost_leadership();
                }
            }
        })
        .await;
        inner.joined(leadership, leads);
        Ok(SyncManager { inner })
    }

    /// The database name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.inner.storage.name().to_owned()
    }

    /// This device's client id (persisted in the database). It changes when the
    /// server says the id was used before (`client_id_reused`): the database takes a
    /// new one, and this getter shows it from the end of that round on.
    #[wasm_bindgen(getter, js_name = clientId)]
    pub fn client_id(&self) -> String {
        self.inner.client_id()
    }

    /// Whether this tab runs the sync loop for the database. It can change either way:
    /// a follower takes over when the leader closes or stays silent (frozen), and a
    /// leader robbed while frozen follows again.
    #[wasm_bindgen(getter, js_name = isLeader)]
    pub fn is_leader(&self) -> bool {
        self.inner.tabs.borrow().is_leader()
    }

    /// A table of the schema (Dexie-style API: `add`, `put`, `update`, `where`, ...).
    pub fn table(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    ) -> Result<Table, JsValue> {
        check(&self.inner)?;
        Ok(self.inner.db.table_named(args::string(&name, "name")?)?)
    }

    /// Calls `listener({ table, keys, source })` after each change of `table` (`'*'`
    /// for all); returns a function that removes it.
    #[wasm_bindgen(js_name = onChange, unchecked_return_type = "() => void")]
    pub fn on_change(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] table: JsValue,
        #[wasm_bindgen(unchecked_param_type = "(change: ChangeEvent) => void")] listener: JsValue,
    ) -> Result<Function, JsValue> {
        check(&self.inner)?;
        Ok(self
            .inner
            .db
            .listen(&args::string(&table, "table")?, &listener)?)
    }

    /// Adds a record to `table` and resolves to it (with its generated key).
    #[wasm_bindgen(unchecked_return_type = "Promise<any>")]
    pub async fn create(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] table: JsValue,
        data: JsValue,
    ) -> Result<JsValue, JsValue> {
        check(&self.inner)?;
        let t = table_arg(&self.inner, &table)?;
        let key = t.add(data, JsValue::UNDEFINED).await?;
        t.get(key).await
    }

    /// Sets `changes` on the record `key` of `table`; resolves to the updated record,
    /// or `undefined` if there is none.
    #[wasm_bindgen(unchecked_return_type = "Promise<any>")]
    pub async fn update(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] table: JsValue,
        key: JsValue,
        changes: JsValue,
    ) -> Result<JsValue, JsValue> {
        check(&self.inner)?;
        let t = table_arg(&self.inner, &table)?;
        if t.update(key.clone(), changes).await? == 0 {
            return Ok(JsValue::UNDEFINED);
        }
        t.get(key).await
    }

    /// Deletes the record `key` of `table` (nothing happens if there is none).
    pub async fn delete(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] table: JsValue,
        key: JsValue,
    ) -> Result<(), JsValue> {
        check(&self.inner)?;
        table_arg(&self.inner, &table)?.delete(key).await
    }

    /// Runs a sync round now (push, then pull) — in the leader tab, wherever it is
    /// called — and resolves to `{ pushed, pulled, conflicts, rejected }`. Also ends
    /// an auth block and cuts a backoff short. Rejects with `offline` while offline.
    #[wasm_bindgen(js_name = syncNow, unchecked_return_type = "Promise<SyncNowResult>")]
    pub fn sync_now(&self) -> Promise {
        let inner = self.inner.clone();
        Promise::new(&mut |resolve, reject| inner.sync_now(resolve, reject))
    }

    /// Seed-compatible name of [`SyncManager::sync_now`].
    #[wasm_bindgen(js_name = processQueue, unchecked_return_type = "Promise<SyncNowResult>")]
    pub fn process_queue(&self) -> Promise {
        self.sync_now()
    }

    /// Seed-compatible name of [`SyncManager::sync_now`].
    #[wasm_bindgen(js_name = performFullSync, unchecked_return_type = "Promise<SyncNowResult>")]
    pub fn perform_full_sync(&self) -> Promise {
        self.sync_now()
    }

    /// Seed-compatible: syncs now (a round covers every table; `table` is checked).
    /// A bad `table` or a closed manager rejects the promise (never throws).
    #[wasm_bindgen(js_name = fullSync, unchecked_return_type = "Promise<SyncNowResult>")]
    pub fn full_sync(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] table: JsValue,
    ) -> Promise {
        match check(&self.inner).and_then(|()| table_arg(&self.inner, &table)) {
            Ok(_) => self.sync_now(),
            Err(e) => Promise::reject(&e.into()),
        }
    }

    /// The number of local changes not yet acknowledged by the server.
    #[wasm_bindgen(js_name = getPendingCount)]
    pub async fn get_pending_count(&self) -> Result<u32, JsValue> {
        check(&self.inner)?;
        let c = counts::read(&self.inner.storage).await?;
        Ok((c.counts.pending + c.counts.in_flight) as u32)
    }

    /// Starts the automatic loop (interval, events, writes); runs a round at once.
    #[wasm_bindgen(js_name = startAutoSync)]
    pub fn start_auto_sync(&self) -> Result<(), JsValue> {
        self.set_auto_sync(true)
    }

    /// Stops the automatic loop; `syncNow()` still works. A running round finishes.
    #[wasm_bindgen(js_name = stopAutoSync)]
    pub fn stop_auto_sync(&self) -> Result<(), JsValue> {
        self.set_auto_sync(false)
    }

    fn set_auto_sync(&self, on: bool) -> Result<(), JsValue> {
        check(&self.inner)?;
        self.inner.set_auto(on);
        Ok(())
    }

    /// The current status.
    #[wasm_bindgen(js_name = getSyncStatus, unchecked_return_type = "SyncStatus")]
    pub fn get_sync_status(&self) -> JsValue {
        interop::view(self.inner.tabs.borrow().status())
    }

    /// Calls `listener(status)` after every status change (in every tab); returns a
    /// function that removes it. A listener that throws is logged.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn subscribe(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(status: SyncStatus) => void")] listener: JsValue,
    ) -> Result<Function, JsValue> {
        let listener = args::function(&listener, "listener").map_err(ManagerError::from)?;
        let id = self.inner.subscribers.subscribe(listener);
        let weak = Rc::downgrade(&self.inner);
        Ok(Closure::once_into_js(move || {
            if let Some(inner) = weak.upgrade() {
                inner.subscribers.unsubscribe(id);
            }
        })
        .unchecked_into())
    }

    /// Tells the manager the app has new credentials: the cached token is forgotten
    /// (`getToken()` is asked again) and an auth block ends.
    #[wasm_bindgen(js_name = refreshAuth)]
    pub fn refresh_auth(&self) -> Result<(), JsValue> {
        check(&self.inner)?;
        self.inner.credentials_changed();
        Ok(())
    }

    /// Open manual conflicts (policy `manual`).
    #[wasm_bindgen(unchecked_return_type = "Promise<Conflict[]>")]
    pub async fn conflicts(&self) -> Result<Array, JsValue> {
        check(&self.inner)?;
        let storage = &self.inner.storage;
        let out = Array::new();
        for id in storage.conflict_keys().await.map_err(ManagerError::from)? {
            let state = storage.read_state(&id).await.map_err(ManagerError::from)?;
            if let Some(c) = state.conflict {
                let view = interop::view(&ConflictView {
                    table: id.table.clone(),
                    key: key_json(&id),
                    remote_version: c.remote_version,
                    at: c.at_ms,
                });
                interop::set(
                    &view,
                    &"local".into(),
                    &value::optional_record_to_js(c.local.as_ref()),
                );
                interop::set(
                    &view,
                    &"remote".into(),
                    &value::optional_record_to_js(c.remote.as_ref()),
                );
                out.push(&view);
            }
        }
        Ok(out)
    }

    /// Resolves a manual conflict: `'local'` (keep this device's version), `'server'`
    /// (keep the server's), or `{ merged: record | null }`.
    #[wasm_bindgen(js_name = resolveConflict)]
    pub async fn resolve_conflict(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] table: JsValue,
        key: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ConflictResolution")] resolution: JsValue,
    ) -> Result<(), JsValue> {
        check(&self.inner)?;
        let table = table_arg(&self.inner, &table)?.name();
        let id = record_id(&table, &key)?;
        let choice = match resolution.as_string().as_deref() {
            Some("local") => ManualChoice::KeepLocal,
            Some("server") => ManualChoice::KeepServer,
            _ if resolution.is_object() => {
                let merged = js_sys::Reflect::get(&resolution, &"merged".into())
                    .unwrap_or(JsValue::UNDEFINED);
                if merged.is_null() {
                    ManualChoice::Merged(None)
                } else if value::is_plain_object(&merged) {
                    ManualChoice::Merged(Some(value::check_fields(&table, &merged)?.fields))
                } else {
                    return Err(ManagerError::InvalidArgument {
                        argument: "resolution",
                        reason: "`merged` must be a record or null".into(),
                    }
                    .into());
                }
            }
            _ => {
                return Err(ManagerError::InvalidArgument {
                    argument: "resolution",
                    reason: "expected 'local', 'server' or { merged: record | null }".into(),
                }
                .into())
            }
        };
        engine::resolve_conflict(&self.inner.storage, &BrowserClock, &id, choice)
            .await
            .map_err(ManagerError::from)?;
        self.inner.poke();
        Ok(())
    }

    /// The log of automatic conflict resolutions, oldest first.
    #[wasm_bindgen(js_name = conflictLog, unchecked_return_type = "Promise<ConflictLogEntry[]>")]
    pub async fn conflict_log(&self) -> Result<Array, JsValue> {
        check(&self.inner)?;
        let log = self
            .inner
            .storage
            .conflict_log()
            .await
            .map_err(ManagerError::from)?;
        Ok(log
            .iter()
            .map(|e| {
                let view = interop::view(&serde_json::json!({
                    "table": e.id.table, "key": key_json(&e.id), "policy": e.policy, "outcome": e.outcome, "at": e.at_ms,
                }));
                interop::set(&view, &"local".into(), &value::optional_record_to_js(e.local.as_ref()));
                interop::set(&view, &"remote".into(), &value::optional_record_to_js(e.remote.as_ref()));
                interop::set(&view, &"resolved".into(), &value::optional_record_to_js(e.resolved.as_ref()));
                view
            })
            .collect())
    }

    /// Changes the server rejected, kept for the app: retry or discard them.
    #[wasm_bindgen(js_name = deadLetters, unchecked_return_type = "Promise<DeadLetter[]>")]
    pub async fn dead_letters(&self) -> Result<Array, JsValue> {
        check(&self.inner)?;
        let letters = self
            .inner
            .storage
            .dead_letters()
            .await
            .map_err(ManagerError::from)?;
        Ok(letters
            .into_iter()
            .map(|l| {
                let view = interop::view(&DeadLetterView {
                    id: l.id,
                    table: l.record.table.clone(),
                    key: key_json(&l.record),
                    code: l.code,
                    reason: l.reason,
                    at: l.at_ms,
                });
                interop::set(&view, &"op".into(), &value::op_to_js(&l.op));
                view
            })
            .collect())
    }

    /// Queues a dead letter's change again.
    #[wasm_bindgen(js_name = retryDeadLetter)]
    pub async fn retry_dead_letter(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] id: JsValue,
    ) -> Result<(), JsValue> {
        check(&self.inner)?;
        let id = args::id(&id, "id")?;
        let letters = self
            .inner
            .storage
            .dead_letters()
            .await
            .map_err(ManagerError::from)?;
        let letter = letters.into_iter().find(|l| l.id == id).ok_or_else(|| {
            ManagerError::Core(idb_sync_core::SyncError::NotFound(format!(
                "dead letter {id}"
            )))
        })?;
        engine::retry_dead_letter(&self.inner.storage, &BrowserClock, &letter)
            .await
            .map_err(ManagerError::from)?;
        self.inner.poke();
        Ok(())
    }

    /// Drops a dead letter for good.
    #[wasm_bindgen(js_name = discardDeadLetter)]
    pub async fn discard_dead_letter(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] id: JsValue,
    ) -> Result<(), JsValue> {
        check(&self.inner)?;
        let id = args::id(&id, "id")?;
        engine::discard_dead_letter(&self.inner.storage, id)
            .await
            .map_err(ManagerError::from)?;
        self.inner.poke();
        Ok(())
    }

    /// Decides what happens to this database's data after sync failed with
    /// `account_changed` (another user signed in than the one whose data it holds).
    /// `{ localData: 'clear' }` deletes the synced tables' records, the outbox,
    /// conflicts and dead letters: a fresh start for the new account.
    /// `{ localData: 'keep' }` keeps the records locally and moves every unsynced
    /// change to the dead letters (code `account_changed`): nothing is pushed into the
    /// new account unless the app retries it. Either way the new account's data is
    /// then pulled from scratch. Rejects with `invalid_argument` for anything else.
    ///
    /// ```ts
    /// sync.subscribe(async (s) => {
    ///   if (s.error?.code === 'account_changed') await sync.resolveAccountChange({ localData: 'clear' });
    /// });
    /// ```
    #[wasm_bindgen(js_name = resolveAccountChange)]
    pub async fn resolve_account_change(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ localData: 'clear' | 'keep' }")] decision: JsValue,
    ) -> Result<(), JsValue> {
        check(&self.inner)?;
        let local_data = if decision.is_object() {
            js_sys::Reflect::get(&decision, &"localData".into())
                .ok()
                .and_then(|v| v.as_string())
        } else {
            None
        };
        let choice = match local_data.as_deref() {
            Some("clear") => engine::LocalDataChoice::Clear,
            Some("keep") => engine::LocalDataChoice::Keep,
            _ => {
                return Err(ManagerError::InvalidArgument {
                    argument: "decision",
                    reason: "expected { localData: 'clear' } or { localData: 'keep' }".into(),
                }
                .into())
            }
        };
        engine::resolve_account_change(&self.inner.storage, &BrowserClock, choice)
            .await
            .map_err(ManagerError::from)?;
        self.inner.refresh_counts();
        self.inner.account_resolved();
        Ok(())
    }

    /// Stops syncing and closes the database: removes every listener, timer, lock and
    /// channel; pending `syncNow()` calls reject with `manager_closed`; no request is
    /// sent afterwards. Another tab takes over the loop.
    pub fn close(&self) {
        self.inner.close();
    }

    /// Testing only (cargo feature `test-hooks`, so never in the shipped package;
    /// hidden from the docs and the typings): panics inside a manager call, so that
    /// the e2e tests can check the panic hook. Refuses with
    /// `invalid_argument` unless `confirm` is exactly
    /// [`crate::testing::PANIC_CONFIRMATION`], so it cannot be reached by accident.
    #[cfg(feature = "test-hooks")]
    #[doc(hidden)]
    #[wasm_bindgen(js_name = __panicForTests, skip_typescript)]
    pub fn panic_for_tests(&self, confirm: JsValue) -> Result<(), JsValue> {
        check(&self.inner)?;
        if confirm.as_string().as_deref() != Some(crate::testing::PANIC_CONFIRMATION) {
            return Err(ManagerError::InvalidArgument {
                argument: "confirm",
                reason: "not the confirmation phrase".into(),
            }
            .into());
        }
        panic!("{}", crate::testing::PANIC_CONFIRMATION);
    }
}

/// Adopts the rows of synced tables that have no sync state, as the `adopt` option
/// says (core decides when: `AdoptMode::timing`). Returns whether to adopt after the
/// first complete pull instead (`'pull'` on a database that never pulled).
async fn adopt_at_open(
    storage: &crate::storage::IdbStorage,
    mode: AdoptMode,
) -> Result<bool, ManagerError> {
    let meta = storage.read_meta().await?;
    match mode.timing(meta.cursor.is_some()) {
        AdoptTiming::Never => Ok(false),
        AdoptTiming::AfterFirstPull => Ok(true),
        AdoptTiming::Now => {
            super::round::report_adoption(storage.adopt_unsynced().await?);
            Ok(false)
        }
    }
}
