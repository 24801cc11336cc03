//! `POST /v1/push`: the client sends mutations, the server answers one result each.

use serde::{Deserialize, Serialize};

use crate::hlc::Hlc;
use crate::key::RecordKey;
use crate::record::{Op, Record};

/// A push: the client's mutations, in increasing `seq` order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushRequest {
    /// Must be 1 for this protocol.
    pub protocol_version: u32,
    /// The client (one database on one device), stable across restarts.
    pub client_id: String,
    /// The account the client's local data belongs to (the `account` the server last
    /// reported); absent for a database that never synced. The server refuses the
    /// request with 409 `account_changed` when it is not the authenticated user (I10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The mutations, strictly increasing `seq`.
    pub mutations: Vec<Mutation>,
}

/// How the server treats a mutation whose `baseVersion` is stale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum MergeMode {
    /// Field merge: an update patches the current record even if it moved on.
    #[default]
    FieldMerge,
    /// Any stale base is a conflict, for the client's conflict policy to resolve.
    Strict,
}

/// One change to one record, identified by `(clientId, seq)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mutation {
    /// Per-client sequence number: persisted, strictly increasing, never reused.
    pub seq: u64,
    /// The table.
    pub table: String,
    /// The record key.
    pub key: RecordKey,
    /// The change.
    pub op: Op,
    /// The server version the client's copy was based on (0 = the client never saw
    /// the record on the server).
    pub base_version: u64,
    /// The hybrid logical clock timestamp of the (last) local write.
    pub hlc: Hlc,
    /// How to treat a stale base (default `fieldMerge`).
    #[serde(default)]
    pub mode: MergeMode,
}

/// The answer to a push.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushResponse {
    /// The protocol version of the answer (1).
    pub protocol_version: u32,
    /// The server's clock, in ms since the epoch (used to measure clock offset).
    pub server_time: u64,
    /// One result per mutation of the request, same order.
    pub results: Vec<MutationResult>,
    /// The authenticated user's id: the account these results belong to (I10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// The server's state of one record, sent with conflicts and rejections.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerSnapshot {
    /// The record's version (0 = the record never existed).
    pub version: u64,
    /// True if the record is deleted (or never existed); `data` is then null.
    pub deleted: bool,
    /// The record, null if deleted.
    pub data: Option<Record>,
    /// The timestamp of the write that made this version, if any.
    pub hlc: Option<Hlc>,
}

impl ServerSnapshot {
    /// The snapshot of a record that never existed.
    pub fn absent() -> Self {
        ServerSnapshot {
            version: 0,
            deleted: true,
            data: None,
            hlc: None,
        }
    }
}

/// Why a mutation is in conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConflictReason {
    /// `baseVersion` is not the record's current version (strict mode, or a put).
    StaleBase,
    /// A create for a key that exists on the server.
    AlreadyExists,
    /// An update of a record that is deleted or never existed.
    Missing,
}

/// The outcome of one mutation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
// Decoded through a flat struct (`super::flat`), not serde's buffering internally
// tagged decoding; encoded with `status` as the tag.
#[serde(
    tag = "status",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    try_from = "super::flat::RawMutationResult"
)]
pub enum MutationResult {
    /// Applied now; the record is at `version`.
    Applied {
        /// The mutation's seq.
        seq: u64,
        /// The record's new version.
        version: u64,
        /// The version the mutation was applied on (equal to `version` if it changed
        /// nothing, e.g. a delete of a deleted record).
        previous_version: u64,
    },
    /// Applied by an earlier delivery of the same `(clientId, seq)`; not applied again.
    Duplicate {
        /// The mutation's seq.
        seq: u64,
    },
    /// Not applied: the record changed; `server` is its current state.
    Conflict {
        /// The mutation's seq.
        seq: u64,
        /// Why.
        reason: ConflictReason,
        /// The record on the server.
        server: ServerSnapshot,
    },
    /// Not applied and never will be (validation, permissions).
    Rejected {
        /// The mutation's seq.
        seq: u64,
        /// Stable machine-readable code.
        code: String,
        /// Human-readable reason.
        reason: String,
        /// The record on the server, so the client can roll back.
        server: ServerSnapshot,
    },
}

impl MutationResult {
    /// The seq this result answers.
    pub fn seq(&self) -> u64 {
        match self {
            MutationResult::Applied { seq, .. }
            | MutationResult::Duplicate { seq }
            | MutationResult::Conflict { seq, .. }
            | MutationResult::Rejected { seq, .. } => *seq,
        }
    }
}

/// The mutation that produced a pulled change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Origin {
    /// The client that wrote it.
    pub client_id: String,
    /// Its seq.
    pub seq: u64,
}

#[cfg(test)]
mod wire_format_tests {
    use super::*;

    #[test]
    fn results_use_the_camel_case_field_names_of_the_protocol() {
        let applied = MutationResult::Applied {
            seq: 3,
            version: 9,
            previous_version: 7,
        };
        assert_eq!(
            serde_json::to_value(&applied).unwrap(),
            serde_json::json!({ "status": "applied", "seq": 3, "version": 9, "previousVersion": 7 })
        );
        let parsed: MutationResult =
            serde_json::from_str(r#"{"status":"applied","seq":3,"version":9,"previousVersion":7}"#)
                .unwrap();
        assert_eq!(parsed, applied);
    }
}
