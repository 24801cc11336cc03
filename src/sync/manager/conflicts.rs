//! `SyncManager`'s conflict methods: the open manual conflicts (`conflicts`),
//! `resolveConflict` and the log of automatic resolutions (`conflictLog`), as the
//! app sees them (records with their Dates). The rules are in core
//! (`idb_sync_core::conflict`, `engine::resolve_conflict`).

use idb_sync_core::conflict::ManualChoice;
use idb_sync_core::engine;
use idb_sync_core::ports::Storage;
use idb_sync_core::RecordId;
use js_sys::Array;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::{check, record_id, table_arg, SyncManager};
use crate::interop::{self, export_async};
use crate::sync::clock::BrowserClock;
use crate::sync::error::ManagerError;
use crate::value;

/// A manual conflict, as the app sees it (`local` and `remote` are set on it as
/// JavaScript records, with their Dates).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConflictView {
    table: String,
    key: serde_json::Value,
    remote_version: u64,
    at: u64,
}

/// A record id's key as JSON (`null` if it cannot be).
pub(super) fn key_json(id: &RecordId) -> serde_json::Value {
    serde_json::to_value(&id.key).unwrap_or(serde_json::Value::Null)
}

export_async!(SyncManager {
    /// Open manual conflicts (policy `manual`).
    "conflicts" as conflicts_js => conflicts() -> "Promise<Conflict[]>";
    /// Resolves a manual conflict: `'local'` (keep this device's version), `'server'`
    /// (keep the server's), or `{ merged: record | null }`.
    "resolveConflict" as resolve_conflict_js =>
        resolve_conflict(table: "string", key, resolution: "ConflictResolution") -> "Promise<void>";
    /// The log of automatic conflict resolutions, oldest first.
    "conflictLog" as conflict_log_js => conflict_log() -> "Promise<ConflictLogEntry[]>";
});

/// The methods behind the JS ones of [`export_async!`] above (documented there).
impl SyncManager {
    async fn conflicts(&self) -> Result<Array, JsValue> {
        check(&self.inner)?;
        let storage = &self.inner.storage;
        let out = Array::new();
        for id in storage.conflict_keys().await.map_err(ManagerError::from)? {
            let state = storage.read_state(&id).await.map_err(ManagerError::from)?;
            if let Some(c) = state.conflict {
                let view = interop::view(&ConflictView {
                    table: id.table.clone(),
                    key: key_json(&id),
                    remote_version: c.remote_version,
                    at: c.at_ms,
                });
                interop::set(
                    &view,
                    &"local".into(),
                    &value::optional_record_to_js(c.local.as_ref()),
                );
                interop::set(
                    &view,
                    &"remote".into(),
                    &value::optional_record_to_js(c.remote.as_ref()),
                );
                out.push(&view);
            }
        }
        Ok(out)
    }

    async fn resolve_conflict(
        &self,
        table: JsValue,
        key: JsValue,
        resolution: JsValue,
    ) -> Result<(), JsValue> {
        check(&self.inner)?;
        let table = table_arg(&self.inner, &table)?.name();
        let id = record_id(&table, &key)?;
        let named = resolution
            .as_string()
            .as_deref()
            .and_then(ManualChoice::named);
        let choice = match named {
            Some(choice) => choice,
            None if resolution.is_object() => {
                let merged = js_sys::Reflect::get(&resolution, &"merged".into())
                    .unwrap_or(JsValue::UNDEFINED);
                if merged.is_null() {
                    ManualChoice::Merged(None)
                } else if value::is_plain_object(&merged) {
                    ManualChoice::Merged(Some(value::check_fields(&table, &merged)?.fields))
                } else {
                    return Err(ManagerError::InvalidArgument {
                        argument: "resolution",
                        reason: "`merged` must be a record or null".into(),
                    }
                    .into());
                }
            }
            None => {
                return Err(ManagerError::InvalidArgument {
                    argument: "resolution",
                    reason: "expected 'local', 'server' or { merged: record | null }".into(),
                }
                .into())
            }
        };
        engine::resolve_conflict(&self.inner.storage, &BrowserClock, &id, choice)
            .await
            .map_err(ManagerError::from)?;
        self.inner.poke();
        Ok(())
    }

    async fn conflict_log(&self) -> Result<Array, JsValue> {
        check(&self.inner)?;
        let log = self
            .inner
            .storage
            .conflict_log()
            .await
            .map_err(ManagerError::from)?;
        Ok(log
            .iter()
            .map(|e| {
                let view = interop::view(&serde_json::json!({
                    "table": e.id.table, "key": key_json(&e.id), "policy": e.policy, "outcome": e.outcome, "at": e.at_ms,
                }));
                interop::set(&view, &"local".into(), &value::optional_record_to_js(e.local.as_ref()));
                interop::set(&view, &"remote".into(), &value::optional_record_to_js(e.remote.as_ref()));
                interop::set(&view, &"resolved".into(), &value::optional_record_to_js(e.resolved.as_ref()));
                view
            })
            .collect())
    }
}
