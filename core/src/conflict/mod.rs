//! Conflict policies (docs/ENGINE.md, "Conflict policies"), the conflict log, manual conflicts and dead letters.
//!
//! A conflict is a local change (the *intent*: the key's unanswered ops merged) meeting
//! a server state it was not based on — at pull time (a foreign change to a key with
//! pending changes, I5) or at push time (the server answered `conflict`). [`resolve`]
//! decides, for every policy, in one place.

mod resolve;

pub use resolve::{resolve, ConflictInput, Resolution};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::hlc::Hlc;
use crate::key::RecordId;
use crate::protocol::MergeMode;
use crate::record::{Op, Record};

/// How conflicts on a table are resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum ConflictPolicy {
    /// Non-overlapping fields both survive; on overlap, server order wins (the change
    /// that reaches the server last). A delete beats a concurrent field update; a
    /// whole-record put resurrects a concurrently deleted record.
    #[default]
    FieldMerge,
    /// The server's record wins; the local change is logged and dropped.
    ServerWins,
    /// The local record wins and overwrites the server's.
    ClientWins,
    /// The later write by hybrid logical clock wins (skew-corrected; see [`crate::hlc`]).
    LastWriteWins,
    /// Kept in the conflicts store until the app resolves it.
    Manual,
    /// The app's resolver ([`ConflictResolver`]) computes the merged record.
    Custom,
}

impl ConflictPolicy {
    /// The merge mode mutations are pushed with under this policy.
    pub fn merge_mode(self) -> MergeMode {
        match self {
            ConflictPolicy::FieldMerge => MergeMode::FieldMerge,
            _ => MergeMode::Strict,
        }
    }
}

/// The conflict policy per table (with a default).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicyConfig {
    /// The policy of tables not listed in `tables`.
    pub default: ConflictPolicy,
    /// Per-table overrides.
    pub tables: BTreeMap<String, ConflictPolicy>,
}

impl PolicyConfig {
    /// One policy for every table.
    pub fn uniform(policy: ConflictPolicy) -> Self {
        PolicyConfig {
            default: policy,
            tables: BTreeMap::new(),
        }
    }

    /// The policy of `table`.
    pub fn for_table(&self, table: &str) -> ConflictPolicy {
        self.tables.get(table).copied().unwrap_or(self.default)
    }
}

/// What a custom resolver sees.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolverContext<'a> {
    /// The record.
    pub id: &'a RecordId,
    /// The local record (what the app sees now), `None` if deleted locally.
    pub local: Option<&'a Record>,
    /// The server's record, `None` if deleted there.
    pub remote: Option<&'a Record>,
    /// The local change not yet on the server (the base is the server record the
    /// change was made on; it is not kept, the change itself is given instead).
    pub local_change: Option<&'a Op>,
}

/// An app-supplied conflict resolver, `(local, remote, change) => merged` (the browser
/// half backs it with a JS function). Should be deterministic: return `Ok(None)` to
/// delete the record. When it fails (the JS function throws, or returns something
/// that is not a record that can be synced), [`resolve`] decides as the `fieldMerge`
/// policy would, and the conflict log says so.
pub trait ConflictResolver {
    /// The merged record, `None` for "deleted", or why the resolver failed.
    fn resolve(&self, ctx: &ResolverContext<'_>) -> Result<Option<Record>, ResolverFailed>;
}

/// Why an app's conflict resolver failed (for the app's console; the conflict is
/// then resolved as field merge would).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolverFailed(pub String);

/// The resolver used when no custom resolver is set: behaves as field merge by
/// taking the remote record with the local record's fields on top.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoResolver;

impl ConflictResolver for NoResolver {
    fn resolve(&self, ctx: &ResolverContext<'_>) -> Result<Option<Record>, ResolverFailed> {
        Ok(match (ctx.local, ctx.remote) {
            (Some(l), Some(r)) => {
                let mut out = r.clone();
                crate::record::apply_patch(&mut out, l);
                Some(out)
            }
            (l, r) => l.or(r).cloned(),
        })
    }
}

/// One automatic resolution, kept in the local conflict log for the app to read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConflictLogEntry {
    /// The record.
    pub id: RecordId,
    /// The seqs of the in-flight mutations the conflict was about (push time).
    pub seqs: Vec<u64>,
    /// The policy that resolved it (`manual` for an app's decision).
    pub policy: ConflictPolicy,
    /// The local record before resolution.
    pub local: Option<Record>,
    /// The local change that was outstanding.
    pub local_change: Option<Op>,
    /// The server's record.
    pub remote: Option<Record>,
    /// The server version seen.
    pub remote_version: u64,
    /// The record after resolution.
    pub resolved: Option<Record>,
    /// What happened, in words (`kept local`, `took server`, `merged fields`, ...).
    pub outcome: String,
    /// When (local clock, ms).
    pub at_ms: u64,
    /// Timestamp (skew-corrected HLC) of the latest local write in the change, if
    /// known: what `lastWriteWins` compared.
    #[serde(default)]
    pub local_hlc: Option<Hlc>,
    /// Timestamp of the server's write, if known.
    #[serde(default)]
    pub remote_hlc: Option<Hlc>,
}

/// A conflict waiting for the app (policy `manual`). The record shows the server's
/// version meanwhile; the local change is kept here.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManualConflict {
    /// The local record when the conflict was detected.
    pub local: Option<Record>,
    /// The local change that was outstanding.
    pub local_change: Option<Op>,
    /// The server's record.
    pub remote: Option<Record>,
    /// The server version seen.
    pub remote_version: u64,
    /// The seqs of the in-flight mutations it swallowed.
    pub seqs: Vec<u64>,
    /// Timestamp of the local change.
    pub local_hlc: Option<Hlc>,
    /// When it was detected (local clock, ms).
    pub at_ms: u64,
}

/// How the app resolves a manual conflict.
#[derive(Clone, Debug, PartialEq)]
pub enum ManualChoice {
    /// Write the local record (or delete, if it was deleted locally) over the server's.
    KeepLocal,
    /// Keep the server's record; the local change is discarded (and logged).
    KeepServer,
    /// Write this record (`None` = delete).
    Merged(Option<Record>),
}

impl ManualChoice {
    /// The choice the app names in `resolveConflict(table, key, name)`: `"local"` or
    /// `"server"`; `None` for anything else (a merged record is not named but given:
    /// `{ merged: record | null }`).
    pub fn named(name: &str) -> Option<ManualChoice> {
        match name {
            "local" => Some(ManualChoice::KeepLocal),
            "server" => Some(ManualChoice::KeepServer),
            _ => None,
        }
    }
}

/// A mutation the server rejected, parked for the app to inspect, retry or discard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Local id of the dead letter.
    pub id: u64,
    /// The record.
    pub record: RecordId,
    /// The rejected change.
    pub op: Op,
    /// Its seq.
    pub seq: u64,
    /// The server's (or client's) code, e.g. `validation_failed`, `too_large`.
    pub code: String,
    /// The reason in words.
    pub reason: String,
    /// When (local clock, ms).
    pub at_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::ManualChoice;

    #[test]
    fn the_app_names_local_or_server() {
        assert_eq!(ManualChoice::named("local"), Some(ManualChoice::KeepLocal));
        assert_eq!(
            ManualChoice::named("server"),
            Some(ManualChoice::KeepServer)
        );
        for bad in ["", "merged", "Local", "remote"] {
            assert_eq!(ManualChoice::named(bad), None, "{bad:?}");
        }
    }
}
