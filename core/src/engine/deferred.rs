//! Pulled changes for tables this database does not declare (docs/STORAGE.md,
//! "Layout"): an app's v2 adds a table while a v1 tab still syncs. They are kept, not applied — the
//! round goes on and pending writes still push — and applied once a schema declares
//! the table (the next open with that schema).

use super::pull::Tally;
use super::{apply_change, RoundReport, SyncEngine};
use crate::conflict::ConflictResolver;
use crate::error::SyncError;
use crate::key::RecordId;
use crate::ports::{Clock, Storage, Transport};
use crate::protocol::Change;

/// Splits pulled changes into those to apply now and those to keep for later (their
/// table is not declared), each in page order.
pub fn split_by_declared(
    changes: &[Change],
    declares: impl Fn(&str) -> bool,
) -> (Vec<&Change>, Vec<&Change>) {
    changes.iter().partition(|c| declares(&c.table))
}

/// Keeps, of `kept` and `incoming` (changes of one key), the later version.
pub fn later_change(kept: Option<Change>, incoming: Change) -> Change {
    match kept {
        Some(k) if k.version >= incoming.version => k,
        _ => incoming,
    }
}

impl<S: Storage, T: Transport, C: Clock, R: ConflictResolver> SyncEngine<S, T, C, R> {
    /// Applies the kept changes of tables the database declares now, in one
    /// transaction, and lets the adapter drop them.
    pub(super) async fn apply_deferred(&self, report: &mut RoundReport) -> Result<(), SyncError> {
        let changes = self.storage.deferred_changes().await?;
        if changes.is_empty() {
            return Ok(());
        }
        let keys: Vec<RecordId> = changes.iter().map(|c| c.record_id()).collect();
        let ctx = self.context();
        let mut tally = Tally::default();
        self.storage
            .transact(&keys, |tx| {
                tally = Tally::default();
                for (change, id) in changes.iter().zip(&keys) {
                    tally.count(apply_change(change, tx, &ctx)?);
                    tx.applied_deferred.push(id.clone());
                }
                Ok(())
            })
            .await?;
        tally.add_to(report);
        Ok(())
    }
}
