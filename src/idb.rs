//! The one place that talks to IndexedDB through web-sys: opening with an upgrade
//! callback, awaiting requests, and transactions: [`read_only`] and [`read_write`] run
//! a body in a [`Tx`] and end it — commit on `Ok`, abort on `Err` — so a record and
//! its outbox entry commit together or not at all (docs/INVARIANTS.md, I1).
//!
//! Why not rexie here: rexie has no upgrade callback (its builder deletes undeclared
//! stores), cannot read an existing database's stores and indexes, and awaits every
//! request on its own, while a bulk write must issue thousands of requests and wait for
//! the last one only. Everything a transaction's body awaits is an IndexedDB request, so
//! transactions never go inactive.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    IdbDatabase, IdbFactory, IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode,
};

use crate::error::{OrStorage, SyncError};

/// `indexedDB` of the window or worker.
pub(crate) fn factory() -> Result<IdbFactory, SyncError> {
    Reflect::get(&js_sys::global(), &"indexedDB".into())
        .ok()
        .and_then(|f| f.dyn_into::<IdbFactory>().ok())
        .ok_or_else(|| SyncError::Storage("IndexedDB is not available here".into()))
}

/// A promise settled by the request's success or error event.
fn settled(request: &IdbRequest) -> JsFuture {
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    JsFuture::from(promise)
}

fn request_error(request: &IdbRequest) -> SyncError {
    SyncError::failed("request", request.error().ok().flatten())
}

/// Awaits one request and returns its result. Await a request before awaiting any
/// other one issued after it: handlers are attached here, so a request whose success
/// event already fired would never wake the caller.
pub(crate) async fn request(request: IdbRequest) -> Result<JsValue, SyncError> {
    match settled(&request).await {
        Ok(_) => request.result().or_storage("request result"),
        Err(_) => Err(request_error(&request)),
    }
}

/// Awaits a batch of requests of one transaction by waiting for the last one only
/// (IndexedDB runs a transaction's requests in order), and returns every result.
pub(crate) async fn all(requests: &[IdbRequest]) -> Result<Vec<JsValue>, SyncError> {
    let Some(last) = requests.last() else {
        return Ok(Vec::new());
    };
    if settled(last).await.is_err() {
        // The first failure is the cause; the others were aborted because of it.
        let cause = requests.iter().find_map(|r| {
            r.error()
                .ok()
                .flatten()
                .filter(|e| e.name() != "AbortError")
        });
        return Err(SyncError::failed(
            "request",
            cause.or_else(|| last.error().ok().flatten()),
        ));
    }
    requests
        .iter()
        .map(|r| r.result().or_storage("request result"))
        .collect()
}

/// Runs `body` in a read-only transaction over `stores`; its results are final when
/// it returns (nothing waits for the transaction to complete).
pub(crate) async fn read_only<R>(
    db: &IdbDatabase,
    stores: &[impl AsRef<str>],
    body: impl AsyncFnOnce(&Tx) -> Result<R, SyncError>,
) -> Result<R, SyncError> {
    run(db, stores, IdbTransactionMode::Readonly, body).await
}

/// Runs `body` in a read-write transaction over `stores`: commits and waits for the
/// commit if it returns `Ok` (returning the abort cause if the commit fails after
/// all), aborts if it returns `Err`.
pub(crate) async fn read_write<R>(
    db: &IdbDatabase,
    stores: &[impl AsRef<str>],
    body: impl AsyncFnOnce(&Tx) -> Result<R, SyncError>,
) -> Result<R, SyncError> {
    run(db, stores, IdbTransactionMode::Readwrite, body).await
}

async fn run<R>(
    db: &IdbDatabase,
    stores: &[impl AsRef<str>],
    mode: IdbTransactionMode,
    body: impl AsyncFnOnce(&Tx) -> Result<R, SyncError>,
) -> Result<R, SyncError> {
    let tx = Tx::begin(db, stores, mode)?;
    let result = body(&tx).await;
    tx.finish(result).await
}

/// A transaction, made and ended by [`read_only`] or [`read_write`]. Dropped
/// unfinished (a panic, a future dropped mid-body), it aborts — never commits half a
/// write.
pub(crate) struct Tx {
    tx: IdbTransaction,
    done: Option<JsFuture>,
    read_only: bool,
}

impl Tx {
    /// Starts a transaction over `stores`.
    fn begin(
        db: &IdbDatabase,
        stores: &[impl AsRef<str>],
        mode: IdbTransactionMode,
    ) -> Result<Tx, SyncError> {
        let names: Array = stores
            .iter()
            .map(|s| JsValue::from_str(s.as_ref()))
            .collect();
        let tx = db
            .transaction_with_str_sequence_and_mode(&names, mode)
            .or_storage("transaction")?;
        let mut tx = Tx::from_raw(tx);
        tx.read_only = mode == IdbTransactionMode::Readonly;
        Ok(tx)
    }

    fn from_raw(tx: IdbTransaction) -> Tx {
        let promise = Promise::new(&mut |resolve: Function, reject: Function| {
            tx.set_oncomplete(Some(&resolve));
            tx.set_onabort(Some(&reject));
        });
        Tx {
            tx,
            done: Some(JsFuture::from(promise)),
            read_only: false,
        }
    }

    /// An object store of the transaction.
    pub(crate) fn store(&self, name: &str) -> Result<web_sys::IdbObjectStore, SyncError> {
        self.tx
            .object_store(name)
            .or_storage(&format!("object store `{name}`"))
    }

    /// Ends the transaction: commits and waits for it to be durable if `result` is
    /// `Ok` (returning the abort cause if it fails after all), aborts if `Err`.
    async fn finish<R>(mut self, result: Result<R, SyncError>) -> Result<R, SyncError> {
        let done = self.done.take().expect("finish is called once");
        match result {
            // A read-only transaction has nothing to make durable: its results are final.
            Ok(value) if self.read_only => {
                wasm_bindgen_futures::spawn_local(async move {
                    let _ = done.await;
                });
                Ok(value)
            }
            Ok(value) => {
                // Already committing if every request finished; that is fine.
                // (web-sys marks `commit` deprecated only because Safari < 15 lacks it.)
                #[allow(deprecated)]
                let _ = self.tx.commit();
                match done.await {
                    Ok(_) => Ok(value),
                    Err(_) => Err(SyncError::failed("transaction", self.tx.error())),
                }
            }
            Err(e) => {
                let _ = self.tx.abort();
                let _ = done.await;
                Err(e)
            }
        }
    }

    /// The IndexedDB transaction itself.
    pub(crate) fn raw(&self) -> &IdbTransaction {
        &self.tx
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if self.done.is_some() {
            let _ = self.tx.abort();
        }
    }
}

/// What to do in an upgrade: gets the database and the version-change transaction.
pub(crate) type Upgrade = Box<dyn FnOnce(&IdbDatabase, &IdbTransaction) -> Result<(), SyncError>>;

/// Opens `name` at `version` (the current one if `None`), running `upgrade` in the
/// version-change transaction if the version grows. An `Err` from `upgrade` aborts the
/// upgrade and is returned.
pub(crate) async fn open(
    name: &str,
    version: Option<u32>,
    upgrade: Option<Upgrade>,
) -> Result<IdbDatabase, SyncError> {
    let factory = factory()?;
    let request: IdbOpenDbRequest = match version {
        Some(v) => factory.open_with_u32(name, v),
        None => factory.open(name),
    }
    .or_storage("open")?;
    let failure: Rc<RefCell<Option<SyncError>>> = Rc::default();
    let upgrade = RefCell::new(upgrade);
    let on_upgrade = {
        let failure = failure.clone();
        let request = request.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |_event: JsValue| {
            let Some(run) = upgrade.borrow_mut().take() else {
                return;
            };
            let db = request
                .result()
                .ok()
                .and_then(|d| d.dyn_into::<IdbDatabase>().ok());
            let tx = request.transaction();
            if let (Some(db), Some(tx)) = (db, tx) {
                if let Err(e) = run(&db, &tx) {
                    *failure.borrow_mut() = Some(e);
                    let _ = tx.abort();
                }
            }
        })
    };
    request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let on_blocked = Closure::<dyn FnMut(JsValue)>::new(|_| {
        web_sys::console::warn_1(
            &"idb-sync: opening is blocked by another connection; waiting for it to close".into(),
        );
    });
    request.set_onblocked(Some(on_blocked.as_ref().unchecked_ref()));
    let outcome = settled(&request).await;
    request.set_onupgradeneeded(None);
    request.set_onblocked(None);
    if let Some(e) = failure.borrow_mut().take() {
        return Err(e);
    }
    match outcome {
        Ok(_) => request
            .result()
            .or_storage("open result")?
            .dyn_into::<IdbDatabase>()
            .map_err(|_| SyncError::Storage("open did not return a database".into())),
        Err(_) => Err(request_error(&request)),
    }
}

/// Deletes the database `name` (resolves once deleted).
pub(crate) async fn delete(name: &str) -> Result<(), SyncError> {
    let request = factory()?
        .delete_database(name)
        .or_storage("deleteDatabase")?;
    request_done(request.unchecked_into()).await
}

async fn request_done(req: IdbRequest) -> Result<(), SyncError> {
    request(req).await.map(|_| ())
}
