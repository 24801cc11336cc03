//! The database adapter: one connection pool over either an embedded SQLite file
//! (the default: created with its folder on first run, WAL mode) or PostgreSQL (a
//! `postgres://` URL; several server instances may share one database). Migrations
//! run on open. Queries are written once, with `$1`-style parameters that both
//! databases accept.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

/// Why the database could not be opened or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// The `--database` setting names no database this server can open.
    #[error("unsupported database {0:?}: give a path to an SQLite file, an sqlite: URL or a postgres:// URL")]
    Unsupported(String),
    /// The folder for the SQLite file could not be created.
    #[error("cannot create the database folder {path}: {source}")]
    CreateDir {
        /// The folder.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The migrations could not be applied.
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database driver failed.
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
}

/// Which database engine is behind a [`Database`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl DatabaseKind {
    /// The name reported by `GET /health`.
    pub fn name(self) -> &'static str {
        match self {
            DatabaseKind::Sqlite => "sqlite",
            DatabaseKind::Postgres => "postgres",
        }
    }
}

/// A handle to the server's database, cheap to clone (it is a connection pool).
#[derive(Debug, Clone)]
pub struct Database {
    pool: AnyPool,
    kind: DatabaseKind,
    /// SQLite has one writer at a time; writes in this process queue here instead
    /// of failing with `SQLITE_BUSY` when two transactions try to upgrade.
    sqlite_writer: Arc<tokio::sync::Mutex<()>>,
}

impl Database {
    /// Opens the database that `setting` names — a path to an SQLite file, an
    /// `sqlite:` URL, or a `postgres://` URL — creating an SQLite file and its folder
    /// when they do not exist yet, and applies the migrations.
    pub async fn open(setting: &str) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let database = if setting.starts_with("postgres://") || setting.starts_with("postgresql://")
        {
            Self::open_postgres(setting).await?
        } else if setting.contains("://") && !setting.starts_with("sqlite:") {
            return Err(DbError::Unsupported(setting.to_owned()));
        } else {
            let path = setting
                .strip_prefix("sqlite://")
                .or_else(|| setting.strip_prefix("sqlite:"))
                .unwrap_or(setting);
            Self::open_sqlite(Path::new(path)).await?
        };
        database.migrate().await?;
        Ok(database)
    }

    async fn open_postgres(url: &str) -> Result<Self, DbError> {
        let options: AnyConnectOptions = url.parse()?;
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            kind: DatabaseKind::Postgres,
            sqlite_writer: Arc::default(),
        })
    }

    async fn open_sqlite(path: &Path) -> Result<Self, DbError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        // mode=rwc: create the file when it does not exist.
        let options: AnyConnectOptions = format!("sqlite://{}?mode=rwc", path.display()).parse()?;
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .after_connect(|connection, _| {
                Box::pin(async move {
                    connection
                        .execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
                        .await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            kind: DatabaseKind::Sqlite,
            sqlite_writer: Arc::default(),
        })
    }

    /// Applies `server/migrations/`, written in the SQL both databases accept. (If
    /// the dialects ever need to differ, split the folder per database.)
    async fn migrate(&self) -> Result<(), DbError> {
        sqlx::migrate!("./migrations").run(&self.pool).await?;
        Ok(())
    }

    /// Which engine this is.
    pub fn kind(&self) -> DatabaseKind {
        self.kind
    }

    /// The connection pool, for the store adapters.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Waits for this process's turn to write, on SQLite (a no-op guard on
    /// PostgreSQL, where row locks order writers).
    pub async fn writer_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.kind {
            DatabaseKind::Sqlite => Some(self.sqlite_writer.clone().lock_owned().await),
            DatabaseKind::Postgres => None,
        }
    }

    /// Checks that the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
