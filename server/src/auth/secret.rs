//! Where the JWT signing secret comes from: the configuration, or — in dev mode only
//! — a random secret generated on first start and kept in the database's
//! `server_meta` table, so restarts keep tokens valid and every instance over one
//! database shares it.

use argon2::password_hash::rand_core::{OsRng, RngCore};

use crate::config::Mode;
use crate::db::Database;

/// The smallest secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// Returns the secret to sign tokens with, or why the server must not start.
pub async fn resolve_jwt_secret(
    configured: Option<&str>,
    mode: Mode,
    database: &Database,
) -> Result<Vec<u8>, String> {
    if let Some(secret) = configured {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "the JWT secret must be at least {MIN_SECRET_BYTES} bytes"
            ));
        }
        return Ok(secret.as_bytes().to_vec());
    }
    if mode == Mode::Production {
        return Err("production mode needs --jwt-secret (or IDB_SYNC_JWT_SECRET)".to_owned());
    }
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let candidate: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    // Insert-if-absent, then read: concurrent first starts agree on one secret.
    sqlx::query("INSERT INTO server_meta (key, value) VALUES ('jwt_secret', $1) ON CONFLICT (key) DO NOTHING")
        .bind(&candidate)
        .execute(database.pool())
        .await
        .map_err(|e| format!("cannot store the dev JWT secret: {e}"))?;
    let stored: String =
        sqlx::query_scalar("SELECT value FROM server_meta WHERE key = 'jwt_secret'")
            .fetch_one(database.pool())
            .await
            .map_err(|e| format!("cannot read the dev JWT secret: {e}"))?;
    Ok(stored.into_bytes())
}
