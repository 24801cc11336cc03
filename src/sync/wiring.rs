//! [`Wiring`]: what connects a manager to the browser — `online`/`offline` on
//! `globalThis`, the page's `visibilitychange`/`freeze`/`resume` on `document` and
//! `pagehide` when there is one (a worker has none; hiding sends the keepalive push,
//! `after_close.rs`), the tabs' channel ([`Relay`]) and the storage's
//! change events (local writes, in this tab or another). Every part is a handle that
//! lets go on drop: dropping the wiring (at `close()`) leaves no listener behind.

use std::rc::{Rc, Weak};

use gloo_events::EventListener;
use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::inner::Inner;
use super::relay::Relay;
use super::triggers::globals;
use crate::storage::IdbStorage;

/// The change-event subscription: removed from the storage's events on drop.
struct Changes {
    storage: IdbStorage,
    id: u32,
    _callback: Closure<dyn FnMut(JsValue)>,
}

impl Drop for Changes {
    fn drop(&mut self) {
        self.storage.events().unsubscribe(self.id);
    }
}

/// A manager's listeners and channel (see the module docs).
pub(crate) struct Wiring {
    _dom: Vec<EventListener>,
    relay: Option<Relay>,
    _changes: Changes,
}

/// Runs `f` on the manager if it is still alive.
pub(crate) fn with(weak: &Weak<Inner>, f: impl FnOnce(&Rc<Inner>)) {
    if let Some(inner) = weak.upgrade() {
        f(&inner);
    }
}

/// A listener for `event` on `target` that calls `f` on the manager.
fn listen(
    target: &web_sys::EventTarget,
    event: &'static str,
    inner: &Rc<Inner>,
    f: fn(&Rc<Inner>),
) -> EventListener {
    let weak = Rc::downgrade(inner);
    EventListener::new(target, event, move |_| with(&weak, f))
}

impl Wiring {
    /// Listens to the browser and the other tabs for `inner`.
    pub(crate) fn new(inner: &Rc<Inner>) -> Wiring {
        let global: web_sys::EventTarget = globals().unchecked_into();
        let mut dom = vec![
            listen(&global, "online", inner, |i| i.set_online(true)),
            listen(&global, "offline", inner, |i| i.set_online(false)),
        ];
        if let Some(document) = globals().document() {
            dom.push(listen(&document, "visibilitychange", inner, |i| {
                i.visibility_changed();
                if !super::triggers::is_visible() {
                    i.keepalive_hide(); // it may be discarded without `pagehide`
                }
            }));
            dom.push(listen(&global, "pagehide", inner, |i| i.keepalive_hide()));
            dom.push(listen(&document, "freeze", inner, |i| i.set_frozen(true)));
            dom.push(listen(&document, "resume", inner, |i| i.set_frozen(false)));
        }
        let weak = Rc::downgrade(inner);
        let relay = Relay::open(inner.storage.name(), move |message| {
            with(&weak, |i| i.on_message(message))
        });
        let weak = Rc::downgrade(inner);
        let on_change = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            let source = js_sys::Reflect::get(&event, &"source".into())
                .ok()
                .and_then(|s| s.as_string());
            if source.as_deref() == Some("local") {
                with(&weak, |i| {
                    match i.storage.own_write_delta() {
                        // This tab's write: it says how the pending count moved.
                        Some(delta) => i.own_write(delta),
                        None => i.local_write(),
                    }
                    i.keepalive_touched();
                });
            }
        });
        let storage = inner.storage.clone();
        let id = storage
            .events()
            .subscribe("*", on_change.as_ref().unchecked_ref::<Function>().clone());
        Wiring {
            _dom: dom,
            relay,
            _changes: Changes {
                storage,
                id,
                _callback: on_change,
            },
        }
    }

    /// The tabs' channel (none when `BroadcastChannel` is missing).
    pub(crate) fn relay(&self) -> Option<&Relay> {
        self.relay.as_ref()
    }
}
