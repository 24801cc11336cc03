//! `protocol: { kind: 'custom', push, pull }` (docs/ADAPTERS.md, "custom"): the app's
//! functions carry the engine's v1 batches and pages to any server. The host calls
//! them; this file decides what their outcomes mean to the engine.

use crate::error::SyncError;
use crate::ports::TransportResponse;
use crate::protocol::ErrorBody;

/// What the host read from a `push` or `pull` function that threw or rejected: the
/// error's `status` (a number, when it has one), its `code` (a string) and message.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CustomFailure {
    /// `error.status`, when a number.
    pub status: Option<f64>,
    /// `error.code`, when a non-empty string.
    pub code: Option<String>,
    /// `error.message`, or the thrown value as text.
    pub message: String,
}

impl CustomFailure {
    /// The answer the engine reads for the failure:
    /// - an HTTP status (a whole number 400–599) is that status with a v1 error body
    ///   (code: the error's `code`, else `http_<status>`): 401/403 ask for credentials,
    ///   5xx and 429 retry with backoff, another 4xx fails the round with its code;
    /// - anything else (a `TypeError` from `fetch`, a bug, a status out of range) is a
    ///   network error: retried with backoff, its message in the status.
    pub fn answer(self) -> Result<TransportResponse, SyncError> {
        let status = self
            .status
            .filter(|s| s.fract() == 0.0 && (400.0..=599.0).contains(s))
            .map(|s| s as u16);
        let Some(status) = status else {
            return Err(SyncError::Network(self.message));
        };
        let code = self.code.unwrap_or_else(|| format!("http_{status}"));
        Ok(TransportResponse {
            status,
            retry_after_ms: None,
            body: serde_json::to_string(&ErrorBody::new(code, self.message)).unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(status: Option<f64>, code: Option<&str>) -> CustomFailure {
        CustomFailure {
            status,
            code: code.map(str::to_owned),
            message: "boom".into(),
        }
    }

    #[test]
    fn an_http_status_is_answered_with_a_v1_error_body() {
        let answer = failure(Some(401.0), None).answer().unwrap();
        assert_eq!(answer.status, 401);
        let body: ErrorBody = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(body, ErrorBody::new("http_401", "boom"));
        let answer = failure(Some(503.0), Some("maintenance")).answer().unwrap();
        assert_eq!(answer.status, 503);
        let body: ErrorBody = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(body, ErrorBody::new("maintenance", "boom"));
    }

    #[test]
    fn anything_else_is_a_network_error_retried_with_backoff() {
        for status in [
            None,
            Some(200.0),
            Some(302.0),
            Some(600.0),
            Some(404.5),
            Some(f64::NAN),
        ] {
            match failure(status, Some("x")).answer() {
                Err(SyncError::Network(message)) => assert_eq!(message, "boom"),
                other => panic!("{status:?}: {other:?}"),
            }
        }
    }
}
