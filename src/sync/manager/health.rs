//! `SyncManager`'s storage health method: `lostChanges()` (the status part is
//! `status.storage`; the rest is in `crate::sync::health`).

use wasm_bindgen::prelude::*;

use super::SyncManager;
use crate::interop;

#[wasm_bindgen]
impl SyncManager {
    /// The unsynced changes lost when the database was deleted behind the engine's
    /// back (`status.storage.evicted`), as `pendingChanges()` listed them:
    /// `{ table, key, op }[]`. Only what this tab knew, and only until it closes: after
    /// a reload with everything wiped nothing is known (docs/STORAGE.md).
    #[wasm_bindgen(js_name = lostChanges, unchecked_return_type = "LostChange[]")]
    pub fn lost_changes(&self) -> JsValue {
        interop::view(&*self.inner.health.lost.borrow())
    }
}
