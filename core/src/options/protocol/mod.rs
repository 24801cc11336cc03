//! `protocol`: which server API the manager speaks (docs/ADAPTERS.md): `'v1'` (the
//! default, idb-sync's own protocol), `{ kind: 'custom', push, pull }` (the app's
//! functions exchange v1 batches and pages with its server), or `{ kind: <adapter>,
//! … }` for a server of one of the seeds' APIs, with its names. Each adapter's keys
//! are read in its own file; this one dispatches on `kind` and holds the readers they
//! share. Every kind but v1 is only in builds with the cargo feature `adapters`
//! (`idb-sync/adapters`); elsewhere it is refused with a message naming that entry.

#[cfg(feature = "adapters")]
mod batched;
#[cfg(feature = "adapters")]
mod change_log;
#[cfg(feature = "adapters")]
mod delta;
#[cfg(feature = "adapters")]
mod push_pull;
#[cfg(feature = "adapters")]
mod rest;
#[cfg(feature = "adapters")]
pub(crate) use rest::with_schema_tables;

#[cfg(feature = "adapters")]
use super::{path, FunctionId};
use super::{OptionError, OptionValue};
#[cfg(feature = "adapters")]
use crate::adapters::{BatchedConfig, ChangeLogConfig, DeltaConfig, PushPullConfig, RestConfig};
use crate::ErrorCode;

/// The longest overlap accepted for a timestamp cursor, ms (one day).
#[cfg(feature = "adapters")]
const MAX_OVERLAP_MS: f64 = 86_400_000.0;

/// The adapters' kinds (docs/ADAPTERS.md), in the order messages list them.
#[cfg(feature = "adapters")]
const ADAPTER_KINDS: &[&str] = &[
    "custom",
    "pushPull",
    "rest",
    "batched",
    "changeLog",
    "delta",
];

/// The keys `{ kind: 'custom' }` takes.
#[cfg(feature = "adapters")]
const CUSTOM_KEYS: &[&str] = &["kind", "push", "pull"];

/// The protocol the manager speaks.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum ProtocolOption {
    /// Protocol v1 (docs/PROTOCOL.md).
    #[default]
    V1,
    /// The app's `push(batch)` and `pull(cursor, request)` functions carry v1 batches
    /// and pages to its server (docs/ADAPTERS.md, "custom").
    #[cfg(feature = "adapters")]
    Custom {
        /// `push(batch)`: resolves to the v1 push answer.
        push: FunctionId,
        /// `pull(request)`: resolves to a v1 pull page.
        pull: FunctionId,
    },
    /// Seed 000's `sync/push` + `sync/pull` API, through the pushPull adapter.
    #[cfg(feature = "adapters")]
    PushPull(PushPullConfig),
    /// Seed 002's one `POST /api/sync`, through the batched adapter.
    #[cfg(feature = "adapters")]
    Batched(BatchedConfig),
    /// Seed 001's REST endpoints (`POST/PUT/DELETE {basePath}/{table}[/{id}]`,
    /// `GET {basePath}/{table}?since=`), through the rest adapter.
    #[cfg(feature = "adapters")]
    Rest(RestConfig),
    /// Seed 003's `pushChanges` / `getChanges` / `acknowledgeChanges`, through the
    /// changeLog adapter.
    #[cfg(feature = "adapters")]
    ChangeLog(ChangeLogConfig),
    /// Seed 004's `POST /api/sync` (delta sync with an API key), through the delta
    /// adapter.
    #[cfg(feature = "adapters")]
    Delta(DeltaConfig),
}

/// Why a build without the adapters refuses every protocol but v1.
#[cfg_attr(feature = "adapters", allow(dead_code))]
const NOT_IN_THIS_BUILD: &str =
    "this entry speaks only 'v1': the adapters (custom, pushPull, ...) are in 'idb-sync/adapters': import { SyncManager } from 'idb-sync/adapters'";

fn invalid(option: impl Into<String>, reason: impl Into<String>) -> OptionError {
    OptionError::new(ErrorCode::InvalidProtocol, option, reason)
}

/// Reads `protocol` in a build without the adapters: only v1.
#[cfg(not(feature = "adapters"))]
pub(crate) fn protocol(v: &OptionValue) -> Result<ProtocolOption, OptionError> {
    if v.is_absent() || v.as_str() == Some("v1") {
        return Ok(ProtocolOption::V1);
    }
    Err(invalid("protocol", NOT_IN_THIS_BUILD))
}

/// Reads `protocol`: absent or `'v1'` is v1; an object names its adapter by `kind`.
#[cfg(feature = "adapters")]
pub(crate) fn protocol(v: &OptionValue) -> Result<ProtocolOption, OptionError> {
    if v.is_absent() || v.as_str() == Some("v1") {
        return Ok(ProtocolOption::V1);
    }
    let expected = || format!("expected one of {}", ADAPTER_KINDS.join(", "));
    if !matches!(v, OptionValue::Object(_)) {
        let reason = format!("expected 'v1' or {{ kind, ... }}, kind {}", expected());
        return Err(invalid("protocol", reason));
    }
    match v.get("kind").as_str() {
        Some("custom") => custom(v),
        Some("pushPull") => push_pull::config(v).map(ProtocolOption::PushPull),
        Some("batched") => batched::config(v).map(ProtocolOption::Batched),
        Some("rest") => rest::config(v).map(ProtocolOption::Rest),
        Some("changeLog") => change_log::config(v).map(ProtocolOption::ChangeLog),
        Some("delta") => delta::config(v).map(ProtocolOption::Delta),
        _ => Err(invalid("protocol.kind", expected())),
    }
}

/// `{ kind: 'custom', push, pull }`: both functions are required.
#[cfg(feature = "adapters")]
fn custom(v: &OptionValue) -> Result<ProtocolOption, OptionError> {
    only_known_keys(v, CUSTOM_KEYS)?;
    let function = |key: &str| match v.get(key) {
        OptionValue::Function(f) => Ok(*f),
        _ => Err(invalid(
            path("protocol", key),
            format!("expected a function: {key}(...) => Promise of a v1 answer"),
        )),
    };
    Ok(ProtocolOption::Custom {
        push: function("push")?,
        pull: function("pull")?,
    })
}

#[cfg(feature = "adapters")]
/// Refuses a key of `protocol` that `known` (the adapter's keys, `kind` included)
/// does not list: a misspelt name must not silently fall back to its default.
fn only_known_keys(v: &OptionValue, known: &[&str]) -> Result<(), OptionError> {
    for (key, _) in v.entries().unwrap_or_default() {
        if !known.contains(&key.as_ref()) {
            let reason = format!("unknown key `{key}` (known: {})", known.join(", "));
            return Err(invalid(path("protocol", &key), reason));
        }
    }
    Ok(())
}

#[cfg(feature = "adapters")]
/// A path as the options take it: starting with `/`, without spaces, query or fragment.
fn is_plain_path(p: &str) -> bool {
    p.starts_with('/') && !p.contains(|c: char| c.is_whitespace() || c == '?' || c == '#')
}

#[cfg(feature = "adapters")]
/// Why a path option was refused.
const PATH_EXPECTED: &str = "expected a path starting with '/', without spaces, query or fragment";

#[cfg(feature = "adapters")]
/// `protocol.basePath`: `""` or a path starting with `/`, without a trailing `/`.
fn base_path(v: &OptionValue) -> Result<Option<String>, OptionError> {
    let base = v.get("basePath");
    if base.is_absent() {
        return Ok(None);
    }
    match base.as_str() {
        Some(text) if text.is_empty() || is_plain_path(text) => {
            Ok(Some(text.trim_end_matches('/').to_owned()))
        }
        _ => Err(invalid("protocol.basePath", PATH_EXPECTED)),
    }
}

#[cfg(feature = "adapters")]
/// `protocol.<key>`: a path after `basePath`, starting with `/`, without spaces,
/// query or fragment; `None` when absent.
fn sub_path(v: &OptionValue, key: &str) -> Result<Option<String>, OptionError> {
    let value = v.get(key);
    if value.is_absent() {
        return Ok(None);
    }
    match value.as_str() {
        Some(p) if p.len() > 1 && is_plain_path(p) => Ok(Some(p.to_owned())),
        _ => Err(invalid(path("protocol", key), PATH_EXPECTED)),
    }
}

#[cfg(feature = "adapters")]
/// `protocol.overlapMs`: whole ms from 0 to a day, `None` when absent.
fn overlap_ms(v: &OptionValue) -> Result<Option<u64>, OptionError> {
    let overlap = v.get("overlapMs");
    if overlap.is_absent() {
        return Ok(None);
    }
    match overlap.as_f64() {
        Some(n) if n.fract() == 0.0 && (0.0..=MAX_OVERLAP_MS).contains(&n) => Ok(Some(n as u64)),
        _ => Err(invalid(
            "protocol.overlapMs",
            "expected whole ms from 0 to 86 400 000",
        )),
    }
}

#[cfg(feature = "adapters")]
/// Sets each `(key, slot)` whose key `protocol` gives, as `read` reads it ([`name`],
/// [`sub_path`]); an absent key keeps the slot's default.
fn fill<const N: usize>(
    v: &OptionValue,
    read: fn(&OptionValue, &str) -> Result<Option<String>, OptionError>,
    slots: [(&str, &mut String); N],
) -> Result<(), OptionError> {
    for (key, slot) in slots {
        if let Some(value) = read(v, key)? {
            *slot = value;
        }
    }
    Ok(())
}

#[cfg(feature = "adapters")]
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

#[cfg(feature = "adapters")]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_without_adapters_names_the_entry_that_has_them() {
        assert!(NOT_IN_THIS_BUILD.contains("'idb-sync/adapters'"));
        assert!(NOT_IN_THIS_BUILD.contains("pushPull"));
    }
}
