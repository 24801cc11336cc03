//! `SyncError`: the one error type thrown to JavaScript. In JS it is an `Error` whose
//! `name` is `"SyncError"`, with a stable machine-readable `code` and, where there is
//! one, a `cause`.

use wasm_bindgen::{JsCast, JsValue};

/// Everything that can go wrong in a call from JavaScript. Each variant has a stable
/// code (see [`SyncError::code`]) that apps can match on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// An argument from JavaScript is not what the API accepts.
    #[error("invalid argument `{argument}`: {reason}")]
    InvalidArgument {
        /// The argument's name.
        argument: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The server could not be reached (offline, refused, DNS, CORS).
    #[error("network error: {0}")]
    Network(String),
    /// The server answered, but not with what the protocol says.
    #[error("malformed server response: {0}")]
    MalformedResponse(String),
    /// The server answered with an error status.
    #[error("server answered {status} ({code}): {message}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// The server's error code.
        code: String,
        /// The server's message.
        message: String,
    },
}

impl SyncError {
    /// The stable code of this error, as seen by JavaScript in `error.code`.
    pub fn code(&self) -> &str {
        match self {
            SyncError::InvalidArgument { .. } => "invalid_argument",
            SyncError::Network(_) => "network",
            SyncError::MalformedResponse(_) => "malformed_response",
            SyncError::Server { .. } => "server_error",
        }
    }
}

impl From<SyncError> for JsValue {
    fn from(error: SyncError) -> JsValue {
        let js_error = js_sys::Error::new(&error.to_string());
        js_error.set_name("SyncError");
        // Setting plain data properties on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&js_error, &"code".into(), &error.code().into());
        if let SyncError::Server { status, .. } = &error {
            let _ = js_sys::Reflect::set(&js_error, &"status".into(), &JsValue::from(*status));
        }
        js_error.unchecked_into()
    }
}
