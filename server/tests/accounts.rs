//! Accounts and authentication over HTTP: signup/login/me, argon2-checked passwords,
//! JWT expiry and forgery, the API-key mode, and production mode's secret rule.

mod support;

use clap::Parser;
use idb_sync_server::{build_state, Config, Database};
use serde_json::json;
use support::{Api, Backend, TestServer};

const SECRET: &str = "a-test-secret-of-at-least-32-bytes!!";

on_each_backend!(
    signup_returns_a_token_that_me_accepts,
    |server: TestServer| async move {
        let api = Api::new(&server);
        let answer = api
            .post(
                "/v1/auth/signup",
                None,
                json!({ "email": " Ada@Example.com ", "password": "correct horse battery" }),
            )
            .await;
        assert_eq!(answer.status, 201);
        let token = answer.body["token"].as_str().unwrap();
        assert!(answer.body["expiresAt"].as_u64().unwrap() > 0);
        let me = api
            .send(reqwest::Method::GET, "/v1/auth/me", Some(token), None)
            .await;
        assert_eq!(me.status, 200);
        assert_eq!(me.body["email"], "ada@example.com");
        assert_eq!(me.body["id"], answer.body["user"]["id"]);
    }
);

on_each_backend!(
    a_second_signup_with_the_same_email_is_refused,
    |server: TestServer| async move {
        let api = Api::new(&server);
        api.signup("bob@example.com").await;
        let again = api
            .post(
                "/v1/auth/signup",
                None,
                json!({ "email": "BOB@example.com", "password": "another password" }),
            )
            .await;
        assert_eq!((again.status, again.code()), (409, "email_taken"));
    }
);

on_each_backend!(login_checks_the_password, |server: TestServer| async move {
    let api = Api::new(&server);
    api.signup("carol@example.com").await;
    let ok = api
        .post(
            "/v1/auth/login",
            None,
            json!({ "email": "carol@example.com", "password": "correct horse battery" }),
        )
        .await;
    assert_eq!(ok.status, 200);
    assert!(ok.body["token"].is_string());
    let wrong = api
        .post(
            "/v1/auth/login",
            None,
            json!({ "email": "carol@example.com", "password": "wrong horse battery" }),
        )
        .await;
    assert_eq!((wrong.status, wrong.code()), (401, "invalid_credentials"));
    let nobody = api
        .post(
            "/v1/auth/login",
            None,
            json!({ "email": "nobody@example.com", "password": "correct horse battery" }),
        )
        .await;
    assert_eq!((nobody.status, nobody.code()), (401, "invalid_credentials"));
});

#[tokio::test]
async fn signup_validates_email_and_password() {
    let server = TestServer::start(Backend::Sqlite, &[]).await.unwrap();
    let api = Api::new(&server);
    let bad_email = api
        .post(
            "/v1/auth/signup",
            None,
            json!({ "email": "not-an-address", "password": "long enough pw" }),
        )
        .await;
    assert_eq!((bad_email.status, bad_email.code()), (400, "invalid_email"));
    let short = api
        .post(
            "/v1/auth/signup",
            None,
            json!({ "email": "dan@example.com", "password": "short" }),
        )
        .await;
    assert_eq!((short.status, short.code()), (400, "weak_password"));
    let missing = api
        .post(
            "/v1/auth/signup",
            None,
            json!({ "email": "dan@example.com" }),
        )
        .await;
    assert_eq!((missing.status, missing.code()), (400, "invalid_request"));
    // None of them created the account.
    let login = api
        .post(
            "/v1/auth/login",
            None,
            json!({ "email": "dan@example.com", "password": "long enough pw" }),
        )
        .await;
    assert_eq!(login.status, 401);
}

fn token_with(secret: &str, sub: &str, iat: u64, exp: u64) -> String {
    let claims = json!({ "sub": sub, "iat": iat, "exp": exp });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn expired_forged_and_missing_tokens_get_401_with_their_codes() {
    let server = TestServer::start(Backend::Sqlite, &["--jwt-secret", SECRET])
        .await
        .unwrap();
    let api = Api::new(&server);
    let pull = |token: Option<String>| {
        let api = &api;
        async move {
            api.post(
                "/v1/pull",
                token.as_deref(),
                json!({ "protocolVersion": 1, "clientId": "c", "cursor": null }),
            )
            .await
        }
    };
    let valid = pull(Some(token_with(SECRET, "u1", now_secs(), now_secs() + 60))).await;
    assert_eq!(valid.status, 200);
    let expired = pull(Some(token_with(
        SECRET,
        "u1",
        now_secs() - 120,
        now_secs() - 60,
    )))
    .await;
    assert_eq!((expired.status, expired.code()), (401, "token_expired"));
    let forged = pull(Some(token_with(
        "another-secret-of-at-least-32-bytes!",
        "u1",
        now_secs(),
        now_secs() + 60,
    )))
    .await;
    assert_eq!((forged.status, forged.code()), (401, "invalid_token"));
    let garbage = pull(Some("not.a.jwt".to_owned())).await;
    assert_eq!((garbage.status, garbage.code()), (401, "invalid_token"));
    let missing = pull(None).await;
    assert_eq!((missing.status, missing.code()), (401, "missing_token"));
}

#[tokio::test]
async fn the_api_key_acts_as_the_single_owner() {
    let key = "self-hosted-key-0123456789";
    let server = TestServer::start(Backend::Sqlite, &["--api-key", key])
        .await
        .unwrap();
    let api = Api::new(&server);
    let me = api
        .send(reqwest::Method::GET, "/v1/auth/me", Some(key), None)
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"], "owner");
    let by_header = api
        .http
        .get(format!("{}/v1/auth/me", server.url))
        .header("x-api-key", key)
        .send()
        .await
        .unwrap();
    assert_eq!(by_header.status(), 200);
    let wrong = api
        .http
        .get(format!("{}/v1/auth/me", server.url))
        .header("x-api-key", "wrong-key-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
}

#[tokio::test]
async fn production_mode_refuses_to_start_without_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    let config = Config::parse_from([
        "idb-sync-server",
        "--mode",
        "production",
        "--database",
        path.to_str().unwrap(),
    ]);
    let database = Database::open(&config.database).await.unwrap();
    let error = build_state(&config, database.clone())
        .await
        .expect_err("no secret");
    assert!(error.contains("--jwt-secret"), "{error}");
    let short = Config::parse_from([
        "idb-sync-server",
        "--mode",
        "production",
        "--jwt-secret",
        "short",
        "--database",
        path.to_str().unwrap(),
    ]);
    assert!(build_state(&short, database).await.is_err());
}

#[tokio::test]
async fn the_dev_secret_is_kept_in_the_database_so_every_instance_accepts_a_token() {
    let first = TestServer::start(Backend::Sqlite, &[]).await.unwrap();
    let token = Api::new(&first).signup("erin@example.com").await;
    // A second instance over the same database file.
    let second = Config::for_database(&first.database_setting);
    let state = build_state(&second, Database::open(&second.database).await.unwrap())
        .await
        .unwrap();
    let user = state
        .auth
        .tokens
        .verify(&token)
        .expect("the second instance accepts the token");
    assert!(!user.sub.is_empty());
}
