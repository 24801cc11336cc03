//! Decoding and validation of server answers: a malformed answer is a typed error and
//! nothing of it is applied.

use std::collections::BTreeSet;

use super::{Mutation, MutationResult, PullResponse, PushResponse, ServerSnapshot};
use crate::error::SyncError;
use crate::PROTOCOL_VERSION;

fn malformed(msg: impl Into<String>) -> SyncError {
    SyncError::MalformedResponse(msg.into())
}

fn check_snapshot(seq: u64, s: &ServerSnapshot) -> Result<(), SyncError> {
    if s.deleted != s.data.is_none() {
        return Err(malformed(format!(
            "result for seq {seq}: `deleted` disagrees with `data`"
        )));
    }
    Ok(())
}

/// Decodes a push answer body and checks it against the mutations that were sent.
pub fn decode_push_response(body: &str, sent: &[Mutation]) -> Result<PushResponse, SyncError> {
    let response: PushResponse =
        serde_json::from_str(body).map_err(|e| malformed(format!("push answer: {e}")))?;
    validate_push_response(&response, sent)?;
    Ok(response)
}

/// Checks that a push answer has exactly one result per mutation sent, in order,
/// and that each result is self-consistent.
pub fn validate_push_response(response: &PushResponse, sent: &[Mutation]) -> Result<(), SyncError> {
    if response.protocol_version != PROTOCOL_VERSION {
        return Err(malformed(format!(
            "protocol version {}",
            response.protocol_version
        )));
    }
    let sent_seqs: BTreeSet<u64> = sent.iter().map(|m| m.seq).collect();
    let mut seen = BTreeSet::new();
    for result in &response.results {
        let seq = result.seq();
        if !sent_seqs.contains(&seq) {
            return Err(malformed(format!(
                "a result for seq {seq}, which was not sent"
            )));
        }
        if !seen.insert(seq) {
            return Err(malformed(format!("two results for seq {seq}")));
        }
        match result {
            MutationResult::Conflict { server, .. } | MutationResult::Rejected { server, .. } => {
                check_snapshot(seq, server)?
            }
            MutationResult::Applied {
                version,
                previous_version,
                ..
            } if version < previous_version => {
                return Err(malformed(format!(
                    "applied seq {seq} with a version below the previous one"
                )))
            }
            _ => {}
        }
    }
    if seen.len() != sent_seqs.len() {
        return Err(malformed(format!(
            "{} results for {} mutations",
            response.results.len(),
            sent.len()
        )));
    }
    Ok(())
}

/// Decodes a pull answer body and checks each change.
pub fn decode_pull_response(body: &str) -> Result<PullResponse, SyncError> {
    let response: PullResponse =
        serde_json::from_str(body).map_err(|e| malformed(format!("pull answer: {e}")))?;
    if let PullResponse::Ok(page) = &response {
        if page.protocol_version != PROTOCOL_VERSION {
            return Err(malformed(format!(
                "protocol version {}",
                page.protocol_version
            )));
        }
        let mut keys = BTreeSet::new();
        for change in &page.changes {
            if change.deleted != change.data.is_none() {
                return Err(malformed(format!(
                    "change {}[{}]: `deleted` disagrees with `data`",
                    change.table, change.key
                )));
            }
            if change.version == 0 {
                return Err(malformed(format!(
                    "change {}[{}] with version 0",
                    change.table, change.key
                )));
            }
            if !keys.insert((change.table.clone(), change.key.clone())) {
                return Err(malformed(format!(
                    "change {}[{}] twice in one page",
                    change.table, change.key
                )));
            }
        }
    }
    Ok(response)
}
