//! The pull half of a round: pages from the cursor until `hasMore` is false, each
//! page and its cursor in one transaction (I4); `resetRequired` and a `bad_cursor`
//! refusal drop the synced copy and pull from the start. A page or reset for another
//! account than the local data's is refused (I10).

use super::{apply_change, RoundReport, SyncEngine};
use crate::conflict::ConflictResolver;
use crate::error::SyncError;
use crate::hlc::measure_offset;
use crate::key::RecordId;
use crate::ports::{Clock, Storage, Transport};
use crate::protocol::{decode_pull_response, Endpoint, PullRequest, PullResponse};
use crate::PROTOCOL_VERSION;

impl<S: Storage, T: Transport, C: Clock, R: ConflictResolver> SyncEngine<S, T, C, R> {
    /// Pulls until the server has nothing more.
    pub(super) async fn pull_all(&self, report: &mut RoundReport) -> Result<(), SyncError> {
        let mut resets = 0;
        let mut full_pull_prepared = false;
        // Own changes answered before this pull: held exactly once it reaches the head.
        let mut answered_before = None;
        for _ in 0..self.config.max_pages_per_pull {
            let mut meta = self.storage.read_meta().await?;
            if meta.cursor.is_none() && !full_pull_prepared {
                self.forget_server_state_of_parked_keys().await?;
                full_pull_prepared = true;
                meta = self.storage.read_meta().await?;
            }
            let answered_before = *answered_before.get_or_insert(meta.answered_through);
            let request = PullRequest {
                protocol_version: PROTOCOL_VERSION,
                client_id: meta.client_id.clone(),
                account: meta.account.clone(),
                cursor: meta.cursor.clone(),
                limit: Some(self.config.pull_limit),
                omit_own_through: meta.omit_own_through(),
            };
            let body =
                serde_json::to_string(&request).map_err(|e| SyncError::Storage(e.to_string()))?;
            let sent_at = self.clock.now_ms();
            let response = self.send(Endpoint::Pull, body).await?;
            let received_at = self.clock.now_ms();
            if !(200..300).contains(&response.status) {
                let error = super::push::http_error(&response);
                let bad_cursor = matches!(&error, SyncError::Server { status: 400, code, .. } if code == "bad_cursor");
                if !bad_cursor || meta.cursor.is_none() || resets >= 2 {
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
                    if resets > 2 || meta.cursor.is_none() {
                        return Err(SyncError::MalformedResponse(
                            "resetRequired for a full pull".into(),
                        ));
                    }
                    self.storage.reset_replica().await?;
                }
                PullResponse::Ok(page) => {
                    let (apply, keep) =
                        super::split_by_declared(&page.changes, |t| self.storage.declares_table(t));
                    let keys: Vec<RecordId> = apply
                        .iter()
                        .map(|c| RecordId {
                            table: c.table.clone(),
                            key: c.key.clone(),
                        })
                        .collect();
                    let offset = measure_offset(sent_at, received_at, page.server_time);
                    let ctx = self.context();
                    self.storage
                        .transact(&keys, |tx| {
                            let meta = tx.meta()?;
                            meta.check_account(page.account.as_deref())?;
                            if meta.cursor != request.cursor {
                                return Err(SyncError::Storage("cursor moved during pull".into()));
                            }
                            meta.cursor = Some(page.cursor.clone());
                            meta.clock_offset_ms = offset;
                            for change in &apply {
                                apply_change(change, tx, &ctx)?;
                            }
                            tx.deferred.extend(keep.iter().map(|c| (*c).clone()));
                            if !page.has_more {
                                tx.meta()?.pull_reached_head(answered_before);
                            }
                            Ok(())
                        })
                        .await?;
                    report.pulled += page.changes.len();
                    if !page.has_more {
                        return Ok(());
                    }
                }
            }
        }
        Err(SyncError::MalformedResponse(
            "the server keeps answering hasMore".into(),
        ))
    }

    /// Before a full pull (no cursor): a key kept only for an open manual conflict
    /// forgets the server state it shows, so the full pull is the truth about it. A
    /// record deleted on the server and purged meanwhile (the reason for a reset) is
    /// never in the full pull; without this the key would keep showing — and the
    /// app's "keep server" would keep — a record the server no longer has.
    /// Idempotent, so a crash before the pull only repeats it.
    async fn forget_server_state_of_parked_keys(&self) -> Result<(), SyncError> {
        let keys = self.storage.conflict_keys().await?;
        if keys.is_empty() {
            return Ok(());
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
            .await
    }
}
