//! `protocol: { kind: 'pushPull', … }`: the names of a seed-000 server
//! (docs/ADAPTERS.md, "pushPull").

use super::{base_path, fill, name, only_known_keys, overlap_ms, tables};
use crate::adapters::PushPullConfig;
use crate::options::{OptionError, OptionValue};

/// The keys `{ kind: 'pushPull' }` accepts.
const KEYS: &[&str] = &[
    "kind",
    "basePath",
    "idField",
    "tables",
    "userField",
    "userId",
    "deletedField",
    "overlapMs",
];

/// Reads `{ kind: 'pushPull', … }`; absent keys keep [`PushPullConfig`]'s defaults.
pub(super) fn config(v: &OptionValue) -> Result<PushPullConfig, OptionError> {
    only_known_keys(v, KEYS)?;
    let mut config = PushPullConfig::default();
    if let Some(base) = base_path(v)? {
        config.base_path = base;
    }
    fill(
        v,
        name,
        [
            ("idField", &mut config.id_field),
            ("userField", &mut config.user_field),
            ("deletedField", &mut config.deleted_field),
        ],
    )?;
    config.user_id = name(v, "userId")?;
    config.tables = tables(v.get("tables"))?;
    if let Some(ms) = overlap_ms(v)? {
        config.overlap_ms = ms;
    }
    Ok(config)
}
