//! `SyncManager` (issue 6): the sync loop in the browser. The core decides (the
//! scheduler, the status, the round); this module binds it to the browser:
//!
//! - [`manager`]: the exported class (thin, over [`inner::Inner`]).
//! - [`inner`]: the loop — timer, rounds, status, subscribers, `syncNow()` answers.
//! - [`options`]: `SyncManager.open` options: validated by core (`core/src/options/`),
//!   the app's functions put back here.
//! - [`transport`]: protocol v1 over `fetch`, with `getToken`/`apiKey`.
//! - [`leader`]: Web Locks leadership and the tabs' channel (I7).
//! - [`triggers`]: owned timers and DOM listeners; online/visibility readers.
//! - [`counts`], [`clock`], [`resolver`], [`error`], [`typescript`].

mod clock;
mod counts;
mod error;
mod inner;
mod leader;
mod manager;
mod options;
mod resolver;
mod transport;
mod triggers;
mod typescript;

pub use manager::SyncManager;
