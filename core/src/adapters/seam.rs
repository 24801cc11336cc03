//! The adapter seam: [`ProtocolAdapter`] (a translation between protocol v1 and one
//! server's API), [`AdapterTransport`] (the engine's `Transport` over an adapter and
//! an [`HttpPort`]) and the v1 error answers adapters make.

use super::{HttpPort, HttpResponse};
use crate::error::SyncError;
use crate::ports::{Transport, TransportRequest, TransportResponse};
use crate::protocol::{Endpoint, ErrorBody, PullRequest, PushRequest};

/// A translation between protocol v1 and one server's sync API. It decides only the
/// translation: never whether a change applies, never a conflict's outcome (the
/// engine's, on the v1 answer it returns).
#[allow(async_fn_in_trait)]
pub trait ProtocolAdapter {
    /// Sends a v1 push as the server's request(s) and answers a v1 push answer (a
    /// 2xx with one result per mutation, or an error status with a v1 error body).
    async fn push<H: HttpPort>(
        &self,
        http: &H,
        request: &PushRequest,
    ) -> Result<TransportResponse, SyncError>;

    /// Sends a v1 pull as the server's request and answers a v1 pull answer (one
    /// page whose opaque cursor the adapter encodes), or an error status.
    async fn pull<H: HttpPort>(
        &self,
        http: &H,
        request: &PullRequest,
    ) -> Result<TransportResponse, SyncError>;
}

/// The [`Transport`] the engine runs over when `options.protocol` is not v1: decodes
/// the engine's v1 request and hands it to the adapter.
#[derive(Clone, Debug)]
pub struct AdapterTransport<H, A> {
    /// Performs HTTP.
    pub http: H,
    /// Translates.
    pub adapter: A,
}

/// Sends the engine's v1 `request` through `adapter` over `http`: what
/// [`AdapterTransport`] and the browser's transport do for every request.
pub async fn send_through<H: HttpPort, A: ProtocolAdapter>(
    http: &H,
    adapter: &A,
    request: TransportRequest,
) -> Result<TransportResponse, SyncError> {
    let bad = |e: serde_json::Error| SyncError::Storage(format!("v1 request: {e}"));
    match request.endpoint {
        Endpoint::Push => {
            let push: PushRequest = serde_json::from_str(&request.body).map_err(bad)?;
            adapter.push(http, &push).await
        }
        Endpoint::Pull => {
            let pull: PullRequest = serde_json::from_str(&request.body).map_err(bad)?;
            adapter.pull(http, &pull).await
        }
    }
}

impl<H: HttpPort, A: ProtocolAdapter> Transport for AdapterTransport<H, A> {
    async fn send(&self, request: TransportRequest) -> Result<TransportResponse, SyncError> {
        send_through(&self.http, &self.adapter, request).await
    }

    async fn refresh_credentials(&self) -> bool {
        self.http.refresh_credentials().await
    }
}

/// A non-2xx answer of the server, as a v1 error answer: same status, the server's
/// message (its `error` or `message` field, else the body) under code `http_<status>`.
pub fn error_answer(response: &HttpResponse) -> TransportResponse {
    let message = serde_json::from_str::<serde_json::Value>(&response.body)
        .ok()
        .and_then(|v| {
            let text = v.get("error").or_else(|| v.get("message"))?;
            Some(
                text.as_str()
                    .map_or_else(|| text.to_string(), str::to_owned),
            )
        })
        .unwrap_or_else(|| response.body.clone());
    let code = format!("http_{}", response.status);
    TransportResponse {
        status: response.status,
        retry_after_ms: response.retry_after_ms,
        body: serde_json::to_string(&ErrorBody::new(code, message)).unwrap_or_default(),
    }
}

/// A v1 error answer the adapter makes itself (`status`, `code`, `message`).
pub fn own_error(status: u16, code: &str, message: impl Into<String>) -> TransportResponse {
    TransportResponse {
        status,
        retry_after_ms: None,
        body: serde_json::to_string(&ErrorBody::new(code, message)).unwrap_or_default(),
    }
}

/// Implements [`ProtocolAdapter`] for an adapter whose push and pull are one request
/// each, built and read by its own `push_http`/`push_answer` and
/// `pull_http`/`pull_answer` methods (pushPull, batched).
macro_rules! one_request_each {
    ($adapter:ty) => {
        impl $crate::adapters::ProtocolAdapter for $adapter {
            async fn push<H: $crate::adapters::HttpPort>(
                &self,
                http: &H,
                request: &$crate::protocol::PushRequest,
            ) -> Result<$crate::ports::TransportResponse, $crate::error::SyncError> {
                let response = http.fetch(self.push_http(request)).await?;
                self.push_answer(request, &response)
            }

            async fn pull<H: $crate::adapters::HttpPort>(
                &self,
                http: &H,
                request: &$crate::protocol::PullRequest,
            ) -> Result<$crate::ports::TransportResponse, $crate::error::SyncError> {
                let response = http.fetch(self.pull_http(request)).await?;
                self.pull_answer(request, &response)
            }
        }
    };
}
pub(crate) use one_request_each;
