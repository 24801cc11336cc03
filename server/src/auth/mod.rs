//! Who is calling: accounts (argon2 password hashes), JWT access tokens (HS256 with
//! expiry), and the optional single-user API key. Every sync request is made as one
//! user, and every row the server touches belongs to that user.

mod accounts;
mod password;
mod secret;
mod token;

pub use accounts::{create_account, email_of, find_account, Account};
pub use password::{hash_password, verify_password};
pub use secret::resolve_jwt_secret;
pub use token::{Claims, TokenKeys};

use axum::http::HeaderMap;

use crate::error::ApiError;

/// The user id that the API key acts as.
pub const API_KEY_USER: &str = "owner";

/// Everything needed to authenticate a request.
#[derive(Clone)]
pub struct Authenticator {
    /// Signs and checks access tokens.
    pub tokens: TokenKeys,
    /// The single-user API key, when configured.
    pub api_key: Option<String>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// The user a request acts as, from `Authorization: Bearer <token or API key>` or
    /// `X-API-Key: <key>`. 401 `missing_token`, `invalid_token` or `token_expired`.
    pub fn user_of(&self, headers: &HeaderMap) -> Result<String, ApiError> {
        if let Some(key) = headers.get("x-api-key") {
            let key = key.to_str().unwrap_or_default();
            return match &self.api_key {
                Some(expected) if constant_time_eq(key.as_bytes(), expected.as_bytes()) => {
                    Ok(API_KEY_USER.to_owned())
                }
                _ => Err(ApiError::unauthorized(
                    "invalid_token",
                    "the API key is not valid",
                )),
            };
        }
        let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
            return Err(ApiError::unauthorized(
                "missing_token",
                "send `Authorization: Bearer <token>`",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "missing_token",
                    "the Authorization header is not `Bearer <token>`",
                )
            })?;
        if let Some(expected) = &self.api_key {
            if constant_time_eq(token.as_bytes(), expected.as_bytes()) {
                return Ok(API_KEY_USER.to_owned());
            }
        }
        self.tokens.verify(token).map(|claims| claims.sub)
    }
}

/// Compares secrets without leaking where they differ through timing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
