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

on_each_backend!(
    a_nul_in_a_key_or_value_is_rejected_alone_and_the_rest_applies,
    |server: TestServer| async move {
        // I9: PostgreSQL text cannot hold U+0000; the server must refuse it the same way on
        // every database, as one rejected mutation, never as a 5xx for the whole push.
        let api = Api::new(&server);
        let token = api.signup("a@example.com").await;
        let mutations = json!([
            create(
                1,
                "tasks",
                "bad\u{0}key",
                json!({ "title": "nul in the key" })
            ),
            create(2, "tasks", "t2", json!({ "title": "nul in a\u{0}value" })),
            create(3, "tasks", "t3", json!({ "title": "fine" })),
            create(
                4,
                "tasks",
                "t4",
                json!({ "nested": { "list": ["ok", "still\u{0}bad"] } })
            ),
            create(5, "tasks", "t5", json!({ "field\u{0}name": 1 })),
        ]);
        for round in 0..2 {
            // The resend (round 1) answers the stored outcomes again, also without a 5xx.
            let answer = api.push(&token, "device-1", mutations.clone()).await;
            assert_eq!(answer.status, 200, "round {round}: {answer:?}");
            let results = answer.body["results"].as_array().unwrap();
            for i in [0, 1, 3, 4] {
                assert_eq!(
                    results[i]["status"], "rejected",
                    "round {round}, mutation {i}: {answer:?}"
                );
                assert_eq!(results[i]["code"], "invalid_value");
            }
            assert_eq!(results[0]["server"]["version"], 0);
            assert!(
                results[3]["reason"]
                    .as_str()
                    .unwrap()
                    .contains("nested.list[1]"),
                "{answer:?}"
            );
            let expected = if round == 0 { "applied" } else { "duplicate" };
            assert_eq!(results[2]["status"], expected);
        }
        let pull = api.pull(&token, None).await;
        let changes = pull.body["changes"].as_array().unwrap();
        assert_eq!(changes.len(), 1, "{pull:?}");
        assert_eq!(changes[0]["key"], "t3");
    }
);

on_each_backend!(
    a_client_id_with_a_nul_is_a_bad_request_not_a_server_error,
    |server: TestServer| async move {
        let api = Api::new(&server);
        let token = api.signup("a@example.com").await;
        let answer = api
            .push(
                &token,
                "dev\u{0}ice",
                json!([create(1, "tasks", "t", json!({}))]),
            )
            .await;
        assert_eq!((answer.status, answer.code()), (400, "bad_request"));
    }
);

on_each_backend!(
    an_empty_push_answers_no_results_and_stores_nothing,
    |server: TestServer| async move {
        let api = Api::new(&server);
        let token = api.signup("a@example.com").await;
        let answer = api.push(&token, "prober", json!([])).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(answer.body["results"], json!([]));
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM client_states")
            .fetch_one(server.database.pool())
            .await
            .unwrap();
        assert_eq!(rows, 0, "an empty push created a client state row");
    }
);

on_each_backend!(
    pull_pages_are_bounded_in_bytes_and_say_has_more_when_cut,
    &[
        "--max-pull-page-bytes",
        "2500",
        "--max-record-bytes",
        "4000"
    ],
    |server: TestServer| async move {
        let api = Api::new(&server);
        let token = api.signup("a@example.com").await;
        let text = "x".repeat(1000);
        let mut creates: Vec<_> = (1..=5)
            .map(|i| create(i, "tasks", &format!("t{i}"), json!({ "text": text })))
            .collect();
        // One record larger than the whole budget still travels, alone.
        creates.push(create(
            6,
            "tasks",
            "huge",
            json!({ "text": "y".repeat(3000) }),
        ));
        let answer = api.push(&token, "d", json!(creates)).await;
        assert!(
            answer.body["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["status"] == "applied"),
            "{answer:?}"
        );

        let mut cursor: Option<String> = None;
        let mut pages = Vec::new();
        loop {
            let page = api.pull(&token, cursor.as_deref()).await;
            assert_eq!(page.status, 200);
            let changes = page.body["changes"].as_array().unwrap().clone();
            assert!(
                !changes.is_empty(),
                "a page always carries a change while more follow"
            );
            let bytes: usize = changes.iter().map(|c| c["data"].to_string().len()).sum();
            pages.push((
                changes
                    .iter()
                    .map(|c| c["key"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>(),
                bytes,
            ));
            cursor = page.body["cursor"].as_str().map(str::to_owned);
            if page.body["hasMore"] == false {
                break;
            }
        }
        let keys: Vec<String> = pages.iter().flat_map(|(keys, _)| keys.clone()).collect();
        assert_eq!(keys, ["t1", "t2", "t3", "t4", "t5", "huge"]);
        assert_eq!(
            pages.iter().map(|(keys, _)| keys.len()).collect::<Vec<_>>(),
            [2, 2, 1, 1],
            "{pages:?}"
        );
        for (keys, bytes) in &pages {
            assert!(
                *bytes <= 2500 || keys.len() == 1,
                "page {keys:?} of {bytes} bytes"
            );
        }
    }
);

on_each_backend!(
    an_incremental_pull_leaves_out_the_clients_own_echoes_and_its_cursor_covers_them,
    |server: TestServer| async move {
        let api = Api::new(&server);
        let token = api.signup("a@example.com").await;
        let pull = |cursor: Option<String>, client: &'static str, omit: Option<u64>| {
            let api = &api;
            let token = &token;
            async move {
                let mut body = json!({ "protocolVersion": 1, "clientId": client, "cursor": cursor, "limit": 2 });
                if let Some(omit) = omit {
                    body["omitOwnThrough"] = json!(omit);
                }
                let answer = api.post("/v1/pull", Some(token), body).await;
                assert_eq!(answer.status, 200, "{answer:?}");
                answer
            }
        };
        let start = pull(None, "d", None).await;
        let start_cursor = start.body["cursor"].as_str().map(str::to_owned);
        let own: Vec<_> = (1..=3)
            .map(|i| create(i, "tasks", &format!("d{i}"), json!({ "n": i })))
            .collect();
        api.push(&token, "d", json!(own)).await;
        api.push(&token, "e", json!([create(1, "tasks", "e1", json!({}))]))
            .await;
        api.push(&token, "d", json!([create(4, "tasks", "d4", json!({}))]))
            .await;
        // Two pages of limit 2: d1, d2 (both left out: an empty page whose cursor moved),
        // then d3 (left out) and e1.
        let first = pull(start_cursor.clone(), "d", Some(3)).await;
        assert_eq!(first.body["changes"], json!([]));
        assert_eq!(first.body["hasMore"], true);
        let cursor = first.body["cursor"].as_str().map(str::to_owned);
        assert_ne!(cursor, start_cursor, "the cursor covers what was left out");
        let second = pull(cursor, "d", Some(3)).await;
        assert_eq!(second.body["changes"][0]["key"], "e1");
        assert_eq!(second.body["changes"].as_array().unwrap().len(), 1);
        let third = pull(
            second.body["cursor"].as_str().map(str::to_owned),
            "d",
            Some(3),
        )
        .await;
        assert_eq!(
            third.body["changes"][0]["key"], "d4",
            "seq 4 is after the mark"
        );
        assert_eq!(third.body["hasMore"], false);
        // A full pull (no cursor) and another client leave nothing out.
        let full = pull(None, "d", Some(3)).await;
        assert_eq!(full.body["changes"][0]["key"], "d1");
        let other = pull(start_cursor, "e", Some(3)).await;
        assert_eq!(other.body["changes"][0]["key"], "d1");
    }
);
