//! Rate limits per user and per client address (GCRA via `governor`), answered with
//! 429 `rate_limited` and `Retry-After`. Limits live in each instance's memory: with
//! several instances each enforces its own share, which is fine for abuse protection
//! and is the only server state that is not in the database.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::AppState;
use crate::error::ApiError;

/// The two limiters. A limit of 0 turns that limiter off.
#[derive(Debug)]
pub struct RateLimits {
    per_user: Option<DefaultKeyedRateLimiter<String>>,
    per_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    clock: DefaultClock,
}

fn limiter<K: std::hash::Hash + Eq + Clone>(per_minute: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

impl RateLimits {
    /// Limits of `per_user` and `per_address` requests a minute (bursts up to the same).
    pub fn new(per_user: u32, per_address: u32) -> Self {
        Self {
            per_user: limiter(per_user),
            per_address: limiter(per_address),
            clock: DefaultClock::default(),
        }
    }

    fn verdict(
        &self,
        outcome: Result<(), governor::NotUntil<governor::clock::QuantaInstant>>,
        scope: &str,
    ) -> Result<(), ApiError> {
        outcome.map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            ApiError::rate_limited(scope, wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
        })
    }

    /// Counts one request of `user`.
    pub fn check_user(&self, user: &str) -> Result<(), ApiError> {
        match &self.per_user {
            Some(limiter) => self.verdict(limiter.check_key(&user.to_owned()), "user"),
            None => Ok(()),
        }
    }

    /// Counts one request from `address`.
    pub fn check_address(&self, address: IpAddr) -> Result<(), ApiError> {
        match &self.per_address {
            Some(limiter) => self.verdict(limiter.check_key(&address), "address"),
            None => Ok(()),
        }
    }

    /// Forgets keys whose limit has fully recovered (bounds memory).
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.per_user {
            limiter.retain_recent();
        }
        if let Some(limiter) = &self.per_address {
            limiter.retain_recent();
        }
    }
}

/// Middleware: the per-address limit, for every API route.
pub async fn limit_by_address(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(address)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        if let Err(error) = state.limits.check_address(address.ip()) {
            return error.into_response();
        }
    }
    next.run(request).await
}
