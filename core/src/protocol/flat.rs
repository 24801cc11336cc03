//! Flat decodings of the tagged enums of the wire, of the outbox and of the tabs'
//! channel ([`Op`], [`MutationResult`], [`PullResponse`], [`Message`], [`RecordKey`]): each is read as one plain
//! struct of every field its variants have (or, for a key, by one visitor) and then
//! checked, instead of serde's internally tagged or untagged decoding, which first
//! buffers the whole value (a pull page with all its records) into an intermediate
//! tree. Same accepted input, same values; smaller and faster code in the wasm
//! package (BENCHMARKS.md, "Package size"). Encoding stays derived.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::pull::{Change, Cursor, PullPage, PullResponse};
use super::push::{ConflictReason, MutationResult, ServerSnapshot};
use crate::key::RecordKey;
use crate::record::{Op, Patch, Record};
use crate::sync_loop::tabs::Message;
use crate::sync_loop::{StatusError, SyncNowResult, SyncStatus};

fn missing(field: &str) -> String {
    format!("missing field `{field}`")
}

/// The kinds of [`Op`] (its `kind` field).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum OpKind {
    Create,
    Put,
    Update,
    Delete,
}

/// An [`Op`] as read: its `kind` and whichever of its fields are present.
#[derive(Deserialize)]
pub(crate) struct RawOp {
    kind: OpKind,
    #[serde(default)]
    record: Option<Record>,
    #[serde(default)]
    patch: Option<Patch>,
}

impl TryFrom<RawOp> for Op {
    type Error = String;

    fn try_from(raw: RawOp) -> Result<Op, String> {
        Ok(match raw.kind {
            OpKind::Create => Op::Create {
                record: raw.record.ok_or_else(|| missing("record"))?,
            },
            OpKind::Put => Op::Put {
                record: raw.record.ok_or_else(|| missing("record"))?,
            },
            OpKind::Update => Op::Update {
                patch: raw.patch.ok_or_else(|| missing("patch"))?,
            },
            OpKind::Delete => Op::Delete,
        })
    }
}

/// The statuses of [`MutationResult`].
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum ResultStatus {
    Applied,
    Duplicate,
    Conflict,
    Rejected,
}

/// A [`MutationResult`] as read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawMutationResult {
    status: ResultStatus,
    seq: u64,
    #[serde(default)]
    version: Option<u64>,
    #[serde(default)]
    previous_version: Option<u64>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    server: Option<ServerSnapshot>,
}

impl TryFrom<RawMutationResult> for MutationResult {
    type Error = String;

    fn try_from(raw: RawMutationResult) -> Result<MutationResult, String> {
        let seq = raw.seq;
        let reason = raw.reason;
        Ok(match raw.status {
            ResultStatus::Applied => MutationResult::Applied {
                seq,
                version: raw.version.ok_or_else(|| missing("version"))?,
                previous_version: raw
                    .previous_version
                    .ok_or_else(|| missing("previousVersion"))?,
            },
            ResultStatus::Duplicate => MutationResult::Duplicate { seq },
            ResultStatus::Conflict => MutationResult::Conflict {
                seq,
                reason: conflict_reason(&reason.ok_or_else(|| missing("reason"))?)?,
                server: raw.server.ok_or_else(|| missing("server"))?,
            },
            ResultStatus::Rejected => MutationResult::Rejected {
                seq,
                code: raw.code.ok_or_else(|| missing("code"))?,
                reason: reason.ok_or_else(|| missing("reason"))?,
                server: raw.server.ok_or_else(|| missing("server"))?,
            },
        })
    }
}

fn conflict_reason(name: &str) -> Result<ConflictReason, String> {
    match name {
        "staleBase" => Ok(ConflictReason::StaleBase),
        "alreadyExists" => Ok(ConflictReason::AlreadyExists),
        "missing" => Ok(ConflictReason::Missing),
        other => Err(format!(
            "unknown variant `{other}`, expected one of `staleBase`, `alreadyExists`, `missing`"
        )),
    }
}

/// The statuses of [`PullResponse`].
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum PullStatus {
    Ok,
    ResetRequired,
}

/// A [`PullResponse`] as read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawPullResponse {
    status: PullStatus,
    protocol_version: u32,
    server_time: u64,
    #[serde(default)]
    changes: Option<Vec<Change>>,
    #[serde(default)]
    cursor: Option<Cursor>,
    #[serde(default)]
    has_more: Option<bool>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    account: Option<String>,
}

impl TryFrom<RawPullResponse> for PullResponse {
    type Error = String;

    fn try_from(raw: RawPullResponse) -> Result<PullResponse, String> {
        Ok(match raw.status {
            PullStatus::Ok => PullResponse::Ok(PullPage {
                protocol_version: raw.protocol_version,
                server_time: raw.server_time,
                changes: raw.changes.ok_or_else(|| missing("changes"))?,
                cursor: raw.cursor.ok_or_else(|| missing("cursor"))?,
                has_more: raw.has_more.ok_or_else(|| missing("hasMore"))?,
                account: raw.account,
            }),
            PullStatus::ResetRequired => PullResponse::ResetRequired {
                protocol_version: raw.protocol_version,
                server_time: raw.server_time,
                reason: raw.reason.ok_or_else(|| missing("reason"))?,
                account: raw.account,
            },
        })
    }
}

/// The types of [`Message`].
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum MessageType {
    Heartbeat,
    Status,
    Hello,
    Poke,
    Reauth,
    SyncNow,
    SyncNowDone,
}

/// A [`Message`] as read.
#[derive(Deserialize)]
pub(crate) struct RawMessage {
    #[serde(rename = "type")]
    kind: MessageType,
    #[serde(default)]
    status: Option<SyncStatus>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    result: Option<SyncNowResult>,
    #[serde(default)]
    error: Option<StatusError>,
}

impl TryFrom<RawMessage> for Message {
    type Error = String;

    fn try_from(raw: RawMessage) -> Result<Message, String> {
        Ok(match raw.kind {
            MessageType::Heartbeat => Message::Heartbeat,
            MessageType::Status => Message::Status {
                status: raw.status.ok_or_else(|| missing("status"))?,
            },
            MessageType::Hello => Message::Hello,
            MessageType::Poke => Message::Poke,
            MessageType::Reauth => Message::Reauth,
            MessageType::SyncNow => Message::SyncNow {
                id: raw.id.ok_or_else(|| missing("id"))?,
            },
            MessageType::SyncNowDone => Message::SyncNowDone {
                id: raw.id.ok_or_else(|| missing("id"))?,
                result: raw.result,
                error: raw.error,
            },
        })
    }
}

/// Reads a [`RecordKey`]: a number (any JSON or JS number) or a string.
pub(crate) fn record_key<'de, D: Deserializer<'de>>(d: D) -> Result<RecordKey, D::Error> {
    struct KeyVisitor;
    impl Visitor<'_> for KeyVisitor {
        type Value = RecordKey;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string or a number")
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<RecordKey, E> {
            Ok(RecordKey::Number(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<RecordKey, E> {
            Ok(RecordKey::Number(v as f64))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<RecordKey, E> {
            Ok(RecordKey::Number(v as f64))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<RecordKey, E> {
            Ok(RecordKey::String(v.to_owned()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<RecordKey, E> {
            Ok(RecordKey::String(v))
        }
    }
    d.deserialize_any(KeyVisitor)
}

#[cfg(test)]
#[path = "flat_tests.rs"]
mod tests;
