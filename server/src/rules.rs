//! The server's request rules around the core's: limits from the configuration, the
//! per-mutation validator (the core's rules plus the optional list of allowed tables),
//! and request-level checks of table names, keys and the client id (a malformed name,
//! key or client id makes the whole request a 400, before anything is applied).

use idb_sync_core::protocol::{Mutation, PushRequest};
use idb_sync_core::server::{BasicValidator, MutationValidator, ServerConfig};
use idb_sync_core::RecordKey;

use crate::error::ApiError;
use crate::Config;

/// Longest string key accepted, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// The per-mutation validator: the core's [`BasicValidator`] (table name, U+0000 in
/// keys and values → `invalid_value`, record size), then, when the server has a list
/// of allowed tables, `unknown_table` for any other table. Each failure is one
/// `rejected` result; the rest of the push is applied.
#[derive(Debug, Clone)]
pub struct ServerValidator {
    /// The core's rules.
    pub basic: BasicValidator,
    /// When not empty, the only tables that may be synced.
    pub allowed_tables: Vec<String>,
}

impl MutationValidator for ServerValidator {
    fn validate(&self, m: &Mutation) -> Result<(), (String, String)> {
        self.basic.validate(m)?;
        if !self.allowed_tables.is_empty() && !self.allowed_tables.contains(&m.table) {
            return Err((
                "unknown_table".into(),
                format!("table {:?} is not synced by this server", m.table),
            ));
        }
        Ok(())
    }
}

/// Limits and validation for sync requests.
#[derive(Debug, Clone)]
pub struct SyncRules {
    /// The core's limits.
    pub server: ServerConfig,
    /// Per-mutation validation: failures are `rejected` results.
    pub validator: ServerValidator,
}

impl SyncRules {
    /// The rules `config` asks for.
    pub fn from_config(config: &Config) -> Self {
        Self {
            server: ServerConfig {
                max_mutations_per_push: config.max_mutations_per_push,
                max_pull_page_bytes: config.max_pull_page_bytes,
                ..ServerConfig::default()
            },
            validator: ServerValidator {
                basic: BasicValidator {
                    max_record_bytes: config.max_record_bytes,
                },
                allowed_tables: config
                    .tables
                    .iter()
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .collect(),
            },
        }
    }

    /// Checks the client id and every mutation's table name and key: 400
    /// `bad_request`, `invalid_table` or `invalid_key`.
    pub fn check_push(&self, request: &PushRequest) -> Result<(), ApiError> {
        if request.client_id.contains('\0') {
            return Err(ApiError::bad_request(
                "bad_request",
                "clientId must not contain U+0000",
            ));
        }
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
