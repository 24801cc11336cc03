//! `where(index)` clauses, Dexie style: `equals`, `anyOf`, `between`, `above`,
//! `below`, `startsWith`, ... each make a [`Collection`] over a key range of the
//! index. Arguments of the wrong type throw `invalid_argument` (see [`crate::args`]).

use wasm_bindgen::prelude::*;
use web_sys::IdbKeyRange;

use crate::args;
use crate::error::SyncError;
use crate::query::{Collection, Range};
use crate::storage::IdbStorage;

/// A `where(index)` clause: pick the records whose index value matches.
#[wasm_bindgen]
pub struct WhereClause {
    storage: IdbStorage,
    table: String,
    index: Option<String>,
}

fn bad_range(e: JsValue) -> JsValue {
    SyncError::InvalidArgument {
        argument: "value",
        reason: format!("not a valid IndexedDB key range: {e:?}"),
    }
    .into()
}

/// The index to read for `name`: `None` for the primary key.
pub(crate) fn resolve_index(
    storage: &IdbStorage,
    table: &str,
    name: &str,
) -> Result<Option<String>, SyncError> {
    let info = storage.table(table)?;
    let primary = info
        .schema
        .primary
        .key_path
        .as_ref()
        .map(|k| k.dexie_name());
    if name == ":id" || primary.as_deref() == Some(name) {
        return Ok(None);
    }
    if info.schema.index(name).is_some() {
        return Ok(Some(name.to_owned()));
    }
    Err(SyncError::UnknownIndex {
        table: table.to_owned(),
        index: name.to_owned(),
    })
}

impl WhereClause {
    pub(crate) fn new(storage: IdbStorage, table: String, index: Option<String>) -> WhereClause {
        WhereClause {
            storage,
            table,
            index,
        }
    }

    fn collection(&self, range: Range) -> Collection {
        Collection::new(
            self.storage.clone(),
            self.table.clone(),
            self.index.clone(),
            range,
        )
    }
}

#[wasm_bindgen]
impl WhereClause {
    /// Records whose index value equals `value`.
    pub fn equals(&self, value: JsValue) -> Result<Collection, JsValue> {
        Ok(self.collection(Range::One(IdbKeyRange::only(&value).map_err(bad_range)?)))
    }

    /// Records whose index value is one of `values` (in index order).
    #[wasm_bindgen(js_name = anyOf)]
    pub fn any_of(
        &self,
        #[wasm_bindgen(unchecked_param_type = "unknown[]")] values: JsValue,
    ) -> Result<Collection, JsValue> {
        let values = args::array(&values, "values")?.to_vec();
        for v in &values {
            IdbKeyRange::only(v).map_err(bad_range)?;
        }
        Ok(self.collection(Range::AnyOf(values)))
    }

    /// Records with `lower <= value < upper` (bounds included as asked; by default
    /// the lower one is and the upper one is not, as in Dexie).
    pub fn between(
        &self,
        lower: JsValue,
        upper: JsValue,
        #[wasm_bindgen(unchecked_param_type = "boolean | undefined")] include_lower: JsValue,
        #[wasm_bindgen(unchecked_param_type = "boolean | undefined")] include_upper: JsValue,
    ) -> Result<Collection, JsValue> {
        let include_lower = args::optional_bool(&include_lower, "includeLower")?;
        let include_upper = args::optional_bool(&include_upper, "includeUpper")?;
        let range = IdbKeyRange::bound_with_lower_open_and_upper_open(
            &lower,
            &upper,
            !include_lower.unwrap_or(true),
            !include_upper.unwrap_or(false),
        )
        .map_err(bad_range)?;
        Ok(self.collection(Range::One(range)))
    }

    /// Records whose index value is greater than `value`.
    pub fn above(&self, value: JsValue) -> Result<Collection, JsValue> {
        Ok(self.collection(Range::One(
            IdbKeyRange::lower_bound_with_open(&value, true).map_err(bad_range)?,
        )))
    }

    /// Records whose index value is greater than or equal to `value`.
    #[wasm_bindgen(js_name = aboveOrEqual)]
    pub fn above_or_equal(&self, value: JsValue) -> Result<Collection, JsValue> {
        Ok(self.collection(Range::One(
            IdbKeyRange::lower_bound(&value).map_err(bad_range)?,
        )))
    }

    /// Records whose index value is less than `value`.
    pub fn below(&self, value: JsValue) -> Result<Collection, JsValue> {
        Ok(self.collection(Range::One(
            IdbKeyRange::upper_bound_with_open(&value, true).map_err(bad_range)?,
        )))
    }

    /// Records whose index value is less than or equal to `value`.
    #[wasm_bindgen(js_name = belowOrEqual)]
    pub fn below_or_equal(&self, value: JsValue) -> Result<Collection, JsValue> {
        Ok(self.collection(Range::One(
            IdbKeyRange::upper_bound(&value).map_err(bad_range)?,
        )))
    }

    /// Records whose (string) index value starts with `prefix`.
    #[wasm_bindgen(js_name = startsWith)]
    pub fn starts_with(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] prefix: JsValue,
    ) -> Result<Collection, JsValue> {
        let prefix = args::string(&prefix, "prefix")?;
        let upper = format!("{prefix}\u{ffff}");
        let range = IdbKeyRange::bound_with_lower_open_and_upper_open(
            &prefix.into(),
            &upper.into(),
            false,
            false,
        )
        .map_err(bad_range)?;
        Ok(self.collection(Range::One(range)))
    }
}
