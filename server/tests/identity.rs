//! One account per local database (I10) and client identities never reused (I11),
//! over HTTP on SQLite and PostgreSQL; and the stored idempotency outcomes stay
//! bounded (rows counted in the database; docs/INVARIANTS.md, "Server resources are bounded").

mod support;

use serde_json::json;
use support::{create, Api, Backend, TestServer};

on_each_backend!(
    a_request_naming_another_account_is_refused_with_409_and_changes_nothing,
    |server: TestServer| async move {
        let api = Api::new(&server);
        let alice = api.signup("alice@example.com").await;
        let bob = api.signup("bob@example.com").await;
        let first = api
            .push(
                &alice,
                "shared-db",
                json!([create(1, "tasks", "a1", json!({ "t": "alice" }))]),
            )
            .await;
        let alice_id = first.body["account"]
            .as_str()
            .expect("the answer names the account")
            .to_owned();
        let body = json!({ "protocolVersion": 1, "clientId": "shared-db", "account": alice_id,
        "mutations": [create(2, "tasks", "a2", json!({ "t": "alice offline" }))] });
        let refused = api.post("/v1/push", Some(&bob), body).await;
        assert_eq!(
            (refused.status, refused.code()),
            (409, "account_changed"),
            "{refused:?}"
        );
        let pull = api.post("/v1/pull", Some(&bob), json!({ "protocolVersion": 1, "clientId": "shared-db", "account": alice_id, "cursor": null })).await;
        assert_eq!((pull.status, pull.code()), (409, "account_changed"));
        let bobs = api.pull(&bob, None).await;
        assert_eq!(
            bobs.body["changes"],
            json!([]),
            "nothing of Alice's reached Bob's account"
        );
        assert_ne!(bobs.body["account"], json!(alice_id));
    }
);

on_each_backend!(
    another_users_cursor_gets_reset_required_not_data,
    |server: TestServer| async move {
        let api = Api::new(&server);
        let alice = api.signup("alice@example.com").await;
        let bob = api.signup("bob@example.com").await;
        api.push(
            &bob,
            "bobs-phone",
            json!([create(1, "tasks", "b1", json!({ "t": "bob" }))]),
        )
        .await;
        let batch: Vec<_> = (1..=5)
            .map(|i| create(i, "tasks", &format!("a{i}"), json!({ "t": "alice" })))
            .collect();
        api.push(&alice, "shared-db", json!(batch)).await;
        let alices = api.pull(&alice, None).await;
        let cursor = alices.body["cursor"].as_str().unwrap().to_owned();
        let answer = api.pull(&bob, Some(&cursor)).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body["status"], "resetRequired", "{answer:?}");
        let fresh = api.pull(&bob, None).await;
        assert_eq!(
            fresh.body["changes"][0]["key"], "b1",
            "Bob's records come with a fresh pull"
        );
    }
);

on_each_backend!(
    a_reused_client_id_with_other_content_is_refused_with_client_id_reused,
    |server: TestServer| async move {
        let api = Api::new(&server);
        let token = api.signup("a@example.com").await;
        let first = api
            .push(
                &token,
                "device-1",
                json!([create(1, "tasks", "t1", json!({ "t": "before the wipe" }))]),
            )
            .await;
        assert_eq!(first.body["results"][0]["status"], "applied");
        // The database was deleted and recreated with the old client id: seq 1 again.
        let reused = api
            .push(
                &token,
                "device-1",
                json!([create(1, "tasks", "t2", json!({ "t": "after the wipe" }))]),
            )
            .await;
        assert_eq!(
            (reused.status, reused.code()),
            (409, "client_id_reused"),
            "{reused:?}"
        );
        // Moved past seq 1; then a push from seq 1 is refused whatever its content.
        api.push(
            &token,
            "device-1",
            json!([create(2, "tasks", "t3", json!({ "t": "x" }))]),
        )
        .await;
        let below = api
            .push(
                &token,
                "device-1",
                json!([create(1, "tasks", "t1", json!({ "t": "before the wipe" }))]),
            )
            .await;
        assert_eq!(below.code(), "client_id_reused");
        let keys: Vec<_> = api.pull(&token, None).await.body["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["key"].clone())
            .collect();
        assert_eq!(
            keys,
            vec![json!("t1"), json!("t3")],
            "nothing of the refused pushes was applied"
        );
    }
);

on_each_backend!(
    stored_outcomes_stay_bounded_after_many_pushes,
    |server: TestServer| async move {
        let api = Api::new(&server);
        let token = api.signup("a@example.com").await;
        for i in 0..200u64 {
            let batch: Vec<_> = (1..=3)
                .map(|j| {
                    create(
                        3 * i + j,
                        "tasks",
                        &format!("k{}", 3 * i + j),
                        json!({ "n": i }),
                    )
                })
                .collect();
            let answer = api.push(&token, "device-1", json!(batch)).await;
            assert_eq!(answer.status, 200, "{answer:?}");
        }
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM client_outcomes")
            .fetch_one(server.database.pool())
            .await
            .unwrap();
        assert_eq!(
            rows, 3,
            "only the outcomes the client may still resend are kept"
        );
    }
);
