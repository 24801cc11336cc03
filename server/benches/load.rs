//! Load benchmark of the reference server (not a test: numbers, no pass/fail on time).
//!
//! Starts the real `idb-sync-server` binary on loopback — over a fresh SQLite file,
//! and over a fresh PostgreSQL database when `IDB_SYNC_TEST_POSTGRES_URL` is set
//! (`scripts/postgres start` prints one) — then runs N concurrent simulated clients
//! (4 devices per user, so writers of one user contend) that push batches of
//! mutations and pull after each. Reports mutations/s and p50/p99 latency of pushes
//! and pulls, then verifies that every mutation is stored exactly once.
//!
//! The PostgreSQL line names the cluster's `fsync` setting: the test cluster of
//! `scripts/postgres` runs with it off, which flatters writes; for durable figures
//! start one with it on (`IDB_SYNC_PG_FSYNC=on`, its own dir and port).
//!
//!     cargo bench -p idb-sync-server --bench load
//!     LOAD_CLIENTS=32 LOAD_PUSHES=40 LOAD_BATCH=25 cargo bench -p idb-sync-server --bench load
//!     export IDB_SYNC_TEST_POSTGRES_URL=$(IDB_SYNC_PG_FSYNC=on IDB_SYNC_PG_DIR=/tmp/pg-fsync \
//!         IDB_SYNC_PG_PORT=55433 scripts/postgres start)

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Clone, Copy)]
struct Settings {
    clients: usize,
    pushes: usize,
    batch: usize,
    devices_per_user: usize,
}

struct Server {
    _child: tokio::process::Child,
    url: String,
}

async fn start_server(database: &str) -> Server {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_idb-sync-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--database",
            database,
            "--rate-limit-per-user",
            "0",
            "--rate-limit-per-address",
            "0",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start the server");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    while let Some(line) = lines.next_line().await.expect("server stdout") {
        if let Some(rest) = line.split("listening on ").nth(1) {
            let url = rest.split_whitespace().next().expect("url").to_owned();
            return Server { _child: child, url };
        }
    }
    panic!("the server exited before listening");
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
) -> (u16, Value, Duration) {
    let started = Instant::now();
    let response = http
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body, started.elapsed())
}

/// One client: `pushes` batches of `batch` mutations (a create of a new key, or an
/// update of one of its earlier keys), a pull after each. Returns push and pull
/// latencies, the final value it wrote per key, and its last push (to resend).
async fn run_client(
    http: reqwest::Client,
    base: String,
    token: String,
    client: usize,
    s: &Settings,
) -> (Vec<Duration>, Vec<Duration>, BTreeMap<String, u64>, Value) {
    let client_id = format!("client-{client}");
    let (mut push_times, mut pull_times) = (Vec::new(), Vec::new());
    let mut latest: BTreeMap<String, u64> = BTreeMap::new();
    let mut cursor: Value = Value::Null;
    let mut seq = 0u64;
    let mut last_push = Value::Null;
    for round in 0..s.pushes {
        let mutations: Vec<Value> = (0..s.batch)
            .map(|i| {
                seq += 1;
                let n = round * s.batch + i;
                // Two creates, then an update of the key created just before.
                let (key, op) = if n % 3 == 2 {
                    let key = format!("{client_id}-{}", n - 1);
                    (key, json!({ "kind": "update", "patch": { "n": seq, "done": true } }))
                } else {
                    let key = format!("{client_id}-{n}");
                    (key, json!({ "kind": "create", "record": { "n": seq, "title": format!("task {n} of {client_id}"), "tags": ["load", "bench"] } }))
                };
                latest.insert(key.clone(), seq);
                json!({ "seq": seq, "table": "tasks", "key": key, "op": op, "baseVersion": 0,
                        "hlc": { "millis": 1_700_000_000_000u64 + seq, "counter": 0, "node": client_id } })
            })
            .collect();
        let body = json!({ "protocolVersion": 1, "clientId": client_id, "mutations": mutations });
        let (status, answer, took) = post(&http, &format!("{base}/v1/push"), &token, &body).await;
        assert_eq!(status, 200, "push failed: {answer}");
        let applied = answer["results"]
            .as_array()
            .map_or(0, |r| r.iter().filter(|r| r["status"] == "applied").count());
        assert_eq!(applied, s.batch, "every mutation is applied once: {answer}");
        push_times.push(took);
        last_push = body;
        let (status, answer, took) = post(&http, &format!("{base}/v1/pull"), &token, &json!({ "protocolVersion": 1, "clientId": client_id, "cursor": cursor, "limit": 1000 })).await;
        assert_eq!(status, 200, "pull failed: {answer}");
        cursor = answer["cursor"].clone();
        pull_times.push(took);
    }
    (push_times, pull_times, latest, last_push)
}

async fn run(label: &str, database: &str, s: &Settings) {
    let server = start_server(database).await;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(s.clients)
        .build()
        .expect("client");
    let users = s.clients.div_ceil(s.devices_per_user);
    let mut tokens = Vec::new();
    for u in 0..users {
        let (status, answer, _) = post(
            &http,
            &format!("{}/v1/auth/signup", server.url),
            "",
            &json!({ "email": format!("load{u}@example.com"), "password": "load benchmark" }),
        )
        .await;
        assert_eq!(status, 201, "signup: {answer}");
        tokens.push(answer["token"].as_str().expect("token").to_owned());
    }

    let started = Instant::now();
    let tasks: Vec<_> = (0..s.clients)
        .map(|c| {
            let (http, base, token) = (
                http.clone(),
                server.url.clone(),
                tokens[c / s.devices_per_user].clone(),
            );
            let settings = *s;
            tokio::spawn(async move { run_client(http, base, token, c, &settings).await })
        })
        .collect();
    let mut push_times = Vec::new();
    let mut pull_times = Vec::new();
    let mut expected: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); users];
    let mut resend = Value::Null;
    for (c, task) in tasks.into_iter().enumerate() {
        let (pushes, pulls, latest, last_push) = task.await.expect("client task");
        if c == 0 {
            resend = last_push;
        }
        push_times.extend(pushes);
        pull_times.extend(pulls);
        expected[c / s.devices_per_user].extend(latest);
    }
    let elapsed = started.elapsed();
    push_times.sort();
    pull_times.sort();
    let mutations = s.clients * s.pushes * s.batch;

    // Verify: every user's full pull holds exactly the records written, each with the
    // value of its last mutation (so each was applied once and none was lost).
    let mut stored = 0;
    for (u, token) in tokens.iter().enumerate() {
        let mut cursor = Value::Null;
        let mut seen: BTreeMap<String, u64> = BTreeMap::new();
        loop {
            let (status, page, _) = post(&http, &format!("{}/v1/pull", server.url), token, &json!({ "protocolVersion": 1, "clientId": "verify", "cursor": cursor, "limit": 1000 })).await;
            assert_eq!(status, 200);
            for change in page["changes"].as_array().expect("changes") {
                let key = change["key"].as_str().expect("key").to_owned();
                assert!(
                    seen.insert(key, change["data"]["n"].as_u64().expect("n"))
                        .is_none(),
                    "a key appears twice in one pull"
                );
            }
            cursor = page["cursor"].clone();
            if page["hasMore"] != true {
                break;
            }
        }
        assert_eq!(
            seen, expected[u],
            "user {u}: the server holds exactly what was written"
        );
        stored += seen.len();
    }
    // A resend of client 0's last batch, with the same content (as a client resends
    // a push whose answer it lost), is answered `duplicate` and applies nothing. (An
    // older batch or other content would be refused as a reused client id, I11.)
    let (status, answer, _) = post(
        &http,
        &format!("{}/v1/push", server.url),
        &tokens[0],
        &resend,
    )
    .await;
    assert_eq!(status, 200, "resend: {answer}");
    let results = answer["results"].as_array().expect("results");
    assert_eq!(results.len(), s.batch);
    assert!(
        results.iter().all(|r| r["status"] == "duplicate"),
        "every resent mutation is a duplicate: {answer}"
    );

    println!(
        "{label:<17} {:>3} clients {:>6} mutations in {:>6.2} s: {:>8.0} mutations/s | push p50 {:>6.1} ms p99 {:>6.1} ms | pull p50 {:>6.1} ms p99 {:>6.1} ms | verified {stored} records exactly once",
        s.clients,
        mutations,
        elapsed.as_secs_f64(),
        mutations as f64 / elapsed.as_secs_f64(),
        percentile(&push_times, 0.50),
        percentile(&push_times, 0.99),
        percentile(&pull_times, 0.50),
        percentile(&pull_times, 0.99),
    );
}

#[tokio::main]
async fn main() {
    let settings = Settings {
        clients: env_usize("LOAD_CLIENTS", 16),
        pushes: env_usize("LOAD_PUSHES", 30),
        batch: env_usize("LOAD_BATCH", 20),
        devices_per_user: env_usize("LOAD_DEVICES_PER_USER", 4).max(1),
    };
    println!(
        "load: {} clients ({} devices per user), {} pushes of {} mutations each, a pull after every push",
        settings.clients, settings.devices_per_user, settings.pushes, settings.batch
    );
    let dir = tempfile::tempdir().expect("temp dir");
    run(
        "sqlite",
        dir.path().join("load.sqlite3").to_str().expect("path"),
        &settings,
    )
    .await;

    match std::env::var("IDB_SYNC_TEST_POSTGRES_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            sqlx::any::install_default_drivers();
            let admin = sqlx::AnyPool::connect(&admin_url)
                .await
                .expect("connect to PostgreSQL");
            let fsync: String = sqlx::query_scalar("SELECT current_setting('fsync')")
                .fetch_one(&admin)
                .await
                .expect("the fsync setting");
            let name = format!("idb_sync_load_{}", std::process::id());
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin)
                .await
                .expect("create database");
            let (base, _) = admin_url.rsplit_once('/').expect("database url");
            let label = format!("postgres fsync={fsync}");
            run(&label, &format!("{base}/{name}"), &settings).await;
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&admin)
                .await;
        }
        _ => println!(
            "postgres          skipped: set IDB_SYNC_TEST_POSTGRES_URL (scripts/postgres start prints one)"
        ),
    }
}
