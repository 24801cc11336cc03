//! Test support: a real server started in-process on an ephemeral loopback port, over
//! a fresh SQLite file or a fresh PostgreSQL database.
//!
//! PostgreSQL tests need `IDB_SYNC_TEST_POSTGRES_URL` (an admin URL; `scripts/test`
//! starts a throwaway cluster with `scripts/postgres` and sets it). Without it they
//! print why they are skipped and return early.
#![allow(dead_code)]

use clap::Parser;
use idb_sync_server::{serve, Config, Database};
use sqlx::Executor;

/// Which database a test server runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running server; stopped (and its database removed) when dropped.
pub struct TestServer {
    pub url: String,
    pub backend: Backend,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
    postgres_database: Option<(String, String)>,
}

impl TestServer {
    /// Starts a server on `backend`, or returns `None` (after printing why) when that
    /// backend is not available here.
    pub async fn start(backend: Backend, extra_args: &[&str]) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_setting, postgres_database) = match backend {
            Backend::Sqlite => (dir.path().join("db").join("server.sqlite3").display().to_string(), None),
            Backend::Postgres => {
                let Some(admin_url) = postgres_admin_url() else {
                    eprintln!("skipped on PostgreSQL: IDB_SYNC_TEST_POSTGRES_URL is not set (scripts/test sets it when PostgreSQL can start)");
                    return None;
                };
                let name = fresh_database_name();
                let admin = connect(&admin_url).await;
                admin.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create test database");
                admin.close().await;
                (replace_database(&admin_url, &name), Some((admin_url, name)))
            }
        };
        let mut args = vec!["idb-sync-server", "--listen", "127.0.0.1:0", "--database", &database_setting];
        args.extend_from_slice(extra_args);
        let config = Config::parse_from(args);
        let database = Database::open(&config.database).await.expect("open database");
        let listener = tokio::net::TcpListener::bind(config.listen).await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            serve(listener, &config, database, async {
                let _ = stopped.await;
            })
            .await
            .expect("serve");
        });
        Some(Self { url, backend, stop: Some(stop), _dir: dir, postgres_database })
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some((admin_url, name)) = self.postgres_database.take() {
            // Drop is not async and runs inside the test's runtime: use a thread with
            // a runtime of its own.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                runtime.block_on(async {
                    let admin = connect(&admin_url).await;
                    let _ = admin.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await;
                    admin.close().await;
                });
            })
            .join();
        }
    }
}

pub fn postgres_admin_url() -> Option<String> {
    std::env::var("IDB_SYNC_TEST_POSTGRES_URL").ok().filter(|url| !url.is_empty())
}

async fn connect(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new().max_connections(1).connect(url).await.expect("connect to PostgreSQL")
}

fn fresh_database_name() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("idb_sync_test_{}_{}_{}", std::process::id(), nanos % 1_000_000_000, COUNTER.fetch_add(1, Ordering::Relaxed))
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("a URL with a database name");
    format!("{base}/{name}")
}

/// Runs `body` against a server on each backend available here.
#[macro_export]
macro_rules! on_each_backend {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                if let Some(server) = TestServer::start(Backend::Sqlite, &[]).await {
                    ($body)(server).await;
                }
            }
            #[tokio::test]
            async fn postgres() {
                if let Some(server) = TestServer::start(Backend::Postgres, &[]).await {
                    ($body)(server).await;
                }
            }
        }
    };
}
