//! The database work of a push as a tested budget, on SQLite and PostgreSQL: every SQL
//! statement sqlx runs is counted (its `sqlx::query` log events, collected by a
//! tracing layer), so the counts are deterministic. A push updates the user's change
//! sequence once, however many mutations it applies (docs/SERVER.md, "Transactions
//! and ordering"), and runs 3 statements per applied create plus a fixed few.
//!
//! The pushes run through the library exactly as `POST /v1/push` does
//! (`SqlStore::begin_write`, `apply_push`, `commit`), one at a time per test binary
//! (the log collector is process-wide).

mod support;

use std::sync::{Arc, Mutex, OnceLock};

use idb_sync_core::protocol::{PushRequest, PushResponse};
use idb_sync_core::server::{self, BasicValidator, ServerConfig};
use idb_sync_server::store::SqlStore;
use idb_sync_server::Database;
use serde_json::json;
use sqlx::Row;
use support::{create, Backend, TestServer};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// The SQL of every statement sqlx ran since the last [`take_statements`].
type Log = Arc<Mutex<Vec<String>>>;

/// Collects the SQL text of `sqlx::query` events.
struct Collect(Log);

#[derive(Default)]
struct Sql {
    summary: String,
    statement: String,
}

impl Visit for Sql {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => self.summary = value.to_owned(),
            "db.statement" => self.statement = value.trim().to_owned(),
            _ => {}
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber> Layer<S> for Collect {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let mut sql = Sql::default();
        event.record(&mut sql);
        // `db.statement` is empty when the summary (first 4 words) is the whole text.
        let text = if sql.statement.is_empty() {
            sql.summary
        } else {
            sql.statement
        };
        // A new pooled connection's setup is not the push's work, and transaction
        // control is logged on PostgreSQL only (`COMMIT`), so neither is counted.
        let skipped = ["PRAGMA", "BEGIN", "COMMIT", "ROLLBACK"];
        if !skipped.iter().any(|word| text.starts_with(word)) {
            self.0.lock().expect("log").push(text);
        }
    }
}

fn log() -> &'static Log {
    static LOG: OnceLock<Log> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Log::default();
        tracing::subscriber::set_global_default(
            tracing_subscriber::registry().with(Collect(log.clone())),
        )
        .expect("the only subscriber of this test binary");
        log
    })
}

/// One test at a time, from the server's start (its migrations are statements too):
/// the collector sees every thread of the process.
async fn turn() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    log();
    TURN.lock().await
}

/// Runs `body` on a fresh database of each backend available here, one test at a time.
macro_rules! on_each_backend_in_turn {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let _turn = turn().await;
                if let Some(server) = TestServer::start(Backend::Sqlite, &[]).await {
                    ($body)(server.database.clone()).await;
                }
            }
            #[tokio::test]
            async fn postgres() {
                let _turn = turn().await;
                if let Some(server) = TestServer::start(Backend::Postgres, &[]).await {
                    ($body)(server.database.clone()).await;
                }
            }
        }
    };
}

fn take_statements() -> Vec<String> {
    std::mem::take(&mut *log().lock().expect("log"))
}

/// Pushes `mutations` (wire form) as `user`/`client_id` the way `POST /v1/push` does.
async fn push(
    database: &Database,
    user: &str,
    client_id: &str,
    mutations: Vec<serde_json::Value>,
) -> PushResponse {
    let request: PushRequest = serde_json::from_value(
        json!({ "protocolVersion": 1, "clientId": client_id, "mutations": mutations }),
    )
    .expect("a push request");
    let mut store = SqlStore::begin_write(database, user).await.expect("begin");
    let response = server::apply_push(
        &mut store,
        user,
        &request,
        &ServerConfig::default(),
        &BasicValidator::default(),
        0,
    )
    .await
    .expect("push");
    store.commit().await.expect("commit");
    response
}

/// `count` creates of new keys, from client seq `first` on.
fn creates(first: u64, count: u64, prefix: &str) -> Vec<serde_json::Value> {
    (first..first + count)
        .map(|seq| {
            create(
                seq,
                "tasks",
                &format!("{prefix}-{seq}"),
                json!({ "n": seq }),
            )
        })
        .collect()
}

/// Statements in `log` that change the user's change sequence.
fn seq_updates(log: &[String]) -> usize {
    log.iter()
        .filter(|sql| sql.starts_with("UPDATE user_sync SET last_change_seq"))
        .count()
}

/// How many times each statement ran (by its first words), for failure messages.
fn histogram(log: &[String]) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for sql in log {
        let words: Vec<&str> = sql.split_whitespace().take(6).collect();
        *counts.entry(words.join(" ")).or_default() += 1;
    }
    counts
}

fn versions(response: &PushResponse) -> Vec<u64> {
    let value = serde_json::to_value(response).expect("json");
    value["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["status"] == "applied")
        .map(|r| r["version"].as_u64().expect("version"))
        .collect()
}

async fn last_change_seq(database: &Database, user: &str) -> u64 {
    let row = sqlx::query("SELECT last_change_seq FROM user_sync WHERE user_id = $1")
        .bind(user)
        .fetch_one(database.pool())
        .await
        .expect("user_sync row");
    u64::try_from(row.get::<i64, _>("last_change_seq")).expect("not negative")
}

/// Fixed statements of a push from a client the server knows (every applied create
/// adds 3: the record's read, its upsert, its outcome row): the `user_sync` insert and
/// its read, the client state and its outcomes, the client state's upsert, the
/// outcome prune, and the one change-sequence update.
const FIXED_PER_PUSH: usize = 7;
/// Statements per applied create of a new key.
const PER_CREATE: usize = 3;

async fn one_change_sequence_update_per_push(database: &Database) {
    // A first push: the client becomes known (and the pool warm).
    let first = push(database, "u1", "device-1", creates(1, 1, "k")).await;
    assert_eq!(versions(&first), vec![1]);
    take_statements();

    for (first_seq, count) in [(2, 1), (3, 10), (13, 100)] {
        let before = last_change_seq(database, "u1").await;
        take_statements();
        let response = push(database, "u1", "device-1", creates(first_seq, count, "k")).await;
        let log = take_statements();
        assert_eq!(
            seq_updates(&log),
            1,
            "one change-sequence update for {count} applied mutations: {:#?}",
            histogram(&log)
        );
        assert_eq!(
            log.len(),
            FIXED_PER_PUSH + PER_CREATE * count as usize,
            "statements of a push of {count} creates: {:#?}",
            histogram(&log)
        );
        // The numbers are the next `count` ones, in order, and the counter is past them.
        let expected: Vec<u64> = (before + 1..=before + count).collect();
        assert_eq!(versions(&response), expected);
        assert_eq!(last_change_seq(database, "u1").await, before + count);
    }

    // A push that applies nothing (a resend, answered `duplicate`) updates no counter.
    let before = last_change_seq(database, "u1").await;
    take_statements();
    let resend = push(database, "u1", "device-1", creates(13, 100, "k")).await;
    let log = take_statements();
    assert!(versions(&resend).is_empty());
    assert_eq!(seq_updates(&log), 0, "{:#?}", histogram(&log));
    assert_eq!(last_change_seq(database, "u1").await, before);
}

on_each_backend_in_turn!(
    a_push_updates_the_change_sequence_once,
    |database: Database| async move {
        one_change_sequence_update_per_push(&database).await;
    }
);

/// Concurrent pushes of one user's devices get every number once, with no gap: the
/// writers are serialised, and each push's block starts where the last one ended.
async fn concurrent_pushes_share_one_gapless_sequence(database: &Database) {
    const DEVICES: u64 = 6;
    const PUSHES: u64 = 4;
    const BATCH: u64 = 15;
    let tasks: Vec<_> = (0..DEVICES)
        .map(|device| {
            let database = database.clone();
            tokio::spawn(async move {
                let client = format!("device-{device}");
                let mut versions_seen = Vec::new();
                for round in 0..PUSHES {
                    let response = push(
                        &database,
                        "u2",
                        &client,
                        creates(round * BATCH + 1, BATCH, &client),
                    )
                    .await;
                    let got = versions(&response);
                    assert_eq!(got.len() as u64, BATCH);
                    assert!(
                        got.windows(2).all(|w| w[1] == w[0] + 1),
                        "a push's numbers are consecutive: {got:?}"
                    );
                    versions_seen.extend(got);
                }
                versions_seen
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("device task"));
    }
    all.sort_unstable();
    let total = DEVICES * PUSHES * BATCH;
    assert_eq!(all, (1..=total).collect::<Vec<_>>());
    assert_eq!(last_change_seq(database, "u2").await, total);
}

on_each_backend_in_turn!(
    concurrent_pushes_of_one_user_number_their_changes_without_gaps,
    |database: Database| async move {
        concurrent_pushes_share_one_gapless_sequence(&database).await;
    }
);
