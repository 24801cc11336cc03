//! Sync after the tab closes, the page's part (docs/SYNC_MANAGER.md, "After the tab
//! closes"): the leader keeps its next push ready and sends it with
//! `fetch(…, { keepalive: true })` when the page hides. Core decides when to read it
//! again, what it holds and when it leaves (`idb_sync_core::sync_loop::Keepalive`,
//! `read_keepalive`); this file reads, listens and sends. Only in a window (a worker
//! has no `pagehide`) and with protocol v1 (an adapter's requests are not kept).
//! The answer is not read: the next session pushes the same seqs (`duplicate`).

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use idb_sync_core::sync_loop::{read_keepalive, Keepalive, KEEPALIVE_READ_GAP_MS};
use js_sys::{Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;

use super::inner::Inner;
use crate::interop::set;

#[wasm_bindgen]
extern "C" {
    /// `globalThis.fetch(url, init)` (web-sys's `RequestInit` has no `keepalive`).
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_with(url: &str, init: &Object) -> Promise;
}

/// What the keepalive's reading depends on: the counts, a round running, whether it
/// may read now.
type Part = (usize, usize, bool, bool);

/// A manager's keepalive (a field of [`Inner`]).
pub(crate) struct AfterClose {
    /// A window and protocol v1: else it never reads nor sends.
    enabled: bool,
    state: RefCell<Keepalive>,
    seen: Cell<Option<Part>>,
}

impl AfterClose {
    /// `enabled`: the transport speaks v1 itself; a window is checked here.
    pub(crate) fn new(v1: bool) -> AfterClose {
        AfterClose {
            enabled: v1 && super::triggers::globals().document().is_some(),
            state: RefCell::default(),
            seen: Cell::new(None),
        }
    }
}

impl Inner {
    /// Whether this tab runs the automatic loop (leads, auto sync on, not closed):
    /// only then is the keepalive kept and sent.
    fn runs_loop(&self) -> bool {
        let tabs = self.tabs.borrow();
        !self.closed.get() && tabs.is_leader() && tabs.scheduler().is_auto()
    }

    /// Whether to read the keepalive now: the loop runs here and the page is visible.
    /// A hidden page sent its body when it hid, and may be frozen at any moment: a
    /// read-only transaction left open by a frozen page would block the other tabs'
    /// writes (the loop does no IndexedDB work while frozen either).
    fn may_read(&self) -> bool {
        self.runs_loop() && super::triggers::is_visible() && !self.tabs.borrow().is_frozen()
    }

    /// The outbox may have changed (a local write): reads the keepalive again (one
    /// read at a time; changes during it ask for one more).
    pub(crate) fn keepalive_touched(self: &Rc<Self>) {
        if self.after_close.enabled && self.after_close.state.borrow_mut().touched() {
            spawn_local(keepalive_read(Rc::downgrade(self)));
        }
    }

    /// After an input: reads again when the counts, a round, the lead, auto sync, the
    /// visibility or the frozen state moved.
    pub(crate) fn keepalive_status(self: &Rc<Self>) {
        let part = {
            let tabs = self.tabs.borrow();
            let s = tabs.status();
            (s.pending, s.in_flight, s.syncing, self.may_read())
        };
        if self.after_close.seen.replace(Some(part)) != Some(part) {
            self.keepalive_touched();
        }
    }

    /// The page hides (`visibilitychange` to hidden, `pagehide`): sends the kept push
    /// if core says so, with the credentials held now.
    pub(crate) fn keepalive_hide(&self) {
        let token = self.credentials.cached();
        let running = self.runs_loop();
        let body = self
            .after_close
            .state
            .borrow_mut()
            .hide(running, token.is_some());
        let (Some(body), Some(token)) = (body, token) else {
            return;
        };
        let headers = Object::new();
        set(&headers, &"Content-Type".into(), &"application/json".into());
        if let Some(token) = token {
            set(
                &headers,
                &"Authorization".into(),
                &format!("Bearer {token}").into(),
            );
        }
        let init = Object::new();
        set(&init, &"method".into(), &"POST".into());
        set(&init, &"keepalive".into(), &true.into());
        set(&init, &"body".into(), &body.into());
        set(&init, &"headers".into(), &headers);
        // `{endpoint}/v1/events` → `{endpoint}/v1/push`.
        let base = self.live_url.trim_end_matches("events");
        let sent = fetch_with(&format!("{base}push"), &init);
        // A failure (offline, over the budget, server down) is caught and ignored:
        // the next session pushes the same entries.
        let ignore = Closure::<dyn FnMut(JsValue)>::new(|_| {});
        let _ = sent.catch(&ignore);
        ignore.forget(); // once per body: the page is going
    }
}

/// Reads the keepalive (outside the running loop: no body; while hidden or frozen: no
/// read, the body stays as the page hid with it), again as long as core asks.
async fn keepalive_read(weak: Weak<Inner>) {
    loop {
        let Some(inner) = weak.upgrade() else {
            return;
        };
        let body = match (inner.runs_loop(), inner.may_read()) {
            (true, false) => return inner.after_close.state.borrow_mut().skipped(),
            (true, true) => read_keepalive(&inner.storage, inner.engine.config()).await,
            (false, _) => Ok(None),
        };
        let again = inner
            .after_close
            .state
            .borrow_mut()
            .read(body.ok().flatten());
        if !again {
            return;
        }
        // Changes came during the read: read again, but not at once (a burst of
        // writes is read a few times a second, not once per write).
        drop(inner);
        gloo_timers::future::TimeoutFuture::new(KEEPALIVE_READ_GAP_MS).await;
    }
}
