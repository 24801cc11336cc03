//! Test support: a real server started in-process on an ephemeral loopback port, over
//! a fresh SQLite file or a fresh PostgreSQL database.
//!
//! PostgreSQL tests need `IDB_SYNC_TEST_POSTGRES_URL` (an admin URL; `scripts/test`
//! starts a throwaway cluster with `scripts/postgres` and sets it). Without it they
//! print why they are skipped and return early.
#![allow(dead_code)]

pub mod device;

use clap::Parser;
use idb_sync_server::{build_state, serve, Config, Database};
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
    /// The server's database (for tests that act on it directly, e.g. GC).
    pub database: Database,
    /// The `--database` setting it runs on.
    pub database_setting: String,
    /// The server's rate limiters (for tests of their bookkeeping).
    pub limits: std::sync::Arc<idb_sync_server::http::rate_limit::RateLimits>,
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
            Backend::Sqlite => (
                dir.path()
                    .join("db")
                    .join("server.sqlite3")
                    .display()
                    .to_string(),
                None,
            ),
            Backend::Postgres => {
                let Some(admin_url) = postgres_admin_url() else {
                    eprintln!("skipped on PostgreSQL: IDB_SYNC_TEST_POSTGRES_URL is not set (scripts/test sets it when PostgreSQL can start)");
                    return None;
                };
                let name = fresh_database_name();
                let admin = connect(&admin_url).await;
                admin
                    .execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create test database");
                admin.close().await;
                (replace_database(&admin_url, &name), Some((admin_url, name)))
            }
        };
        Some(
            Self::start_over(
                backend,
                database_setting,
                postgres_database,
                dir,
                extra_args,
            )
            .await,
        )
    }

    /// Starts another instance over this server's database (as a second process over
    /// one PostgreSQL would be), with its own pool, state and listener. The first
    /// server keeps owning the database: drop this one first.
    pub async fn another_instance(&self, extra_args: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_over(
            self.backend,
            self.database_setting.clone(),
            None,
            dir,
            extra_args,
        )
        .await
    }

    async fn start_over(
        backend: Backend,
        database_setting: String,
        postgres_database: Option<(String, String)>,
        dir: tempfile::TempDir,
        extra_args: &[&str],
    ) -> Self {
        let mut args = vec![
            "idb-sync-server",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &database_setting,
        ];
        args.extend_from_slice(extra_args);
        let config = Config::parse_from(args);
        let database = Database::open(&config.database)
            .await
            .expect("open database");
        let state = build_state(&config, database.clone())
            .await
            .expect("server state");
        let limits = state.limits.clone();
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            serve(listener, &config, state, async {
                let _ = stopped.await;
            })
            .await
            .expect("serve");
        });
        Self {
            url,
            backend,
            database,
            database_setting,
            limits,
            stop: Some(stop),
            _dir: dir,
            postgres_database,
        }
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
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async {
                    let admin = connect(&admin_url).await;
                    let _ = admin
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                    admin.close().await;
                });
            })
            .join();
        }
    }
}

pub fn postgres_admin_url() -> Option<String> {
    std::env::var("IDB_SYNC_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

pub async fn connect(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("connect to PostgreSQL")
}

pub fn fresh_database_name() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "idb_sync_test_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn replace_database(url: &str, name: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("a URL with a database name");
    format!("{base}/{name}")
}

/// Runs `body` against a server on each backend available here.
#[macro_export]
macro_rules! on_each_backend {
    ($name:ident, $body:expr) => {
        on_each_backend!($name, &[], $body);
    };
    ($name:ident, $args:expr, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                if let Some(server) = TestServer::start(Backend::Sqlite, $args).await {
                    ($body)(server).await;
                }
            }
            #[tokio::test]
            async fn postgres() {
                if let Some(server) = TestServer::start(Backend::Postgres, $args).await {
                    ($body)(server).await;
                }
            }
        }
    };
}

/// A plain HTTP client of one test server.
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
}

/// An answer: status, `Retry-After` and the JSON body (`Null` when not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: serde_json::Value,
}

impl Answer {
    /// The `error.code` of an error answer.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl Api {
    pub fn new(server: &TestServer) -> Self {
        Self {
            base: server.url.clone(),
            http: reqwest::Client::new(),
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> Answer {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.expect("body");
        Answer {
            status,
            retry_after,
            body: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        }
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: serde_json::Value) -> Answer {
        self.send(reqwest::Method::POST, path, token, Some(body.to_string()))
            .await
    }

    /// Signs up `email` and returns its token.
    pub async fn signup(&self, email: &str) -> String {
        let answer = self
            .post(
                "/v1/auth/signup",
                None,
                serde_json::json!({ "email": email, "password": "correct horse battery" }),
            )
            .await;
        assert_eq!(answer.status, 201, "signup: {answer:?}");
        answer.body["token"].as_str().expect("token").to_owned()
    }

    pub async fn push(&self, token: &str, client_id: &str, mutations: serde_json::Value) -> Answer {
        self.post("/v1/push", Some(token), serde_json::json!({ "protocolVersion": 1, "clientId": client_id, "mutations": mutations })).await
    }

    pub async fn pull(&self, token: &str, cursor: Option<&str>) -> Answer {
        self.post(
            "/v1/pull",
            Some(token),
            serde_json::json!({ "protocolVersion": 1, "clientId": "puller", "cursor": cursor }),
        )
        .await
    }
}

/// A mutation in wire form.
pub fn mutation(
    seq: u64,
    table: &str,
    key: serde_json::Value,
    op: serde_json::Value,
    base_version: u64,
) -> serde_json::Value {
    serde_json::json!({
        "seq": seq, "table": table, "key": key, "op": op, "baseVersion": base_version,
        "hlc": { "millis": 1_700_000_000_000u64 + seq, "counter": 0, "node": "test" },
    })
}

/// A create of `record` in wire form.
pub fn create(seq: u64, table: &str, key: &str, record: serde_json::Value) -> serde_json::Value {
    mutation(
        seq,
        table,
        serde_json::json!(key),
        serde_json::json!({ "kind": "create", "record": record }),
        0,
    )
}
