//! Building a push batch: pending entries in FIFO order, bounded by count and bytes,
//! moved to in-flight with fresh seqs (I3) in one storage transaction.

use crate::key::RecordId;
use crate::outbox::{ClientMeta, InFlightOp, KeyState};
use crate::protocol::MergeMode;

/// Limits of one push batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchLimits {
    /// At most this many mutations.
    pub max_count: usize,
    /// At most this many bytes of JSON mutations (one oversized mutation still goes
    /// alone, so that the server can answer it).
    pub max_bytes: usize,
}

/// The defaults match the reference server's (500 mutations, 4 MiB bodies) from below:
/// a push of 10,000 records is 20 requests, not 100 (each request costs a round trip
/// and a server transaction). A server that takes fewer answers 413 and the client
/// halves the request (`crate::engine`'s push).
impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            max_count: 500,
            max_bytes: 1024 * 1024,
        }
    }
}

/// Accumulates a batch while the adapter scans pending entries in FIFO order.
#[derive(Debug)]
pub struct BatchSelector {
    limits: BatchLimits,
    count: usize,
    bytes: usize,
}

impl BatchSelector {
    /// A selector for one batch.
    pub fn new(limits: BatchLimits) -> Self {
        BatchSelector {
            limits,
            count: 0,
            bytes: 0,
        }
    }

    /// Offers the next pending entry (its wire size in bytes); true if it joins the
    /// batch, false if the batch is full (stop scanning).
    pub fn offer(&mut self, wire_bytes: usize) -> bool {
        if self.count >= self.limits.max_count {
            return false;
        }
        if self.count > 0 && self.bytes + wire_bytes > self.limits.max_bytes {
            return false;
        }
        self.count += 1;
        self.bytes += wire_bytes;
        true
    }
}

/// Moves a key's pending entry to in-flight with the next seq; returns the in-flight
/// entry, or `None` if the key has nothing pending or something in flight already.
pub fn assign_in_flight(
    id: &RecordId,
    state: &mut KeyState,
    meta: &mut ClientMeta,
    mode: MergeMode,
) -> Option<InFlightOp> {
    if state.in_flight.is_some() {
        return None;
    }
    let pending = state.pending.take()?;
    let seq = meta.next_seq;
    meta.next_seq += 1;
    let entry = InFlightOp {
        id: id.clone(),
        op: pending.op,
        seq,
        base_version: state.version,
        since_ms: pending.since_ms,
        hlc: pending.hlc,
        mode,
        attempts: 1,
    };
    state.in_flight = Some(entry.clone());
    Some(entry)
}

/// The wire size of an entry, for [`BatchSelector::offer`].
pub fn wire_size(id: &RecordId, op: &crate::Op) -> usize {
    serde_json::to_vec(op).map(|v| v.len()).unwrap_or(0) + id.table.len() + 64
}
