//! Multi-tab leadership (invariant I7): one tab per database runs the sync loop. The
//! leader holds the Web Lock `idb-sync-leader:<dbName>` for as long as it lives; other
//! tabs wait for it in the background, so when the leader's tab closes (or it calls
//! `close()`), the next tab's request is granted and it takes over at once. Without
//! Web Locks (very old browsers) every tab leads.
//!
//! [`Relay`] is the manager's own `BroadcastChannel` (`idb-sync-loop:<dbName>`): the
//! leader broadcasts its status, followers ask it to `syncNow()` and poke it after a
//! conflict or dead-letter decision. (Local writes reach it through the change
//! events' channel.)

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use idb_sync_core::sync_loop::{StatusError, SyncNowResult, SyncStatus};
use js_sys::{Function, Object, Promise, Reflect};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, BroadcastChannel, MessageEvent};

#[derive(Default)]
struct LockState {
    release: RefCell<Option<Function>>,
    closed: Cell<bool>,
}

/// This tab's place in the election. Dropping it releases the lock or withdraws the
/// request.
pub(crate) struct Leadership {
    state: Rc<LockState>,
    abort: Option<AbortController>,
}

fn lock_manager() -> Option<JsValue> {
    let navigator = web_sys::window()?.navigator();
    let locks = Reflect::get(&navigator, &"locks".into()).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then_some(locks)
}

fn request(locks: &JsValue, name: &str, options: &Object, callback: &JsValue) -> Result<Promise, JsValue> {
    let request: Function = Reflect::get(locks, &"request".into())?.dyn_into()?;
    let promise: Promise = request.call3(locks, &name.into(), options, callback)?.dyn_into()?;
    // An aborted request rejects: that is expected, not an unhandled rejection.
    let catch: Function = Reflect::get(&promise, &"catch".into())?.dyn_into()?;
    catch.call1(&promise, &Closure::once_into_js(|_: JsValue| {}))?.dyn_into()
}

/// The callback `navigator.locks.request` calls with the lock: holds it until released.
fn holder(state: Rc<LockState>, granted: impl FnOnce(bool) + 'static) -> JsValue {
    Closure::once_into_js(move |lock: JsValue| -> JsValue {
        if lock.is_null() || state.closed.get() {
            granted(false);
            return JsValue::UNDEFINED;
        }
        let hold = Promise::new(&mut |resolve, _| {
            *state.release.borrow_mut() = Some(resolve);
        });
        granted(true);
        hold.into()
    })
}

impl Leadership {
    /// Joins the election for `db_name`. Resolves to this tab's leadership handle and
    /// whether it leads now; if not, `on_granted` is called when it takes over.
    pub(crate) async fn join(db_name: &str, on_granted: impl FnOnce() + 'static) -> (Leadership, bool) {
        let state = Rc::new(LockState::default());
        let Some(locks) = lock_manager() else {
            return (Leadership { state, abort: None }, true);
        };
        let name = format!("idb-sync-leader:{db_name}");
        // First: is the lock free right now? The callback runs at once either way
        // (with `null` when it is taken).
        let options = Object::new();
        let _ = Reflect::set(&options, &"ifAvailable".into(), &true.into());
        let mut decide = None;
        let decided = Promise::new(&mut |resolve, _| decide = Some(resolve));
        let Some(decide) = decide else {
            return (Leadership { state, abort: None }, true);
        };
        let first = holder(state.clone(), move |got| {
            let _ = decide.call1(&JsValue::UNDEFINED, &got.into());
        });
        if request(&locks, &name, &options, &first).is_err() {
            return (Leadership { state, abort: None }, true);
        }
        if JsFuture::from(decided).await.ok().and_then(|v| v.as_bool()).unwrap_or(false) {
            return (Leadership { state, abort: None }, true);
        }
        // Not free: wait for it in the background.
        let abort = AbortController::new().ok();
        let options = Object::new();
        if let Some(abort) = &abort {
            let _ = Reflect::set(&options, &"signal".into(), &abort.signal());
        }
        let callback = holder(state.clone(), move |got| {
            if got {
                on_granted();
            }
        });
        let _ = request(&locks, &name, &options, &callback);
        (Leadership { state, abort }, false)
    }

    /// Releases the lock (or withdraws the request).
    pub(crate) fn release(&self) {
        self.state.closed.set(true);
        if let Some(abort) = &self.abort {
            abort.abort();
        }
        if let Some(release) = self.state.release.borrow_mut().take() {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        self.release();
    }
}

/// A message between the tabs of one database.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub(crate) enum Message {
    /// The leader's status.
    Status {
        /// The status.
        status: SyncStatus,
    },
    /// A new tab asks the leader for its status.
    Hello,
    /// Something changed that the leader should sync soon.
    Poke,
    /// The app has new credentials (`refreshAuth()` in a follower).
    Reauth,
    /// A follower's `syncNow()`.
    SyncNow {
        /// The request's id.
        id: String,
    },
    /// The leader's answer to `SyncNow`.
    SyncNowDone {
        /// The request's id.
        id: String,
        /// The result, on success.
        result: Option<SyncNowResult>,
        /// The error, on failure.
        error: Option<StatusError>,
    },
}

/// The manager's channel to the other tabs; closed when dropped.
pub(crate) struct Relay {
    channel: BroadcastChannel,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl Relay {
    /// Opens the channel of `db_name`; `on_message` gets every message from other tabs.
    pub(crate) fn open(db_name: &str, mut on_message: impl FnMut(Message) + 'static) -> Option<Relay> {
        let channel = BroadcastChannel::new(&format!("idb-sync-loop:{db_name}")).ok()?;
        let closure = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(message) = event.data().as_string().and_then(|s| serde_json::from_str(&s).ok()) {
                on_message(message);
            }
        });
        channel.set_onmessage(Some(closure.as_ref().unchecked_ref()));
        Some(Relay { channel, _on_message: closure })
    }

    /// Sends `message` to the other tabs.
    pub(crate) fn post(&self, message: &Message) {
        if let Ok(json) = serde_json::to_string(message) {
            let _ = self.channel.post_message(&json.into());
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}
