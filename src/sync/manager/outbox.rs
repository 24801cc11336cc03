//! `SyncManager`'s view of its outbox: `pendingChanges()`, `exportPendingChanges()`
//! and `onOutboxChange(listener)`. What an entry says, and when a listener reads
//! again, are core's (`idb_sync_core::outbox::entry`); this file reads the rows
//! (`crate::storage::IdbStorage::outbox_rows`) and calls the listeners.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use idb_sync_core::outbox::entry::{outbox_entries, OutboxEntry, OutboxExport, OutboxWatch};
use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;

use super::{check, SyncManager};
use crate::args;
use crate::interop::{self, export_async};
use crate::sync::error::ManagerError;
use crate::sync::inner::Inner;

/// The outbox's entries (`export`: with each change's data).
async fn entries(inner: &Inner, export: bool) -> Result<Vec<OutboxEntry>, ManagerError> {
    let (in_flight, pending) = inner.storage.outbox_rows(export).await?;
    let status = inner.tabs.borrow().status().clone();
    Ok(outbox_entries(in_flight, pending, &status, export))
}

export_async!(SyncManager {
    /// The local changes not on the server yet, in the order they will reach it:
    /// `{ table, key, op, state: 'pending' | 'inFlight', since, attempts, lastError }`.
    "pendingChanges" as pending_changes_js => pending_changes() -> "Promise<OutboxEntry[]>";
    /// The same with each change's data, as a JSON string (for support).
    "exportPendingChanges" as export_pending_changes_js =>
        export_pending_changes() -> "Promise<string>";
});

/// The methods behind the JS ones of [`export_async!`] above (documented there).
impl SyncManager {
    async fn pending_changes(&self) -> Result<JsValue, JsValue> {
        check(&self.inner)?;
        self.inner.adoption_at_open().await;
        Ok(interop::view(&entries(&self.inner, false).await?))
    }

    async fn export_pending_changes(&self) -> Result<JsValue, JsValue> {
        check(&self.inner)?;
        self.inner.adoption_at_open().await;
        let changes = entries(&self.inner, true).await?;
        let client_id = self.inner.client_id();
        let now = js_sys::Date::now() as u64;
        let export = OutboxExport::new(self.inner.storage.name(), &client_id, now, &changes);
        let json = serde_json::to_string(&export)
            .map_err(|e| ManagerError::from(crate::error::SyncError::Storage(e.to_string())))?;
        Ok(json.into())
    }
}

/// One `onOutboxChange` listener and its reads.
struct Watch {
    inner: Weak<Inner>,
    state: RefCell<OutboxWatch>,
    listener: Function,
}

impl Watch {
    /// The outbox may have changed (`status`: a new status, else a change event).
    fn touch(self: &Rc<Self>, status: bool) {
        let Some(inner) = self.inner.upgrade() else {
            return;
        };
        let start = if status {
            let s = inner.tabs.borrow().status().clone();
            self.state.borrow_mut().status(&s)
        } else {
            self.state.borrow_mut().touched()
        };
        if start {
            spawn_local(self.clone().read());
        }
    }

    /// Reads the entries (again while changes came during the read) and tells the
    /// listener the ones that differ from what it heard last.
    async fn read(self: Rc<Self>) {
        loop {
            let Some(inner) = self.inner.upgrade() else {
                return;
            };
            let read = match check(&inner) {
                Ok(()) => entries(&inner, false).await.ok(),
                Err(_) => None,
            };
            drop(inner);
            let (tell, again) = self.state.borrow_mut().read(read);
            if let Some(entries) = tell {
                if let Err(e) = self
                    .listener
                    .call1(&JsValue::UNDEFINED, &interop::view(&entries))
                {
                    web_sys::console::error_2(&"idb-sync: an outbox listener threw".into(), &e);
                }
            }
            if !again {
                return;
            }
        }
    }
}

#[wasm_bindgen]
impl SyncManager {
    /// Calls `listener(entries)` with `pendingChanges()` at once and whenever it
    /// changes (a write in any tab, a round); returns a function that removes it.
    #[wasm_bindgen(js_name = onOutboxChange, unchecked_return_type = "() => void")]
    pub fn on_outbox_change(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(entries: OutboxEntry[]) => void")]
        listener: JsValue,
    ) -> Result<Function, JsValue> {
        check(&self.inner)?;
        let listener = args::function(&listener, "listener").map_err(ManagerError::from)?;
        let watch = Rc::new(Watch {
            inner: Rc::downgrade(&self.inner),
            state: RefCell::default(),
            listener,
        });
        let on = |status: bool| -> Function {
            let w = watch.clone();
            Closure::<dyn Fn()>::new(move || w.touch(status))
                .into_js_value()
                .unchecked_into()
        };
        let status_id = self.inner.subscribers.subscribe(on(true));
        let off_changes = self.inner.db.listen("*", &on(false).into())?;
        watch.touch(false);
        let inner = Rc::downgrade(&self.inner);
        Ok(Closure::once_into_js(move || {
            if let Some(inner) = inner.upgrade() {
                inner.subscribers.unsubscribe(status_id);
            }
            let _ = off_changes.call0(&JsValue::UNDEFINED);
        })
        .unchecked_into())
    }
}
