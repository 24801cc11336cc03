//! The ports the engine runs over: [`Storage`], [`Transport`], [`Clock`].
//!
//! Async traits without `Send` (the browser is single-threaded); used as generics.
//! Every method of [`Storage`] is one atomic transaction: the operations the
//! invariants need atomic (I1 local write + outbox, I4 page + cursor, applying push
//! results) are each a single call. Adapters do I/O only; decisions are core's.

use std::collections::{BTreeMap, BTreeSet};

use crate::conflict::{ConflictLogEntry, DeadLetter};
use crate::error::SyncError;
use crate::key::RecordId;
use crate::outbox::{BatchLimits, ClientMeta, InFlightOp, KeyState};
use crate::protocol::{Change, Endpoint, MutationResult};

/// The transaction handed to [`Storage::transact`]'s closure: the client metadata and
/// the state of the keys asked for (missing keys are default, empty states). Whatever
/// the closure leaves here is written back atomically if it returns `Ok`.
#[derive(Clone, Debug, Default)]
pub struct StorageTx {
    /// The client metadata.
    pub meta: Option<ClientMeta>,
    /// The states of the requested keys. Empty states are deleted.
    pub states: BTreeMap<RecordId, KeyState>,
    /// Conflict-log entries to append.
    pub conflict_log: Vec<ConflictLogEntry>,
    /// Dead letters to add.
    pub new_dead_letters: Vec<DeadLetter>,
    /// Ids of dead letters to delete.
    pub removed_dead_letters: Vec<u64>,
    /// Pulled changes for tables this database does not declare (an older app
    /// version's schema): the adapter keeps them, the highest version per key, in a
    /// sync-internal store until a schema declares the table (see
    /// [`Storage::deferred_changes`]).
    pub deferred: Vec<Change>,
    /// Kept changes now applied: the adapter deletes them from its store.
    pub applied_deferred: Vec<RecordId>,
    /// Keys whose stored record the adapter did not load (only
    /// [`Storage::transact_pulled`] leaves any, and only keys without sync state:
    /// [`KeyState::has_sync_state`] is false). Their `value` reads `None` but means
    /// "not read". A closure that gives such a key a value of its own removes it
    /// from here ([`crate::engine::apply_change`] does when a pulled change replaces
    /// the record); a key still listed afterwards keeps its stored record untouched.
    pub unloaded: BTreeSet<RecordId>,
}

impl StorageTx {
    /// The metadata (adapters always fill it).
    pub fn meta(&mut self) -> Result<&mut ClientMeta, SyncError> {
        self.meta
            .as_mut()
            .ok_or_else(|| SyncError::Storage("transaction without metadata".into()))
    }

    /// The state of a requested key.
    pub fn state(&mut self, id: &RecordId) -> &mut KeyState {
        self.states.entry(id.clone()).or_default()
    }
}

/// The client's durable store: records with their sync state, the outbox, metadata,
/// the conflict log and dead letters. Each method is one atomic transaction.
#[allow(async_fn_in_trait)]
pub trait Storage {
    /// Reads the client metadata (created on first open by the adapter).
    async fn read_meta(&self) -> Result<ClientMeta, SyncError>;

    /// Reads the state of one key.
    async fn read_state(&self, id: &RecordId) -> Result<KeyState, SyncError>;

    /// One transaction: loads the metadata and the states of `keys` into a
    /// [`StorageTx`], runs `f` (synchronous: no await inside an IndexedDB
    /// transaction), and writes everything back if `f` returns `Ok`, nothing if `Err`.
    async fn transact<R>(
        &self,
        keys: &[RecordId],
        f: impl FnOnce(&mut StorageTx) -> Result<R, SyncError>,
    ) -> Result<R, SyncError>;

    /// One transaction applying the `results` of one push request of `ops` when none
    /// needs record data (`applied`, `duplicate`: [`crate::outbox::needs_record`] is
    /// false for each): runs `prepare` on the metadata (an `Err` applies nothing),
    /// then [`crate::outbox::acknowledge`] on the [`crate::outbox::SyncHeader`] of
    /// each key whose in-flight seq a result answers. The default goes through
    /// [`Storage::transact`]; an adapter may read and write the sync rows alone,
    /// never the records.
    async fn acknowledge(
        &self,
        ops: &[InFlightOp],
        results: &[MutationResult],
        prepare: impl FnOnce(&mut ClientMeta) -> Result<(), SyncError>,
    ) -> Result<(), SyncError> {
        let keys: Vec<RecordId> = ops.iter().map(|o| o.id.clone()).collect();
        self.transact(&keys, |tx| {
            let mut meta = tx.meta()?.clone();
            prepare(&mut meta)?;
            for result in results {
                if let Some(op) = ops.iter().find(|o| o.seq == result.seq()) {
                    crate::outbox::acknowledge(&mut meta, tx.state(&op.id).header(), result);
                }
            }
            tx.meta = Some(meta);
            Ok(())
        })
        .await
    }

    /// [`Storage::transact`] for applying pulled changes: the adapter may leave
    /// unloaded the record of a key without sync state (no row: a pulled change
    /// replaces such a record whole, so core never reads it) and list the key in
    /// [`StorageTx::unloaded`]; a key the closure leaves listed keeps its stored
    /// record. Saves a read per record pulled into an empty table. The default
    /// loads everything.
    async fn transact_pulled<R>(
        &self,
        keys: &[RecordId],
        f: impl FnOnce(&mut StorageTx) -> Result<R, SyncError>,
    ) -> Result<R, SyncError> {
        self.transact(keys, f).await
    }

    /// One transaction: if any entry is in flight, returns all in-flight entries in
    /// seq order, each counting one more attempt ([`InFlightOp::resent`], stored).
    /// Otherwise moves pending entries, oldest first, to in-flight with
    /// [`crate::outbox::assign_in_flight`] while [`crate::outbox::BatchSelector`]
    /// accepts them, and returns them. `mode` gives each table's merge mode.
    async fn take_batch(
        &self,
        limits: &BatchLimits,
        mode: &dyn Fn(&str) -> crate::protocol::MergeMode,
    ) -> Result<Vec<InFlightOp>, SyncError>;

    /// Reads, changing nothing, what [`Storage::take_batch`] would take now (the
    /// in-flight entries, or else pending ones with the seqs they would get) and the
    /// metadata it would leave: what a keepalive sends when the page hides
    /// ([`crate::sync_loop::Keepalive`]). The default takes nothing (no keepalive).
    async fn peek_batch(
        &self,
        limits: &BatchLimits,
        mode: &dyn Fn(&str) -> crate::protocol::MergeMode,
    ) -> Result<(Vec<InFlightOp>, ClientMeta), SyncError> {
        let _ = (limits, mode);
        Ok((Vec::new(), self.read_meta().await?))
    }

    /// One transaction: drops every key without local changes or an open conflict,
    /// drops every kept (deferred) change, and clears the cursor (answer to
    /// `resetRequired`: the full pull that follows brings everything live again).
    async fn reset_replica(&self) -> Result<(), SyncError>;

    /// The keys with an open manual conflict.
    async fn conflict_keys(&self) -> Result<Vec<RecordId>, SyncError>;

    /// The conflict log, oldest first.
    async fn conflict_log(&self) -> Result<Vec<ConflictLogEntry>, SyncError>;

    /// The dead letters, oldest first.
    async fn dead_letters(&self) -> Result<Vec<DeadLetter>, SyncError>;

    /// Number of pending plus in-flight entries.
    async fn outbox_len(&self) -> Result<usize, SyncError>;

    /// Every key with a stored sync state (a record the engine knows, an outbox entry
    /// or a conflict), for the decisions that touch the whole database.
    async fn local_keys(&self) -> Result<Vec<RecordId>, SyncError>;

    /// One transaction: deletes every record of the synced tables, every key state
    /// and dead letter, and resets the metadata's `cursor` and `account` (the client
    /// id, seqs and clock stay): a fresh start for another account (I10).
    async fn clear_synced_data(&self) -> Result<(), SyncError>;

    /// True if this database declares `table` (has a store for it). Pulled changes
    /// for other tables are deferred ([`StorageTx::deferred`]), never applied.
    fn declares_table(&self, table: &str) -> bool {
        let _ = table;
        true
    }

    /// The kept (deferred) changes whose table this database now declares, in
    /// version order.
    async fn deferred_changes(&self) -> Result<Vec<Change>, SyncError> {
        Ok(Vec::new())
    }
}

/// An HTTP request of protocol v1 (JSON body).
#[derive(Clone, Debug, PartialEq)]
pub struct TransportRequest {
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// The JSON body.
    pub body: String,
}

/// An HTTP answer, any status.
#[derive(Clone, Debug, PartialEq)]
pub struct TransportResponse {
    /// HTTP status.
    pub status: u16,
    /// `Retry-After`, converted to ms, if present.
    pub retry_after_ms: Option<u64>,
    /// The body.
    pub body: String,
}

impl TransportResponse {
    /// A `Retry-After` header's value in ms: delay-seconds; an HTTP date (or anything
    /// else that is not a number of seconds) counts as 1 s from now. `None` without
    /// the header.
    pub fn retry_after_header_ms(value: Option<&str>) -> Option<u64> {
        let value = value?;
        match value.trim().parse::<u64>() {
            Ok(seconds) => Some(seconds.saturating_mul(1_000)),
            Err(_) => Some(1_000),
        }
    }
}

/// The network: one request, one answer. Errors are only for "no answer"
/// ([`SyncError::Network`], or a refusal to send: [`SyncError::Closed`],
/// [`SyncError::NotLeader`]); HTTP error statuses are answers.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// Sends one request (adding credentials) and returns the answer.
    async fn send(&self, request: TransportRequest) -> Result<TransportResponse, SyncError>;

    /// Asks the app for fresh credentials after a 401. Returns whether it got some.
    async fn refresh_credentials(&self) -> bool {
        false
    }
}

/// Time: the local wall clock and sleeping. Virtual in tests.
#[allow(async_fn_in_trait)]
pub trait Clock {
    /// Local wall-clock time, ms since the epoch (may be skewed).
    fn now_ms(&self) -> u64;
    /// Sleeps `ms` milliseconds.
    async fn sleep(&self, ms: u64);

    /// Lets the host run its other work before the engine goes on (in a browser: a
    /// new macrotask, so the page stays responsive); the engine yields between pulled
    /// pages. The default sleeps 0 ms.
    async fn yield_now(&self) {
        self.sleep(0).await;
    }

    /// A new client id, to replace `previous` after the server refused it as reused
    /// (I11). Time-ordered ids live here with the clock. The default derives a
    /// UUID-v7-shaped id from the time and `previous` (deterministic, for tests);
    /// the browser overrides it with a random UUID v7.
    fn new_client_id(&self, previous: &str) -> String {
        let now = self.now_ms();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in previous.bytes().chain(now.to_le_bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        let t = now & 0xffff_ffff_ffff;
        format!(
            "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
            t >> 16,
            t & 0xffff,
            (h >> 52) & 0xfff,
            0x8000 | ((h >> 36) & 0x3fff),
            h & 0xffff_ffff_ffff
        )
    }
}

#[cfg(test)]
mod tests {
    use super::TransportResponse;

    #[test]
    fn retry_after_is_seconds_and_a_date_counts_as_one() {
        let ms = TransportResponse::retry_after_header_ms;
        assert_eq!(ms(None), None);
        assert_eq!(ms(Some("2")), Some(2_000));
        assert_eq!(ms(Some(" 30 ")), Some(30_000));
        assert_eq!(ms(Some("0")), Some(0));
        assert_eq!(ms(Some("Wed, 21 Oct 2015 07:28:00 GMT")), Some(1_000));
        assert_eq!(ms(Some("-1")), Some(1_000));
        assert_eq!(ms(Some(&u64::MAX.to_string())), Some(u64::MAX));
    }
}
