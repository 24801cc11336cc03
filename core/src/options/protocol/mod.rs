//! `protocol`: which server API the manager speaks (docs/ADAPTERS.md): `'v1'` (the
//! default, idb-sync's own protocol), `{ kind: 'custom', push, pull }` (the app's
//! functions exchange v1 batches and pages with its server), or `{ kind: <adapter>,
//! … }` for a server of one of the seeds' APIs, with its names. Each adapter's keys
//! are read in its own file; this one dispatches on `kind` and holds the readers they
//! share. The seed adapters are only in builds with the cargo feature `adapters`;
//! elsewhere their kinds are refused with a message naming the entry that has them.

#[cfg(feature = "adapters")]
mod change_log;
#[cfg(feature = "adapters")]
mod delta;
#[cfg(feature = "adapters")]
mod push_pull;

use super::{path, FunctionId, OptionError, OptionValue};
#[cfg(feature = "adapters")]
use crate::adapters::{ChangeLogConfig, DeltaConfig, PushPullConfig};
use crate::ErrorCode;

/// The longest overlap accepted for a timestamp cursor, ms (one day).
#[cfg(feature = "adapters")]
const MAX_OVERLAP_MS: f64 = 86_400_000.0;

/// The seed adapters' kinds (docs/ADAPTERS.md), in the order messages list them.
const SEED_KINDS: &[&str] = &["pushPull", "changeLog", "delta"];

/// The keys `{ kind: 'custom' }` takes.
const CUSTOM_KEYS: &[&str] = &["kind", "push", "pull"];

/// The protocol the manager speaks.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum ProtocolOption {
    /// Protocol v1 (docs/PROTOCOL.md).
    #[default]
    V1,
    /// The app's `push(batch)` and `pull(request)` functions carry v1 batches and pages
    /// to its server (docs/ADAPTERS.md, "custom").
    Custom {
        /// `push(batch)`: resolves to the v1 push answer.
        push: FunctionId,
        /// `pull(request)`: resolves to a v1 pull page.
        pull: FunctionId,
    },
    /// Seed 000's `sync/push` + `sync/pull` API, through the pushPull adapter.
    #[cfg(feature = "adapters")]
    PushPull(PushPullConfig),
    /// Seed 003's `pushChanges` / `getChanges` / `acknowledgeChanges`, through the
    /// changeLog adapter.
    #[cfg(feature = "adapters")]
    ChangeLog(ChangeLogConfig),
    /// Seed 004's `POST /api/sync` (delta sync with an API key), through the delta
    /// adapter.
    #[cfg(feature = "adapters")]
    Delta(DeltaConfig),
}

/// The message for a seed adapter's kind in a build without the adapters.
pub fn not_in_this_build(kind: &str) -> String {
    format!(
        "the '{kind}' adapter is in the 'idb-sync/adapters' entry: import {{ SyncManager }} from 'idb-sync/adapters'"
    )
}

fn invalid(option: impl Into<String>, reason: impl Into<String>) -> OptionError {
    OptionError::new(ErrorCode::InvalidProtocol, option, reason)
}

/// Reads `protocol`: absent or `'v1'` is v1; an object names its adapter by `kind`.
pub(crate) fn protocol(v: &OptionValue) -> Result<ProtocolOption, OptionError> {
    if v.is_absent() || v.as_str() == Some("v1") {
        return Ok(ProtocolOption::V1);
    }
    let expected = || format!("expected 'custom' or one of {}", SEED_KINDS.join(", "));
    if !matches!(v, OptionValue::Object(_)) {
        let reason = format!("expected 'v1' or {{ kind, ... }}, kind {}", expected());
        return Err(invalid("protocol", reason));
    }
    match v.get("kind").as_str() {
        Some("custom") => custom(v),
        #[cfg(feature = "adapters")]
        Some("pushPull") => push_pull::config(v).map(ProtocolOption::PushPull),
        #[cfg(feature = "adapters")]
        Some("changeLog") => change_log::config(v).map(ProtocolOption::ChangeLog),
        #[cfg(feature = "adapters")]
        Some("delta") => delta::config(v).map(ProtocolOption::Delta),
        Some(kind) if SEED_KINDS.contains(&kind) => {
            Err(invalid("protocol.kind", not_in_this_build(kind)))
        }
        _ => Err(invalid("protocol.kind", expected())),
    }
}

/// `{ kind: 'custom', push, pull }`: both functions are required.
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
/// `protocol.basePath`: `""` or a path starting with `/`, without a trailing `/`.
fn base_path(v: &OptionValue) -> Result<Option<String>, OptionError> {
    let base = v.get("basePath");
    if base.is_absent() {
        return Ok(None);
    }
    let text = base.as_str().unwrap_or("?");
    let ok = text.is_empty() || text.starts_with('/');
    if !ok || text.contains(|c: char| c.is_whitespace() || c == '?' || c == '#') {
        let reason = "expected a path starting with '/', without spaces, query or fragment";
        return Err(invalid("protocol.basePath", reason));
    }
    Ok(Some(text.trim_end_matches('/').to_owned()))
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
        Some(p)
            if p.len() > 1
                && p.starts_with('/')
                && !p.contains(|c: char| c.is_whitespace() || c == '?' || c == '#') =>
        {
            Ok(Some(p.to_owned()))
        }
        _ => Err(invalid(
            path("protocol", key),
            "expected a path starting with '/', without spaces, query or fragment",
        )),
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
