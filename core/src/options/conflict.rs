//! `conflict`: a policy name, the app's function, or `{ default, tables }` with
//! per-table overrides. At most one function per manager (it becomes the resolver);
//! `tables` may only name tables of the schema.

use crate::ErrorCode;
use std::collections::BTreeMap;

use super::{path, FunctionId, OptionError, OptionValue};
use crate::conflict::{ConflictPolicy, PolicyConfig};
use crate::schema::DatabaseSchema;

/// The conflict policies, and the app's function if a policy is `Custom`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConflictOptions {
    /// The policy of every table.
    pub policies: PolicyConfig,
    /// The function every `Custom` policy calls (kept by the wasm side).
    pub resolver: Option<FunctionId>,
}

const POLICIES: &str = "'fieldMerge', 'serverWins', 'clientWins', 'lastWriteWins', 'manual' or a function (local, remote, change) => merged";

/// A policy by its name in the options.
fn named(name: &str) -> Option<ConflictPolicy> {
    Some(match name {
        "fieldMerge" => ConflictPolicy::FieldMerge,
        "serverWins" => ConflictPolicy::ServerWins,
        "clientWins" => ConflictPolicy::ClientWins,
        "lastWriteWins" => ConflictPolicy::LastWriteWins,
        "manual" => ConflictPolicy::Manual,
        _ => return None,
    })
}

/// Reads `conflict`; tables it names must be in `schema`.
pub(crate) fn conflict(
    v: &OptionValue,
    schema: &DatabaseSchema,
) -> Result<ConflictOptions, OptionError> {
    let mut resolver = None;
    if v.is_absent() {
        return Ok(ConflictOptions::default());
    }
    if matches!(v, OptionValue::String(_) | OptionValue::Function(_)) {
        let policy = policy(v, "conflict".into(), &mut resolver)?;
        return Ok(ConflictOptions {
            policies: PolicyConfig::uniform(policy),
            resolver,
        });
    }
    if !v.is_object() {
        return Err(OptionError::new(
            ErrorCode::InvalidConflict,
            "conflict",
            format!("expected {POLICIES}, or {{ default, tables }}"),
        ));
    }
    let default = v.get("default");
    let default = if default.is_absent() {
        ConflictPolicy::default()
    } else {
        policy(default, path("conflict", "default"), &mut resolver)?
    };
    let per_table = v.get("tables");
    let mut tables = BTreeMap::new();
    if !per_table.is_absent() {
        let entries = per_table.entries().ok_or_else(|| {
            OptionError::new(
                ErrorCode::InvalidConflict,
                path("conflict", "tables"),
                "`tables` must map table names to policies",
            )
        })?;
        for (table, value) in entries {
            let option = path("conflict.tables", &table);
            if !schema.contains_key(table.as_ref()) {
                return Err(OptionError::new(
                    ErrorCode::InvalidConflict,
                    option,
                    format!("table `{table}` is not in the schema"),
                ));
            }
            let policy = policy(value, option, &mut resolver)?;
            tables.insert(table.into_owned(), policy);
        }
    }
    Ok(ConflictOptions {
        policies: PolicyConfig { default, tables },
        resolver,
    })
}

/// One policy value at `option`: a name, or a function (which becomes the resolver;
/// a second, different function is refused).
fn policy(
    v: &OptionValue,
    option: String,
    resolver: &mut Option<FunctionId>,
) -> Result<ConflictPolicy, OptionError> {
    if let OptionValue::Function(f) = v {
        if resolver.is_some_and(|r| r != *f) {
            return Err(OptionError::new(
                ErrorCode::InvalidConflict,
                option,
                "only one conflict function per manager",
            ));
        }
        *resolver = Some(*f);
        return Ok(ConflictPolicy::Custom);
    }
    v.as_str().and_then(named).ok_or_else(|| {
        OptionError::new(
            ErrorCode::InvalidConflict,
            option,
            format!("expected {POLICIES}"),
        )
    })
}
