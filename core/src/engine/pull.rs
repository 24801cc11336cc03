//! The pull half of a round: pages from the cursor until `hasMore` is false (as many
//! as it takes: a first sync of a million records is 5,000 pages; a page that says
//! `hasMore` without moving the cursor is refused, never pulled forever), each
//! page and its cursor in one transaction (I4); `resetRequired` and a `bad_cursor`
//! refusal drop the synced copy and pull from the start. A page or reset for another
//! account than the local data's is refused (I10).

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use super::{apply_change, Pulled, RoundReport, SyncEngine};
use crate::conflict::ConflictResolver;
use crate::error::SyncError;
use crate::hlc::measure_offset;
use crate::key::RecordId;
use crate::outbox::ClientMeta;
use crate::ports::TransportResponse;
use crate::ports::{Clock, Storage, Transport};
use crate::protocol::{decode_pull_response, Endpoint, PullPage, PullRequest, PullResponse};
use crate::PROTOCOL_VERSION;

/// A page's answer, with the local times its request left and its answer came back
/// (for the clock offset).
struct Fetched {
    response: TransportResponse,
    sent_at: u64,
    received_at: u64,
}

/// The next page requested while the current one is applied: the metadata as the
/// current page leaves it, the request, and its answer.
type Prefetched = (ClientMeta, PullRequest, Fetched);

/// Runs `apply` while `fetch` is in flight (`fetch` is polled first, so its request
/// leaves before `apply` starts). If `apply` fails, its error comes back at once and
/// `fetch` is dropped with its answer; otherwise both outputs, once `fetch` is done.
pub async fn apply_while_fetching<A, F, E>(
    apply: impl Future<Output = Result<A, E>>,
    fetch: impl Future<Output = F>,
) -> Result<(A, F), E> {
    let mut apply = pin!(apply);
    let mut fetch = pin!(fetch);
    let mut applied = None;
    let mut fetched = None;
    poll_fn(|cx| {
        if fetched.is_none() {
            if let Poll::Ready(f) = fetch.as_mut().poll(cx) {
                fetched = Some(f);
            }
        }
        if applied.is_none() {
            match apply.as_mut().poll(cx) {
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(a)) => applied = Some(a),
                Poll::Pending => {}
            }
        }
        match (applied.take(), fetched.take()) {
            (Some(a), Some(f)) => Poll::Ready(Ok((a, f))),
            (a, f) => {
                (applied, fetched) = (a, f);
                Poll::Pending
            }
        }
    })
    .await
}

impl<S: Storage, T: Transport, C: Clock, R: ConflictResolver> SyncEngine<S, T, C, R> {
    /// Pulls until the server has nothing more. While a page is applied, the next
    /// page (its cursor is the one the page gives) is already being fetched; the
    /// transaction of that next page checks the cursor as always (I4).
    pub(super) async fn pull_all(&self, report: &mut RoundReport) -> Result<(), SyncError> {
        let mut resets = 0;
        let mut full_pull_prepared = false;
        let mut prefetched: Option<Prefetched> = None;
        // Own changes answered before this pull: held exactly once it reaches the head.
        let mut answered_before = None;
        loop {
            let (meta, request, fetched) = match prefetched.take() {
                Some(next) => next,
                None => {
                    let mut meta = self.storage.read_meta().await?;
                    if meta.cursor.is_none() && !full_pull_prepared {
                        full_pull_prepared = true;
                        if self.forget_server_state_of_parked_keys().await? {
                            meta = self.storage.read_meta().await?;
                        }
                    }
                    let request = self.pull_request(&meta);
                    let fetched = self.fetch_page(&request).await?;
                    (meta, request, fetched)
                }
            };
            let answered_before = *answered_before.get_or_insert(meta.answered_through);
            let response = &fetched.response;
            if !(200..300).contains(&response.status) {
                let error = super::push::http_error(response);
                let bad_cursor = matches!(&error, SyncError::Server { status: 400, code, .. } if code == "bad_cursor");
                if !bad_cursor || request.cursor.is_none() || resets >= 2 {
                    return Err(error);
                }
                // The server no longer knows our cursor (PROTOCOL.md: drop it and pull
                // again): start over as after `resetRequired`, keeping local changes.
                resets += 1;
                report.resets += 1;
                self.storage.reset_replica().await?;
                continue;
            }
            match decode_pull_response(&response.body)? {
                PullResponse::ResetRequired { account, .. } => {
                    meta.clone().check_account(account.as_deref())?;
                    resets += 1;
                    report.resets += 1;
                    if resets > 2 || request.cursor.is_none() {
                        return Err(SyncError::MalformedResponse(
                            "resetRequired for a full pull".into(),
                        ));
                    }
                    self.storage.reset_replica().await?;
                }
                PullResponse::Ok(page) => {
                    if page.has_more && request.cursor.as_ref() == Some(&page.cursor) {
                        // More to come from where we are: a server that would answer
                        // this forever. A big first sync is fine: every page moves.
                        return Err(SyncError::MalformedResponse(
                            "the server answered hasMore without moving the cursor".into(),
                        ));
                    }
                    let offset =
                        measure_offset(fetched.sent_at, fetched.received_at, page.server_time);
                    let apply = self.apply_page(&page, &request, offset, answered_before);
                    if !page.has_more {
                        apply.await?.add_to(report);
                        return Ok(());
                    }
                    // What the page leaves in the metadata, to ask for the next one
                    // now (a page for another account is refused before anything).
                    let mut next_meta = meta;
                    next_meta.check_account(page.account.as_deref())?;
                    next_meta.cursor = Some(page.cursor.clone());
                    next_meta.clock_offset_ms = offset;
                    let next_request = self.pull_request(&next_meta);
                    let (tally, next) =
                        apply_while_fetching(apply, self.fetch_page(&next_request)).await?;
                    tally.add_to(report);
                    // Back to the event loop between pages: applying pages one after
                    // the other never makes one long task.
                    self.clock.yield_now().await;
                    prefetched = Some((next_meta, next_request, next?));
                }
            }
        }
    }

    /// The request for the page after `meta.cursor`.
    fn pull_request(&self, meta: &ClientMeta) -> PullRequest {
        PullRequest {
            protocol_version: PROTOCOL_VERSION,
            client_id: meta.client_id.clone(),
            account: meta.account.clone(),
            cursor: meta.cursor.clone(),
            limit: Some(self.config.pull_limit),
            omit_own_through: meta.omit_own_through(),
        }
    }

    /// Sends `request` and times it.
    async fn fetch_page(&self, request: &PullRequest) -> Result<Fetched, SyncError> {
        let body = serde_json::to_string(request).map_err(|e| SyncError::Storage(e.to_string()))?;
        let sent_at = self.clock.now_ms();
        let response = self.send(Endpoint::Pull, body).await?;
        let received_at = self.clock.now_ms();
        Ok(Fetched {
            response,
            sent_at,
            received_at,
        })
    }

    /// Applies a page and its cursor in one transaction (I4), if the cursor is still
    /// the one `request` asked from. The last page (the head) also moves the own-echo
    /// watermark up to what was answered before the pull (`answered_before`).
    async fn apply_page(
        &self,
        page: &PullPage,
        request: &PullRequest,
        offset: i64,
        answered_before: u64,
    ) -> Result<Tally, SyncError> {
        let (apply, keep) =
            super::split_by_declared(&page.changes, |t| self.storage.declares_table(t));
        let keys: Vec<RecordId> = apply.iter().map(|c| c.record_id()).collect();
        let ctx = self.context();
        let mut tally = Tally::default();
        self.storage
            .transact_pulled(&keys, |tx| {
                tally = Tally::default();
                let meta = tx.meta()?;
                meta.check_account(page.account.as_deref())?;
                if meta.cursor != request.cursor {
                    return Err(SyncError::Storage("cursor moved during pull".into()));
                }
                meta.cursor = Some(page.cursor.clone());
                meta.clock_offset_ms = offset;
                for change in &apply {
                    tally.count(apply_change(change, tx, &ctx)?);
                }
                tx.deferred.extend(keep.iter().map(|c| (*c).clone()));
                if !page.has_more {
                    tx.meta()?.pull_reached_head(answered_before);
                }
                Ok(())
            })
            .await?;
        Ok(tally)
    }

    /// Before a full pull (no cursor): a key kept only for an open manual conflict
    /// forgets the server state it shows, so the full pull is the truth about it. A
    /// record deleted on the server and purged meanwhile (the reason for a reset) is
    /// never in the full pull; without this the key would keep showing — and the
    /// app's "keep server" would keep — a record the server no longer has.
    /// Idempotent, so a crash before the pull only repeats it. Returns whether it
    /// wrote (if not, the metadata read before is still current).
    async fn forget_server_state_of_parked_keys(&self) -> Result<bool, SyncError> {
        let keys = self.storage.conflict_keys().await?;
        if keys.is_empty() {
            return Ok(false);
        }
        self.storage
            .transact(&keys, |tx| {
                for id in &keys {
                    let state = tx.state(id);
                    if state.has_local_changes() {
                        continue;
                    }
                    if let Some(conflict) = &mut state.conflict {
                        conflict.remote = None;
                        conflict.remote_version = 0;
                        state.version = 0;
                        state.rebuild_value(None);
                    }
                }
                Ok(())
            })
            .await?;
        Ok(true)
    }
}

/// What a pulled page did, for the round's report: changes from other devices that
/// changed the local copy (`pulled`) and the conflicts they met that the app can see.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Tally {
    pulled: usize,
    conflicts: usize,
}

impl Tally {
    /// Counts one applied change.
    pub(super) fn count(&mut self, outcome: Pulled) {
        self.pulled += usize::from(outcome.is_new());
        self.conflicts += usize::from(outcome == Pulled::Conflict);
    }

    /// Adds the page's counts to the round's.
    pub(super) fn add_to(self, report: &mut RoundReport) {
        report.pulled += self.pulled;
        report.conflicts += self.conflicts;
    }
}
