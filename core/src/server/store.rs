//! The server storage port: one value of a [`ServerStore`] is one database
//! transaction; the caller commits it when `apply_push`/`pull` return `Ok`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ServerError;
use crate::hlc::Hlc;
use crate::key::RecordKey;
use crate::protocol::{ConflictReason, Origin, ServerSnapshot};
use crate::record::Record;

/// A record as the server stores it (a tombstone when `data` is `None`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerRecord {
    /// The table.
    pub table: String,
    /// The key.
    pub key: RecordKey,
    /// The user's change sequence number of the write that made this version: so
    /// versions only grow, also across a tombstone purge and re-create.
    pub version: u64,
    /// The version this one replaced (0 if none): tells a client whether anything
    /// happened between its base and its own write.
    pub previous_version: u64,
    /// The record, `None` for a tombstone.
    pub data: Option<Record>,
    /// Timestamp of the write that made this version.
    pub hlc: Option<Hlc>,
    /// The user's change sequence number of this version (the pull cursor orders by it).
    pub change_seq: u64,
    /// The mutation that wrote this version.
    pub origin: Option<Origin>,
}

impl ServerRecord {
    /// The snapshot sent with conflicts and rejections.
    pub fn snapshot(record: Option<&ServerRecord>) -> ServerSnapshot {
        match record {
            None => ServerSnapshot::absent(),
            Some(r) => ServerSnapshot {
                version: r.version,
                deleted: r.data.is_none(),
                data: r.data.clone(),
                hlc: r.hlc.clone(),
            },
        }
    }
}

/// The outcome of a mutation that was not applied, remembered so that a resend gets
/// the same answer (not `duplicate`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum StoredOutcome {
    /// It was a conflict (answered again with the record's current state).
    Conflict(ConflictReason),
    /// It was rejected.
    Rejected {
        /// Code.
        code: String,
        /// Reason.
        reason: String,
    },
}

/// Idempotency state of one `(user, clientId)`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientState {
    /// Every seq at or below this was processed (I3).
    pub high_water: u64,
    /// Outcomes of processed seqs that were not applied, for seqs the client may still
    /// resend (those at or above the smallest seq of its latest push).
    pub unapplied: BTreeMap<u64, StoredOutcome>,
}

/// The server's database, inside one transaction. Every method sees the writes made
/// earlier in the same transaction.
#[allow(async_fn_in_trait)]
pub trait ServerStore {
    /// The idempotency state of `(user, client_id)` (default if new).
    async fn client_state(
        &mut self,
        user: &str,
        client_id: &str,
    ) -> Result<ClientState, ServerError>;
    /// Stores it.
    async fn put_client_state(
        &mut self,
        user: &str,
        client_id: &str,
        state: &ClientState,
    ) -> Result<(), ServerError>;
    /// A record or tombstone of the user.
    async fn get_record(
        &mut self,
        user: &str,
        table: &str,
        key: &RecordKey,
    ) -> Result<Option<ServerRecord>, ServerError>;
    /// Inserts or replaces a record or tombstone.
    async fn put_record(&mut self, user: &str, record: &ServerRecord) -> Result<(), ServerError>;
    /// Allocates the user's next change sequence number (strictly increasing; gaps allowed).
    async fn next_change_seq(&mut self, user: &str) -> Result<u64, ServerError>;
    /// Records and tombstones with `change_seq > after`, by increasing `change_seq`, at most `limit`.
    async fn changes_since(
        &mut self,
        user: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ServerRecord>, ServerError>;
    /// Tombstones with `change_seq <= horizon` may have been purged: a cursor before it must reset.
    async fn tombstone_horizon(&mut self, user: &str) -> Result<u64, ServerError>;
    /// Purges tombstones with `change_seq <= up_to` and raises the horizon to `up_to`.
    async fn purge_tombstones(&mut self, user: &str, up_to: u64) -> Result<(), ServerError>;
}
