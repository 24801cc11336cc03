//! Arguments from JavaScript, checked. Every exported method takes loosely typed
//! arguments as `JsValue` and converts them here, so that a wrong type (a number for
//! a table name, an object for a callback) is refused with a `SyncError` of code
//! `invalid_argument` — never left to wasm-bindgen's glue, which traps or panics on a
//! non-string for a `String` parameter and calls a non-function it was given.

use js_sys::{Array, Function};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::SyncError;

fn invalid(argument: &'static str, reason: impl Into<String>) -> SyncError {
    SyncError::InvalidArgument {
        argument,
        reason: reason.into(),
    }
}

/// What a wrong argument was, for messages.
fn describe(v: &JsValue) -> String {
    if v.is_null() {
        "null".into()
    } else if Array::is_array(v) {
        "an array".into()
    } else {
        v.js_typeof()
            .as_string()
            .unwrap_or_else(|| "something else".into())
    }
}

/// A string argument.
pub(crate) fn string(v: &JsValue, argument: &'static str) -> Result<String, SyncError> {
    v.as_string()
        .ok_or_else(|| invalid(argument, format!("expected a string, got {}", describe(v))))
}

/// A function argument (a callback or listener).
pub(crate) fn function(v: &JsValue, argument: &'static str) -> Result<Function, SyncError> {
    v.dyn_ref::<Function>().cloned().ok_or_else(|| {
        invalid(
            argument,
            format!("expected a function, got {}", describe(v)),
        )
    })
}

/// An array argument.
pub(crate) fn array(v: &JsValue, argument: &'static str) -> Result<Array, SyncError> {
    if Array::is_array(v) {
        Ok(Array::from(v))
    } else {
        Err(invalid(
            argument,
            format!("expected an array, got {}", describe(v)),
        ))
    }
}

/// A count argument: an integer from 0 to 2^32 - 1.
pub(crate) fn count(v: &JsValue, argument: &'static str) -> Result<u32, SyncError> {
    match v.as_f64() {
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => Ok(n as u32),
        _ => Err(invalid(
            argument,
            format!(
                "expected a whole number from 0 to 4294967295, got {}",
                describe_value(v)
            ),
        )),
    }
}

/// An optional boolean argument (`undefined` or `null`: absent).
pub(crate) fn optional_bool(
    v: &JsValue,
    argument: &'static str,
) -> Result<Option<bool>, SyncError> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_bool()
        .map(Some)
        .ok_or_else(|| invalid(argument, format!("expected a boolean, got {}", describe(v))))
}

/// A dead letter's id: an integer ≥ 0.
pub(crate) fn id(v: &JsValue, argument: &'static str) -> Result<u64, SyncError> {
    match v.as_f64() {
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 => Ok(n as u64),
        _ => Err(invalid(
            argument,
            format!(
                "expected an id (a whole number ≥ 0), got {}",
                describe_value(v)
            ),
        )),
    }
}

fn describe_value(v: &JsValue) -> String {
    match v.as_f64() {
        Some(n) => n.to_string(),
        None => describe(v),
    }
}
