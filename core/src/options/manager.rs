//! The options object of `SyncManager.open` as a whole: which keys exist, the order
//! they are checked in (the first bad one is reported), and the typed result.

use super::auth::{auth, AuthOption};
use super::batch::batch;
use super::conflict::{conflict, ConflictOptions};
use super::database::{read, Caller, DatabaseOptions};
use super::endpoint::endpoint;
use super::protocol::{protocol, ProtocolOption};
use super::switches::{adopt, auto_sync, client_id, live, persist_storage};
use super::timing::{leader_heartbeat, scheduler};
use super::{OptionError, OptionValue};
use crate::outbox::{AdoptMode, BatchLimits};
use crate::sync_loop::tabs::Heartbeat;
use crate::sync_loop::SchedulerConfig;
use crate::ErrorCode;

/// Every option `SyncManager.open` knows; any other key is `unknown_option`.
pub const KNOWN_OPTIONS: &[&str] = &[
    "dbName",
    "version",
    "schema",
    "endpoint",
    "auth",
    "interval",
    "hiddenInterval",
    "debounce",
    "conflict",
    "batch",
    "clientId",
    "autoSync",
    "leaderHeartbeat",
    "adopt",
    "protocol",
    "live",
    "persistStorage",
];

/// The options of `SyncManager.open`, validated, with their defaults filled in.
#[derive(Clone, Debug, PartialEq)]
pub struct ManagerOptions {
    /// `dbName`, `version`, `schema`.
    pub database: DatabaseOptions,
    /// `endpoint`, without trailing slashes; empty when `protocol.kind` is `'custom'`
    /// and no endpoint is given (the app's functions reach the server).
    pub endpoint: String,
    /// `auth`.
    pub auth: AuthOption,
    /// `interval`, `hiddenInterval`, `debounce` (and the retry policy's defaults).
    pub scheduler: SchedulerConfig,
    /// `conflict`.
    pub conflict: ConflictOptions,
    /// `batch`.
    pub batch: BatchLimits,
    /// `autoSync`.
    pub auto_sync: bool,
    /// `leaderHeartbeat`: the leader's heartbeat period, default filled in.
    pub heartbeat: Heartbeat,
    /// `adopt`: what to do with rows of synced tables that have no sync state.
    pub adopt: AdoptMode,
    /// `protocol`: the server API spoken (docs/ADAPTERS.md).
    pub protocol: ProtocolOption,
    /// `live`: hold the server's push channel (default `true`); see
    /// [`ManagerOptions::live_channel`].
    pub live: bool,
    /// `persistStorage`: ask the browser for persistent storage at open (default
    /// `false`; docs/STORAGE.md, *Storage health*).
    pub persist_storage: bool,
}

impl ManagerOptions {
    /// Whether the leader opens the live channel: `live` and protocol v1 (the
    /// adapters' servers have no channel: they poll).
    pub fn live_channel(&self) -> bool {
        self.live && self.protocol == ProtocolOption::V1
    }
}

/// Validates the options object of `SyncManager.open`: the object, then unknown keys,
/// then each option in the order of [`KNOWN_OPTIONS`]; the first error is returned.
pub fn manager_options(options: &OptionValue) -> Result<ManagerOptions, OptionError> {
    let entries = options.entries().ok_or_else(|| {
        OptionError::new(
            ErrorCode::InvalidOptions,
            "options",
            "expected { dbName, schema, endpoint, ... }",
        )
    })?;
    if let Some((key, _)) = entries
        .iter()
        .find(|(key, _)| !KNOWN_OPTIONS.contains(&key.as_ref()))
    {
        return Err(OptionError::new(
            ErrorCode::UnknownOption,
            key.as_ref(),
            format!(
                "unknown option `{key}` (known: {})",
                KNOWN_OPTIONS.join(", ")
            ),
        ));
    }
    let database = read(options, Caller::SyncManager)?;
    let custom = cfg!(feature = "adapters")
        && options.get("protocol").get("kind").as_str() == Some("custom");
    let endpoint = match options.get("endpoint") {
        e if custom && e.is_absent() => String::new(),
        e => endpoint(e)?,
    };
    let auth = auth(options.get("auth"))?;
    let scheduler = scheduler(options)?;
    let conflict = conflict(options.get("conflict"), &database.schema)?;
    let batch = batch(options.get("batch"))?;
    client_id(options.get("clientId"))?;
    let auto_sync = auto_sync(options.get("autoSync"))?;
    let heartbeat = leader_heartbeat(options.get("leaderHeartbeat"))?;
    let adopt = adopt(options.get("adopt"))?;
    let protocol = protocol(options.get("protocol"))?;
    let live = live(options.get("live"))?;
    let persist_storage = persist_storage(options.get("persistStorage"))?;
    // The rest adapter pulls table by table: every schema table (renames applied).
    #[cfg(feature = "adapters")]
    let protocol = match protocol {
        ProtocolOption::Rest(c) => {
            ProtocolOption::Rest(super::protocol::with_schema_tables(c, &database.schema)?)
        }
        other => other,
    };
    Ok(ManagerOptions {
        database,
        endpoint,
        auth,
        scheduler,
        conflict,
        batch,
        auto_sync,
        heartbeat,
        adopt,
        protocol,
        live,
        persist_storage,
    })
}
