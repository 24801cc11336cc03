//! `GET /health` and the server's basic HTTP behaviour, over real HTTP against a server
//! started in-process, on SQLite and on PostgreSQL.

mod support;

use idb_sync_server::Database;
use serde_json::Value;
use support::{Backend, TestServer};

on_each_backend!(
    health_answers_ok_with_versions_and_database_kind,
    |server: TestServer| async move {
        let response = reqwest::get(format!("{}/health", server.url))
            .await
            .expect("request");
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("json body");
        assert_eq!(body["status"], "ok");
        assert_eq!(body["version"], idb_sync_core::VERSION);
        assert_eq!(body["protocolVersion"], idb_sync_core::PROTOCOL_VERSION);
        let expected = match server.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        assert_eq!(body["database"], expected);
    }
);

on_each_backend!(
    health_allows_browser_pages_from_other_origins,
    |server: TestServer| async move {
        let response = reqwest::Client::new()
            .get(format!("{}/health", server.url))
            .header("Origin", "http://127.0.0.1:5173")
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200);
        assert_eq!(
            response
                .headers()
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap()),
            Some("*")
        );
    }
);

on_each_backend!(
    unknown_route_answers_a_json_error_with_a_code,
    |server: TestServer| async move {
        let response = reqwest::get(format!("{}/no-such-route", server.url))
            .await
            .expect("request");
        assert_eq!(response.status(), 404);
        let body: Value = response.json().await.expect("json body");
        assert_eq!(body["error"]["code"], "not_found");
        assert!(body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
);

#[tokio::test]
async fn the_sqlite_file_and_its_folder_are_created_on_first_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a").join("b").join("server.sqlite3");
    Database::open(path.to_str().unwrap()).await.expect("open");
    assert!(path.exists());
    // A second open of the same file finds the migrations applied and changes nothing.
    Database::open(path.to_str().unwrap())
        .await
        .expect("reopen");
}

#[tokio::test]
async fn cors_is_limited_to_configured_origins_when_given() {
    let server = TestServer::start(Backend::Sqlite, &["--cors-origin", "http://app.test"])
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let allowed = client
        .get(format!("{}/health", server.url))
        .header("Origin", "http://app.test")
        .send()
        .await
        .unwrap();
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap()),
        Some("http://app.test")
    );
    let other = client
        .get(format!("{}/health", server.url))
        .header("Origin", "http://evil.test")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_database_url_of_another_kind_is_refused_with_a_clear_error() {
    let error = Database::open("mysql://127.0.0.1/db")
        .await
        .expect_err("unsupported");
    assert!(
        error.to_string().contains("unsupported database"),
        "{error}"
    );
}
