//! Server configuration: command-line flags, each also settable by an environment
//! variable. `idb-sync-server --help` documents all of them.

use std::net::SocketAddr;

use clap::{Parser, ValueEnum};

/// Development or production behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Generates (and stores in the database) a JWT secret when none is given.
    Dev,
    /// Refuses to start without an explicit JWT secret of at least 32 bytes.
    Production,
}

/// How log lines are written (to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// How the server is configured. Every flag has an environment variable equivalent.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "idb-sync-server",
    version,
    about = "The reference idb-sync sync server (protocol v1)."
)]
pub struct Config {
    /// Address and port to listen on. Use port 0 to let the OS choose; the chosen
    /// address is printed on stdout as "listening on http://ADDR".
    #[arg(long, env = "IDB_SYNC_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,

    /// Database: a path to an SQLite file (created on first run, with its folder), an
    /// `sqlite:` URL, or a `postgres://user:password@host/db` URL (several server
    /// instances may share one PostgreSQL database). Migrations run on start.
    #[arg(long, env = "DATABASE_URL", default_value = "data/idb-sync.sqlite3")]
    pub database: String,

    /// `dev` generates a JWT secret on first start and keeps it in the database (so
    /// every instance over one database shares it); `production` requires --jwt-secret.
    #[arg(long, env = "IDB_SYNC_MODE", value_enum, default_value = "dev")]
    pub mode: Mode,

    /// Secret for signing JWT access tokens (HS256), at least 32 bytes.
    #[arg(long, env = "IDB_SYNC_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Lifetime of access tokens issued by signup/login, in seconds.
    #[arg(long, env = "IDB_SYNC_TOKEN_TTL", default_value_t = 24 * 3600)]
    pub token_ttl_secs: u64,

    /// Single-user self-hosting: requests bearing this key (`Authorization: Bearer
    /// KEY` or `X-API-Key: KEY`) act as the one user `owner`. Signup is closed (403
    /// `signup_disabled`); accounts made before can still log in.
    #[arg(long, env = "IDB_SYNC_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,

    /// Only these tables may be synced (comma-separated). A mutation of any other
    /// table is answered `rejected` with code `unknown_table` (the rest of the push
    /// is applied). Without it any valid table name (1–64 characters of
    /// `A-Z a-z 0-9 _ . -`) is accepted.
    #[arg(long = "tables", env = "IDB_SYNC_TABLES", value_delimiter = ',')]
    pub tables: Vec<String>,

    /// Origins allowed to call the API from a browser (repeat the flag or separate
    /// with commas). Without it any origin may call: the API uses bearer tokens, never
    /// cookies, so a foreign page gains nothing it could not do with a token.
    #[arg(
        long = "cors-origin",
        env = "IDB_SYNC_CORS_ORIGINS",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,

    /// Largest request body, in bytes (larger: 413).
    #[arg(long, env = "IDB_SYNC_MAX_BODY_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Most mutations in one push (more: 413, and the client splits the batch).
    #[arg(long, env = "IDB_SYNC_MAX_MUTATIONS", default_value_t = 500)]
    pub max_mutations_per_push: usize,

    /// Largest single record, in bytes of JSON (larger: that mutation is rejected).
    #[arg(long, env = "IDB_SYNC_MAX_RECORD_BYTES", default_value_t = 1024 * 1024)]
    pub max_record_bytes: usize,

    /// Requests per minute one user may make (then 429 with Retry-After).
    #[arg(long, env = "IDB_SYNC_RATE_LIMIT_USER", default_value_t = 1200)]
    pub rate_limit_per_user: u32,

    /// Requests per minute one client address may make to the API (then 429).
    #[arg(long, env = "IDB_SYNC_RATE_LIMIT_ADDRESS", default_value_t = 2400)]
    pub rate_limit_per_address: u32,

    /// Signups and logins per minute one client address may make (then 429): each
    /// costs a deliberately slow, memory-hard password hash.
    #[arg(
        long = "rate-limit-auth",
        env = "IDB_SYNC_RATE_LIMIT_AUTH",
        default_value_t = 60
    )]
    pub rate_limit_auth_per_address: u32,

    /// How often rate-limit counters of idle users and addresses are forgotten, in
    /// seconds (bounds their memory; independent of tombstone collection).
    #[arg(long, env = "IDB_SYNC_RATE_LIMIT_CLEANUP", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub rate_limit_cleanup_secs: u64,

    /// Byte budget of one pull page (JSON of its records): a page stops before the
    /// change that would exceed it and says `hasMore`, but always carries one change.
    #[arg(long, env = "IDB_SYNC_MAX_PULL_PAGE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_pull_page_bytes: usize,

    /// How long tombstones (deleted records) are kept, in hours. Clients whose cursor
    /// is older than the purged tombstones are told to reset (`resetRequired`).
    #[arg(long, env = "IDB_SYNC_TOMBSTONE_RETENTION_HOURS", default_value_t = 30 * 24)]
    pub tombstone_retention_hours: u64,

    /// Log format: `text` or `json` (one object per line). Levels come from
    /// `RUST_LOG` (default `info`).
    #[arg(long, env = "IDB_SYNC_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// How often tombstones are collected, in seconds (0 turns collection off).
    #[arg(long, env = "IDB_SYNC_GC_INTERVAL", default_value_t = 3600)]
    pub gc_interval_secs: u64,

    /// How long an event stream (`GET /v1/events`) may stay silent before the server
    /// writes a `: keepalive` comment, in milliseconds (keeps proxies and NATs from
    /// closing it, and finds dead connections).
    #[arg(long, env = "IDB_SYNC_EVENTS_KEEPALIVE_MS", default_value_t = 15_000, value_parser = clap::value_parser!(u64).range(10..))]
    pub events_keepalive_ms: u64,

    /// Most event streams one user may hold open on this instance; one more closes
    /// the user's oldest stream (usually a connection that died unnoticed).
    #[arg(
        long = "events-max-streams",
        env = "IDB_SYNC_EVENTS_MAX_STREAMS",
        default_value_t = 8,
        value_parser = clap::value_parser!(u64).range(1..=10_000)
    )]
    pub events_max_streams_per_user: u64,
}

impl Config {
    /// Settings for tests and tools: the defaults, listening on an OS-chosen port.
    pub fn for_database(database: &str) -> Self {
        Self::parse_from([
            "idb-sync-server",
            "--listen",
            "127.0.0.1:0",
            "--database",
            database,
        ])
    }
}
