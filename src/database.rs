//! `LocalDatabase`: the app's IndexedDB database opened through idb-sync — its tables
//! (Dexie schema syntax), idb-sync's own stores, and change events.

use idb_sync_core::options::DatabaseOptions;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use crate::args;
use crate::error::SyncError;
use crate::interop::promise;
use crate::options;
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

#[wasm_bindgen]
impl LocalDatabase {
    /// Opens (creating, upgrading or adopting) a database. `version` is the app's
    /// schema version as in Dexie (stored as `version * 10`); upgrades only add
    /// stores and indexes. Rejects with `invalid_argument`, `invalid_schema` or
    /// `schema_conflict` (an existing store or index defined differently).
    #[wasm_bindgen(js_name = open, unchecked_return_type = "Promise<LocalDatabase>")]
    pub fn open_js(options: JsValue) -> Promise {
        promise(LocalDatabase::open(options))
    }

    /// Deletes the database `name` with everything in it (close it first).
    #[wasm_bindgen(js_name = delete, unchecked_return_type = "Promise<void>")]
    pub fn delete_js(#[wasm_bindgen(unchecked_param_type = "string")] name: JsValue) -> Promise {
        promise(LocalDatabase::delete_database(name))
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
    pub fn table(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    ) -> Result<Table, JsValue> {
        Ok(self.table_named(args::string(&name, "name")?)?)
    }

    /// Calls `listener({ table, keys, source })` after each committed change of
    /// `table` (`'*'` for every table) made in this tab or another; `source` is
    /// `'local'` (the app) or `'remote'` (the sync engine). Returns a function that
    /// removes the listener.
    #[wasm_bindgen(js_name = onChange, unchecked_return_type = "() => void")]
    pub fn on_change(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] table: JsValue,
        #[wasm_bindgen(unchecked_param_type = "(change: ChangeEvent) => void")] listener: JsValue,
    ) -> Result<Function, JsValue> {
        Ok(self.listen(&args::string(&table, "table")?, &listener)?)
    }

    /// Closes the connection; later calls reject with `database_closed`.
    pub fn close(&self) {
        self.storage.close();
    }
}

impl LocalDatabase {
    /// JS `LocalDatabase.open` (see [`LocalDatabase::open_js`]).
    pub async fn open(options: JsValue) -> Result<LocalDatabase, JsValue> {
        Ok(Self::open_with(options::database(&options)?).await?)
    }

    /// JS `LocalDatabase.delete` (see [`LocalDatabase::delete_js`]).
    pub async fn delete_database(name: JsValue) -> Result<(), JsValue> {
        let name = args::string(&name, "name")?;
        Ok(crate::idb::delete(&name).await?)
    }

    /// Opens the database of validated options (`LocalDatabase.open`, and
    /// `SyncManager.open`, whose options core validated more strictly).
    pub(crate) async fn open_with(options: DatabaseOptions) -> Result<LocalDatabase, SyncError> {
        let DatabaseOptions {
            name,
            version,
            schema,
        } = options;
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

    /// A declared table (`unknown_table` otherwise).
    pub(crate) fn table_named(&self, name: String) -> Result<Table, SyncError> {
        self.storage.table(&name)?;
        Ok(Table::new(self.storage.clone(), name))
    }

    /// Adds a change listener for `table` (`'*'`: every table); returns its remover.
    pub(crate) fn listen(&self, table: &str, listener: &JsValue) -> Result<Function, SyncError> {
        let listener = args::function(listener, "listener")?;
        if table != "*" {
            self.storage.table(table)?;
        }
        let events = self.storage.events();
        let id = events.subscribe(table, listener);
        Ok(events.unsubscriber(id))
    }

    /// The storage (the core's `Storage` port), for the sync engine.
    pub fn storage(&self) -> &IdbStorage {
        &self.storage
    }
}
