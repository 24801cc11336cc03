//! `SyncManager`'s view of its outbox: `pendingChanges()`, `exportPendingChanges()`
//! and `onOutboxChange(listener)`. What an entry says, and when a listener reads
//! again, are core's (`idb_sync_core::outbox::entry`); this file reads the rows
//! (`crate::storage::IdbStorage::outbox_rows`), builds the app's objects by hand (as
//! `crate::storage::codec` does: no serde serializer per type in the package), the
//! export's text with `JSON.stringify`, and calls the listeners.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use idb_sync_core::outbox::entry::{outbox_entries, OutboxEntry, OutboxWatch};
use js_sys::{Array, Function, Object};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;

use super::{check, SyncManager};
use crate::args;
use crate::interop::export_async;
use crate::storage::codec;
use crate::storage::keys::from_record_key;
use crate::sync::error::ManagerError;
use crate::sync::inner::Inner;
use crate::value::set_field;

/// The outbox's entries (`export`: with each change's data).
async fn entries(inner: &Inner, export: bool) -> Result<Vec<OutboxEntry>, ManagerError> {
    let (in_flight, pending) = inner.storage.outbox_rows(export).await?;
    let status = inner.tabs.borrow().status().clone();
    Ok(outbox_entries(in_flight, pending, &status, export))
}

/// An object of `fields`, set in order.
fn object(fields: &[(&str, JsValue)]) -> Object {
    let out = Object::new();
    for (name, value) in fields {
        set_field(&out, name, value);
    }
    out
}

/// One entry as the app sees it (`export`: with its `change`, `null` if unreadable).
fn entry_js(e: &OutboxEntry, export: bool) -> JsValue {
    let error = e.last_error.as_ref().map_or(JsValue::NULL, |err| {
        object(&[
            ("code", err.code.as_str().into()),
            ("message", err.message.as_str().into()),
        ])
        .into()
    });
    let out = object(&[
        ("table", e.table.as_str().into()),
        ("key", from_record_key(&e.key)),
        ("op", e.op.into()),
        ("state", e.state.as_str().into()),
        ("since", (e.since as f64).into()),
        ("attempts", e.attempts.into()),
        ("lastError", error),
    ]);
    if export {
        let change = e.change.as_ref().map_or(JsValue::NULL, codec::op_to_js);
        set_field(&out, "change", &change);
    }
    out.into()
}

/// The entries as an array for the app.
fn entries_js(entries: &[OutboxEntry], export: bool) -> JsValue {
    let out = Array::new();
    for e in entries {
        out.push(&entry_js(e, export));
    }
    out.into()
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
        Ok(entries_js(&entries(&self.inner, false).await?, false))
    }

    async fn export_pending_changes(&self) -> Result<JsValue, JsValue> {
        check(&self.inner)?;
        self.inner.adoption_at_open().await;
        let changes = entries(&self.inner, true).await?;
        let export = object(&[
            ("database", self.inner.storage.name().into()),
            ("clientId", self.inner.client_id().into()),
            ("exportedAt", js_sys::Date::now().into()),
            ("changes", entries_js(&changes, true)),
        ]);
        // Plain objects, arrays, strings and finite numbers: this cannot throw.
        let json = js_sys::JSON::stringify(&export).unwrap_or_default();
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
                    .call1(&JsValue::UNDEFINED, &entries_js(&entries, false))
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
