//! The server rules of protocol v1 as pure logic over a [`ServerStore`] port:
//! idempotency by `(clientId, seq)` (I3), record versions, conflict detection by
//! `baseVersion`, field merge, the per-user change sequence that is the pull cursor,
//! tombstones and their GC horizon. The reference server is HTTP plus a database
//! adapter over this code; the simulation runs exactly this code too.

mod error;
mod pull;
mod push;
mod store;
mod validate;

pub use error::ServerError;
pub use pull::{collect_tombstones, decode_cursor, encode_cursor, pull};
pub use push::{apply_push, decide, Decision};
pub use store::{ClientState, ServerRecord, ServerStore, StoredOutcome};
pub use validate::{BasicValidator, MutationValidator};

/// Limits the server enforces.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerConfig {
    /// Most mutations in one push (more: `payload_too_large`, HTTP 413).
    pub max_mutations_per_push: usize,
    /// Default page size of a pull.
    pub default_pull_limit: u32,
    /// Largest page size a client may ask for.
    pub max_pull_limit: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_mutations_per_push: 500,
            default_pull_limit: 200,
            max_pull_limit: 1000,
        }
    }
}
