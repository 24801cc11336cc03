//! The port's `acknowledge`: push answers that need no record data (`applied`,
//! `duplicate`) applied from the keys' sync rows alone, in one read-write transaction
//! over the state and metadata stores. The answered rows are read with one request
//! pair on the `inflight` index (the seqs of one push request are one range), the
//! records never; each row gets [`idb_sync_core::outbox::acknowledge`] — the rule
//! core's `apply_result` runs too — and is written back once.

use idb_sync_core::outbox::{acknowledge, Acked, ClientMeta, SyncHeader};
use idb_sync_core::protocol::MutationResult;
use idb_sync_core::SyncError as CoreError;
use js_sys::Array;

use super::port::record_id;
use crate::error::{OrStorage, SyncError};
use crate::idb;
use crate::storage::codec;
use crate::storage::layout::{Fields, INFLIGHT_INDEX, META, META_KEY, STATE};
use crate::storage::row::StateRow;
use crate::storage::IdbStorage;

impl IdbStorage {
    /// See `idb_sync_core::ports::Storage::acknowledge`.
    pub(super) async fn acknowledge_inner(
        &self,
        results: &[MutationResult],
        prepare: impl FnOnce(&mut ClientMeta) -> Result<(), CoreError>,
    ) -> Result<(), SyncError> {
        let seqs = results.iter().map(|r| r.seq() as f64);
        let (low, high) = seqs.fold((f64::INFINITY, 0.0f64), |(l, h), s| (l.min(s), h.max(s)));
        idb::read_write(&self.db()?, &[STATE, META], async |tx| {
            let state = tx.store(STATE)?;
            let meta_store = tx.store(META)?;
            let mut reads = vec![meta_store.get(&META_KEY.into()).or_storage("get meta")?];
            if !results.is_empty() {
                let range = web_sys::IdbKeyRange::bound(&low.into(), &high.into())
                    .or_storage("key range")?;
                let index = state.index(INFLIGHT_INDEX).or_storage("index")?;
                reads.push(index.get_all_with_key(&range).or_storage("getAll")?);
                reads.push(
                    index
                        .get_all_keys_with_key(&range)
                        .or_storage("getAllKeys")?,
                );
            }
            let read = idb::all(&reads).await?;
            let mut meta = codec::meta_from_js(&read[0])?;
            prepare(&mut meta).map_err(SyncError::Core)?;
            if let (Some(rows), Some(skeys)) = (read.get(1), read.get(2)) {
                let fields = Fields::new();
                for (row, skey) in Array::from(rows).iter().zip(Array::from(skeys).iter()) {
                    let Some(id) = record_id(&skey) else { continue };
                    let mut decoded = StateRow::decode(&fields, &id, &row)?;
                    // The result that answers this row's in-flight seq, if any (one
                    // push request's results: a scan is enough).
                    let Some(result) = decoded
                        .in_flight
                        .as_ref()
                        .and_then(|f| results.iter().find(|r| r.seq() == f.seq))
                    else {
                        continue;
                    };
                    let header = SyncHeader {
                        version: &mut decoded.version,
                        in_flight: &mut decoded.in_flight,
                        acked_unpulled: &mut decoded.acked_unpulled,
                    };
                    if matches!(
                        acknowledge(&mut meta, header, result),
                        None | Some(Acked::Stale)
                    ) {
                        continue;
                    }
                    match decoded.encode(&fields)? {
                        Some(row) => state.put_with_key(&row, &skey).or_storage("put state")?,
                        None => state.delete(&skey).or_storage("delete state")?,
                    };
                }
            }
            meta_store
                .put_with_key(&codec::meta_to_js(&meta), &META_KEY.into())
                .or_storage("put meta")?;
            Ok(())
        })
        .await
    }
}
