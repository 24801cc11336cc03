//! `SyncManager`: the sync loop in the browser. The core decides (the scheduler, the
//! status, the round, and which tab runs the loop: `idb_sync_core::sync_loop::tabs`);
//! this module binds it to the browser:
//!
//! - [`manager`]: the exported class (thin, over [`inner::Inner`]), one file per
//!   group of methods (`manager/{open,records,conflicts,dead_letters,account}.rs`).
//! - [`inner`]: the executor of the tab machine's effects; [`inputs`]: the events it
//!   feeds the machine; [`round`]: rounds, lead checks, counts and adoption.
//! - [`status`]: status subscribers; [`answer`]: `syncNow()` promises and answers;
//!   [`panic`]: the panic registry; [`wiring`]: DOM listeners and the channel.
//! - [`election`]: Web Locks leadership (docs/INVARIANTS.md, I7) over the typed
//!   bindings of [`web_locks`]; [`relay`]: the tabs' `BroadcastChannel`.
//! - [`options`]: `SyncManager.open` options: validated by core (`core/src/options/`),
//!   the app's functions put back here.
//! - [`transport`]: protocol v1 over `fetch`, with `getToken`/`apiKey`; [`custom`]:
//!   the app's `push`/`pull` functions instead of `fetch` (`protocol.kind: 'custom'`,
//!   only in the `adapters` build).
//! - [`live`]: the live channel's stream (`GET /v1/events`, server push), read with
//!   `fetch`; its decisions are core's (`idb_sync_core::sync_loop::Live`).
//! - [`triggers`]: online/visibility readers through `globalThis`.
//! - [`after_close`]: the keepalive push sent when the page hides.
//! - [`health`]: storage health (`status.storage`, eviction, `lostChanges()`).
//! - [`counts`], [`clock`], [`resolver`], [`error`], [`typescript`].
//!
//! Timers and listeners use `globalThis`; the loop itself does not need `window`, but `SyncManager.open` needs IndexedDB,
//! `BroadcastChannel` and (for one leader per database) Web Locks, all of which
//! dedicated workers have.

mod after_close;
mod answer;
mod clock;
mod counts;
#[cfg(feature = "adapters")]
mod custom;
mod election;
mod error;
mod health;
mod inner;
mod inputs;
mod live;
mod manager;
mod options;
mod panic;
mod relay;
mod resolver;
mod round;
mod status;
mod transport;
mod triggers;
mod typescript;
mod web_locks;
mod wiring;

pub use manager::SyncManager;
