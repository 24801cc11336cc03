//! The server's request rules around the core's: limits from the configuration, the
//! per-mutation validator, and request-level checks of table names and keys (a
//! malformed name or key makes the whole request a 400, before anything is applied).

use idb_sync_core::protocol::{Mutation, PushRequest};
use idb_sync_core::server::{BasicValidator, MutationValidator, ServerConfig};
use idb_sync_core::RecordKey;

use crate::error::ApiError;
use crate::Config;

/// Longest string key accepted, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// Limits and validation for sync requests.
#[derive(Debug, Clone)]
pub struct SyncRules {
    /// The core's limits.
    pub server: ServerConfig,
    /// Per-mutation validation (record size): failures are `rejected` results.
    pub validator: BasicValidator,
    /// When not empty, the only tables that may be synced.
    pub allowed_tables: Vec<String>,
}

impl SyncRules {
    /// The rules `config` asks for.
    pub fn from_config(config: &Config) -> Self {
        Self {
            server: ServerConfig {
                max_mutations_per_push: config.max_mutations_per_push,
                ..ServerConfig::default()
            },
            validator: BasicValidator {
                max_record_bytes: config.max_record_bytes,
            },
            allowed_tables: config
                .tables
                .iter()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect(),
        }
    }

    /// Checks every mutation's table and key: 400 `invalid_table`, `unknown_table` or
    /// `invalid_key`.
    pub fn check_push(&self, request: &PushRequest) -> Result<(), ApiError> {
        request
            .mutations
            .iter()
            .try_for_each(|m| self.check_mutation(m))
    }

    fn check_mutation(&self, m: &Mutation) -> Result<(), ApiError> {
        let valid_name = !m.table.is_empty()
            && m.table.len() <= 64
            && m.table
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !valid_name {
            return Err(ApiError::bad_request(
                "invalid_table",
                format!(
                    "seq {}: table name {:?} is not 1-64 characters of A-Z a-z 0-9 _ . -",
                    m.seq, m.table
                ),
            ));
        }
        if !self.allowed_tables.is_empty() && !self.allowed_tables.contains(&m.table) {
            return Err(ApiError::bad_request(
                "unknown_table",
                format!(
                    "seq {}: table {:?} is not synced by this server",
                    m.seq, m.table
                ),
            ));
        }
        match &m.key {
            RecordKey::String(s) if s.len() > MAX_KEY_BYTES => Err(ApiError::bad_request(
                "invalid_key",
                format!("seq {}: key longer than {MAX_KEY_BYTES} bytes", m.seq),
            )),
            RecordKey::Number(n) if !n.is_finite() => Err(ApiError::bad_request(
                "invalid_key",
                format!("seq {}: key is not finite", m.seq),
            )),
            _ => Ok(()),
        }
    }

    /// The validator the core runs per mutation.
    pub fn validator(&self) -> &dyn MutationValidator {
        &self.validator
    }
}
