//! The client sync engine: the sync round of docs/ENGINE.md over the [`crate::ports`].
//!
//! A round: resend in-flight entries (if a previous round or a crash left some), pull
//! until `hasMore` is false, then repeatedly take a batch from pending, push it and
//! pull again. Pulling before taking a new batch means every batch is based on the
//! freshest server versions, so a conflict is always a real concurrent change.

mod account;
mod apply;
mod deferred;
mod identity;
mod isolate;
mod local;
mod pull;
mod push;

pub use account::{resolve_account_change, LocalDataChoice, ACCOUNT_CHANGED};
pub use apply::{apply_change, apply_result, ApplyContext, Pulled, SUPERSEDED_PARKED};
pub use deferred::{later_change, split_by_declared};
pub use isolate::{POISON_CODE, STRIKES};
pub use local::{discard_dead_letter, resolve_conflict, retry_dead_letter, write};
pub use pull::apply_while_fetching;

use crate::conflict::{ConflictResolver, NoResolver, PolicyConfig};
use crate::error::SyncError;
use crate::key::RecordId;
use crate::merge::LocalOp;
use crate::outbox::BatchLimits;
use crate::ports::{Clock, Storage, Transport};

/// Engine settings.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineConfig {
    /// Conflict policy per table.
    pub policies: PolicyConfig,
    /// Push batch limits.
    pub batch: BatchLimits,
    /// Pull page size asked for.
    pub pull_limit: u32,
    /// Most push batches per round.
    pub max_batches_per_round: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            policies: PolicyConfig::default(),
            batch: BatchLimits::default(),
            pull_limit: 200,
            max_batches_per_round: 20,
        }
    }
}

/// What one round did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoundReport {
    /// Mutations sent (counting resends).
    pub sent: usize,
    /// `applied` results.
    pub applied: usize,
    /// `duplicate` results.
    pub duplicates: usize,
    /// Conflicts the app can see (in the conflict log or the open conflicts): `conflict`
    /// push results, and pulled changes that met a local change.
    pub conflicts: usize,
    /// `rejected` results, plus mutations rejected locally (too large to send).
    pub rejected: usize,
    /// Pulled changes from other devices that changed the local copy (not this
    /// device's own changes coming back, not versions it already had).
    pub pulled: usize,
    /// `resetRequired` answers handled.
    pub resets: usize,
}

/// The sync engine of one client database.
pub struct SyncEngine<S, T, C, R = NoResolver> {
    storage: S,
    transport: T,
    clock: C,
    resolver: R,
    config: EngineConfig,
    /// The request that keeps failing, if any (in memory: a reload starts again).
    isolation: std::cell::RefCell<isolate::Isolation>,
}

impl<S: Storage, T: Transport, C: Clock> SyncEngine<S, T, C, NoResolver> {
    /// An engine without a custom conflict resolver.
    pub fn new(storage: S, transport: T, clock: C, config: EngineConfig) -> Self {
        SyncEngine {
            storage,
            transport,
            clock,
            resolver: NoResolver,
            config,
            isolation: Default::default(),
        }
    }
}

impl<S: Storage, T: Transport, C: Clock, R: ConflictResolver> SyncEngine<S, T, C, R> {
    /// An engine with a custom conflict resolver (policy `custom`).
    pub fn with_resolver(
        storage: S,
        transport: T,
        clock: C,
        config: EngineConfig,
        resolver: R,
    ) -> Self {
        SyncEngine {
            storage,
            transport,
            clock,
            resolver,
            config,
            isolation: Default::default(),
        }
    }

    /// The storage port.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// The transport port.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Writes a record locally (and queues it), atomically (I1).
    pub async fn write(&self, id: &RecordId, op: LocalOp) -> Result<(), SyncError> {
        local::write(&self.storage, &self.clock, id, op).await
    }

    /// One sync round (docs/ENGINE.md, "The sync round"). On error, nothing half-applied remains: the round
    /// can simply be retried later (see [`crate::retry`]).
    pub async fn sync_round(&self) -> Result<RoundReport, SyncError> {
        let mut report = RoundReport::default();
        self.apply_deferred(&mut report).await?;
        let in_flight = self
            .storage
            .take_batch(
                &BatchLimits {
                    max_count: 0,
                    max_bytes: 0,
                },
                &|_| Default::default(),
            )
            .await?;
        if !in_flight.is_empty() {
            self.push_ops(in_flight, &mut report).await?;
        }
        self.pull_all(&mut report).await?;
        for _ in 0..self.config.max_batches_per_round {
            let policies = &self.config.policies;
            let mode = |table: &str| policies.for_table(table).merge_mode();
            let batch = self.storage.take_batch(&self.config.batch, &mode).await?;
            if batch.is_empty() {
                break;
            }
            self.push_ops(batch, &mut report).await?;
            self.pull_all(&mut report).await?;
        }
        Ok(report)
    }

    fn context(&self) -> ApplyContext<'_, R> {
        ApplyContext {
            policies: &self.config.policies,
            resolver: &self.resolver,
            local_now_ms: self.clock.now_ms(),
        }
    }
}
