//! The options objects of `LocalDatabase.open` and `SyncManager.open`, read from
//! JavaScript once into core's [`OptionValue`] (plain data) for
//! `core/src/options/` to validate. Each JS function found is kept aside and
//! replaced by a [`FunctionId`]; the rules themselves all live in core (see
//! `docs/SYNC_MANAGER.md`, "Options").
//!
//! Read by hand rather than with serde-wasm-bindgen: serde-wasm-bindgen refuses
//! functions (the `getToken` and conflict functions must come through) and walks
//! nested objects without bound (a circular object would overflow the stack). Objects
//! are read [`MAX_DEPTH`] levels deep, as deep as any option goes.

use idb_sync_core::options::{self, DatabaseOptions, FunctionId, OptionError, OptionValue};
use js_sys::{Array, Function, Object};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::SyncError;

/// Objects deeper than this (options → `conflict` → `tables` → a table's policy)
/// are not read; they become [`OptionValue::Other`].
const MAX_DEPTH: usize = 3;

/// An options object as data, and the JS functions it holds.
pub(crate) struct JsOptions {
    /// The options, functions replaced by their [`FunctionId`].
    pub(crate) value: OptionValue,
    /// Read by `SyncManager.open` (wasm32 only).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    functions: Vec<Function>,
}

impl JsOptions {
    /// Reads `options` (any JS value).
    pub(crate) fn read(options: &JsValue) -> Self {
        let mut functions = Vec::new();
        let value = read(options, 0, &mut functions);
        JsOptions { value, functions }
    }

    /// The function core's answer names.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn function(&self, id: FunctionId) -> Function {
        self.functions[id.0].clone()
    }
}

fn read(v: &JsValue, depth: usize, functions: &mut Vec<Function>) -> OptionValue {
    if v.is_undefined() {
        OptionValue::Undefined
    } else if v.is_null() {
        OptionValue::Null
    } else if let Some(b) = v.as_bool() {
        OptionValue::Bool(b)
    } else if let Some(n) = v.as_f64() {
        OptionValue::Number(n)
    } else if let Some(s) = v.as_string() {
        OptionValue::String(s)
    } else if let Some(f) = v.dyn_ref::<Function>() {
        // The same function object found twice is one function.
        let id = functions.iter().position(|g| g == f).unwrap_or_else(|| {
            functions.push(f.clone());
            functions.len() - 1
        });
        OptionValue::Function(FunctionId(id))
    } else if v.is_object() && depth < MAX_DEPTH {
        if Array::is_array(v) {
            let items = Array::from(v);
            OptionValue::Array(
                items
                    .iter()
                    .map(|x| read(&x, depth + 1, functions))
                    .collect(),
            )
        } else {
            let entries = Object::entries(v.unchecked_ref());
            OptionValue::Object(
                entries
                    .iter()
                    .map(|entry| {
                        let entry = Array::from(&entry);
                        let key = entry.get(0).as_string().unwrap_or_default();
                        (key, read(&entry.get(1), depth + 1, functions))
                    })
                    .collect(),
            )
        }
    } else {
        OptionValue::Other(v.js_typeof().as_string().unwrap_or_default())
    }
}

/// The options of `LocalDatabase.open`, validated by core. A wrong shape is
/// `invalid_argument` (naming `options`, `dbName`, `version` or `schema`), a schema
/// Dexie would refuse is the schema parser's `invalid_schema`.
pub(crate) fn database(options: &JsValue) -> Result<DatabaseOptions, SyncError> {
    options::database_options(&JsOptions::read(options).value).map_err(refused)
}

fn refused(e: OptionError) -> SyncError {
    if let Some(schema) = e.schema_error() {
        return SyncError::Schema(schema);
    }
    let argument = match e.option.split('.').next() {
        Some("dbName") => "dbName",
        Some("version") => "version",
        Some("schema") => "schema",
        _ => "options",
    };
    SyncError::InvalidArgument {
        argument,
        reason: e.reason,
    }
}
