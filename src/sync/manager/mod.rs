//! `SyncManager`: the class apps import, a thin wrapper over [`Inner`] (the executor
//! of the core's tab machine, `super::inner`). One `#[wasm_bindgen] impl` per concern:
//!
//! - this file: the class, its identity (`name`, `clientId`, `isLeader`), `syncNow()`
//!   and its seed-compatible names, auto sync, status and `subscribe`, `refreshAuth`,
//!   `close`, and the guards every method shares;
//! - [`open`]: `SyncManager.open`; [`records`]: `table`, `onChange`, `create`,
//!   `update`, `delete`; [`conflicts`]: manual conflicts and the conflict log;
//!   [`dead_letters`]: dead letters; [`account`]: `resolveAccountChange`; [`outbox`]:
//!   `pendingChanges`, `exportPendingChanges`, `onOutboxChange`; [`health`]:
//!   `lostChanges`.

mod account;
mod conflicts;
mod dead_letters;
mod health;
mod open;
mod outbox;
mod records;

use std::rc::Rc;

use idb_sync_core::RecordId;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use super::counts;
use super::error::ManagerError;
use super::inner::Inner;
use super::panic::panicked;
use crate::args;
use crate::interop::{self, export_async};
use crate::storage::keys::to_record_key;
use crate::table::Table;

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
#[derive(Clone)]
pub struct SyncManager {
    inner: Rc<Inner>,
}

/// Rejects a call after a panic (`panicked`) or `close()` (`manager_closed`).
fn check(inner: &Inner) -> Result<(), ManagerError> {
    if let Some(message) = panicked() {
        return Err(ManagerError::Panicked(message));
    }
    if inner.closed.get() {
        return Err(ManagerError::Closed);
    }
    Ok(())
}

/// The record `key` of `table` (`invalid_argument` for a bad key).
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

/// The table named by the argument `table` (`invalid_argument`, `unknown_table`).
fn table_arg(inner: &Inner, table: &JsValue) -> Result<Table, ManagerError> {
    Ok(inner.db.table_named(args::string(table, "table")?)?)
}

export_async!(SyncManager {
    /// The number of local changes not yet acknowledged by the server.
    "getPendingCount" as get_pending_count_js => get_pending_count() -> "Promise<number>";
});

impl SyncManager {
    /// JS `getPendingCount` (see [`export_async!`] above).
    async fn get_pending_count(&self) -> Result<u32, JsValue> {
        check(&self.inner)?;
        // A count asked right after `open` includes the rows its scan queues.
        self.inner.adoption_at_open().await;
        let c = counts::read(&self.inner.storage).await?;
        Ok(c.counts.unacknowledged() as u32)
    }
}

#[wasm_bindgen]
impl SyncManager {
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
