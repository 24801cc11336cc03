//! The rest adapter's position, kept in the opaque v1 cursor (stored by the engine
//! atomically with its page, docs/INVARIANTS.md I4): per table, the newest
//! `updatedAt` pulled and the records the safety overlap will bring back.

use serde_json::{json, Value};

use crate::protocol::Cursor;

/// One table's position.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TableCursor {
    /// The server's table name.
    pub table: String,
    /// The newest `updatedAt` (server time, ms) pulled from it.
    pub since: u64,
    /// Records pulled with an `updatedAt` inside the overlap: (key as JSON, version).
    pub seen: Vec<(String, u64)>,
}

/// What the opaque v1 cursor holds for the rest adapter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RestCursor {
    /// One entry per table pulled at least once.
    pub tables: Vec<TableCursor>,
}

impl RestCursor {
    /// Reads a stored cursor (`{"tables":[[table, since, [[key, version], …]], …]}`);
    /// `None` or anything unreadable starts every table from 0 (a full pull: the
    /// engine ignores versions it already has).
    pub fn decode(cursor: Option<&Cursor>) -> Self {
        let read = |c: &Cursor| -> Option<Self> {
            let v: Value = serde_json::from_str(&c.0).ok()?;
            let mut tables = Vec::new();
            for t in v.get("tables")?.as_array()? {
                let mut seen = Vec::new();
                for s in t[2].as_array()? {
                    seen.push((s[0].as_str()?.to_owned(), s[1].as_u64()?));
                }
                tables.push(TableCursor {
                    table: t[0].as_str()?.to_owned(),
                    since: t[1].as_u64()?,
                    seen,
                });
            }
            Some(RestCursor { tables })
        };
        cursor.and_then(read).unwrap_or_default()
    }

    /// The opaque v1 cursor.
    pub fn encode(&self) -> Cursor {
        let tables: Vec<Value> = self
            .tables
            .iter()
            .map(|t| {
                let seen: Vec<Value> = t.seen.iter().map(|(k, v)| json!([k, v])).collect();
                json!([t.table, t.since, seen])
            })
            .collect();
        Cursor(json!({ "tables": tables }).to_string())
    }

    /// The position of server table `table` (from 0 when never pulled).
    pub fn table(&self, table: &str) -> TableCursor {
        let found = self.tables.iter().find(|t| t.table == table).cloned();
        found.unwrap_or_else(|| TableCursor {
            table: table.to_owned(),
            ..TableCursor::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_starts_over() {
        let cursor = RestCursor {
            tables: vec![
                TableCursor {
                    table: "tasks".into(),
                    since: 1_800,
                    seen: vec![("\"t1\"".into(), 1_790)],
                },
                TableCursor {
                    table: "projects".into(),
                    since: 0,
                    seen: Vec::new(),
                },
            ],
        };
        assert_eq!(RestCursor::decode(Some(&cursor.encode())), cursor);
        assert_eq!(cursor.table("tasks").since, 1_800);
        assert_eq!(cursor.table("notes").since, 0);
        for garbage in ["", "[]", "{\"tables\":[[1,2,[]]]}", "not json"] {
            let c = Cursor(garbage.into());
            assert_eq!(
                RestCursor::decode(Some(&c)),
                RestCursor::default(),
                "{garbage}"
            );
        }
    }
}
