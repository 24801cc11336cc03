//! A virtual clock: time moves only when told to (or when someone sleeps).

use std::cell::Cell;
use std::rc::Rc;

use crate::ports::Clock;

/// A shared virtual clock; clones see the same time. `skew_ms` shifts what this
/// handle reports (a device whose clock is wrong).
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    now: Rc<Cell<u64>>,
    skew_ms: i64,
}

impl ManualClock {
    /// A clock at `start_ms`.
    pub fn new(start_ms: u64) -> Self {
        ManualClock {
            now: Rc::new(Cell::new(start_ms)),
            skew_ms: 0,
        }
    }

    /// A handle on the same time that reads `skew_ms` off.
    pub fn skewed(&self, skew_ms: i64) -> Self {
        ManualClock {
            now: self.now.clone(),
            skew_ms,
        }
    }

    /// Moves time forward.
    pub fn advance(&self, ms: u64) {
        self.now.set(self.now.get() + ms);
    }

    /// The true (unskewed) time.
    pub fn true_now(&self) -> u64 {
        self.now.get()
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        crate::hlc::corrected_now(self.now.get(), self.skew_ms)
    }

    async fn sleep(&self, ms: u64) {
        self.advance(ms);
    }
}
