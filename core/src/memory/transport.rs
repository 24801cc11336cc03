//! [`LoopbackTransport`]: the transport port wired straight to the server rules over a
//! [`MemoryServer`], through JSON both ways, as over HTTP.

use super::MemoryServer;
use crate::error::SyncError;
use crate::ports::{Clock, Transport, TransportRequest, TransportResponse};
use crate::protocol::{Endpoint, PullRequest, PushRequest};
use crate::server::{
    apply_push, pull, BasicValidator, MutationValidator, ServerConfig, ServerError,
};

/// A transport that calls the server rules in process, for one user.
#[derive(Clone)]
pub struct LoopbackTransport<C, V = BasicValidator> {
    /// The server database.
    pub server: MemoryServer,
    /// The user the client is signed in as.
    pub user: String,
    /// Server limits.
    pub config: ServerConfig,
    /// Server validation.
    pub validator: V,
    /// The server's clock.
    pub clock: C,
}

impl<C> LoopbackTransport<C> {
    /// A transport to `server` for `user`, with the default limits and validation.
    pub fn new(server: &MemoryServer, user: &str, clock: C) -> Self {
        LoopbackTransport {
            server: server.clone(),
            user: user.to_owned(),
            config: ServerConfig::default(),
            validator: BasicValidator::default(),
            clock,
        }
    }
}

fn error_response(e: &ServerError) -> TransportResponse {
    TransportResponse {
        status: e.status(),
        retry_after_ms: None,
        body: serde_json::to_string(&e.to_body()).unwrap_or_default(),
    }
}

/// Runs one HTTP-like exchange against the server rules: decode, one transaction,
/// commit on success, encode. Shared by [`LoopbackTransport`] and the simulation.
pub async fn serve<C: Clock, V: MutationValidator>(
    server: &MemoryServer,
    user: &str,
    config: &ServerConfig,
    validator: &V,
    clock: &C,
    request: &TransportRequest,
) -> TransportResponse {
    let now = clock.now_ms();
    let mut tx = server.begin();
    let result = match request.endpoint {
        Endpoint::Push => match serde_json::from_str::<PushRequest>(&request.body) {
            Ok(req) => apply_push(&mut tx, user, &req, config, validator, now)
                .await
                .map(|r| serde_json::to_string(&r)),
            Err(e) => Err(ServerError::BadRequest(e.to_string())),
        },
        Endpoint::Pull => match serde_json::from_str::<PullRequest>(&request.body) {
            Ok(req) => pull(&mut tx, user, &req, config, now)
                .await
                .map(|r| serde_json::to_string(&r)),
            Err(e) => Err(ServerError::BadRequest(e.to_string())),
        },
    };
    match result {
        Ok(Ok(body)) => {
            tx.commit();
            TransportResponse {
                status: 200,
                retry_after_ms: None,
                body,
            }
        }
        Ok(Err(e)) => error_response(&ServerError::Store(e.to_string())),
        Err(e) => error_response(&e),
    }
}

impl<C: Clock, V: MutationValidator> Transport for LoopbackTransport<C, V> {
    async fn send(&self, request: TransportRequest) -> Result<TransportResponse, SyncError> {
        Ok(serve(
            &self.server,
            &self.user,
            &self.config,
            &self.validator,
            &self.clock,
            &request,
        )
        .await)
    }
}
