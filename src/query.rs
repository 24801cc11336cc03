//! Queries: collections (`orderBy`, `reverse`, `offset`, `limit`, `filter`, then
//! `toArray`, `first`, `keys`, `count`), Dexie style; `where(index)` clauses are in
//! [`crate::where_clause`]. A collection is a description; each terminal call runs one
//! read-only transaction, using `getAll` when it can and a cursor otherwise (filters,
//! offsets, reverse). Arguments of the wrong type throw `invalid_argument` (see
//! [`crate::args`]).

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{IdbCursorDirection, IdbCursorWithValue, IdbKeyRange};

use crate::args;
use crate::error::{OrStorage, SyncError};
use crate::idb::{self, Tx};
use crate::interop::export_async;
use crate::storage::IdbStorage;

/// What a collection selects from its index.
#[derive(Clone)]
pub(crate) enum Range {
    /// Everything.
    All,
    /// One key range.
    One(IdbKeyRange),
    /// Each of these keys, in index order.
    AnyOf(Vec<JsValue>),
}

/// An ordered, filtered selection of a table's records, read by `toArray()`,
/// `first()`, `keys()` or `count()`.
#[wasm_bindgen]
#[derive(Clone)]
pub struct Collection {
    storage: IdbStorage,
    table: String,
    index: Option<String>,
    range: Range,
    reverse: bool,
    offset: u32,
    limit: Option<u32>,
    filters: Vec<Function>,
}

impl Collection {
    /// A collection of `range` of `index` (`None`: the primary key) of `table`.
    pub(crate) fn new(
        storage: IdbStorage,
        table: String,
        index: Option<String>,
        range: Range,
    ) -> Collection {
        Collection {
            storage,
            table,
            index,
            range,
            reverse: false,
            offset: 0,
            limit: None,
            filters: Vec::new(),
        }
    }

    fn limited(&self, n: u32) -> Collection {
        Collection {
            limit: Some(self.limit.map_or(n, |l| l.min(n))),
            ..self.clone()
        }
    }

    pub(crate) fn all(storage: IdbStorage, table: String, index: Option<String>) -> Collection {
        Collection::new(storage, table, index, Range::All)
    }

    /// Runs the query and returns what `want` asks for, in query order.
    async fn run(&self, want: Want) -> Result<Array, SyncError> {
        idb::read_only(&self.storage.db()?, &[self.table.as_str()], async |tx| {
            self.run_in(tx, want).await
        })
        .await
    }

    /// The key ranges to read, in query order (`anyOf` values sorted and deduplicated).
    fn key_ranges(&self) -> Result<Vec<JsValue>, SyncError> {
        Ok(match &self.range {
            Range::All => vec![JsValue::UNDEFINED],
            Range::One(r) => vec![r.clone().into()],
            Range::AnyOf(values) => {
                let mut sorted = values.clone();
                let factory = idb::factory()?;
                // Unstable: equal keys are deduplicated next, and it is smaller code
                // than a stable sort (BENCHMARKS.md, "Package size").
                sorted.sort_unstable_by(|a, b| match factory.cmp(a, b) {
                    Ok(c) if c < 0 => std::cmp::Ordering::Less,
                    Ok(0) => std::cmp::Ordering::Equal,
                    _ => std::cmp::Ordering::Greater,
                });
                sorted.dedup_by(|a, b| factory.cmp(a, b).ok() == Some(0));
                if self.reverse {
                    sorted.reverse();
                }
                sorted
                    .iter()
                    .map(|v| {
                        IdbKeyRange::only(v)
                            .map(JsValue::from)
                            .or_storage("key range")
                    })
                    .collect::<Result<_, _>>()?
            }
        })
    }

    /// One request does it: no filter, offset or reverse order, and one range.
    fn is_simple(&self, ranges: &[JsValue]) -> bool {
        self.filters.is_empty() && !self.reverse && self.offset == 0 && ranges.len() == 1
    }

    async fn run_in(&self, tx: &Tx, want: Want) -> Result<Array, SyncError> {
        let store = tx.store(&self.table)?;
        let index = match &self.index {
            Some(name) => Some(store.index(name).or_storage("index")?),
            None => None,
        };
        let ranges = self.key_ranges()?;
        if self.is_simple(&ranges) {
            // One getAll (records) or one getAllKeys (keys), as Dexie does: never both.
            let (count, r) = (self.limit.unwrap_or(0), &ranges[0]);
            let request = match (&index, want) {
                (Some(i), Want::Values) => i.get_all_with_key_and_limit(r, count),
                (Some(i), Want::Keys) => i.get_all_keys_with_key_and_limit(r, count),
                (None, Want::Values) => store.get_all_with_key_and_limit(r, count),
                (None, Want::Keys) => store.get_all_keys_with_key_and_limit(r, count),
            }
            .or_storage("getAll")?;
            return Ok(idb::request(request).await?.unchecked_into());
        }
        let direction = if self.reverse {
            IdbCursorDirection::Prev
        } else {
            IdbCursorDirection::Next
        };
        let mut skip = self.offset;
        let mut found = 0u32;
        let out = Array::new();
        'ranges: for r in &ranges {
            let request = match &index {
                Some(i) => i.open_cursor_with_range_and_direction(r, direction),
                None => store.open_cursor_with_range_and_direction(r, direction),
            }
            .or_storage("openCursor")?;
            loop {
                let cursor = idb::request(request.clone()).await?;
                let Ok(cursor) = cursor.dyn_into::<IdbCursorWithValue>() else {
                    break;
                };
                let value = cursor.value().or_storage("cursor value")?;
                if self.keeps(&value)? {
                    if skip > 0 {
                        skip -= 1;
                    } else {
                        out.push(&match want {
                            Want::Values => value,
                            Want::Keys => cursor.primary_key().or_storage("cursor key")?,
                        });
                        found += 1;
                        if self.limit.is_some_and(|l| found >= l) {
                            break 'ranges;
                        }
                    }
                }
                cursor.continue_().or_storage("continue")?;
            }
        }
        Ok(out)
    }

    /// Whether every filter keeps `value` (a filter that throws is the caller's error).
    fn keeps(&self, value: &JsValue) -> Result<bool, SyncError> {
        for f in &self.filters {
            match f.call1(&JsValue::NULL, value) {
                Ok(v) if v.is_truthy() => {}
                Ok(_) => return Ok(false),
                Err(e) => {
                    return Err(SyncError::InvalidArgument {
                        argument: "filter",
                        reason: format!("the filter threw: {e:?}"),
                    })
                }
            }
        }
        Ok(true)
    }

    /// `count()` without a filter or offset: one IndexedDB `count` (capped by the
    /// limit), no records or keys read.
    async fn count_simple(&self) -> Result<u32, SyncError> {
        idb::read_only(&self.storage.db()?, &[self.table.as_str()], async |tx| {
            let store = tx.store(&self.table)?;
            let range = self.key_ranges()?;
            let request = match (&self.index, &range[..]) {
                (Some(name), [r]) => store.index(name).or_storage("index")?.count_with_key(r),
                (None, [r]) => store.count_with_key(r),
                _ => unreachable!("count_simple runs for a single range"),
            }
            .or_storage("count")?;
            let n = idb::request(request).await?.as_f64().unwrap_or(0.0) as u32;
            Ok(self.limit.map_or(n, |l| n.min(l)))
        })
        .await
    }
}

/// What a query returns.
#[derive(Clone, Copy)]
enum Want {
    /// The matching records.
    Values,
    /// The matching records' primary keys.
    Keys,
}

#[wasm_bindgen]
impl Collection {
    /// The same selection in reverse order.
    pub fn reverse(&self) -> Collection {
        Collection {
            reverse: !self.reverse,
            ..self.clone()
        }
    }

    /// Skips the first `n` matches.
    pub fn offset(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] n: JsValue,
    ) -> Result<Collection, JsValue> {
        let n = args::count(&n, "n")?;
        Ok(Collection {
            offset: self.offset.saturating_add(n),
            ..self.clone()
        })
    }

    /// Keeps at most `n` matches.
    pub fn limit(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] n: JsValue,
    ) -> Result<Collection, JsValue> {
        Ok(self.limited(args::count(&n, "n")?))
    }

    /// Keeps the records for which `predicate(record)` is truthy (synchronous).
    pub fn filter(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(record: any) => unknown")] predicate: JsValue,
    ) -> Result<Collection, JsValue> {
        let mut next = self.clone();
        next.filters.push(args::function(&predicate, "predicate")?);
        Ok(next)
    }
}

export_async!(Collection {
    /// The matching records.
    "toArray" as to_array_js => to_array() -> "Promise<Array<any>>";
    /// The first matching record, or `undefined`.
    "first" as first_js => first() -> "Promise<any>";
    /// The primary keys of the matching records.
    "keys" as keys_js => keys() -> "Promise<Array<any>>";
    /// The number of matching records.
    "count" as count_js => count() -> "Promise<number>";
});

/// The methods behind the JS ones of [`export_async!`] above, for Rust callers too.
impl Collection {
    /// JS `toArray`.
    pub async fn to_array(&self) -> Result<Array, JsValue> {
        Ok(self.run(Want::Values).await?)
    }

    /// JS `first`.
    pub async fn first(&self) -> Result<JsValue, JsValue> {
        Ok(self.limited(1).run(Want::Values).await?.get(0))
    }

    /// JS `keys`.
    pub async fn keys(&self) -> Result<Array, JsValue> {
        Ok(self.run(Want::Keys).await?)
    }

    /// JS `count`.
    pub async fn count(&self) -> Result<u32, JsValue> {
        let simple = self.filters.is_empty() && self.offset == 0;
        if simple && !matches!(self.range, Range::AnyOf(_)) {
            return Ok(self.count_simple().await?);
        }
        Ok(self.run(Want::Keys).await?.length())
    }
}
