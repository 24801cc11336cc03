//! [`Inner`]: the manager's shared part, an executor of the tab machine's effects.
//! Every rule — who leads, when a round runs, what a message means, who is answered
//! and how — is decided in core ([`Tabs`], `idb_sync_core::sync_loop::tabs`); this
//! file feeds it the browser's inputs (with the time) and carries out the [`Effect`]s
//! it returns: settling promises, posting messages, arming `gloo` timers. Rounds are
//! run in `round.rs`, status listeners kept in `status.rs`, DOM and channel wiring in
//! `wiring.rs`, the panic registry in `panic.rs`.
//! Every `RefCell` borrow here is short and never held across an await or a call into
//! JavaScript.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use idb_sync_core::engine::SyncEngine;
use idb_sync_core::sync_loop::tabs::{Effect, Message};
use idb_sync_core::sync_loop::{ProgressTransport, RoundProgress, Tabs};
use js_sys::{Function, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use super::after_close::AfterClose;
use super::answer::{relayed, Promises};
use super::clock::{monotonic_ms, now_ms, BrowserClock};
use super::election::Leadership;
use super::live::{self, LiveStream};
use super::resolver::JsResolver;
use super::status::Subscribers;
use super::transport::{Credentials, FetchTransport};
use super::wiring::{with, Wiring};
use crate::database::LocalDatabase;
use crate::storage::IdbStorage;

/// How progress reaches the status.
pub(crate) type ProgressFn = Box<dyn Fn(RoundProgress)>;
/// The engine the manager drives.
pub(crate) type Engine =
    SyncEngine<IdbStorage, ProgressTransport<FetchTransport, ProgressFn>, BrowserClock, JsResolver>;

/// What a manager is made of, for [`Inner::new`].
pub(crate) struct Parts {
    pub(crate) db: LocalDatabase,
    pub(crate) transport: FetchTransport,
    pub(crate) credentials: Rc<Credentials>,
    pub(crate) closed: Rc<Cell<bool>>,
    pub(crate) leading: Rc<Cell<bool>>,
    pub(crate) client_id: String,
    pub(crate) resolver: JsResolver,
    pub(crate) config: idb_sync_core::engine::EngineConfig,
    /// The live channel's URL (`{endpoint}/v1/events`).
    pub(crate) live_url: String,
    /// The tab machine, as built by `SyncManager.open`.
    pub(crate) tabs: Tabs,
}

/// The browser handles the effects act on; dropped at `close()`.
#[derive(Default)]
struct Handles {
    loop_timer: Option<Timeout>,
    beat: Option<Timeout>,
    call_timers: HashMap<String, Timeout>,
    wiring: Option<Wiring>,
    leadership: Option<Rc<Leadership>>,
    live: Option<LiveStream>,
    live_timer: Option<Timeout>,
}

/// A promise resolved once the scan at open is over (`Tabs::is_adopting`), for
/// what must see the rows it queues (`getPendingCount()`).
struct Adoption {
    over: Promise,
    /// Its `resolve`, until called.
    resolve: RefCell<Option<Function>>,
}

impl Adoption {
    fn new() -> Adoption {
        let mut resolve = None;
        let over = Promise::new(&mut |r, _| resolve = Some(r));
        Adoption {
            over,
            resolve: RefCell::new(resolve),
        }
    }

    /// Resolves the promise (once).
    fn end(&self) {
        if let Some(resolve) = self.resolve.borrow_mut().take() {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    }
}

/// The manager's shared part (the exported class holds an `Rc` of it).
pub(crate) struct Inner {
    pub(crate) db: LocalDatabase,
    pub(crate) storage: IdbStorage,
    pub(crate) engine: Engine,
    pub(crate) credentials: Rc<Credentials>,
    /// The live channel's URL.
    pub(crate) live_url: String,
    /// Mirrors [`Tabs::is_closed`] for the transport and the exported methods.
    pub(crate) closed: Rc<Cell<bool>>,
    /// Mirrors [`Tabs::is_leader`] for the transport (which refuses otherwise).
    leading: Rc<Cell<bool>>,
    /// The database's client id as last read (a round may renew it: docs/INVARIANTS.md, I11).
    client_id: RefCell<String>,
    /// The decisions.
    pub(crate) tabs: RefCell<Tabs>,
    handles: RefCell<Handles>,
    /// The status listeners.
    pub(crate) subscribers: Subscribers,
    /// This tab's `syncNow()` promises.
    pub(crate) promises: Promises,
    /// The end of the scan at open.
    adoption: Adoption,
    /// The keepalive push kept for when the page hides (`after_close.rs`).
    pub(crate) after_close: AfterClose,
    /// Storage health: the outbox entries known, what evictions took.
    pub(crate) health: super::health::StorageWatch,
}

/// `ms` as a timer's delay.
fn delay(ms: u64) -> u32 {
    ms.min(i32::MAX as u64) as u32
}

/// A timer that calls `f` on the manager after `ms`. Its callback must not drop its
/// own timer while it runs: `f` runs in a task of its own.
fn timer(inner: &Rc<Inner>, ms: u64, f: impl FnOnce(&Rc<Inner>) + 'static) -> Timeout {
    let weak = Rc::downgrade(inner);
    Timeout::new(delay(ms), move || {
        spawn_local(async move { with(&weak, f) });
    })
}

impl Inner {
    /// Builds the manager's shared part (registered with the panic hook).
    pub(crate) fn new(parts: Parts) -> Rc<Inner> {
        let Parts {
            db,
            transport,
            credentials,
            closed,
            leading,
            client_id,
            resolver,
            config,
            live_url,
            tabs,
        } = parts;
        let inner = Rc::new_cyclic(|weak: &std::rc::Weak<Inner>| {
            let weak = weak.clone();
            let progress: ProgressFn = Box::new(move |step| {
                if let Some(inner) = weak.upgrade() {
                    if inner.tabs.borrow_mut().round_progress(step) {
                        inner.publish();
                    }
                }
            });
            let storage = db.storage().clone();
            // Any tab of a v1 database may send a keepalive push (the leader's window).
            storage.set_keepalive_may_send(transport.speaks_v1());
            let after_close = AfterClose::new(transport.speaks_v1());
            let engine = SyncEngine::with_resolver(
                storage.clone(),
                ProgressTransport::new(transport, progress),
                BrowserClock,
                config,
                resolver,
            );
            Inner {
                db,
                storage,
                engine,
                credentials,
                live_url,
                closed,
                leading,
                client_id: RefCell::new(client_id),
                tabs: RefCell::new(tabs),
                handles: RefCell::new(Handles::default()),
                subscribers: Subscribers::default(),
                promises: Promises::default(),
                adoption: Adoption::new(),
                after_close,
                health: Default::default(),
            }
        });
        super::panic::register(&inner);
        inner
    }

    /// Feeds the machine one input and carries out its effects.
    pub(crate) fn input(self: &Rc<Self>, f: impl FnOnce(&mut Tabs) -> Vec<Effect>) {
        let effects = f(&mut self.tabs.borrow_mut());
        self.carry_out(effects);
    }

    /// After an input: mirrors the machine's state, then executes its effects. Not
    /// generic, so that it is not copied into every caller of [`Inner::input`].
    fn carry_out(self: &Rc<Self>, effects: Vec<Effect>) {
        let adopting = {
            let tabs = self.tabs.borrow();
            self.leading.set(tabs.is_leader());
            self.closed.set(self.closed.get() || tabs.is_closed());
            tabs.is_adopting()
        };
        if !adopting {
            self.adoption.end();
        }
        for effect in effects {
            self.execute(effect);
        }
        self.keepalive_status();
    }

    fn execute(self: &Rc<Self>, effect: Effect) {
        match effect {
            Effect::Settle { waiter, answer } => self.promises.settle(waiter, answer),
            Effect::Answer { id, answer } => {
                let (result, error) = relayed(answer);
                self.post(&Message::SyncNowDone { id, result, error });
            }
            Effect::Post(message) => self.post(&message),
            Effect::Pump => self.pump(),
            Effect::RunRound { round, term } => spawn_local(self.clone().run_round(round, term)),
            Effect::ArmLoopTimer { after_ms } => {
                let t = timer(self, after_ms, |i| i.pump());
                let old = self.handles.borrow_mut().loop_timer.replace(t);
                drop(old);
            }
            Effect::StopLoopTimer => drop(self.handles.borrow_mut().loop_timer.take()),
            Effect::ArmBeat { after_ms } => {
                let t = timer(self, after_ms, |i| i.input(|t| t.beat(monotonic_ms())));
                let old = self.handles.borrow_mut().beat.replace(t);
                drop(old);
            }
            Effect::StopBeat => drop(self.handles.borrow_mut().beat.take()),
            Effect::ArmCallTimer { call, after_ms } => {
                let id = call.clone();
                let t = timer(self, after_ms, move |i| i.input(|t| t.timed_out(&id)));
                let old = self.handles.borrow_mut().call_timers.insert(call, t);
                drop(old);
            }
            Effect::StopCallTimer { call } => {
                let old = self.handles.borrow_mut().call_timers.remove(&call);
                drop(old);
            }
            Effect::ForgetCredentials => self.credentials.forget(),
            Effect::RefreshCounts => self.refresh_counts(),
            Effect::RereadClientId => self.reread_client_id(),
            Effect::Publish => self.publish(),
            Effect::VerifyLead => {
                let check = self.verify_lead();
                spawn_local(async move {
                    let _ = check.await;
                });
            }
            Effect::TakeOver { since } => {
                let Some(leadership) = self.leadership() else {
                    return;
                };
                let weak = Rc::downgrade(self);
                leadership.take_over(move || {
                    weak.upgrade()
                        .is_some_and(|i| i.tabs.borrow().still_silent(since))
                });
            }
            Effect::AdoptRows => self.adopt_now(),
            Effect::EstimateStorage => self.estimate_storage(),
            Effect::OpenLive { conn } => {
                let stream = live::open(self, conn);
                let mut handles = self.handles.borrow_mut();
                let old = (handles.live.replace(stream), handles.live_timer.take());
                drop(handles);
                drop(old);
            }
            Effect::CloseLive => {
                let mut handles = self.handles.borrow_mut();
                let old = (handles.live.take(), handles.live_timer.take());
                drop(handles);
                drop(old);
            }
            Effect::ArmLiveTimer { after_ms } => {
                let t = timer(self, after_ms, |i| i.input(|t| t.live_retry(now_ms())));
                let old = self.handles.borrow_mut().live_timer.replace(t);
                drop(old);
            }
            Effect::Warn(message) => web_sys::console::warn_1(&message.into()),
        }
    }

    /// Sends `message` to the other tabs (if the channel is open).
    pub(crate) fn post(&self, message: &Message) {
        if let Ok(handles) = self.handles.try_borrow() {
            if let Some(relay) = handles.wiring.as_ref().and_then(Wiring::relay) {
                relay.post(message);
            }
        }
    }

    /// This tab's place in the election, once it joined.
    pub(crate) fn leadership(&self) -> Option<Rc<Leadership>> {
        self.handles.borrow().leadership.clone()
    }

    /// Listens to the browser and the other tabs (called once, after open), and
    /// starts the heartbeat.
    pub(crate) fn wire(self: &Rc<Self>) {
        let wiring = Wiring::new(self);
        self.handles.borrow_mut().wiring = Some(wiring);
        self.watch_storage();
        self.input(|t| t.wired());
    }

    /// Takes the election's outcome: this tab's leadership handle, and whether it
    /// leads now (else it asks the leader for its status).
    pub(crate) fn joined(self: &Rc<Self>, leadership: Leadership, leads: bool) {
        self.handles.borrow_mut().leadership = Some(Rc::new(leadership));
        if leads {
            self.became_leader();
        } else {
            self.input(|t| t.greet());
        }
    }

    /// Waits until the scan at open (`Tabs::opened`) is over, if it runs.
    pub(crate) async fn adoption_at_open(&self) {
        if self.tabs.borrow().is_adopting() {
            let _ = JsFuture::from(self.adoption.over.clone()).await;
        }
    }

    /// The database's client id as last read.
    pub(crate) fn client_id(&self) -> String {
        self.client_id.borrow().clone()
    }

    /// Takes the client id read from the database (if it could be read).
    pub(crate) fn saw_client_id(&self, id: Option<String>) {
        if let Some(id) = id {
            *self.client_id.borrow_mut() = id;
        }
    }

    /// `close()`: stops everything this manager owns. Idempotent.
    pub(crate) fn close(self: &Rc<Self>) {
        if self.closed.get() {
            return;
        }
        self.input(|t| t.close());
        let handles = std::mem::take(&mut *self.handles.borrow_mut());
        if let Some(leadership) = &handles.leadership {
            leadership.release();
        }
        drop(handles);
        self.subscribers.clear();
        self.db.close();
        self.adoption.end();
    }

    /// After a panic: show it, stop the loop, release the leadership.
    pub(crate) fn mark_broken(&self, message: &str) {
        self.closed.set(true);
        self.leading.set(false);
        if let Ok(mut tabs) = self.tabs.try_borrow_mut() {
            let _ = tabs.broken(message); // its effects, carried out here by hand:
        }
        if let Ok(mut handles) = self.handles.try_borrow_mut() {
            handles.loop_timer = None;
            handles.beat = None;
            handles.live = None;
            handles.live_timer = None;
            if let Some(leadership) = handles.leadership.take() {
                leadership.release();
            }
        }
        self.adoption.end();
        self.publish();
    }
}
