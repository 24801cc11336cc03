//! The database adapter. Today: an embedded SQLite file, created (with its folder) on
//! first run, in WAL mode so readers never wait for the writer.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

/// Why the database could not be opened or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// The `--database` setting names no database this server can open.
    #[error("unsupported database {0:?}: give a path to an SQLite file or an sqlite: URL")]
    Unsupported(String),
    /// The folder for the SQLite file could not be created.
    #[error("cannot create the database folder {path}: {source}")]
    CreateDir {
        /// The folder.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The database driver failed.
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
}

/// A handle to the server's database, cheap to clone (it is a connection pool).
#[derive(Debug, Clone)]
pub struct Database {
    pool: SqlitePool,
}

impl Database {
    /// Opens the database that `setting` names (see `Config::database`), creating an
    /// SQLite file and its folder when they do not exist yet.
    pub async fn open(setting: &str) -> Result<Self, DbError> {
        if setting.contains("://") && !setting.starts_with("sqlite:") {
            return Err(DbError::Unsupported(setting.to_owned()));
        }
        let path = setting.strip_prefix("sqlite://").or_else(|| setting.strip_prefix("sqlite:")).unwrap_or(setting);
        Self::open_sqlite(Path::new(path)).await
    }

    async fn open_sqlite(path: &Path) -> Result<Self, DbError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir { path: dir.display().to_string(), source })?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        Ok(Self { pool })
    }

    /// The kind of database, as reported by `GET /health`.
    pub fn kind(&self) -> &'static str {
        "sqlite"
    }

    /// Checks that the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
