//! `protocol: { kind: 'delta', apiKey, … }`: the names of a seed-004 server
//! (docs/adapters/delta.md). `apiKey` is required: the seed's server checks it in
//! every body.

use super::{base_path, fill, invalid, name, only_known_keys, overlap_ms, sub_path};
use crate::adapters::DeltaConfig;
use crate::options::{OptionError, OptionValue};

/// The keys `{ kind: 'delta' }` accepts.
const KEYS: &[&str] = &[
    "kind",
    "basePath",
    "path",
    "apiKey",
    "table",
    "idField",
    "updatedField",
    "deletedField",
    "userId",
    "overlapMs",
];

/// Reads `{ kind: 'delta', … }`; absent keys keep [`DeltaConfig`]'s defaults.
pub(super) fn config(v: &OptionValue) -> Result<DeltaConfig, OptionError> {
    only_known_keys(v, KEYS)?;
    let mut config = DeltaConfig::default();
    if let Some(base) = base_path(v)? {
        config.base_path = base;
    }
    if let Some(p) = sub_path(v, "path")? {
        config.path = p;
    }
    config.api_key = name(v, "apiKey")?.ok_or_else(|| {
        invalid(
            "protocol.apiKey",
            "required: the server's API key (SYNC_API_KEY)",
        )
    })?;
    fill(
        v,
        name,
        [
            ("table", &mut config.table),
            ("idField", &mut config.id_field),
            ("updatedField", &mut config.updated_field),
            ("deletedField", &mut config.deleted_field),
        ],
    )?;
    config.user_id = name(v, "userId")?;
    if let Some(ms) = overlap_ms(v)? {
        config.overlap_ms = ms;
    }
    Ok(config)
}
