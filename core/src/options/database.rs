//! `dbName`, `version` and `schema`: the options `LocalDatabase.open` and
//! `SyncManager.open` share. `LocalDatabase.open` answers `invalid_argument` for a
//! wrong shape (as it always has) and accepts any Dexie schema; `SyncManager.open`
//! answers one code per option and refuses what cannot sync (an empty schema,
//! auto-increment or compound keys).

use crate::ErrorCode;
use std::collections::BTreeMap;

use super::{path, OptionError, OptionValue};
use crate::schema::{check_synced_schema, parse_schema, DatabaseSchema, SchemaError};

/// The database to open.
#[derive(Clone, Debug, PartialEq)]
pub struct DatabaseOptions {
    /// `dbName`: the IndexedDB database name.
    pub name: String,
    /// `version`: the app's schema version, as in Dexie (default 1).
    pub version: u32,
    /// `schema`, parsed.
    pub schema: DatabaseSchema,
}

/// Which API reads the options: codes and strictness differ between the two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Caller {
    /// `LocalDatabase.open`: `invalid_argument`, any Dexie schema.
    LocalDatabase,
    /// `SyncManager.open`: one code per option, a schema that can sync.
    SyncManager,
}

impl Caller {
    fn code(self, own: ErrorCode) -> ErrorCode {
        match self {
            Caller::LocalDatabase => ErrorCode::InvalidArgument,
            Caller::SyncManager => own,
        }
    }
}

/// Validates the options object of `LocalDatabase.open`. Other keys are ignored (a
/// `SyncManager`'s options open a `LocalDatabase` too).
pub fn database_options(options: &OptionValue) -> Result<DatabaseOptions, OptionError> {
    if !options.is_object() {
        return Err(OptionError::new(
            ErrorCode::InvalidArgument,
            "options",
            "expected { dbName, version, schema }",
        ));
    }
    read(options, Caller::LocalDatabase)
}

/// `dbName`, `version` and `schema` of an options object, for `caller`.
pub(crate) fn read(options: &OptionValue, caller: Caller) -> Result<DatabaseOptions, OptionError> {
    Ok(DatabaseOptions {
        name: name(options.get("dbName"), caller)?,
        version: version(options.get("version"), caller)?,
        schema: schema(options.get("schema"), caller)?,
    })
}

/// The longest `dbName` `SyncManager.open` accepts, in UTF-8 bytes.
const MAX_NAME_BYTES: usize = 200;

fn name(v: &OptionValue, caller: Caller) -> Result<String, OptionError> {
    let limit = match caller {
        Caller::LocalDatabase => usize::MAX,
        Caller::SyncManager => MAX_NAME_BYTES,
    };
    match v.as_str() {
        Some(s) if !s.is_empty() && s.len() <= limit => Ok(s.to_owned()),
        _ => Err(OptionError::new(
            caller.code(ErrorCode::InvalidDbName),
            "dbName",
            match caller {
                Caller::LocalDatabase => "expected a non-empty string".to_owned(),
                Caller::SyncManager => {
                    format!("expected a non-empty string of at most {MAX_NAME_BYTES} bytes")
                }
            },
        )),
    }
}

/// The largest app version: IndexedDB stores `version * 10` in a `u32`.
const MAX_VERSION: f64 = (u32::MAX / 10) as f64;

fn version(v: &OptionValue, caller: Caller) -> Result<u32, OptionError> {
    let default = match caller {
        Caller::LocalDatabase => matches!(v, OptionValue::Undefined),
        Caller::SyncManager => v.is_absent(),
    };
    if default {
        return Ok(1);
    }
    match v.as_f64() {
        Some(n) if n >= 1.0 && n.fract() == 0.0 && n <= MAX_VERSION => Ok(n as u32),
        _ => Err(OptionError::new(
            caller.code(ErrorCode::InvalidVersion),
            "version",
            "expected a positive integer",
        )),
    }
}

fn schema(v: &OptionValue, caller: Caller) -> Result<DatabaseSchema, OptionError> {
    let code = caller.code(ErrorCode::InvalidSchema);
    let shape_ok = match caller {
        Caller::LocalDatabase => v.is_object(),
        Caller::SyncManager => matches!(v, OptionValue::Object(_)),
    };
    let entries = v.entries().filter(|_| shape_ok).ok_or_else(|| {
        OptionError::new(
            code,
            "schema",
            "expected { table: 'primaryKey, index, ...' }",
        )
    })?;
    let mut tables = BTreeMap::new();
    for (table, spec) in entries {
        let spec = spec.as_str().ok_or_else(|| {
            OptionError::new(
                code,
                path("schema", &table),
                format!("table `{table}`: expected a schema string"),
            )
        })?;
        tables.insert(table.into_owned(), spec);
    }
    if caller == Caller::SyncManager && tables.is_empty() {
        return Err(OptionError::new(
            code,
            "schema",
            "declare at least one table",
        ));
    }
    let schema = parse_schema(tables.iter().map(|(t, s)| (t.as_str(), *s))).map_err(refused)?;
    if caller == Caller::SyncManager {
        check_synced_schema(&schema).map_err(refused)?;
    }
    Ok(schema)
}

/// The schema parser's refusal, about one table (`schema.<table>`).
fn refused(e: SchemaError) -> OptionError {
    let code = e.error_code();
    match e {
        SchemaError::Invalid { table, reason } | SchemaError::Conflict { table, reason } => {
            OptionError::new(code, path("schema", &table), reason)
        }
    }
}
