//! Change events: `{ table, keys, source }` after every commit, to listeners in this
//! tab and — through a `BroadcastChannel` named `idb-sync:<dbName>` — in every other
//! tab of the origin. Listeners are called after every borrow is released; one that
//! throws is logged, not propagated.
//!
//! Dexie's `liveQuery` hears our writes too: each local change is also announced the
//! way Dexie announces its own (`storagemutated`: a DOM `x-storagemutated-1` event in
//! this tab and a message on the `x-storagemutated-1` channel for other tabs), marking
//! the whole table as changed.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BroadcastChannel, MessageEvent};

use crate::error::SyncError;

/// Who made a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// The app, through the table API.
    Local,
    /// The sync engine, from the server.
    Remote,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Local => "local",
            Source::Remote => "remote",
        }
    }
}

const DEXIE_CHANNEL: &str = "x-storagemutated-1";

struct Listener {
    id: u32,
    table: String,
    callback: Function,
}

#[derive(Default)]
struct Listeners {
    list: RefCell<Vec<Listener>>,
    next_id: Cell<u32>,
}

impl Listeners {
    fn deliver(&self, event: &JsValue) {
        let table = Reflect::get(event, &"table".into())
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default();
        // Clone the matching callbacks out first: a listener may subscribe/unsubscribe.
        let callbacks: Vec<Function> = self
            .list
            .borrow()
            .iter()
            .filter(|l| l.table == table || l.table == "*")
            .map(|l| l.callback.clone())
            .collect();
        for cb in callbacks {
            if let Err(e) = cb.call1(&JsValue::NULL, event) {
                web_sys::console::error_2(&"idb-sync: a change listener threw".into(), &e);
            }
        }
    }
}

/// The change listeners of one database, and its channels to other tabs.
pub(crate) struct Events {
    db_name: String,
    listeners: Rc<Listeners>,
    channel: Option<BroadcastChannel>,
    dexie_channel: Option<BroadcastChannel>,
    _on_message: Option<Closure<dyn FnMut(MessageEvent)>>,
    /// Index names per table, for Dexie's change notification.
    dexie_parts: RefCell<Vec<(String, Vec<String>)>>,
}

impl Events {
    pub(crate) fn new(db_name: &str) -> Result<Events, SyncError> {
        let listeners = Rc::new(Listeners::default());
        let channel = BroadcastChannel::new(&format!("idb-sync:{db_name}")).ok();
        let on_message = channel.as_ref().map(|c| {
            let listeners = listeners.clone();
            let closure = Closure::<dyn FnMut(MessageEvent)>::new(move |m: MessageEvent| {
                listeners.deliver(&m.data())
            });
            c.set_onmessage(Some(closure.as_ref().unchecked_ref()));
            closure
        });
        Ok(Events {
            db_name: db_name.to_owned(),
            listeners,
            channel,
            dexie_channel: BroadcastChannel::new(DEXIE_CHANNEL).ok(),
            _on_message: on_message,
            dexie_parts: RefCell::default(),
        })
    }

    /// Declares a table's index names (for Dexie's change notification).
    pub(crate) fn set_dexie_tables(&self, tables: Vec<(String, Vec<String>)>) {
        *self.dexie_parts.borrow_mut() = tables;
    }

    /// Adds a listener for `table` (`"*"`: every table); returns its id.
    pub(crate) fn subscribe(&self, table: &str, callback: Function) -> u32 {
        let id = self.listeners.next_id.get() + 1;
        self.listeners.next_id.set(id);
        self.listeners.list.borrow_mut().push(Listener {
            id,
            table: table.to_owned(),
            callback,
        });
        id
    }

    /// Removes a listener.
    pub(crate) fn unsubscribe(&self, id: u32) {
        self.listeners.list.borrow_mut().retain(|l| l.id != id);
    }

    /// A function that removes listener `id` (what `onChange` returns to JS).
    pub(crate) fn unsubscriber(self: &Rc<Self>, id: u32) -> Function {
        let weak = Rc::downgrade(self);
        Closure::once_into_js(move || {
            if let Some(events) = weak.upgrade() {
                events.unsubscribe(id);
            }
        })
        .unchecked_into()
    }

    /// Announces a committed change here and in other tabs.
    pub(crate) fn emit(&self, table: &str, keys: &[JsValue], source: Source) {
        let event = Object::new();
        let _ = Reflect::set(&event, &"table".into(), &table.into());
        let _ = Reflect::set(&event, &"keys".into(), &keys.iter().collect::<Array>());
        let _ = Reflect::set(&event, &"source".into(), &source.as_str().into());
        if let Some(c) = &self.channel {
            let _ = c.post_message(&event);
        }
        self.notify_dexie(table);
        self.listeners.deliver(&event);
    }

    /// Tells Dexie (`liveQuery`, in this tab and others) that `table` changed.
    fn notify_dexie(&self, table: &str) {
        let everything = || {
            let range = Object::new();
            let _ = Reflect::set(&range, &"d".into(), &1.into());
            let _ = Reflect::set(&range, &"from".into(), &(-f64::INFINITY).into());
            let _ = Reflect::set(
                &range,
                &"to".into(),
                &Array::of1(&Array::of1(&Array::new())),
            );
            range
        };
        let parts = Object::new();
        let prefix = format!("idb://{}/{}/", self.db_name, table);
        let _ = Reflect::set(&parts, &prefix.clone().into(), &everything());
        let _ = Reflect::set(&parts, &format!("{prefix}:dels").into(), &everything());
        if let Some((_, indexes)) = self.dexie_parts.borrow().iter().find(|(t, _)| t == table) {
            for index in indexes {
                let _ = Reflect::set(&parts, &format!("{prefix}{index}").into(), &everything());
            }
        }
        if let Some(c) = &self.dexie_channel {
            let _ = c.post_message(&parts);
        }
        let global = js_sys::global();
        if let Ok(dispatch) = Reflect::get(&global, &"dispatchEvent".into()) {
            if let Ok(dispatch) = dispatch.dyn_into::<Function>() {
                let init = web_sys::CustomEventInit::new();
                init.set_detail(&parts);
                if let Ok(event) =
                    web_sys::CustomEvent::new_with_event_init_dict(DEXIE_CHANNEL, &init)
                {
                    let _ = dispatch.call1(&global, &event);
                }
            }
        }
    }

    /// Stops listening to other tabs.
    pub(crate) fn close(&self) {
        if let Some(c) = &self.channel {
            c.set_onmessage(None);
            c.close();
        }
        if let Some(c) = &self.dexie_channel {
            c.close();
        }
    }
}
