//! Typed bindings for the Web Locks API (`navigator.locks`): web-sys has them only
//! behind `web_sys_unstable_apis`, so this file declares the few members the
//! election uses — `request(name, options, callback)`, `query()` and its snapshot —
//! and the helpers built on them: a request whose outcome nobody awaits, the holder
//! of a lock, and this tab's own `clientId` in the lock manager.

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::AbortSignal;

use super::triggers::{globals, Navigator};
use crate::interop::dispatch;

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks`, if the browser has Web Locks.
    #[wasm_bindgen(method, getter, structural)]
    fn locks(this: &Navigator) -> Option<LockManager>;

    /// The `LockManager` (`navigator.locks`).
    #[derive(Clone)]
    pub(crate) type LockManager;

    /// `locks.request(name, options, callback)`: the promise settles when the lock is
    /// released (rejects when the request is withdrawn or the lock stolen).
    #[wasm_bindgen(method, catch)]
    pub(crate) fn request(
        this: &LockManager,
        name: &str,
        options: &LockOptions,
        callback: &Function,
    ) -> Result<Promise, JsValue>;

    /// `locks.query()`: resolves to a [`LockSnapshot`].
    #[wasm_bindgen(method, catch)]
    pub(crate) fn query(this: &LockManager) -> Result<Promise, JsValue>;

    /// The options of a request.
    #[wasm_bindgen(extends = Object)]
    pub(crate) type LockOptions;

    /// `ifAvailable`: granted only if free now (the callback gets `null` otherwise).
    #[wasm_bindgen(method, setter, js_name = ifAvailable)]
    fn set_if_available(this: &LockOptions, value: bool);

    /// `steal`: taken from its holder, whose request then rejects.
    #[wasm_bindgen(method, setter)]
    fn set_steal(this: &LockOptions, value: bool);

    /// `signal`: aborting it withdraws a queued request.
    #[wasm_bindgen(method, setter)]
    fn set_signal(this: &LockOptions, value: &AbortSignal);

    /// What `query()` resolves to.
    pub(crate) type LockSnapshot;

    /// The locks held now.
    #[wasm_bindgen(method, getter)]
    fn held(this: &LockSnapshot) -> Option<Array>;

    /// One held or pending lock.
    pub(crate) type LockInfo;

    /// The lock's name.
    #[wasm_bindgen(method, getter)]
    fn name(this: &LockInfo) -> Option<String>;

    /// The id of the tab (client) that holds it.
    #[wasm_bindgen(method, getter, js_name = clientId)]
    fn client_id(this: &LockInfo) -> Option<String>;
}

/// `navigator.locks`, if the browser (or worker) has Web Locks.
pub(crate) fn lock_manager() -> Option<LockManager> {
    globals().navigator()?.locks()
}

impl LockOptions {
    fn empty() -> LockOptions {
        Object::new().unchecked_into()
    }

    /// `{ ifAvailable: true }`: only if free right now.
    pub(crate) fn if_available() -> LockOptions {
        let options = LockOptions::empty();
        options.set_if_available(true);
        options
    }

    /// `{ steal: true }`: take it from its holder.
    pub(crate) fn steal() -> LockOptions {
        let options = LockOptions::empty();
        options.set_steal(true);
        options
    }

    /// `{ signal }`: wait in the queue until `signal` aborts.
    pub(crate) fn queue(signal: &AbortSignal) -> LockOptions {
        let options = LockOptions::empty();
        options.set_signal(signal);
        options
    }
}

impl LockSnapshot {
    /// The `clientId` of the tab holding lock `name`.
    pub(crate) fn holder(&self, name: &str) -> Option<String> {
        self.held()?
            .iter()
            .map(JsCast::unchecked_into::<LockInfo>)
            .find(|lock| lock.name().as_deref() == Some(name))
            .and_then(|lock| lock.client_id())
    }
}

/// `locks.request` whose outcome nobody needs: a rejection is expected, not unhandled.
pub(crate) fn request_quietly(
    locks: &LockManager,
    name: &str,
    options: &LockOptions,
    callback: &JsValue,
) -> Result<(), JsValue> {
    let promise = locks.request(name, options, callback.unchecked_ref())?;
    spawn_local(async move {
        let _ = JsFuture::from(promise).await;
    });
    Ok(())
}

/// The `clientId` of the tab holding lock `name`, from `navigator.locks.query()`;
/// `Err` when the browser cannot say.
pub(crate) async fn holder(locks: &LockManager, name: &str) -> Result<Option<String>, JsValue> {
    let snapshot: LockSnapshot = JsFuture::from(locks.query()?).await?.unchecked_into();
    Ok(snapshot.holder(name))
}

/// This tab's `clientId` as the lock manager knows it: the holder of a lock only this
/// tab asks for.
pub(crate) async fn own_client_id(locks: &LockManager) -> Option<String> {
    let name = format!("idb-sync-probe:{}", super::clock::random_u64());
    let mut done = None;
    let finished = Promise::new(&mut |resolve, _| done = Some(resolve));
    let done = done?;
    let locks_in = locks.clone();
    let probe = name.clone();
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        dispatch(Box::pin(async move {
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
        }))
        .into()
    });
    request_quietly(locks, &name, &LockOptions::if_available(), &callback).ok()?;
    JsFuture::from(finished).await.ok()?.as_string()
}
