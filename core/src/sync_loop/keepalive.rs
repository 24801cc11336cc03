//! [`Keepalive`]: what leaves with `fetch(…, { keepalive: true })` when the page hides
//! (docs/SYNC_MANAGER.md, "After the tab closes"). A page that hides for good cannot
//! await IndexedDB or `getToken()`, so the leader keeps its next push ready: after
//! every change of the outbox it reads, without changing anything, the batch the
//! next round would take (the in-flight entries, or else the oldest pending ones with
//! the seqs they will get), and [`keepalive_body`] turns the longest prefix that fits
//! the browser's keepalive budget into a v1 push body. On `visibilitychange` to hidden
//! and on `pagehide`, [`Keepalive::hide`] says whether to send it (once per body).
//!
//! Nothing is acknowledged from the answer (the page is gone): the next session pushes
//! the same `(clientId, seq)`s and the server answers `duplicate` (its idempotency,
//! docs/PROTOCOL.md). Should a pending entry change before that push, its seq comes
//! back with other content and the server answers `client_id_reused`: the client takes
//! a new identity and resends (I11), so nothing is lost either way.

use crate::engine::EngineConfig;
use crate::error::SyncError;
use crate::outbox::{BatchLimits, ClientMeta, InFlightOp};
use crate::ports::Storage;
use crate::protocol::PushRequest;
use crate::PROTOCOL_VERSION;

/// The browser's keepalive budget: at most this many bytes of keepalive request
/// bodies in flight per page (Fetch standard, "keepalive").
pub const KEEPALIVE_BUDGET_BYTES: usize = 64 * 1024;

/// What idb-sync's keepalive push may use of [`KEEPALIVE_BUDGET_BYTES`]: the rest is
/// left to the app's own beacons on the same `pagehide`.
pub const KEEPALIVE_BODY_BYTES: usize = 60 * 1024;
const _: () = assert!(KEEPALIVE_BODY_BYTES < KEEPALIVE_BUDGET_BYTES);

/// At most this many entries are read for a keepalive (a small batch: the read runs
/// after every change of the outbox).
pub const KEEPALIVE_MAX_ENTRIES: usize = 128;

/// The least time between the end of one read of the body and the start of the next
/// one that changes during it asked for. A write after a quiet spell is read at once;
/// during a burst of writes the body is read again at most about four times a second,
/// not after each write: a read per write made single awaited puts 4.5x slower
/// (`bench/keepalive.mjs`, BENCHMARKS.md "Keepalive"). A page closed within this time
/// of a burst's last write leaves that write to the next session.
pub const KEEPALIVE_READ_GAP_MS: u32 = 250;

/// The v1 push body of the longest prefix of `batch` that fits `budget` bytes (UTF-8,
/// as `fetch` sends it), or `None` when not even the first entry fits (or `batch` is
/// empty). A prefix, in `batch`'s order: the entries carry the seqs the next round
/// gives them, and a round sends them in that order.
pub fn keepalive_body(batch: &[InFlightOp], meta: &ClientMeta, budget: usize) -> Option<String> {
    let mut request = PushRequest {
        protocol_version: PROTOCOL_VERSION,
        client_id: meta.client_id.clone(),
        account: meta.account.clone(),
        mutations: Vec::new(),
    };
    // `{…,"mutations":[]}`, then each mutation and the comma before all but the first.
    let mut size = serde_json::to_string(&request).ok()?.len();
    for op in batch {
        let mutation = op.to_mutation();
        let comma = usize::from(!request.mutations.is_empty());
        let more = serde_json::to_string(&mutation).ok()?.len() + comma;
        if size + more > budget {
            break;
        }
        size += more;
        request.mutations.push(mutation);
    }
    if request.mutations.is_empty() {
        return None;
    }
    serde_json::to_string(&request).ok()
}

/// The keepalive body of `storage` now: the batch the next round would take
/// ([`Storage::peek_batch`], at most [`KEEPALIVE_MAX_ENTRIES`] entries), cut to
/// [`KEEPALIVE_BODY_BYTES`] by [`keepalive_body`].
pub async fn read_keepalive<S: Storage>(
    storage: &S,
    config: &EngineConfig,
) -> Result<Option<String>, SyncError> {
    let limits = BatchLimits {
        max_count: config.batch.max_count.min(KEEPALIVE_MAX_ENTRIES),
        max_bytes: config.batch.max_bytes.min(KEEPALIVE_BODY_BYTES),
    };
    let mode = |table: &str| config.policies.for_table(table).merge_mode();
    let (batch, meta) = storage.peek_batch(&limits, &mode).await?;
    Ok(keepalive_body(&batch, &meta, KEEPALIVE_BODY_BYTES))
}

/// The keepalive of one manager: its body, kept fresh while the outbox changes, and
/// whether that body left already (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Keepalive {
    body: Option<String>,
    sent: bool,
    reads: super::SerialReads,
}

impl Keepalive {
    /// The outbox may have changed (a local write, a round, leadership won): whether
    /// to start a read now. A change during a read asks for one more read after it.
    pub fn touched(&mut self) -> bool {
        self.reads.touched()
    }

    /// A read finished with `body` (`None`: nothing to send, or the read failed: an
    /// old body is never kept, it may hold what the server has answered since).
    /// Returns whether to read again at once. A new body may leave again.
    pub fn read(&mut self, body: Option<String>) -> bool {
        let again = self.reads.finished();
        if body != self.body {
            self.sent = false;
            self.body = body;
        }
        again
    }

    /// A read that did not happen (the page is hidden or may be frozen: no IndexedDB
    /// work then): the body stays as it was, and changes that came meanwhile are left
    /// for the next read (the page shown again touches it).
    pub fn skipped(&mut self) {
        self.reads.reset();
    }

    /// The page hides (`visibilitychange` to hidden, `pagehide`): the body to send
    /// now, if this tab runs the automatic loop (`running`: it leads and auto sync is
    /// on — `stopAutoSync()` stops the keepalive too), holds the credentials it needs
    /// without asking (`credentials`: a cached token, an API key, or no auth), and
    /// this body did not leave yet. Once per body: `pagehide` right after the hidden
    /// state sends nothing.
    pub fn hide(&mut self, running: bool, credentials: bool) -> Option<String> {
        if !running || !credentials || self.sent {
            return None;
        }
        let body = self.body.clone()?;
        self.sent = true;
        Some(body)
    }

    /// The body kept for the next hide, if any.
    pub fn body(&self) -> Option<&str> {
        self.body.as_deref()
    }
}

#[cfg(test)]
#[path = "keepalive_tests.rs"]
mod tests;
