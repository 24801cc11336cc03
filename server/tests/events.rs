//! The push channel `GET /v1/events` over real HTTP: `ready` then `changed` with the
//! right seq after another device's push and nothing for another user's, the same
//! 401 as pull before any stream, keepalive comments, the per-user stream limit,
//! streams ending on shutdown, and — over one PostgreSQL — a push on one instance
//! poking a stream on another, also after the listening connection was killed.

mod support;

use std::time::Duration;

use serde_json::json;
use sqlx::Executor;
use support::{create, Api, Backend, TestServer};

/// How long a test waits for something that must come (never a pass/fail timing:
/// only a bound on a hang).
const PATIENCE: Duration = Duration::from_secs(20);

/// An open event stream, read block by block (`\n\n`-terminated).
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn open(base: &str, token: &str) -> Self {
        let response = reqwest::Client::new()
            .get(format!("{base}/v1/events"))
            .bearer_auth(token)
            .send()
            .await
            .expect("events request");
        assert_eq!(response.status(), 200);
        let headers = response.headers();
        assert_eq!(headers["content-type"], "text/event-stream");
        assert_eq!(headers["cache-control"], "no-store");
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next block, or `None` when the stream ended.
    async fn block(&mut self) -> Option<String> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block = self.buffer[..end + 2].to_owned();
                self.buffer.drain(..end + 2);
                return Some(block);
            }
            let chunk = tokio::time::timeout(PATIENCE, self.response.chunk())
                .await
                .expect("the stream went silent")
                .expect("stream read")?;
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("utf-8"));
        }
    }

    /// The next event (comments skipped) as its exact text.
    async fn event(&mut self) -> String {
        let event = async {
            loop {
                let block = self.block().await.expect("the stream ended");
                if !block.starts_with(':') {
                    return block;
                }
            }
        };
        tokio::time::timeout(PATIENCE, event)
            .await
            .expect("no event came (keepalives only)")
    }

    /// Whether an event arrives within `wait` (for "nothing comes").
    async fn event_within(&mut self, wait: Duration) -> Option<String> {
        tokio::time::timeout(wait, self.event()).await.ok()
    }
}

/// `ready` at `seq` from a server with the default keepalive interval (15 s).
fn ready(seq: u64) -> String {
    ready_every(seq, 15_000)
}

/// `ready` at `seq` from a server whose keepalive interval is `keepalive_ms`: the
/// client learns it from there.
fn ready_every(seq: u64, keepalive_ms: u64) -> String {
    format!("event: ready\ndata: {{\"seq\":{seq},\"keepalive\":{keepalive_ms}}}\n\n")
}

fn changed(seq: u64) -> String {
    format!("event: changed\ndata: {{\"seq\":{seq}}}\n\n")
}

/// Pushes `count` new records (seqs `first..`) as `client` of the token's user.
async fn push_records(api: &Api, token: &str, client: &str, first: u64, count: u64) {
    let mutations: Vec<_> = (first..first + count)
        .map(|n| create(n, "tasks", &format!("{client}-{n}"), json!({ "n": n })))
        .collect();
    let push = api.push(token, client, json!(mutations)).await;
    assert_eq!(push.status, 200, "{push:?}");
}

on_each_backend!(
    a_stream_gets_ready_then_changed_after_another_devices_push_and_nothing_of_another_user,
    |server: TestServer| async move {
        let api = Api::new(&server);
        let alice = api.signup("alice@example.com").await;
        let bob = api.signup("bob@example.com").await;
        push_records(&api, &alice, "alice-laptop", 1, 2).await;

        let mut stream = Events::open(&server.url, &alice).await;
        assert_eq!(stream.event().await, ready(2), "the seq of alice's data");
        let mut bobs = Events::open(&server.url, &bob).await;
        assert_eq!(bobs.event().await, ready(0), "bob has no data yet");

        push_records(&api, &alice, "alice-phone", 1, 3).await;
        assert_eq!(stream.event().await, changed(5));
        // A push that changes nothing (a resend) is not announced; bob's is not
        // alice's business.
        push_records(&api, &alice, "alice-phone", 1, 3).await;
        push_records(&api, &bob, "bob-phone", 1, 1).await;
        assert_eq!(bobs.event().await, changed(1));
        push_records(&api, &alice, "alice-phone", 4, 1).await;
        assert_eq!(stream.event().await, changed(6), "nothing in between");
        assert_eq!(
            bobs.event_within(Duration::from_millis(300)).await,
            None,
            "alice's activity never reaches bob"
        );
    }
);

#[tokio::test]
async fn a_missing_bad_or_expired_token_gets_the_pull_401_and_no_stream() {
    const SECRET: &str = "a-test-secret-of-at-least-32-bytes!!";
    let server = TestServer::start(Backend::Sqlite, &["--jwt-secret", SECRET])
        .await
        .unwrap();
    let api = Api::new(&server);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({ "sub": "u1", "iat": now - 120, "exp": now - 60 }),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    for (token, code) in [
        (None, "missing_token"),
        (Some("not-a-token"), "invalid_token"),
        (Some(expired.as_str()), "token_expired"),
    ] {
        let events = api
            .send(reqwest::Method::GET, "/v1/events", token, None)
            .await;
        let pull = api
            .post(
                "/v1/pull",
                token,
                json!({ "protocolVersion": 1, "clientId": "c", "cursor": null }),
            )
            .await;
        assert_eq!((events.status, events.code()), (401, code));
        assert_eq!(events.body, pull.body, "the same coded body as pull");
    }
}

#[tokio::test]
async fn the_api_key_opens_a_stream_as_the_owner_like_push_and_pull() {
    const KEY: &str = "an-api-key-of-some-length";
    let server = TestServer::start(Backend::Sqlite, &["--api-key", KEY])
        .await
        .unwrap();
    push_records(&Api::new(&server), KEY, "owner-laptop", 1, 2).await;
    let mut stream = Events::open(&server.url, KEY).await;
    assert_eq!(stream.event().await, ready(2));
    let by_header = reqwest::Client::new()
        .get(format!("{}/v1/events", server.url))
        .header("x-api-key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(by_header.status(), 200);
    let wrong = reqwest::Client::new()
        .get(format!("{}/v1/events", server.url))
        .header("x-api-key", "not-the-key-at-all")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
}

#[tokio::test]
async fn an_idle_stream_gets_keepalive_comments_at_the_interval_its_ready_says() {
    let server = TestServer::start(Backend::Sqlite, &["--events-keepalive-ms", "50"])
        .await
        .unwrap();
    let token = Api::new(&server).signup("a@example.com").await;
    let mut stream = Events::open(&server.url, &token).await;
    assert_eq!(
        stream.block().await.unwrap(),
        ready_every(0, 50),
        "ready says the interval"
    );
    for _ in 0..2 {
        assert_eq!(stream.block().await.unwrap(), ": keepalive\n\n");
    }
}

#[tokio::test]
async fn one_stream_too_many_closes_the_users_oldest() {
    let server = TestServer::start(Backend::Sqlite, &["--events-max-streams", "2"])
        .await
        .unwrap();
    let api = Api::new(&server);
    let token = api.signup("a@example.com").await;
    let mut oldest = Events::open(&server.url, &token).await;
    assert_eq!(oldest.event().await, ready(0));
    let mut second = Events::open(&server.url, &token).await;
    assert_eq!(second.event().await, ready(0));
    let mut newest = Events::open(&server.url, &token).await;
    assert_eq!(newest.event().await, ready(0));
    assert_eq!(oldest.block().await, None, "the oldest stream ended");
    push_records(&api, &token, "d", 1, 1).await;
    assert_eq!(second.event().await, changed(1));
    assert_eq!(newest.event().await, changed(1));
}

#[tokio::test]
async fn streams_end_when_the_server_shuts_down() {
    let server = TestServer::start(Backend::Sqlite, &[]).await.unwrap();
    let token = Api::new(&server).signup("a@example.com").await;
    let mut stream = Events::open(&server.url, &token).await;
    assert_eq!(stream.event().await, ready(0));
    drop(server);
    assert_eq!(stream.block().await, None, "the stream ended, not hung");
}

#[tokio::test]
async fn a_push_on_one_instance_pokes_a_stream_on_another_over_one_postgresql() {
    let Some(a) = TestServer::start(Backend::Postgres, &[]).await else {
        return;
    };
    let b = a.another_instance(&[]).await;
    let (on_a, on_b) = (Api::new(&a), Api::new(&b));
    let token = on_a.signup("a@example.com").await;
    let other = on_a.signup("other@example.com").await;
    let mut stream = Events::open(&b.url, &token).await;
    assert_eq!(stream.event().await, ready(0));
    let mut others = Events::open(&b.url, &other).await;
    assert_eq!(others.event().await, ready(0));

    push_records(&on_a, &token, "device-a", 1, 2).await;
    assert_eq!(
        stream.event().await,
        changed(2),
        "instance A's push reached B"
    );

    // Kill the listening connections and keep them from coming back while A takes
    // a push: B misses its notification, and must catch up once it listens again.
    let name: String = sqlx::Row::get(
        &sqlx::query("SELECT current_database()::text AS name")
            .fetch_one(b.database.pool())
            .await
            .expect("database name"),
        "name",
    );
    let admin = support::connect(&support::postgres_admin_url().unwrap()).await;
    let allow = |allowed: bool| format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {allowed}");
    admin
        .execute(allow(false).as_str())
        .await
        .expect("refuse new connections");
    let killed = sqlx::query(
        "SELECT count(pg_terminate_backend(pid)) AS killed FROM pg_stat_activity \
         WHERE application_name = $1 AND datname = current_database()",
    )
    .bind(idb_sync_server::events::postgres::LISTENER_NAME)
    .fetch_one(b.database.pool())
    .await
    .expect("terminate the listeners");
    let killed: i64 = sqlx::Row::get(&killed, "killed");
    assert!(killed >= 1, "B's listening connection was found");
    push_records(&on_a, &token, "device-a", 3, 1).await;
    admin
        .execute(allow(true).as_str())
        .await
        .expect("allow connections");
    admin.close().await;
    assert_eq!(stream.event().await, changed(3), "caught up after the loss");
    push_records(&on_b, &token, "device-b", 1, 1).await;
    assert_eq!(stream.event().await, changed(4));
    assert_eq!(
        others.event_within(Duration::from_millis(300)).await,
        None,
        "another user's pokes never arrive"
    );
    drop(b);
}
