//! Adopting rows that have no sync state — rows a Dexie app (or any other code) wrote
//! into a synced table, before idb-sync opened the database or beside it. The
//! decisions are core's (`idb_sync_core::outbox::plan_adoption`); this file scans.
//!
//! Each table is first read in read-only chunks of [`SCAN_CHUNK`] keys (the chunk's
//! keys and the state rows in the same key range): a database whose rows are all
//! known — every open after the first — costs two requests per chunk and no write.
//! Only a chunk with a row to adopt is adopted, in read-write chunks of [`CHUNK`] keys
//! over the table, `_idbsync_state` and `_idbsync_meta`, each read again in its own
//! transaction, and every row without state gets a pending create (stored, like any
//! pending create, as its kind alone: the record is the row) together with the
//! metadata it advances (docs/INVARIANTS.md, I1). Rows are never rewritten.

use std::collections::BTreeSet;

use idb_sync_core::outbox::{plan_adoption, AdoptCandidate, AdoptDecision};
use js_sys::Array;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::IdbKeyRange;

use crate::error::{OrStorage, SyncError};
use crate::idb;
use crate::storage::keys::to_record_key;
use crate::storage::layout::{state_key, Fields, META, META_KEY, STATE};
use crate::storage::row::{PendingRow, StateRow};
use crate::storage::IdbStorage;
use idb_sync_core::RecordKey;

/// Keys read per read-write (adopting) transaction.
const CHUNK: u32 = 500;
/// Keys read per read-only scan.
const SCAN_CHUNK: u32 = 5_000;

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

/// One read-only scan's outcome: keys read, the last key, whether some row needs
/// adopting, and the rows whose keys cannot be synced.
struct Scan {
    read: u32,
    last: JsValue,
    needs_adoption: bool,
    unsyncable: usize,
}

/// The range of keys after `after` (all keys if `None`), up to `upto` inclusive.
fn key_range(after: Option<&JsValue>, upto: Option<&JsValue>) -> Result<JsValue, SyncError> {
    Ok(match (after, upto) {
        (Some(a), Some(u)) => IdbKeyRange::bound_with_lower_open_and_upper_open(a, u, true, false)
            .or_storage("key range")?
            .into(),
        (Some(a), None) => IdbKeyRange::lower_bound_with_open(a, true)
            .or_storage("key range")?
            .into(),
        (None, Some(u)) => IdbKeyRange::upper_bound(u).or_storage("key range")?.into(),
        (None, None) => JsValue::UNDEFINED,
    })
}

/// The app keys in `range` (at most `limit`) and the keys among them that have a
/// sync state, read in `tx`.
async fn keys_and_known(
    tx: &idb::Tx,
    table: &str,
    range: &JsValue,
    limit: u32,
) -> Result<(Array, BTreeSet<RecordKey>), SyncError> {
    let keys = idb::request(
        tx.store(table)?
            .get_all_keys_with_key_and_limit(range, limit)
            .or_storage("getAllKeys")?,
    )
    .await?
    .unchecked_into::<Array>();
    let read = keys.length();
    if read == 0 {
        return Ok((keys, BTreeSet::new()));
    }
    let table_js = JsValue::from_str(table);
    let (first, last) = (keys.get(0), keys.get(read - 1));
    let state_range =
        IdbKeyRange::bound(&state_key(&table_js, &first), &state_key(&table_js, &last))
            .or_storage("key range")?;
    let state_keys = idb::request(
        tx.store(STATE)?
            .get_all_keys_with_key(&state_range)
            .or_storage("getAllKeys state")?,
    )
    .await?;
    let known = state_keys
        .unchecked_ref::<Array>()
        .iter()
        .filter_map(|skey| {
            skey.dyn_ref::<Array>()
                .and_then(|a| to_record_key(&a.get(1)))
        })
        .collect();
    Ok((keys, known))
}

/// What core needs to know of the row with key `key`.
fn candidate(key: &JsValue, known: &BTreeSet<RecordKey>) -> AdoptCandidate {
    let record_key = to_record_key(key);
    AdoptCandidate {
        has_sync_state: record_key.as_ref().is_some_and(|k| known.contains(k)),
        key_syncable: record_key.is_some(),
    }
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
                let scan = self.scan_chunk(&table, after.as_ref()).await?;
                if scan.needs_adoption {
                    let adopted = self.adopt_range(&table, after.as_ref(), &scan.last).await?;
                    total.queued += adopted.queued;
                    total.unsyncable += adopted.unsyncable;
                } else {
                    total.unsyncable += scan.unsyncable;
                }
                if scan.read < SCAN_CHUNK {
                    break;
                }
                after = Some(scan.last);
            }
        }
        Ok(total)
    }

    /// Reads (read-only) up to [`SCAN_CHUNK`] keys of `table` after `after`.
    async fn scan_chunk(&self, table: &str, after: Option<&JsValue>) -> Result<Scan, SyncError> {
        idb::read_only(&self.db()?, &[table, STATE], async |tx| {
            let range = key_range(after, None)?;
            let (keys, known) = keys_and_known(tx, table, &range, SCAN_CHUNK).await?;
            let mut scan = Scan {
                read: keys.length(),
                last: keys.get(keys.length().saturating_sub(1)),
                needs_adoption: false,
                unsyncable: 0,
            };
            for key in keys.iter() {
                let row = candidate(&key, &known);
                scan.needs_adoption |= row.needs_adoption();
                scan.unsyncable += usize::from(!row.key_syncable && !row.has_sync_state);
            }
            Ok(scan)
        })
        .await
    }

    /// Adopts the rows of `table` after `after` up to `upto`, in read-write chunks.
    async fn adopt_range(
        &self,
        table: &str,
        after: Option<&JsValue>,
        upto: &JsValue,
    ) -> Result<AdoptReport, SyncError> {
        let mut total = AdoptReport::default();
        let mut after = after.cloned();
        loop {
            let chunk = self.adopt_chunk(table, after.as_ref(), upto).await?;
            total.queued += chunk.report.queued;
            total.unsyncable += chunk.report.unsyncable;
            // A full chunk that ended on `upto` leaves an empty (invalid) range.
            let reached = idb::factory()?.cmp(&chunk.last, upto).or_storage("cmp")? >= 0;
            if chunk.read < CHUNK || reached {
                return Ok(total);
            }
            after = Some(chunk.last);
        }
    }

    async fn adopt_chunk(
        &self,
        table: &str,
        after: Option<&JsValue>,
        upto: &JsValue,
    ) -> Result<Chunk, SyncError> {
        let now = js_sys::Date::now() as u64;
        idb::read_write(&self.db()?, &[table, STATE, META], async |tx| {
            let state = tx.store(STATE)?;
            let range = key_range(after, Some(upto))?;
            let (keys, known) = keys_and_known(tx, table, &range, CHUNK).await?;
            let read = keys.length();
            if read == 0 {
                return Ok(Chunk {
                    read,
                    last: JsValue::UNDEFINED,
                    report: AdoptReport::default(),
                });
            }
            let table_js = JsValue::from_str(table);
            let last = keys.get(read - 1);
            let meta = idb::request(
                tx.store(META)?
                    .get(&META_KEY.into())
                    .or_storage("get meta")?,
            )
            .await?;
            let mut meta = super::codec::meta_from_js(&meta)?;
            let fields = Fields::new();
            let mut report = AdoptReport::default();
            for key in keys.iter() {
                let row = candidate(&key, &known);
                match plan_adoption(row, &mut meta, now) {
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
                                since: now,
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
