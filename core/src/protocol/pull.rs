//! `POST /v1/pull`: the client asks for changes after its cursor, one page at a time.

use serde::{Deserialize, Serialize};

use super::push::Origin;
use crate::hlc::Hlc;
use crate::key::{RecordId, RecordKey};
use crate::record::Record;

/// An opaque, server-assigned position in the user's change stream. Clients store it
/// and send it back; they never build or compare cursors.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(pub String);

/// A pull: "changes after this cursor, please".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PullRequest {
    /// Must be 1.
    pub protocol_version: u32,
    /// The client id (for logs and rate limits; the answer does not depend on it).
    pub client_id: String,
    /// The account the client's local data belongs to (see `PushRequest::account`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The cursor of the last page applied; null for a first or full sync.
    pub cursor: Option<Cursor>,
    /// The largest page the client wants; the server may send fewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Leave out changes this client wrote with a seq up to this (it holds them at
    /// their exact versions already; docs/PROTOCOL.md, "Own echoes"). Only with a
    /// cursor; the page's cursor and `hasMore` still cover what was left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omit_own_through: Option<u64>,
}

/// The answer to a pull.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
// Decoded through a flat struct (`super::flat`): serde's internally tagged decoding
// would first buffer the whole page, records and all. Encoded with `status` as the tag.
#[serde(
    tag = "status",
    rename_all = "camelCase",
    try_from = "super::flat::RawPullResponse"
)]
pub enum PullResponse {
    /// A page of changes.
    Ok(PullPage),
    /// The cursor is older than the server's tombstone horizon, or was issued for
    /// another user: the client must drop its synced copy (keeping unsynced changes) and pull again from a null cursor.
    #[serde(rename_all = "camelCase")]
    ResetRequired {
        /// The protocol version (1).
        protocol_version: u32,
        /// Server clock, ms.
        server_time: u64,
        /// Human-readable reason.
        reason: String,
        /// The authenticated user's id (I10).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        account: Option<String>,
    },
}

/// One page of the change stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PullPage {
    /// The protocol version (1).
    pub protocol_version: u32,
    /// Server clock, ms.
    pub server_time: u64,
    /// Changed records, latest state only, in change-sequence order; each key once.
    pub changes: Vec<Change>,
    /// The cursor to store with this page and to send next.
    pub cursor: Cursor,
    /// True if more changes follow: pull again with `cursor`.
    pub has_more: bool,
    /// The authenticated user's id: the account this page belongs to (I10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// The latest state of one changed record (a tombstone if deleted).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The table.
    pub table: String,
    /// The key.
    pub key: RecordKey,
    /// The record's version after this change.
    pub version: u64,
    /// The version this change replaced (0 if none).
    pub previous_version: u64,
    /// True for a tombstone (`data` is then null).
    pub deleted: bool,
    /// The record, null for a tombstone.
    pub data: Option<Record>,
    /// Timestamp of the write.
    pub hlc: Option<Hlc>,
    /// The mutation that wrote this version, when known.
    pub origin: Option<Origin>,
}

impl Change {
    /// The record this change is about.
    pub fn record_id(&self) -> RecordId {
        RecordId {
            table: self.table.clone(),
            key: self.key.clone(),
        }
    }
}
