//! Queries: collections (`orderBy`, `reverse`, `offset`, `limit`, `filter`, then
//! `toArray`, `first`, `keys`, `count`), Dexie style; `where(index)` clauses are in
//! [`crate::where_clause`]. A collection is a description; each terminal call runs one
//! read-only transaction, using `getAll` when it can and a cursor otherwise (filters,
//! offsets, reverse). Arguments of the wrong type throw `invalid_argument` (see
//! [`crate::args`]).

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{IdbCursorDirection, IdbCursorWithValue, IdbKeyRange, IdbRequest};

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

    /// Runs the query: `(values, primary keys)`; values only if `want_values`.
    async fn run(&self, want_values: bool) -> Result<(Vec<JsValue>, Vec<JsValue>), SyncError> {
        idb::read_only(&self.storage.db()?, &[self.table.as_str()], async |tx| {
            self.run_in(tx, want_values).await
        })
        .await
    }

    async fn run_in(
        &self,
        tx: &Tx,
        want_values: bool,
    ) -> Result<(Vec<JsValue>, Vec<JsValue>), SyncError> {
        let store = tx.store(&self.table)?;
        let index = match &self.index {
            Some(name) => Some(store.index(name).or_storage("index")?),
            None => None,
        };
        let ranges: Vec<JsValue> = match &self.range {
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
        };
        let simple =
            self.filters.is_empty() && !self.reverse && self.offset == 0 && ranges.len() == 1;
        if simple {
            let count = self.limit.unwrap_or(0);
            let r = &ranges[0];
            let (values, keys) = match &index {
                Some(i) => (
                    want_values
                        .then(|| i.get_all_with_key_and_limit(r, count))
                        .transpose(),
                    i.get_all_keys_with_key_and_limit(r, count),
                ),
                None => (
                    want_values
                        .then(|| store.get_all_with_key_and_limit(r, count))
                        .transpose(),
                    store.get_all_keys_with_key_and_limit(r, count),
                ),
            };
            let mut requests: Vec<IdbRequest> = Vec::new();
            if let Some(v) = values.or_storage("getAll")? {
                requests.push(v);
            }
            requests.push(keys.or_storage("getAllKeys")?);
            let mut out = idb::all(&requests).await?;
            let keys = Array::from(&out.pop().unwrap_or_default()).to_vec();
            let values = out
                .pop()
                .map(|v| Array::from(&v).to_vec())
                .unwrap_or_default();
            return Ok((values, keys));
        }
        let direction = if self.reverse {
            IdbCursorDirection::Prev
        } else {
            IdbCursorDirection::Next
        };
        let mut skip = self.offset;
        let mut values = Vec::new();
        let mut keys = Vec::new();
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
                let mut keep = true;
                for f in &self.filters {
                    match f.call1(&JsValue::NULL, &value) {
                        Ok(v) if v.is_truthy() => {}
                        Ok(_) => {
                            keep = false;
                            break;
                        }
                        Err(e) => {
                            return Err(SyncError::InvalidArgument {
                                argument: "filter",
                                reason: format!("the filter threw: {e:?}"),
                            })
                        }
                    }
                }
                if keep {
                    if skip > 0 {
                        skip -= 1;
                    } else {
                        keys.push(cursor.primary_key().or_storage("cursor key")?);
                        if want_values {
                            values.push(value);
                        }
                        if self.limit.is_some_and(|l| keys.len() as u32 >= l) {
                            break 'ranges;
                        }
                    }
                }
                cursor.continue_().or_storage("continue")?;
            }
        }
        Ok((values, keys))
    }
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
        let (values, _) = self.run(true).await?;
        Ok(values.into_iter().collect())
    }

    /// JS `first`.
    pub async fn first(&self) -> Result<JsValue, JsValue> {
        let (values, _) = self.limited(1).run(true).await?;
        Ok(values.into_iter().next().unwrap_or(JsValue::UNDEFINED))
    }

    /// JS `keys`.
    pub async fn keys(&self) -> Result<Array, JsValue> {
        let (_, keys) = self.run(!self.filters.is_empty()).await?;
        Ok(keys.into_iter().collect())
    }

    /// JS `count`.
    pub async fn count(&self) -> Result<u32, JsValue> {
        let (_, keys) = self.run(!self.filters.is_empty()).await?;
        Ok(keys.len() as u32)
    }
}
