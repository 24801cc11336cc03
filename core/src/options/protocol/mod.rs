//! `protocol`: which server API the manager speaks (docs/ADAPTERS.md): `'v1'` (the
//! default, idb-sync's own protocol) or `{ kind: <adapter>, … }` for a server of one
//! of the seeds' APIs, with its names. Each adapter's keys are read in its own file;
//! this one dispatches on `kind` and holds the readers they share.

mod push_pull;

use super::{path, OptionError, OptionValue};
use crate::adapters::PushPullConfig;
use crate::ErrorCode;

/// The longest overlap accepted for a timestamp cursor, ms (one day).
const MAX_OVERLAP_MS: f64 = 86_400_000.0;

/// The adapters `protocol.kind` names, in the order error messages list them.
const KINDS: &[&str] = &["pushPull"];

/// The protocol the manager speaks.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum ProtocolOption {
    /// Protocol v1 (docs/PROTOCOL.md).
    #[default]
    V1,
    /// Seed 000's `sync/push` + `sync/pull` API, through the pushPull adapter.
    PushPull(PushPullConfig),
}

impl ProtocolOption {
    /// The adapter's name (`protocol.kind`), `v1` for the default.
    pub fn kind(&self) -> &'static str {
        match self {
            ProtocolOption::V1 => "v1",
            ProtocolOption::PushPull(_) => "pushPull",
        }
    }

    /// Refuses a seed adapter in a build of the package without them. The default
    /// entry (`idb-sync`) has none, so that apps speaking v1 do not load them; the
    /// `idb-sync/adapters` entry has them all (docs/ADAPTERS.md, "Two builds").
    pub fn check_built(&self, adapters_built: bool) -> Result<(), OptionError> {
        match self {
            ProtocolOption::V1 => Ok(()),
            _ if adapters_built => Ok(()),
            other => Err(invalid(
                "protocol.kind",
                format!(
                    "the '{}' adapter is in the 'idb-sync/adapters' entry: import {{ SyncManager }} from 'idb-sync/adapters'",
                    other.kind()
                ),
            )),
        }
    }
}

fn invalid(option: impl Into<String>, reason: impl Into<String>) -> OptionError {
    OptionError::new(ErrorCode::InvalidProtocol, option, reason)
}

/// Reads `protocol`: absent or `'v1'` is v1; an object names its adapter by `kind`.
pub(crate) fn protocol(v: &OptionValue) -> Result<ProtocolOption, OptionError> {
    if v.is_absent() || v.as_str() == Some("v1") {
        return Ok(ProtocolOption::V1);
    }
    let expected = || format!("expected one of {}", KINDS.join(", "));
    if !matches!(v, OptionValue::Object(_)) {
        let reason = format!("expected 'v1' or {{ kind, ... }} with kind {}", expected());
        return Err(invalid("protocol", reason));
    }
    match v.get("kind").as_str() {
        Some("pushPull") => push_pull::config(v).map(ProtocolOption::PushPull),
        _ => Err(invalid("protocol.kind", expected())),
    }
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
