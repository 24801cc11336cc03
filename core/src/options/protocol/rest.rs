//! `protocol: { kind: 'rest', … }`: the names of a seed-001 REST server
//! (docs/adapters/rest.md), and the tables it syncs (every schema table).

use super::{base_path, fill, invalid, name, only_known_keys, overlap_ms, tables};
use crate::adapters::RestConfig;
use crate::options::{OptionError, OptionValue};
use crate::schema::DatabaseSchema;

/// The keys `{ kind: 'rest' }` accepts.
const KEYS: &[&str] = &[
    "kind",
    "basePath",
    "idField",
    "tables",
    "updatedField",
    "deletedField",
    "sinceParam",
    "overlapMs",
    "concurrency",
];

/// The most item requests `concurrency` allows at once.
const MAX_CONCURRENCY: f64 = 16.0;

/// Reads `{ kind: 'rest', … }`; absent keys keep [`RestConfig`]'s defaults.
/// `tables` holds the renames only until [`with_schema_tables`] completes it.
pub(super) fn config(v: &OptionValue) -> Result<RestConfig, OptionError> {
    only_known_keys(v, KEYS)?;
    let mut config = RestConfig::default();
    if let Some(base) = base_path(v)? {
        config.base_path = base;
    }
    fill(
        v,
        name,
        [
            ("idField", &mut config.id_field),
            ("updatedField", &mut config.updated_field),
            ("deletedField", &mut config.deleted_field),
            ("sinceParam", &mut config.since_param),
        ],
    )?;
    if config
        .since_param
        .contains(|c: char| !c.is_ascii_alphanumeric() && c != '_')
    {
        let reason = "expected a query parameter name (letters, digits, _)";
        return Err(invalid("protocol.sinceParam", reason));
    }
    config.tables = tables(v.get("tables"))?;
    for (table, remote) in &config.tables {
        if remote.contains(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace()) {
            let reason = "expected one path segment (no '/', '?', '#' or spaces)";
            return Err(invalid(format!("protocol.tables.{table}"), reason));
        }
    }
    if let Some(ms) = overlap_ms(v)? {
        config.overlap_ms = ms;
    }
    let concurrency = v.get("concurrency");
    if !concurrency.is_absent() {
        match concurrency.as_f64() {
            Some(n) if n.fract() == 0.0 && (1.0..=MAX_CONCURRENCY).contains(&n) => {
                config.concurrency = n as usize;
            }
            _ => {
                let reason = "expected a whole number of requests from 1 to 16";
                return Err(invalid("protocol.concurrency", reason));
            }
        }
    }
    Ok(config)
}

/// Completes `tables`: every table of the schema, in its order, under its server
/// name (`protocol.tables` renames; a renamed table the schema lacks is refused).
pub(crate) fn with_schema_tables(
    mut config: RestConfig,
    schema: &DatabaseSchema,
) -> Result<RestConfig, OptionError> {
    if let Some((table, _)) = config.tables.iter().find(|(t, _)| !schema.contains_key(t)) {
        let reason = "not a table of the schema";
        return Err(invalid(format!("protocol.tables.{table}"), reason));
    }
    let renamed = std::mem::take(&mut config.tables);
    config.tables = schema
        .keys()
        .map(|table| {
            let found = renamed.iter().find(|(t, _)| t == table);
            let remote = found.map_or(table.as_str(), |(_, r)| r.as_str());
            (table.clone(), remote.to_owned())
        })
        .collect();
    Ok(config)
}
