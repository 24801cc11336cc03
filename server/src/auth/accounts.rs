//! User accounts in the `users` table.

use sqlx::Row;

use crate::db::Database;
use crate::error::ApiError;

/// A user account.
#[derive(Debug, Clone)]
pub struct Account {
    /// The user id (a UUID v7).
    pub id: String,
    /// The e-mail address, lower-cased.
    pub email: String,
    /// The argon2 PHC hash of the password.
    pub password_hash: String,
}

/// Creates an account; 409 `email_taken` if the address is already registered.
pub async fn create_account(
    database: &Database,
    email: &str,
    password_hash: &str,
) -> Result<Account, ApiError> {
    let id = uuid::Uuid::now_v7().to_string();
    let created_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let inserted = sqlx::query("INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (email) DO NOTHING")
        .bind(&id)
        .bind(email)
        .bind(password_hash)
        .bind(created_at)
        .execute(database.pool())
        .await
        .map_err(ApiError::internal)?;
    if inserted.rows_affected() == 0 {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "email_taken",
            "an account with this e-mail address exists",
        ));
    }
    Ok(Account {
        id,
        email: email.to_owned(),
        password_hash: password_hash.to_owned(),
    })
}

/// The account registered with `email`, if any.
pub async fn find_account(database: &Database, email: &str) -> Result<Option<Account>, ApiError> {
    let row = sqlx::query("SELECT id, email, password_hash FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(database.pool())
        .await
        .map_err(ApiError::internal)?;
    row.map(|row| {
        Ok(Account {
            id: row.try_get("id").map_err(ApiError::internal)?,
            email: row.try_get("email").map_err(ApiError::internal)?,
            password_hash: row.try_get("password_hash").map_err(ApiError::internal)?,
        })
    })
    .transpose()
}

/// The e-mail address of user `id`, if it is an account (not the API-key user).
pub async fn email_of(database: &Database, id: &str) -> Result<Option<String>, ApiError> {
    sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(database.pool())
        .await
        .map_err(ApiError::internal)
}
