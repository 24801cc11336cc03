//! `SyncManager`'s dead-letter methods: the changes the server rejected
//! (`deadLetters`), `retryDeadLetter` and `discardDeadLetter`. The rules are in core
//! (`idb_sync_core::engine`).

use idb_sync_core::engine;
use idb_sync_core::ports::Storage;
use js_sys::Array;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::conflicts::key_json;
use super::{check, SyncManager};
use crate::args;
use crate::interop::{self, export_async};
use crate::sync::clock::BrowserClock;
use crate::sync::error::ManagerError;
use crate::value;

/// A dead letter, as the app sees it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeadLetterView {
    id: u64,
    table: String,
    key: serde_json::Value,
    code: String,
    reason: String,
    at: u64,
}

export_async!(SyncManager {
    /// Changes the server rejected, kept for the app: retry or discard them.
    "deadLetters" as dead_letters_js => dead_letters() -> "Promise<DeadLetter[]>";
    /// Queues a dead letter's change again.
    "retryDeadLetter" as retry_dead_letter_js => retry_dead_letter(id: "number") -> "Promise<void>";
    /// Drops a dead letter for good.
    "discardDeadLetter" as discard_dead_letter_js =>
        discard_dead_letter(id: "number") -> "Promise<void>";
});

/// The methods behind the JS ones of [`export_async!`] above (documented there).
impl SyncManager {
    async fn dead_letters(&self) -> Result<Array, JsValue> {
        check(&self.inner)?;
        let letters = self
            .inner
            .storage
            .dead_letters()
            .await
            .map_err(ManagerError::from)?;
        Ok(letters
            .into_iter()
            .map(|l| {
                let view = interop::view(&DeadLetterView {
                    id: l.id,
                    table: l.record.table.clone(),
                    key: key_json(&l.record),
                    code: l.code,
                    reason: l.reason,
                    at: l.at_ms,
                });
                interop::set(&view, &"op".into(), &value::op_to_js(&l.op));
                view
            })
            .collect())
    }

    async fn retry_dead_letter(&self, id: JsValue) -> Result<(), JsValue> {
        check(&self.inner)?;
        let id = args::id(&id, "id")?;
        let letters = self
            .inner
            .storage
            .dead_letters()
            .await
            .map_err(ManagerError::from)?;
        let letter = letters.into_iter().find(|l| l.id == id).ok_or_else(|| {
            ManagerError::Core(idb_sync_core::SyncError::NotFound(format!(
                "dead letter {id}"
            )))
        })?;
        engine::retry_dead_letter(&self.inner.storage, &BrowserClock, &letter)
            .await
            .map_err(ManagerError::from)?;
        self.inner.poke();
        Ok(())
    }

    async fn discard_dead_letter(&self, id: JsValue) -> Result<(), JsValue> {
        check(&self.inner)?;
        let id = args::id(&id, "id")?;
        engine::discard_dead_letter(&self.inner.storage, id)
            .await
            .map_err(ManagerError::from)?;
        self.inner.poke();
        Ok(())
    }
}
