//! Tombstone garbage collection: deleted records are kept as tombstones so that other
//! devices learn of the delete; after the retention period they are purged and the
//! user's tombstone horizon rises, so a client whose cursor is older is told to reset
//! (`resetRequired`) instead of silently missing deletes. Runs in every instance;
//! collecting twice is harmless.

use std::sync::Arc;
use std::time::Duration;

use idb_sync_core::server::{self, ServerError};
use sqlx::Row;

use crate::db::Database;
use crate::http::rate_limit::RateLimits;
use crate::store::SqlStore;

/// Purges every user's tombstones written before `older_than_ms` (server clock, ms
/// since the epoch). Returns how many users had tombstones purged.
pub async fn collect_tombstones(
    database: &Database,
    older_than_ms: u64,
) -> Result<usize, ServerError> {
    let rows = sqlx::query("SELECT user_id, MAX(change_seq) AS up_to FROM records WHERE data IS NULL AND updated_at < $1 GROUP BY user_id")
        .bind(i64::try_from(older_than_ms).unwrap_or(i64::MAX))
        .fetch_all(database.pool())
        .await
        .map_err(|e| ServerError::Store(e.to_string()))?;
    let mut purged = 0;
    for row in rows {
        let user: String = row
            .try_get("user_id")
            .map_err(|e| ServerError::Store(e.to_string()))?;
        let up_to: i64 = row
            .try_get("up_to")
            .map_err(|e| ServerError::Store(e.to_string()))?;
        let mut store = SqlStore::begin_write(database, &user).await?;
        server::collect_tombstones(&mut store, &user, u64::try_from(up_to).unwrap_or(0)).await?;
        store.commit().await?;
        purged += 1;
    }
    Ok(purged)
}

/// Runs [`collect_tombstones`] every `interval`, purging tombstones older than
/// `retention`, and lets the rate limiters forget idle keys.
pub fn spawn_collector(
    database: Database,
    limits: Arc<RateLimits>,
    interval: Duration,
    retention: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.tick().await; // the first tick is immediate; start one interval later
        loop {
            ticker.tick().await;
            limits.forget_idle();
            let cutoff = crate::http::now_ms().saturating_sub(retention.as_millis() as u64);
            match collect_tombstones(&database, cutoff).await {
                Ok(0) => {}
                Ok(users) => tracing::info!(users, "collected tombstones"),
                Err(error) => tracing::warn!(%error, "tombstone collection failed; will retry"),
            }
        }
    })
}
