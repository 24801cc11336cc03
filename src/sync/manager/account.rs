//! `SyncManager.resolveAccountChange`: the app's decision after `account_changed`
//! (clear or keep this device's data). The rule is in core
//! (`idb_sync_core::engine::resolve_account_change`).

use idb_sync_core::engine;
use wasm_bindgen::prelude::*;

use super::{check, SyncManager};
use crate::interop::export_async;
use crate::sync::clock::BrowserClock;
use crate::sync::error::ManagerError;

export_async!(SyncManager {
    /// Decides what happens to this database's data after sync failed with
    /// `account_changed` (another user signed in than the one whose data it holds).
    /// `{ localData: 'clear' }` deletes the synced tables' records, the outbox,
    /// conflicts and dead letters: a fresh start for the new account.
    /// `{ localData: 'keep' }` keeps the records locally and moves every unsynced
    /// change to the dead letters (code `account_changed`): nothing is pushed into the
    /// new account unless the app retries it. Either way the new account's data is
    /// then pulled from scratch. Rejects with `invalid_argument` for anything else.
    ///
    /// ```ts
    /// sync.subscribe(async (s) => {
    ///   if (s.error?.code === 'account_changed') await sync.resolveAccountChange({ localData: 'clear' });
    /// });
    /// ```
    "resolveAccountChange" as resolve_account_change_js =>
        resolve_account_change(decision: "{ localData: 'clear' | 'keep' }") -> "Promise<void>";
});

/// The methods behind the JS ones of [`export_async!`] above (documented there).
impl SyncManager {
    async fn resolve_account_change(&self, decision: JsValue) -> Result<(), JsValue> {
        check(&self.inner)?;
        let local_data = if decision.is_object() {
            js_sys::Reflect::get(&decision, &"localData".into())
                .ok()
                .and_then(|v| v.as_string())
        } else {
            None
        };
        let Some(choice) = local_data
            .as_deref()
            .and_then(engine::LocalDataChoice::named)
        else {
            return Err(ManagerError::InvalidArgument {
                argument: "decision",
                reason: "expected { localData: 'clear' } or { localData: 'keep' }".into(),
            }
            .into());
        };
        engine::resolve_account_change(&self.inner.storage, &BrowserClock, choice)
            .await
            .map_err(ManagerError::from)?;
        self.inner.refresh_counts();
        self.inner.account_resolved();
        Ok(())
    }
}
