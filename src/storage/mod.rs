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
//!
//! The connection is watched ([`open::watch_connection`]): when the database is
//! deleted behind its back (`deleteDatabase`, site data cleared) it opens it again —
//! recreated, empty — and tells the manager ([`Health`]), which decides in core
//! whether the data it expected is gone (`idb_sync_core::sync_loop::was_evicted`).

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

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use idb_sync_core::outbox::{ClientMeta, OpKind};
use idb_sync_core::schema::{DatabaseSchema, TableSchema};
use idb_sync_core::sync_loop::{on_connection_event, reopen_delay_ms, ConnectionAction};
use idb_sync_core::RecordKey;
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

/// What the storage tells the manager about its health ([`IdbStorage::watch`]).
pub(crate) enum Health<'a> {
    /// A local write on `table` committed, leaving each key's pending entry so.
    Wrote(&'a str, Vec<(RecordKey, Option<OpKind>)>),
    /// A local write failed.
    WriteFailed(&'a SyncError),
    /// The database was opened again after a deletion or a forced close; its
    /// metadata holds `client_id`, and was `created` by this open.
    Reopened {
        /// The client id found.
        client_id: String,
        /// Whether this open had to create the metadata.
        created: bool,
    },
}

/// A [`Health`] listener.
type Watcher = Box<dyn Fn(Health)>;

struct Inner {
    name: String,
    version: u32,
    schema: DatabaseSchema,
    db: RefCell<IdbDatabase>,
    /// No connection now (closed, or being opened again).
    closed: Cell<bool>,
    /// Closed for good (`close()`, or another tab's upgrade): never opened again.
    ended: Cell<bool>,
    watcher: RefCell<Option<Watcher>>,
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
        let (db, _) = connect(name, version, &schema).await?;
        let events = Rc::new(Events::new(name)?);
        let storage = IdbStorage {
            inner: Rc::new(Inner {
                name: name.to_owned(),
                version,
                schema,
                db: RefCell::new(db),
                closed: Cell::new(false),
                ended: Cell::new(false),
                watcher: RefCell::default(),
                tables,
                events,
                own_write: Cell::new(None),
                keepalive_may_send: Cell::new(false),
            }),
        };
        storage.watch_connection();
        Ok(storage)
    }

    /// Watches the connection: on another tab's upgrade it yields for good; when the
    /// database is deleted or the connection closed under it, it opens it again
    /// (core's `on_connection_event`).
    fn watch_connection(&self) {
        let weak = Rc::downgrade(&self.inner);
        open::watch_connection(&self.inner.db.borrow(), move |event| {
            let Some(inner) = weak.upgrade() else { return };
            inner.db.borrow().close();
            inner.closed.set(true);
            if inner.ended.get() || on_connection_event(event) == ConnectionAction::Yield {
                inner.ended.set(true);
                return;
            }
            wasm_bindgen_futures::spawn_local(IdbStorage { inner }.reopen());
        });
    }

    /// Opens the database again (recreating it if it is gone; retried while the
    /// browser still clears it: core's `reopen_delay_ms`), then says what it found.
    async fn reopen(self) {
        let inner = &self.inner;
        let (mut attempt, mut error) = (0, String::new());
        while let Some(ms) = reopen_delay_ms(attempt) {
            attempt += 1;
            gloo_timers::future::TimeoutFuture::new(ms as u32).await;
            if inner.ended.get() {
                return;
            }
            let (db, (client_id, created)) =
                match connect(&inner.name, inner.version, &inner.schema).await {
                    Ok(opened) => opened,
                    Err(e) => {
                        error = e.to_string();
                        continue;
                    }
                };
            if inner.ended.get() {
                db.close(); // closed meanwhile
                return;
            }
            *inner.db.borrow_mut() = db;
            inner.closed.set(false);
            self.watch_connection();
            self.tell(Health::Reopened { client_id, created });
            return;
        }
        inner.ended.set(true);
        let message = format!("idb-sync: the database could not be opened again: {error}");
        web_sys::console::error_1(&message.into());
    }

    /// Sets the one [`Health`] listener (the manager's).
    pub(crate) fn watch(&self, watcher: Watcher) {
        *self.inner.watcher.borrow_mut() = Some(watcher);
    }

    fn tell(&self, health: Health) {
        if let Ok(watcher) = self.inner.watcher.try_borrow() {
            if let Some(f) = watcher.as_ref() {
                f(health);
            }
        }
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
        Ok(self.inner.db.borrow().clone())
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
        let written = write::write(self, table, writes).await;
        let written = match written {
            Ok(w) => w,
            Err(e) => {
                self.tell(Health::WriteFailed(&e));
                return Err(e);
            }
        };
        // Told before the announcement, whose count update checks what is known.
        self.tell(Health::Wrote(table, written.queued));
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
        self.inner.ended.set(true);
        self.inner.db.borrow().close();
        self.inner.events.close();
        self.inner.watcher.borrow_mut().take();
    }
}

/// Opens the database and makes sure it has the client metadata: the connection, the
/// client id and whether it was created now.
async fn connect(
    name: &str,
    version: u32,
    schema: &DatabaseSchema,
) -> Result<(IdbDatabase, (String, bool)), SyncError> {
    let db = open::open_database(name, version, schema).await?;
    match ensure_meta(&db).await {
        Ok(meta) => Ok((db, meta)),
        Err(e) => {
            db.close();
            Err(e)
        }
    }
}

/// Creates the client metadata if the database has none; its client id, and whether
/// it was created now. Every open after the first only reads (a read-only transaction:
/// no commit to wait for).
async fn ensure_meta(db: &IdbDatabase) -> Result<(String, bool), SyncError> {
    let found = idb::read_only(db, &[META], async |tx| {
        let meta = tx
            .store(META)?
            .get(&META_KEY.into())
            .or_storage("get meta")?;
        idb::request(meta).await
    })
    .await?;
    if !found.is_undefined() {
        return Ok((codec::meta_from_js(&found)?.client_id, false));
    }
    // Read again in the writing transaction: another tab may have created it meanwhile.
    idb::read_write(db, &[META], async |tx| {
        let store = tx.store(META)?;
        let existing = idb::request(store.get(&META_KEY.into()).or_storage("get meta")?).await?;
        if !existing.is_undefined() {
            return Ok((codec::meta_from_js(&existing)?.client_id, false));
        }
        let meta = ClientMeta::new(uuid::Uuid::now_v7().to_string());
        store
            .put_with_key(&codec::meta_to_js(&meta), &META_KEY.into())
            .or_storage("put meta")?;
        Ok((meta.client_id, true))
    })
    .await
}
