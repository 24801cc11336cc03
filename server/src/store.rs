//! The database adapter for the core's server rules: [`SqlStore`] implements
//! `idb_sync_core::server::ServerStore` over one sqlx transaction, so that a push or
//! a pull is exactly one database transaction (I3: the idempotency high-water mark
//! commits with the effects, or neither does).
//!
//! Writers of one user are serialised: on PostgreSQL by locking the user's
//! `user_sync` row first (so change sequence numbers commit in order and a pull never
//! skips a change committed late), on SQLite by the process's writer lock. So the
//! change sequence numbers of a push are handed out in memory and written back with
//! one `UPDATE … RETURNING` at commit ([`crate::change_seq`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use idb_sync_core::hlc::Hlc;
use idb_sync_core::protocol::Origin;
use idb_sync_core::server::{
    ClientState, OutcomeKind, ServerError, ServerRecord, ServerStore, StoredOutcome,
};
use idb_sync_core::{Record, RecordKey};
use serde::de::DeserializeOwned;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use tokio::sync::OwnedMutexGuard;

use crate::change_seq::ChangeSeqs;
use crate::db::{Database, DatabaseKind};

/// One open transaction over the sync tables.
pub struct SqlStore {
    tx: Transaction<'static, Any>,
    kind: DatabaseKind,
    _writer_turn: Option<OwnedMutexGuard<()>>,
    /// The change sequence numbers handed out, written back at [`SqlStore::commit`].
    change_seqs: ChangeSeqs,
    /// The outcome seqs stored per (user, client) when its state was loaded, so that
    /// `put_client_state` writes only new outcome rows.
    loaded_outcomes: HashMap<(String, String), BTreeSet<u64>>,
}

pub(crate) fn store_error(error: impl std::fmt::Display) -> ServerError {
    ServerError::Store(error.to_string())
}

pub(crate) fn to_i64(value: u64) -> Result<i64, ServerError> {
    i64::try_from(value).map_err(|_| ServerError::BadRequest(format!("{value} is out of range")))
}

pub(crate) fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The text form of a key in the `record_key` column: `n:` + number or `s:` + string,
/// so `1` and `"1"` stay different keys and `-0` equals `0`.
pub fn key_column(key: &RecordKey) -> String {
    match key {
        RecordKey::Number(n) if *n == 0.0 => "n:0".to_owned(),
        RecordKey::Number(n) => format!("n:{n:?}"),
        RecordKey::String(s) => format!("s:{s}"),
    }
}

fn parse_key_column(column: &str) -> Result<RecordKey, ServerError> {
    if let Some(number) = column.strip_prefix("n:") {
        return number
            .parse()
            .map(RecordKey::Number)
            .map_err(|_| store_error(format!("bad key column {column:?}")));
    }
    column
        .strip_prefix("s:")
        .map(|s| RecordKey::String(s.to_owned()))
        .ok_or_else(|| store_error(format!("bad key column {column:?}")))
}

fn from_json_column<T: DeserializeOwned>(column: Option<String>) -> Result<Option<T>, ServerError> {
    column
        .map(|text| serde_json::from_str(&text).map_err(store_error))
        .transpose()
}

fn to_json_column<T: serde::Serialize>(value: Option<&T>) -> Result<Option<String>, ServerError> {
    value
        .map(|v| serde_json::to_string(v).map_err(store_error))
        .transpose()
}

fn record_from_row(row: &AnyRow) -> Result<ServerRecord, ServerError> {
    let get_i64 = |name: &str| row.try_get::<i64, _>(name).map_err(store_error);
    let get_text = |name: &str| row.try_get::<Option<String>, _>(name).map_err(store_error);
    Ok(ServerRecord {
        table: row
            .try_get::<String, _>("table_name")
            .map_err(store_error)?,
        key: parse_key_column(
            &row.try_get::<String, _>("record_key")
                .map_err(store_error)?,
        )?,
        version: to_u64(get_i64("version")?),
        previous_version: to_u64(get_i64("previous_version")?),
        data: from_json_column::<Record>(get_text("data")?)?,
        hlc: from_json_column::<Hlc>(get_text("hlc")?)?,
        change_seq: to_u64(get_i64("change_seq")?),
        origin: from_json_column::<Origin>(get_text("origin")?)?,
    })
}

const RECORD_COLUMNS: &str =
    "table_name, record_key, version, previous_version, data, hlc, change_seq, origin";

impl SqlStore {
    /// Begins the write transaction of a push for `user`, waiting for other writes of
    /// the same user to finish first.
    pub async fn begin_write(database: &Database, user: &str) -> Result<Self, ServerError> {
        let writer_turn = database.writer_turn().await;
        let mut tx = database.pool().begin().await.map_err(store_error)?;
        sqlx::query("INSERT INTO user_sync (user_id, last_change_seq, tombstone_horizon) VALUES ($1, 0, 0) ON CONFLICT (user_id) DO NOTHING")
            .bind(user)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        let mut store = Self {
            tx,
            kind: database.kind(),
            _writer_turn: writer_turn,
            change_seqs: ChangeSeqs::default(),
            loaded_outcomes: HashMap::new(),
        };
        if store.kind == DatabaseKind::Postgres {
            // Lock the user's row before anything else; its value opens the block.
            store
                .change_seqs
                .open_from(&mut store.tx, store.kind, user)
                .await?;
        }
        Ok(store)
    }

    /// Begins the read transaction of a pull: one consistent snapshot.
    pub async fn begin_read(database: &Database) -> Result<Self, ServerError> {
        let mut tx = database.pool().begin().await.map_err(store_error)?;
        if database.kind() == DatabaseKind::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        }
        Ok(Self {
            tx,
            kind: database.kind(),
            _writer_turn: None,
            change_seqs: ChangeSeqs::default(),
            loaded_outcomes: HashMap::new(),
        })
    }

    /// Writes back the change sequence numbers handed out — one `UPDATE … RETURNING`
    /// per user that took any — and commits everything done through this store. If a
    /// user's counter is not where this transaction's numbers leave it (its writers
    /// were not serialised), nothing commits.
    pub async fn commit(mut self) -> Result<(), ServerError> {
        self.change_seqs.write_back(&mut self.tx).await?;
        self.tx.commit().await.map_err(store_error)
    }

    /// The change seq `user`'s data reaches when this transaction commits, or `None`
    /// when it changed none of the user's data (nothing to announce).
    pub fn committed_seq(&self, user: &str) -> Option<u64> {
        self.change_seqs.last_taken(user)
    }

    /// Rolls everything back (also what dropping the store does).
    pub async fn rollback(self) -> Result<(), ServerError> {
        self.tx.rollback().await.map_err(store_error)
    }
}

impl ServerStore for SqlStore {
    async fn client_state(
        &mut self,
        user: &str,
        client_id: &str,
    ) -> Result<ClientState, ServerError> {
        let row = sqlx::query("SELECT high_water, acked_below, unapplied FROM client_states WHERE user_id = $1 AND client_id = $2")
            .bind(user)
            .bind(client_id)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(store_error)?;
        let Some(row) = row else {
            return Ok(ClientState::default());
        };
        let acked_below = to_u64(row.try_get("acked_below").map_err(store_error)?);
        // Outcomes stored before content hashes (migration 0003): no hash, same kinds.
        let legacy: BTreeMap<u64, OutcomeKind> =
            serde_json::from_str(&row.try_get::<String, _>("unapplied").map_err(store_error)?)
                .map_err(store_error)?;
        let mut outcomes: BTreeMap<u64, StoredOutcome> = legacy
            .into_iter()
            .map(|(seq, kind)| (seq, StoredOutcome { hash: None, kind }))
            .collect();
        let rows = sqlx::query(
            "SELECT seq, content_hash, outcome FROM client_outcomes WHERE user_id = $1 AND client_id = $2 AND seq >= $3",
        )
        .bind(user)
        .bind(client_id)
        .bind(to_i64(acked_below)?)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(store_error)?;
        for row in &rows {
            let seq = to_u64(row.try_get("seq").map_err(store_error)?);
            let hash = row
                .try_get::<Option<String>, _>("content_hash")
                .map_err(store_error)?;
            let kind =
                serde_json::from_str(&row.try_get::<String, _>("outcome").map_err(store_error)?)
                    .map_err(store_error)?;
            outcomes.insert(seq, StoredOutcome { hash, kind });
        }
        let stored = rows
            .iter()
            .filter_map(|r| r.try_get::<i64, _>("seq").ok())
            .map(to_u64)
            .collect();
        self.loaded_outcomes
            .insert((user.to_owned(), client_id.to_owned()), stored);
        Ok(ClientState {
            high_water: to_u64(row.try_get("high_water").map_err(store_error)?),
            acked_below,
            outcomes,
        })
    }

    async fn put_client_state(
        &mut self,
        user: &str,
        client_id: &str,
        state: &ClientState,
    ) -> Result<(), ServerError> {
        sqlx::query(
            "INSERT INTO client_states (user_id, client_id, high_water, acked_below, unapplied) VALUES ($1, $2, $3, $4, '{}') \
             ON CONFLICT (user_id, client_id) DO UPDATE SET high_water = excluded.high_water, \
             acked_below = excluded.acked_below, unapplied = '{}'",
        )
        .bind(user)
        .bind(client_id)
        .bind(to_i64(state.high_water)?)
        .bind(to_i64(state.acked_below)?)
        .execute(&mut *self.tx)
        .await
        .map_err(store_error)?;
        // Pruned: everything below the acknowledged seq (core raises it past what its
        // per-client cap drops).
        let stored = self
            .loaded_outcomes
            .remove(&(user.to_owned(), client_id.to_owned()))
            .unwrap_or_default();
        sqlx::query(
            "DELETE FROM client_outcomes WHERE user_id = $1 AND client_id = $2 AND seq < $3",
        )
        .bind(user)
        .bind(client_id)
        .bind(to_i64(state.acked_below)?)
        .execute(&mut *self.tx)
        .await
        .map_err(store_error)?;
        for (seq, outcome) in state.outcomes.range(state.acked_below..) {
            if stored.contains(seq) {
                continue;
            }
            sqlx::query(
                "INSERT INTO client_outcomes (user_id, client_id, seq, content_hash, outcome) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (user_id, client_id, seq) DO UPDATE SET content_hash = excluded.content_hash, outcome = excluded.outcome",
            )
            .bind(user)
            .bind(client_id)
            .bind(to_i64(*seq)?)
            .bind(outcome.hash.clone())
            .bind(serde_json::to_string(&outcome.kind).map_err(store_error)?)
            .execute(&mut *self.tx)
            .await
            .map_err(store_error)?;
        }
        Ok(())
    }

    async fn get_record(
        &mut self,
        user: &str,
        table: &str,
        key: &RecordKey,
    ) -> Result<Option<ServerRecord>, ServerError> {
        let row = sqlx::query(&format!("SELECT {RECORD_COLUMNS} FROM records WHERE user_id = $1 AND table_name = $2 AND record_key = $3"))
            .bind(user)
            .bind(table)
            .bind(key_column(key))
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(store_error)?;
        row.as_ref().map(record_from_row).transpose()
    }

    async fn put_record(&mut self, user: &str, record: &ServerRecord) -> Result<(), ServerError> {
        sqlx::query(
            "INSERT INTO records (user_id, table_name, record_key, version, previous_version, data, hlc, change_seq, origin, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (user_id, table_name, record_key) DO UPDATE SET version = excluded.version, \
             previous_version = excluded.previous_version, data = excluded.data, hlc = excluded.hlc, \
             change_seq = excluded.change_seq, origin = excluded.origin, updated_at = excluded.updated_at",
        )
        .bind(user)
        .bind(&record.table)
        .bind(key_column(&record.key))
        .bind(to_i64(record.version)?)
        .bind(to_i64(record.previous_version)?)
        .bind(to_json_column(record.data.as_ref())?)
        .bind(to_json_column(record.hlc.as_ref())?)
        .bind(to_i64(record.change_seq)?)
        .bind(to_json_column(record.origin.as_ref())?)
        .bind(now_ms())
        .execute(&mut *self.tx)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    /// Handed out in memory from the user's block (opened by the first call on SQLite,
    /// by [`SqlStore::begin_write`] on PostgreSQL); written back at commit.
    async fn next_change_seq(&mut self, user: &str) -> Result<u64, ServerError> {
        if !self.change_seqs.is_open(user) {
            self.change_seqs
                .open_from(&mut self.tx, self.kind, user)
                .await?;
        }
        self.change_seqs
            .next(user)
            .ok_or_else(|| store_error("the change sequence block did not open"))
    }

    async fn changes_since(
        &mut self,
        user: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ServerRecord>, ServerError> {
        let rows = sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE user_id = $1 AND change_seq > $2 ORDER BY change_seq LIMIT $3"
        ))
        .bind(user)
        .bind(to_i64(after)?)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(store_error)?;
        rows.iter().map(record_from_row).collect()
    }

    async fn tombstone_horizon(&mut self, user: &str) -> Result<u64, ServerError> {
        let row = sqlx::query("SELECT tombstone_horizon FROM user_sync WHERE user_id = $1")
            .bind(user)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(store_error)?;
        match row {
            Some(row) => Ok(to_u64(
                row.try_get("tombstone_horizon").map_err(store_error)?,
            )),
            None => Ok(0),
        }
    }

    async fn purge_tombstones(&mut self, user: &str, up_to: u64) -> Result<(), ServerError> {
        let up_to = to_i64(up_to)?;
        sqlx::query("DELETE FROM records WHERE user_id = $1 AND data IS NULL AND change_seq <= $2")
            .bind(user)
            .bind(up_to)
            .execute(&mut *self.tx)
            .await
            .map_err(store_error)?;
        sqlx::query(
            "UPDATE user_sync SET tombstone_horizon = CASE WHEN tombstone_horizon < $2 THEN $2 ELSE tombstone_horizon END WHERE user_id = $1",
        )
        .bind(user)
        .bind(up_to)
        .execute(&mut *self.tx)
        .await
        .map_err(store_error)?;
        Ok(())
    }
}
