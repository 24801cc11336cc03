//! # idb-sync-server
//!
//! The reference sync server for idb-sync: protocol v1 (docs/PROTOCOL.md) over HTTP
//! (axum), with accounts and tokens, on a database adapter (SQLite by default,
//! PostgreSQL to scale out) over the server rules of `idb-sync-core`. `main.rs`
//! parses flags and calls [`serve`]; tests start the same app in-process.
//!
//! No state that matters lives in memory (only rate-limit counters), so several
//! instances over one PostgreSQL database serve the same users.
//!
//! `I1`…`I12` in comments name the invariants of `docs/INVARIANTS.md`; the server's
//! layout and data model are described in `docs/SERVER.md`.
#![warn(missing_docs)]

pub mod auth;
mod change_seq;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod gc;
pub mod http;
pub mod rules;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

pub use config::{Config, LogFormat, Mode};
pub use db::Database;

use auth::{resolve_jwt_secret, Authenticator, TokenKeys};
use http::rate_limit::RateLimits;
use http::AppState;
use rules::SyncRules;

/// Builds the shared state for `config` over `database`, or says why the server
/// must not start (for example production mode without a JWT secret).
pub async fn build_state(config: &Config, database: Database) -> Result<AppState, String> {
    let secret = resolve_jwt_secret(config.jwt_secret.as_deref(), config.mode, &database).await?;
    let api_key = config.api_key.clone().filter(|key| !key.is_empty());
    if let Some(key) = &api_key {
        if key.len() < 16 {
            return Err("the API key must be at least 16 characters".to_owned());
        }
    }
    Ok(AppState {
        database,
        auth: Arc::new(Authenticator {
            tokens: TokenKeys::new(&secret, config.token_ttl_secs),
            api_key,
        }),
        limits: Arc::new(RateLimits::new(
            config.rate_limit_per_user,
            config.rate_limit_per_address,
            config.rate_limit_auth_per_address,
        )),
        rules: Arc::new(SyncRules::from_config(config)),
        events: Arc::new(events::EventHub::new(
            usize::try_from(config.events_max_streams_per_user).unwrap_or(usize::MAX),
        )),
        events_keepalive_ms: config.events_keepalive_ms,
    })
}

/// Serves the HTTP API over `state` (see [`build_state`]) on `listener` until
/// `shutdown` resolves (then event streams end, so in-flight requests can finish),
/// collecting tombstones and forgetting idle rate-limit keys in the background and,
/// on PostgreSQL, listening for other instances' pushes.
pub async fn serve(
    listener: TcpListener,
    config: &Config,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let collector = (config.gc_interval_secs > 0).then(|| {
        gc::spawn_collector(
            state.database.clone(),
            Duration::from_secs(config.gc_interval_secs),
            Duration::from_secs(config.tombstone_retention_hours * 3600),
        )
    });
    let limit_cleanup = http::rate_limit::spawn_cleanup(
        state.limits.clone(),
        Duration::from_secs(config.rate_limit_cleanup_secs),
    );
    let change_listener = (state.database.kind() == db::DatabaseKind::Postgres).then(|| {
        events::postgres::spawn_listener(
            config.database.clone(),
            state.events.clone(),
            state.database.clone(),
        )
    });
    let hub = state.events.clone();
    let shutdown = async move {
        shutdown.await;
        // Event streams never finish on their own: end them, or graceful shutdown
        // would wait for them forever.
        hub.close();
    };
    let app = http::router(config, state);
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    if let Some(change_listener) = change_listener {
        change_listener.abort();
    }
    if let Some(collector) = collector {
        collector.abort();
    }
    limit_cleanup.abort();
    served
}
