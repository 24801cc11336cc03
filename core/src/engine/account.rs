//! One account per local database (I10): the app's decision after a round failed
//! with `account_changed` (the signed-in user is not the one whose data this
//! database holds). Until it decides, every round keeps failing and nothing of one
//! account is pushed into another.

use crate::conflict::DeadLetter;
use crate::error::SyncError;
use crate::ports::{Clock, Storage};
use crate::record::Op;

/// What to do with the local data of the previous account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalDataChoice {
    /// Remove the synced tables' records, the outbox, conflicts, dead letters and the
    /// sync position: a fresh start for the new account.
    Clear,
    /// Keep the records locally (as local-only records the new account's server has
    /// never seen) and move every unsynced change to the dead letters with code
    /// `account_changed`, so it is pushed only if the app retries it explicitly.
    Keep,
}

impl LocalDataChoice {
    /// The choice the app names in `resolveAccountChange({ localData })`: `"clear"`
    /// or `"keep"`; `None` for anything else (`invalid_argument`).
    pub fn named(name: &str) -> Option<LocalDataChoice> {
        match name {
            "clear" => Some(LocalDataChoice::Clear),
            "keep" => Some(LocalDataChoice::Keep),
            _ => None,
        }
    }
}

/// The dead-letter code of a change set aside by [`LocalDataChoice::Keep`].
pub const ACCOUNT_CHANGED: &str = crate::ErrorCode::AccountChanged.as_str();

/// Applies the app's decision, atomically; the next round pulls the new account's
/// data from scratch and records the new account.
pub async fn resolve_account_change<S: Storage, C: Clock>(
    storage: &S,
    clock: &C,
    choice: LocalDataChoice,
) -> Result<(), SyncError> {
    if choice == LocalDataChoice::Clear {
        return storage.clear_synced_data().await;
    }
    let keys = storage.local_keys().await?;
    let now = clock.now_ms();
    storage
        .transact(&keys, |tx| {
            let mut meta = tx.meta()?.clone();
            let previous = meta.account.clone().unwrap_or_else(|| "unknown".into());
            let reason =
                format!("written under account {previous:?}; not pushed into another account");
            let mut letters = Vec::new();
            for (id, state) in tx.states.iter_mut() {
                // A parked manual conflict's local side is an unsynced change too.
                let parked = state
                    .conflict
                    .take()
                    .map(|c| (c.local.map_or(Op::Delete, |record| Op::Put { record }), 0));
                let outbox = [
                    state.in_flight.take().map(|f| (f.op, f.seq)),
                    state.pending.take().map(|p| (p.op, 0)),
                    parked,
                ];
                for (op, seq) in outbox.into_iter().flatten() {
                    letters.push(DeadLetter {
                        id: meta.take_dead_letter_id(),
                        record: id.clone(),
                        op,
                        seq,
                        code: ACCOUNT_CHANGED.into(),
                        reason: reason.clone(),
                        at_ms: now,
                    });
                }
                // What the old account's server knew means nothing to the new one.
                state.version = 0;
                state.acked_unpulled = false;
            }
            tx.new_dead_letters.extend(letters);
            meta.forget_cursor();
            meta.account = None;
            tx.meta = Some(meta);
            Ok(())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::LocalDataChoice;

    #[test]
    fn the_app_names_clear_or_keep() {
        assert_eq!(
            LocalDataChoice::named("clear"),
            Some(LocalDataChoice::Clear)
        );
        assert_eq!(LocalDataChoice::named("keep"), Some(LocalDataChoice::Keep));
        for bad in ["", "Clear", "delete", "keep "] {
            assert_eq!(LocalDataChoice::named(bad), None, "{bad:?}");
        }
    }
}
