//! # idb-sync-core
//!
//! The part of idb-sync that decides whether users lose data, in pure Rust with no web
//! dependency so that it is tested natively, fast and exhaustively. The browser half
//! (`idb-sync`, compiled to wasm) and the reference server (`idb-sync-server`) both
//! build on it, so they can never disagree about the wire format.
//!
//! Map of the crate:
//! - [`protocol`]: protocol v1 wire types and the validation of server answers.
//! - [`adapters`]: protocol v1 translated to the sync APIs servers already have.
//! - [`merge`] and [`outbox`]: the outbox (pending vs in-flight) and its merge rules.
//! - [`conflict`]: conflict policies, the conflict log, manual conflicts.
//! - [`options`]: the options of `SyncManager.open` and `LocalDatabase.open`, validated.
//! - [`engine`]: the client sync round over the [`ports`].
//! - [`server`]: the server rules (idempotency, versions, change sequence) over a
//!   [`server::ServerStore`] port, run by the reference server and the simulation.
//! - [`error_code`]: [`ErrorCode`], every error code the package shows to an app.
//! - [`retry`]: backoff with full jitter, error classes, wake-early signal.
//! - [`sync_loop`]: when to run a round (scheduler), the sync status, round progress.
//! - [`value`]: which values a record may hold, and the wire tags for the rest (Dates).
//! - [`memory`]: in-memory implementations of every port, for tests.
//!
//! The design lives in the repository's `docs/`: `I1`…`I12` in comments name the
//! data-safety invariants of `docs/INVARIANTS.md`; the merge table, the sync round and
//! the conflict policies are described in `docs/ENGINE.md`, the wire format in
//! `docs/PROTOCOL.md`.
#![warn(missing_docs)]

pub mod adapters;
pub mod conflict;
pub mod engine;
pub mod error;
pub mod error_code;
pub mod hlc;
pub mod key;
pub mod memory;
pub mod merge;
pub mod options;
pub mod outbox;
pub mod ports;
pub mod protocol;
pub mod record;
pub mod retry;
pub mod schema;
pub mod server;
pub mod sync_loop;
pub mod value;

pub use error::{ErrorClass, SyncError};
pub use error_code::ErrorCode;
pub use key::{RecordId, RecordKey};
pub use record::{Op, Patch, Record};

/// The version of the sync protocol spoken by this crate (see `docs/PROTOCOL.md`).
pub const PROTOCOL_VERSION: u32 = 1;

/// The version of the idb-sync crates, shared by the wasm package and the server.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
