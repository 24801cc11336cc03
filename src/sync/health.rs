//! Storage health in the browser (`status.storage`; the rules are core's,
//! `idb_sync_core::sync_loop::storage`): `navigator.storage` (`persist()` at open with
//! `persistStorage`, `persisted()` and `estimate()` when the tab machine asks), what
//! the storage tells of its writes and of a database opened again after a deletion
//! ([`crate::storage::Health`]), and the outbox entries kept in memory for the report
//! of what an eviction took (`lostChanges()`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use idb_sync_core::sync_loop::{was_evicted, KnownChanges, LostChange};
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};

use super::inner::Inner;
use crate::storage::Health;

/// The outbox entries known in memory, and what evictions took.
#[derive(Default)]
pub(crate) struct StorageWatch {
    known: Rc<RefCell<KnownChanges>>,
    /// A read of the entries runs.
    reading: Rc<Cell<bool>>,
    /// The changes lost with evicted databases (`lostChanges()`).
    pub(crate) lost: RefCell<Vec<LostChange>>,
}

/// `navigator.storage`, where there is one (pages and workers).
fn storage_manager() -> Option<JsValue> {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
    Reflect::get(&navigator, &"storage".into())
        .ok()
        .filter(|s| s.is_object())
}

/// Calls `navigator.storage[name]()` (`None`: missing or failed).
fn invoke(name: &str) -> Option<JsValue> {
    let storage = storage_manager()?;
    let f: Function = Reflect::get(&storage, &name.into()).ok()?.dyn_into().ok()?;
    f.call0(&storage).ok()
}

/// Calls `navigator.storage[name]()` and awaits its promise.
async fn call(name: &str) -> Option<JsValue> {
    let promise: Promise = invoke(name)?.dyn_into().ok()?;
    JsFuture::from(promise).await.ok()
}

/// `persistStorage: true`: asks the browser to keep this origin's storage (it may say
/// no; `status.storage.persisted` tells). Its promise is not awaited.
pub(crate) fn ask_persist() {
    invoke("persist");
}

impl Inner {
    /// Listens to the storage's health (called once, after open).
    pub(crate) fn watch_storage(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        self.storage.watch(Box::new(move |health| {
            if let Some(inner) = weak.upgrade() {
                inner.on_health(health);
            }
        }));
    }

    fn on_health(self: &Rc<Self>, health: Health) {
        match health {
            Health::Wrote(table, queued) => {
                self.health.known.borrow_mut().wrote(table, queued);
                self.input(|t| t.write_succeeded());
            }
            Health::WriteFailed(e) => {
                let (code, message) = (e.code(), e.to_string());
                self.input(|t| t.write_failed(code, message));
            }
            Health::Reopened { client_id, created } => {
                let evicted = was_evicted(&self.client_id(), created, &client_id);
                self.saw_client_id(Some(client_id));
                if !evicted {
                    self.refresh_counts();
                    return;
                }
                let lost = self.health.known.borrow_mut().take();
                let n = lost.len();
                self.health.lost.borrow_mut().extend(lost);
                self.input(|t| t.storage_evicted(n));
            }
        }
    }

    /// A count read from storage says the outbox holds `unacknowledged` entries: reads
    /// them into memory when that is not what is known (`KnownChanges::counted`), one
    /// read at a time.
    pub(crate) fn check_known(&self, unacknowledged: usize) {
        let StorageWatch { known, reading, .. } = &self.health;
        if reading.get() || !known.borrow_mut().counted(unacknowledged) {
            return;
        }
        reading.set(true);
        let (known, reading, storage) = (known.clone(), reading.clone(), self.storage.clone());
        spawn_local(async move {
            if let Ok((in_flight, pending)) = storage.outbox_rows(false).await {
                let pending = pending.into_iter().map(|(id, p)| (id, p.kind)).collect();
                known.borrow_mut().read(in_flight, pending);
            }
            reading.set(false);
        });
    }

    /// [`idb_sync_core::sync_loop::tabs::Effect::EstimateStorage`]: reads
    /// `navigator.storage.persisted()` and `estimate()` into the status.
    pub(crate) fn estimate_storage(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        spawn_local(async move {
            let persisted = call("persisted").await.and_then(|v| v.as_bool());
            let estimate = call("estimate").await;
            let number = |field: &str| {
                let v = Reflect::get(estimate.as_ref()?, &field.into()).ok()?;
                v.as_f64().map(|n| n as u64)
            };
            let (usage, quota) = (number("usage"), number("quota"));
            if let Some(inner) = weak.upgrade() {
                inner.input(|t| t.storage_estimated(persisted, usage, quota));
            }
        });
    }
}
