//! The sync loop's decisions, apart from its timers and events: the [`Scheduler`]
//! (when to run a round), the [`Live`] channel (server push), the [`SyncStatus`] the app sees and how rounds change it,
//! the [`Keepalive`] push when the page hides, the [`ProgressTransport`] that reports a round's progress, and [`Tabs`] (which tab
//! runs the loop, the heartbeat, the messages between tabs, `syncNow()` answers).
//! The browser `SyncManager` feeds them DOM events and timer ticks; tests feed them
//! numbers.

mod keepalive;
mod live;
mod progress;
mod scheduler;
mod serial_reads;
mod status;
mod storage;
pub mod tabs;

pub use keepalive::{
    keepalive_body, read_keepalive, Keepalive, KEEPALIVE_BODY_BYTES, KEEPALIVE_BUDGET_BYTES,
    KEEPALIVE_MAX_ENTRIES, KEEPALIVE_READ_GAP_MS,
};
pub use live::{Live, LiveAction, LiveFailure, LiveMode, LiveState, Sse, SseEvent};
pub use progress::ProgressTransport;
pub use scheduler::{Blocked, Decision, IdleReason, Scheduler, SchedulerConfig};
pub use serial_reads::SerialReads;
pub use status::{
    OutboxCounts, Phase, Progress, Published, RoundProgress, StatusError, SyncNowResult, SyncStatus,
};
pub use storage::{
    on_connection_event, reopen_delay_ms, was_evicted, ConnectionAction, ConnectionEvent,
    KnownChanges, LostChange, StorageHealth,
};
pub use tabs::Tabs;
