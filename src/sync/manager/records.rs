//! `SyncManager`'s record methods: `table`, `onChange`, and the seed-compatible
//! `create`, `update` and `delete` (thin calls into [`crate::table::Table`]).

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::{check, table_arg, SyncManager};
use crate::args;
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

    /// Adds a record to `table` and resolves to it (with its generated key).
    #[wasm_bindgen(unchecked_return_type = "Promise<any>")]
    pub async fn create(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] table: JsValue,
        data: JsValue,
    ) -> Result<JsValue, JsValue> {
        check(&self.inner)?;
        let t = table_arg(&self.inner, &table)?;
        let key = t.add(data, JsValue::UNDEFINED).await?;
        t.get(key).await
    }

    /// Sets `changes` on the record `key` of `table`; resolves to the updated record,
    /// or `undefined` if there is none.
    #[wasm_bindgen(unchecked_return_type = "Promise<any>")]
    pub async fn update(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] table: JsValue,
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

    /// Deletes the record `key` of `table` (nothing happens if there is none).
    pub async fn delete(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] table: JsValue,
        key: JsValue,
    ) -> Result<(), JsValue> {
        check(&self.inner)?;
        table_arg(&self.inner, &table)?.delete(key).await
    }
}
