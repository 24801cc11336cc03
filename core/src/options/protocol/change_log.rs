//! `protocol: { kind: 'changeLog', … }`: the names of a seed-003 server
//! (docs/adapters/changeLog.md).

use super::{base_path, fill, name, only_known_keys, overlap_ms, sub_path, tables};
use crate::adapters::ChangeLogConfig;
use crate::options::{OptionError, OptionValue};

/// The keys `{ kind: 'changeLog' }` accepts.
const KEYS: &[&str] = &[
    "kind",
    "basePath",
    "pushPath",
    "pullPath",
    "acknowledgePath",
    "idField",
    "metaField",
    "tables",
    "userId",
    "overlapMs",
];

/// Reads `{ kind: 'changeLog', … }`; absent keys keep [`ChangeLogConfig`]'s defaults.
pub(super) fn config(v: &OptionValue) -> Result<ChangeLogConfig, OptionError> {
    only_known_keys(v, KEYS)?;
    let mut config = ChangeLogConfig::default();
    if let Some(base) = base_path(v)? {
        config.base_path = base;
    }
    fill(
        v,
        sub_path,
        [
            ("pushPath", &mut config.push_path),
            ("pullPath", &mut config.pull_path),
            ("acknowledgePath", &mut config.acknowledge_path),
        ],
    )?;
    fill(
        v,
        name,
        [
            ("idField", &mut config.id_field),
            ("metaField", &mut config.meta_field),
        ],
    )?;
    config.user_id = name(v, "userId")?;
    config.tables = tables(v.get("tables"))?;
    if let Some(ms) = overlap_ms(v)? {
        config.overlap_ms = ms;
    }
    Ok(config)
}
