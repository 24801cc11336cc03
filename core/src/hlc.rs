//! Hybrid logical clock ([`Hlc`]) for the `lastWriteWins` policy.
//!
//! The physical part is the local wall clock corrected by the measured server clock
//! offset, so a device whose clock is an hour ahead does not win every conflict; the
//! logical counter keeps timestamps strictly increasing per client and after every
//! timestamp received from the server; the node (client id) breaks ties.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

/// A hybrid logical clock timestamp. Ordered by `(millis, counter, node)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch, in server-corrected time.
    pub millis: u64,
    /// Logical counter within one millisecond.
    pub counter: u32,
    /// The id of the client that made the timestamp (tie-breaker).
    pub node: String,
}

impl Ord for Hlc {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.millis, self.counter, &self.node).cmp(&(other.millis, other.counter, &other.node))
    }
}
impl PartialOrd for Hlc {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Hlc {
    /// The zero timestamp of `node`.
    pub fn zero(node: impl Into<String>) -> Self {
        Hlc {
            millis: 0,
            counter: 0,
            node: node.into(),
        }
    }

    /// The timestamp of a local event at corrected physical time `now_ms`, strictly
    /// after `self` (the last timestamp this node issued or received).
    pub fn tick(&self, now_ms: u64, node: &str) -> Hlc {
        if now_ms > self.millis {
            Hlc {
                millis: now_ms,
                counter: 0,
                node: node.to_owned(),
            }
        } else {
            Hlc {
                millis: self.millis,
                counter: self.counter.saturating_add(1),
                node: node.to_owned(),
            }
        }
    }

    /// Merges a timestamp received from elsewhere: the result is after both.
    pub fn observe(&self, received: &Hlc, now_ms: u64, node: &str) -> Hlc {
        let millis = now_ms.max(self.millis).max(received.millis);
        let counter = if millis == self.millis && millis == received.millis {
            self.counter.max(received.counter).saturating_add(1)
        } else if millis == self.millis {
            self.counter.saturating_add(1)
        } else if millis == received.millis {
            received.counter.saturating_add(1)
        } else {
            0
        };
        Hlc {
            millis,
            counter,
            node: node.to_owned(),
        }
    }
}

/// Corrects a local wall-clock reading by the measured offset to the server clock.
pub fn corrected_now(local_now_ms: u64, offset_ms: i64) -> u64 {
    if offset_ms >= 0 {
        local_now_ms.saturating_add(offset_ms as u64)
    } else {
        local_now_ms.saturating_sub(offset_ms.unsigned_abs())
    }
}

/// The offset of the server clock to ours, measured from one exchange: the server's
/// time minus the midpoint of our send and receive times.
pub fn measure_offset(sent_at_ms: u64, received_at_ms: u64, server_time_ms: u64) -> i64 {
    let midpoint = sent_at_ms / 2 + received_at_ms / 2 + (sent_at_ms % 2 + received_at_ms % 2) / 2;
    server_time_ms as i64 - midpoint as i64
}
