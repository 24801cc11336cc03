//! `pull`: pages of the user's change stream after an opaque cursor bound to that
//! user; tombstone GC.

use super::{ServerConfig, ServerError, ServerStore};
use crate::protocol::{Change, Cursor, Origin, PullPage, PullRequest, PullResponse};
use crate::PROTOCOL_VERSION;

const CURSOR_PREFIX: &str = "c1.";

/// A short tag of the user a cursor was issued for (cursors are bound to their user,
/// I10): FNV-1a 64 of the user id.
fn user_tag(user: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in user.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The opaque cursor of `user` for a position in the change sequence, issued when the
/// tombstone horizon was `horizon`.
pub fn encode_cursor(user: &str, change_seq: u64, horizon: u64) -> Cursor {
    Cursor(format!(
        "{CURSOR_PREFIX}{change_seq}.{horizon}.{}",
        user_tag(user)
    ))
}

/// A cursor this server issued: its change-sequence position, its issue-time horizon
/// and whether it was issued for `user` (cursors from before the user binding count
/// as another user's).
pub fn decode_cursor(cursor: &Cursor, user: &str) -> Result<(u64, u64, bool), ServerError> {
    let bad = || ServerError::BadCursor(cursor.0.clone());
    let rest = cursor.0.strip_prefix(CURSOR_PREFIX).ok_or_else(bad)?;
    let mut parts = rest.split('.');
    let seq = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let horizon = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let tag = parts.next();
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok((seq, horizon, tag == Some(user_tag(user).as_str())))
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
    super::push::check_account(request.account.as_deref(), user)?;
    let (after, issued_horizon, ours) = match &request.cursor {
        Some(c) => decode_cursor(c, user)?,
        None => (0, 0, true),
    };
    let account = Some(user.to_owned());
    if !ours {
        // Another user's cursor (I10): never a page of this user's stream after it.
        return Ok(PullResponse::ResetRequired {
            protocol_version: PROTOCOL_VERSION,
            server_time: now_ms,
            reason: "the cursor was issued for another account".into(),
            account,
        });
    }
    let horizon = store.tombstone_horizon(user).await?;
    // Tombstones after the cursor may have been purged since it was issued.
    if request.cursor.is_some() && after < horizon && issued_horizon < horizon {
        return Ok(PullResponse::ResetRequired {
            protocol_version: PROTOCOL_VERSION,
            server_time: now_ms,
            reason: "the cursor is older than the tombstone horizon".into(),
            account,
        });
    }
    let limit = request
        .limit
        .unwrap_or(config.default_pull_limit)
        .clamp(1, config.max_pull_limit) as usize;
    let (rows, has_more) = page_rows(store, user, after, limit, config.max_pull_page_bytes).await?;
    let last = rows.last().map_or(after, |r| r.change_seq);
    // The cursor covers what was scanned, own echoes left out or not.
    let omit = request
        .omit_own_through
        .filter(|_| request.cursor.is_some());
    let changes = rows
        .into_iter()
        .filter(|r| !is_own_echo(r.origin.as_ref(), &request.client_id, omit))
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
        cursor: encode_cursor(user, last, horizon),
        has_more,
        account,
    }))
}

/// Whether a change written by `origin` is one the client asked to leave out: its
/// own (`client_id`) with a seq up to `omit` (docs/PROTOCOL.md, "Own echoes").
fn is_own_echo(origin: Option<&Origin>, client_id: &str, omit: Option<u64>) -> bool {
    match (origin, omit) {
        (Some(o), Some(through)) => o.client_id == client_id && o.seq <= through,
        _ => false,
    }
}

/// Rows read from the store per query while filling a page: bounds the memory a page
/// of large records takes before the byte budget cuts it.
const ROWS_PER_READ: usize = 32;

/// The rows of one page after `after`: at most `limit` changes and `max_bytes` bytes
/// of record JSON (at least one change), and whether more follow.
async fn page_rows<S: ServerStore>(
    store: &mut S,
    user: &str,
    after: u64,
    limit: usize,
    max_bytes: usize,
) -> Result<(Vec<crate::server::ServerRecord>, bool), ServerError> {
    let mut rows = Vec::new();
    let mut bytes = 0usize;
    let mut position = after;
    loop {
        let want = (limit - rows.len() + 1).min(ROWS_PER_READ);
        let read = store.changes_since(user, position, want).await?;
        let exhausted = read.len() < want;
        for row in read {
            let size = row
                .data
                .as_ref()
                .map_or(0, |d| serde_json::to_vec(d).map_or(0, |v| v.len()));
            if rows.len() == limit || (!rows.is_empty() && bytes + size > max_bytes) {
                return Ok((rows, true));
            }
            bytes += size;
            position = row.change_seq;
            rows.push(row);
        }
        if exhausted {
            return Ok((rows, false));
        }
    }
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
