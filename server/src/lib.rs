//! # idb-sync-server
//!
//! The reference sync server for idb-sync: HTTP (axum) over a database adapter
//! (SQLite by default, created on first run). `main.rs` parses flags and starts
//! [`serve`]; tests start the same app in-process on an ephemeral port.
#![warn(missing_docs)]

pub mod config;
pub mod db;
pub mod error;
pub mod http;

use tokio::net::TcpListener;

pub use config::Config;
pub use db::Database;

/// Serves the HTTP API on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    config: &Config,
    database: Database,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = http::router(config, database);
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
