//! `SyncManager.open`: validates the options (in core), joins the election (its first
//! lock request answered while the database opens), opens the database, reads its
//! metadata once, builds the tab machine and starts adopting existing rows as the
//! `adopt` option says (in the background: core's `Tabs::opened`).

use std::cell::{Cell, OnceCell};
use std::rc::{Rc, Weak};

use idb_sync_core::engine::EngineConfig;
use idb_sync_core::ports::Storage;
use idb_sync_core::sync_loop::{Live, Scheduler, SyncStatus, Tabs};
use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::SyncManager;
use crate::database::LocalDatabase;
use crate::interop::promise;
use crate::sync::clock::{monotonic_ms, now_ms};
use crate::sync::election::Leadership;
use crate::sync::error::ManagerError;
use crate::sync::inner::{Inner, Parts};
use crate::sync::options;
use crate::sync::panic::{install_panic_hook, panicked};
use crate::sync::resolver::JsResolver;
use crate::sync::transport::{Credentials, FetchTransport};
use crate::sync::triggers;

#[wasm_bindgen]
impl SyncManager {
    /// Opens the database and starts syncing (unless `autoSync: false`). Rejects with a
    /// `SyncError` whose code names the bad option (`invalid_db_name`,
    /// `invalid_version`, `invalid_schema`, `invalid_endpoint`, `invalid_auth`,
    /// `invalid_interval`, `invalid_conflict`, `invalid_batch_count`, ...).
    #[wasm_bindgen(js_name = open, unchecked_return_type = "Promise<SyncManager>")]
    pub fn open_js(
        #[wasm_bindgen(unchecked_param_type = "SyncManagerOptions")] options: JsValue,
    ) -> Promise {
        promise(SyncManager::open(options))
    }
}

impl SyncManager {
    /// JS `SyncManager.open` (see [`SyncManager::open_js`]).
    pub async fn open(options: JsValue) -> Result<SyncManager, JsValue> {
        install_panic_hook();
        if let Some(message) = panicked() {
            return Err(ManagerError::Panicked(message).into());
        }
        let options::Options {
            core: opts,
            auth,
            resolver,
            #[cfg(feature = "adapters")]
            custom,
        } = options::parse(&options)?;
        // The election's first lock request goes out now, answered while the database
        // opens; dropped on an error below, it lets the lock go.
        let inner_slot: Rc<OnceCell<Weak<Inner>>> = Rc::default();
        let slot = inner_slot.clone();
        let joining = Leadership::join(&opts.database.name, move |leads| {
            if let Some(inner) = slot.get().and_then(Weak::upgrade) {
                if leads {
                    inner.became_leader();
                } else {
                    inner.lost_leadership();
                }
            }
        });
        if opts.persist_storage {
            crate::sync::health::ask_persist();
        }
        let live = Live::new(opts.live_channel(), opts.scheduler.retry);
        let db = LocalDatabase::open_with(opts.database).await?;
        let storage = db.storage().clone();
        let meta = match storage.read_meta().await {
            Ok(meta) => meta,
            Err(e) => {
                db.close();
                return Err(ManagerError::from(e).into());
            }
        };
        let adopt = opts.adopt.timing(meta.cursor.is_some());
        let client_id = meta.client_id;
        let credentials = Rc::new(Credentials::new(auth));
        let closed = Rc::new(Cell::new(false));
        let leading = Rc::new(Cell::new(false));
        let live_url = format!("{}/v1/events", opts.endpoint);
        let transport = FetchTransport::new(
            opts.endpoint,
            credentials.clone(),
            closed.clone(),
            leading.clone(),
            #[cfg(feature = "adapters")]
            (opts.protocol, custom),
        );
        let online = triggers::is_online();
        let scheduler = Scheduler::new(opts.scheduler, now_ms(), online, triggers::is_visible());
        let config = EngineConfig {
            policies: opts.conflict.policies,
            batch: opts.batch,
            ..EngineConfig::default()
        };
        let tabs = Tabs::new(
            scheduler,
            SyncStatus::new(online),
            opts.auto_sync,
            opts.heartbeat,
            uuid::Uuid::now_v7().to_string(),
            monotonic_ms(),
        )
        .with_live(live);
        let resolver = JsResolver(resolver);
        let parts = Parts {
            db,
            transport,
            credentials,
            closed,
            leading,
            client_id,
            resolver,
            config,
            live_url,
            tabs,
        };
        let inner = Inner::new(parts);
        // First input: the scan at open starts now, beside the election, and
        // `open` does not wait for it (rounds and `syncNow()` do: core's `Tabs::opened`).
        inner.input(|t| t.opened(adopt));
        inner.wire();
        let _ = inner_slot.set(Rc::downgrade(&inner));
        let (leadership, leads) = joining.decided().await;
        inner.joined(leadership, leads);
        Ok(SyncManager { inner })
    }
}
