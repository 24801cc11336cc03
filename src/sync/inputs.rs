//! The browser's inputs to the tab machine: each method gives [`Tabs`] one event of
//! the page, the other tabs, the election or the app (with the time and the browser
//! state it needs) and lets [`Inner::input`] carry out what it decides.

use std::rc::Rc;

use idb_sync_core::sync_loop::tabs::{Message, Now};
use js_sys::Function;
use wasm_bindgen::JsValue;

use super::clock::{monotonic_ms, now_ms};
use super::error::ManagerError;
use super::inner::Inner;
use super::triggers;

/// The time of an input.
pub(crate) fn now() -> Now {
    Now {
        wall_ms: now_ms(),
        mono_ms: monotonic_ms(),
    }
}

impl Inner {
    /// This tab now runs the loop.
    pub(crate) fn became_leader(self: &Rc<Self>) {
        self.input(|t| t.became_leader(triggers::browser()));
    }

    /// Another tab took the lead from this one (it was frozen or too slow).
    pub(crate) fn lost_leadership(self: &Rc<Self>) {
        self.input(|t| t.lost_leadership(now(), triggers::browser()));
    }

    /// Decides and acts: starts a round, arms the timer, or idles.
    pub(crate) fn pump(self: &Rc<Self>) {
        self.input(|t| t.pump(now_ms()));
    }

    /// A message from another tab.
    pub(crate) fn on_message(self: &Rc<Self>, message: Message) {
        self.input(|t| t.message(message, now()));
    }

    /// `syncNow()`: settles `resolve`/`reject` with the answer of the next round.
    pub(crate) fn sync_now(self: &Rc<Self>, resolve: Function, reject: Function) {
        if let Some(message) = super::panic::panicked() {
            let _ = reject.call1(&JsValue::UNDEFINED, &ManagerError::Panicked(message).into());
            return;
        }
        let waiter = self.promises.add(resolve, reject);
        self.input(|t| t.sync_now(waiter, triggers::is_online()));
    }

    /// A local write, in this tab or another (or a decision that queued something).
    pub(crate) fn local_write(self: &Rc<Self>) {
        self.input(|t| t.local_write(now_ms()));
    }

    /// A local write in this tab that moved the pending count by `pending_delta`.
    pub(crate) fn own_write(self: &Rc<Self>, pending_delta: i64) {
        self.input(|t| t.own_write(now_ms(), pending_delta));
    }

    /// Something this tab changed in the outbox outside the table API: tell the leader.
    pub(crate) fn poke(self: &Rc<Self>) {
        self.input(|t| t.poke(now_ms()));
    }

    /// The browser went online (`true`) or offline.
    pub(crate) fn set_online(self: &Rc<Self>, online: bool) {
        self.input(|t| t.set_online(online));
    }

    /// The page's visibility changed.
    pub(crate) fn visibility_changed(self: &Rc<Self>) {
        self.input(|t| t.set_visible(triggers::is_visible()));
    }

    /// The page is frozen (`true`) or resumed: see [`Tabs::set_frozen`].
    pub(crate) fn set_frozen(self: &Rc<Self>, frozen: bool) {
        self.input(|t| t.set_frozen(frozen));
    }

    /// `startAutoSync()` / `stopAutoSync()`.
    pub(crate) fn set_auto(self: &Rc<Self>, on: bool) {
        self.input(|t| t.set_auto(on));
    }

    /// The app decided what to do after `account_changed`: a round runs at once (in
    /// the leader tab, wherever this is called).
    pub(crate) fn account_resolved(self: &Rc<Self>) {
        let client_id = self.client_id();
        self.input(|t| t.account_resolved(&client_id));
    }

    /// New credentials: forget the cached token and end an auth block.
    pub(crate) fn credentials_changed(self: &Rc<Self>) {
        self.input(|t| t.credentials_changed());
    }
}
