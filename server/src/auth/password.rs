//! Password hashing with argon2id (the crate's recommended parameters), off the async
//! threads because it is deliberately slow, and at most [`HASHING_PERMITS`] at a time
//! because each takes about 19 MiB: a burst of logins waits its turn instead of
//! taking the server's memory.

use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::error::ApiError;

/// Most password hashes computed at once in this process.
pub const HASHING_PERMITS: usize = 2;

static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(HASHING_PERMITS);
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The most password hashes that have run at the same time in this process.
pub fn peak_concurrent_hashes() -> usize {
    PEAK.load(Ordering::SeqCst)
}

/// Runs the blocking `work` (a password hash) when a hashing permit is free.
async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let _permit = HASHING.acquire().await.map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(move || {
        let running = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
        PEAK.fetch_max(running, Ordering::SeqCst);
        let result = work();
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        result
    })
    .await
    .map_err(ApiError::internal)?
}

/// Hashes `password` into a PHC string (algorithm, parameters, salt and hash).
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    hashing(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(ApiError::internal)
    })
    .await
}

/// Whether `password` matches the PHC string `hash`.
pub async fn verify_password(password: String, hash: String) -> Result<bool, ApiError> {
    hashing(move || {
        let parsed = PasswordHash::new(&hash).map_err(ApiError::internal)?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
}
