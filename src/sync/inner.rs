//! The manager's shared state and its loop: the core [`Scheduler`] decides, this file
//! acts — it arms one [`Timer`], runs rounds of the core engine, keeps the
//! [`SyncStatus`], tells subscribers and other tabs, and answers `syncNow()` calls.
//! It also keeps the leader's heartbeat (I7): the leader posts one every period, a
//! follower checks at the same pace and takes over from a silent leader; a tab robbed
//! of the lead abandons its round and becomes a follower again.
//! Every `RefCell` borrow here is short and never held across an await or a call into
//! JavaScript.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use idb_sync_core::engine::SyncEngine;
use idb_sync_core::ports::Storage as _;
use idb_sync_core::sync_loop::{
    Decision, IdleReason, ProgressTransport, RoundProgress, Scheduler, StatusError, SyncNowResult,
    SyncStatus,
};
use idb_sync_core::ErrorClass;
use js_sys::Function;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;

use super::clock::{monotonic_ms, now_ms, random_u64, BrowserClock};
use super::counts;
use super::error::{js_error, ManagerError};
use super::leader::{Heartbeat, Leadership, Message, Relay, Watch};
use super::resolver::JsResolver;
use super::transport::{Credentials, FetchTransport};
use super::triggers::{self, Listener, Timer};
use crate::database::LocalDatabase;
use crate::storage::IdbStorage;

/// How progress reaches the status.
pub(crate) type ProgressFn = Box<dyn Fn(RoundProgress)>;
/// The engine the manager drives.
pub(crate) type Engine =
    SyncEngine<IdbStorage, ProgressTransport<FetchTransport, ProgressFn>, BrowserClock, JsResolver>;

/// The change-event listener id and its callback.
type ChangeSubscription = (u32, Closure<dyn FnMut(JsValue)>);

/// What a manager is made of, for [`Inner::new`].
pub(crate) struct Parts {
    pub(crate) db: LocalDatabase,
    pub(crate) transport: FetchTransport,
    pub(crate) credentials: Rc<Credentials>,
    pub(crate) closed: Rc<Cell<bool>>,
    pub(crate) leading: Rc<Cell<bool>>,
    pub(crate) heartbeat: Heartbeat,
    pub(crate) client_id: String,
    pub(crate) resolver: JsResolver,
    pub(crate) config: idb_sync_core::engine::EngineConfig,
    pub(crate) state: State,
}

/// A `syncNow()` of this tab waiting for round `ticket`.
struct Waiter {
    ticket: u64,
    resolve: Function,
    reject: Function,
}

/// A follower's `syncNow()` waiting for the leader's answer.
struct Call {
    id: String,
    resolve: Function,
    reject: Function,
    _timeout: Option<Timer>,
}

/// Everything that changes.
pub(crate) struct State {
    pub(crate) scheduler: Scheduler,
    pub(crate) status: SyncStatus,
    pub(crate) leader: bool,
    /// Counts the changes of `leader`: a round started in another term is abandoned.
    term: u64,
    pub(crate) wants_auto: bool,
    published: Option<SyncStatus>,
    timer: Option<Timer>,
    /// The heartbeat timer: the leader beats, a follower checks the leader's.
    beat: Option<Timer>,
    watch: Watch,
    dom: Vec<Listener>,
    changes: Option<ChangeSubscription>,
    pub(crate) leadership: Option<Rc<Leadership>>,
    relay: Option<Relay>,
    waiters: Vec<Waiter>,
    remote_waiters: Vec<(u64, String)>,
    calls: Vec<Call>,
    /// This tab's own prefix for relayed call ids: every tab of a database shares the
    /// client id, so the client id alone would let two followers' calls collide.
    call_prefix: String,
    next_call: u64,
    counting: bool,
    recount: bool,
    /// Between the page's `freeze` and `resume` events: no IndexedDB work (see
    /// [`Inner::set_frozen`]).
    frozen: bool,
}

impl State {
    pub(crate) fn new(
        scheduler: Scheduler,
        status: SyncStatus,
        wants_auto: bool,
        heartbeat: Heartbeat,
    ) -> State {
        State {
            scheduler,
            status,
            leader: false,
            term: 0,
            wants_auto,
            published: None,
            timer: None,
            beat: None,
            watch: Watch::new(heartbeat, monotonic_ms()),
            dom: Vec::new(),
            changes: None,
            leadership: None,
            relay: None,
            waiters: Vec::new(),
            remote_waiters: Vec::new(),
            calls: Vec::new(),
            call_prefix: uuid::Uuid::now_v7().to_string(),
            next_call: 0,
            counting: false,
            recount: false,
            frozen: false,
        }
    }
}

/// The manager's shared part (the exported class holds an `Rc` of it).
pub(crate) struct Inner {
    pub(crate) db: LocalDatabase,
    pub(crate) storage: IdbStorage,
    pub(crate) engine: Engine,
    pub(crate) credentials: Rc<Credentials>,
    pub(crate) closed: Rc<Cell<bool>>,
    /// Whether this tab leads, shared with the transport (which refuses otherwise).
    leading: Rc<Cell<bool>>,
    heartbeat: Heartbeat,
    /// The database's client id as last read (a round may renew it: I11).
    client_id: RefCell<String>,
    pub(crate) state: RefCell<State>,
    /// `adopt: 'pull'` on a database that never pulled: adopt the rows without sync
    /// state after the first round that completes (its pull wrote the server's copies).
    pub(crate) adopt_after_pull: Cell<bool>,
    subscribers: RefCell<Vec<(u32, Function)>>,
    next_subscriber: Cell<u32>,
}

thread_local! {
    static MANAGERS: RefCell<Vec<Weak<Inner>>> = const { RefCell::new(Vec::new()) };
    static PANICKED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Tells the developer about rows adoption had to leave local-only.
pub(crate) fn report_adoption(report: crate::storage::adopt::AdoptReport) {
    if report.unsyncable > 0 {
        let message = format!(
            "idb-sync: {} existing row(s) stay local-only: their keys are not strings or finite numbers, which cannot be synced",
            report.unsyncable
        );
        web_sys::console::warn_1(&message.into());
    }
}

/// Installs (once) the panic hook: log the panic and put every manager in a clear error
/// state (wasm aborts on panic: the manager cannot go on).
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

pub(crate) fn to_js<T: Serialize>(value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::UNDEFINED)
}

fn status_error_js(error: &StatusError) -> JsValue {
    let js = js_error(&error.code, &error.message, None);
    if let Some(code) = &error.server_code {
        crate::error::set(&js, "serverCode", &code.into());
    }
    js
}

impl Inner {
    pub(crate) fn new(parts: Parts) -> Rc<Inner> {
        let Parts {
            db,
            transport,
            credentials,
            closed,
            leading,
            heartbeat,
            client_id,
            resolver,
            config,
            state,
        } = parts;
        let inner = Rc::new_cyclic(|weak: &Weak<Inner>| {
            let weak = weak.clone();
            let progress: ProgressFn = Box::new(move |step| {
                if let Some(inner) = weak.upgrade() {
                    {
                        let mut st = inner.state.borrow_mut();
                        if !st.leader {
                            return; // an abandoned round
                        }
                        st.status.round_progress(step);
                    }
                    inner.publish();
                }
            });
            let storage = db.storage().clone();
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
                closed,
                leading,
                heartbeat,
                client_id: RefCell::new(client_id),
                state: RefCell::new(state),
                adopt_after_pull: Cell::new(false),
                subscribers: RefCell::new(Vec::new()),
                next_subscriber: Cell::new(0),
            }
        });
        MANAGERS.with(|m| {
            let mut m = m.borrow_mut();
            m.retain(|w| w.strong_count() > 0);
            m.push(Rc::downgrade(&inner));
        });
        inner
    }

    /// Listens to the browser and the other tabs (called once, after open).
    pub(crate) fn wire(self: &Rc<Self>) {
        let mut dom = Vec::new();
        if let Some(window) = web_sys::window() {
            let weak = Rc::downgrade(self);
            dom.extend(Listener::new(&window, "online", move |_| {
                with(&weak, |i| i.set_online(true))
            }));
            let weak = Rc::downgrade(self);
            dom.extend(Listener::new(&window, "offline", move |_| {
                with(&weak, |i| i.set_online(false))
            }));
            if let Some(document) = window.document() {
                let weak = Rc::downgrade(self);
                dom.extend(Listener::new(&document, "visibilitychange", move |_| {
                    with(&weak, |i| i.visibility_changed())
                }));
                let weak = Rc::downgrade(self);
                dom.extend(Listener::new(&document, "freeze", move |_| {
                    with(&weak, |i| i.set_frozen(true))
                }));
                let weak = Rc::downgrade(self);
                dom.extend(Listener::new(&document, "resume", move |_| {
                    with(&weak, |i| i.set_frozen(false))
                }));
            }
        }
        let weak = Rc::downgrade(self);
        let relay = Relay::open(self.storage.name(), move |message| {
            with(&weak, |i| i.on_message(message))
        });
        let weak = Rc::downgrade(self);
        let on_change = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            let source = js_sys::Reflect::get(&event, &"source".into())
                .ok()
                .and_then(|s| s.as_string());
            if source.as_deref() == Some("local") {
                with(&weak, |i| i.local_write());
            }
        });
        let id = self
            .storage
            .events()
            .subscribe("*", on_change.as_ref().unchecked_ref::<Function>().clone());
        {
            let mut st = self.state.borrow_mut();
            st.dom = dom;
            st.relay = relay;
            st.changes = Some((id, on_change));
        }
        self.arm_beat();
    }

    fn arm_beat(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        // Like the loop's timer: the callback must not drop its own timer while it runs.
        let timer = Timer::once(self.heartbeat.period_ms, move || {
            let weak = weak.clone();
            spawn_local(async move { with(&weak, |i| i.beat()) });
        });
        self.state.borrow_mut().beat = timer;
    }

    /// Every heartbeat period: the leader says it is alive; a follower checks that the
    /// leader did, and takes over when it has been silent for the stale window.
    fn beat(self: &Rc<Self>) {
        if self.closed.get() {
            return;
        }
        let now = monotonic_ms();
        let (leader, silent, leadership) = {
            let mut st = self.state.borrow_mut();
            let silent = !st.leader && st.watch.tick(now);
            if silent {
                // A failed attempt (another follower took over) waits a whole window.
                st.watch.heard(now);
            }
            (st.leader, silent, st.leadership.clone())
        };
        if leader {
            self.post(&Message::Heartbeat);
        } else if let (true, Some(leadership)) = (silent, leadership) {
            let weak = Rc::downgrade(self);
            leadership.take_over(move || {
                weak.upgrade().is_some_and(|i| {
                    let st = i.state.borrow();
                    !st.leader && !i.closed.get() && st.watch.last_heard() <= now
                })
            });
        }
        self.arm_beat();
    }

    /// This tab now runs the loop. Its `syncNow()` calls still waiting for the old
    /// leader's answer wait for this tab's next round instead.
    pub(crate) fn became_leader(self: &Rc<Self>) {
        if self.closed.get() {
            return;
        }
        let refused = {
            let mut st = self.state.borrow_mut();
            if st.leader {
                return;
            }
            st.leader = true;
            st.term += 1;
            self.leading.set(true);
            st.scheduler.set_online(triggers::is_online());
            st.scheduler.set_visible(triggers::is_visible());
            if st.wants_auto {
                st.scheduler.start();
            }
            let mut refused = Vec::new();
            for call in std::mem::take(&mut st.calls) {
                match self.request_round(&mut st) {
                    Ok(ticket) => st.waiters.push(Waiter {
                        ticket,
                        resolve: call.resolve,
                        reject: call.reject,
                    }),
                    Err(IdleReason::Offline) => refused.push((call.reject, ManagerError::Offline)),
                    Err(_) => refused.push((call.reject, ManagerError::Closed)),
                }
            }
            refused
        };
        for (reject, error) in refused {
            let _ = reject.call1(&JsValue::UNDEFINED, &error.into());
        }
        self.post(&Message::Heartbeat);
        let status = self.state.borrow().status.clone();
        self.post(&Message::Status { status });
        self.refresh_counts();
        self.pump();
    }

    /// Another tab took the lead from this one (it was frozen or too slow): stop at
    /// once — no new round, no request, no result of the abandoned round applied (the
    /// transport refuses) — and follow. The abandoned round is safe to drop: its
    /// in-flight entries are resent by the new leader (I2, I3). The `syncNow()` calls
    /// waiting here are relayed to the new leader.
    pub(crate) fn lost_leadership(self: &Rc<Self>) {
        let (waiters, remote) = {
            let mut st = self.state.borrow_mut();
            if !st.leader || self.closed.get() {
                return;
            }
            st.leader = false;
            st.term += 1;
            self.leading.set(false);
            st.timer = None;
            // A fresh scheduler: the abandoned round never reports to it.
            let config = *st.scheduler.config();
            st.scheduler = Scheduler::new(
                config,
                now_ms(),
                triggers::is_online(),
                triggers::is_visible(),
            );
            st.watch.heard(monotonic_ms());
            (
                std::mem::take(&mut st.waiters),
                std::mem::take(&mut st.remote_waiters),
            )
        };
        web_sys::console::warn_1(&"idb-sync: another tab took over the sync loop".into());
        for (_, id) in remote {
            let e = ManagerError::LeaderUnavailable(
                "the tab that ran the sync loop lost the lead before its round; try again",
            );
            let error = StatusError {
                code: e.code().to_owned(),
                message: e.to_string(),
                class: ErrorClass::Transient,
                server_code: None,
            };
            self.post(&Message::SyncNowDone {
                id,
                result: None,
                error: Some(error),
            });
        }
        for waiter in waiters {
            self.call_leader(waiter.resolve, waiter.reject);
        }
        self.greet();
        self.refresh_counts();
    }

    /// Before a round: does the browser's lock manager still say this tab leads? A
    /// robbed tab that wakes up may run a timer before it hears of the theft.
    fn verify_lead(self: &Rc<Self>) -> impl std::future::Future<Output = bool> {
        let inner = self.clone();
        async move {
            let leadership = inner.state.borrow().leadership.clone();
            let Some(leadership) = leadership else {
                return true;
            };
            if leadership.still_held().await {
                return true;
            }
            inner.lost_leadership();
            leadership.step_down();
            false
        }
    }

    /// Asks the leader for its status (a follower, after open).
    pub(crate) fn greet(&self) {
        self.post(&Message::Hello);
    }

    fn post(&self, message: &Message) {
        if let Some(relay) = &self.state.borrow().relay {
            relay.post(message);
        }
    }

    /// The page is frozen (`true`) or resumed. A frozen page still gets some events
    /// (Chromium delivers `BroadcastChannel` messages, so other tabs' writes), but an
    /// IndexedDB transaction it starts then never finishes, and blocks every other
    /// tab's transactions on the same stores — the new leader's round included. So a
    /// frozen manager touches no IndexedDB and starts no round; on resume it rereads
    /// the counts and decides again.
    fn set_frozen(self: &Rc<Self>, frozen: bool) {
        self.state.borrow_mut().frozen = frozen;
        if !frozen {
            self.refresh_counts();
            self.pump();
        }
    }

    /// Decides and acts: starts a round, arms the timer, or idles.
    pub(crate) fn pump(self: &Rc<Self>) {
        let now = now_ms();
        let mut st = self.state.borrow_mut();
        if st.frozen {
            return; // decided again on resume
        }
        if !st.leader || self.closed.get() {
            st.timer = None;
            return;
        }
        match st.scheduler.decide(now) {
            Decision::RunNow => {
                let n = st.scheduler.round_started(now);
                st.timer = None;
                drop(st);
                spawn_local(self.clone().run_round(n));
            }
            Decision::SleepUntil(at) => {
                let weak = Rc::downgrade(self);
                // The timer's callback must not drop the timer while it runs: pump later.
                st.timer = Timer::once(at.saturating_sub(now), move || {
                    let weak = weak.clone();
                    spawn_local(async move { with(&weak, |i| i.pump()) });
                });
            }
            Decision::Busy => {}
            Decision::Idle(_) => st.timer = None,
        }
    }

    async fn run_round(self: Rc<Self>, n: u64) {
        let term = self.state.borrow().term;
        if !self.verify_lead().await || self.state.borrow().term != term {
            return;
        }
        let before = counts::read(&self.storage).await;
        {
            let mut st = self.state.borrow_mut();
            if let Ok(c) = before {
                self.saw_client_id(c.client_id);
                st.status.set_counts(c.counts);
            }
            let total = st.status.pending + st.status.in_flight;
            st.status.round_started(total);
        }
        self.publish();
        let result = self.engine.sync_round().await;
        if self.state.borrow().term != term {
            return; // robbed of the lead meanwhile: the new leader reports
        }
        let after = counts::read(&self.storage).await;
        let now = now_ms();
        let (waiters, remote) = {
            let mut st = self.state.borrow_mut();
            if st.term != term {
                return;
            }
            if let Ok(c) = after {
                self.saw_client_id(c.client_id);
                st.status.set_counts(c.counts);
            }
            match &result {
                Ok(report) => {
                    let more = report.sent > 0 && st.status.pending > 0;
                    st.scheduler.round_succeeded(now, more);
                    st.status.round_succeeded(now, report);
                }
                Err(e) => {
                    let next = st.scheduler.round_failed(now, e, random_u64());
                    st.status.round_failed(e, next);
                }
            }
            let (done, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut st.waiters)
                .into_iter()
                .partition(|w| w.ticket <= n);
            st.waiters = rest;
            let (remote, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut st.remote_waiters)
                .into_iter()
                .partition(|(t, _)| *t <= n);
            st.remote_waiters = rest;
            (done, remote)
        };
        let answer = result
            .as_ref()
            .map(SyncNowResult::from)
            .map_err(StatusError::from);
        for waiter in waiters {
            let _ = match &answer {
                Ok(r) => waiter.resolve.call1(&JsValue::UNDEFINED, &to_js(r)),
                Err(e) => waiter
                    .reject
                    .call1(&JsValue::UNDEFINED, &status_error_js(e)),
            };
        }
        for (_, id) in remote {
            let (result, error) = match &answer {
                Ok(r) => (Some(*r), None),
                Err(e) => (None, Some(e.clone())),
            };
            self.post(&Message::SyncNowDone { id, result, error });
        }
        self.publish();
        if result.is_ok() && self.adopt_after_pull.replace(false) {
            self.adopt_now();
        }
        self.pump();
    }

    /// Adopts the rows without sync state (`adopt: 'pull'`, after the first complete
    /// pull) and schedules a round for what it queued.
    fn adopt_now(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        spawn_local(async move {
            let Some(inner) = weak.upgrade() else { return };
            match inner.storage.adopt_unsynced().await {
                Ok(report) => {
                    report_adoption(report);
                    if report.queued > 0 {
                        inner.local_write();
                    }
                }
                Err(e) => {
                    web_sys::console::error_1(
                        &format!("idb-sync: adopting existing rows failed: {e}").into(),
                    );
                    inner.adopt_after_pull.set(true); // again after the next round
                }
            }
        });
    }

    /// Tells subscribers (and, from the leader, the other tabs) about a changed status.
    pub(crate) fn publish(&self) {
        let status = {
            let Ok(mut st) = self.state.try_borrow_mut() else {
                return;
            };
            if st.published.as_ref() == Some(&st.status) {
                return;
            }
            st.published = Some(st.status.clone());
            if st.leader {
                if let Some(relay) = &st.relay {
                    relay.post(&Message::Status {
                        status: st.status.clone(),
                    });
                }
            }
            st.status.clone()
        };
        let subscribers: Vec<Function> = match self.subscribers.try_borrow() {
            Ok(s) => s.iter().map(|(_, f)| f.clone()).collect(),
            Err(_) => return,
        };
        if subscribers.is_empty() {
            return;
        }
        let js = to_js(&status);
        for f in subscribers {
            if let Err(e) = f.call1(&JsValue::UNDEFINED, &js) {
                web_sys::console::error_2(&"idb-sync: a status subscriber threw".into(), &e);
            }
        }
    }

    /// Adds a status subscriber; returns its id.
    pub(crate) fn subscribe(&self, f: Function) -> u32 {
        let id = self.next_subscriber.get() + 1;
        self.next_subscriber.set(id);
        self.subscribers.borrow_mut().push((id, f));
        id
    }

    /// Removes a status subscriber.
    pub(crate) fn unsubscribe(&self, id: u32) {
        self.subscribers.borrow_mut().retain(|(i, _)| *i != id);
    }

    /// The database's client id as last read.
    pub(crate) fn client_id(&self) -> String {
        self.client_id.borrow().clone()
    }

    /// Takes the client id read from the database (if it could be read).
    fn saw_client_id(&self, id: Option<String>) {
        if let Some(id) = id {
            *self.client_id.borrow_mut() = id;
        }
    }

    /// Rereads the client id from the database (a follower, after the leader's round).
    fn reread_client_id(self: &Rc<Self>) {
        if self.state.borrow().frozen || self.closed.get() {
            return;
        }
        let weak = Rc::downgrade(self);
        spawn_local(async move {
            let Some(inner) = weak.upgrade() else { return };
            if let Ok(meta) = inner.storage.read_meta().await {
                inner.saw_client_id(Some(meta.client_id));
            }
        });
    }

    /// Rereads the counts (coalescing bursts) and publishes them.
    pub(crate) fn refresh_counts(self: &Rc<Self>) {
        {
            let mut st = self.state.borrow_mut();
            if st.frozen {
                return; // reread on resume
            }
            if st.counting {
                st.recount = true;
                return;
            }
            st.counting = true;
        }
        let inner = self.clone();
        spawn_local(async move {
            loop {
                let counts = counts::read(&inner.storage).await;
                let again = {
                    let mut st = inner.state.borrow_mut();
                    if let Ok(c) = counts {
                        inner.saw_client_id(c.client_id);
                        st.status.set_counts(c.counts);
                    }
                    let again = st.recount && !inner.closed.get();
                    st.recount = false;
                    st.counting = again;
                    again
                };
                if !again {
                    break;
                }
            }
            inner.publish();
        });
    }

    /// A local write, in this tab or another (or a decision that queued something).
    pub(crate) fn local_write(self: &Rc<Self>) {
        if self.closed.get() {
            return;
        }
        self.state.borrow_mut().scheduler.local_write(now_ms());
        self.refresh_counts();
        self.pump();
    }

    /// Something this tab changed in the outbox outside the table API: tell the leader.
    pub(crate) fn poke(self: &Rc<Self>) {
        if self.state.borrow().leader {
            self.local_write();
        } else {
            self.post(&Message::Poke);
            self.refresh_counts();
        }
    }

    fn set_online(self: &Rc<Self>, online: bool) {
        {
            let mut st = self.state.borrow_mut();
            st.scheduler.set_online(online);
            st.status.set_online(online);
        }
        self.publish();
        self.pump();
    }

    fn visibility_changed(self: &Rc<Self>) {
        self.state
            .borrow_mut()
            .scheduler
            .set_visible(triggers::is_visible());
        self.pump();
    }

    /// New credentials: forget the cached token and end an auth block.
    /// The app decided what to do after `account_changed`: the block ends and a round
    /// runs at once (in the leader tab, wherever this is called).
    pub(crate) fn account_resolved(self: &Rc<Self>) {
        let leader = {
            let mut st = self.state.borrow_mut();
            if st.leader {
                let _ = st.scheduler.request_sync_now();
            }
            st.leader
        };
        if leader {
            self.pump();
        } else {
            self.post(&Message::SyncNow {
                id: format!("{}:account-resolved", self.client_id()),
            });
        }
    }

    pub(crate) fn credentials_changed(self: &Rc<Self>) {
        self.credentials.forget();
        let leader = {
            let mut st = self.state.borrow_mut();
            st.scheduler.credentials_changed();
            st.leader
        };
        if leader {
            self.pump();
        } else {
            self.post(&Message::Reauth);
        }
    }

    /// `syncNow()`: settles `resolve`/`reject` with the answer of the next round.
    pub(crate) fn sync_now(self: &Rc<Self>, resolve: Function, reject: Function) {
        let fail = |e: ManagerError| {
            let _ = reject.call1(&JsValue::UNDEFINED, &e.into());
        };
        if let Some(message) = panicked() {
            return fail(ManagerError::Panicked(message));
        }
        if self.closed.get() {
            return fail(ManagerError::Closed);
        }
        let mut st = self.state.borrow_mut();
        if st.leader {
            match self.request_round(&mut st) {
                Ok(ticket) => {
                    st.waiters.push(Waiter {
                        ticket,
                        resolve,
                        reject,
                    });
                    drop(st);
                    self.pump();
                }
                Err(IdleReason::Offline) => {
                    drop(st);
                    fail(ManagerError::Offline)
                }
                Err(_) => {
                    drop(st);
                    fail(ManagerError::Closed)
                }
            }
            return;
        }
        drop(st);
        self.call_leader(resolve, reject);
    }

    /// A follower's `syncNow()`: asks the leader, which answers with its next round.
    fn call_leader(self: &Rc<Self>, resolve: Function, reject: Function) {
        if !triggers::is_online() {
            let _ = reject.call1(&JsValue::UNDEFINED, &ManagerError::Offline.into());
            return;
        }
        let mut st = self.state.borrow_mut();
        st.next_call += 1;
        let id = format!("{}:{}", st.call_prefix, st.next_call);
        let weak = Rc::downgrade(self);
        let timeout_id = id.clone();
        let timeout = Timer::once(60_000, move || {
            let id = timeout_id.clone();
            let weak = weak.clone();
            spawn_local(async move {
                with(&weak, |i| {
                    let e = ManagerError::LeaderUnavailable(
                        "the tab that runs the sync loop did not answer within 60 s",
                    );
                    let error = StatusError {
                        code: e.code().to_owned(),
                        message: e.to_string(),
                        class: ErrorClass::Transient,
                        server_code: None,
                    };
                    i.answer_call(&id, None, Some(error));
                })
            });
        });
        st.calls.push(Call {
            id: id.clone(),
            resolve,
            reject,
            _timeout: timeout,
        });
        drop(st);
        self.post(&Message::SyncNow { id });
    }

    /// Asks the scheduler for a round on behalf of `syncNow()`; after an auth block
    /// the cached token is dropped so that `getToken()` is asked again.
    fn request_round(&self, st: &mut State) -> Result<u64, IdleReason> {
        if st.scheduler.blocked() == Some(idb_sync_core::sync_loop::Blocked::Auth) {
            self.credentials.forget();
        }
        st.scheduler.request_sync_now()
    }

    fn answer_call(&self, id: &str, result: Option<SyncNowResult>, error: Option<StatusError>) {
        let call = {
            let mut st = self.state.borrow_mut();
            let Some(at) = st.calls.iter().position(|c| c.id == id) else {
                return;
            };
            st.calls.remove(at)
        };
        let _ = match (result, error) {
            (Some(r), _) => call.resolve.call1(&JsValue::UNDEFINED, &to_js(&r)),
            (None, Some(e)) => call.reject.call1(&JsValue::UNDEFINED, &status_error_js(&e)),
            (None, None) => call
                .resolve
                .call1(&JsValue::UNDEFINED, &to_js(&SyncNowResult::default())),
        };
        // `call` (with its timer) is dropped here, outside every borrow.
    }

    fn on_message(self: &Rc<Self>, message: Message) {
        if self.closed.get() {
            return;
        }
        let leader = self.state.borrow().leader;
        match message {
            Message::Heartbeat if !leader => self.state.borrow_mut().watch.heard(monotonic_ms()),
            // Another tab leads too: one of the two was robbed and has not heard yet.
            Message::Heartbeat => {
                let check = self.verify_lead();
                spawn_local(async move {
                    let _ = check.await;
                })
            }
            Message::Status { status } if !leader => {
                let round_over = !status.syncing;
                {
                    let mut st = self.state.borrow_mut();
                    st.status = status;
                    st.watch.heard(monotonic_ms());
                }
                self.publish();
                if round_over {
                    self.reread_client_id(); // the leader's round may have renewed it
                }
            }
            Message::Hello if leader => {
                let status = self.state.borrow().status.clone();
                self.post(&Message::Status { status });
            }
            Message::Poke if leader => self.local_write(),
            Message::Reauth if leader => self.credentials_changed(),
            Message::SyncNow { id } if leader => {
                let ticket = self.request_round(&mut self.state.borrow_mut());
                match ticket {
                    Ok(ticket) => {
                        self.state.borrow_mut().remote_waiters.push((ticket, id));
                        self.pump();
                    }
                    Err(reason) => {
                        let e = if reason == IdleReason::Offline {
                            ManagerError::Offline
                        } else {
                            ManagerError::Closed
                        };
                        let error = StatusError {
                            code: e.code().to_owned(),
                            message: e.to_string(),
                            class: ErrorClass::Transient,
                            server_code: None,
                        };
                        self.post(&Message::SyncNowDone {
                            id,
                            result: None,
                            error: Some(error),
                        });
                    }
                }
            }
            Message::SyncNowDone { id, result, error } if !leader => {
                self.answer_call(&id, result, error)
            }
            _ => {}
        }
    }

    /// `close()`: stops everything this manager owns. Idempotent.
    pub(crate) fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        let (owned, waiters, calls) = {
            let mut st = self.state.borrow_mut();
            st.scheduler.close();
            st.leader = false;
            self.leading.set(false);
            let timers = (st.timer.take(), st.beat.take());
            let owned = (
                timers,
                std::mem::take(&mut st.dom),
                st.relay.take(),
                st.leadership.take(),
                st.changes.take(),
            );
            (
                owned,
                std::mem::take(&mut st.waiters),
                std::mem::take(&mut st.calls),
            )
        };
        let (timers, dom, relay, leadership, changes) = owned;
        drop((timers, dom, relay));
        if let Some(leadership) = leadership {
            leadership.release();
        }
        if let Some((id, closure)) = changes {
            self.storage.events().unsubscribe(id);
            drop(closure);
        }
        for w in waiters {
            let _ = w
                .reject
                .call1(&JsValue::UNDEFINED, &ManagerError::Closed.into());
        }
        for c in calls {
            let _ = c
                .reject
                .call1(&JsValue::UNDEFINED, &ManagerError::Closed.into());
        }
        self.subscribers.borrow_mut().clear();
        self.db.close();
    }

    /// After a panic: show it, stop the loop, release the leadership.
    fn mark_broken(&self, message: &str) {
        self.closed.set(true);
        if let Ok(mut st) = self.state.try_borrow_mut() {
            st.scheduler.close();
            st.timer = None;
            st.beat = None;
            st.leader = false;
            self.leading.set(false);
            st.status.broken(StatusError {
                code: "panicked".into(),
                message: format!("idb-sync panicked: {message}"),
                class: ErrorClass::Fatal,
                server_code: None,
            });
            if let Some(leadership) = st.leadership.take() {
                leadership.release();
            }
        }
        self.publish();
    }
}

/// Runs `f` on the manager if it is still alive.
fn with(weak: &Weak<Inner>, f: impl FnOnce(&Rc<Inner>)) {
    if let Some(inner) = weak.upgrade() {
        f(&inner);
    }
}
