//! [`Adapter`]: the adapter `options.protocol` chose, as one type the browser's
//! transport can hold (each variant delegates to its adapter).

use super::{Batched, ChangeLog, Delta, HttpPort, ProtocolAdapter, PushPull, Rest};
use crate::error::SyncError;
use crate::options::ProtocolOption;
use crate::ports::TransportResponse;
use crate::protocol::{PullRequest, PushRequest};

/// One of the protocol adapters (docs/ADAPTERS.md).
#[derive(Clone, Debug)]
pub enum Adapter {
    /// Seed 000's `sync/push` + `sync/pull`.
    PushPull(PushPull),
    /// Seed 002's one `POST /api/sync`.
    Batched(Batched),
    /// Seed 001's REST endpoints, one request per item.
    Rest(Rest),
    /// Seed 003's `pushChanges` + `getChanges` + `acknowledgeChanges`.
    ChangeLog(ChangeLog),
    /// Seed 004's one `POST /api/sync`.
    Delta(Delta),
}

impl Adapter {
    /// The adapter `protocol` names; `None` for protocol v1 and `custom` (no
    /// translation: the engine's v1 requests go to the server or to the app's functions).
    pub fn for_protocol(protocol: &ProtocolOption) -> Option<Adapter> {
        match protocol {
            ProtocolOption::V1 | ProtocolOption::Custom { .. } => None,
            ProtocolOption::PushPull(config) => {
                Some(Adapter::PushPull(PushPull::new(config.clone())))
            }
            ProtocolOption::Batched(config) => Some(Adapter::Batched(Batched::new(config.clone()))),
            ProtocolOption::Rest(config) => Some(Adapter::Rest(Rest::new(config.clone()))),
            ProtocolOption::ChangeLog(config) => {
                Some(Adapter::ChangeLog(ChangeLog::new(config.clone())))
            }
            ProtocolOption::Delta(config) => Some(Adapter::Delta(Delta::new(config.clone()))),
        }
    }
}

impl ProtocolAdapter for Adapter {
    async fn push<H: HttpPort>(
        &self,
        http: &H,
        request: &PushRequest,
    ) -> Result<TransportResponse, SyncError> {
        match self {
            Adapter::PushPull(adapter) => adapter.push(http, request).await,
            Adapter::Batched(adapter) => adapter.push(http, request).await,
            Adapter::Rest(adapter) => adapter.push(http, request).await,
            Adapter::ChangeLog(adapter) => adapter.push(http, request).await,
            Adapter::Delta(adapter) => adapter.push(http, request).await,
        }
    }

    async fn pull<H: HttpPort>(
        &self,
        http: &H,
        request: &PullRequest,
    ) -> Result<TransportResponse, SyncError> {
        match self {
            Adapter::PushPull(adapter) => adapter.pull(http, request).await,
            Adapter::Batched(adapter) => adapter.pull(http, request).await,
            Adapter::Rest(adapter) => adapter.pull(http, request).await,
            Adapter::ChangeLog(adapter) => adapter.pull(http, request).await,
            Adapter::Delta(adapter) => adapter.pull(http, request).await,
        }
    }
}
