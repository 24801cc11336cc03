//! `protocol: { kind: 'custom', push, pull }` (docs/ADAPTERS.md, "custom"): the
//! engine's v1 requests handed to the app's functions instead of `fetch`. `push(batch)`
//! gets the v1 push request and resolves to its results; `pull(cursor, request)` gets
//! the cursor (null on a first sync) and the v1 pull request and resolves to a page.
//! What a thrown error means is core's decision (`CustomFailure::answer`); the answer
//! itself is validated by the engine exactly as a server's.

use idb_sync_core::adapters::CustomFailure;
use idb_sync_core::ports::{TransportRequest, TransportResponse};
use idb_sync_core::protocol::Endpoint;
use idb_sync_core::SyncError as CoreError;
use js_sys::{Array, Function, Object, Promise, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::error::message_of;

/// The app's two functions.
pub(crate) struct CustomFunctions {
    /// `push(batch)`.
    pub(crate) push: Function,
    /// `pull(cursor, request)`.
    pub(crate) pull: Function,
}

impl CustomFunctions {
    /// Calls the function for `request` and answers what it resolved to as a 200 (an
    /// array of results becomes `{ results }`; `protocolVersion` and `serverTime`
    /// default to 1 and now), or what it threw as core decides.
    pub(crate) async fn send(
        &self,
        request: TransportRequest,
    ) -> Result<TransportResponse, CoreError> {
        let invalid = |what: &str| CoreError::Storage(format!("the v1 {what} request is not JSON"));
        let body = JSON::parse(&request.body).map_err(|_| invalid("engine's"))?;
        let called = match request.endpoint {
            Endpoint::Push => self.push.call1(&JsValue::NULL, &body),
            Endpoint::Pull => {
                let cursor = Reflect::get(&body, &"cursor".into()).unwrap_or(JsValue::NULL);
                self.pull.call2(&JsValue::NULL, &cursor, &body)
            }
        };
        let outcome = match called {
            Ok(value) => JsFuture::from(Promise::resolve(&value)).await,
            Err(thrown) => Err(thrown),
        };
        match outcome {
            Ok(answer) => Ok(TransportResponse {
                status: 200,
                retry_after_ms: None,
                body: completed(answer, request.endpoint)?,
            }),
            Err(thrown) => failure(&thrown).answer(),
        }
    }
}

/// The function's answer as v1 JSON: an array is `{ results }`; the protocol version,
/// the server time and (for a page) `status: 'ok'` are filled in when missing. A value
/// JSON cannot carry (a BigInt, a cycle, `undefined`) is an invalid answer, as from a
/// server.
fn completed(answer: JsValue, endpoint: Endpoint) -> Result<String, CoreError> {
    let invalid = || {
        CoreError::MalformedResponse(
            "protocol.custom: the function must resolve to an object (or, for push, an array of results)".into(),
        )
    };
    let object = if Array::is_array(&answer) {
        let object = Object::new();
        let _ = Reflect::set(&object, &"results".into(), &answer);
        object.into()
    } else if answer.is_object() {
        Object::assign(&Object::new(), answer.unchecked_ref()).into()
    } else {
        return Err(invalid());
    };
    let mut defaults = vec![
        ("protocolVersion", JsValue::from(1)),
        ("serverTime", JsValue::from(js_sys::Date::now())),
    ];
    if endpoint == Endpoint::Pull {
        defaults.push(("status", JsValue::from("ok")));
    }
    for (key, value) in defaults {
        let present = Reflect::get(&object, &key.into()).is_ok_and(|v| !v.is_undefined());
        if !present {
            let _ = Reflect::set(&object, &key.into(), &value);
        }
    }
    JSON::stringify(&object)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(invalid)
}

/// What the host reads from a thrown value: `status`, `code`, the message.
fn failure(thrown: &JsValue) -> CustomFailure {
    let field = |name: &str| Reflect::get(thrown, &name.into()).ok();
    CustomFailure {
        status: field("status").and_then(|v| v.as_f64()),
        code: field("code")
            .and_then(|v| v.as_string())
            .filter(|c| !c.is_empty()),
        message: format!("protocol.custom: {}", message_of(thrown)),
    }
}
