//! Adopting rows that have no sync state — rows a Dexie app (or any other code) wrote
//! into a synced table, before idb-sync opened the database or beside it. The
//! decisions are core's (`idb_sync_core::outbox::plan_adoption`); this file scans.
//!
//! Each table is read in chunks of [`CHUNK`] keys, each chunk one transaction over the
//! table, `_idbsync_state` and `_idbsync_meta`: the chunk's keys and the state rows
//! in the same key range are read together, and every row without state gets a
//! pending create (stored, like any pending create, as its kind alone: the record is
//! the row) together with the metadata it advances (I1). Rows are never rewritten.

use std::collections::BTreeSet;

use idb_sync_core::outbox::{plan_adoption, AdoptCandidate, AdoptDecision, ClientMeta};
use js_sys::Array;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::IdbKeyRange;

use crate::error::{OrStorage, SyncError};
use crate::idb;
use crate::interop;
use crate::storage::keys::to_record_key;
use crate::storage::layout::{state_key, Fields, META, META_KEY, STATE};
use crate::storage::row::{PendingRow, StateRow};
use crate::storage::IdbStorage;

/// Keys read per transaction.
const CHUNK: u32 = 500;

/// What a scan did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AdoptReport {
    /// Rows queued as creates.
    pub(crate) queued: usize,
    /// Rows left local-only because their key cannot be synced (not a string or a
    /// finite number: a Date, an array, binary).
    pub(crate) unsyncable: usize,
}

/// One chunk's outcome: keys read, the last key, and the counts.
struct Chunk {
    read: u32,
    last: JsValue,
    report: AdoptReport,
}

impl IdbStorage {
    /// Queues every row of every declared table that has no sync state as a create.
    /// Safe to run in several tabs at once: each chunk reads and writes the state in
    /// one transaction, so a row is queued once.
    pub(crate) async fn adopt_unsynced(&self) -> Result<AdoptReport, SyncError> {
        let mut total = AdoptReport::default();
        for table in self.table_names() {
            let mut after: Option<JsValue> = None;
            loop {
                let chunk = self.adopt_chunk(&table, after.as_ref()).await?;
                total.queued += chunk.report.queued;
                total.unsyncable += chunk.report.unsyncable;
                if chunk.read < CHUNK {
                    break;
                }
                after = Some(chunk.last);
            }
        }
        Ok(total)
    }

    async fn adopt_chunk(&self, table: &str, after: Option<&JsValue>) -> Result<Chunk, SyncError> {
        let now = js_sys::Date::now() as u64;
        idb::read_write(&self.db()?, &[table, STATE, META], async |tx| {
            let app = tx.store(table)?;
            let state = tx.store(STATE)?;
            let range: JsValue = match after {
                Some(k) => IdbKeyRange::lower_bound_with_open(k, true)
                    .or_storage("key range")?
                    .into(),
                None => JsValue::UNDEFINED,
            };
            let keys = idb::request(
                app.get_all_keys_with_key_and_limit(&range, CHUNK)
                    .or_storage("getAllKeys")?,
            )
            .await?
            .unchecked_into::<Array>();
            let read = keys.length();
            if read == 0 {
                return Ok(Chunk {
                    read,
                    last: JsValue::UNDEFINED,
                    report: AdoptReport::default(),
                });
            }
            let table_js = JsValue::from_str(table);
            let (first, last) = (keys.get(0), keys.get(read - 1));
            let state_range =
                IdbKeyRange::bound(&state_key(&table_js, &first), &state_key(&table_js, &last))
                    .or_storage("key range")?;
            let reads = [
                state
                    .get_all_keys_with_key(&state_range)
                    .or_storage("getAllKeys state")?,
                tx.store(META)?
                    .get(&META_KEY.into())
                    .or_storage("get meta")?,
            ];
            let results = idb::all(&reads).await?;
            let known: BTreeSet<_> = results[0]
                .unchecked_ref::<Array>()
                .iter()
                .filter_map(|skey| {
                    skey.dyn_ref::<Array>()
                        .and_then(|a| to_record_key(&a.get(1)))
                })
                .collect();
            let mut meta: ClientMeta = interop::decode("client metadata", results[1].clone())?;
            let fields = Fields::new();
            let mut report = AdoptReport::default();
            for key in keys.iter() {
                let record_key = to_record_key(&key);
                let candidate = AdoptCandidate {
                    has_sync_state: record_key.as_ref().is_some_and(|k| known.contains(k)),
                    key_syncable: record_key.is_some(),
                };
                match plan_adoption(candidate, &mut meta, now) {
                    AdoptDecision::Known => {}
                    AdoptDecision::Unsyncable => report.unsyncable += 1,
                    AdoptDecision::Queue(plan) => {
                        let Some(pending) = plan.pending else {
                            continue;
                        };
                        let row = StateRow {
                            hlc: Some(plan.hlc.clone()),
                            pending: Some(PendingRow {
                                kind: pending.kind,
                                queued: pending.queued,
                                hlc: plan.hlc,
                                patch: JsValue::UNDEFINED,
                                record: JsValue::UNDEFINED,
                            }),
                            ..StateRow::default()
                        };
                        let Some(row) = row.encode(&fields)? else {
                            continue;
                        };
                        state
                            .put_with_key(&row, &state_key(&table_js, &key))
                            .or_storage("put state")?;
                        report.queued += 1;
                    }
                }
            }
            if report.queued > 0 {
                Self::write_meta_in(tx, &meta)?;
            }
            Ok(Chunk { read, last, report })
        })
        .await
    }
}
