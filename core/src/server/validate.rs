//! Per-mutation validation: a failure is a `rejected` result, not an HTTP error, so
//! one bad mutation never blocks the rest of a push (I9).

use serde_json::Value;

use crate::key::RecordKey;
use crate::protocol::Mutation;

/// Decides whether a mutation may be applied; `Err((code, reason))` rejects it.
pub trait MutationValidator {
    /// Checks one mutation.
    fn validate(&self, mutation: &Mutation) -> Result<(), (String, String)>;
}

/// The default rules: table names of 1–64 characters `[A-Za-z0-9_.-]`; keys, field
/// names and string values without U+0000 (`invalid_value`: PostgreSQL text cannot
/// hold it, so no server database must be asked to); records of at most
/// `max_record_bytes` bytes of JSON.
#[derive(Clone, Debug)]
pub struct BasicValidator {
    /// Largest record, in bytes of JSON.
    pub max_record_bytes: usize,
}

impl Default for BasicValidator {
    fn default() -> Self {
        BasicValidator {
            max_record_bytes: 1024 * 1024,
        }
    }
}

impl MutationValidator for BasicValidator {
    fn validate(&self, m: &Mutation) -> Result<(), (String, String)> {
        let ok_name = !m.table.is_empty()
            && m.table.len() <= 64
            && m.table
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !ok_name {
            return Err((
                "invalid_table".into(),
                format!("invalid table name {:?}", m.table),
            ));
        }
        if !storable_key(&m.key) {
            return Err((
                "invalid_value".into(),
                "the key contains U+0000, which cannot be stored".into(),
            ));
        }
        if let Some(fields) = m.op.fields() {
            if let Some(path) = fields
                .iter()
                .find_map(|(name, value)| field_nul_path("", name, value))
            {
                return Err((
                    "invalid_value".into(),
                    format!("field {path} contains U+0000, which cannot be stored"),
                ));
            }
            let size = serde_json::to_vec(fields)
                .map(|v| v.len())
                .unwrap_or(usize::MAX);
            if size > self.max_record_bytes {
                return Err(("record_too_large".into(), format!("record of {size} bytes")));
            }
        }
        Ok(())
    }
}

/// True if a server database can store and look up `key`: a string key must not
/// contain U+0000. A mutation whose key is not storable is rejected without reading
/// the store (its answer carries an absent `server` snapshot).
pub fn storable_key(key: &RecordKey) -> bool {
    match key {
        RecordKey::String(s) => !s.contains('\0'),
        RecordKey::Number(_) => true,
    }
}

/// The path (`field`, `field.sub`, `field[2]`) of the first field name or string
/// value at or under `path` that contains U+0000, if any.
fn nul_path(path: &str, value: &Value) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\0') => Some(path.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_path(&format!("{path}[{i}]"), item)),
        Value::Object(fields) => fields
            .iter()
            .find_map(|(name, item)| field_nul_path(&format!("{path}."), name, item)),
        _ => None,
    }
}

/// [`nul_path`] for the field `name` of an object whose path is `prefix`.
fn field_nul_path(prefix: &str, name: &str, value: &Value) -> Option<String> {
    let path = format!("{prefix}{}", name.replace('\0', "\\u0000"));
    if name.contains('\0') {
        return Some(path);
    }
    nul_path(&path, value)
}
