//! The HTTP surface: routes, the shared state, authentication of requests, CORS,
//! body limits, rate limits and request tracing. Each group of routes lives in a
//! file of its own.

mod accounts;
mod body;
mod events;
mod health;
pub mod rate_limit;
mod sync;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method};
use axum::routing::{get, post};
use axum::Router;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::auth::Authenticator;
use crate::error::ApiError;
use crate::events::EventHub;
use crate::rules::SyncRules;
use crate::{Config, Database};
use rate_limit::RateLimits;

/// What every handler can reach. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub database: Database,
    /// Checks who is calling.
    pub auth: Arc<Authenticator>,
    /// Per-user and per-address rate limits.
    pub limits: Arc<RateLimits>,
    /// Limits and validation of sync requests.
    pub rules: Arc<SyncRules>,
    /// The open event streams (`GET /v1/events`) of this process.
    pub events: Arc<EventHub>,
    /// How long an event stream may stay silent before a keepalive comment, in ms.
    pub events_keepalive_ms: u64,
}

/// The authenticated user of a request (after the per-user rate limit). Rejects with
/// 401 (`missing_token`, `invalid_token`, `token_expired`) or 429.
#[derive(Debug, Clone)]
pub struct AuthUser(pub String);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = state.auth.user_of(&parts.headers)?;
        state.limits.check_user(&user)?;
        Ok(AuthUser(user))
    }
}

/// The server clock, ms since the epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Builds the router for `config` over `state`.
pub fn router(config: &Config, state: AppState) -> Router {
    let password_routes = Router::new()
        .route("/v1/auth/signup", post(accounts::signup))
        .route("/v1/auth/login", post(accounts::login))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate_limit::limit_auth_by_address,
        ));
    let api = Router::new()
        .route("/v1/push", post(sync::push))
        .route("/v1/pull", post(sync::pull))
        .route("/v1/events", get(events::events))
        .route("/v1/auth/me", get(accounts::me))
        .merge(password_routes)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate_limit::limit_by_address,
        ));
    Router::new()
        .route("/health", get(health::health))
        .merge(api)
        .fallback(|| async { ApiError::not_found("no such route") })
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(cors_layer(&config.cors_origins))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

fn cors_layer(origins: &[String]) -> CorsLayer {
    let allow_origin = if origins.is_empty() {
        AllowOrigin::from(Any)
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin.trim()).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers(Any)
        .expose_headers(Any)
}
