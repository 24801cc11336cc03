//! Errors the sync manager throws besides the storage layer's: one code per invalid
//! option, and the manager's own states (closed, panicked); a refused `syncNow()`
//! (offline, no leader) is core's `Rejection`, see `answer.rs`. Thrown to JavaScript as a `SyncError` like every other error of the package; every code
//! is an [`ErrorCode`] (docs/ERRORS.md).

use idb_sync_core::sync_loop::tabs;
use idb_sync_core::ErrorCode;
use wasm_bindgen::{JsCast, JsValue};

pub(crate) use crate::error::js_error;

/// An error of the sync manager. [`ManagerError::code`] is stable.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ManagerError {
    /// An option of `SyncManager.open` is invalid; each option has its own code.
    #[error("invalid option `{option}`: {reason}")]
    InvalidOption {
        /// The option's path (`dbName`, `batch.maxCount`, ...).
        option: String,
        /// Its stable code (`invalid_endpoint`, ...).
        code: ErrorCode,
        /// What is wrong.
        reason: String,
    },
    /// An argument of a method is invalid.
    #[error("invalid argument `{argument}`: {reason}")]
    InvalidArgument {
        /// The argument's name.
        argument: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// `close()` was called.
    #[error("{}", tabs::CLOSED)]
    Closed,
    /// A panic happened inside the package; the manager no longer works.
    #[error("idb-sync panicked: {0}; reload the page")]
    Panicked(String),
    /// An error from the storage layer (its own code).
    #[error(transparent)]
    Storage(#[from] crate::error::SyncError),
    /// An error from the sync core (its own code).
    #[error(transparent)]
    Core(#[from] idb_sync_core::SyncError),
}

impl ManagerError {
    /// The code of this error in the package's one vocabulary.
    pub(crate) fn error_code(&self) -> ErrorCode {
        match self {
            ManagerError::InvalidOption { code, .. } => *code,
            ManagerError::InvalidArgument { .. } => ErrorCode::InvalidArgument,
            ManagerError::Closed => ErrorCode::ManagerClosed,
            ManagerError::Panicked(_) => ErrorCode::Panicked,
            ManagerError::Storage(e) => e.error_code(),
            ManagerError::Core(e) => e.error_code(),
        }
    }

    /// The stable code, seen by JavaScript as `error.code`.
    pub(crate) fn code(&self) -> &'static str {
        self.error_code().as_str()
    }
}

impl From<idb_sync_core::options::OptionError> for ManagerError {
    fn from(e: idb_sync_core::options::OptionError) -> Self {
        ManagerError::InvalidOption {
            option: e.option,
            code: e.code,
            reason: e.reason,
        }
    }
}

impl From<ManagerError> for JsValue {
    fn from(error: ManagerError) -> JsValue {
        match error {
            ManagerError::Storage(e) => e.into(),
            ManagerError::Core(e) => crate::error::SyncError::Core(e).into(),
            ManagerError::InvalidOption { ref option, .. } => {
                let js = js_error(error.code(), &error.to_string(), None);
                crate::error::set(&js, "option", &option.as_str().into());
                js
            }
            _ => js_error(error.code(), &error.to_string(), None),
        }
    }
}

/// The message of a thrown JS value.
pub(crate) fn message_of(value: &JsValue) -> String {
    if let Some(e) = value.dyn_ref::<js_sys::Error>() {
        return e.message().into();
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}
