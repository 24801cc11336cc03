//! The change sequence numbers of one write transaction, handed out in memory and
//! written back with one `UPDATE … RETURNING` per user when the transaction commits,
//! instead of one `UPDATE` per applied mutation (docs/SERVER.md, "Transactions and
//! ordering").
//!
//! This is sound because the writers of a user are serialised for the whole
//! transaction (the `user_sync` row lock on PostgreSQL, the process's writer lock on
//! SQLite): nobody else can move the user's `last_change_seq` between the moment it
//! is read and the commit, so the numbers `base + 1 ..= base + n` are this push's.
//! The commit still checks that: the `UPDATE` returns the new value, and anything
//! else than `base + n` fails the push (nothing of it commits).

use std::collections::HashMap;

use idb_sync_core::server::ServerError;
use sqlx::{AnyConnection, Row};

use crate::db::DatabaseKind;
use crate::store::{store_error, to_i64, to_u64};

/// The numbers one user's block has handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    /// The user's `last_change_seq` when the block was opened.
    base: u64,
    /// How many numbers were handed out since.
    taken: u64,
}

/// The change-sequence blocks of one transaction, one per user that writes in it.
#[derive(Debug, Default)]
pub(crate) struct ChangeSeqs {
    blocks: HashMap<String, Block>,
}

/// One user's reservation to write back at commit: `taken` numbers after `base`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reservation {
    /// The user.
    pub(crate) user: String,
    /// The user's `last_change_seq` read under the lock.
    pub(crate) base: u64,
    /// How many numbers the transaction used (at least 1).
    pub(crate) taken: u64,
}

impl Reservation {
    /// The value the commit's `UPDATE … RETURNING` must return.
    pub(crate) fn expected_last(&self) -> u64 {
        self.base + self.taken
    }
}

impl ChangeSeqs {
    /// Whether `user`'s `last_change_seq` has been read in this transaction.
    pub(crate) fn is_open(&self, user: &str) -> bool {
        self.blocks.contains_key(user)
    }

    /// Reads `user`'s `last_change_seq` through `connection` — locking the row on
    /// PostgreSQL (on SQLite the caller holds the writer lock) — and opens the user's
    /// block at it. One `SELECT`.
    pub(crate) async fn open_from(
        &mut self,
        connection: &mut AnyConnection,
        kind: DatabaseKind,
        user: &str,
    ) -> Result<(), ServerError> {
        let lock = match kind {
            DatabaseKind::Postgres => " FOR UPDATE",
            DatabaseKind::Sqlite => "",
        };
        let row = sqlx::query(&format!(
            "SELECT last_change_seq FROM user_sync WHERE user_id = $1{lock}"
        ))
        .bind(user)
        .fetch_optional(&mut *connection)
        .await
        .map_err(store_error)?;
        let base = match row {
            Some(row) => to_u64(row.try_get("last_change_seq").map_err(store_error)?),
            None => 0,
        };
        self.open(user, base);
        Ok(())
    }

    /// Writes back through `connection` what was handed out: one `UPDATE … RETURNING`
    /// per user that took numbers (none for a push that applied nothing). Fails when a
    /// user's counter is not where this transaction's numbers leave it, or the user's
    /// `user_sync` row is gone: then the caller must not commit.
    pub(crate) async fn write_back(
        &self,
        connection: &mut AnyConnection,
    ) -> Result<(), ServerError> {
        for reservation in self.reservations() {
            let row = sqlx::query("UPDATE user_sync SET last_change_seq = last_change_seq + $2 WHERE user_id = $1 RETURNING last_change_seq")
                .bind(&reservation.user)
                .bind(to_i64(reservation.taken)?)
                .fetch_optional(&mut *connection)
                .await
                .map_err(store_error)?;
            let last = match row {
                Some(row) => Some(to_u64(row.try_get("last_change_seq").map_err(store_error)?)),
                None => None,
            };
            if last != Some(reservation.expected_last()) {
                return Err(store_error(format!(
                    "the change sequence of user {:?} is at {last:?}, not at {} where this transaction's numbers leave it: its writers were not serialised",
                    reservation.user,
                    reservation.expected_last()
                )));
            }
        }
        Ok(())
    }

    /// Opens `user`'s block at `base`, the `last_change_seq` read under the user's
    /// writer lock. An open block is kept (its numbers may already be handed out).
    pub(crate) fn open(&mut self, user: &str, base: u64) {
        self.blocks
            .entry(user.to_owned())
            .or_insert(Block { base, taken: 0 });
    }

    /// Where `user`'s counter stands once this transaction commits, if it took any
    /// number (the push changed the user's data).
    pub(crate) fn last_taken(&self, user: &str) -> Option<u64> {
        self.blocks
            .get(user)
            .filter(|block| block.taken > 0)
            .map(|block| block.base + block.taken)
    }

    /// The next number of `user`'s open block (`None` when it was not opened).
    pub(crate) fn next(&mut self, user: &str) -> Option<u64> {
        let block = self.blocks.get_mut(user)?;
        block.taken += 1;
        Some(block.base + block.taken)
    }

    /// What to write back at commit: the users that took numbers, in a stable order.
    pub(crate) fn reservations(&self) -> Vec<Reservation> {
        let mut reservations: Vec<Reservation> = self
            .blocks
            .iter()
            .filter(|(_, block)| block.taken > 0)
            .map(|(user, block)| Reservation {
                user: user.clone(),
                base: block.base,
                taken: block.taken,
            })
            .collect();
        reservations.sort_by(|a, b| a.user.cmp(&b.user));
        reservations
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_base_in_order_and_are_reserved_once() {
        let mut seqs = ChangeSeqs::default();
        assert_eq!(seqs.next("u"), None, "no number before the base is read");
        seqs.open("u", 41);
        assert_eq!(
            (seqs.next("u"), seqs.next("u"), seqs.next("u")),
            (Some(42), Some(43), Some(44))
        );
        // Re-opening (a second read of the row) does not restart the block.
        seqs.open("u", 41);
        assert_eq!(seqs.next("u"), Some(45));
        let reservations = seqs.reservations();
        assert_eq!(
            reservations,
            vec![Reservation {
                user: "u".into(),
                base: 41,
                taken: 4
            }]
        );
        assert_eq!(reservations[0].expected_last(), 45);
    }

    #[test]
    fn a_block_that_handed_out_nothing_writes_nothing() {
        let mut seqs = ChangeSeqs::default();
        seqs.open("idle", 7);
        seqs.open("busy", 0);
        seqs.next("busy");
        assert!(seqs.is_open("idle"));
        assert_eq!(
            seqs.reservations(),
            vec![Reservation {
                user: "busy".into(),
                base: 0,
                taken: 1
            }]
        );
    }
}
