//! `GET /v1/events` (docs/PROTOCOL.md, "Push channel (server → client)"): a
//! Server-Sent Events stream telling the calling user's client that its change
//! stream moved. `ready` with the user's latest change seq (and this server's
//! keepalive interval, by which a client tells a dead connection) at once, `changed`
//! after committed pushes (coalesced), a `: keepalive` comment when idle. Authenticated
//! like push and pull: a bad token is a 401 before any stream starts.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use futures_util::StreamExt;
use sqlx::Row;

use super::{AppState, AuthUser};
use crate::error::ApiError;
use crate::events::Subscription;
use crate::store::to_u64;

/// One SSE event `name` with data `{"seq":N}`.
fn seq_event(name: &str, seq: u64) -> Event {
    Event::default()
        .event(name)
        .data(format!("{{\"seq\":{seq}}}"))
}

/// Opens the calling user's event stream.
pub async fn events(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Response, ApiError> {
    // Subscribe before reading the stored seq: a push committed in between is
    // either in the read or announced to the subscription.
    let subscription = state.events.subscribe(&user);
    let row = sqlx::query("SELECT last_change_seq FROM user_sync WHERE user_id = $1")
        .bind(&user)
        .fetch_optional(state.database.pool())
        .await
        .map_err(ApiError::database_unavailable)?;
    let stored = match row {
        Some(row) => to_u64(row.try_get("last_change_seq").map_err(ApiError::internal)?),
        None => 0,
    };
    let ready = stored.max(subscription.announced());
    let keep_alive = KeepAlive::new()
        .interval(Duration::from_millis(state.events_keepalive_ms))
        .text("keepalive");
    let sse = Sse::new(event_stream(subscription, ready, state.events_keepalive_ms))
        .keep_alive(keep_alive);
    Ok((
        [
            (header::CACHE_CONTROL, "no-store"),
            // Tells buffering reverse proxies (nginx) to pass events through at once.
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        sse,
    )
        .into_response())
}

/// `ready` at `ready` with the keepalive interval, then `changed` each time the
/// user's seq moves past the last one sent; ends when the hub closes the subscription.
fn event_stream(
    subscription: Subscription,
    ready: u64,
    keepalive_ms: u64,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    let first = stream::once(async move {
        Ok(Event::default()
            .event("ready")
            .data(format!("{{\"seq\":{ready},\"keepalive\":{keepalive_ms}}}")))
    });
    let changes = stream::unfold(
        (subscription, ready),
        |(mut subscription, last)| async move {
            let seq = subscription.next_after(last).await?;
            Some((Ok(seq_event("changed", seq)), (subscription, seq)))
        },
    );
    first.chain(changes)
}
