//! [`MemoryServer`]: the server storage port in memory, with all-or-nothing
//! transactions (a transaction works on a copy that replaces the state on commit).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::key::RecordKey;
use crate::server::{ClientState, ServerError, ServerRecord, ServerStore};

/// The state of one user.
#[derive(Clone, Debug, Default)]
pub struct UserData {
    /// Records and tombstones by (table, key).
    pub records: BTreeMap<(String, RecordKey), ServerRecord>,
    /// Idempotency state per client.
    pub clients: BTreeMap<String, ClientState>,
    /// Last change sequence number issued.
    pub change_seq: u64,
    /// Tombstone GC horizon.
    pub horizon: u64,
}

/// A server database in memory; clones share it.
#[derive(Clone, Debug, Default)]
pub struct MemoryServer {
    users: Rc<RefCell<BTreeMap<String, UserData>>>,
}

/// One transaction on a [`MemoryServer`].
#[derive(Debug)]
pub struct MemoryServerTx {
    users: BTreeMap<String, UserData>,
    target: Rc<RefCell<BTreeMap<String, UserData>>>,
}

impl MemoryServer {
    /// An empty server database.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a transaction.
    pub fn begin(&self) -> MemoryServerTx {
        MemoryServerTx {
            users: self.users.borrow().clone(),
            target: self.users.clone(),
        }
    }

    /// A copy of a user's data.
    pub fn user(&self, user: &str) -> UserData {
        self.users.borrow().get(user).cloned().unwrap_or_default()
    }
}

impl MemoryServerTx {
    /// Makes the transaction's writes visible.
    pub fn commit(self) {
        *self.target.borrow_mut() = self.users;
    }

    fn user(&mut self, user: &str) -> &mut UserData {
        self.users.entry(user.to_owned()).or_default()
    }
}

impl ServerStore for MemoryServerTx {
    async fn client_state(
        &mut self,
        user: &str,
        client_id: &str,
    ) -> Result<ClientState, ServerError> {
        Ok(self
            .user(user)
            .clients
            .get(client_id)
            .cloned()
            .unwrap_or_default())
    }

    async fn put_client_state(
        &mut self,
        user: &str,
        client_id: &str,
        state: &ClientState,
    ) -> Result<(), ServerError> {
        self.user(user)
            .clients
            .insert(client_id.to_owned(), state.clone());
        Ok(())
    }

    async fn get_record(
        &mut self,
        user: &str,
        table: &str,
        key: &RecordKey,
    ) -> Result<Option<ServerRecord>, ServerError> {
        Ok(self
            .user(user)
            .records
            .get(&(table.to_owned(), key.clone()))
            .cloned())
    }

    async fn put_record(&mut self, user: &str, record: &ServerRecord) -> Result<(), ServerError> {
        self.user(user)
            .records
            .insert((record.table.clone(), record.key.clone()), record.clone());
        Ok(())
    }

    async fn next_change_seq(&mut self, user: &str) -> Result<u64, ServerError> {
        let u = self.user(user);
        u.change_seq += 1;
        Ok(u.change_seq)
    }

    async fn changes_since(
        &mut self,
        user: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ServerRecord>, ServerError> {
        let mut rows: Vec<ServerRecord> = self
            .user(user)
            .records
            .values()
            .filter(|r| r.change_seq > after)
            .cloned()
            .collect();
        rows.sort_by_key(|r| r.change_seq);
        rows.truncate(limit);
        Ok(rows)
    }

    async fn tombstone_horizon(&mut self, user: &str) -> Result<u64, ServerError> {
        Ok(self.user(user).horizon)
    }

    async fn purge_tombstones(&mut self, user: &str, up_to: u64) -> Result<(), ServerError> {
        let u = self.user(user);
        u.records
            .retain(|_, r| r.data.is_some() || r.change_seq > up_to);
        u.horizon = u.horizon.max(up_to);
        Ok(())
    }
}
