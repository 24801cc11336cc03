//! Protocol v1 over HTTP on SQLite and PostgreSQL: push and pull, idempotent resends,
//! versions and conflicts, pagination, tombstones and their garbage collection.

mod support;

use serde_json::json;
use support::{create, mutation, Api, Backend, TestServer};

on_each_backend!(
    a_pushed_record_is_pulled_back_with_its_version,
    |server: TestServer| async move {
        let api = Api::new(&server);
        let token = api.signup("a@example.com").await;
        let push = api
            .push(
                &token,
                "device-1",
                json!([create(1, "tasks", "t1", json!({ "title": "Buy milk" }))]),
            )
            .await;
        assert_eq!(push.status, 200, "{push:?}");
        assert_eq!(push.body["results"][0]["status"], "applied");
        let version = push.body["results"][0]["version"].as_u64().unwrap();
        assert!(version > 0);

        let pull = api.pull(&token, None).await;
        assert_eq!(pull.status, 200);
        assert_eq!(pull.body["status"], "ok");
        assert_eq!(pull.body["hasMore"], false);
        let changes = pull.body["changes"].as_array().unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0]["key"], "t1");
        assert_eq!(changes[0]["data"]["title"], "Buy milk");
        assert_eq!(changes[0]["version"].as_u64(), Some(version));

        // Nothing new after the cursor.
        let cursor = pull.body["cursor"].as_str().unwrap();
        let again = api.pull(&token, Some(cursor)).await;
        assert_eq!(again.body["changes"].as_array().unwrap().len(), 0);
    }
);

on_each_backend!(
    a_resent_push_is_answered_duplicate_and_changes_nothing,
    |server: TestServer| async move {
        let api = Api::new(&server);
        let token = api.signup("a@example.com").await;
        let batch = json!([
            create(1, "tasks", "t1", json!({ "n": 1 })),
            mutation(
                2,
                "tasks",
                json!("t1"),
                json!({ "kind": "update", "patch": { "n": 2 } }),
                0
            ),
        ]);
        let first = api.push(&token, "device-1", batch.clone()).await;
        assert_eq!(first.body["results"][0]["status"], "applied");
        assert_eq!(first.body["results"][1]["status"], "applied");
        let before = api.pull(&token, None).await;

        let resend = api.push(&token, "device-1", batch).await;
        assert_eq!(resend.status, 200);
        assert_eq!(resend.body["results"][0]["status"], "duplicate");
        assert_eq!(resend.body["results"][1]["status"], "duplicate");
        let after = api.pull(&token, None).await;
        assert_eq!(
            before.body["changes"], after.body["changes"],
            "a resend must not apply twice"
        );
        assert_eq!(after.body["changes"][0]["data"]["n"], 2);
    }
);

on_each_backend!(
    concurrent_updates_merge_fields_and_strict_mode_reports_the_conflict,
    |server: TestServer| async move {
        let api = Api::new(&server);
        let token = api.signup("a@example.com").await;
        let created = api
            .push(
                &token,
                "phone",
                json!([create(
                    1,
                    "tasks",
                    "t1",
                    json!({ "title": "a", "done": false })
                )]),
            )
            .await;
        let v1 = created.body["results"][0]["version"].as_u64().unwrap();
        api.push(
            &token,
            "phone",
            json!([mutation(
                2,
                "tasks",
                json!("t1"),
                json!({ "kind": "update", "patch": { "title": "b" } }),
                v1
            )]),
        )
        .await;

        // The laptop still has v1: a field-merge update of another field applies on top.
        let merged = api
            .push(
                &token,
                "laptop",
                json!([mutation(
                    1,
                    "tasks",
                    json!("t1"),
                    json!({ "kind": "update", "patch": { "done": true } }),
                    v1
                )]),
            )
            .await;
        assert_eq!(merged.body["results"][0]["status"], "applied");
        let pull = api.pull(&token, None).await;
        assert_eq!(
            pull.body["changes"][0]["data"],
            json!({ "title": "b", "done": true })
        );

        // In strict mode the same stale base is a conflict carrying the server's record.
        let mut strict = mutation(
            2,
            "tasks",
            json!("t1"),
            json!({ "kind": "update", "patch": { "done": false } }),
            v1,
        );
        strict["mode"] = json!("strict");
        let conflict = api.push(&token, "laptop", json!([strict])).await;
        assert_eq!(conflict.body["results"][0]["status"], "conflict");
        assert_eq!(conflict.body["results"][0]["reason"], "staleBase");
        assert_eq!(
            conflict.body["results"][0]["server"]["data"],
            json!({ "title": "b", "done": true })
        );
        let unchanged = api.pull(&token, None).await;
        assert_eq!(
            unchanged.body["changes"][0]["data"],
            json!({ "title": "b", "done": true })
        );
    }
);

on_each_backend!(
    pull_pages_through_changes_with_has_more,
    |server: TestServer| async move {
        let api = Api::new(&server);
        let token = api.signup("a@example.com").await;
        let creates: Vec<_> = (1..=5)
            .map(|i| create(i, "tasks", &format!("t{i}"), json!({ "i": i })))
            .collect();
        api.push(&token, "device-1", json!(creates)).await;
        let mut cursor: Option<String> = None;
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let page = api
                .post(
                    "/v1/pull",
                    Some(&token),
                    json!({ "protocolVersion": 1, "clientId": "d", "cursor": cursor, "limit": 2 }),
                )
                .await;
            assert_eq!(page.status, 200);
            pages += 1;
            seen.extend(
                page.body["changes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["key"].as_str().unwrap().to_owned()),
            );
            cursor = page.body["cursor"].as_str().map(str::to_owned);
            if page.body["hasMore"] == false {
                break;
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, ["t1", "t2", "t3", "t4", "t5"]);
    }
);

on_each_backend!(
    a_delete_is_pulled_as_a_tombstone_and_collection_forces_old_cursors_to_reset,
    |server: TestServer| async move {
        let api = Api::new(&server);
        let token = api.signup("a@example.com").await;
        api.push(
            &token,
            "d",
            json!([
                create(1, "tasks", "t1", json!({})),
                create(2, "tasks", "t2", json!({}))
            ]),
        )
        .await;
        let early = api.pull(&token, None).await;
        let early_cursor = early.body["cursor"].as_str().unwrap().to_owned();
        api.push(
            &token,
            "d",
            json!([mutation(
                3,
                "tasks",
                json!("t1"),
                json!({ "kind": "delete" }),
                0
            )]),
        )
        .await;

        let tombstone = api.pull(&token, Some(&early_cursor)).await;
        assert_eq!(tombstone.body["changes"][0]["key"], "t1");
        assert_eq!(tombstone.body["changes"][0]["deleted"], true);

        // Collect every tombstone (as if the retention had passed).
        let purged = idb_sync_server::gc::collect_tombstones(&server.database, u64::MAX / 2)
            .await
            .unwrap();
        assert_eq!(purged, 1);
        let stale = api.pull(&token, Some(&early_cursor)).await;
        assert_eq!(stale.status, 200);
        assert_eq!(stale.body["status"], "resetRequired");
        // A full pull from scratch shows the live record only.
        let fresh = api.pull(&token, None).await;
        let keys: Vec<_> = fresh.body["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["key"].clone())
            .collect();
        assert_eq!(keys, [json!("t2")]);
    }
);

on_each_backend!(
    number_and_string_keys_are_different_records,
    |server: TestServer| async move {
        let api = Api::new(&server);
        let token = api.signup("a@example.com").await;
        let answer = api
            .push(
                &token,
                "d",
                json!([
                    mutation(
                        1,
                        "items",
                        json!(1),
                        json!({ "kind": "create", "record": { "as": "number" } }),
                        0
                    ),
                    mutation(
                        2,
                        "items",
                        json!("1"),
                        json!({ "kind": "create", "record": { "as": "string" } }),
                        0
                    ),
                ]),
            )
            .await;
        assert_eq!(answer.body["results"][1]["status"], "applied");
        let pull = api.pull(&token, None).await;
        assert_eq!(pull.body["changes"].as_array().unwrap().len(), 2);
        assert_eq!(pull.body["changes"][0]["key"], json!(1));
        assert_eq!(pull.body["changes"][1]["key"], json!("1"));
    }
);

#[tokio::test]
async fn a_record_over_the_size_limit_is_rejected_without_blocking_the_rest() {
    let server = TestServer::start(Backend::Sqlite, &["--max-record-bytes", "100"])
        .await
        .unwrap();
    let api = Api::new(&server);
    let token = api.signup("a@example.com").await;
    let big = "x".repeat(200);
    let answer = api
        .push(
            &token,
            "d",
            json!([
                create(1, "tasks", "big", json!({ "text": big })),
                create(2, "tasks", "small", json!({ "text": "ok" }))
            ]),
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["results"][0]["status"], "rejected");
    assert_eq!(answer.body["results"][0]["code"], "record_too_large");
    assert_eq!(answer.body["results"][1]["status"], "applied");
}
