//! Multi-tab leadership (docs/INVARIANTS.md, I7): one tab per database runs the sync
//! loop. This file is the election over Web Locks.
//!
//! - [`Leadership`]: the Web Lock `idb-sync-leader:<dbName>`. The leader holds it for as
//!   long as it lives; other tabs queue for it in the background, so when the leader's
//!   tab closes (or it calls `close()`), the next tab's request is granted at once. A
//!   follower can also *steal* it (`steal: true`) from a frozen leader; the robbed tab
//!   learns it when its request promise rejects, stops leading and queues again.
//!   Without Web Locks (very old browsers) every tab leads.
//!   The heartbeat, its watch and what the tabs tell each other are decided in core
//!   (`idb_sync_core::sync_loop::tabs`); the channel is in `relay.rs`, the typed Web
//!   Locks bindings in `web_locks.rs`.
//!
//! A takeover, one follower at a time: several followers notice the silence at about
//! the same time. Each notes which tab holds the leader's lock (`navigator.locks.query()`
//! gives the holder's `clientId`), then asks for `idb-sync-candidate:<dbName>` with
//! `ifAvailable`; the one that gets it checks again that the *same* tab still holds the
//! lock and that the leader is still silent, steals, and lets the candidate lock go.
//! A follower that comes next sees a different holder (the new leader) and stands
//! down; one that finds the candidate lock taken waits another window. The browser's
//! lock manager decides: no random delays, no tie-breaking on the channel.

use std::cell::{Cell, OnceCell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::AbortController;

use idb_sync_core::sync_loop::tabs::{may_steal, still_holds, CandidateLock, Takeover};

use super::web_locks::{
    holder, lock_manager, own_client_id, request_quietly, LockManager, LockOptions,
};
use crate::interop::dispatch;

/// The Web Locks of a database: the leader's, and the one serializing takeovers.
struct Names {
    leader: String,
    candidate: String,
}

/// How a request for the leader's lock asks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Only if free right now (the callback gets `null` otherwise).
    IfAvailable,
    /// Wait in the queue (withdrawn through an `AbortController`).
    Queue,
    /// Take it from its holder, whose request then rejects with `AbortError`.
    Steal,
}

/// The held lock: the request that got it, and the function that releases it.
struct Held {
    request: u64,
    release: Function,
}

/// This tab's part in the election (shared by the lock callbacks).
struct Election {
    locks: LockManager,
    names: Names,
    /// This tab's id in `navigator.locks.query()`, learnt the first time it is needed
    /// (`Election::me`; inner `None`: the browser cannot say).
    me: OnceCell<Option<String>>,
    held: RefCell<Option<Held>>,
    queued: RefCell<Option<AbortController>>,
    next_request: Cell<u64>,
    /// The takeover attempts (their rules are core's [`Takeover`]).
    takeover: Cell<Takeover>,
    closed: Cell<bool>,
    /// Told `true` when this tab is granted the lock after waiting or stealing, and
    /// `false` when it is robbed.
    on_change: Box<dyn Fn(bool)>,
}

/// This tab's place in the election. Dropping it releases the lock or withdraws the
/// request.
pub(crate) struct Leadership {
    election: Option<Rc<Election>>,
}

/// An election joined whose first request for the lock is not answered yet
/// ([`Leadership::join`]). Dropping it releases the lock, if it was granted.
pub(crate) struct Joining {
    leadership: Leadership,
    first: Option<Pin<Box<dyn Future<Output = bool>>>>,
}

impl Joining {
    /// This tab's leadership handle and whether it leads now; if not, it waits for
    /// the lock in the background. (Without Web Locks every tab leads.)
    pub(crate) async fn decided(self) -> (Leadership, bool) {
        let Joining { leadership, first } = self;
        let (Some(election), Some(first)) = (leadership.election.clone(), first) else {
            return (leadership, true);
        };
        let leads = first.await && election.held.borrow().is_some();
        if !leads && election.queued.borrow().is_none() {
            election.queue();
        }
        (leadership, leads)
    }
}

impl Election {
    /// Updates the takeover attempts with `f`.
    fn takeover<R>(&self, f: impl FnOnce(&mut Takeover) -> R) -> R {
        let mut t = self.takeover.get();
        let r = f(&mut t);
        self.takeover.set(t);
        r
    }

    /// This tab's id in the lock manager: asked once, when first needed (before a
    /// round or a takeover), so that joining costs one lock request, not three.
    async fn me(&self) -> Option<String> {
        if let Some(me) = self.me.get() {
            return me.clone();
        }
        let me = own_client_id(&self.locks).await;
        let _ = self.me.set(me.clone());
        me
    }

    /// Asks for the leader's lock. The future tells whether the callback got it (it
    /// never resolves for a queued request that is withdrawn).
    fn acquire(self: &Rc<Self>, mode: Mode) -> Option<impl Future<Output = bool>> {
        let id = self.next_request.get() + 1;
        self.next_request.set(id);
        let options = match mode {
            Mode::IfAvailable => LockOptions::if_available(),
            Mode::Steal => LockOptions::steal(),
            Mode::Queue => {
                let abort = AbortController::new().ok()?;
                let options = LockOptions::queue(&abort.signal());
                if let Some(old) = self.queued.borrow_mut().replace(abort) {
                    old.abort();
                }
                options
            }
        };
        let mut decide = None;
        let decided = Promise::new(&mut |resolve, _| decide = Some(resolve));
        let decide = decide?;
        let this = self.clone();
        let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
            let granted = !lock.is_null() && !this.closed.get();
            let hold = granted.then(|| {
                Promise::new(&mut |release, _| {
                    *this.held.borrow_mut() = Some(Held {
                        request: id,
                        release,
                    });
                })
            });
            let _ = decide.call1(&JsValue::UNDEFINED, &granted.into());
            if granted && mode == Mode::Queue {
                (this.on_change)(true);
            }
            hold.map(JsValue::from).unwrap_or(JsValue::UNDEFINED)
        });
        let promise = self
            .locks
            .request(&self.names.leader, &options, callback.unchecked_ref())
            .ok()?;
        let this = self.clone();
        spawn_local(async move {
            // Settles when the lock is released, stolen, or the request withdrawn.
            let _ = JsFuture::from(promise).await;
            this.settled(id);
        });
        Some(async move {
            JsFuture::from(decided)
                .await
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false)
        })
    }

    /// Request `id` is over. If it still held the lock, this tab did not let it go:
    /// another tab stole it.
    fn settled(self: &Rc<Self>, id: u64) {
        let robbed = {
            let mut held = self.held.borrow_mut();
            let robbed = held.as_ref().is_some_and(|h| h.request == id);
            if robbed {
                *held = None;
            }
            robbed
        };
        if robbed && !self.closed.get() {
            (self.on_change)(false);
            self.queue();
        }
    }

    /// Waits in the queue for the lock (again).
    fn queue(self: &Rc<Self>) {
        if !self.closed.get() && self.held.borrow().is_none() {
            let _ = self.acquire(Mode::Queue);
        }
    }

    /// Withdraws the queued request, if any.
    fn withdraw(&self) {
        if let Some(abort) = self.queued.borrow_mut().take() {
            abort.abort();
        }
    }

    /// Lets the held lock go, if any (it passes to the next tab in the queue).
    fn let_go(&self) {
        let held = self.held.borrow_mut().take();
        if let Some(held) = held {
            let _ = held.release.call0(&JsValue::UNDEFINED);
        }
    }

    /// The takeover itself, under the candidate lock: steal only if core's
    /// [`may_steal`] says so (the same silent holder, still silent).
    async fn steal_from(
        self: &Rc<Self>,
        silent_holder: Option<String>,
        still_silent: impl FnOnce() -> bool,
    ) -> bool {
        let now_holder = holder(&self.locks, &self.names.leader).await.ok().flatten();
        let me = self.me().await;
        let holds = self.held.borrow().is_some();
        let steal = may_steal(
            silent_holder.as_deref(),
            now_holder.as_deref(),
            me.as_deref(),
            self.closed.get(),
            holds,
            still_silent,
        );
        if !steal {
            return false;
        }
        self.withdraw();
        let stolen = match self.acquire(Mode::Steal) {
            Some(granted) => granted.await,
            None => false,
        };
        if !stolen {
            self.queue();
        }
        stolen
    }
}

impl Leadership {
    /// Joins the election for `db_name`: asks for the lock at once (`ifAvailable`),
    /// so that the answer comes while the caller does other work; [`Joining::decided`]
    /// tells whether this tab leads. Later, `on_change(true)` says it took over and
    /// `on_change(false)` that another tab stole the lead (this tab then queues again).
    pub(crate) fn join(db_name: &str, on_change: impl Fn(bool) + 'static) -> Joining {
        let without = || Joining {
            leadership: Leadership { election: None },
            first: None,
        };
        let Some(locks) = lock_manager() else {
            return without();
        };
        let election = Rc::new(Election {
            locks,
            names: Names {
                leader: format!("idb-sync-leader:{db_name}"),
                candidate: format!("idb-sync-candidate:{db_name}"),
            },
            me: OnceCell::new(),
            held: RefCell::new(None),
            queued: RefCell::new(None),
            next_request: Cell::new(0),
            takeover: Cell::new(Takeover::default()),
            closed: Cell::new(false),
            on_change: Box::new(on_change),
        });
        // Is the lock free right now? (The callback runs at once either way.)
        let Some(first) = election.acquire(Mode::IfAvailable) else {
            return without();
        };
        Joining {
            leadership: Leadership {
                election: Some(election),
            },
            first: Some(Box::pin(first)),
        }
    }

    /// Whether this tab still holds the lock, asked of the browser's lock manager (a
    /// robbed tab may run a timer before it hears it was robbed). True when the
    /// browser cannot say, or has no Web Locks.
    pub(crate) async fn still_held(&self) -> bool {
        let Some(e) = &self.election else { return true };
        if e.held.borrow().is_none() {
            return false;
        }
        let holder = holder(&e.locks, &e.names.leader).await;
        let holder = holder.as_ref().map(Option::as_deref).map_err(|_| ());
        still_holds(e.me().await.as_deref(), holder)
    }

    /// Gives the lead up (this tab found it was robbed before being told): lets the
    /// lock go if it still has it, and queues again.
    pub(crate) fn step_down(&self) {
        if let Some(e) = &self.election {
            e.let_go();
            e.queue();
        }
    }

    /// Takes the lead from a leader that went silent. Only one follower at a time
    /// tries (the candidate lock, asked `ifAvailable`); `still_silent` is asked again
    /// under it. After three tries that found the candidate lock taken (a tab frozen
    /// in the middle of a takeover), the candidate lock is stolen too (the rules:
    /// core's [`Takeover`]). Success is
    /// told through `on_change(true)`.
    pub(crate) fn take_over(&self, still_silent: impl FnOnce() -> bool + 'static) {
        let Some(e) = &self.election else { return };
        let holds = e.held.borrow().is_some();
        let Some(mode) = e.takeover(|t| t.begin(e.closed.get(), holds)) else {
            return;
        };
        let this = e.clone();
        spawn_local(async move {
            let silent_holder = holder(&this.locks, &this.names.leader).await.ok().flatten();
            let options = match mode {
                CandidateLock::Steal => LockOptions::steal(),
                CandidateLock::IfAvailable => LockOptions::if_available(),
            };
            let mut done = None;
            let finished = Promise::new(&mut |resolve, _| done = Some(resolve));
            let inner = this.clone();
            let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
                dispatch(Box::pin(async move {
                    let granted = !lock.is_null();
                    inner.takeover(|t| t.candidate(granted));
                    let stolen = granted && inner.steal_from(silent_holder, still_silent).await;
                    if let Some(done) = done {
                        let _ = done.call1(&JsValue::UNDEFINED, &stolen.into());
                    }
                    Ok(JsValue::UNDEFINED)
                }))
                .into()
            });
            let stolen =
                match request_quietly(&this.locks, &this.names.candidate, &options, &callback) {
                    Ok(_) => JsFuture::from(finished)
                        .await
                        .ok()
                        .and_then(|v| v.as_bool())
                        .unwrap_or(false),
                    Err(_) => false,
                };
            if this.takeover(|t| t.finished(stolen, this.closed.get())) {
                (this.on_change)(true);
            }
        });
    }

    /// Releases the lock (or withdraws the request), for good.
    pub(crate) fn release(&self) {
        if let Some(e) = &self.election {
            e.closed.set(true);
            e.withdraw();
            e.let_go();
        }
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        self.release();
    }
}
