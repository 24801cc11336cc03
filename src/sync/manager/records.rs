//! `SyncManager`'s record methods: `table`, `onChange`, and the seed-compatible
//! `create`, `update` and `delete` (thin calls into [`crate::table::Table`]).

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::{check, table_arg, SyncManager};
use crate::args;
use crate::interop::export_async;
use crate::table::Table;

#[wasm_bindgen]
impl SyncManager {
    /// A table of the schema (Dexie-style API: `add`, `put`, `update`, `where`, ...).
    pub fn table(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    ) -> Result<Table, JsValue> {
        check(&self.inner)?;
        Ok(self.inner.db.table_named(args::string(&name, "name")?)?)
    }

    /// Calls `listener({ table, keys, source })` after each change of `table` (`'*'`
    /// for all); returns a function that removes it.
    #[wasm_bindgen(js_name = onChange, unchecked_return_type = "() => void")]
    pub fn on_change(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] table: JsValue,
        #[wasm_bindgen(unchecked_param_type = "(change: ChangeEvent) => void")] listener: JsValue,
    ) -> Result<Function, JsValue> {
        check(&self.inner)?;
        Ok(self
            .inner
            .db
            .listen(&args::string(&table, "table")?, &listener)?)
    }
}

export_async!(SyncManager {
    /// Adds a record to `table` and resolves to it (with its generated key).
    "create" as create_js => create(table: "string", data) -> "Promise<any>";
    /// Sets `changes` on the record `key` of `table`; resolves to the updated record,
    /// or `undefined` if there is none.
    "update" as update_js => update(table: "string", key, changes) -> "Promise<any>";
    /// Deletes the record `key` of `table` (nothing happens if there is none).
    "delete" as delete_js => delete(table: "string", key) -> "Promise<void>";
});

/// The methods behind the JS ones of [`export_async!`] above (documented there).
impl SyncManager {
    async fn create(&self, table: JsValue, data: JsValue) -> Result<JsValue, JsValue> {
        check(&self.inner)?;
        let t = table_arg(&self.inner, &table)?;
        let key = t.add(data, JsValue::UNDEFINED).await?;
        t.get(key).await
    }

    async fn update(
        &self,
        table: JsValue,
        key: JsValue,
        changes: JsValue,
    ) -> Result<JsValue, JsValue> {
        check(&self.inner)?;
        let t = table_arg(&self.inner, &table)?;
        if t.update(key.clone(), changes).await? == 0 {
            return Ok(JsValue::UNDEFINED);
        }
        t.get(key).await
    }

    async fn delete(&self, table: JsValue, key: JsValue) -> Result<(), JsValue> {
        check(&self.inner)?;
        table_arg(&self.inner, &table)?.delete(key).await
    }
}
