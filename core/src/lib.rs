//! # idb-sync-core
//!
//! The part of idb-sync that decides whether users lose data, in pure Rust with no web
//! dependency so that it is tested natively, fast and exhaustively. The browser half
//! (`idb-sync`, compiled to wasm) and the reference server (`idb-sync-server`) both
//! build on it, so they can never disagree about the wire format.
#![warn(missing_docs)]

/// The version of the sync protocol spoken by this crate (see `docs/PROTOCOL.md`).
pub const PROTOCOL_VERSION: u32 = 1;

/// The version of the idb-sync crates, shared by the wasm package and the server.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
