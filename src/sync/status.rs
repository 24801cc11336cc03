//! The status subscribers of one manager (`subscribe(listener)`): who listens, and
//! telling them (and, from the leader, the other tabs) once per change of the status.
//! The status itself, and how rounds and messages change it, are in core
//! (`idb_sync_core::sync_loop`).

use std::cell::{Cell, RefCell};

use idb_sync_core::sync_loop::tabs::Message;
use idb_sync_core::sync_loop::{Published, SyncStatus};
use js_sys::Function;
use wasm_bindgen::JsValue;

use super::inner::Inner;

/// The status listeners, and the status they last heard.
#[derive(Default)]
pub(crate) struct Subscribers {
    listeners: RefCell<Vec<(u32, Function)>>,
    next: Cell<u32>,
    published: RefCell<Published>,
}

impl Subscribers {
    /// Adds a listener; returns its id.
    pub(crate) fn subscribe(&self, f: Function) -> u32 {
        let id = self.next.get() + 1;
        self.next.set(id);
        self.listeners.borrow_mut().push((id, f));
        id
    }

    /// Removes listener `id`.
    pub(crate) fn unsubscribe(&self, id: u32) {
        self.listeners.borrow_mut().retain(|(i, _)| *i != id);
    }

    /// Removes every listener (`close()`).
    pub(crate) fn clear(&self) {
        self.listeners.borrow_mut().clear();
    }

    /// Whether `status` differs from the one last published (which it now is:
    /// core's [`Published`]).
    pub(crate) fn changed(&self, status: &SyncStatus) -> bool {
        match self.published.try_borrow_mut() {
            Ok(mut published) => published.changed(status),
            Err(_) => false,
        }
    }

    /// Calls every listener with `status`; a listener that throws is logged.
    pub(crate) fn tell(&self, status: &SyncStatus) {
        let listeners: Vec<Function> = match self.listeners.try_borrow() {
            Ok(l) => l.iter().map(|(_, f)| f.clone()).collect(),
            Err(_) => return,
        };
        if listeners.is_empty() {
            return;
        }
        let js = crate::interop::view(status);
        for f in listeners {
            if let Err(e) = f.call1(&JsValue::UNDEFINED, &js) {
                web_sys::console::error_2(&"idb-sync: a status subscriber threw".into(), &e);
            }
        }
    }
}

impl Inner {
    /// Tells subscribers (and, from the leader, the other tabs) about a changed status.
    pub(crate) fn publish(&self) {
        let Ok(tabs) = self.tabs.try_borrow() else {
            return;
        };
        let (status, leader) = (tabs.status().clone(), tabs.is_leader());
        drop(tabs);
        if !self.subscribers.changed(&status) {
            return;
        }
        if leader {
            self.post(&Message::Status {
                status: status.clone(),
            });
        }
        self.subscribers.tell(&status);
    }
}
