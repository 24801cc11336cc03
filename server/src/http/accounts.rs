//! Accounts: `POST /v1/auth/signup`, `POST /v1/auth/login`, `GET /v1/auth/me`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::body::JsonBody;
use super::{AppState, AuthUser};
use crate::auth::{create_account, find_account, hash_password, verify_password};
use crate::error::ApiError;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted (argon2 takes any length; this bounds the work).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The body of signup and login.
#[derive(Debug, Deserialize)]
pub struct Credentials {
    /// E-mail address (compared case-insensitively).
    pub email: String,
    /// Password.
    pub password: String,
}

/// The answer to signup and login.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// Bearer token for the sync endpoints.
    pub token: String,
    /// When the token expires, seconds since the epoch.
    pub expires_at: u64,
    /// Who it is for.
    pub user: UserInfo,
}

/// A user, as the API shows it.
#[derive(Debug, Serialize)]
pub struct UserInfo {
    /// The user id.
    pub id: String,
    /// The e-mail address (none for the API-key user).
    pub email: Option<String>,
}

fn normalise_email(email: &str) -> Result<String, ApiError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(ApiError::bad_request(
            "invalid_email",
            "give an e-mail address like name@example.com",
        ))
    }
}

/// Creates an account and logs it in: 201 with a [`Session`].
pub async fn signup(
    State(state): State<AppState>,
    JsonBody(credentials): JsonBody<Credentials>,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    let email = normalise_email(&credentials.email)?;
    if credentials.password.chars().count() < MIN_PASSWORD_CHARS
        || credentials.password.len() > MAX_PASSWORD_BYTES
    {
        return Err(ApiError::bad_request(
            "weak_password",
            format!("the password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_BYTES} bytes long"),
        ));
    }
    let hash = hash_password(credentials.password).await?;
    let account = create_account(&state.database, &email, &hash).await?;
    let (token, expires_at) = state.auth.tokens.issue(&account.id)?;
    Ok((
        StatusCode::CREATED,
        Json(Session {
            token,
            expires_at,
            user: UserInfo {
                id: account.id,
                email: Some(account.email),
            },
        }),
    ))
}

/// Logs in: 200 with a [`Session`], or 401 `invalid_credentials`.
pub async fn login(
    State(state): State<AppState>,
    JsonBody(credentials): JsonBody<Credentials>,
) -> Result<Json<Session>, ApiError> {
    let invalid =
        || ApiError::unauthorized("invalid_credentials", "wrong e-mail address or password");
    let email = normalise_email(&credentials.email).map_err(|_| invalid())?;
    let account = find_account(&state.database, &email)
        .await?
        .ok_or_else(invalid)?;
    if !verify_password(credentials.password, account.password_hash.clone()).await? {
        return Err(invalid());
    }
    let (token, expires_at) = state.auth.tokens.issue(&account.id)?;
    Ok(Json(Session {
        token,
        expires_at,
        user: UserInfo {
            id: account.id,
            email: Some(account.email),
        },
    }))
}

/// Who the token belongs to.
pub async fn me(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<UserInfo>, ApiError> {
    let email = crate::auth::email_of(&state.database, &user).await?;
    Ok(Json(UserInfo { id: user, email }))
}
