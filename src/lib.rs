//! # idb-sync (browser half)
//!
//! The WebAssembly package apps import from npm. It binds the pure-Rust engine in
//! `idb-sync-core` to the browser: IndexedDB storage (web-sys, `src/idb.rs`), HTTP transport
//! (gloo-net), timers and DOM events (gloo-timers, gloo-events), Web Locks and
//! `BroadcastChannel`. This crate holds adapters and bindings only — the sync rules
//! live in the core. `docs/ARCHITECTURE.md` has a "where does X live" table; `I1`…`I12`
//! in comments name the invariants of `docs/INVARIANTS.md`.
//!
//! ```js
//! import init, { version, checkServer } from 'idb-sync';
//! await init();
//! console.log(version(), await checkServer('http://127.0.0.1:8787'));
//! ```
#![warn(missing_docs)]

mod args;
mod database;
mod error;
mod error_code;
mod events;
mod idb;
mod interop;
mod options;
mod query;
mod server_check;
mod storage;
mod sync;
mod table;
#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub mod testing;
mod value;
mod where_clause;

use wasm_bindgen::prelude::*;

pub use database::LocalDatabase;
pub use error::SyncError;
pub use query::Collection;
pub use server_check::{check_server, ServerHealth};
pub use storage::IdbStorage;
pub use sync::SyncManager;
pub use table::Table;
pub use where_clause::WhereClause;

/// The version of this package (the same as the npm package's).
#[wasm_bindgen]
pub fn version() -> String {
    idb_sync_core::VERSION.to_owned()
}

/// The sync protocol version this package speaks (see docs/PROTOCOL.md).
#[wasm_bindgen(js_name = protocolVersion)]
pub fn protocol_version() -> u32 {
    idb_sync_core::PROTOCOL_VERSION
}
