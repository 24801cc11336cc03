//! [`IdbStorage`]: the app's tables and idb-sync's own stores in one IndexedDB
//! database, and the core's `Storage` port over them. Layout in [`layout`]; opening
//! and adopting in [`open`]; local writes in [`write`] (validated in
//! [`write_check`]); the port in [`port`]; queueing rows that have no sync state in
//! [`adopt`]; setting aside a queued row that cannot be encoded in [`set_aside`];
//! pulled changes kept for undeclared tables in [`deferred`]; the one codec of a key's
//! sync-state row in [`row`]; the client metadata's and an in-flight entry's in
//! [`codec`]; the port's operations over every store (batch, reset,
//! clear) in [`sweep`]; push answers acknowledged from the sync rows alone in [`ack`]; the outbox read for
//! the app in [`outbox`].

mod ack;
pub(crate) mod adopt;
pub(crate) mod codec;
mod deferred;
pub(crate) mod keys;
pub(crate) mod layout;
mod load;
mod open;
mod outbox;
mod port;
pub(crate) mod read;
pub(crate) mod row;
mod set_aside;
mod sweep;
pub(crate) mod write;
mod write_check;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;

use idb_sync_core::outbox::ClientMeta;
use idb_sync_core::schema::{DatabaseSchema, TableSchema};
use wasm_bindgen::JsValue;
use web_sys::IdbDatabase;

use crate::error::{OrStorage, SyncError};
use crate::events::{Events, Source};
use crate::idb;
use keys::KeyMode;
use layout::{META, META_KEY};

/// A declared table: its schema and how its records get keys.
pub(crate) struct TableInfo {
    pub(crate) schema: TableSchema,
    pub(crate) key_mode: KeyMode,
}

struct Inner {
    name: String,
    db: IdbDatabase,
    closed: Rc<Cell<bool>>,
    tables: BTreeMap<String, Rc<TableInfo>>,
    events: Rc<Events>,
    /// The pending-count change of the local write being announced (see
    /// [`IdbStorage::own_write_delta`]).
    own_write: Cell<Option<i64>>,
    /// A page's keepalive push may carry pending entries (protocol v1): a pending
    /// create deleted is then queued as a delete (core's `KeyFacts::pending_may_have_left`).
    keepalive_may_send: Cell<bool>,
}

/// One open idb-sync database. Clones share the connection.
#[derive(Clone)]
pub struct IdbStorage {
    inner: Rc<Inner>,
}

impl IdbStorage {
    /// Opens (creating or adopting) database `name` for app version `version` with the
    /// app's tables `schema`; creates the client metadata on first open.
    pub async fn open(
        name: &str,
        version: u32,
        schema: DatabaseSchema,
    ) -> Result<IdbStorage, SyncError> {
        let tables = schema
            .values()
            .map(|t| {
                Ok((
                    t.name.clone(),
                    Rc::new(TableInfo {
                        schema: t.clone(),
                        key_mode: KeyMode::of(t)?,
                    }),
                ))
            })
            .collect::<Result<BTreeMap<_, _>, SyncError>>()?;
        let db = open::open_database(name, version, &schema).await?;
        let closed = Rc::new(Cell::new(false));
        {
            let closed = closed.clone();
            open::close_on_version_change(&db, move || closed.set(true));
        }
        if let Err(e) = ensure_meta(&db).await {
            db.close();
            return Err(e);
        }
        let events = Rc::new(Events::new(name)?);
        Ok(IdbStorage {
            inner: Rc::new(Inner {
                name: name.to_owned(),
                db,
                closed,
                tables,
                events,
                own_write: Cell::new(None),
                keepalive_may_send: Cell::new(false),
            }),
        })
    }

    /// Says whether a keepalive push may send pending entries without an answer
    /// (docs/SYNC_MANAGER.md, "After the tab closes"); set by the manager at open.
    pub(crate) fn set_keepalive_may_send(&self, may: bool) {
        self.inner.keepalive_may_send.set(may);
    }

    /// See [`IdbStorage::set_keepalive_may_send`].
    pub(crate) fn keepalive_may_send(&self) -> bool {
        self.inner.keepalive_may_send.get()
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The connection, unless closed.
    pub(crate) fn db(&self) -> Result<IdbDatabase, SyncError> {
        if self.inner.closed.get() {
            return Err(SyncError::Closed);
        }
        Ok(self.inner.db.clone())
    }

    /// A declared table.
    pub(crate) fn table(&self, name: &str) -> Result<Rc<TableInfo>, SyncError> {
        self.inner
            .tables
            .get(name)
            .cloned()
            .ok_or_else(|| SyncError::UnknownTable(name.to_owned()))
    }

    /// Every declared table's name.
    pub(crate) fn table_names(&self) -> Vec<String> {
        self.inner.tables.keys().cloned().collect()
    }

    /// Change listeners of this database.
    pub(crate) fn events(&self) -> &Rc<Events> {
        &self.inner.events
    }

    /// Local writes on one table, in one transaction, announced after commit. While
    /// the announcement runs, [`IdbStorage::own_write_delta`] tells this tab's
    /// listeners how the write moved the pending count (other tabs reread it).
    pub(crate) async fn local_write(
        &self,
        table: &str,
        writes: Vec<write::Write>,
    ) -> Result<Vec<JsValue>, SyncError> {
        let written = write::write(self, table, writes).await?;
        if !written.keys.is_empty() {
            self.inner.own_write.set(Some(written.pending_delta));
            self.events().emit(table, &written.keys, Source::Local);
            self.inner.own_write.set(None);
        }
        Ok(written.keys)
    }

    /// During the announcement of a local write of this tab (a change listener called
    /// synchronously by [`IdbStorage::local_write`]): how it moved the pending count.
    /// `None` for changes announced by other tabs or by the sync engine.
    pub(crate) fn own_write_delta(&self) -> Option<i64> {
        self.inner.own_write.get()
    }

    /// Closes the connection and the change channel.
    pub fn close(&self) {
        self.inner.closed.set(true);
        self.inner.db.close();
        self.inner.events.close();
    }
}

/// Creates the client metadata if the database has none. Every open after the first
/// only reads (a read-only transaction: no commit to wait for).
async fn ensure_meta(db: &IdbDatabase) -> Result<(), SyncError> {
    let exists = idb::read_only(db, &[META], async |tx| {
        let meta = tx
            .store(META)?
            .get(&META_KEY.into())
            .or_storage("get meta")?;
        Ok(!idb::request(meta).await?.is_undefined())
    })
    .await?;
    if exists {
        return Ok(());
    }
    // Read again in the writing transaction: another tab may have created it meanwhile.
    idb::read_write(db, &[META], async |tx| {
        let store = tx.store(META)?;
        let existing = idb::request(store.get(&META_KEY.into()).or_storage("get meta")?).await?;
        if existing.is_undefined() {
            let meta = ClientMeta::new(uuid::Uuid::now_v7().to_string());
            store
                .put_with_key(&codec::meta_to_js(&meta), &META_KEY.into())
                .or_storage("put meta")?;
        }
        Ok(())
    })
    .await
}
