//! [`BrowserClock`]: the core's `Clock` port over `Date.now()` and a `gloo` timer,
//! [`monotonic_ms`] for the leader's heartbeat, and [`random_u64`] for the backoff's
//! jitter.

use idb_sync_core::ports::Clock;
use wasm_bindgen::JsCast;

/// The browser's wall clock.
#[derive(Clone, Copy, Default)]
pub(crate) struct BrowserClock;

/// Milliseconds since the epoch.
pub(crate) fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Milliseconds on a monotonic clock (`performance.now()`; `Date.now()` without it),
/// for measuring silences: unlike the wall clock it never jumps.
pub(crate) fn monotonic_ms() -> f64 {
    let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).ok();
    let now = performance.as_ref().and_then(|p| {
        let f: js_sys::Function = js_sys::Reflect::get(p, &"now".into())
            .ok()?
            .dyn_into()
            .ok()?;
        f.call0(p).ok()?.as_f64()
    });
    now.unwrap_or_else(js_sys::Date::now)
}

/// A uniformly random `u64` (`Math.random()` is enough for jitter).
pub(crate) fn random_u64() -> u64 {
    let high = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    let low = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    (high << 32) | low
}

impl Clock for BrowserClock {
    fn now_ms(&self) -> u64 {
        now_ms()
    }

    /// A random UUID v7 (a new client identity after `client_id_reused`).
    fn new_client_id(&self, _previous: &str) -> String {
        uuid::Uuid::now_v7().to_string()
    }

    async fn sleep(&self, ms: u64) {
        gloo_timers::future::TimeoutFuture::new(ms.min(i32::MAX as u64) as u32).await;
    }
}
