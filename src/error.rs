//! `SyncError`: the one error type thrown to JavaScript. In JS it is an `Error` whose
//! `name` is `"SyncError"`, with a stable machine-readable `code` (an
//! [`ErrorCode`], the package's one vocabulary: docs/ERRORS.md) and, where there is
//! one, a `cause` (the browser's `DOMException`), an HTTP `status` and the server's
//! `serverCode` (`server_error`), or a field `path` (`invalid_value`). Also owns
//! [`OrStorage`], the one way a failed browser call becomes a `SyncError`.

use idb_sync_core::ErrorCode;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::DomException;

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
    /// The table is not declared in the database's schema.
    #[error("unknown table `{0}`: declare it in the schema passed to open()")]
    UnknownTable(String),
    /// The index is not declared for the table.
    #[error("unknown index `{index}` on table `{table}`")]
    UnknownIndex {
        /// The table.
        table: String,
        /// The index asked for.
        index: String,
    },
    /// A record is not a plain object.
    #[error("invalid record for table `{table}`: {reason}")]
    InvalidRecord {
        /// The table.
        table: String,
        /// What is wrong.
        reason: String,
    },
    /// A value in a record or update cannot be synced (it would not come back the same
    /// on another device: see docs/PROTOCOL.md, "Values"). Nothing was written.
    #[error("invalid value in `{table}` at {error}")]
    InvalidValue {
        /// The table.
        table: String,
        /// Where the value is and what is wrong with it.
        error: idb_sync_core::value::ValueError,
    },
    /// A record has no key and the table does not generate keys.
    #[error("missing key for table `{0}`: its schema has no generated key, pass one")]
    MissingKey(String),
    /// A key is not a string or a finite number.
    #[error("invalid key for table `{table}`: {reason}")]
    InvalidKey {
        /// The table.
        table: String,
        /// What is wrong.
        reason: String,
    },
    /// `add` of a key that exists (known from reading the key, not from the browser's
    /// message).
    #[error("a record with key {key} already exists in `{table}`")]
    KeyExists {
        /// The table.
        table: String,
        /// The key, as JSON-ish text.
        key: String,
    },
    /// A unique index would hold the same value twice: the write's `ConstraintError`.
    #[error("unique index violated in `{table}`: {}: {}", .exception.name(), .exception.message())]
    UniqueViolation {
        /// The table.
        table: String,
        /// The browser's `ConstraintError` (the JS error's `cause`).
        exception: DomException,
    },
    /// `update` of a key that does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The schema passed to open() is malformed, or cannot be applied.
    #[error("{0}")]
    Schema(#[from] idb_sync_core::schema::SchemaError),
    /// Storage failed for a reason of ours (a row that cannot be decoded, ...).
    #[error("storage error: {0}")]
    Storage(String),
    /// The browser refused a call: a `DOMException`, kept whole. Its `name` decides
    /// what it stands for (never its message); it is the JS error's `cause`.
    #[error("storage error: {context}: {}: {}", .exception.name(), .exception.message())]
    Browser {
        /// What we were doing (`open`, `put state`, ...).
        context: String,
        /// The browser's exception.
        exception: DomException,
    },
    /// The database was closed.
    #[error("the database is closed")]
    Closed,
    /// An error from the sync core.
    #[error("{0}")]
    Core(#[from] idb_sync_core::SyncError),
}

impl SyncError {
    /// The code of this error in the package's one vocabulary.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            SyncError::InvalidArgument { .. } => ErrorCode::InvalidArgument,
            SyncError::UnknownTable(_) => ErrorCode::UnknownTable,
            SyncError::UnknownIndex { .. } => ErrorCode::UnknownIndex,
            SyncError::InvalidRecord { .. } => ErrorCode::InvalidRecord,
            SyncError::InvalidValue { .. } => ErrorCode::InvalidValue,
            SyncError::MissingKey(_) => ErrorCode::MissingKey,
            SyncError::InvalidKey { .. } => ErrorCode::InvalidKey,
            SyncError::KeyExists { .. } => ErrorCode::KeyExists,
            SyncError::UniqueViolation { .. } => ErrorCode::UniqueViolation,
            SyncError::NotFound(_) => ErrorCode::NotFound,
            SyncError::Schema(e) => e.error_code(),
            SyncError::Storage(_) => ErrorCode::StorageError,
            // Told by the exception's name (core's rule): a full disk is `quota_exceeded`.
            SyncError::Browser { exception, .. } => {
                idb_sync_core::SyncError::storage_failure(&exception.name(), String::new())
                    .error_code()
            }
            SyncError::Closed => ErrorCode::DatabaseClosed,
            SyncError::Core(e) => e.error_code(),
        }
    }

    /// The stable code of this error, as seen by JavaScript in `error.code`.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// A value thrown by a browser call, `context` naming the call: a `DOMException`
    /// stays whole ([`SyncError::Browser`]); anything else is described.
    pub(crate) fn thrown(context: &str, thrown: JsValue) -> SyncError {
        match thrown.dyn_into::<DomException>() {
            Ok(exception) => SyncError::Browser {
                context: context.into(),
                exception,
            },
            Err(other) => SyncError::Storage(format!("{context}: {other:?}")),
        }
    }

    /// The `error` of a failed IndexedDB request or transaction (`None`: unknown).
    pub(crate) fn failed(context: &str, exception: Option<DomException>) -> SyncError {
        match exception {
            Some(exception) => SyncError::Browser {
                context: context.into(),
                exception,
            },
            None => SyncError::Storage(format!("{context}: unknown IndexedDB error")),
        }
    }

    /// The JS value that caused this error, for `error.cause`.
    fn cause(&self) -> Option<&JsValue> {
        match self {
            SyncError::Browser { exception, .. } | SyncError::UniqueViolation { exception, .. } => {
                Some(exception)
            }
            _ => None,
        }
    }
}

/// The error-mapping extension: `call().or_storage("while …")?` turns what a browser
/// call threw into a [`SyncError`] (see [`SyncError::thrown`]), instead of a
/// hand-written `map_err` closure at every call.
pub(crate) trait OrStorage<T> {
    /// The thrown value as a [`SyncError`], `context` naming the call.
    fn or_storage(self, context: &str) -> Result<T, SyncError>;
}

impl<T> OrStorage<T> for Result<T, JsValue> {
    fn or_storage(self, context: &str) -> Result<T, SyncError> {
        self.map_err(|e| SyncError::thrown(context, e))
    }
}

/// Builds a JS `Error` named `SyncError` with `code`, `message` and `cause`.
pub(crate) fn js_error(code: &str, message: &str, cause: Option<&JsValue>) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name("SyncError");
    // Setting plain data properties on a fresh Error object cannot fail.
    set(&error, "code", &code.into());
    if let Some(cause) = cause {
        set(&error, "cause", cause);
    }
    error.unchecked_into()
}

/// The error-mapping extension for the core's errors: `fetch(..).await.or_network()?`
/// says the request got no answer (`network_error`), keeping the failure's text.
pub(crate) trait OrNetwork<T> {
    /// The failure as [`idb_sync_core::SyncError::Network`].
    fn or_network(self) -> Result<T, idb_sync_core::SyncError>;
}

impl<T, E: std::fmt::Display> OrNetwork<T> for Result<T, E> {
    fn or_network(self) -> Result<T, idb_sync_core::SyncError> {
        self.map_err(|e| idb_sync_core::SyncError::Network(e.to_string()))
    }
}

/// Sets a data property of a fresh error object (which cannot fail).
pub(crate) fn set(error: &JsValue, name: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(error, &name.into(), value);
}

impl From<SyncError> for JsValue {
    fn from(error: SyncError) -> JsValue {
        let js = js_error(error.code(), &error.to_string(), error.cause());
        match &error {
            SyncError::Core(core) => {
                if let idb_sync_core::SyncError::Server { status, .. } = core {
                    set(&js, "status", &JsValue::from(*status));
                }
                if let Some(code) = core.server_code() {
                    set(&js, "serverCode", &code.into());
                }
            }
            SyncError::InvalidValue { error, .. } => {
                set(&js, "path", &error.path.to_string().into());
            }
            _ => {}
        }
        js
    }
}
