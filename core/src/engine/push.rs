//! The push half of a round: send in-flight entries, split on 413/400, classify
//! errors, apply the results in one transaction per answered request.

use super::{apply_result, RoundReport, SyncEngine};
use crate::conflict::{ConflictResolver, DeadLetter};
use crate::error::SyncError;
use crate::hlc::measure_offset;
use crate::key::RecordId;
use crate::outbox::InFlightOp;
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
        401 | 403 => SyncError::Auth(message),
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
        client_id: &str,
    ) -> Result<(PushResponse, i64), PushFailure> {
        let mutations: Vec<_> = ops.iter().map(InFlightOp::to_mutation).collect();
        let request = PushRequest {
            protocol_version: PROTOCOL_VERSION,
            client_id: client_id.to_owned(),
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
    /// parking a single mutation the server will not take as a dead letter (I6).
    pub(super) async fn push_ops(
        &self,
        mut ops: Vec<InFlightOp>,
        report: &mut RoundReport,
    ) -> Result<(), SyncError> {
        let client_id = self.storage.read_meta().await?.client_id;
        let mut chunk = ops.len();
        while !ops.is_empty() {
            let n = chunk.clamp(1, ops.len());
            report.sent += n;
            match self.push_once(&ops[..n], &client_id).await {
                Ok((response, offset)) => {
                    self.apply_results(&ops[..n], &response.results, offset, report)
                        .await?;
                    ops.drain(..n);
                }
                Err(PushFailure::Split { code, message }) if n > 1 => {
                    let _ = (code, message);
                    chunk = n / 2;
                }
                Err(PushFailure::Split { code, message }) => {
                    self.reject_locally(&ops[0], code, message).await?;
                    report.rejected += 1;
                    ops.remove(0);
                }
                Err(PushFailure::Error(e)) => return Err(e),
            }
        }
        Ok(())
    }

    async fn apply_results(
        &self,
        ops: &[InFlightOp],
        results: &[MutationResult],
        offset: i64,
        report: &mut RoundReport,
    ) -> Result<(), SyncError> {
        let keys: Vec<RecordId> = ops.iter().map(|o| o.id.clone()).collect();
        let ctx = self.context();
        self.storage
            .transact(&keys, |tx| {
                tx.meta()?.clock_offset_ms = offset;
                for result in results {
                    if let Some(op) = ops.iter().find(|o| o.seq == result.seq()) {
                        apply_result(&op.id, result, tx, &ctx)?;
                    }
                }
                Ok(())
            })
            .await?;
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

    async fn reject_locally(
        &self,
        op: &InFlightOp,
        code: String,
        reason: String,
    ) -> Result<(), SyncError> {
        let now = self.clock.now_ms();
        self.storage
            .transact(std::slice::from_ref(&op.id), |tx| {
                let meta = tx.meta()?;
                let dl_id = meta.next_dead_letter_id;
                meta.next_dead_letter_id += 1;
                let state = tx.state(&op.id);
                if state.in_flight.as_ref().map(|f| f.seq) != Some(op.seq) {
                    return Ok(());
                }
                state.in_flight = None;
                tx.new_dead_letters.push(DeadLetter {
                    id: dl_id,
                    record: op.id.clone(),
                    op: op.op.clone(),
                    seq: op.seq,
                    code,
                    reason,
                    at_ms: now,
                });
                Ok(())
            })
            .await
    }
}
