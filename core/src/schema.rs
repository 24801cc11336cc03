//! Table schemas in Dexie's syntax, and the additive upgrade from what a database
//! holds to what the app declares.
//!
//! A table's schema string lists its primary key first, then its indexes, separated
//! by commas — exactly as in `db.version(n).stores({ ... })` of Dexie.js:
//!
//! | syntax | meaning |
//! |---|---|
//! | `id` | primary key read from the record's `id` field (inline key) |
//! | `++id` | the same, auto-incremented when absent |
//! | `` (empty) / `++` | out-of-line key given with each write / auto-incremented |
//! | `name` | an index on `name` (`a.b` for a nested field) |
//! | `&email` | a unique index |
//! | `*tags` | a multi-entry index (one entry per array element) |
//! | `[userId+status]` | a compound index (also allowed as the primary key) |
//!
//! Everything here is pure: the browser half reads what the database holds, asks
//! [`plan_upgrade`] what to create, and does it in IndexedDB's upgrade transaction.
//! Upgrades are additive: nothing the database holds is ever removed, so adopting a
//! database created by Dexie keeps every store, index and record.

use std::collections::BTreeMap;
use std::fmt;

/// Prefix of the object stores idb-sync keeps for itself; app tables may not use it.
pub const RESERVED_PREFIX: &str = "_idbsync_";

/// A key path: one field (possibly dotted) or several (compound).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyPath {
    /// One field, e.g. `id` or `address.city`.
    Single(String),
    /// Several fields, e.g. `[userId+status]`.
    Compound(Vec<String>),
}

impl KeyPath {
    /// The fields of the key path, in order.
    pub fn fields(&self) -> Vec<&str> {
        match self {
            KeyPath::Single(f) => vec![f.as_str()],
            KeyPath::Compound(fs) => fs.iter().map(String::as_str).collect(),
        }
    }

    /// The index name Dexie gives this key path: `a` or `[a+b]`.
    pub fn dexie_name(&self) -> String {
        match self {
            KeyPath::Single(f) => f.clone(),
            KeyPath::Compound(fs) => format!("[{}]", fs.join("+")),
        }
    }
}

/// A table's primary key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrimaryKey {
    /// Where the key lives in the record; `None` for out-of-line keys.
    pub key_path: Option<KeyPath>,
    /// Whether IndexedDB generates missing keys (`++`).
    pub auto_increment: bool,
}

impl PrimaryKey {
    /// The key as a Dexie schema writes it: `id`, `++id`, `''` or `++`.
    pub fn dexie(&self) -> String {
        let path = self.key_path.as_ref().map(KeyPath::dexie_name);
        match (self.auto_increment, path) {
            (true, path) => format!("++{}", path.unwrap_or_default()),
            (false, Some(path)) => path,
            (false, None) => "''".to_owned(),
        }
    }
}

/// A secondary index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexSpec {
    /// The index name (Dexie's: the key path as written, without `&`/`*`).
    pub name: String,
    /// The indexed field(s).
    pub key_path: KeyPath,
    /// `&`: no two records may share a value.
    pub unique: bool,
    /// `*`: an array value is indexed element by element.
    pub multi_entry: bool,
}

/// One table: primary key and indexes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSchema {
    /// The table (object store) name.
    pub name: String,
    /// The primary key.
    pub primary: PrimaryKey,
    /// The secondary indexes, in declaration order.
    pub indexes: Vec<IndexSpec>,
}

impl TableSchema {
    /// The index named `name`, if declared.
    pub fn index(&self, name: &str) -> Option<&IndexSpec> {
        self.indexes.iter().find(|i| i.name == name)
    }
}

/// Every table of a database, by name.
pub type DatabaseSchema = BTreeMap<String, TableSchema>;

/// Why a schema was refused. `code()` is stable and shown to JavaScript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaError {
    /// A schema string Dexie would reject, or that idb-sync cannot serve.
    Invalid {
        /// The table.
        table: String,
        /// What is wrong.
        reason: String,
    },
    /// The database already holds this store or index with another definition.
    Conflict {
        /// The table.
        table: String,
        /// What differs.
        reason: String,
    },
}

impl SchemaError {
    /// `invalid_schema` or `schema_conflict`.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The code in the package's one vocabulary.
    pub fn error_code(&self) -> crate::ErrorCode {
        match self {
            SchemaError::Invalid { .. } => crate::ErrorCode::InvalidSchema,
            SchemaError::Conflict { .. } => crate::ErrorCode::SchemaConflict,
        }
    }
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaError::Invalid { table, reason } => {
                write!(f, "invalid schema for table `{table}`: {reason}")
            }
            SchemaError::Conflict { table, reason } => {
                write!(
                    f,
                    "table `{table}` exists with another definition: {reason}"
                )
            }
        }
    }
}

impl std::error::Error for SchemaError {}

fn invalid(table: &str, reason: impl Into<String>) -> SchemaError {
    SchemaError::Invalid {
        table: table.to_owned(),
        reason: reason.into(),
    }
}

/// One comma-separated item of a schema string, with its markers stripped.
struct Item {
    auto: bool,
    unique: bool,
    multi: bool,
    key_path: Option<KeyPath>,
    text: String,
}

fn parse_field(table: &str, item: &str, field: &str) -> Result<String, SchemaError> {
    let ok = !field.is_empty()
        && field.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '-')
        });
    if ok {
        Ok(field.to_owned())
    } else {
        Err(invalid(
            table,
            format!("`{item}`: `{field}` is not a valid field name"),
        ))
    }
}

fn parse_item(table: &str, raw: &str) -> Result<Item, SchemaError> {
    let text = raw.trim();
    let mut rest = text;
    let (mut auto, mut unique, mut multi) = (false, false, false);
    loop {
        if let Some(r) = rest.strip_prefix("++") {
            if auto {
                return Err(invalid(table, format!("`{text}`: `++` given twice")));
            }
            auto = true;
            rest = r;
        } else if let Some(r) = rest.strip_prefix('&') {
            if unique {
                return Err(invalid(table, format!("`{text}`: `&` given twice")));
            }
            unique = true;
            rest = r;
        } else if let Some(r) = rest.strip_prefix('*') {
            if multi {
                return Err(invalid(table, format!("`{text}`: `*` given twice")));
            }
            multi = true;
            rest = r;
        } else {
            break;
        }
    }
    let key_path = if rest.is_empty() {
        None
    } else if let Some(inner) = rest.strip_prefix('[') {
        let inner = inner.strip_suffix(']').ok_or_else(|| {
            invalid(
                table,
                format!("`{text}`: a compound key path needs a closing `]`"),
            )
        })?;
        let fields = inner
            .split('+')
            .map(|f| parse_field(table, text, f.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        if fields.len() < 2 {
            return Err(invalid(
                table,
                format!("`{text}`: a compound key path needs at least two fields"),
            ));
        }
        Some(KeyPath::Compound(fields))
    } else {
        Some(KeyPath::Single(parse_field(table, text, rest)?))
    };
    Ok(Item {
        auto,
        unique,
        multi,
        key_path,
        text: text.to_owned(),
    })
}

/// Parses one table's schema string (Dexie syntax). Rejects what Dexie rejects
/// (`*` or `&`+`++` misuse, `++` on an index, an empty index, a duplicate index) and
/// names starting with [`RESERVED_PREFIX`].
pub fn parse_table(name: &str, spec: &str) -> Result<TableSchema, SchemaError> {
    if name.is_empty() {
        return Err(invalid(name, "the table name is empty"));
    }
    if name.starts_with(RESERVED_PREFIX) {
        return Err(invalid(
            name,
            format!("names starting with `{RESERVED_PREFIX}` are reserved for idb-sync"),
        ));
    }
    let mut items = spec.split(',');
    let first = parse_item(name, items.next().unwrap_or(""))?;
    if first.multi {
        return Err(invalid(
            name,
            format!(
                "`{}`: the primary key cannot be multi-valued (`*`)",
                first.text
            ),
        ));
    }
    if first.auto && matches!(first.key_path, Some(KeyPath::Compound(_))) {
        return Err(invalid(
            name,
            format!(
                "`{}`: a compound primary key cannot auto-increment",
                first.text
            ),
        ));
    }
    let primary = PrimaryKey {
        key_path: first.key_path,
        auto_increment: first.auto,
    };
    let mut indexes: Vec<IndexSpec> = Vec::new();
    for raw in items {
        let item = parse_item(name, raw)?;
        if item.auto {
            return Err(invalid(
                name,
                format!(
                    "`{}`: only the primary key can auto-increment (`++`)",
                    item.text
                ),
            ));
        }
        let key_path = item.key_path.ok_or_else(|| {
            invalid(
                name,
                "an index must have a name and cannot be an empty string",
            )
        })?;
        if item.multi && matches!(key_path, KeyPath::Compound(_)) {
            return Err(invalid(
                name,
                format!("`{}`: a compound index cannot be multi-entry", item.text),
            ));
        }
        let index_name = key_path.dexie_name();
        if indexes.iter().any(|i| i.name == index_name)
            || primary.key_path.as_ref() == Some(&key_path)
        {
            return Err(invalid(name, format!("`{}` is declared twice", item.text)));
        }
        indexes.push(IndexSpec {
            name: index_name,
            key_path,
            unique: item.unique,
            multi_entry: item.multi,
        });
    }
    Ok(TableSchema {
        name: name.to_owned(),
        primary,
        indexes,
    })
}

/// Parses every table of a schema (`{ tasks: 'id, status', ... }`).
pub fn parse_schema<'a>(
    tables: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<DatabaseSchema, SchemaError> {
    let mut out = DatabaseSchema::new();
    for (name, spec) in tables {
        let table = parse_table(name, spec)?;
        out.insert(table.name.clone(), table);
    }
    Ok(out)
}

/// Checks that a table can be synced, for `SyncManager` (a plain `LocalDatabase` takes
/// every schema [`parse_table`] takes). Refused with `invalid_schema`:
///
/// - an auto-increment key (`++id`, `++`): two devices would both create key 1, and
///   one of the two records would be lost on the server. Use a plain `id` (idb-sync
///   generates a UUID v7 when a record has none) or `''` with explicit keys; an
///   auto-increment table that should stay on the device is left out of the
///   `SyncManager` schema (stores not declared are kept, untouched).
/// - a compound primary key: a synced key is one string or number.
pub fn check_synced_table(table: &TableSchema) -> Result<(), SchemaError> {
    if table.primary.auto_increment {
        let (written, instead) = match &table.primary.key_path {
            Some(k) => (
                format!("++{}", k.dexie_name()),
                format!(
                    "a plain `{}` key (idb-sync generates a UUID v7 id when a record has none)",
                    k.dexie_name()
                ),
            ),
            None => (
                "++".to_owned(),
                "`''` with explicit keys, or a plain `id` key (idb-sync generates UUID v7 ids)"
                    .to_owned(),
            ),
        };
        return Err(invalid(
            &table.name,
            format!(
                "`{written}`: auto-increment keys cannot be synced (two devices would both create key 1 and one record \
                 would be lost); use {instead}, or leave the table out of the SyncManager schema to keep it local-only"
            ),
        ));
    }
    if matches!(table.primary.key_path, Some(KeyPath::Compound(_))) {
        return Err(invalid(
            &table.name,
            "compound primary keys cannot be synced: a synced record's key is one string or number",
        ));
    }
    Ok(())
}

/// [`check_synced_table`] for every table of `schema`.
pub fn check_synced_schema(schema: &DatabaseSchema) -> Result<(), SchemaError> {
    schema.values().try_for_each(check_synced_table)
}

/// What an upgrade must create: whole stores, and indexes on existing stores.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpgradePlan {
    /// Stores to create (with all their indexes).
    pub new_stores: Vec<TableSchema>,
    /// Indexes to add to stores that exist, by store name.
    pub new_indexes: Vec<(String, IndexSpec)>,
}

impl UpgradePlan {
    /// True if the database already holds everything wanted.
    pub fn is_empty(&self) -> bool {
        self.new_stores.is_empty() && self.new_indexes.is_empty()
    }
}

/// Compares what the database holds (`existing`, read from IndexedDB) with what is
/// wanted, and lists what to create. Stores and indexes present but not wanted are
/// kept (never deleted). A wanted store whose primary key differs from the existing
/// one, or an index whose definition differs, is a [`SchemaError::Conflict`]: IndexedDB
/// cannot change them in place without rewriting data. One difference is accepted
/// (see [`primary_key_fits`]): a plain key declared over an auto-increment store.
pub fn plan_upgrade(
    existing: &DatabaseSchema,
    wanted: &DatabaseSchema,
) -> Result<UpgradePlan, SchemaError> {
    let mut plan = UpgradePlan::default();
    for (name, want) in wanted {
        let Some(have) = existing.get(name) else {
            plan.new_stores.push(want.clone());
            continue;
        };
        if !primary_key_fits(&have.primary, &want.primary) {
            return Err(SchemaError::Conflict {
                table: name.clone(),
                reason: format!(
                    "primary key `{}` in the database, `{}` declared",
                    have.primary.dexie(),
                    want.primary.dexie()
                ),
            });
        }
        for index in &want.indexes {
            match have.index(&index.name) {
                None => plan.new_indexes.push((name.clone(), index.clone())),
                Some(h) if h == index => {}
                Some(h) => {
                    return Err(SchemaError::Conflict {
                        table: name.clone(),
                        reason: format!(
                            "index `{}` is {h:?} in the database, {index:?} declared",
                            index.name
                        ),
                    })
                }
            }
        }
    }
    Ok(plan)
}

/// Whether a declared primary key can open a store that has `have`: the same key, or
/// the same key path without `++` over an auto-increment store. That is how a Dexie
/// database with `++id` tables is adopted for sync (`SyncManager` refuses `++`: two
/// devices would both create key 1): the store keeps its generator, but idb-sync
/// always gives a key (a UUID v7 for a record without one), so it is never used, and
/// the rows already there keep their numeric keys.
pub fn primary_key_fits(have: &PrimaryKey, want: &PrimaryKey) -> bool {
    have == want || (have.auto_increment && !want.auto_increment && have.key_path == want.key_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(f: &str) -> KeyPath {
        KeyPath::Single(f.into())
    }

    #[test]
    fn parses_every_dexie_marker() {
        let t = parse_table(
            "tasks",
            "++id, &email, *tags, [userId+status], address.city",
        )
        .unwrap();
        assert_eq!(
            t.primary,
            PrimaryKey {
                key_path: Some(single("id")),
                auto_increment: true
            }
        );
        assert_eq!(t.indexes.len(), 4);
        assert_eq!(
            t.indexes[0],
            IndexSpec {
                name: "email".into(),
                key_path: single("email"),
                unique: true,
                multi_entry: false
            }
        );
        assert_eq!(
            t.indexes[1],
            IndexSpec {
                name: "tags".into(),
                key_path: single("tags"),
                unique: false,
                multi_entry: true
            }
        );
        assert_eq!(
            t.indexes[2],
            IndexSpec {
                name: "[userId+status]".into(),
                key_path: KeyPath::Compound(vec!["userId".into(), "status".into()]),
                unique: false,
                multi_entry: false
            }
        );
        assert_eq!(t.indexes[3].key_path, single("address.city"));
    }

    #[test]
    fn parses_the_seed_001_schema() {
        let s = parse_schema([
            (
                "tasks",
                "id, status, priority, dueDate, _synced, _localUpdatedAt, _deleted",
            ),
            ("projects", "id, name, _synced, _localUpdatedAt"),
            ("syncQueue", "++id, table, recordId, createdAt, retryCount"),
            ("syncMeta", "key"),
        ])
        .unwrap();
        assert_eq!(s.len(), 4);
        assert_eq!(s["tasks"].indexes.len(), 6);
        assert!(s["syncQueue"].primary.auto_increment);
    }

    #[test]
    fn out_of_line_and_compound_primary_keys() {
        assert_eq!(
            parse_table("t", "").unwrap().primary,
            PrimaryKey {
                key_path: None,
                auto_increment: false
            }
        );
        assert_eq!(
            parse_table("t", "++").unwrap().primary,
            PrimaryKey {
                key_path: None,
                auto_increment: true
            }
        );
        assert_eq!(parse_table("t", " , name").unwrap().indexes[0].name, "name");
        let c = parse_table("t", "[a+b], c").unwrap();
        assert_eq!(
            c.primary.key_path,
            Some(KeyPath::Compound(vec!["a".into(), "b".into()]))
        );
    }

    #[test]
    fn rejects_what_dexie_rejects() {
        for bad in [
            "*id",
            "id, ++n",
            "id, ",
            "id, name, name",
            "id, id",
            "++[a+b]",
            "id, *[a+b]",
            "id, [a]",
            "id, [a+b",
            "id, na me",
            "id, a..b",
        ] {
            let err = parse_table("t", bad).unwrap_err();
            assert_eq!(err.code(), "invalid_schema", "{bad:?} should be rejected");
        }
    }

    #[test]
    fn rejects_reserved_and_empty_table_names() {
        assert_eq!(
            parse_table("_idbsync_outbox", "id").unwrap_err().code(),
            "invalid_schema"
        );
        assert_eq!(parse_table("", "id").unwrap_err().code(), "invalid_schema");
    }

    #[test]
    fn the_error_names_the_table_and_the_problem() {
        let msg = parse_table("tasks", "id, ++n").unwrap_err().to_string();
        assert!(
            msg.contains("tasks") && msg.contains("auto-increment"),
            "{msg}"
        );
    }

    #[test]
    fn upgrades_are_additive() {
        let existing = parse_schema([("tasks", "id, status"), ("legacy", "++id")]).unwrap();
        let wanted = parse_schema([("tasks", "id, status, *tags"), ("projects", "id")]).unwrap();
        let plan = plan_upgrade(&existing, &wanted).unwrap();
        assert_eq!(plan.new_stores.len(), 1);
        assert_eq!(plan.new_stores[0].name, "projects");
        assert_eq!(plan.new_indexes.len(), 1);
        assert_eq!(plan.new_indexes[0].1.name, "tags");
        // "legacy" is not wanted and not touched.
        assert!(plan_upgrade(&existing, &existing).unwrap().is_empty());
    }

    #[test]
    fn an_incompatible_redefinition_is_a_conflict() {
        let existing = parse_schema([("tasks", "id, status")]).unwrap();
        let other_key = parse_schema([("tasks", "++id, status")]).unwrap();
        assert_eq!(
            plan_upgrade(&existing, &other_key).unwrap_err().code(),
            "schema_conflict"
        );
        let other_index = parse_schema([("tasks", "id, &status")]).unwrap();
        assert_eq!(
            plan_upgrade(&existing, &other_index).unwrap_err().code(),
            "schema_conflict"
        );
        let other_path = parse_schema([("tasks", "key, status")]).unwrap();
        let message = plan_upgrade(&existing, &other_path)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("`id` in the database, `key` declared"),
            "{message}"
        );
    }

    #[test]
    fn a_plain_key_opens_an_auto_increment_store_and_not_the_reverse() {
        // A Dexie database of seed 000 (`++id`) adopted with `id` keys.
        let dexie = parse_schema([("goals", "++id, userId"), ("raw", "++")]).unwrap();
        let adopted = parse_schema([("goals", "id, userId, status")]).unwrap();
        let plan = plan_upgrade(&dexie, &adopted).unwrap();
        assert_eq!(plan.new_indexes.len(), 1, "only the new index is created");
        let out_of_line = parse_schema([("raw", "")]).unwrap();
        assert!(plan_upgrade(&dexie, &out_of_line).is_ok());
        // Not another key path, and never `++` over a store without a generator.
        let other_path = parse_schema([("goals", "goalId")]).unwrap();
        assert!(plan_upgrade(&dexie, &other_path).is_err());
        let plain = parse_schema([("goals", "id")]).unwrap();
        let auto = parse_schema([("goals", "++id")]).unwrap();
        assert!(plan_upgrade(&plain, &auto).is_err());
    }
    #[test]
    fn auto_increment_keys_are_refused_for_synced_tables_with_what_to_use_instead() {
        let inline =
            check_synced_table(&parse_table("tasks", "++id, status").unwrap()).unwrap_err();
        assert_eq!(inline.code(), "invalid_schema");
        let msg = inline.to_string();
        assert!(
            msg.contains("tasks")
                && msg.contains("`++id`")
                && msg.contains("plain `id`")
                && msg.contains("UUID v7"),
            "{msg}"
        );
        assert!(msg.contains("local-only"), "{msg}");
        let out_of_line = check_synced_table(&parse_table("blobs", "++").unwrap()).unwrap_err();
        assert_eq!(out_of_line.code(), "invalid_schema");
        assert!(
            out_of_line.to_string().contains("explicit keys"),
            "{out_of_line}"
        );
        let schema = parse_schema([("tasks", "id"), ("log", "++id, at")]).unwrap();
        assert!(check_synced_schema(&schema)
            .unwrap_err()
            .to_string()
            .contains("`log`"));
    }

    #[test]
    fn plain_and_out_of_line_keys_can_be_synced_compound_ones_cannot() {
        for ok in ["id, status", "", " , name", "address.id"] {
            check_synced_table(&parse_table("t", ok).unwrap())
                .unwrap_or_else(|e| panic!("{ok:?}: {e}"));
        }
        let compound = check_synced_table(&parse_table("t", "[a+b], c").unwrap()).unwrap_err();
        assert_eq!(compound.code(), "invalid_schema");
    }
}
