//! The small options: `clientId` (refused), `autoSync`, `adopt`, `live` and
//! `persistStorage`.

use super::{OptionError, OptionValue};
use crate::outbox::AdoptMode;
use crate::ErrorCode;

/// `clientId` may not be given: a chosen id is reused by a fresh database and its
/// writes are lost (docs/INVARIANTS.md, I11).
pub(crate) fn client_id(v: &OptionValue) -> Result<(), OptionError> {
    if v.is_absent() {
        return Ok(());
    }
    Err(OptionError::new(
        ErrorCode::InvalidClientId,
        "clientId",
        "the client id is minted by idb-sync for each database and cannot be set",
    ))
}

/// `autoSync`: a boolean, default `true`.
pub(crate) fn auto_sync(v: &OptionValue) -> Result<bool, OptionError> {
    if v.is_absent() {
        return Ok(true);
    }
    v.as_bool().ok_or_else(|| {
        OptionError::new(ErrorCode::InvalidAutoSync, "autoSync", "expected a boolean")
    })
}

/// `live`: a boolean, default `true`.
pub(crate) fn live(v: &OptionValue) -> Result<bool, OptionError> {
    if v.is_absent() {
        return Ok(true);
    }
    v.as_bool()
        .ok_or_else(|| OptionError::new(ErrorCode::InvalidLive, "live", "expected a boolean"))
}

/// `persistStorage`: a boolean, default `false`.
pub(crate) fn persist_storage(v: &OptionValue) -> Result<bool, OptionError> {
    if v.is_absent() {
        return Ok(false);
    }
    v.as_bool().ok_or_else(|| {
        OptionError::new(
            ErrorCode::InvalidPersistStorage,
            "persistStorage",
            "expected a boolean",
        )
    })
}

/// `adopt`: `'push'` (default), `'pull'` or `'none'` (see `docs/STORAGE.md`).
pub(crate) fn adopt(v: &OptionValue) -> Result<AdoptMode, OptionError> {
    if v.is_absent() {
        return Ok(AdoptMode::default());
    }
    v.as_str().and_then(AdoptMode::parse).ok_or_else(|| {
        OptionError::new(
            ErrorCode::InvalidAdopt,
            "adopt",
            "expected 'push', 'pull' or 'none'",
        )
    })
}
