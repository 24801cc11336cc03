//! Server configuration: command-line flags, each also settable by an environment
//! variable. `idb-sync-server --help` documents all of them.

use std::net::SocketAddr;

use clap::Parser;

/// How the server is configured. Every flag has an environment variable equivalent.
#[derive(Debug, Clone, Parser)]
#[command(name = "idb-sync-server", version, about = "The reference idb-sync sync server (protocol v1).")]
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

    /// Origins allowed to call the API from a browser (repeat the flag or separate
    /// with commas). Without it any origin may call: the API uses bearer tokens, never
    /// cookies, so a foreign page gains nothing it could not do with a token.
    #[arg(long = "cors-origin", env = "IDB_SYNC_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
}
