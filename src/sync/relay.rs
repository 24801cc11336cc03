//! [`Relay`]: the manager's own `BroadcastChannel` (`idb-sync-loop:<dbName>`), which
//! carries the tabs' [`Message`]s as JSON (the leader's heartbeat and status,
//! followers' `syncNow()` calls and pokes). What to send and what a message means is
//! decided in core (`idb_sync_core::sync_loop::tabs`); local writes reach the leader
//! through the change events' channel instead.

use idb_sync_core::sync_loop::tabs::Message;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BroadcastChannel, MessageEvent};

/// The manager's channel to the other tabs; closed when dropped.
pub(crate) struct Relay {
    channel: BroadcastChannel,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl Relay {
    /// Opens the channel of `db_name`; `on_message` gets every message from other tabs.
    pub(crate) fn open(
        db_name: &str,
        mut on_message: impl FnMut(Message) + 'static,
    ) -> Option<Relay> {
        let channel = BroadcastChannel::new(&format!("idb-sync-loop:{db_name}")).ok()?;
        let closure = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(message) = event
                .data()
                .as_string()
                .and_then(|s| serde_json::from_str(&s).ok())
            {
                on_message(message);
            }
        });
        channel.set_onmessage(Some(closure.as_ref().unchecked_ref()));
        Some(Relay {
            channel,
            _on_message: closure,
        })
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
