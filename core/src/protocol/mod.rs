//! Protocol v1: the JSON messages exchanged by client and server (see
//! `docs/PROTOCOL.md`, which is the contract), and the validation of server answers.
//!
//! Field names are camelCase on the wire. Unknown fields are ignored (forward
//! compatibility); missing required fields, wrong types and unknown statuses are errors.

mod error_body;
pub(crate) mod flat;
mod pull;
mod push;
mod validate;

pub use error_body::{ErrorBody, ErrorDetail};
pub use pull::{Change, Cursor, PullPage, PullRequest, PullResponse};
pub use push::{
    ConflictReason, MergeMode, Mutation, MutationResult, Origin, PushRequest, PushResponse,
    ServerSnapshot,
};
pub use validate::{decode_pull_response, decode_push_response, validate_push_response};

/// The two endpoints of protocol v1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/push`
    Push,
    /// `POST /v1/pull`
    Pull,
}

impl Endpoint {
    /// The HTTP path of the endpoint, relative to the server's base URL.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Push => "/v1/push",
            Endpoint::Pull => "/v1/pull",
        }
    }
}
