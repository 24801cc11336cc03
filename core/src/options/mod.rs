//! The options of `SyncManager.open` and `LocalDatabase.open`, validated in one place.
//!
//! The wasm side reads the JS options object once into an [`OptionValue`] (plain data;
//! each JS function replaced by a [`FunctionId`] it keeps) and hands it here. This
//! module decides everything else — unknown keys, types, ranges, defaults, the schema,
//! which conflict function is the resolver — and answers either typed options
//! ([`ManagerOptions`], [`DatabaseOptions`]) or one [`OptionError`]
//! `{ code, option, reason }`. The rules are listed in `docs/SYNC_MANAGER.md`
//! ("Options"); one file per option (or group of options).
//!
//! `option` names the bad key as a path from the options object: `colour` for an
//! unknown key, `batch.maxCount`, `auth.getToken`, `conflict.tables.notes`,
//! `schema.tasks` for one table's schema string. `options` names the object itself
//! when it is not an object at all.

mod auth;
mod batch;
mod conflict;
mod database;
mod endpoint;
mod manager;
mod protocol;
mod switches;
mod timing;
mod value;

#[cfg(test)]
mod tests;

pub use auth::AuthOption;
pub use conflict::ConflictOptions;
pub use database::{database_options, DatabaseOptions};
pub use manager::{manager_options, ManagerOptions, KNOWN_OPTIONS};
pub use protocol::ProtocolOption;
pub use value::{FunctionId, OptionValue};

use crate::schema::SchemaError;
use crate::ErrorCode;

/// Why an options object was refused: a stable `code` (`invalid_endpoint`,
/// `unknown_option`, ...), the `option` at fault (a path, see the module docs) and
/// what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid option `{option}`: {reason}")]
pub struct OptionError {
    /// The stable code, shown to JavaScript as `error.code`.
    pub code: ErrorCode,
    /// The option at fault, as a path (`batch.maxCount`), shown as `error.option`.
    pub option: String,
    /// What is wrong.
    pub reason: String,
}

impl OptionError {
    /// An error of `code` about `option`.
    pub fn new(code: ErrorCode, option: impl Into<String>, reason: impl Into<String>) -> Self {
        OptionError {
            code,
            option: option.into(),
            reason: reason.into(),
        }
    }

    /// The schema parser's error this is, if it is one (`invalid_schema` about one
    /// table, `schema.<table>`): `LocalDatabase.open` throws it as it always has.
    pub fn schema_error(&self) -> Option<SchemaError> {
        let table = self.option.strip_prefix("schema.")?;
        (self.code == ErrorCode::InvalidSchema).then(|| SchemaError::Invalid {
            table: table.to_owned(),
            reason: self.reason.clone(),
        })
    }
}

/// `parent.key`, the path of a nested option.
pub(crate) fn path(parent: &str, key: &str) -> String {
    format!("{parent}.{key}")
}
