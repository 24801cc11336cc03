//! A client identity is never reused (I11): when the server answers
//! `client_id_reused` (this database's seqs were seen before with other content — a
//! wiped database, a restored backup, a copied id), the client takes a new id and
//! renumbers its unanswered in-flight mutations from seq 1 under it, atomically.

use crate::error::SyncError;
use crate::key::RecordId;
use crate::outbox::{ClientMeta, InFlightOp};
use crate::ports::{Clock, Storage};

/// Mints a new client id and renumbers `ops` (the unanswered in-flight entries, in
/// seq order) from 1 under it, in one transaction; `ops` is updated to match.
/// Returns the new metadata.
pub(super) async fn renew_client_id<S: Storage, C: Clock>(
    storage: &S,
    clock: &C,
    ops: &mut [InFlightOp],
) -> Result<ClientMeta, SyncError> {
    let previous = storage.read_meta().await?.client_id;
    let new_id = clock.new_client_id(&previous);
    if new_id == previous {
        return Err(SyncError::Storage(
            "the clock minted the same client id again".into(),
        ));
    }
    let keys: Vec<RecordId> = ops.iter().map(|o| o.id.clone()).collect();
    let renumbered: Vec<InFlightOp> = ops
        .iter()
        .zip(1u64..)
        .map(|(op, seq)| InFlightOp { seq, ..op.clone() })
        .collect();
    let meta = storage
        .transact(&keys, |tx| {
            for (old, new) in ops.iter().zip(&renumbered) {
                let state = tx.state(&old.id);
                if state.in_flight.as_ref().map(|f| f.seq) != Some(old.seq) {
                    return Err(SyncError::Storage(format!(
                        "{}: in-flight entry moved during renumbering",
                        old.id
                    )));
                }
                state.in_flight = Some(new.clone());
            }
            let meta = tx.meta()?;
            meta.client_id = new_id.clone();
            meta.next_seq = renumbered.len() as u64 + 1;
            // No answer under the old id says anything about the new seqs.
            meta.forget_own_echoes();
            Ok(meta.clone())
        })
        .await?;
    ops.clone_from_slice(&renumbered);
    Ok(meta)
}
