//! `LocalDatabase`: the app's IndexedDB database opened through idb-sync — its tables
//! (Dexie schema syntax), idb-sync's own stores, and change events.

use std::collections::BTreeMap;

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::error::SyncError;
use crate::storage::IdbStorage;
use crate::table::Table;

/// An IndexedDB database with idb-sync's outbox, opened from a Dexie-style schema.
/// Opening a database created by Dexie adopts it: every store, index and record stays.
///
/// ```ts
/// const db = await LocalDatabase.open({
///   dbName: 'MyAppDatabase', version: 1,
///   schema: { tasks: 'id, status, [userId+status], *tags', projects: 'id, name' },
/// });
/// const off = db.onChange('tasks', ({ table, keys, source }) => console.log(keys));
/// await db.table('tasks').put({ id: 't1', title: 'Buy milk', status: 'todo' });
/// off(); db.close();
/// ```
#[wasm_bindgen]
pub struct LocalDatabase {
    storage: IdbStorage,
}

fn string_field(options: &JsValue, name: &'static str) -> Result<String, SyncError> {
    Reflect::get(options, &name.into())
        .ok()
        .and_then(|v| v.as_string())
        .filter(|s| !s.is_empty())
        .ok_or(SyncError::InvalidArgument {
            argument: name,
            reason: "expected a non-empty string".into(),
        })
}

fn parse_options(
    options: &JsValue,
) -> Result<(String, u32, idb_sync_core::schema::DatabaseSchema), SyncError> {
    if !options.is_object() {
        return Err(SyncError::InvalidArgument {
            argument: "options",
            reason: "expected { dbName, version, schema }".into(),
        });
    }
    let name = string_field(options, "dbName")?;
    let version = Reflect::get(options, &"version".into()).unwrap_or(JsValue::UNDEFINED);
    let version = if version.is_undefined() {
        1
    } else {
        match version.as_f64() {
            Some(v) if v >= 1.0 && v.fract() == 0.0 && v <= (u32::MAX / 10) as f64 => v as u32,
            _ => {
                return Err(SyncError::InvalidArgument {
                    argument: "version",
                    reason: "expected a positive integer".into(),
                })
            }
        }
    };
    let schema = Reflect::get(options, &"schema".into()).unwrap_or(JsValue::UNDEFINED);
    if !schema.is_object() {
        return Err(SyncError::InvalidArgument {
            argument: "schema",
            reason: "expected { table: 'primaryKey, index, ...' }".into(),
        });
    }
    let mut tables = BTreeMap::new();
    for entry in Object::entries(schema.unchecked_ref()).iter() {
        let entry = js_sys::Array::from(&entry);
        let (table, spec) = (entry.get(0).as_string().unwrap_or_default(), entry.get(1));
        let spec = spec.as_string().ok_or(SyncError::InvalidArgument {
            argument: "schema",
            reason: format!("table `{table}`: expected a schema string"),
        })?;
        tables.insert(table, spec);
    }
    let schema =
        idb_sync_core::schema::parse_schema(tables.iter().map(|(t, s)| (t.as_str(), s.as_str())))?;
    Ok((name, version, schema))
}

#[wasm_bindgen]
impl LocalDatabase {
    /// Opens (creating, upgrading or adopting) a database. `version` is the app's
    /// schema version as in Dexie (stored as `version * 10`); upgrades only add
    /// stores and indexes. Rejects with `invalid_argument`, `invalid_schema` or
    /// `schema_conflict` (an existing store or index defined differently).
    pub async fn open(options: JsValue) -> Result<LocalDatabase, JsValue> {
        let (name, version, schema) = parse_options(&options)?;
        let storage = IdbStorage::open(&name, version, schema.clone()).await?;
        storage.events().set_dexie_tables(
            schema
                .values()
                .map(|t| {
                    (
                        t.name.clone(),
                        t.indexes.iter().map(|i| i.name.clone()).collect(),
                    )
                })
                .collect(),
        );
        Ok(LocalDatabase { storage })
    }

    /// Deletes the database `name` with everything in it (close it first).
    #[wasm_bindgen(js_name = delete)]
    pub async fn delete_database(name: String) -> Result<(), JsValue> {
        Ok(crate::idb::delete(&name).await?)
    }

    /// The database name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.storage.name().to_owned()
    }

    /// The tables declared in the schema.
    #[wasm_bindgen(getter, js_name = tableNames)]
    pub fn table_names(&self) -> Vec<String> {
        self.storage.table_names()
    }

    /// A declared table. Throws `unknown_table` otherwise.
    pub fn table(&self, name: String) -> Result<Table, JsValue> {
        self.storage.table(&name)?;
        Ok(Table::new(self.storage.clone(), name))
    }

    /// Calls `listener({ table, keys, source })` after each committed change of
    /// `table` (`'*'` for every table) made in this tab or another; `source` is
    /// `'local'` (the app) or `'remote'` (the sync engine). Returns a function that
    /// removes the listener.
    #[wasm_bindgen(js_name = onChange)]
    pub fn on_change(&self, table: String, listener: Function) -> Result<Function, JsValue> {
        if table != "*" {
            self.storage.table(&table)?;
        }
        let events = self.storage.events();
        let id = events.subscribe(&table, listener);
        Ok(events.unsubscriber(id))
    }

    /// Closes the connection; later calls reject with `database_closed`.
    pub fn close(&self) {
        self.storage.close();
    }
}

impl LocalDatabase {
    /// The storage (the core's `Storage` port), for the sync engine.
    pub fn storage(&self) -> &IdbStorage {
        &self.storage
    }
}
