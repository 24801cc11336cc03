//! Reads of the app's tables: by key, many keys, count, everything. Each is one
//! read-only transaction; records come back as the JS objects IndexedDB stored.

use js_sys::Array;
use wasm_bindgen::{JsCast, JsValue};

use crate::error::{OrStorage, SyncError};
use crate::idb;
use crate::storage::{keys, IdbStorage};

impl IdbStorage {
    /// The records with `keys` (`undefined` where none), in order.
    pub(crate) async fn get_many(
        &self,
        table: &str,
        wanted: &[JsValue],
    ) -> Result<Array, SyncError> {
        self.table(table)?;
        for key in wanted {
            keys::validate(table, key)?;
        }
        idb::read_only(&self.db()?, &[table], async |tx| {
            let store = tx.store(table)?;
            let requests = wanted
                .iter()
                .map(|k| store.get(k).or_storage("get"))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(idb::all(&requests).await?.into_iter().collect::<Array>())
        })
        .await
    }

    /// The number of records of `table`.
    pub(crate) async fn count(&self, table: &str) -> Result<u32, SyncError> {
        self.table(table)?;
        idb::read_only(&self.db()?, &[table], async |tx| {
            let n = idb::request(tx.store(table)?.count().or_storage("count")?).await?;
            Ok(n.as_f64().unwrap_or(0.0) as u32)
        })
        .await
    }

    /// Every record of `table`, in key order.
    pub(crate) async fn all(&self, table: &str) -> Result<Array, SyncError> {
        self.table(table)?;
        idb::read_only(&self.db()?, &[table], async |tx| {
            let all = idb::request(tx.store(table)?.get_all().or_storage("getAll")?).await?;
            Ok(all.unchecked_into::<Array>())
        })
        .await
    }
}
