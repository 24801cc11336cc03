//! Per-mutation validation: a failure is a `rejected` result, not an HTTP error.

use crate::protocol::Mutation;

/// Decides whether a mutation may be applied; `Err((code, reason))` rejects it.
pub trait MutationValidator {
    /// Checks one mutation.
    fn validate(&self, mutation: &Mutation) -> Result<(), (String, String)>;
}

/// The default rules: table names of 1–64 characters `[A-Za-z0-9_.-]`, records of at
/// most `max_record_bytes` bytes of JSON.
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
        if let Some(fields) = m.op.fields() {
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
