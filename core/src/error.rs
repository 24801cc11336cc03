//! The crate's one error type, [`SyncError`], with stable codes (an [`ErrorCode`],
//! the package's one vocabulary) and error classes.

use crate::error_code::ErrorCode;

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
    /// The browser refused a write for its storage quota; nothing of it was written.
    #[error("storage quota exceeded: {0}")]
    QuotaExceeded(String),
    /// The request did not reach the server or its answer did not come back.
    #[error("network error: {0}")]
    Network(String),
    /// The transport refuses to send because the sync manager was closed.
    #[error("{0}")]
    Closed(String),
    /// The transport refuses to send, or drops an answer, because this tab no longer
    /// runs the sync loop (docs/INVARIANTS.md, I7): another tab does.
    #[error("{0}")]
    NotLeader(String),
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
    /// No credentials could be had (`getToken()` threw or returned no token).
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The server refused our credentials (401/403, after one refresh).
    #[error("authentication failed: {message}")]
    Unauthorized {
        /// The server's error code (`missing_token`, `invalid_token`, `token_expired`, ...).
        code: String,
        /// The server's message.
        message: String,
    },
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
    /// The stable code of this error in the package's one vocabulary.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            SyncError::Storage(_) => ErrorCode::StorageError,
            SyncError::QuotaExceeded(_) => ErrorCode::QuotaExceeded,
            SyncError::Network(_) => ErrorCode::NetworkError,
            SyncError::Closed(_) => ErrorCode::ManagerClosed,
            SyncError::NotLeader(_) => ErrorCode::LeaderUnavailable,
            SyncError::Server { .. } => ErrorCode::ServerError,
            SyncError::Auth(_) | SyncError::Unauthorized { .. } => ErrorCode::AuthFailed,
            SyncError::UpgradeRequired(_) => ErrorCode::UpgradeRequired,
            SyncError::MalformedResponse(_) => ErrorCode::MalformedResponse,
            SyncError::InvalidOperation(_) => ErrorCode::InvalidOperation,
            SyncError::NotFound(_) => ErrorCode::NotFound,
            SyncError::RequestRejected { .. } => ErrorCode::RequestRejected,
            SyncError::AccountChanged(_) => ErrorCode::AccountChanged,
        }
    }

    /// A stable, machine-readable code (`snake_case`), part of the public API: the
    /// string of [`SyncError::error_code`].
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The code of the server's JSON error body, for an error the server answered
    /// (`rate_limited`, `payload_too_large`, `token_expired`, `internal`, ...; any
    /// string a server sends).
    pub fn server_code(&self) -> Option<&str> {
        match self {
            SyncError::Server { code, .. }
            | SyncError::Unauthorized { code, .. }
            | SyncError::RequestRejected { code, .. } => Some(code),
            _ => None,
        }
    }

    /// How the sync loop should react to this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            SyncError::Auth(_) | SyncError::Unauthorized { .. } => ErrorClass::Auth,
            SyncError::RequestRejected { .. } => ErrorClass::Rejected,
            SyncError::InvalidOperation(_) | SyncError::NotFound(_) => ErrorClass::Rejected,
            SyncError::UpgradeRequired(_) | SyncError::AccountChanged(_) => ErrorClass::Fatal,
            // Closed and NotLeader: the round stops; nothing is wrong with the data.
            // A full disk: the round wrote nothing and is retried with backoff (the
            // app or the browser may free space); never a stuck queue, never fatal.
            SyncError::Storage(_)
            | SyncError::QuotaExceeded(_)
            | SyncError::Network(_)
            | SyncError::Closed(_)
            | SyncError::NotLeader(_)
            | SyncError::Server { .. }
            | SyncError::MalformedResponse(_) => ErrorClass::Transient,
        }
    }

    /// A failure of the browser's storage, by the exception's `name` (never its
    /// message): `QuotaExceededError` is [`SyncError::QuotaExceeded`], anything else
    /// [`SyncError::Storage`].
    pub fn storage_failure(exception_name: &str, message: String) -> SyncError {
        match exception_name {
            "QuotaExceededError" => SyncError::QuotaExceeded(message),
            _ => SyncError::Storage(message),
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

#[cfg(test)]
mod tests {
    use super::{ErrorClass, SyncError};
    use crate::ErrorCode;

    fn server(status: u16, code: &str) -> SyncError {
        SyncError::Server {
            status,
            code: code.into(),
            message: "m".into(),
            retry_after_ms: None,
        }
    }

    #[test]
    fn every_variant_has_its_code_and_class() {
        let s = || "x".to_owned();
        let cases = [
            (
                SyncError::Storage(s()),
                ErrorCode::StorageError,
                ErrorClass::Transient,
            ),
            (
                SyncError::QuotaExceeded(s()),
                ErrorCode::QuotaExceeded,
                ErrorClass::Transient,
            ),
            (
                SyncError::Network(s()),
                ErrorCode::NetworkError,
                ErrorClass::Transient,
            ),
            (
                SyncError::Closed(s()),
                ErrorCode::ManagerClosed,
                ErrorClass::Transient,
            ),
            (
                SyncError::NotLeader(s()),
                ErrorCode::LeaderUnavailable,
                ErrorClass::Transient,
            ),
            (
                server(429, "rate_limited"),
                ErrorCode::ServerError,
                ErrorClass::Transient,
            ),
            (
                SyncError::Auth(s()),
                ErrorCode::AuthFailed,
                ErrorClass::Auth,
            ),
            (
                SyncError::UpgradeRequired(s()),
                ErrorCode::UpgradeRequired,
                ErrorClass::Fatal,
            ),
            (
                SyncError::MalformedResponse(s()),
                ErrorCode::MalformedResponse,
                ErrorClass::Transient,
            ),
            (
                SyncError::InvalidOperation(s()),
                ErrorCode::InvalidOperation,
                ErrorClass::Rejected,
            ),
            (
                SyncError::NotFound(s()),
                ErrorCode::NotFound,
                ErrorClass::Rejected,
            ),
            (
                SyncError::AccountChanged(s()),
                ErrorCode::AccountChanged,
                ErrorClass::Fatal,
            ),
            (
                SyncError::RequestRejected {
                    code: "bad_request".into(),
                    message: s(),
                },
                ErrorCode::RequestRejected,
                ErrorClass::Rejected,
            ),
        ];
        for (error, code, class) in cases {
            assert_eq!(
                (error.error_code(), error.class()),
                (code, class),
                "{error:?}"
            );
            assert_eq!(error.code(), code.as_str());
        }
    }

    #[test]
    fn closed_and_not_leader_are_not_network_errors() {
        for error in [
            SyncError::Closed("closed".into()),
            SyncError::NotLeader("not".into()),
        ] {
            assert_ne!(error.error_code(), ErrorCode::NetworkError, "{error:?}");
            assert_eq!(error.to_string(), error.to_string().trim());
        }
    }

    #[test]
    fn a_server_answer_keeps_the_servers_code() {
        for code in [
            "rate_limited",
            "payload_too_large",
            "internal",
            "some_custom_code",
        ] {
            assert_eq!(server(500, code).server_code(), Some(code));
        }
        let expired = SyncError::Unauthorized {
            code: "token_expired".into(),
            message: "x".into(),
        };
        assert_eq!(expired.server_code(), Some("token_expired"));
        assert_eq!(SyncError::Auth("x".into()).server_code(), None);
        assert_eq!(SyncError::Network("x".into()).server_code(), None);
    }

    #[test]
    fn a_full_disk_is_told_by_the_exceptions_name_and_retried() {
        let quota = SyncError::storage_failure("QuotaExceededError", "put: full".into());
        assert_eq!(quota.code(), "quota_exceeded");
        assert_eq!(
            quota.class(),
            ErrorClass::Transient,
            "retried, never a stuck loop"
        );
        for other in ["AbortError", "UnknownError", "DataError", "quota"] {
            let e = SyncError::storage_failure(other, "x".into());
            assert_eq!(e.code(), "storage_error", "{other}");
        }
    }
}
