//! Test hooks, compiled only with the cargo feature `test-hooks` and so never in the
//! shipped package (`scripts/check-package` proves it). Fault injection for the
//! browser tests (hidden from the docs): proves docs/INVARIANTS.md, I1 by failing a
//! write after the record is written and before its outbox entry is; and the phrase
//! that `SyncManager.__panicForTests` (hidden, not in the typings) requires before it
//! panics, for the e2e test of the panic hook.

use std::cell::Cell;

thread_local! {
    static FAIL_NEXT_WRITE: Cell<bool> = const { Cell::new(false) };
}

/// Makes the next local write fail between writing the record and writing its
/// outbox entry (inside the transaction).
#[doc(hidden)]
pub fn fail_next_write_between_data_and_outbox() {
    FAIL_NEXT_WRITE.with(|f| f.set(true));
}

pub(crate) fn take_fault() -> bool {
    FAIL_NEXT_WRITE.with(|f| f.replace(false))
}

/// The argument `SyncManager.__panicForTests(confirm)` requires before it panics.
#[doc(hidden)]
pub const PANIC_CONFIRMATION: &str = "idb-sync: panic for tests";
