//! The push channel's fan-out (docs/PROTOCOL.md, "Push channel"): which event
//! streams of which user are open in this process, and the latest change seq each
//! user's streams have been told about.
//!
//! One [`tokio::sync::watch`] channel per user with an open stream: a committed push
//! raises the user's value ([`EventHub::publish`]), every stream of that user wakes
//! and reads the latest value, so bursts coalesce and a stream never wakes for
//! another user's activity. Users without a stream have no entry: publishing for
//! them costs one map lookup. Across instances over one PostgreSQL the same
//! [`EventHub::publish`] is fed by LISTEN/NOTIFY ([`postgres`]).

pub mod postgres;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{watch, Notify};

/// The streams of one user in this process.
#[derive(Debug)]
struct UserStreams {
    /// The latest change seq announced for the user (only ever raised).
    seq: watch::Sender<u64>,
    /// Open streams, oldest first: (stream id, how to close it).
    streams: VecDeque<(u64, Arc<Notify>)>,
}

/// The open event streams of this process, by user. Shared by the handlers through
/// `AppState`.
#[derive(Debug)]
pub struct EventHub {
    users: Mutex<HashMap<String, UserStreams>>,
    max_streams_per_user: usize,
    next_id: AtomicU64,
    closing: watch::Sender<bool>,
}

impl EventHub {
    /// A hub allowing `max_streams_per_user` open streams per user (at least 1): one
    /// more closes that user's oldest.
    pub fn new(max_streams_per_user: usize) -> Self {
        Self {
            users: Mutex::default(),
            max_streams_per_user: max_streams_per_user.max(1),
            next_id: AtomicU64::new(1),
            closing: watch::Sender::new(false),
        }
    }

    fn users(&self) -> std::sync::MutexGuard<'_, HashMap<String, UserStreams>> {
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens a stream for `user`, closing the user's oldest stream when the user
    /// already has the most allowed. The stream ends when dropped.
    pub fn subscribe(self: &Arc<Self>, user: &str) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let evicted = Arc::new(Notify::new());
        let mut users = self.users();
        let entry = users.entry(user.to_owned()).or_insert_with(|| UserStreams {
            seq: watch::Sender::new(0),
            streams: VecDeque::new(),
        });
        while entry.streams.len() >= self.max_streams_per_user {
            if let Some((_, oldest)) = entry.streams.pop_front() {
                oldest.notify_one();
            }
        }
        entry.streams.push_back((id, evicted.clone()));
        Subscription {
            hub: self.clone(),
            user: user.to_owned(),
            id,
            seq: entry.seq.subscribe(),
            evicted,
            closing: self.closing.subscribe(),
        }
    }

    /// Tells `user`'s streams in this process that the user's change stream moved
    /// to `seq` (a lower or equal seq than already announced is ignored, so
    /// duplicates and late notifications are harmless).
    pub fn publish(&self, user: &str, seq: u64) {
        if let Some(entry) = self.users().get(user) {
            entry.seq.send_if_modified(|current| {
                let raised = seq > *current;
                if raised {
                    *current = seq;
                }
                raised
            });
        }
    }

    /// The users with at least one open stream here (to catch up after missed
    /// notifications).
    pub fn listening_users(&self) -> Vec<String> {
        self.users().keys().cloned().collect()
    }

    /// How many streams `user` has open here.
    pub fn stream_count(&self, user: &str) -> usize {
        self.users()
            .get(user)
            .map_or(0, |entry| entry.streams.len())
    }

    /// Ends every stream (server shutdown); streams opened afterwards end at once.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    fn remove(&self, user: &str, id: u64) {
        let mut users = self.users();
        if let Some(entry) = users.get_mut(user) {
            entry.streams.retain(|(stream, _)| *stream != id);
            if entry.streams.is_empty() {
                users.remove(user);
            }
        }
    }
}

/// One open stream of one user: waits for the user's change seq to move. Leaves
/// the hub when dropped (the client went away).
#[derive(Debug)]
pub struct Subscription {
    hub: Arc<EventHub>,
    user: String,
    id: u64,
    seq: watch::Receiver<u64>,
    evicted: Arc<Notify>,
    closing: watch::Receiver<bool>,
}

impl Subscription {
    /// The latest change seq announced for the user since the stream opened (0 if
    /// none).
    pub fn announced(&self) -> u64 {
        *self.seq.borrow()
    }

    /// Waits until the user's change seq is above `after` and returns it, or `None`
    /// when the stream must end (server shutdown, or closed for a newer stream).
    pub async fn next_after(&mut self, after: u64) -> Option<u64> {
        loop {
            if *self.closing.borrow_and_update() {
                return None;
            }
            let current = *self.seq.borrow_and_update();
            if current > after {
                return Some(current);
            }
            tokio::select! {
                changed = self.seq.changed() => changed.ok()?,
                closing = self.closing.changed() => closing.ok()?,
                () = self.evicted.notified() => return None,
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.remove(&self.user, self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stream_wakes_for_its_user_only_with_the_latest_seq() {
        let hub = Arc::new(EventHub::new(8));
        let mut alice = hub.subscribe("alice");
        let mut bob = hub.subscribe("bob");
        hub.publish("alice", 3);
        hub.publish("alice", 5);
        hub.publish("alice", 4); // late: ignored
        assert_eq!(alice.next_after(0).await, Some(5), "bursts coalesce");
        hub.publish("carol", 9); // nobody listens: nothing kept
        assert_eq!(hub.listening_users().len(), 2);
        let quiet = tokio::time::timeout(std::time::Duration::from_millis(50), bob.next_after(0));
        assert!(quiet.await.is_err(), "bob never wakes for alice's pushes");
    }

    #[tokio::test]
    async fn the_oldest_stream_closes_past_the_limit_and_streams_leave_when_dropped() {
        let hub = Arc::new(EventHub::new(2));
        let mut first = hub.subscribe("u");
        let second = hub.subscribe("u");
        let _third = hub.subscribe("u");
        assert_eq!(first.next_after(0).await, None, "the oldest was closed");
        assert_eq!(hub.stream_count("u"), 2);
        drop(first);
        assert_eq!(hub.stream_count("u"), 2, "the closed one had already left");
        drop(second);
        assert_eq!(hub.stream_count("u"), 1);
        drop(_third);
        assert_eq!(hub.stream_count("u"), 0);
        assert!(hub.listening_users().is_empty(), "no entry stays behind");
    }

    #[tokio::test]
    async fn close_ends_open_and_later_streams() {
        let hub = Arc::new(EventHub::new(8));
        let mut open = hub.subscribe("u");
        hub.close();
        assert_eq!(open.next_after(0).await, None);
        assert_eq!(hub.subscribe("u").next_after(0).await, None);
    }
}
