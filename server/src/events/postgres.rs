//! Pokes across server instances over one PostgreSQL database: after a push commits,
//! the instance that served it sends `NOTIFY idb_sync_changes, '<seq>:<user>'`; every
//! instance (itself included) LISTENs on one dedicated connection and feeds its
//! [`EventHub`]. When that connection is lost, the listener reconnects with backoff,
//! LISTENs again and catches up: it reads the change seq of every user with an open
//! stream here and publishes it (notifications sent meanwhile were lost).
//!
//! SQLite has none of this: one instance, in-process fan-out only.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::Row;
use tokio::task::JoinHandle;

use super::EventHub;
use crate::db::Database;
use crate::store::to_u64;

/// The notification channel.
pub const CHANNEL: &str = "idb_sync_changes";

/// The `application_name` of the listening connection (to find it in
/// `pg_stat_activity`).
pub const LISTENER_NAME: &str = "idb-sync-listen";

/// Users whose change seq is read in one query when catching up.
const CATCH_UP_BATCH: usize = 100;

/// The payload of a notification: `<seq>:<user>` (a user id may hold `:`, a seq not).
fn payload(user: &str, seq: u64) -> String {
    format!("{seq}:{user}")
}

/// The (user, seq) of a notification payload, if it is one of ours.
fn parse_payload(payload: &str) -> Option<(&str, u64)> {
    let (seq, user) = payload.split_once(':')?;
    Some((user, seq.parse().ok()?))
}

/// Tells every instance over this database that `user`'s change stream moved to
/// `seq`. Sent after the push committed, outside its transaction (no global commit
/// lock held with the user's row lock); a failure only costs the other instances'
/// clients the poke (they catch up on their interval or next reconnect).
pub async fn notify(database: &Database, user: &str, seq: u64) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT length(pg_notify($1, $2)::text) AS sent")
        .bind(CHANNEL)
        .bind(payload(user, seq))
        .execute(database.pool())
        .await?;
    Ok(())
}

/// Listens for notifications from every instance over the PostgreSQL database at
/// `url` and publishes them on `hub`, until aborted.
pub fn spawn_listener(url: String, hub: Arc<EventHub>, database: Database) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(250);
        loop {
            match listen(&url).await {
                Ok(mut listener) => {
                    backoff = Duration::from_millis(250);
                    catch_up(&hub, &database).await;
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(notification)) => {
                                if let Some((user, seq)) = parse_payload(notification.payload()) {
                                    hub.publish(user, seq);
                                }
                            }
                            // Lost and already re-established: what was sent meanwhile
                            // is missing.
                            Ok(None) => {
                                tracing::warn!("the LISTEN connection was lost; listening again");
                                catch_up(&hub, &database).await;
                            }
                            Err(error) => {
                                tracing::warn!(%error, "the LISTEN connection failed");
                                break;
                            }
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot LISTEN for changes"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
    })
}

async fn listen(url: &str) -> Result<PgListener, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?.application_name(LISTENER_NAME);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_with(options)
        .await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.ignore_pool_close_event(true);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Publishes the stored change seq of every user with an open stream here.
async fn catch_up(hub: &EventHub, database: &Database) {
    let users = hub.listening_users();
    for batch in users.chunks(CATCH_UP_BATCH) {
        let placeholders: Vec<String> = (1..=batch.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT user_id, last_change_seq FROM user_sync WHERE user_id IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for user in batch {
            query = query.bind(user);
        }
        match query.fetch_all(database.pool()).await {
            Ok(rows) => {
                for row in rows {
                    if let (Ok(user), Ok(seq)) = (
                        row.try_get::<String, _>("user_id"),
                        row.try_get::<i64, _>("last_change_seq"),
                    ) {
                        hub.publish(&user, to_u64(seq));
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "cannot catch up on missed changes"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_user_ids_with_colons() {
        assert_eq!(parse_payload(&payload("a:b", 42)), Some(("a:b", 42)));
        assert_eq!(parse_payload("x:user"), None);
        assert_eq!(parse_payload("no separator"), None);
    }
}
