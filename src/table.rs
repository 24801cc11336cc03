//! `Table`: one of the app's tables, Dexie style. Every write commits together with
//! its outbox entry (I1); a bulk call is one transaction, all or nothing; bad input
//! throws a `SyncError` and writes nothing (I8). Records stay JS objects.

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

use crate::error::SyncError;
use crate::query::{resolve_index, Collection, WhereClause};
use crate::storage::write::Write;
use crate::storage::IdbStorage;

/// A table of a `LocalDatabase`.
///
/// ```ts
/// const tasks = db.table('tasks');
/// const id = await tasks.add({ title: 'Buy milk', status: 'todo' }); // UUID v7 id
/// await tasks.update(id, { status: 'done' });
/// const done = await tasks.where('status').equals('done').toArray();
/// ```
#[wasm_bindgen]
pub struct Table {
    storage: IdbStorage,
    name: String,
}

fn array_arg(v: &JsValue, argument: &'static str) -> Result<Array, SyncError> {
    if Array::is_array(v) {
        Ok(Array::from(v))
    } else {
        Err(SyncError::InvalidArgument {
            argument,
            reason: "expected an array".into(),
        })
    }
}

fn optional_keys(keys: &JsValue, n: u32) -> Result<Vec<JsValue>, SyncError> {
    if keys.is_undefined() || keys.is_null() {
        return Ok(vec![JsValue::UNDEFINED; n as usize]);
    }
    let keys = array_arg(keys, "keys")?;
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
        let records = array_arg(&records, "records")?;
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

    /// The record with `key`, or `undefined`.
    pub async fn get(&self, key: JsValue) -> Result<JsValue, JsValue> {
        Ok(self.storage.get_many(&self.name, &[key]).await?.get(0))
    }

    /// The records with `keys`, in order (`undefined` where none).
    #[wasm_bindgen(js_name = bulkGet)]
    pub async fn bulk_get(&self, keys: JsValue) -> Result<Array, JsValue> {
        let keys = array_arg(&keys, "keys")?.to_vec();
        Ok(self.storage.get_many(&self.name, &keys).await?)
    }

    /// Adds a new record and resolves to its key (generated when absent: a UUID v7
    /// string, or the next number for `++` tables). Rejects with `key_exists` if the
    /// key is taken. `key` is for tables with out-of-line keys only.
    pub async fn add(&self, record: JsValue, key: JsValue) -> Result<JsValue, JsValue> {
        self.one(Write::Add { record, key }).await
    }

    /// Adds records, all or nothing; resolves to their keys.
    #[wasm_bindgen(js_name = bulkAdd)]
    pub async fn bulk_add(&self, records: JsValue, keys: JsValue) -> Result<Array, JsValue> {
        self.records(records, keys, true).await
    }

    /// Writes a whole record (creating or replacing it); resolves to its key.
    pub async fn put(&self, record: JsValue, key: JsValue) -> Result<JsValue, JsValue> {
        self.one(Write::Put { record, key }).await
    }

    /// Writes records, all or nothing; resolves to their keys.
    #[wasm_bindgen(js_name = bulkPut)]
    pub async fn bulk_put(&self, records: JsValue, keys: JsValue) -> Result<Array, JsValue> {
        self.records(records, keys, false).await
    }

    /// Sets the fields of `changes` on the record with `key`; resolves to 1, or to 0
    /// (writing nothing) if there is no such record — as Dexie does. Only the changed
    /// fields are queued for the server.
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

    /// Deletes the record with `key` (nothing happens if there is none).
    pub async fn delete(&self, key: JsValue) -> Result<(), JsValue> {
        self.storage
            .local_write(&self.name, vec![Write::Delete { key }])
            .await?;
        Ok(())
    }

    /// Deletes the records with `keys`, all or nothing.
    #[wasm_bindgen(js_name = bulkDelete)]
    pub async fn bulk_delete(&self, keys: JsValue) -> Result<(), JsValue> {
        let writes = array_arg(&keys, "keys")?
            .iter()
            .map(|key| Write::Delete { key })
            .collect();
        self.storage.local_write(&self.name, writes).await?;
        Ok(())
    }

    /// Deletes every record (each deletion is queued for the server), in one
    /// transaction; records added meanwhile by another tab may survive.
    pub async fn clear(&self) -> Result<(), JsValue> {
        let keys = Collection::all(self.storage.clone(), self.name.clone(), None)
            .keys()
            .await?;
        let writes = keys.iter().map(|key| Write::Delete { key }).collect();
        self.storage.local_write(&self.name, writes).await?;
        Ok(())
    }

    /// The number of records.
    pub async fn count(&self) -> Result<u32, JsValue> {
        Ok(self.storage.count(&self.name).await?)
    }

    /// Every record, in primary-key order.
    #[wasm_bindgen(js_name = toArray)]
    pub async fn to_array(&self) -> Result<Array, JsValue> {
        Ok(self.storage.all(&self.name).await?)
    }

    /// A query on `index` (a declared index, `[a+b]` for a compound one, or the
    /// primary key).
    #[wasm_bindgen(js_name = "where")]
    pub fn where_(&self, index: String) -> Result<WhereClause, JsValue> {
        let index = resolve_index(&self.storage, &self.name, &index)?;
        Ok(WhereClause::new(
            self.storage.clone(),
            self.name.clone(),
            index,
        ))
    }

    /// Every record ordered by `index`.
    #[wasm_bindgen(js_name = orderBy)]
    pub fn order_by(&self, index: String) -> Result<Collection, JsValue> {
        let index = resolve_index(&self.storage, &self.name, &index)?;
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
    pub fn offset(&self, n: u32) -> Collection {
        self.to_collection().offset(n)
    }

    /// The first `n` records.
    pub fn limit(&self, n: u32) -> Collection {
        self.to_collection().limit(n)
    }

    /// The records for which `predicate(record)` is truthy.
    pub fn filter(&self, predicate: Function) -> Collection {
        self.to_collection().filter(predicate)
    }

    /// The primary keys of every record.
    pub async fn keys(&self) -> Result<Array, JsValue> {
        self.to_collection().keys().await
    }

    /// The first record in primary-key order, or `undefined`.
    pub async fn first(&self) -> Result<JsValue, JsValue> {
        self.to_collection().first().await
    }
}
