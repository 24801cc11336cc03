//! All JS↔Rust conversion of plain data, in one place: serde values to JavaScript and
//! back, both through JSON (the one JSON path: serde_json, which the wire needs
//! anyway; `JSON.parse` and `JSON.stringify` on the JavaScript side), and property
//! access on JS objects.
//!
//! The app's records and values have their own codec, [`crate::value`] (Dates, the
//! wire form); a key's sync-state row has [`crate::storage::row`], and the client
//! metadata and an in-flight entry (on every record's path) [`crate::storage::codec`].
//!
//! Also the one async dispatcher: every exported async method returns the promise of
//! [`promise`] (declared with [`export_async!`]), so that wasm-bindgen-futures' promise
//! glue is in the module once instead of once per method (BENCHMARKS.md, "Package size").

use std::future::Future;
use std::pin::Pin;

use js_sys::Promise;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

use crate::error::SyncError;

/// `value` as a JS value, through JSON (serde_json, then `JSON.parse`): serde_json's
/// serializers are in the module anyway for the wire, so no second serializer (and no
/// second copy of each type's `Serialize` code) is. Maps become plain objects, `None`
/// `null`, integers numbers.
pub(crate) fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, String> {
    let json = serde_json::to_string(value).map_err(|e| e.to_string())?;
    js_sys::JSON::parse(&json).map_err(|_| "not JSON".to_owned())
}

/// `value` as a JS view for the app (`undefined` if it does not serialize, which the
/// package's own view types always do).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the wasm-only `sync` module
pub(crate) fn view<T: Serialize + ?Sized>(value: &T) -> JsValue {
    to_js(value).unwrap_or(JsValue::UNDEFINED)
}

/// A JS value as `T`, read as JSON (`JSON.stringify`, then serde_json): what idb-sync
/// stores with [`encode`] is JSON-compatible, and serde_json's decoders are in the
/// module anyway for the wire, so serde-wasm-bindgen's are not.
pub(crate) fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, String> {
    let json = js_sys::JSON::stringify(&value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or("not JSON")?;
    serde_json::from_str(&json).map_err(|e| e.to_string())
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

/// The boxed future of an exported async method: what its promise resolves to, or the
/// error it rejects with.
pub(crate) type Call = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

/// The promise of an exported async method. Not generic, so that the promise glue of
/// `future_to_promise` exists once in the module.
#[inline(never)]
pub(crate) fn dispatch(call: Call) -> Promise {
    wasm_bindgen_futures::future_to_promise(call)
}

/// `future` as the promise of an exported async method: it resolves to the value and
/// rejects with the error, as an `async fn` export does.
pub(crate) fn promise<T, E>(future: impl Future<Output = Result<T, E>> + 'static) -> Promise
where
    T: Resolved,
    E: Into<JsValue>,
{
    dispatch(Box::pin(async move {
        future.await.map(Resolved::into_js).map_err(Into::into)
    }))
}

/// What an exported async method resolves to, as wasm-bindgen passes it (`()`:
/// `undefined`).
pub(crate) trait Resolved {
    /// The value the promise resolves to.
    fn into_js(self) -> JsValue;
}

impl Resolved for () {
    fn into_js(self) -> JsValue {
        JsValue::UNDEFINED
    }
}

macro_rules! resolved_into {
    ($($ty:ty),*) => {$(
        impl Resolved for $ty {
            fn into_js(self) -> JsValue {
                self.into()
            }
        }
    )*};
}
resolved_into!(
    JsValue,
    js_sys::Array,
    u32,
    crate::database::LocalDatabase,
    crate::sync::SyncManager
);

/// Exports async methods of a `Clone` type to JavaScript through [`promise`]: each
/// line `"jsName" as wrapper => method(arg: "ts type", ...) -> "Promise<T>";` declares
/// a JS method `jsName` (the Rust fn `wrapper`) that calls the Rust
/// `async fn method(&self, arg: JsValue, ...)` on a clone of `self`, with the typings
/// given (an argument without a type is `any`). Doc comments go on the line.
macro_rules! export_async {
    ($ty:ident { $(
        $(#[$($attr:tt)*])*
        $js:literal as $wrapper:ident => $method:ident($($arg:ident $(: $ts:literal)?),*) -> $ret:literal;
    )* }) => {
        #[wasm_bindgen::prelude::wasm_bindgen]
        impl $ty {
            $(
                $(#[$($attr)*])*
                #[wasm_bindgen(js_name = $js, unchecked_return_type = $ret)]
                pub fn $wrapper(
                    &self,
                    $($(#[wasm_bindgen(unchecked_param_type = $ts)])? $arg: wasm_bindgen::JsValue),*
                ) -> js_sys::Promise {
                    let this = self.clone();
                    $crate::interop::promise(async move { this.$method($($arg),*).await })
                }
            )*
        }
    };
}
pub(crate) use export_async;
