//! `SyncError`: the one error type thrown to JavaScript. In JS it is an `Error` whose
//! `name` is `"SyncError"`, with a stable machine-readable `code` and, where there is
//! one, a `cause`, an HTTP `status` (`server_error`) or a field `path` (`invalid_value`).

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
    /// `add` of a key that exists.
    #[error("a record with this key already exists in `{table}`: {detail}")]
    KeyExists {
        /// The table.
        table: String,
        /// The browser's message.
        detail: String,
    },
    /// A unique index would hold the same value twice.
    #[error("unique index violated in `{table}`: {detail}")]
    UniqueViolation {
        /// The table.
        table: String,
        /// The browser's message.
        detail: String,
    },
    /// `update` of a key that does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The schema passed to open() is malformed, or cannot be applied.
    #[error("{0}")]
    Schema(#[from] idb_sync_core::schema::SchemaError),
    /// IndexedDB failed (the DOMException's name and message are included).
    #[error("storage error: {0}")]
    Storage(String),
    /// The database was closed.
    #[error("the database is closed")]
    Closed,
    /// An error from the sync core.
    #[error("{0}")]
    Core(#[from] idb_sync_core::SyncError),
}

impl SyncError {
    /// The stable code of this error, as seen by JavaScript in `error.code`.
    pub fn code(&self) -> &str {
        match self {
            SyncError::InvalidArgument { .. } => "invalid_argument",
            SyncError::Network(_) => "network",
            SyncError::MalformedResponse(_) => "malformed_response",
            SyncError::Server { .. } => "server_error",
            SyncError::UnknownTable(_) => "unknown_table",
            SyncError::UnknownIndex { .. } => "unknown_index",
            SyncError::InvalidRecord { .. } => "invalid_record",
            SyncError::InvalidValue { .. } => "invalid_value",
            SyncError::MissingKey(_) => "missing_key",
            SyncError::InvalidKey { .. } => "invalid_key",
            SyncError::KeyExists { .. } => "key_exists",
            SyncError::UniqueViolation { .. } => "unique_violation",
            SyncError::NotFound(_) => "not_found",
            SyncError::Schema(e) => e.code(),
            SyncError::Storage(_) => "storage_error",
            SyncError::Closed => "database_closed",
            SyncError::Core(e) => e.code(),
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
        if let SyncError::InvalidValue { error, .. } = &error {
            let _ = js_sys::Reflect::set(&js_error, &"path".into(), &error.path.to_string().into());
        }
        js_error.unchecked_into()
    }
}
