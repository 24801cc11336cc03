//! The panic registry: wasm aborts on panic, so the package cannot go on. The hook
//! (installed once, by the first `SyncManager.open`) logs the panic, remembers its
//! message (every later call rejects with `panicked`) and puts every live manager in
//! a clear error state.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use super::inner::Inner;

thread_local! {
    static MANAGERS: RefCell<Vec<Weak<Inner>>> = const { RefCell::new(Vec::new()) };
    static PANICKED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs (once) the panic hook.
pub(crate) fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = info.to_string();
            web_sys::console::error_1(&format!("idb-sync panicked: {message}").into());
            PANICKED.with(|p| {
                if let Ok(mut p) = p.try_borrow_mut() {
                    *p = Some(message.clone());
                }
            });
            let managers = MANAGERS.with(|m| m.try_borrow().map(|m| m.clone()).unwrap_or_default());
            for inner in managers.iter().filter_map(Weak::upgrade) {
                inner.mark_broken(&message);
            }
        }));
    });
}

/// The panic message, if the package panicked.
pub(crate) fn panicked() -> Option<String> {
    PANICKED.with(|p| p.try_borrow().ok().and_then(|p| p.clone()))
}

/// Registers a manager, so that a panic marks it broken.
pub(crate) fn register(inner: &Rc<Inner>) {
    MANAGERS.with(|m| {
        let mut m = m.borrow_mut();
        m.retain(|w| w.strong_count() > 0);
        m.push(Rc::downgrade(inner));
    });
}
