//! When to try the next sync round: exponential backoff with full jitter and a cap,
//! `Retry-After` honored, reset on success, and a wake-early signal (online, page
//! visible, `syncNow()`) that cuts the wait short.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Poll, Waker};

use crate::error::{ErrorClass, SyncError};
use crate::ports::Clock;

/// Backoff settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first delay's upper bound, ms.
    pub base_ms: u64,
    /// The largest delay, ms.
    pub cap_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base_ms: 1_000,
            cap_ms: 5 * 60_000,
        }
    }
}

/// What the loop should do after a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextStep {
    /// Try again after this many ms (or earlier if woken).
    RetryAfter(u64),
    /// Stop until the app acts (new credentials, an upgrade): wake it to try again.
    WaitForApp,
}

/// Backoff state of one sync loop.
#[derive(Clone, Debug, Default)]
pub struct Backoff {
    policy: RetryPolicy,
    failures: u32,
}

impl Backoff {
    /// A fresh backoff.
    pub fn new(policy: RetryPolicy) -> Self {
        Backoff {
            policy,
            failures: 0,
        }
    }

    /// Consecutive failures so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// A round succeeded: the next failure starts from the base delay again.
    pub fn on_success(&mut self) {
        self.failures = 0;
    }

    /// The upper bound of the next delay: `min(cap, base * 2^failures)`.
    pub fn ceiling_ms(&self) -> u64 {
        let factor = 1u64.checked_shl(self.failures.min(40)).unwrap_or(u64::MAX);
        self.policy
            .base_ms
            .saturating_mul(factor)
            .min(self.policy.cap_ms)
    }

    /// A round failed with `error`; `random` is a uniformly random `u64` (full
    /// jitter: the delay is uniform in `[0, ceiling]`). A `Retry-After` is honored as a
    /// lower bound.
    pub fn on_failure(&mut self, error: &SyncError, random: u64) -> NextStep {
        match error.class() {
            ErrorClass::Auth | ErrorClass::Fatal => NextStep::WaitForApp,
            ErrorClass::Rejected | ErrorClass::Transient => {
                let ceiling = self.ceiling_ms();
                self.failures = self.failures.saturating_add(1);
                let jittered = if ceiling == 0 {
                    0
                } else {
                    random % (ceiling + 1)
                };
                NextStep::RetryAfter(jittered.max(error.retry_after_ms().unwrap_or(0)))
            }
        }
    }
}

/// A wake-early signal: `wake()` ends the current [`wait`] at once. Clones share it.
#[derive(Clone, Debug, Default)]
pub struct WakeSignal {
    woken: Rc<Cell<bool>>,
    waker: Rc<RefCell<Option<Waker>>>,
}

impl WakeSignal {
    /// A new signal.
    pub fn new() -> Self {
        Self::default()
    }

    /// Wakes the waiting loop (online, visible, `syncNow()`).
    pub fn wake(&self) {
        self.woken.set(true);
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    /// Consumes a pending wake-up, if any.
    pub fn take(&self) -> bool {
        self.woken.replace(false)
    }
}

/// Why [`wait`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitEnd {
    /// The delay elapsed.
    Elapsed,
    /// The signal fired first.
    Woken,
}

/// Sleeps `ms` on `clock`, or less if `signal` fires.
pub async fn wait<C: Clock>(clock: &C, ms: u64, signal: &WakeSignal) -> WaitEnd {
    if signal.take() {
        return WaitEnd::Woken;
    }
    let mut sleep = pin!(clock.sleep(ms));
    poll_fn(|cx| {
        if signal.take() {
            return Poll::Ready(WaitEnd::Woken);
        }
        if sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(WaitEnd::Elapsed);
        }
        *signal.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    })
    .await
}
