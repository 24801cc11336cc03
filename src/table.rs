//! `Table`: one of the app's tables, Dexie style. Every write commits together with
//! its outbox entry (I1); a bulk call is one transaction, all or nothing; bad input —
//! a wrong argument type, a value that cannot be synced — throws a `SyncError` and
//! writes nothing (I8). Records stay JS objects.

use js_sys::Array;
use wasm_bindgen::prelude::*;

use crate::args;
use crate::error::SyncError;
use crate::interop::export_async;
use crate::query::Collection;
use crate::storage::write::Write;
use crate::storage::IdbStorage;
use crate::where_clause::{resolve_index, WhereClause};

/// A table of a `LocalDatabase`.
///
/// ```ts
/// const tasks = db.table('tasks');
/// const id = await tasks.add({ title: 'Buy milk', status: 'todo' }); // UUID v7 id
/// await tasks.update(id, { status: 'done' });
/// const done = await tasks.where('status').equals('done').toArray();
/// ```
#[wasm_bindgen]
#[derive(Clone)]
pub struct Table {
    storage: IdbStorage,
    name: String,
}

fn optional_keys(keys: &JsValue, n: u32) -> Result<Vec<JsValue>, SyncError> {
    if keys.is_undefined() || keys.is_null() {
        return Ok(vec![JsValue::UNDEFINED; n as usize]);
    }
    let keys = args::array(keys, "keys")?;
    if keys.length() != n {
        return Err(SyncError::InvalidArgument {
            argument: "keys",
            reason: "must have one key per record".into(),
        });
    }
    Ok(keys.to_vec())
}

impl Table {
    pub(crate) fn new(storage: IdbStorage, name: String) -> Table {
        Table { storage, name }
    }

    async fn one(&self, write: Write) -> Result<JsValue, JsValue> {
        let keys = self.storage.local_write(&self.name, vec![write]).await?;
        Ok(keys.into_iter().next().unwrap_or(JsValue::UNDEFINED))
    }

    async fn records(&self, records: JsValue, keys: JsValue, add: bool) -> Result<Array, JsValue> {
        let records = args::array(&records, "records")?;
        let keys = optional_keys(&keys, records.length())?;
        let writes = records
            .iter()
            .zip(keys)
            .map(|(record, key)| {
                if add {
                    Write::Add { record, key }
                } else {
                    Write::Put { record, key }
                }
            })
            .collect();
        Ok(self
            .storage
            .local_write(&self.name, writes)
            .await?
            .into_iter()
            .collect())
    }
}

#[wasm_bindgen]
impl Table {
    /// The table's name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// A query on `index` (a declared index, `[a+b]` for a compound one, or the
    /// primary key).
    #[wasm_bindgen(js_name = "where")]
    pub fn where_(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] index: JsValue,
    ) -> Result<WhereClause, JsValue> {
        let index = resolve_index(&self.storage, &self.name, &args::string(&index, "index")?)?;
        Ok(WhereClause::new(
            self.storage.clone(),
            self.name.clone(),
            index,
        ))
    }

    /// Every record ordered by `index`.
    #[wasm_bindgen(js_name = orderBy)]
    pub fn order_by(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] index: JsValue,
    ) -> Result<Collection, JsValue> {
        let index = resolve_index(&self.storage, &self.name, &args::string(&index, "index")?)?;
        Ok(Collection::all(
            self.storage.clone(),
            self.name.clone(),
            index,
        ))
    }

    /// Every record, as a collection.
    #[wasm_bindgen(js_name = toCollection)]
    pub fn to_collection(&self) -> Collection {
        Collection::all(self.storage.clone(), self.name.clone(), None)
    }

    /// Every record in reverse primary-key order.
    pub fn reverse(&self) -> Collection {
        self.to_collection().reverse()
    }

    /// Every record but the first `n`.
    pub fn offset(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] n: JsValue,
    ) -> Result<Collection, JsValue> {
        self.to_collection().offset(n)
    }

    /// The first `n` records.
    pub fn limit(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] n: JsValue,
    ) -> Result<Collection, JsValue> {
        self.to_collection().limit(n)
    }

    /// The records for which `predicate(record)` is truthy.
    pub fn filter(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(record: any) => unknown")] predicate: JsValue,
    ) -> Result<Collection, JsValue> {
        self.to_collection().filter(predicate)
    }
}

export_async!(Table {
    /// The record with `key`, or `undefined`.
    "get" as get_js => get(key) -> "Promise<any>";
    /// The records with `keys`, in order (`undefined` where none).
    "bulkGet" as bulk_get_js => bulk_get(keys) -> "Promise<Array<any>>";
    /// Adds a new record and resolves to its key (generated when absent: a UUID v7
    /// string, or the next number for `++` tables). Rejects with `key_exists` if the
    /// key is taken. `key` is for tables with out-of-line keys only.
    "add" as add_js => add(record, key) -> "Promise<any>";
    /// Adds records, all or nothing; resolves to their keys.
    "bulkAdd" as bulk_add_js => bulk_add(records, keys) -> "Promise<Array<any>>";
    /// Writes a whole record (creating or replacing it); resolves to its key.
    "put" as put_js => put(record, key) -> "Promise<any>";
    /// Writes records, all or nothing; resolves to their keys.
    "bulkPut" as bulk_put_js => bulk_put(records, keys) -> "Promise<Array<any>>";
    /// Sets the fields of `changes` on the record with `key`; resolves to 1, or to 0
    /// (writing nothing) if there is no such record — as Dexie does. Only the changed
    /// fields are queued for the server.
    "update" as update_js => update(key, changes) -> "Promise<number>";
    /// Deletes the record with `key` (nothing happens if there is none).
    "delete" as delete_js => delete(key) -> "Promise<void>";
    /// Deletes the records with `keys`, all or nothing.
    "bulkDelete" as bulk_delete_js => bulk_delete(keys) -> "Promise<void>";
    /// Deletes every record (each deletion is queued for the server), in one
    /// transaction; records added meanwhile by another tab may survive.
    "clear" as clear_js => clear() -> "Promise<void>";
    /// The number of records.
    "count" as count_js => count() -> "Promise<number>";
    /// Every record, in primary-key order.
    "toArray" as to_array_js => to_array() -> "Promise<Array<any>>";
    /// The primary keys of every record.
    "keys" as keys_js => keys() -> "Promise<Array<any>>";
    /// The first record in primary-key order, or `undefined`.
    "first" as first_js => first() -> "Promise<any>";
});

/// The methods behind the JS ones of [`export_async!`] above (documented there), for
/// Rust callers too.
impl Table {
    /// JS `get`.
    pub async fn get(&self, key: JsValue) -> Result<JsValue, JsValue> {
        Ok(self.storage.get_many(&self.name, &[key]).await?.get(0))
    }

    /// JS `bulkGet`.
    pub async fn bulk_get(&self, keys: JsValue) -> Result<Array, JsValue> {
        let keys = args::array(&keys, "keys")?.to_vec();
        Ok(self.storage.get_many(&self.name, &keys).await?)
    }

    /// JS `add`.
    pub async fn add(&self, record: JsValue, key: JsValue) -> Result<JsValue, JsValue> {
        self.one(Write::Add { record, key }).await
    }

    /// JS `bulkAdd`.
    pub async fn bulk_add(&self, records: JsValue, keys: JsValue) -> Result<Array, JsValue> {
        self.records(records, keys, true).await
    }

    /// JS `put`.
    pub async fn put(&self, record: JsValue, key: JsValue) -> Result<JsValue, JsValue> {
        self.one(Write::Put { record, key }).await
    }

    /// JS `bulkPut`.
    pub async fn bulk_put(&self, records: JsValue, keys: JsValue) -> Result<Array, JsValue> {
        self.records(records, keys, false).await
    }

    /// JS `update`.
    pub async fn update(&self, key: JsValue, changes: JsValue) -> Result<u32, JsValue> {
        match self
            .storage
            .local_write(&self.name, vec![Write::Update { key, changes }])
            .await
        {
            Ok(_) => Ok(1),
            Err(SyncError::NotFound(_)) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    /// JS `delete`.
    pub async fn delete(&self, key: JsValue) -> Result<(), JsValue> {
        self.storage
            .local_write(&self.name, vec![Write::Delete { key }])
            .await?;
        Ok(())
    }

    /// JS `bulkDelete`.
    pub async fn bulk_delete(&self, keys: JsValue) -> Result<(), JsValue> {
        let writes = args::array(&keys, "keys")?
            .iter()
            .map(|key| Write::Delete { key })
            .collect();
        self.storage.local_write(&self.name, writes).await?;
        Ok(())
    }

    /// JS `clear`.
    pub async fn clear(&self) -> Result<(), JsValue> {
        let keys = Collection::all(self.storage.clone(), self.name.clone(), None)
            .keys()
            .await?;
        let writes = keys.iter().map(|key| Write::Delete { key }).collect();
        self.storage.local_write(&self.name, writes).await?;
        Ok(())
    }

    /// JS `count`.
    pub async fn count(&self) -> Result<u32, JsValue> {
        Ok(self.storage.count(&self.name).await?)
    }

    /// JS `toArray`.
    pub async fn to_array(&self) -> Result<Array, JsValue> {
        Ok(self.storage.all(&self.name).await?)
    }

    /// JS `keys`.
    pub async fn keys(&self) -> Result<Array, JsValue> {
        self.to_collection().keys().await
    }

    /// JS `first`.
    pub async fn first(&self) -> Result<JsValue, JsValue> {
        self.to_collection().first().await
    }
}
