//! Multi-tab leadership (invariant I7): one tab per database runs the sync loop.
//!
//! - [`Leadership`]: the Web Lock `idb-sync-leader:<dbName>`. The leader holds it for as
//!   long as it lives; other tabs queue for it in the background, so when the leader's
//!   tab closes (or it calls `close()`), the next tab's request is granted at once. A
//!   follower can also *steal* it (`steal: true`) from a frozen leader; the robbed tab
//!   learns it when its request promise rejects, stops leading and queues again.
//!   Without Web Locks (very old browsers) every tab leads.
//! - [`Watch`]: a follower's view of the leader's heartbeat: when to call it frozen.
//! - [`Relay`]: the manager's own `BroadcastChannel` (`idb-sync-loop:<dbName>`): the
//!   leader broadcasts its heartbeat and status, followers ask it to `syncNow()` and
//!   poke it after a conflict or dead-letter decision. (Local writes reach it through
//!   the change events' channel.)
//!
//! A takeover, one follower at a time: several followers notice the silence at about
//! the same time. Each notes which tab holds the leader's lock (`navigator.locks.query()`
//! gives the holder's `clientId`), then asks for `idb-sync-candidate:<dbName>` with
//! `ifAvailable`; the one that gets it checks again that the *same* tab still holds the
//! lock and that the leader is still silent, steals, and lets the candidate lock go.
//! A follower that comes next sees a different holder (the new leader) and stands
//! down; one that finds the candidate lock taken waits another window. The browser's
//! lock manager decides: no random delays, no tie-breaking on the channel.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

use idb_sync_core::sync_loop::{StatusError, SyncNowResult, SyncStatus};
use js_sys::{Array, Function, Object, Promise, Reflect};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, spawn_local, JsFuture};
use web_sys::{AbortController, BroadcastChannel, MessageEvent};

/// How often the leader says it is alive, and when followers call it frozen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Heartbeat {
    /// The leader's heartbeat period, ms (followers check at the same pace).
    pub(crate) period_ms: u64,
}

impl Heartbeat {
    /// The default period: 2 s, so a frozen leader is replaced after about 8 s.
    pub(crate) const DEFAULT_PERIOD_MS: u64 = 2_000;

    /// Silence longer than this means the leader is frozen: four periods, well above
    /// timer jitter and the 1 s timer alignment of hidden pages.
    pub(crate) fn stale_after_ms(&self) -> f64 {
        (self.period_ms * 4) as f64
    }
}

impl Default for Heartbeat {
    fn default() -> Self {
        Heartbeat {
            period_ms: Self::DEFAULT_PERIOD_MS,
        }
    }
}

/// A follower's watch over the leader's heartbeat (times from a monotonic clock).
#[derive(Debug)]
pub(crate) struct Watch {
    heartbeat: Heartbeat,
    last_heard: f64,
    last_tick: f64,
}

impl Watch {
    pub(crate) fn new(heartbeat: Heartbeat, now: f64) -> Watch {
        Watch {
            heartbeat,
            last_heard: now,
            last_tick: now,
        }
    }

    /// The leader (or a tab that just became it) spoke.
    pub(crate) fn heard(&mut self, now: f64) {
        self.last_heard = now;
    }

    /// When the leader last spoke (or the window last started again).
    pub(crate) fn last_heard(&self) -> f64 {
        self.last_heard
    }

    /// The follower's periodic check: whether the leader has been silent too long.
    /// When this tab's own timer ran late by half a window it was frozen or heavily
    /// throttled itself: the silence it saw says nothing about the leader, so the
    /// window starts again (this also keeps hidden tabs, whose timers Chrome may run
    /// once a minute, from stealing from each other in turn).
    pub(crate) fn tick(&mut self, now: f64) -> bool {
        let stale = self.heartbeat.stale_after_ms();
        let asleep = now - self.last_tick > stale / 2.0;
        self.last_tick = now;
        if asleep {
            self.last_heard = now;
            return false;
        }
        now - self.last_heard > stale
    }
}

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
    locks: JsValue,
    names: Names,
    /// This tab's id in `navigator.locks.query()`, learnt when joining.
    me: Option<String>,
    held: RefCell<Option<Held>>,
    queued: RefCell<Option<AbortController>>,
    next_request: Cell<u64>,
    taking_over: Cell<bool>,
    /// Takeovers given up because another tab held the candidate lock.
    candidate_misses: Cell<u32>,
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

fn lock_manager() -> Option<JsValue> {
    let navigator = web_sys::window()?.navigator();
    let locks = Reflect::get(&navigator, &"locks".into()).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then_some(locks)
}

/// `navigator.locks.request(name, options, callback)`; its promise rejects when the
/// request is withdrawn or the lock stolen.
fn request(
    locks: &JsValue,
    name: &str,
    options: &Object,
    callback: &JsValue,
) -> Result<Promise, JsValue> {
    let request: Function = Reflect::get(locks, &"request".into())?.dyn_into()?;
    request
        .call3(locks, &name.into(), options, callback)?
        .dyn_into()
}

/// [`request`] whose outcome nobody needs: a rejection is expected, not unhandled.
fn request_quietly(
    locks: &JsValue,
    name: &str,
    options: &Object,
    callback: &JsValue,
) -> Result<(), JsValue> {
    let promise = request(locks, name, options, callback)?;
    spawn_local(async move {
        let _ = JsFuture::from(promise).await;
    });
    Ok(())
}

fn options(flag: &str) -> Object {
    let options = Object::new();
    let _ = Reflect::set(&options, &flag.into(), &true.into());
    options
}

/// The `clientId` of the tab holding lock `name`, from `navigator.locks.query()`;
/// `Err` when the browser cannot say.
async fn holder(locks: &JsValue, name: &str) -> Result<Option<String>, JsValue> {
    let query: Function = Reflect::get(locks, &"query".into())?.dyn_into()?;
    let snapshot = JsFuture::from(query.call0(locks)?.dyn_into::<Promise>()?).await?;
    let held: Array = Reflect::get(&snapshot, &"held".into())?.dyn_into()?;
    Ok(held
        .iter()
        .find(|lock| {
            Reflect::get(lock, &"name".into())
                .ok()
                .and_then(|n| n.as_string())
                .as_deref()
                == Some(name)
        })
        .and_then(|lock| Reflect::get(&lock, &"clientId".into()).ok()?.as_string()))
}

/// This tab's `clientId` as the lock manager knows it: the holder of a lock only this
/// tab asks for.
async fn own_client_id(locks: &JsValue) -> Option<String> {
    let name = format!("idb-sync-probe:{}", super::clock::random_u64());
    let mut done = None;
    let finished = Promise::new(&mut |resolve, _| done = Some(resolve));
    let done = done?;
    let locks_in = locks.clone();
    let probe = name.clone();
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        future_to_promise(async move {
            let id = if lock.is_null() {
                None
            } else {
                holder(&locks_in, &probe).await.ok().flatten()
            };
            let _ = done.call1(
                &JsValue::UNDEFINED,
                &id.map(JsValue::from).unwrap_or(JsValue::NULL),
            );
            Ok(JsValue::UNDEFINED)
        })
        .into()
    });
    request_quietly(locks, &name, &options("ifAvailable"), &callback).ok()?;
    JsFuture::from(finished).await.ok()?.as_string()
}

impl Election {
    /// Asks for the leader's lock. The future tells whether the callback got it (it
    /// never resolves for a queued request that is withdrawn).
    fn acquire(self: &Rc<Self>, mode: Mode) -> Option<impl Future<Output = bool>> {
        let id = self.next_request.get() + 1;
        self.next_request.set(id);
        let options = match mode {
            Mode::IfAvailable => options("ifAvailable"),
            Mode::Steal => options("steal"),
            Mode::Queue => {
                let options = Object::new();
                let abort = AbortController::new().ok()?;
                let _ = Reflect::set(&options, &"signal".into(), &abort.signal());
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
        let promise = request(&self.locks, &self.names.leader, &options, &callback).ok()?;
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

    /// The takeover itself, under the candidate lock: steal only if the tab seen
    /// holding the lock when the silence was noticed (`silent_holder`) still holds it
    /// (so two followers never rob each other) and nothing was heard since.
    async fn steal_from(
        self: &Rc<Self>,
        silent_holder: Option<String>,
        still_silent: impl FnOnce() -> bool,
    ) -> bool {
        let now_holder = holder(&self.locks, &self.names.leader).await.ok().flatten();
        let same = now_holder.is_some() && now_holder == silent_holder && now_holder != self.me;
        if !same || self.closed.get() || self.held.borrow().is_some() || !still_silent() {
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
    /// Joins the election for `db_name`. Resolves to this tab's leadership handle and
    /// whether it leads now; later, `on_change(true)` says it took over and
    /// `on_change(false)` that another tab stole the lead (this tab then queues again).
    pub(crate) async fn join(
        db_name: &str,
        on_change: impl Fn(bool) + 'static,
    ) -> (Leadership, bool) {
        let Some(locks) = lock_manager() else {
            return (Leadership { election: None }, true);
        };
        let me = own_client_id(&locks).await;
        let election = Rc::new(Election {
            locks,
            names: Names {
                leader: format!("idb-sync-leader:{db_name}"),
                candidate: format!("idb-sync-candidate:{db_name}"),
            },
            me,
            held: RefCell::new(None),
            queued: RefCell::new(None),
            next_request: Cell::new(0),
            taking_over: Cell::new(false),
            candidate_misses: Cell::new(0),
            closed: Cell::new(false),
            on_change: Box::new(on_change),
        });
        // First: is the lock free right now? (The callback runs at once either way.)
        let Some(first) = election.acquire(Mode::IfAvailable) else {
            return (Leadership { election: None }, true);
        };
        if first.await {
            return (
                Leadership {
                    election: Some(election),
                },
                true,
            );
        }
        // Not free: wait for it in the background.
        election.queue();
        (
            Leadership {
                election: Some(election),
            },
            false,
        )
    }

    /// Whether this tab still holds the lock, asked of the browser's lock manager (a
    /// robbed tab may run a timer before it hears it was robbed). True when the
    /// browser cannot say, or has no Web Locks.
    pub(crate) async fn still_held(&self) -> bool {
        let Some(e) = &self.election else { return true };
        if e.held.borrow().is_none() {
            return false;
        }
        let Some(me) = &e.me else { return true };
        match holder(&e.locks, &e.names.leader).await {
            Ok(holder) => holder.as_ref() == Some(me),
            Err(_) => true,
        }
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
    /// in the middle of a takeover), the candidate lock is stolen too. Success is
    /// told through `on_change(true)`.
    pub(crate) fn take_over(&self, still_silent: impl FnOnce() -> bool + 'static) {
        let Some(e) = &self.election else { return };
        if e.closed.get() || e.held.borrow().is_some() || e.taking_over.get() {
            return;
        }
        e.taking_over.set(true);
        let this = e.clone();
        spawn_local(async move {
            let silent_holder = holder(&this.locks, &this.names.leader).await.ok().flatten();
            let mode = if this.candidate_misses.get() >= 3 {
                "steal"
            } else {
                "ifAvailable"
            };
            let mut done = None;
            let finished = Promise::new(&mut |resolve, _| done = Some(resolve));
            let inner = this.clone();
            let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
                future_to_promise(async move {
                    let stolen = if lock.is_null() {
                        inner.candidate_misses.set(inner.candidate_misses.get() + 1);
                        false
                    } else {
                        inner.candidate_misses.set(0);
                        inner.steal_from(silent_holder, still_silent).await
                    };
                    if let Some(done) = done {
                        let _ = done.call1(&JsValue::UNDEFINED, &stolen.into());
                    }
                    Ok(JsValue::UNDEFINED)
                })
                .into()
            });
            let stolen = match request_quietly(
                &this.locks,
                &this.names.candidate,
                &options(mode),
                &callback,
            ) {
                Ok(_) => JsFuture::from(finished)
                    .await
                    .ok()
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false),
                Err(_) => false,
            };
            this.taking_over.set(false);
            if stolen && !this.closed.get() {
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

/// A message between the tabs of one database.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub(crate) enum Message {
    /// The leader is alive (every heartbeat period, and when a tab takes over).
    Heartbeat,
    /// The leader's status.
    Status {
        /// The status.
        status: SyncStatus,
    },
    /// A new tab asks the leader for its status.
    Hello,
    /// Something changed that the leader should sync soon.
    Poke,
    /// The app has new credentials (`refreshAuth()` in a follower).
    Reauth,
    /// A follower's `syncNow()`.
    SyncNow {
        /// The request's id.
        id: String,
    },
    /// The leader's answer to `SyncNow`.
    SyncNowDone {
        /// The request's id.
        id: String,
        /// The result, on success.
        result: Option<SyncNowResult>,
        /// The error, on failure.
        error: Option<StatusError>,
    },
}

/// The manager's channel to the other tabs; closed when dropped.
pub(crate) struct Relay {
    channel: BroadcastChannel,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl Relay {
    /// Opens the channel of `db_name`; `on_message` gets every message from other tabs.
    pub(crate) fn open(
        db_name: &str,
        mut on_message: impl FnMut(Message) + 'static,
    ) -> Option<Relay> {
        let channel = BroadcastChannel::new(&format!("idb-sync-loop:{db_name}")).ok()?;
        let closure = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(message) = event
                .data()
                .as_string()
                .and_then(|s| serde_json::from_str(&s).ok())
            {
                on_message(message);
            }
        });
        channel.set_onmessage(Some(closure.as_ref().unchecked_ref()));
        Some(Relay {
            channel,
            _on_message: closure,
        })
    }

    /// Sends `message` to the other tabs.
    pub(crate) fn post(&self, message: &Message) {
        if let Ok(json) = serde_json::to_string(message) {
            let _ = self.channel.post_message(&json.into());
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}

#[cfg(test)]
mod tests {
    use super::{Heartbeat, Watch};
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    wasm_bindgen_test_configure!(run_in_browser);

    const BEAT: Heartbeat = Heartbeat { period_ms: 1_000 };

    #[wasm_bindgen_test]
    fn a_leader_heard_every_period_is_never_stale() {
        let mut watch = Watch::new(BEAT, 0.0);
        for t in (1..100).map(|i| f64::from(i) * 1_000.0) {
            watch.heard(t - 10.0);
            assert!(!watch.tick(t), "stale at {t}");
        }
    }

    #[wasm_bindgen_test]
    fn a_silent_leader_is_stale_after_four_periods() {
        let mut watch = Watch::new(BEAT, 0.0);
        let stale: Vec<bool> = (1..=5)
            .map(|i| watch.tick(f64::from(i) * 1_000.0))
            .collect();
        assert_eq!(stale, [false, false, false, false, true]);
    }

    #[wasm_bindgen_test]
    fn a_follower_that_slept_itself_starts_the_window_again() {
        let mut watch = Watch::new(BEAT, 0.0);
        assert!(!watch.tick(1_000.0));
        // Frozen (or throttled to once a minute) for 60 s: no verdict on the leader.
        assert!(!watch.tick(61_000.0));
        for t in [62_000.0, 63_000.0, 64_000.0, 65_000.0] {
            assert!(!watch.tick(t), "stale at {t}");
        }
        assert!(watch.tick(65_500.0));
    }
}
