//! `syncNow()` answers: this tab's pending promises ([`Promises`], by the waiter id
//! the tab machine knows them by), and how the machine's answer becomes what
//! JavaScript sees (a result, or a `SyncError`) or what another tab is sent (a
//! [`StatusError`] in `SyncNowDone`).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use idb_sync_core::sync_loop::tabs::{Answer, Rejection, WaiterId};
use idb_sync_core::sync_loop::{StatusError, SyncNowResult};
use js_sys::Function;
use wasm_bindgen::JsValue;

use super::error::js_error;
use crate::interop::view;

/// This tab's `syncNow()` promises waiting for an answer.
#[derive(Default)]
pub(crate) struct Promises {
    pending: RefCell<HashMap<WaiterId, (Function, Function)>>,
    next: Cell<WaiterId>,
}

impl Promises {
    /// Keeps a promise's `resolve` and `reject`; returns its waiter id.
    pub(crate) fn add(&self, resolve: Function, reject: Function) -> WaiterId {
        let id = self.next.get() + 1;
        self.next.set(id);
        self.pending.borrow_mut().insert(id, (resolve, reject));
        id
    }

    /// Settles promise `waiter` with `answer` (nothing if it was settled already).
    pub(crate) fn settle(&self, waiter: WaiterId, answer: Answer) {
        let Some((resolve, reject)) = self.pending.borrow_mut().remove(&waiter) else {
            return;
        };
        let _ = match answer {
            Ok(result) => resolve.call1(&JsValue::UNDEFINED, &view(&result)),
            Err(rejection) => reject.call1(&JsValue::UNDEFINED, &rejection_js(&rejection)),
        };
    }
}

/// A refusal as the `SyncError` it rejects with (code and message chosen in core:
/// [`Rejection::status_error`]), with the server's code when the server answered.
fn rejection_js(rejection: &Rejection) -> JsValue {
    let e = rejection.status_error();
    let js = js_error(&e.code, &e.message, None);
    if let Some(code) = &e.server_code {
        crate::error::set(&js, "serverCode", &code.into());
    }
    js
}

/// An answer as it travels to another tab (`SyncNowDone`'s result and error).
pub(crate) fn relayed(answer: Answer) -> (Option<SyncNowResult>, Option<StatusError>) {
    match answer {
        Ok(result) => (Some(result), None),
        Err(rejection) => (None, Some(rejection.status_error())),
    }
}
