//! Test hooks, compiled only with the cargo feature `test-hooks` and so never in the
//! shipped package (`scripts/check-package` proves it). Fault injection for the
//! browser tests (hidden from the docs): proves docs/INVARIANTS.md, I1 by failing a
//! write after the record is written and before its outbox entry is (as a storage
//! error, or as the browser's `QuotaExceededError` for a full disk); and the phrase
//! that `SyncManager.__panicForTests` (hidden, not in the typings) requires before it
//! panics, for the e2e test of the panic hook.

use std::cell::Cell;

use web_sys::DomException;

use crate::error::SyncError;

thread_local! {
    static FAIL_NEXT_WRITE: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Makes the next local write fail between writing the record and writing its
/// outbox entry (inside the transaction).
#[doc(hidden)]
pub fn fail_next_write_between_data_and_outbox() {
    FAIL_NEXT_WRITE.with(|f| f.set(Some(false)));
}

/// Makes the next local write fail at the same place with the browser's
/// `QuotaExceededError` (a `DOMException`), as a full disk does.
#[doc(hidden)]
pub fn fail_next_write_for_quota() {
    FAIL_NEXT_WRITE.with(|f| f.set(Some(true)));
}

/// The fault the next local write meets, if one was asked for (taken).
pub(crate) fn take_fault() -> Option<SyncError> {
    let quota = FAIL_NEXT_WRITE.with(|f| f.take())?;
    Some(if quota {
        SyncError::Browser {
            context: "put state".into(),
            exception: DomException::new_with_message_and_name(
                "injected: the quota has been exceeded",
                "QuotaExceededError",
            )
            .expect("a DOMException"),
        }
    } else {
        SyncError::Storage("injected fault between the data write and the outbox write".into())
    })
}

/// The argument `SyncManager.__panicForTests(confirm)` requires before it panics.
#[doc(hidden)]
pub const PANIC_CONFIRMATION: &str = "idb-sync: panic for tests";
