//! Rate limits per user, per client address, and (stricter) per client address on the
//! account routes, whose every request costs a password hash (GCRA via `governor`),
//! answered with 429 `rate_limited` and `Retry-After`. Limits live in each instance's memory: with
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

/// The three limiters. A limit of 0 turns that limiter off.
#[derive(Debug)]
pub struct RateLimits {
    per_user: Option<DefaultKeyedRateLimiter<String>>,
    per_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    auth_per_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    clock: DefaultClock,
}

fn limiter<K: std::hash::Hash + Eq + Clone>(per_minute: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

impl RateLimits {
    /// Limits of `per_user` and `per_address` requests a minute, and of
    /// `auth_per_address` signups and logins a minute (bursts up to the same).
    pub fn new(per_user: u32, per_address: u32, auth_per_address: u32) -> Self {
        Self {
            per_user: limiter(per_user),
            per_address: limiter(per_address),
            auth_per_address: limiter(auth_per_address),
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

    /// Counts one signup or login from `address`.
    pub fn check_auth(&self, address: IpAddr) -> Result<(), ApiError> {
        match &self.auth_per_address {
            Some(limiter) => self.verdict(limiter.check_key(&address), "address"),
            None => Ok(()),
        }
    }

    /// Forgets keys whose limit has fully recovered (bounds memory).
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.per_user {
            limiter.retain_recent();
        }
        for limiter in [&self.per_address, &self.auth_per_address]
            .into_iter()
            .flatten()
        {
            limiter.retain_recent();
        }
    }

    /// How many users and addresses the limiters remember.
    pub fn tracked_keys(&self) -> usize {
        self.per_user.as_ref().map_or(0, |l| l.len())
            + [&self.per_address, &self.auth_per_address]
                .into_iter()
                .flatten()
                .map(|l| l.len())
                .sum::<usize>()
    }
}

/// Forgets idle rate-limit keys every `interval`, for as long as the server runs.
pub fn spawn_cleanup(
    limits: std::sync::Arc<RateLimits>,
    interval: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.tick().await; // the first tick is immediate
        loop {
            ticker.tick().await;
            limits.forget_idle();
        }
    })
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

/// Middleware: the stricter per-address limit of the account routes (signup, login).
pub async fn limit_auth_by_address(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(address)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        if let Err(error) = state.limits.check_auth(address.ip()) {
            return error.into_response();
        }
    }
    next.run(request).await
}
