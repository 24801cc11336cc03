//! The options tables: every invalid option of `SyncManager.open` (code AND the key
//! named in `option`), every kind of valid value (the whole typed result, defaults
//! included), and the same for `LocalDatabase.open`. The tables are kept one case a
//! line (`rustfmt::skip`).

use crate::sync_loop::tabs::Heartbeat;
use serde_json::json;

use super::*;
use crate::adapters::{BatchedConfig, ChangeLogConfig, DeltaConfig, PushPullConfig, RestConfig};
use crate::conflict::{ConflictPolicy, PolicyConfig};
use crate::outbox::{AdoptMode, BatchLimits};
use crate::schema::{parse_schema, DatabaseSchema, SchemaError};
use crate::sync_loop::SchedulerConfig;

fn js(v: serde_json::Value) -> OptionValue {
    v.into()
}

fn f(n: usize) -> OptionValue {
    OptionValue::Function(FunctionId(n))
}

fn obj<const N: usize>(entries: [(&str, OptionValue); N]) -> OptionValue {
    OptionValue::object(entries)
}

fn good() -> OptionValue {
    js(
        json!({ "dbName": "options-check", "schema": { "tasks": "id" }, "endpoint": "http://127.0.0.1:8080" }),
    )
}

fn with(key: &str, value: OptionValue) -> OptionValue {
    good().with(key, value)
}

fn withj(key: &str, value: serde_json::Value) -> OptionValue {
    with(key, js(value))
}

fn two_tables() -> OptionValue {
    withj("schema", json!({ "tasks": "id", "notes": "id, title" }))
}

fn schema(tables: &[(&str, &str)]) -> DatabaseSchema {
    parse_schema(tables.iter().copied()).unwrap()
}

#[test]
fn every_invalid_manager_option_names_its_code_and_key() {
    let long_name = "x".repeat(201);
    #[rustfmt::skip]
    let cases: Vec<(&str, OptionValue, &str, &str)> = vec![
        // The seventeen cases the e2e tier used to run one by one.
        ("options", js(json!(42)), "invalid_options", "options"),
        ("unknown", withj("intervall", json!(5)), "unknown_option", "intervall"),
        ("dbName", withj("dbName", json!("")), "invalid_db_name", "dbName"),
        ("version", withj("version", json!(0)), "invalid_version", "version"),
        ("schema", withj("schema", json!({ "tasks": 42 })), "invalid_schema", "schema.tasks"),
        ("endpoint", withj("endpoint", json!("ftp://nowhere")), "invalid_endpoint", "endpoint"),
        ("auth", withj("auth", json!({ "getToken": "not a function" })), "invalid_auth", "auth.getToken"),
        ("interval", withj("interval", json!(-5)), "invalid_interval", "interval"),
        ("hiddenInterval", withj("hiddenInterval", json!("soon")), "invalid_hidden_interval", "hiddenInterval"),
        ("debounce", withj("debounce", json!(1.5)), "invalid_debounce", "debounce"),
        ("conflict", withj("conflict", json!("newestWins")), "invalid_conflict", "conflict"),
        ("batch", withj("batch", json!(7)), "invalid_batch", "batch"),
        ("batchCount", withj("batch", json!({ "maxCount": 0 })), "invalid_batch_count", "batch.maxCount"),
        ("batchBytes", withj("batch", json!({ "maxBytes": -1 })), "invalid_batch_bytes", "batch.maxBytes"),
        ("clientId", withj("clientId", json!("has spaces")), "invalid_client_id", "clientId"),
        ("autoSync", withj("autoSync", json!("yes")), "invalid_auto_sync", "autoSync"),
        ("leaderHeartbeat", withj("leaderHeartbeat", json!(10)), "invalid_leader_heartbeat", "leaderHeartbeat"),
        // The object itself.
        ("options: a string", js(json!("db")), "invalid_options", "options"),
        ("options: null", js(json!(null)), "invalid_options", "options"),
        ("options: a function", f(0), "invalid_options", "options"),
        // Unknown keys name themselves, and come before any other check.
        ("colour", withj("colour", json!("red")), "unknown_option", "colour"),
        ("unknown before dbName", withj("dbName", json!(42)).with("colour", js(json!(1))), "unknown_option", "colour"),
        // dbName, version.
        ("dbName: a number", withj("dbName", json!(42)), "invalid_db_name", "dbName"),
        ("dbName: missing", js(json!({ "schema": { "tasks": "id" }, "endpoint": "http://x" })), "invalid_db_name", "dbName"),
        ("dbName: 201 bytes", withj("dbName", json!(long_name)), "invalid_db_name", "dbName"),
        ("version: 1.5", withj("version", json!(1.5)), "invalid_version", "version"),
        ("version: '2'", withj("version", json!("2")), "invalid_version", "version"),
        ("version: too big", withj("version", json!(429_496_730)), "invalid_version", "version"),
        // schema.
        ("schema: missing", js(json!({ "dbName": "d", "endpoint": "http://x" })), "invalid_schema", "schema"),
        ("schema: empty", withj("schema", json!({})), "invalid_schema", "schema"),
        ("schema: an array", withj("schema", json!(["id"])), "invalid_schema", "schema"),
        ("schema: a string", withj("schema", json!("id")), "invalid_schema", "schema"),
        ("schema: Dexie syntax", withj("schema", json!({ "tasks": "id", "notes": "&&id" })), "invalid_schema", "schema.notes"),
        ("schema: auto-increment", withj("schema", json!({ "tasks": "++id" })), "invalid_schema", "schema.tasks"),
        ("schema: compound key", withj("schema", json!({ "tasks": "[a+b]" })), "invalid_schema", "schema.tasks"),
        ("schema: nested too deep", with("schema", obj([("tasks", OptionValue::Other("object".into()))])), "invalid_schema", "schema.tasks"),
        // endpoint.
        ("endpoint: missing", js(json!({ "dbName": "d", "schema": { "tasks": "id" } })), "invalid_endpoint", "endpoint"),
        ("endpoint: no host", withj("endpoint", json!("https:///")), "invalid_endpoint", "endpoint"),
        ("endpoint: a space", withj("endpoint", json!("http://a b")), "invalid_endpoint", "endpoint"),
        ("endpoint: a number", withj("endpoint", json!(80)), "invalid_endpoint", "endpoint"),
        // auth.
        ("auth: a string", withj("auth", json!("token")), "invalid_auth", "auth"),
        ("auth: a function", with("auth", f(0)), "invalid_auth", "auth"),
        ("auth: neither", withj("auth", json!({})), "invalid_auth", "auth"),
        ("auth: both", with("auth", obj([("getToken", f(0)), ("apiKey", js(json!("k")))])), "invalid_auth", "auth"),
        ("auth: empty apiKey", withj("auth", json!({ "apiKey": "" })), "invalid_auth", "auth.apiKey"),
        ("auth: numeric apiKey", withj("auth", json!({ "apiKey": 7 })), "invalid_auth", "auth.apiKey"),
        // Periods.
        ("interval: true", withj("interval", json!(true)), "invalid_interval", "interval"),
        ("interval: 99", withj("interval", json!(99)), "invalid_interval", "interval"),
        ("interval: over a day", withj("interval", json!(86_400_001)), "invalid_interval", "interval"),
        ("interval: NaN", with("interval", OptionValue::Number(f64::NAN)), "invalid_interval", "interval"),
        ("interval: infinite", with("interval", OptionValue::Number(f64::INFINITY)), "invalid_interval", "interval"),
        ("hiddenInterval: 0", withj("hiddenInterval", json!(0)), "invalid_hidden_interval", "hiddenInterval"),
        ("debounce: -1", withj("debounce", json!(-1)), "invalid_debounce", "debounce"),
        ("leaderHeartbeat: 'fast'", withj("leaderHeartbeat", json!("fast")), "invalid_leader_heartbeat", "leaderHeartbeat"),
        // conflict.
        ("conflict: a number", withj("conflict", json!(3)), "invalid_conflict", "conflict"),
        ("conflict: bad default", withj("conflict", json!({ "default": "newest" })), "invalid_conflict", "conflict.default"),
        ("conflict: tables not an object", withj("conflict", json!({ "tables": "tasks" })), "invalid_conflict", "conflict.tables"),
        ("conflict: unknown table", withj("conflict", json!({ "tables": { "notes": "manual" } })), "invalid_conflict", "conflict.tables.notes"),
        ("conflict: bad table policy", withj("conflict", json!({ "tables": { "tasks": 1 } })), "invalid_conflict", "conflict.tables.tasks"),
        ("conflict: two functions", two_tables().with("conflict", obj([("default", f(0)), ("tables", obj([("notes", f(1))]))])), "invalid_conflict", "conflict.tables.notes"),
        // batch.
        ("batch: maxCount too big", withj("batch", json!({ "maxCount": 10_001 })), "invalid_batch_count", "batch.maxCount"),
        ("batch: maxCount 2.5", withj("batch", json!({ "maxCount": 2.5 })), "invalid_batch_count", "batch.maxCount"),
        ("batch: maxBytes too big", withj("batch", json!({ "maxBytes": 67_108_865 })), "invalid_batch_bytes", "batch.maxBytes"),
        ("batch: maxBytes a string", withj("batch", json!({ "maxBytes": "1k" })), "invalid_batch_bytes", "batch.maxBytes"),
        // The rest.
        ("clientId: a UUID", withj("clientId", json!("0190a000-0000-7000-8000-000000000000")), "invalid_client_id", "clientId"),
        ("autoSync: 1", withj("autoSync", json!(1)), "invalid_auto_sync", "autoSync"),
        ("live: 'sse'", withj("live", json!("sse")), "invalid_live", "live"),
        ("persistStorage: 'yes'", withj("persistStorage", json!("yes")), "invalid_persist_storage", "persistStorage"),
        ("adopt", withj("adopt", json!("maybe")), "invalid_adopt", "adopt"),
        ("adopt: true", withj("adopt", json!(true)), "invalid_adopt", "adopt"),
        // protocol (docs/ADAPTERS.md): each bad name is named by its path.
        ("protocol: v2", withj("protocol", json!("v2")), "invalid_protocol", "protocol"),
        ("protocol: a number", withj("protocol", json!(1)), "invalid_protocol", "protocol"),
        ("protocol: a list", withj("protocol", json!([{ "kind": "pushPull" }])), "invalid_protocol", "protocol"),
        ("protocol: no kind", withj("protocol", json!({})), "invalid_protocol", "protocol.kind"),
        ("protocol: unknown kind", withj("protocol", json!({ "kind": "graphql" })), "invalid_protocol", "protocol.kind"),
        ("protocol: unknown key", withj("protocol", json!({ "kind": "pushPull", "idfield": "_id" })), "invalid_protocol", "protocol.idfield"),
        ("protocol: basePath without /", withj("protocol", json!({ "kind": "pushPull", "basePath": "api" })), "invalid_protocol", "protocol.basePath"),
        ("protocol: basePath with a query", withj("protocol", json!({ "kind": "pushPull", "basePath": "/api?x=1" })), "invalid_protocol", "protocol.basePath"),
        ("protocol: basePath a number", withj("protocol", json!({ "kind": "pushPull", "basePath": 1 })), "invalid_protocol", "protocol.basePath"),
        ("protocol: empty idField", withj("protocol", json!({ "kind": "pushPull", "idField": "" })), "invalid_protocol", "protocol.idField"),
        ("protocol: userId a number", withj("protocol", json!({ "kind": "pushPull", "userId": 7 })), "invalid_protocol", "protocol.userId"),
        ("protocol: tables a list", withj("protocol", json!({ "kind": "pushPull", "tables": ["goals"] })), "invalid_protocol", "protocol.tables"),
        ("protocol: a table's empty name", withj("protocol", json!({ "kind": "pushPull", "tables": { "tasks": "" } })), "invalid_protocol", "protocol.tables.tasks"),
        ("protocol: overlap negative", withj("protocol", json!({ "kind": "pushPull", "overlapMs": -1 })), "invalid_protocol", "protocol.overlapMs"),
        ("protocol: custom without push", with("protocol", obj([("kind", js(json!("custom"))), ("pull", f(2))])), "invalid_protocol", "protocol.push"),
        ("protocol: custom push not a function", with("protocol", obj([("kind", js(json!("custom"))), ("push", js(json!("/push"))), ("pull", f(2))])), "invalid_protocol", "protocol.push"),
        ("protocol: custom without pull", with("protocol", obj([("kind", js(json!("custom"))), ("push", f(1))])), "invalid_protocol", "protocol.pull"),
        ("protocol: custom unknown key", with("protocol", obj([("kind", js(json!("custom"))), ("push", f(1)), ("pull", f(2)), ("fetch", f(3))])), "invalid_protocol", "protocol.fetch"),
        ("endpoint still checked with custom", with("protocol", obj([("kind", js(json!("custom"))), ("push", f(1)), ("pull", f(2))])).with("endpoint", js(json!("ftp://x"))), "invalid_endpoint", "endpoint"),
        ("protocol: overlap over a day", withj("protocol", json!({ "kind": "pushPull", "overlapMs": 86_400_001 })), "invalid_protocol", "protocol.overlapMs"),
        // protocol batched (docs/adapters/batched.md).
        ("batched: unknown key", withj("protocol", json!({ "kind": "batched", "serverIDField": "sid" })), "invalid_protocol", "protocol.serverIDField"),
        ("batched: pushPull's userField", withj("protocol", json!({ "kind": "batched", "userField": "owner" })), "invalid_protocol", "protocol.userField"),
        ("batched: basePath without /", withj("protocol", json!({ "kind": "batched", "basePath": "api" })), "invalid_protocol", "protocol.basePath"),
        ("batched: empty idField", withj("protocol", json!({ "kind": "batched", "idField": "" })), "invalid_protocol", "protocol.idField"),
        ("batched: serverIdField a number", withj("protocol", json!({ "kind": "batched", "serverIdField": 1 })), "invalid_protocol", "protocol.serverIdField"),
        ("batched: serverIdField the key", withj("protocol", json!({ "kind": "batched", "idField": "id", "serverIdField": "id" })), "invalid_protocol", "protocol.serverIdField"),
        ("batched: empty deletedField", withj("protocol", json!({ "kind": "batched", "deletedField": "" })), "invalid_protocol", "protocol.deletedField"),
        ("batched: tables a string", withj("protocol", json!({ "kind": "batched", "tables": "items" })), "invalid_protocol", "protocol.tables"),
        ("batched: entityTypes a list", withj("protocol", json!({ "kind": "batched", "entityTypes": ["item"] })), "invalid_protocol", "protocol.entityTypes"),
        ("batched: an empty entityType", withj("protocol", json!({ "kind": "batched", "entityTypes": { "tasks": "" } })), "invalid_protocol", "protocol.entityTypes.tasks"),
        ("batched: userId a number", withj("protocol", json!({ "kind": "batched", "userId": 7 })), "invalid_protocol", "protocol.userId"),
        ("batched: overlap 1.5", withj("protocol", json!({ "kind": "batched", "overlapMs": 1.5 })), "invalid_protocol", "protocol.overlapMs"),
        ("protocol: rest unknown key", withj("protocol", json!({ "kind": "rest", "userId": "u1" })), "invalid_protocol", "protocol.userId"),
        ("protocol: rest basePath without /", withj("protocol", json!({ "kind": "rest", "basePath": "api" })), "invalid_protocol", "protocol.basePath"),
        ("protocol: rest empty idField", withj("protocol", json!({ "kind": "rest", "idField": "" })), "invalid_protocol", "protocol.idField"),
        ("protocol: rest updatedField a number", withj("protocol", json!({ "kind": "rest", "updatedField": 1 })), "invalid_protocol", "protocol.updatedField"),
        ("protocol: rest empty deletedField", withj("protocol", json!({ "kind": "rest", "deletedField": "" })), "invalid_protocol", "protocol.deletedField"),
        ("protocol: rest sinceParam with =", withj("protocol", json!({ "kind": "rest", "sinceParam": "since=1&x" })), "invalid_protocol", "protocol.sinceParam"),
        ("protocol: rest a table's name with /", withj("protocol", json!({ "kind": "rest", "tables": { "tasks": "v2/tasks" } })), "invalid_protocol", "protocol.tables.tasks"),
        ("protocol: rest a table not in the schema", withj("protocol", json!({ "kind": "rest", "tables": { "todos": "tasks" } })), "invalid_protocol", "protocol.tables.todos"),
        ("protocol: rest overlap negative", withj("protocol", json!({ "kind": "rest", "overlapMs": -1 })), "invalid_protocol", "protocol.overlapMs"),
        ("protocol: rest concurrency 0", withj("protocol", json!({ "kind": "rest", "concurrency": 0 })), "invalid_protocol", "protocol.concurrency"),
        ("protocol: rest concurrency 17", withj("protocol", json!({ "kind": "rest", "concurrency": 17 })), "invalid_protocol", "protocol.concurrency"),
        ("protocol: rest concurrency 1.5", withj("protocol", json!({ "kind": "rest", "concurrency": 1.5 })), "invalid_protocol", "protocol.concurrency"),
        ("protocol: rest concurrency a string", withj("protocol", json!({ "kind": "rest", "concurrency": "4" })), "invalid_protocol", "protocol.concurrency"),
        ("protocol: changeLog unknown key", withj("protocol", json!({ "kind": "changeLog", "deletedField": "gone" })), "invalid_protocol", "protocol.deletedField"),
        ("protocol: changeLog pushPath without /", withj("protocol", json!({ "kind": "changeLog", "pushPath": "push" })), "invalid_protocol", "protocol.pushPath"),
        ("protocol: changeLog pullPath only /", withj("protocol", json!({ "kind": "changeLog", "pullPath": "/" })), "invalid_protocol", "protocol.pullPath"),
        ("protocol: changeLog acknowledgePath with a query", withj("protocol", json!({ "kind": "changeLog", "acknowledgePath": "/ack?x=1" })), "invalid_protocol", "protocol.acknowledgePath"),
        ("protocol: changeLog basePath without /", withj("protocol", json!({ "kind": "changeLog", "basePath": "api" })), "invalid_protocol", "protocol.basePath"),
        ("protocol: changeLog empty metaField", withj("protocol", json!({ "kind": "changeLog", "metaField": "" })), "invalid_protocol", "protocol.metaField"),
        ("protocol: changeLog idField a number", withj("protocol", json!({ "kind": "changeLog", "idField": 1 })), "invalid_protocol", "protocol.idField"),
        ("protocol: changeLog a table's empty name", withj("protocol", json!({ "kind": "changeLog", "tables": { "items": "" } })), "invalid_protocol", "protocol.tables.items"),
        ("protocol: delta without apiKey", withj("protocol", json!({ "kind": "delta" })), "invalid_protocol", "protocol.apiKey"),
        ("protocol: delta empty apiKey", withj("protocol", json!({ "kind": "delta", "apiKey": "" })), "invalid_protocol", "protocol.apiKey"),
        ("protocol: delta unknown key", withj("protocol", json!({ "kind": "delta", "apiKey": "k", "tables": { "spools": "spools" } })), "invalid_protocol", "protocol.tables"),
        ("protocol: delta path without /", withj("protocol", json!({ "kind": "delta", "apiKey": "k", "path": "api/sync" })), "invalid_protocol", "protocol.path"),
        ("protocol: delta table a list", withj("protocol", json!({ "kind": "delta", "apiKey": "k", "table": ["spools"] })), "invalid_protocol", "protocol.table"),
        ("protocol: delta empty updatedField", withj("protocol", json!({ "kind": "delta", "apiKey": "k", "updatedField": "" })), "invalid_protocol", "protocol.updatedField"),
        ("protocol: changeLog overlap a fraction", withj("protocol", json!({ "kind": "changeLog", "overlapMs": 1.5 })), "invalid_protocol", "protocol.overlapMs"),
        // The first bad option in the documented order is the one reported.
        ("dbName before endpoint", withj("dbName", json!("")).with("endpoint", js(json!(1))), "invalid_db_name", "dbName"),
        ("endpoint before adopt", withj("adopt", json!(1)).with("endpoint", js(json!(1))), "invalid_endpoint", "endpoint"),
    ];
    for (name, input, code, option) in cases {
        match manager_options(&input) {
            Ok(_) => panic!("{name}: accepted"),
            Err(e) => assert_eq!(
                (e.code.as_str(), e.option.as_str()),
                (code, option),
                "{name}: {e}"
            ),
        }
    }
}

#[test]
fn valid_manager_options_give_typed_values_with_defaults() {
    let defaults = ManagerOptions {
        database: DatabaseOptions {
            name: "options-check".into(),
            version: 1,
            schema: schema(&[("tasks", "id")]),
        },
        endpoint: "http://127.0.0.1:8080".into(),
        auth: AuthOption::None,
        scheduler: SchedulerConfig::default(),
        conflict: ConflictOptions::default(),
        batch: BatchLimits::default(),
        auto_sync: true,
        heartbeat: Heartbeat::default(),
        adopt: AdoptMode::Push,
        protocol: ProtocolOption::V1,
        live: true,
        persist_storage: false,
    };
    // The documented defaults (docs/SYNC_MANAGER.md, "Options").
    let s = SchedulerConfig::default();
    assert_eq!(s.interval_ms, Some(30_000));
    assert_eq!(
        (s.hidden_interval_ms, s.debounce_ms, s.max_debounce_ms),
        (300_000, 250, 2_000)
    );
    let b = BatchLimits::default();
    assert_eq!((b.max_count, b.max_bytes), (500, 1024 * 1024));
    assert_eq!(
        ConflictOptions::default().policies.default,
        ConflictPolicy::FieldMerge
    );

    let d = || defaults.clone();
    let sched = |scheduler: SchedulerConfig| ManagerOptions { scheduler, ..d() };
    let conflict = |default, tables: &[(&str, ConflictPolicy)], resolver: Option<usize>| {
        let schema = schema(&[("tasks", "id"), ("notes", "id, title")]);
        let tables = tables.iter().map(|(t, p)| (t.to_string(), *p)).collect();
        ManagerOptions {
            database: DatabaseOptions {
                schema,
                ..d().database
            },
            conflict: ConflictOptions {
                policies: PolicyConfig { default, tables },
                resolver: resolver.map(FunctionId),
            },
            ..d()
        }
    };
    let nulls = [
        "version",
        "auth",
        "interval",
        "hiddenInterval",
        "debounce",
        "conflict",
        "batch",
        "clientId",
        "autoSync",
        "leaderHeartbeat",
        "adopt",
        "protocol",
        "live",
        "persistStorage",
    ]
    .into_iter()
    .fold(good(), |o, key| o.with(key, OptionValue::Null));
    let undefined = good()
        .with("auth", OptionValue::Undefined)
        .with("clientId", OptionValue::Undefined);
    #[rustfmt::skip]
    let cases: Vec<(&str, OptionValue, ManagerOptions)> = vec![
        ("defaults", good(), d()),
        ("null is absent", nulls, d()),
        ("undefined is absent", undefined, d()),
        ("dbName, version", withj("version", json!(3)).with("dbName", js(json!("app"))), ManagerOptions { database: DatabaseOptions { name: "app".into(), version: 3, ..d().database }, ..d() }),
        ("200-byte dbName", withj("dbName", json!("é".repeat(100))), ManagerOptions { database: DatabaseOptions { name: "é".repeat(100), ..d().database }, ..d() }),
        ("endpoint: slashes trimmed", withj("endpoint", json!("https://sync.example.com/api//")), ManagerOptions { endpoint: "https://sync.example.com/api".into(), ..d() }),
        ("auth: getToken", with("auth", obj([("getToken", f(0))])), ManagerOptions { auth: AuthOption::GetToken(FunctionId(0)), ..d() }),
        ("auth: apiKey", withj("auth", json!({ "apiKey": "k1" })), ManagerOptions { auth: AuthOption::ApiKey("k1".into()), ..d() }),
        ("interval: 0 is off", withj("interval", json!(0)), sched(SchedulerConfig { interval_ms: None, ..s })),
        ("interval: false is off", withj("interval", json!(false)), sched(SchedulerConfig { interval_ms: None, ..s })),
        ("interval: 100", withj("interval", json!(100)), sched(SchedulerConfig { interval_ms: Some(100), ..s })),
        ("interval: a day", withj("interval", json!(86_400_000)), sched(SchedulerConfig { interval_ms: Some(86_400_000), ..s })),
        ("hiddenInterval", withj("hiddenInterval", json!(60_000)), sched(SchedulerConfig { hidden_interval_ms: 60_000, ..s })),
        ("debounce: 0", withj("debounce", json!(0)), sched(SchedulerConfig { debounce_ms: 0, ..s })),
        ("debounce: above the cap raises it", withj("debounce", json!(5_000)), sched(SchedulerConfig { debounce_ms: 5_000, max_debounce_ms: 5_000, ..s })),
        ("conflict: a name", two_tables().with("conflict", js(json!("serverWins"))), conflict(ConflictPolicy::ServerWins, &[], None)),
        ("conflict: a function", two_tables().with("conflict", f(2)), conflict(ConflictPolicy::Custom, &[], Some(2))),
        ("conflict: {} is the default", two_tables().with("conflict", js(json!({}))), conflict(ConflictPolicy::FieldMerge, &[], None)),
        ("conflict: default and tables", two_tables().with("conflict", js(json!({ "default": "manual", "tables": { "notes": "lastWriteWins", "tasks": "clientWins" } }))), conflict(ConflictPolicy::Manual, &[("notes", ConflictPolicy::LastWriteWins), ("tasks", ConflictPolicy::ClientWins)], None)),
        ("conflict: one function used twice", two_tables().with("conflict", obj([("default", f(1)), ("tables", obj([("notes", f(1)), ("tasks", js(json!("fieldMerge")))]))])), conflict(ConflictPolicy::Custom, &[("notes", ConflictPolicy::Custom), ("tasks", ConflictPolicy::FieldMerge)], Some(1))),
        ("batch: both", withj("batch", json!({ "maxCount": 10_000, "maxBytes": 67_108_864 })), ManagerOptions { batch: BatchLimits { max_count: 10_000, max_bytes: 64 << 20 }, ..d() }),
        ("batch: one", withj("batch", json!({ "maxCount": 1 })), ManagerOptions { batch: BatchLimits { max_count: 1, ..b }, ..d() }),
        ("autoSync: false", withj("autoSync", json!(false)), ManagerOptions { auto_sync: false, ..d() }),
        ("live: false", withj("live", json!(false)), ManagerOptions { live: false, ..d() }),
        ("persistStorage: true", withj("persistStorage", json!(true)), ManagerOptions { persist_storage: true, ..d() }),
        ("leaderHeartbeat", withj("leaderHeartbeat", json!(100)), ManagerOptions { heartbeat: Heartbeat { period_ms: 100 }, ..d() }),
        ("adopt: pull", withj("adopt", json!("pull")), ManagerOptions { adopt: AdoptMode::Pull, ..d() }),
        ("adopt: none", withj("adopt", json!("none")), ManagerOptions { adopt: AdoptMode::None, ..d() }),
        ("protocol: v1", withj("protocol", json!("v1")), d()),
        ("protocol: custom", with("protocol", obj([("kind", js(json!("custom"))), ("push", f(1)), ("pull", f(2))])), ManagerOptions { protocol: ProtocolOption::Custom { push: FunctionId(1), pull: FunctionId(2) }, ..d() }),
        ("protocol: custom, no endpoint", js(json!({ "dbName": "options-check", "schema": { "tasks": "id" } })).with("protocol", obj([("kind", js(json!("custom"))), ("push", f(1)), ("pull", f(2))])), ManagerOptions { endpoint: String::new(), protocol: ProtocolOption::Custom { push: FunctionId(1), pull: FunctionId(2) }, ..d() }),
        ("protocol: pushPull defaults", withj("protocol", json!({ "kind": "pushPull" })), ManagerOptions { protocol: ProtocolOption::PushPull(PushPullConfig::default()), ..d() }),
        ("protocol: pushPull names", withj("protocol", json!({ "kind": "pushPull", "basePath": "/.netlify/functions/", "idField": "_id", "tables": { "tasks": "goals" }, "userField": "owner", "userId": "u1", "deletedField": "gone", "overlapMs": 0 })), ManagerOptions { protocol: ProtocolOption::PushPull(PushPullConfig { base_path: "/.netlify/functions".into(), id_field: "_id".into(), tables: vec![("tasks".to_string(), "goals".to_string())], user_field: "owner".into(), user_id: Some("u1".into()), deleted_field: "gone".into(), overlap_ms: 0 }), ..d() }),
        ("protocol: empty basePath", withj("protocol", json!({ "kind": "pushPull", "basePath": "" })), ManagerOptions { protocol: ProtocolOption::PushPull(PushPullConfig::default()), ..d() }),
        ("batched: defaults", withj("protocol", json!({ "kind": "batched" })), ManagerOptions { protocol: ProtocolOption::Batched(BatchedConfig { base_path: "/api".into(), id_field: "localId".into(), server_id_field: "serverId".into(), deleted_field: "isDeleted".into(), tables: vec![], entity_types: vec![], user_id: None, overlap_ms: 60_000 }), ..d() }),
        ("batched: names", withj("protocol", json!({ "kind": "batched", "basePath": "/v2/", "idField": "id", "serverIdField": "remoteId", "deletedField": "deleted", "tables": { "tasks": "todos" }, "entityTypes": { "tasks": "todo" }, "userId": "u1", "overlapMs": 0 })), ManagerOptions { protocol: ProtocolOption::Batched(BatchedConfig { base_path: "/v2".into(), id_field: "id".into(), server_id_field: "remoteId".into(), deleted_field: "deleted".into(), tables: vec![("tasks".to_string(), "todos".to_string())], entity_types: vec![("tasks".to_string(), "todo".to_string())], user_id: Some("u1".into()), overlap_ms: 0 }), ..d() }),
        ("batched: basePath empty", withj("protocol", json!({ "kind": "batched", "basePath": "" })), ManagerOptions { protocol: ProtocolOption::Batched(BatchedConfig { base_path: String::new(), ..BatchedConfig::default() }), ..d() }),
        ("protocol: rest defaults, every schema table", withj("protocol", json!({ "kind": "rest" })), ManagerOptions { protocol: ProtocolOption::Rest(RestConfig { tables: vec![("tasks".into(), "tasks".into())], ..RestConfig::default() }), ..d() }),
        ("protocol: rest names", two_tables().with("protocol", js(json!({ "kind": "rest", "basePath": "/v2/", "idField": "_id", "tables": { "notes": "memos" }, "updatedField": "modified", "deletedField": "isDeleted", "sinceParam": "updated_since", "overlapMs": 0, "concurrency": 1 }))), ManagerOptions { protocol: ProtocolOption::Rest(RestConfig { base_path: "/v2".into(), id_field: "_id".into(), tables: vec![("notes".into(), "memos".into()), ("tasks".into(), "tasks".into())], updated_field: "modified".into(), deleted_field: "isDeleted".into(), since_param: "updated_since".into(), overlap_ms: 0, concurrency: 1 }), ..manager_options(&two_tables()).unwrap() }),
        ("protocol: changeLog defaults", withj("protocol", json!({ "kind": "changeLog" })), ManagerOptions { protocol: ProtocolOption::ChangeLog(ChangeLogConfig::default()), ..d() }),
        ("protocol: delta defaults", withj("protocol", json!({ "kind": "delta", "apiKey": "k" })), ManagerOptions { protocol: ProtocolOption::Delta(DeltaConfig { api_key: "k".into(), ..DeltaConfig::default() }), ..d() }),
        ("protocol: delta names", withj("protocol", json!({ "kind": "delta", "apiKey": "k", "basePath": "/filament", "path": "/sync", "table": "rolls", "idField": "uuid", "updatedField": "modified", "deletedField": "gone", "userId": "u1", "overlapMs": 0 })), ManagerOptions { protocol: ProtocolOption::Delta(DeltaConfig { base_path: "/filament".into(), path: "/sync".into(), api_key: "k".into(), table: "rolls".into(), id_field: "uuid".into(), updated_field: "modified".into(), deleted_field: "gone".into(), user_id: Some("u1".into()), overlap_ms: 0 }), ..d() }),
        ("protocol: changeLog names", withj("protocol", json!({ "kind": "changeLog", "basePath": "/api/sync/", "pushPath": "/push", "pullPath": "/changes", "acknowledgePath": "/changes/ack", "idField": "uuid", "metaField": "_sync", "tables": { "items": "item" }, "userId": "u1", "overlapMs": 5000 })), ManagerOptions { protocol: ProtocolOption::ChangeLog(ChangeLogConfig { base_path: "/api/sync".into(), push_path: "/push".into(), pull_path: "/changes".into(), acknowledge_path: "/changes/ack".into(), id_field: "uuid".into(), meta_field: "_sync".into(), tables: vec![("items".to_string(), "item".to_string())], user_id: Some("u1".into()), overlap_ms: 5000 }), ..d() }),
    ];
    for (name, input, expected) in cases {
        match manager_options(&input) {
            Ok(got) => assert_eq!(got, expected, "{name}"),
            Err(e) => panic!("{name}: refused: {e}"),
        }
    }
}

#[test]
fn local_database_options_keep_their_own_codes() {
    let good = js(json!({ "dbName": "local", "schema": { "tasks": "id" } }));
    let with = |key: &str, value: serde_json::Value| good.clone().with(key, js(value));
    let circular = good.clone().with(
        "schema",
        obj([
            ("tasks", js(json!("id"))),
            ("x", OptionValue::Other("object".into())),
        ]),
    );
    #[rustfmt::skip]
    let refused: Vec<(&str, OptionValue, &str, &str)> = vec![
        ("options: 42", js(json!(42)), "invalid_argument", "options"),
        ("dbName: 42", js(json!({ "dbName": 42, "schema": {} })), "invalid_argument", "dbName"),
        ("dbName: empty", with("dbName", json!("")), "invalid_argument", "dbName"),
        ("version: null", with("version", json!(null)), "invalid_argument", "version"),
        ("version: 0", with("version", json!(0)), "invalid_argument", "version"),
        ("schema: missing", js(json!({ "dbName": "local" })), "invalid_argument", "schema"),
        ("schema: a function", good.clone().with("schema", f(0)), "invalid_argument", "schema"),
        ("schema: circular", circular, "invalid_argument", "schema.x"),
        ("schema: Dexie syntax", with("schema", json!({ "tasks": "id, id" })), "invalid_schema", "schema.tasks"),
    ];
    for (name, input, code, option) in refused {
        match database_options(&input) {
            Ok(_) => panic!("{name}: accepted"),
            Err(e) => assert_eq!(
                (e.code.as_str(), e.option.as_str()),
                (code, option),
                "{name}: {e}"
            ),
        }
    }
    // A Dexie syntax error is thrown as the schema parser's error, as it always was.
    let dexie = database_options(&with("schema", json!({ "tasks": "id, id" }))).unwrap_err();
    assert!(
        matches!(dexie.schema_error(), Some(SchemaError::Invalid { ref table, .. }) if table == "tasks"),
        "{dexie:?}"
    );
    let shape = database_options(&js(json!({ "dbName": 42 }))).unwrap_err();
    assert_eq!(shape.schema_error(), None);

    let local = |version, tables: &[(&str, &str)]| DatabaseOptions {
        name: "local".into(),
        version,
        schema: schema(tables),
    };
    #[rustfmt::skip]
    let accepted: Vec<(&str, OptionValue, DatabaseOptions)> = vec![
        ("defaults", good.clone(), local(1, &[("tasks", "id")])),
        ("what cannot sync, other keys", with("version", json!(4)).with("schema", js(json!({ "log": "++", "pairs": "[a+b]" }))).with("endpoint", js(json!(1))), local(4, &[("log", "++"), ("pairs", "[a+b]")])),
        ("an empty schema", with("schema", json!({})), local(1, &[])),
    ];
    for (name, input, expected) in accepted {
        match database_options(&input) {
            Ok(got) => assert_eq!(got, expected, "{name}"),
            Err(e) => panic!("{name}: refused: {e}"),
        }
    }
}
