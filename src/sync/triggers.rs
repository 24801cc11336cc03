//! What the sync loop reads of its environment, through `globalThis` so that it works
//! in a window and in a worker alike: `navigator.onLine` and the page's visibility
//! (a worker has no `document`: it counts as visible), and [`globals`] to reach
//! `navigator` and `document` when present. (Timers and listeners are `gloo` handles
//! that clean up on drop: see `wiring.rs` and `inner.rs`.)

use idb_sync_core::sync_loop::tabs::Browser;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// `globalThis`: a `Window` or a `WorkerGlobalScope`.
    pub(crate) type Global;

    /// `globalThis.navigator` (absent in some runtimes).
    #[wasm_bindgen(method, getter, structural)]
    pub(crate) fn navigator(this: &Global) -> Option<Navigator>;

    /// `globalThis.document` (absent in a worker).
    #[wasm_bindgen(method, getter, structural)]
    pub(crate) fn document(this: &Global) -> Option<web_sys::Document>;

    /// A window's `Navigator` or a worker's `WorkerNavigator`.
    pub(crate) type Navigator;

    /// `navigator.onLine` (absent in some runtimes).
    #[wasm_bindgen(method, getter, structural, js_name = onLine)]
    fn on_line(this: &Navigator) -> Option<bool>;
}

/// `globalThis`.
pub(crate) fn globals() -> Global {
    js_sys::global().unchecked_into()
}

/// `navigator.onLine` (true when unknown).
pub(crate) fn is_online() -> bool {
    globals()
        .navigator()
        .and_then(|n| n.on_line())
        .unwrap_or(true)
}

/// Whether the page is visible (true when unknown, and in a worker).
pub(crate) fn is_visible() -> bool {
    globals()
        .document()
        .map(|d| d.visibility_state() != web_sys::VisibilityState::Hidden)
        .unwrap_or(true)
}

/// Online and visibility together, for the tab machine.
pub(crate) fn browser() -> Browser {
    Browser {
        online: is_online(),
        visible: is_visible(),
    }
}
