//! `protocol`: which server API the manager speaks (docs/ADAPTERS.md): `'v1'` (the
//! default, idb-sync's own protocol) or `{ kind: 'pushPull', … }` for a server of
//! seed 000's API, with its names.

use super::{path, OptionError, OptionValue};
use crate::adapters::PushPullConfig;
use crate::ErrorCode;

/// The longest overlap accepted for a timestamp cursor, ms (one day).
const MAX_OVERLAP_MS: f64 = 86_400_000.0;

/// The keys `{ kind: 'pushPull' }` accepts.
const PUSH_PULL_KEYS: &[&str] = &[
    "kind",
    "basePath",
    "idField",
    "tables",
    "userField",
    "userId",
    "deletedField",
    "overlapMs",
];

/// The protocol the manager speaks.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum ProtocolOption {
    /// Protocol v1 (docs/PROTOCOL.md).
    #[default]
    V1,
    /// Seed 000's `sync/push` + `sync/pull` API, through the pushPull adapter.
    PushPull(PushPullConfig),
}

fn invalid(option: impl Into<String>, reason: impl Into<String>) -> OptionError {
    OptionError::new(ErrorCode::InvalidProtocol, option, reason)
}

/// Reads `protocol`: absent or `'v1'` is v1; an object names its adapter by `kind`.
pub(crate) fn protocol(v: &OptionValue) -> Result<ProtocolOption, OptionError> {
    if v.is_absent() || v.as_str() == Some("v1") {
        return Ok(ProtocolOption::V1);
    }
    if !matches!(v, OptionValue::Object(_)) {
        return Err(invalid(
            "protocol",
            "expected 'v1' or { kind: 'pushPull', ... }",
        ));
    }
    match v.get("kind").as_str() {
        Some("pushPull") => push_pull(v).map(ProtocolOption::PushPull),
        _ => Err(invalid("protocol.kind", "expected 'pushPull'")),
    }
}

fn push_pull(v: &OptionValue) -> Result<PushPullConfig, OptionError> {
    for (key, _) in v.entries().unwrap_or_default() {
        if !PUSH_PULL_KEYS.contains(&key.as_ref()) {
            let known = PUSH_PULL_KEYS.join(", ");
            let reason = format!("unknown key `{key}` (known: {known})");
            return Err(invalid(path("protocol", &key), reason));
        }
    }
    let mut config = PushPullConfig::default();
    let base = v.get("basePath");
    if !base.is_absent() {
        let text = base.as_str().unwrap_or("?");
        let ok = text.is_empty() || text.starts_with('/');
        if !ok || text.contains(|c: char| c.is_whitespace() || c == '?' || c == '#') {
            let reason = "expected a path starting with '/', without spaces, query or fragment";
            return Err(invalid("protocol.basePath", reason));
        }
        config.base_path = text.trim_end_matches('/').to_owned();
    }
    for (key, slot) in [
        ("idField", &mut config.id_field),
        ("userField", &mut config.user_field),
        ("deletedField", &mut config.deleted_field),
    ] {
        if let Some(name) = name(v, key)? {
            *slot = name;
        }
    }
    config.user_id = name(v, "userId")?;
    config.tables = tables(v.get("tables"))?;
    let overlap = v.get("overlapMs");
    if !overlap.is_absent() {
        match overlap.as_f64() {
            Some(n) if n.fract() == 0.0 && (0.0..=MAX_OVERLAP_MS).contains(&n) => {
                config.overlap_ms = n as u64;
            }
            _ => {
                let reason = "expected whole ms from 0 to 86 400 000";
                return Err(invalid("protocol.overlapMs", reason));
            }
        }
    }
    Ok(config)
}

/// `protocol.<key>`: a non-empty string, or `None` when absent.
fn name(v: &OptionValue, key: &str) -> Result<Option<String>, OptionError> {
    let value = v.get(key);
    if value.is_absent() {
        return Ok(None);
    }
    match value.as_str() {
        Some(s) if !s.is_empty() => Ok(Some(s.to_owned())),
        _ => Err(invalid(
            path("protocol", key),
            "expected a non-empty string",
        )),
    }
}

/// `protocol.tables`: `{ <local table>: <server collection> }`.
fn tables(v: &OptionValue) -> Result<Vec<(String, String)>, OptionError> {
    if v.is_absent() {
        return Ok(Vec::new());
    }
    let entries = match v {
        OptionValue::Object(_) => v.entries().unwrap_or_default(),
        _ => {
            let reason = "expected { <table>: <server name> }";
            return Err(invalid("protocol.tables", reason));
        }
    };
    let mut out = Vec::new();
    for (table, remote) in entries {
        match remote.as_str() {
            Some(r) if !r.is_empty() => out.push((table.to_string(), r.to_owned())),
            _ => {
                let reason = "expected the server's name, a non-empty string";
                return Err(invalid(format!("protocol.tables.{table}"), reason));
            }
        };
    }
    Ok(out)
}
