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

/// What the server did with a processed mutation, remembered so that a resend gets the
/// same answer. (Its serde form is the one the `unapplied` outcomes had before content
/// hashes, so stored legacy outcomes still load.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum OutcomeKind {
    /// It was applied (a resend is answered `duplicate`).
    Applied,
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

/// The outcome of one processed `(clientId, seq)` and the hash of the content it had
/// ([`super::content_hash`]): a resend with other content is a reused client id (I11).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredOutcome {
    /// The content hash; `None` for an outcome stored before hashes existed.
    #[serde(default)]
    pub hash: Option<String>,
    /// What happened.
    pub kind: OutcomeKind,
}

/// Idempotency state of one `(user, clientId)`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientState {
    /// Every seq at or below this was processed (I3).
    pub high_water: u64,
    /// The client has received the answers to every seq below this one: it promised
    /// to resend only from its oldest unanswered seq, so a push starting below it
    /// comes from a reused client id. 0 for a state stored before this rule.
    #[serde(default)]
    pub acked_below: u64,
    /// Outcomes of processed seqs at or above `acked_below` (bounded: older ones are
    /// pruned, and at most [`super::ServerConfig::max_outcomes_per_client`] are kept).
    pub outcomes: BTreeMap<u64, StoredOutcome>,
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
    /// Stores it (adapters that keep outcomes as rows write only what changed and
    /// delete the outcomes below `acked_below`).
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
