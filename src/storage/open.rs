//! Opening a database: read what it holds, plan an additive upgrade with
//! `idb_sync_core::schema::plan_upgrade`, and run it — keeping every store, index and
//! record already there (a database created by Dexie is adopted, not rebuilt).
//!
//! Versions follow Dexie: app version `n` is IndexedDB version `n * 10`. When the
//! database needs new stores or indexes but is already at (or above) that version, it
//! goes to the next IndexedDB version; Dexie still opens it (on a VersionError it
//! retries at the installed version).

use idb_sync_core::schema::{
    plan_upgrade, DatabaseSchema, IndexSpec, KeyPath, PrimaryKey, TableSchema,
};
use idb_sync_core::sync_loop::ConnectionEvent;
use js_sys::Array;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    IdbDatabase, IdbIndexParameters, IdbObjectStore, IdbObjectStoreParameters, IdbTransaction,
};

use crate::error::{OrStorage, SyncError};
use crate::idb;
use crate::storage::layout::own_stores;

fn key_path_from_js(v: &JsValue) -> Option<KeyPath> {
    if let Some(s) = v.as_string() {
        return (!s.is_empty()).then_some(KeyPath::Single(s));
    }
    if Array::is_array(v) {
        let fields = Array::from(v)
            .iter()
            .filter_map(|f| f.as_string())
            .collect();
        return Some(KeyPath::Compound(fields));
    }
    None
}

fn key_path_to_js(k: &KeyPath) -> JsValue {
    match k {
        KeyPath::Single(f) => JsValue::from_str(f),
        KeyPath::Compound(fs) => fs
            .iter()
            .map(|f| JsValue::from_str(f))
            .collect::<Array>()
            .into(),
    }
}

fn read_store(store: &IdbObjectStore) -> Result<TableSchema, SyncError> {
    let key_path = store.key_path().or_storage("keyPath")?;
    let names = store.index_names();
    let mut indexes = Vec::new();
    for i in 0..names.length() {
        let Some(name) = names.get(i) else { continue };
        let index = store.index(&name).or_storage("index")?;
        let Some(key_path) = key_path_from_js(&index.key_path().or_storage("index keyPath")?)
        else {
            continue;
        };
        indexes.push(IndexSpec {
            name,
            key_path,
            unique: index.unique(),
            multi_entry: index.multi_entry(),
        });
    }
    Ok(TableSchema {
        name: store.name(),
        primary: PrimaryKey {
            key_path: key_path_from_js(&key_path),
            auto_increment: store.auto_increment(),
        },
        indexes,
    })
}

fn store_names(db: &IdbDatabase) -> Vec<String> {
    let names = db.object_store_names();
    (0..names.length()).filter_map(|i| names.get(i)).collect()
}

/// What the database holds, read through `tx` (which must span every store).
fn read_schema(db: &IdbDatabase, tx: &IdbTransaction) -> Result<DatabaseSchema, SyncError> {
    let mut out = DatabaseSchema::new();
    for name in store_names(db) {
        let store = tx.object_store(&name).or_storage("object store")?;
        out.insert(name, read_store(&store)?);
    }
    Ok(out)
}

fn create_index(store: &IdbObjectStore, index: &IndexSpec) -> Result<(), SyncError> {
    let params = IdbIndexParameters::new();
    params.set_unique(index.unique);
    params.set_multi_entry(index.multi_entry);
    let created = match &index.key_path {
        KeyPath::Single(f) => {
            store.create_index_with_str_and_optional_parameters(&index.name, f, &params)
        }
        k @ KeyPath::Compound(_) => store.create_index_with_str_sequence_and_optional_parameters(
            &index.name,
            &key_path_to_js(k),
            &params,
        ),
    };
    created
        .map(|_| ())
        .or_storage(&format!("create index `{}`", index.name))
}

/// Creates what `wanted` lists and the database lacks, inside the upgrade transaction.
fn apply_upgrade(
    db: &IdbDatabase,
    tx: &IdbTransaction,
    wanted: &DatabaseSchema,
) -> Result<(), SyncError> {
    let existing = read_schema(db, tx)?;
    let plan = plan_upgrade(&existing, wanted)?;
    for table in &plan.new_stores {
        let params = IdbObjectStoreParameters::new();
        if let Some(k) = &table.primary.key_path {
            params.set_key_path(&key_path_to_js(k));
        }
        params.set_auto_increment(table.primary.auto_increment);
        let store = db
            .create_object_store_with_optional_parameters(&table.name, &params)
            .or_storage(&format!("create store `{}`", table.name))?;
        for index in &table.indexes {
            create_index(&store, index)?;
        }
    }
    for (name, index) in &plan.new_indexes {
        let store = tx.object_store(name).or_storage("object store")?;
        create_index(&store, index)?;
    }
    Ok(())
}

async fn read_and_plan(
    db: &IdbDatabase,
    wanted: &DatabaseSchema,
) -> Result<idb_sync_core::schema::UpgradePlan, SyncError> {
    let names = store_names(db);
    let existing = if names.is_empty() {
        DatabaseSchema::new()
    } else {
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        idb::read_only(db, &refs, async |tx| read_schema(db, tx.raw())).await?
    };
    Ok(plan_upgrade(&existing, wanted)?)
}

/// Opens (creating or adopting) database `name` for app version `version` and the
/// app's tables `schema`, plus idb-sync's own stores.
pub(crate) async fn open_database(
    name: &str,
    version: u32,
    schema: &DatabaseSchema,
) -> Result<IdbDatabase, SyncError> {
    let mut wanted = schema.clone();
    wanted.extend(own_stores());
    let db = idb::open(name, None, None).await?;
    let current = db.version() as u32;
    let plan = match read_and_plan(&db, &wanted).await {
        Ok(plan) => plan,
        Err(e) => {
            // An open connection would block every later open or delete.
            db.close();
            return Err(e);
        }
    };
    let mut target = version.saturating_mul(10).max(current);
    if !plan.is_empty() && target == current {
        target = current + 1;
    }
    if target == current {
        return Ok(db);
    }
    db.close();
    let upgrade: idb::Upgrade = Box::new(move |db, tx| apply_upgrade(db, tx, &wanted));
    idb::open(name, Some(target), Some(upgrade)).await
}

/// Calls `on_event` when another connection asks for a new version or deletes the
/// database (`versionchange`: the caller closes `db`, so that it never blocks them, as
/// Dexie does) and when the browser closes `db` under it (`close`: site data cleared).
pub(crate) fn watch_connection(db: &IdbDatabase, on_event: impl Fn(ConnectionEvent) + 'static) {
    let on_event = std::rc::Rc::new(on_event);
    let f = on_event.clone();
    let version_change = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let new_version = js_sys::Reflect::get(&event, &"newVersion".into())
            .ok()
            .and_then(|v| v.as_f64());
        f(ConnectionEvent::VersionChange { new_version });
    });
    let closed = Closure::<dyn FnMut(JsValue)>::new(move |_| on_event(ConnectionEvent::Closed));
    db.set_onversionchange(Some(version_change.as_ref().unchecked_ref()));
    db.set_onclose(Some(closed.as_ref().unchecked_ref()));
    version_change.forget();
    closed.forget();
}
