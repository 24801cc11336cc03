//! `pull`: pages of the user's change stream after an opaque cursor; tombstone GC.

use super::{ServerConfig, ServerError, ServerStore};
use crate::protocol::{Change, Cursor, PullPage, PullRequest, PullResponse};
use crate::PROTOCOL_VERSION;

const CURSOR_PREFIX: &str = "c1.";

/// The opaque cursor for a position in the change sequence, issued when the
/// tombstone horizon was `horizon`.
pub fn encode_cursor(change_seq: u64, horizon: u64) -> Cursor {
    Cursor(format!("{CURSOR_PREFIX}{change_seq}.{horizon}"))
}

/// The change-sequence position and issue-time horizon of a cursor this server issued.
pub fn decode_cursor(cursor: &Cursor) -> Result<(u64, u64), ServerError> {
    let bad = || ServerError::BadCursor(cursor.0.clone());
    let rest = cursor.0.strip_prefix(CURSOR_PREFIX).ok_or_else(bad)?;
    let (seq, horizon) = rest.split_once('.').ok_or_else(bad)?;
    Ok((
        seq.parse().map_err(|_| bad())?,
        horizon.parse().map_err(|_| bad())?,
    ))
}

/// Answers a pull for `user` inside the transaction `store`.
pub async fn pull<S: ServerStore>(
    store: &mut S,
    user: &str,
    request: &PullRequest,
    config: &ServerConfig,
    now_ms: u64,
) -> Result<PullResponse, ServerError> {
    if request.protocol_version != PROTOCOL_VERSION {
        return Err(ServerError::UpgradeRequired(request.protocol_version));
    }
    let (after, issued_horizon) = match &request.cursor {
        Some(c) => decode_cursor(c)?,
        None => (0, 0),
    };
    let horizon = store.tombstone_horizon(user).await?;
    // Tombstones after the cursor may have been purged since it was issued.
    if request.cursor.is_some() && after < horizon && issued_horizon < horizon {
        return Ok(PullResponse::ResetRequired {
            protocol_version: PROTOCOL_VERSION,
            server_time: now_ms,
            reason: "the cursor is older than the tombstone horizon".into(),
        });
    }
    let limit = request
        .limit
        .unwrap_or(config.default_pull_limit)
        .clamp(1, config.max_pull_limit) as usize;
    let mut rows = store.changes_since(user, after, limit + 1).await?;
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let last = rows.last().map_or(after, |r| r.change_seq);
    let changes = rows
        .into_iter()
        .map(|r| Change {
            table: r.table,
            key: r.key,
            version: r.version,
            previous_version: r.previous_version,
            deleted: r.data.is_none(),
            data: r.data,
            hlc: r.hlc,
            origin: r.origin,
        })
        .collect();
    Ok(PullResponse::Ok(PullPage {
        protocol_version: PROTOCOL_VERSION,
        server_time: now_ms,
        changes,
        cursor: encode_cursor(last, horizon),
        has_more,
    }))
}

/// Purges the user's tombstones written at or before change `up_to`; clients whose
/// cursor is older get `resetRequired`.
pub async fn collect_tombstones<S: ServerStore>(
    store: &mut S,
    user: &str,
    up_to: u64,
) -> Result<(), ServerError> {
    store.purge_tombstones(user, up_to).await
}
