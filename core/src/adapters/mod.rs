//! Protocol adapters: the engine speaks protocol v1 through the [`Transport`] port;
//! an adapter makes that port talk to a server the app already has (docs/ADAPTERS.md).
//!
//! The seam: [`AdapterTransport`] implements [`Transport`] over a generic [`HttpPort`]
//! (method, path + query, headers, JSON body → status, body) and a
//! [`ProtocolAdapter`]. The engine builds v1 requests and reads v1 answers exactly as
//! for its own server; the adapter translates a v1 push into the seed server's
//! request(s) and its answer(s) back into one v1 push answer, and a v1 pull (cursor)
//! into the seed's request and its answer into one v1 page. The engine is not forked:
//! versions, conflicts, the outbox and the cursor's atomic storage with its page
//! (docs/INVARIANTS.md, I4) stay the engine's. The browser side only performs HTTP.

//!
//! The HTTP seam ([`HttpPort`], [`HttpRequest`], [`HttpResponse`]) is always here; the
//! seed adapters only with the cargo feature `adapters` (docs/ADAPTERS.md, "Two
//! builds").

#[cfg(feature = "adapters")]
pub mod batched;
#[cfg(feature = "adapters")]
pub mod change_log;
#[cfg(feature = "adapters")]
mod chosen;
#[cfg(feature = "adapters")]
mod custom;
#[cfg(feature = "adapters")]
pub mod delta;
#[cfg(feature = "adapters")]
mod iso_time;
#[cfg(feature = "adapters")]
pub mod push_pull;
#[cfg(feature = "adapters")]
pub mod rest;
#[cfg(feature = "adapters")]
mod seam;

#[cfg(feature = "adapters")]
pub use batched::{Batched, BatchedConfig};
#[cfg(feature = "adapters")]
pub use change_log::{ChangeLog, ChangeLogConfig};
#[cfg(feature = "adapters")]
pub use chosen::Adapter;
#[cfg(feature = "adapters")]
pub use custom::CustomFailure;
#[cfg(feature = "adapters")]
pub use delta::{Delta, DeltaConfig};
#[cfg(feature = "adapters")]
pub use iso_time::{format_iso_ms, parse_iso_ms, LATEST_DATE_MS};
#[cfg(feature = "adapters")]
pub use push_pull::{PushPull, PushPullConfig};
#[cfg(feature = "adapters")]
pub use rest::{Rest, RestConfig};
#[cfg(feature = "adapters")]
pub use seam::{error_answer, own_error, send_through, AdapterTransport, ProtocolAdapter};

use crate::error::SyncError;

/// An HTTP method an adapter may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpMethod {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `DELETE`
    Delete,
}

impl HttpMethod {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Delete => "DELETE",
        }
    }
}

/// One HTTP request built by an adapter. The [`HttpPort`] adds the credentials
/// (`Authorization: Bearer …`) as the v1 transport does.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRequest {
    /// The method.
    pub method: HttpMethod,
    /// Path and query, relative to the server's base URL (starts with `/`).
    pub path: String,
    /// Extra headers (name, value).
    pub headers: Vec<(String, String)>,
    /// The JSON body, if any.
    pub body: Option<String>,
}

/// An HTTP answer, any status.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpResponse {
    /// HTTP status.
    pub status: u16,
    /// `Retry-After`, converted to ms, if present.
    pub retry_after_ms: Option<u64>,
    /// The body.
    pub body: String,
}

/// The network as an adapter sees it: one HTTP request, one answer. Errors only for
/// "no answer", as for [`Transport::send`].
#[allow(async_fn_in_trait)]
pub trait HttpPort {
    /// Sends one request (adding credentials) and returns the answer.
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, SyncError>;

    /// Asks the app for fresh credentials after a 401. Returns whether it got some.
    async fn refresh_credentials(&self) -> bool {
        false
    }
}
