//! `GET /health` over real HTTP against a server started in-process on an ephemeral
//! loopback port, with its SQLite file in a fresh temporary folder.

use idb_sync_server::{serve, Config, Database};
use clap::Parser;
use serde_json::Value;

struct TestServer {
    url: String,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn start_server() -> TestServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("nested").join("server.sqlite3");
    let config = Config::parse_from(["idb-sync-server", "--listen", "127.0.0.1:0", "--database", db_path.to_str().unwrap()]);
    let database = Database::open(&config.database).await.expect("open database");
    assert!(db_path.exists(), "the SQLite file is created on first run");
    let listener = tokio::net::TcpListener::bind(config.listen).await.expect("bind");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        serve(listener, &config, database, async {
            let _ = stopped.await;
        })
        .await
        .expect("serve");
    });
    TestServer { url, _dir: dir, stop: Some(stop) }
}

#[tokio::test]
async fn health_answers_ok_with_versions_and_database_kind() {
    let server = start_server().await;
    let response = reqwest::get(format!("{}/health", server.url)).await.expect("request");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json body");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], idb_sync_core::VERSION);
    assert_eq!(body["protocolVersion"], idb_sync_core::PROTOCOL_VERSION);
    assert_eq!(body["database"], "sqlite");
}

#[tokio::test]
async fn health_allows_browser_pages_from_other_origins() {
    let server = start_server().await;
    let response = reqwest::Client::new()
        .get(format!("{}/health", server.url))
        .header("Origin", "http://127.0.0.1:5173")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap()), Some("*"));
}

#[tokio::test]
async fn unknown_route_answers_a_json_error_with_a_code() {
    let server = start_server().await;
    let response = reqwest::get(format!("{}/no-such-route", server.url)).await.expect("request");
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.expect("json body");
    assert_eq!(body["error"]["code"], "not_found");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn a_non_sqlite_database_url_is_refused_with_a_clear_error() {
    let error = Database::open("mysql://127.0.0.1/db").await.expect_err("unsupported");
    assert!(error.to_string().contains("unsupported database"), "{error}");
}
