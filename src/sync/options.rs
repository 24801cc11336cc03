//! The options of `SyncManager.open`, validated field by field: each invalid option
//! throws a `SyncError` with its own code (`invalid_db_name`, `invalid_endpoint`, ...)
//! and the option's name in `error.option`, before anything is opened.

use std::collections::BTreeMap;

use idb_sync_core::conflict::{ConflictPolicy, PolicyConfig};
use idb_sync_core::outbox::BatchLimits;
use idb_sync_core::schema::DatabaseSchema;
use js_sys::{Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::error::ManagerError;

/// How requests are authenticated.
pub(crate) enum AuthOption {
    /// No `Authorization` header.
    None,
    /// `getToken()` (sync or async) returns the bearer token.
    GetToken(Function),
    /// A fixed API key sent as the bearer token.
    ApiKey(String),
}

/// A conflict policy: a named one, or the app's function.
pub(crate) struct ConflictOption {
    pub(crate) policies: PolicyConfig,
    pub(crate) resolver: Option<Function>,
}

/// Validated options (`dbName`, `version` and `schema` are validated here and read
/// again by `LocalDatabase.open`).
pub(crate) struct ManagerOptions {
    pub(crate) endpoint: String,
    pub(crate) auth: AuthOption,
    pub(crate) interval_ms: Option<u64>,
    pub(crate) hidden_interval_ms: Option<u64>,
    pub(crate) debounce_ms: Option<u64>,
    pub(crate) conflict: ConflictOption,
    pub(crate) batch: BatchLimits,
    pub(crate) client_id: Option<String>,
    pub(crate) auto_sync: bool,
    pub(crate) leader_heartbeat_ms: Option<u64>,
}

const KNOWN: &[&str] = &[
    "dbName",
    "version",
    "schema",
    "endpoint",
    "auth",
    "interval",
    "hiddenInterval",
    "debounce",
    "conflict",
    "batch",
    "clientId",
    "autoSync",
    "leaderHeartbeat",
];

fn get(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

fn absent(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}

/// A whole number of milliseconds in `min..=max`, or `None` when absent.
fn millis(
    options: &JsValue,
    option: &'static str,
    code: &'static str,
    min: f64,
) -> Result<Option<u64>, ManagerError> {
    let v = get(options, option);
    if absent(&v) {
        return Ok(None);
    }
    match v.as_f64() {
        Some(ms)
            if ms.is_finite() && ms.fract() == 0.0 && ms >= min && ms <= 24.0 * 3_600_000.0 =>
        {
            Ok(Some(ms as u64))
        }
        _ => Err(ManagerError::invalid(
            option,
            code,
            format!("expected whole milliseconds from {min} to 86400000"),
        )),
    }
}

fn policy(name: &str) -> Option<ConflictPolicy> {
    Some(match name {
        "fieldMerge" => ConflictPolicy::FieldMerge,
        "serverWins" => ConflictPolicy::ServerWins,
        "clientWins" => ConflictPolicy::ClientWins,
        "lastWriteWins" => ConflictPolicy::LastWriteWins,
        "manual" => ConflictPolicy::Manual,
        _ => return None,
    })
}

const POLICIES: &str = "'fieldMerge', 'serverWins', 'clientWins', 'lastWriteWins', 'manual' or a function (local, remote, base) => merged";

/// One policy value: a name or a function (which becomes the resolver).
fn policy_value(
    v: &JsValue,
    resolver: &mut Option<Function>,
) -> Result<ConflictPolicy, ManagerError> {
    if let Some(f) = v.dyn_ref::<Function>() {
        if resolver.as_ref().is_some_and(|r| r != f) {
            return Err(ManagerError::invalid(
                "conflict",
                "invalid_conflict",
                "only one conflict function per manager",
            ));
        }
        *resolver = Some(f.clone());
        return Ok(ConflictPolicy::Custom);
    }
    v.as_string().and_then(|s| policy(&s)).ok_or_else(|| {
        ManagerError::invalid(
            "conflict",
            "invalid_conflict",
            format!("expected {POLICIES}"),
        )
    })
}

fn conflict(options: &JsValue, schema: &DatabaseSchema) -> Result<ConflictOption, ManagerError> {
    let v = get(options, "conflict");
    let mut resolver = None;
    if absent(&v) {
        return Ok(ConflictOption {
            policies: PolicyConfig::default(),
            resolver,
        });
    }
    if v.is_string() || v.is_function() {
        let default = policy_value(&v, &mut resolver)?;
        return Ok(ConflictOption {
            policies: PolicyConfig::uniform(default),
            resolver,
        });
    }
    if !v.is_object() {
        return Err(ManagerError::invalid(
            "conflict",
            "invalid_conflict",
            format!("expected {POLICIES}, or {{ default, tables }}"),
        ));
    }
    let default = get(&v, "default");
    let default = if absent(&default) {
        ConflictPolicy::default()
    } else {
        policy_value(&default, &mut resolver)?
    };
    let mut tables = BTreeMap::new();
    let per_table = get(&v, "tables");
    if !absent(&per_table) {
        if !per_table.is_object() {
            return Err(ManagerError::invalid(
                "conflict",
                "invalid_conflict",
                "`tables` must map table names to policies",
            ));
        }
        for entry in Object::entries(per_table.unchecked_ref()).iter() {
            let entry = js_sys::Array::from(&entry);
            let table = entry.get(0).as_string().unwrap_or_default();
            if !schema.contains_key(&table) {
                return Err(ManagerError::invalid(
                    "conflict",
                    "invalid_conflict",
                    format!("table `{table}` is not in the schema"),
                ));
            }
            tables.insert(table, policy_value(&entry.get(1), &mut resolver)?);
        }
    }
    Ok(ConflictOption {
        policies: PolicyConfig { default, tables },
        resolver,
    })
}

fn auth(options: &JsValue) -> Result<AuthOption, ManagerError> {
    let v = get(options, "auth");
    if absent(&v) {
        return Ok(AuthOption::None);
    }
    let bad = || {
        ManagerError::invalid(
            "auth",
            "invalid_auth",
            "expected { getToken: async () => token } or { apiKey: string }",
        )
    };
    if !v.is_object() {
        return Err(bad());
    }
    let (get_token, api_key) = (get(&v, "getToken"), get(&v, "apiKey"));
    match (absent(&get_token), absent(&api_key)) {
        (false, true) => get_token
            .dyn_into::<Function>()
            .map(AuthOption::GetToken)
            .map_err(|_| bad()),
        (true, false) => api_key
            .as_string()
            .filter(|k| !k.is_empty())
            .map(AuthOption::ApiKey)
            .ok_or_else(bad),
        _ => Err(bad()),
    }
}

fn batch(options: &JsValue) -> Result<BatchLimits, ManagerError> {
    let v = get(options, "batch");
    let mut limits = BatchLimits::default();
    if absent(&v) {
        return Ok(limits);
    }
    if !v.is_object() {
        return Err(ManagerError::invalid(
            "batch",
            "invalid_batch",
            "expected { maxCount, maxBytes }",
        ));
    }
    let whole =
        |name: &'static str, code: &'static str, max: f64| -> Result<Option<usize>, ManagerError> {
            let n = get(&v, name);
            if absent(&n) {
                return Ok(None);
            }
            match n.as_f64() {
                Some(n) if n.fract() == 0.0 && n >= 1.0 && n <= max => Ok(Some(n as usize)),
                _ => Err(ManagerError::invalid(
                    "batch",
                    code,
                    format!("`batch.{name}` must be a whole number from 1 to {max}"),
                )),
            }
        };
    if let Some(n) = whole("maxCount", "invalid_batch_count", 10_000.0)? {
        limits.max_count = n;
    }
    if let Some(n) = whole("maxBytes", "invalid_batch_bytes", 64.0 * 1024.0 * 1024.0)? {
        limits.max_bytes = n;
    }
    Ok(limits)
}

fn endpoint(options: &JsValue) -> Result<String, ManagerError> {
    let v = get(options, "endpoint").as_string().unwrap_or_default();
    let base = v.trim_end_matches('/');
    let host = base
        .strip_prefix("https://")
        .or_else(|| base.strip_prefix("http://"))
        .unwrap_or("");
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(ManagerError::invalid(
            "endpoint",
            "invalid_endpoint",
            "expected the sync server's http(s) base URL",
        ));
    }
    Ok(base.to_owned())
}

fn schema(options: &JsValue) -> Result<DatabaseSchema, ManagerError> {
    let v = get(options, "schema");
    let bad = |reason: String| ManagerError::invalid("schema", "invalid_schema", reason);
    if !v.is_object() || v.is_function() || js_sys::Array::is_array(&v) {
        return Err(bad("expected { table: 'primaryKey, index, ...' }".into()));
    }
    let mut tables = BTreeMap::new();
    for entry in Object::entries(v.unchecked_ref()).iter() {
        let entry = js_sys::Array::from(&entry);
        let table = entry.get(0).as_string().unwrap_or_default();
        let spec = entry
            .get(1)
            .as_string()
            .ok_or_else(|| bad(format!("table `{table}`: expected a schema string")))?;
        tables.insert(table, spec);
    }
    if tables.is_empty() {
        return Err(bad("declare at least one table".into()));
    }
    idb_sync_core::schema::parse_schema(tables.iter().map(|(t, s)| (t.as_str(), s.as_str())))
        .map_err(|e| bad(e.to_string()))
}

/// Validates the options object of `SyncManager.open`.
pub(crate) fn parse(options: &JsValue) -> Result<ManagerOptions, ManagerError> {
    if !options.is_object() {
        return Err(ManagerError::invalid(
            "options",
            "invalid_options",
            "expected { dbName, schema, endpoint, ... }",
        ));
    }
    for key in Object::keys(options.unchecked_ref::<Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        if !KNOWN.contains(&key.as_str()) {
            return Err(ManagerError::invalid(
                "options",
                "unknown_option",
                format!("unknown option `{key}` (known: {})", KNOWN.join(", ")),
            ));
        }
    }
    get(options, "dbName")
        .as_string()
        .filter(|s| !s.is_empty() && s.len() <= 200)
        .ok_or_else(|| {
            ManagerError::invalid("dbName", "invalid_db_name", "expected a non-empty string")
        })?;
    let version = get(options, "version");
    if !absent(&version) {
        match version.as_f64() {
            Some(v) if v >= 1.0 && v.fract() == 0.0 && v <= (u32::MAX / 10) as f64 => {}
            _ => {
                return Err(ManagerError::invalid(
                    "version",
                    "invalid_version",
                    "expected a positive integer",
                ))
            }
        }
    }
    let schema = schema(options)?;
    let endpoint = endpoint(options)?;
    let auth = auth(options)?;
    let interval = get(options, "interval");
    let interval_ms = if interval.as_bool() == Some(false) || interval.as_f64() == Some(0.0) {
        None
    } else {
        Some(millis(options, "interval", "invalid_interval", 100.0)?.unwrap_or(30_000))
    };
    let hidden_interval_ms = millis(options, "hiddenInterval", "invalid_hidden_interval", 100.0)?;
    let debounce_ms = millis(options, "debounce", "invalid_debounce", 0.0)?;
    let conflict = conflict(options, &schema)?;
    let batch = batch(options)?;
    let client_id = get(options, "clientId");
    let client_id = if absent(&client_id) {
        None
    } else {
        let ok = |s: &String| {
            (1..=128).contains(&s.len())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
        };
        Some(client_id.as_string().filter(ok).ok_or_else(|| {
            ManagerError::invalid(
                "clientId",
                "invalid_client_id",
                "expected 1-128 characters of A-Z a-z 0-9 - _ . :",
            )
        })?)
    };
    let auto_sync = get(options, "autoSync");
    let auto_sync = if absent(&auto_sync) {
        true
    } else {
        auto_sync.as_bool().ok_or_else(|| {
            ManagerError::invalid("autoSync", "invalid_auto_sync", "expected a boolean")
        })?
    };
    let leader_heartbeat_ms = millis(
        options,
        "leaderHeartbeat",
        "invalid_leader_heartbeat",
        100.0,
    )?;
    Ok(ManagerOptions {
        endpoint,
        auth,
        interval_ms,
        hidden_interval_ms,
        debounce_ms,
        conflict,
        batch,
        client_id,
        auto_sync,
        leader_heartbeat_ms,
    })
}
