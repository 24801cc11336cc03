//! The push half of a round: send in-flight entries, split on 413/400, isolate a
//! mutation that keeps failing its request ([`super::isolate`]), classify errors,
//! apply the results in one transaction per answered request. Every request names
//! the account of the local data (I10); a reused client id is renewed (I11).

use super::isolate::{self, Verdict, POISON_CODE, STRIKES};
use super::{apply_result, RoundReport, SyncEngine};
use crate::conflict::{ConflictResolver, DeadLetter};
use crate::error::SyncError;
use crate::hlc::measure_offset;
use crate::key::RecordId;
use crate::outbox::{needs_record, ClientMeta, InFlightOp};
use crate::ports::{Clock, Storage, Transport, TransportRequest, TransportResponse};
use crate::protocol::{
    decode_push_response, Endpoint, ErrorBody, MutationResult, PushRequest, PushResponse,
};
use crate::PROTOCOL_VERSION;

/// Why a push request got no usable answer.
enum PushFailure {
    /// The server refused the request as a whole for its size or content; split it.
    Split { code: String, message: String },
    /// Anything else: the round fails and retries later.
    Error(SyncError),
}

/// Turns a non-2xx answer into an error.
pub(super) fn http_error(response: &TransportResponse) -> SyncError {
    let body: Option<ErrorBody> = serde_json::from_str(&response.body).ok();
    let (code, message) = match body {
        Some(b) => (b.error.code, b.error.message),
        None => (
            format!("http_{}", response.status),
            format!("HTTP {}", response.status),
        ),
    };
    match response.status {
        401 | 403 => SyncError::Unauthorized { code, message },
        409 if code == "account_changed" => SyncError::AccountChanged(message),
        426 => SyncError::UpgradeRequired(message),
        status => SyncError::Server {
            status,
            code,
            message,
            retry_after_ms: response.retry_after_ms,
        },
    }
}

impl<S: Storage, T: Transport, C: Clock, R: ConflictResolver> SyncEngine<S, T, C, R> {
    /// Sends a request; on 401 asks once for fresh credentials and sends again.
    pub(super) async fn send(
        &self,
        endpoint: Endpoint,
        body: String,
    ) -> Result<TransportResponse, SyncError> {
        let request = TransportRequest { endpoint, body };
        let response = self.transport.send(request.clone()).await?;
        if response.status == 401 && self.transport.refresh_credentials().await {
            return self.transport.send(request).await;
        }
        Ok(response)
    }

    async fn push_once(
        &self,
        ops: &[InFlightOp],
        meta: &ClientMeta,
    ) -> Result<(PushResponse, i64), PushFailure> {
        let mutations: Vec<_> = ops.iter().map(InFlightOp::to_mutation).collect();
        let (client_id, account) = (meta.client_id.clone(), meta.account.clone());
        let request = PushRequest {
            protocol_version: PROTOCOL_VERSION,
            client_id,
            account,
            mutations,
        };
        let body = serde_json::to_string(&request)
            .map_err(|e| PushFailure::Error(SyncError::Storage(e.to_string())))?;
        let sent_at = self.clock.now_ms();
        let response = self
            .send(Endpoint::Push, body)
            .await
            .map_err(PushFailure::Error)?;
        let received_at = self.clock.now_ms();
        match response.status {
            200..=299 => {
                let decoded = decode_push_response(&response.body, &request.mutations)
                    .map_err(PushFailure::Error)?;
                let offset = measure_offset(sent_at, received_at, decoded.server_time);
                Ok((decoded, offset))
            }
            400 | 413 | 422 => {
                let (code, message) = match http_error(&response) {
                    SyncError::Server { code, message, .. } => (code, message),
                    other => (other.code().to_owned(), other.to_string()),
                };
                Err(PushFailure::Split { code, message })
            }
            _ => Err(PushFailure::Error(http_error(&response))),
        }
    }

    /// Pushes in-flight entries (seq order), halving the request on 413/400 and
    /// parking a single mutation the server will not take as a dead letter (I6);
    /// a request that keeps failing is searched for the mutation that fails it, which
    /// goes to the dead letters (code `poison`) so the rest flows (I9).
    pub(super) async fn push_ops(
        &self,
        mut ops: Vec<InFlightOp>,
        report: &mut RoundReport,
    ) -> Result<(), SyncError> {
        let mut meta = self.storage.read_meta().await?;
        let mut renewed = false;
        let mut chunk = ops.len();
        while !ops.is_empty() {
            let seqs: Vec<u64> = ops.iter().map(|o| o.seq).collect();
            let n = self
                .isolation
                .borrow()
                .chunk_for(&seqs)
                .unwrap_or(chunk)
                .clamp(1, ops.len());
            report.sent += n;
            match self.push_once(&ops[..n], &meta).await {
                Ok((response, offset)) => {
                    self.isolation.borrow_mut().succeeded(&seqs[..n]);
                    self.apply_results(&ops[..n], &response, offset, report)
                        .await?;
                    ops.drain(..n);
                }
                Err(PushFailure::Split { .. }) if n > 1 => {
                    chunk = n / 2;
                }
                Err(PushFailure::Split { code, message }) => {
                    self.isolation.borrow_mut().succeeded(&seqs[..1]);
                    self.reject_locally(&ops[0], code, message).await?;
                    report.rejected += 1;
                    ops.remove(0);
                }
                Err(PushFailure::Error(SyncError::Server { code, .. }))
                    if code == "client_id_reused" && !renewed =>
                {
                    // I11: the server saw these seqs from an earlier life of this id.
                    renewed = true;
                    meta = super::identity::renew_client_id(&self.storage, &self.clock, &mut ops)
                        .await?;
                }
                Err(PushFailure::Error(e)) if isolate::counts(&e) => {
                    let verdict = self.isolation.borrow_mut().failed(&seqs[..n]);
                    match verdict {
                        Verdict::RetryLater => return Err(e),
                        Verdict::Split => {}
                        Verdict::Probe => {
                            if !self.server_answers_probe(&meta).await {
                                return Err(e);
                            }
                            self.isolation.borrow_mut().clear();
                            let reason = format!("failed alone {STRIKES} times in a row while the server answered other requests: {e}");
                            self.reject_locally(&ops[0], POISON_CODE.to_owned(), reason)
                                .await?;
                            report.rejected += 1;
                            ops.remove(0);
                        }
                    }
                }
                Err(PushFailure::Error(e)) => return Err(e),
            }
        }
        Ok(())
    }

    /// Whether the server answers an empty push (which changes nothing) correctly:
    /// proof that it is up and that what fails is the mutation, not the server.
    async fn server_answers_probe(&self, meta: &ClientMeta) -> bool {
        matches!(self.push_once(&[], meta).await, Ok((response, _)) if response.results.is_empty())
    }

    async fn apply_results(
        &self,
        ops: &[InFlightOp],
        response: &PushResponse,
        offset: i64,
        report: &mut RoundReport,
    ) -> Result<(), SyncError> {
        let results = &response.results;
        let prepare = |meta: &mut ClientMeta| {
            meta.check_account(response.account.as_deref())?;
            meta.clock_offset_ms = offset;
            Ok(())
        };
        if !results.iter().any(needs_record) {
            // The common case: nothing but acknowledgements, from the sync rows alone.
            self.storage.acknowledge(ops, results, prepare).await?;
        } else {
            let keys: Vec<RecordId> = ops.iter().map(|o| o.id.clone()).collect();
            let ctx = self.context();
            self.storage
                .transact(&keys, |tx| {
                    prepare(tx.meta()?)?;
                    for result in results {
                        if let Some(op) = ops.iter().find(|o| o.seq == result.seq()) {
                            apply_result(&op.id, result, tx, &ctx)?;
                        }
                    }
                    Ok(())
                })
                .await?;
        }
        for result in results {
            match result {
                MutationResult::Applied { .. } => report.applied += 1,
                MutationResult::Duplicate { .. } => report.duplicates += 1,
                MutationResult::Conflict { .. } => report.conflicts += 1,
                MutationResult::Rejected { .. } => report.rejected += 1,
            }
        }
        Ok(())
    }

    /// Dead-letters `op`, which the server never applied, and rolls the record back
    /// to the server's copy (the one rule of every dead letter, see
    /// docs/SYNC_MANAGER.md): if the server never had the record, locally it is gone
    /// (with any later pending change on top); otherwise the key forgets its version
    /// and the cursor is cleared, so the pull that follows in this round brings the
    /// server's copy back.
    async fn reject_locally(
        &self,
        op: &InFlightOp,
        code: String,
        reason: String,
    ) -> Result<(), SyncError> {
        let now = self.clock.now_ms();
        self.storage
            .transact(std::slice::from_ref(&op.id), |tx| {
                let mut meta = tx.meta()?.clone();
                let state = tx.state(&op.id);
                if state.in_flight.as_ref().map(|f| f.seq) != Some(op.seq) {
                    return Ok(());
                }
                state.in_flight = None;
                state.roll_back_to_server_copy(&mut meta);
                let id = meta.take_dead_letter_id();
                tx.meta = Some(meta);
                tx.new_dead_letters.push(DeadLetter {
                    id,
                    record: op.id.clone(),
                    op: op.op.clone(),
                    seq: op.seq,
                    code,
                    reason: format!(
                        "{reason} (the local change was rolled back to the server's copy)"
                    ),
                    at_ms: now,
                });
                Ok(())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::http_error;
    use crate::error::SyncError;
    use crate::ports::TransportResponse;
    use crate::ErrorCode;

    fn answer(status: u16, code: &str) -> SyncError {
        http_error(&TransportResponse {
            status,
            retry_after_ms: Some(2_000),
            body: format!(r#"{{"error":{{"code":"{code}","message":"m"}}}}"#),
        })
    }

    /// The server's code reaches the app (`serverCode`) next to the package's code.
    #[test]
    fn an_http_error_keeps_the_servers_code() {
        let cases = [
            (401, "token_expired", ErrorCode::AuthFailed),
            (403, "invalid_token", ErrorCode::AuthFailed),
            (429, "rate_limited", ErrorCode::ServerError),
            (413, "payload_too_large", ErrorCode::ServerError),
            (503, "database_unavailable", ErrorCode::ServerError),
        ];
        for (status, code, expected) in cases {
            let error = answer(status, code);
            assert_eq!(error.error_code(), expected, "{status} {code}");
            assert_eq!(error.server_code(), Some(code), "{status} {code}");
            assert!(ErrorCode::parse(code).is_some(), "{code} is in the list");
        }
        assert_eq!(answer(429, "rate_limited").retry_after_ms(), Some(2_000));
        assert_eq!(answer(426, "upgrade_required").server_code(), None);
    }
}
