//! `protocol: { kind: 'batched', … }`: the names of a seed-002 server
//! (docs/adapters/batched.md).

use super::{base_path, fill, invalid, name, only_known_keys, overlap_ms, tables};
use crate::adapters::BatchedConfig;
use crate::options::{OptionError, OptionValue};

/// The keys `{ kind: 'batched' }` accepts.
const KEYS: &[&str] = &[
    "kind",
    "basePath",
    "idField",
    "serverIdField",
    "deletedField",
    "tables",
    "entityTypes",
    "userId",
    "overlapMs",
];

/// Reads `{ kind: 'batched', … }`; absent keys keep [`BatchedConfig`]'s defaults.
pub(super) fn config(v: &OptionValue) -> Result<BatchedConfig, OptionError> {
    only_known_keys(v, KEYS)?;
    let mut config = BatchedConfig::default();
    if let Some(base) = base_path(v)? {
        config.base_path = base;
    }
    fill(
        v,
        name,
        [
            ("idField", &mut config.id_field),
            ("serverIdField", &mut config.server_id_field),
            ("deletedField", &mut config.deleted_field),
        ],
    )?;
    if config.id_field == config.server_id_field {
        let reason = "expected a field other than idField: the server's id and the key differ";
        return Err(invalid("protocol.serverIdField", reason));
    }
    config.user_id = name(v, "userId")?;
    config.tables = tables(v.get("tables"))?;
    config.entity_types = entity_types(v.get("entityTypes"))?;
    if let Some(ms) = overlap_ms(v)? {
        config.overlap_ms = ms;
    }
    Ok(config)
}

/// `protocol.entityTypes`: `{ <local table>: <entityType> }`.
fn entity_types(v: &OptionValue) -> Result<Vec<(String, String)>, OptionError> {
    if v.is_absent() {
        return Ok(Vec::new());
    }
    let Some(entries) =
        matches!(v, OptionValue::Object(_)).then(|| v.entries().unwrap_or_default())
    else {
        let reason = "expected { <table>: <entityType> }";
        return Err(invalid("protocol.entityTypes", reason));
    };
    let mut out = Vec::new();
    for (table, entity) in entries {
        match entity.as_str() {
            Some(e) if !e.is_empty() => out.push((table.to_string(), e.to_owned())),
            _ => {
                let reason = "expected the server's entityType, a non-empty string";
                return Err(invalid(format!("protocol.entityTypes.{table}"), reason));
            }
        }
    }
    Ok(out)
}
