//! Devices converge through the real server: the core's sync engine on each device
//! (over in-memory storage) talks HTTP to the server. Also the scale-out story: two
//! server processes on two ports over one PostgreSQL database, a device on each.

mod support;

use std::process::Stdio;

use idb_sync_core::merge::LocalOp;
use idb_sync_core::ports::Storage;
use serde_json::json;
use sqlx::Executor;
use support::device::{record, Device};
use support::{Api, Backend, TestServer};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Both devices write (creates, overlapping field updates, deletes), sync concurrently
/// and repeatedly, and must end equal, with nothing left to send.
async fn write_sync_and_converge(phone: &Device, laptop: &Device) {
    for i in 0..15 {
        phone
            .write(
                "tasks",
                &format!("p{i}"),
                LocalOp::Create(record(json!({ "from": "phone", "i": i }))),
            )
            .await;
        laptop
            .write(
                "tasks",
                &format!("l{i}"),
                LocalOp::Create(record(json!({ "from": "laptop", "i": i }))),
            )
            .await;
    }
    phone
        .write(
            "tasks",
            "shared",
            LocalOp::Put(record(json!({ "title": "draft" }))),
        )
        .await;
    phone.sync().await;
    laptop.sync().await;
    phone.sync().await; // now both have every record
                        // Concurrent edits of different fields of one record, and deletes.
    phone
        .write(
            "tasks",
            "shared",
            LocalOp::Update(record(json!({ "title": "final" }))),
        )
        .await;
    laptop
        .write(
            "tasks",
            "shared",
            LocalOp::Update(record(json!({ "done": true }))),
        )
        .await;
    phone.write("tasks", "l3", LocalOp::Delete).await;
    laptop.write("tasks", "p4", LocalOp::Delete).await;
    for _ in 0..4 {
        let (a, b) = tokio::join!(phone.sync(), laptop.sync());
        if a.sent + b.sent == 0 && a.pulled + b.pulled == 0 {
            break;
        }
    }
    let phone_records = phone.records();
    assert_eq!(phone_records, laptop.records(), "the devices differ");
    assert_eq!(phone_records.len(), 31 - 2);
    let shared = phone_records
        .iter()
        .find(|(id, _)| id.key.to_string() == "\"shared\"")
        .map(|(_, r)| r)
        .unwrap();
    assert_eq!(
        serde_json::Value::Object(shared.clone()),
        json!({ "title": "final", "done": true })
    );
    assert_eq!(phone.engine.storage().outbox_len().await.unwrap(), 0);
    assert_eq!(laptop.engine.storage().outbox_len().await.unwrap(), 0);
}

on_each_backend!(
    two_devices_of_one_user_converge,
    |server: TestServer| async move {
        let token = Api::new(&server).signup("owner@example.com").await;
        let phone = Device::new("phone", &server.url, &token);
        let laptop = Device::new("laptop", &server.url, &token);
        write_sync_and_converge(&phone, &laptop).await;
    }
);

/// A server process of the real binary.
struct ServerProcess {
    child: tokio::process::Child,
    url: String,
}

async fn spawn_server(database_url: &str) -> ServerProcess {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_idb-sync-server"))
        .args(["--listen", "127.0.0.1:0", "--database", database_url])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start idb-sync-server");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if let Some(rest) = line.split("listening on ").nth(1) {
                return rest.split_whitespace().next().unwrap().to_owned();
            }
        }
        panic!("the server exited before listening");
    })
    .await
    .expect("the server starts within 30 s");
    ServerProcess { child, url }
}

#[tokio::test]
async fn two_server_processes_over_one_postgres_serve_devices_that_converge() {
    let Some(admin_url) = support::postgres_admin_url() else {
        eprintln!("skipped: IDB_SYNC_TEST_POSTGRES_URL is not set (scripts/test sets it when PostgreSQL can start)");
        return;
    };
    let name = support::fresh_database_name();
    let admin = support::connect(&admin_url).await;
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let database_url = support::replace_database(&admin_url, &name);

    // Both start at once: migrations and the dev secret must not race.
    let (mut a, mut b) = tokio::join!(spawn_server(&database_url), spawn_server(&database_url));
    assert_ne!(a.url, b.url);

    // An account made through one instance logs in through the other.
    let signup = reqwest::Client::new()
        .post(format!("{}/v1/auth/signup", a.url))
        .json(&json!({ "email": "owner@example.com", "password": "correct horse battery" }))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 201);
    let login: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/v1/auth/login", b.url))
        .json(&json!({ "email": "owner@example.com", "password": "correct horse battery" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"]
        .as_str()
        .expect("login through the other instance")
        .to_owned();

    let phone = Device::new("phone", &a.url, &token);
    let laptop = Device::new("laptop", &b.url, &token);
    write_sync_and_converge(&phone, &laptop).await;

    a.child.kill().await.ok();
    b.child.kill().await.ok();
    let _ = admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await;
}
