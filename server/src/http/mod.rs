//! The HTTP surface: routes, CORS and request tracing. Each route's handler lives in a
//! file of its own.

mod health;

use axum::http::{HeaderValue, Method};
use axum::routing::get;
use axum::Router;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::{Config, Database};

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub database: Database,
}

/// Builds the router for `config` over `database`.
pub fn router(config: &Config, database: Database) -> Router {
    Router::new()
        .route("/health", get(health::health))
        .fallback(|| async { ApiError::not_found("no such route") })
        .layer(cors_layer(&config.cors_origins))
        .layer(TraceLayer::new_for_http())
        .with_state(AppState { database })
}

fn cors_layer(origins: &[String]) -> CorsLayer {
    let allow_origin = if origins.is_empty() {
        AllowOrigin::from(Any)
    } else {
        AllowOrigin::list(origins.iter().filter_map(|origin| HeaderValue::from_str(origin.trim()).ok()))
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers(Any)
        .expose_headers(Any)
}
