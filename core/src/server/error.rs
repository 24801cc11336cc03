//! Errors of the server rules, each with its HTTP status and stable code.

use crate::protocol::ErrorBody;
use crate::ErrorCode;

/// A request the server answers with an HTTP error.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ServerError {
    /// The request is malformed (400, `bad_request`).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The cursor is not one this server issued (400, `bad_cursor`).
    #[error("bad cursor: {0}")]
    BadCursor(String),
    /// The client speaks a protocol version the server does not (426, `upgrade_required`).
    #[error("protocol version {0} is not supported")]
    UpgradeRequired(u32),
    /// Too many mutations in one push (413, `payload_too_large`).
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    /// The request names an account that is not the authenticated user (409,
    /// `account_changed`): the client's local data belongs to another account (I10).
    #[error("this database's data belongs to account {claimed:?}, but the request is authenticated as another user")]
    AccountChanged {
        /// The account the request named.
        claimed: String,
    },
    /// A `(clientId, seq)` came back with other content, or below the seqs the client
    /// already moved past (409, `client_id_reused`): take a new client id (I11).
    #[error("client id reused: {0}")]
    ClientIdReused(String),
    /// The database failed (500, `internal`); the transaction is rolled back.
    #[error("store failed: {0}")]
    Store(String),
}

impl ServerError {
    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            ServerError::BadRequest(_) | ServerError::BadCursor(_) => 400,
            ServerError::UpgradeRequired(_) => 426,
            ServerError::PayloadTooLarge(_) => 413,
            ServerError::AccountChanged { .. } | ServerError::ClientIdReused(_) => 409,
            ServerError::Store(_) => 500,
        }
    }

    /// The stable error code of the JSON body.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The code in the package's one vocabulary (`crate::ErrorCode`).
    pub fn error_code(&self) -> ErrorCode {
        match self {
            ServerError::BadRequest(_) => ErrorCode::BadRequest,
            ServerError::BadCursor(_) => ErrorCode::BadCursor,
            ServerError::UpgradeRequired(_) => ErrorCode::UpgradeRequired,
            ServerError::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            ServerError::AccountChanged { .. } => ErrorCode::AccountChanged,
            ServerError::ClientIdReused(_) => ErrorCode::ClientIdReused,
            ServerError::Store(_) => ErrorCode::Internal,
        }
    }

    /// The JSON error body.
    pub fn to_body(&self) -> ErrorBody {
        let mut body = ErrorBody::new(self.code(), self.to_string());
        if let ServerError::UpgradeRequired(_) = self {
            body.error.supported_versions = Some(vec![crate::PROTOCOL_VERSION]);
        }
        body
    }
}
