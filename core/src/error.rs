//! The crate's one error type, [`SyncError`], with stable codes and error classes.

/// How the sync loop reacts to an error (see [`crate::retry`]). Serialized in
/// camelCase (`auth`, `rejected`, `transient`, `fatal`) in the sync status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ErrorClass {
    /// Credentials are missing or refused: stop until the app signs in again.
    Auth,
    /// The server refused the content: the items are rejected, the queue moves on.
    Rejected,
    /// Network, 5xx, 429, malformed answers, storage hiccups: retry with backoff.
    Transient,
    /// Nothing will change by retrying (protocol upgrade, a bug): stop and report.
    Fatal,
}

/// Every error idb-sync-core returns. `code()` is stable and shown to JavaScript.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SyncError {
    /// The storage port failed (IndexedDB error, quota, a crash in the simulation).
    #[error("storage failed: {0}")]
    Storage(String),
    /// The request did not reach the server or its answer did not come back.
    #[error("network error: {0}")]
    Network(String),
    /// The server answered with an HTTP error status.
    #[error("server error (HTTP {status}, {code}): {message}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The error code of the server's JSON error body, or `http_<status>`.
        code: String,
        /// Human-readable message.
        message: String,
        /// The `Retry-After` the server asked for, in milliseconds.
        retry_after_ms: Option<u64>,
    },
    /// The server refused our credentials (after one refresh).
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The server no longer speaks our protocol version.
    #[error("protocol upgrade required: {0}")]
    UpgradeRequired(String),
    /// The server's answer broke the protocol; nothing of it was applied.
    #[error("malformed server answer: {0}")]
    MalformedResponse(String),
    /// An API call asked for something impossible (update of a missing record, ...).
    #[error("invalid operation: {0}")]
    InvalidOperation(String),
    /// The record, conflict or dead letter asked for does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The server says this database's data belongs to another account than the one
    /// signed in (I10). Nothing was sent or applied; sync stays stopped until the app
    /// decides what to do with the local data (`resolve_account_change`).
    #[error("account changed: {0}")]
    AccountChanged(String),
    /// A request the server rejected as a whole and that cannot be split further.
    #[error("request rejected ({code}): {message}")]
    RequestRejected {
        /// The server's error code.
        code: String,
        /// The server's message.
        message: String,
    },
}

impl SyncError {
    /// A stable, machine-readable code (`snake_case`), part of the public API.
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::Storage(_) => "storage_error",
            SyncError::Network(_) => "network_error",
            SyncError::Server { .. } => "server_error",
            SyncError::Auth(_) => "auth_failed",
            SyncError::UpgradeRequired(_) => "upgrade_required",
            SyncError::MalformedResponse(_) => "malformed_response",
            SyncError::InvalidOperation(_) => "invalid_operation",
            SyncError::NotFound(_) => "not_found",
            SyncError::RequestRejected { .. } => "request_rejected",
            SyncError::AccountChanged(_) => "account_changed",
        }
    }

    /// How the sync loop should react to this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            SyncError::Auth(_) => ErrorClass::Auth,
            SyncError::RequestRejected { .. } => ErrorClass::Rejected,
            SyncError::InvalidOperation(_) | SyncError::NotFound(_) => ErrorClass::Rejected,
            SyncError::UpgradeRequired(_) | SyncError::AccountChanged(_) => ErrorClass::Fatal,
            SyncError::Storage(_)
            | SyncError::Network(_)
            | SyncError::Server { .. }
            | SyncError::MalformedResponse(_) => ErrorClass::Transient,
        }
    }

    /// The delay the server asked for before the next try, if any.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            SyncError::Server { retry_after_ms, .. } => *retry_after_ms,
            _ => None,
        }
    }
}
