//! All JS↔Rust conversion of plain data, in one place: serde values to and from
//! JavaScript with the one serializer set-up the package uses (JSON-compatible: maps
//! become plain objects, integers numbers), and property access on JS objects.
//!
//! The app's records and values have their own codec, [`crate::value`] (Dates, the
//! wire form); a key's sync-state row has [`crate::storage::row`].

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

use crate::error::SyncError;

/// The serializer every conversion to JavaScript uses.
fn serializer() -> serde_wasm_bindgen::Serializer {
    serde_wasm_bindgen::Serializer::json_compatible()
}

/// `value` as a JS value.
pub(crate) fn to_js<T: Serialize + ?Sized>(
    value: &T,
) -> Result<JsValue, serde_wasm_bindgen::Error> {
    value.serialize(&serializer())
}

/// `value` as a JS view for the app (`undefined` if it does not serialize, which the
/// package's own view types always do).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the wasm-only `sync` module
pub(crate) fn view<T: Serialize + ?Sized>(value: &T) -> JsValue {
    to_js(value).unwrap_or(JsValue::UNDEFINED)
}

/// A JS value as `T`.
pub(crate) fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, serde_wasm_bindgen::Error> {
    serde_wasm_bindgen::from_value(value)
}

/// `value` encoded for one of idb-sync's stores; `what` names it in the error.
pub(crate) fn encode<T: Serialize + ?Sized>(what: &str, value: &T) -> Result<JsValue, SyncError> {
    to_js(value).map_err(|e| SyncError::Storage(format!("encode {what}: {e}")))
}

/// A value read from one of idb-sync's stores; `what` names it in the error.
pub(crate) fn decode<T: DeserializeOwned>(what: &str, value: JsValue) -> Result<T, SyncError> {
    from_js(value).map_err(|e| SyncError::Storage(format!("{what} unreadable: {e}")))
}

/// [`decode`], with `undefined` and `null` read as `None`.
pub(crate) fn decode_opt<T: DeserializeOwned>(
    what: &str,
    value: JsValue,
) -> Result<Option<T>, SyncError> {
    if value.is_undefined() || value.is_null() {
        Ok(None)
    } else {
        decode(what, value).map(Some)
    }
}

/// Property `key` of `object` (`undefined` if `object` is not an object or lacks it).
pub(crate) fn get(object: &JsValue, key: &JsValue) -> JsValue {
    if object.is_object() {
        js_sys::Reflect::get(object, key).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// Sets property `key` of `object`, a plain object this package made (which cannot
/// refuse a data property).
pub(crate) fn set(object: &JsValue, key: &JsValue, value: &JsValue) {
    let _ = js_sys::Reflect::set(object, key, value);
}
