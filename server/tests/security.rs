//! What the server refuses, and that refusing changes nothing: other users' records,
//! malformed JSON, wrong types, bad tables and keys, other protocol versions, bad
//! cursors, oversized bodies and pushes, and bursts (rate limits).

mod support;

use serde_json::json;
use support::{create, mutation, Api, Backend, TestServer};

async fn pulled(api: &Api, token: &str) -> Vec<serde_json::Value> {
    api.pull(token, None).await.body["changes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

on_each_backend!(
    a_user_cannot_read_overwrite_or_delete_another_users_records,
    |server: TestServer| async move {
        let api = Api::new(&server);
        let alice = api.signup("alice@example.com").await;
        let mallory = api.signup("mallory@example.com").await;
        api.push(
            &alice,
            "alice-phone",
            json!([create(
                1,
                "notes",
                "secret",
                json!({ "text": "alice's secret" })
            )]),
        )
        .await;

        // Mallory sees nothing of Alice's.
        assert!(pulled(&api, &mallory).await.is_empty());
        // Mallory writes and deletes "the same" key, with Alice's client id even: it only
        // ever touches Mallory's own rows.
        let overwrite = api
            .push(
                &mallory,
                "alice-phone",
                json!([
                    mutation(
                        1,
                        "notes",
                        json!("secret"),
                        json!({ "kind": "put", "record": { "text": "pwned" } }),
                        1
                    ),
                    mutation(2, "notes", json!("secret"), json!({ "kind": "delete" }), 0),
                ]),
            )
            .await;
        assert_eq!(overwrite.status, 200);
        assert_eq!(
            overwrite.body["results"][0]["status"], "applied",
            "a fresh put in Mallory's own space"
        );

        let alices = pulled(&api, &alice).await;
        assert_eq!(alices.len(), 1);
        assert_eq!(alices[0]["data"]["text"], "alice's secret");
        assert_eq!(alices[0]["deleted"], false);
    }
);

on_each_backend!(
    malformed_requests_get_400_with_a_code_and_change_nothing,
    |server: TestServer| async move {
        let api = Api::new(&server);
        let token = api.signup("a@example.com").await;
        let raw = |body: &'static str| {
            let api = &api;
            let token = token.clone();
            async move {
                api.send(
                    reqwest::Method::POST,
                    "/v1/push",
                    Some(&token),
                    Some(body.to_owned()),
                )
                .await
            }
        };
        let not_json = raw("{ this is not json").await;
        assert_eq!((not_json.status, not_json.code()), (400, "malformed_json"));
        let wrong_type = raw(r#"{"protocolVersion":1,"clientId":"d","mutations":[{"seq":"one","table":"t","key":"k","op":{"kind":"delete"},"baseVersion":0,"hlc":{"millis":1,"counter":0,"node":"n"}}]}"#).await;
        assert_eq!(
            (wrong_type.status, wrong_type.code()),
            (400, "invalid_request")
        );
        let unknown_op = raw(r#"{"protocolVersion":1,"clientId":"d","mutations":[{"seq":1,"table":"t","key":"k","op":{"kind":"explode"},"baseVersion":0,"hlc":{"millis":1,"counter":0,"node":"n"}}]}"#).await;
        assert_eq!(
            (unknown_op.status, unknown_op.code()),
            (400, "invalid_request")
        );
        let missing_field = raw(r#"{"protocolVersion":1,"mutations":[]}"#).await;
        assert_eq!(
            (missing_field.status, missing_field.code()),
            (400, "invalid_request")
        );
        let record_not_object = raw(r#"{"protocolVersion":1,"clientId":"d","mutations":[{"seq":1,"table":"t","key":"k","op":{"kind":"create","record":[1,2]},"baseVersion":0,"hlc":{"millis":1,"counter":0,"node":"n"}}]}"#).await;
        assert_eq!(
            (record_not_object.status, record_not_object.code()),
            (400, "invalid_request")
        );

        let bad_table = api
            .push(
                &token,
                "d",
                json!([create(1, "no spaces allowed", "k", json!({}))]),
            )
            .await;
        assert_eq!((bad_table.status, bad_table.code()), (400, "invalid_table"));
        let long_key = api
            .push(
                &token,
                "d",
                json!([create(1, "tasks", &"k".repeat(2000), json!({}))]),
            )
            .await;
        assert_eq!((long_key.status, long_key.code()), (400, "invalid_key"));
        let bad_key = api
            .push(
                &token,
                "d",
                json!([mutation(
                    1,
                    "tasks",
                    json!({ "an": "object" }),
                    json!({ "kind": "delete" }),
                    0
                )]),
            )
            .await;
        assert_eq!((bad_key.status, bad_key.code()), (400, "invalid_request"));
        let out_of_order = api
            .push(
                &token,
                "d",
                json!([
                    create(2, "tasks", "a", json!({})),
                    create(1, "tasks", "b", json!({}))
                ]),
            )
            .await;
        assert_eq!(
            (out_of_order.status, out_of_order.code()),
            (400, "bad_request")
        );

        let future = api
            .post(
                "/v1/push",
                Some(&token),
                json!({ "protocolVersion": 2, "clientId": "d", "mutations": [] }),
            )
            .await;
        assert_eq!((future.status, future.code()), (426, "upgrade_required"));
        assert_eq!(future.body["error"]["supportedVersions"], json!([1]));
        let future_shape = api
            .post(
                "/v1/push",
                Some(&token),
                json!({ "protocolVersion": 2, "changes": {} }),
            )
            .await;
        assert_eq!(
            (future_shape.status, future_shape.code()),
            (426, "upgrade_required")
        );

        let bad_cursor = api.pull(&token, Some("not-a-cursor")).await;
        assert_eq!((bad_cursor.status, bad_cursor.code()), (400, "bad_cursor"));

        assert!(
            pulled(&api, &token).await.is_empty(),
            "no refused request wrote anything"
        );
        // The refused seqs were not consumed: seq 1 still applies.
        let ok = api
            .push(&token, "d", json!([create(1, "tasks", "k", json!({}))]))
            .await;
        assert_eq!(ok.body["results"][0]["status"], "applied");
    }
);

#[tokio::test]
async fn only_configured_tables_are_accepted_when_a_list_is_given() {
    let server = TestServer::start(Backend::Sqlite, &["--tables", "tasks,projects"])
        .await
        .unwrap();
    let api = Api::new(&server);
    let token = api.signup("a@example.com").await;
    let unknown = api
        .push(
            &token,
            "d",
            json!([
                create(1, "tasks", "a", json!({})),
                create(2, "secrets", "b", json!({}))
            ]),
        )
        .await;
    assert_eq!((unknown.status, unknown.code()), (400, "unknown_table"));
    assert!(
        pulled(&api, &token).await.is_empty(),
        "the whole push was refused"
    );
    let known = api
        .push(&token, "d", json!([create(1, "projects", "p", json!({}))]))
        .await;
    assert_eq!(known.status, 200);
}

#[tokio::test]
async fn an_oversized_body_gets_413_and_changes_nothing() {
    let server = TestServer::start(Backend::Sqlite, &["--max-body-bytes", "4096"])
        .await
        .unwrap();
    let api = Api::new(&server);
    let token = api.signup("a@example.com").await;
    let answer = api
        .push(
            &token,
            "d",
            json!([create(
                1,
                "tasks",
                "big",
                json!({ "text": "x".repeat(8000) })
            )]),
        )
        .await;
    assert_eq!((answer.status, answer.code()), (413, "payload_too_large"));
    assert!(pulled(&api, &token).await.is_empty());
}

#[tokio::test]
async fn too_many_mutations_in_one_push_get_413() {
    let server = TestServer::start(Backend::Sqlite, &["--max-mutations-per-push", "3"])
        .await
        .unwrap();
    let api = Api::new(&server);
    let token = api.signup("a@example.com").await;
    let creates: Vec<_> = (1..=4)
        .map(|i| create(i, "tasks", &format!("t{i}"), json!({})))
        .collect();
    let answer = api.push(&token, "d", json!(creates)).await;
    assert_eq!((answer.status, answer.code()), (413, "payload_too_large"));
    assert!(pulled(&api, &token).await.is_empty());
}

#[tokio::test]
async fn a_burst_from_one_user_gets_429_with_retry_after() {
    let server = TestServer::start(Backend::Sqlite, &["--rate-limit-per-user", "5"])
        .await
        .unwrap();
    let api = Api::new(&server);
    let token = api.signup("a@example.com").await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let answer = api.pull(&token, None).await;
        if answer.status == 429 {
            assert_eq!(answer.code(), "rate_limited");
            let retry_after: u64 = answer
                .retry_after
                .as_deref()
                .expect("Retry-After")
                .parse()
                .unwrap();
            assert!((1..=60).contains(&retry_after));
        }
        statuses.push(answer.status);
    }
    assert_eq!(&statuses[..5], [200; 5]);
    assert!(statuses[5..].iter().all(|&s| s == 429), "{statuses:?}");
    // Another user is not affected.
    let other = api.signup("b@example.com").await;
    assert_eq!(api.pull(&other, None).await.status, 200);
}

#[tokio::test]
async fn a_burst_from_one_address_gets_429() {
    let server = TestServer::start(Backend::Sqlite, &["--rate-limit-per-address", "3"])
        .await
        .unwrap();
    let api = Api::new(&server);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            api.post(
                "/v1/auth/login",
                None,
                json!({ "email": "x@example.com", "password": "whatever!" }),
            )
            .await
            .status,
        );
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
}
