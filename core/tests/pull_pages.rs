//! The pull path's work per page (docs/STORAGE.md, "IndexedDB work per record"):
//! the next page is fetched while the current one is applied, a prefetched page is
//! dropped when applying fails (the cursor check of I4 refuses it anyway), and a
//! record the adapter did not load (a key without sync state, `transact_pulled`) is
//! replaced by a pulled change or kept as stored, never lost.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use idb_sync_core::engine::{apply_change, ApplyContext, EngineConfig, SyncEngine};
use idb_sync_core::memory::{
    block_on, LoopbackTransport, ManualClock, MemoryServer, MemoryStorage,
};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::outbox::{ClientMeta, KeyState};
use idb_sync_core::ports::{Storage, StorageTx, Transport, TransportRequest, TransportResponse};
use idb_sync_core::protocol::{Change, Cursor, Endpoint, PullRequest};

use idb_sync_core::{conflict::NoResolver, conflict::PolicyConfig};
use idb_sync_core::{Record, RecordId, SyncError};
use serde_json::json;

fn rec(v: serde_json::Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

fn id(key: &str) -> RecordId {
    RecordId {
        table: "tasks".into(),
        key: key.into(),
    }
}

fn loopback(server: &MemoryServer, clock: &ManualClock) -> LoopbackTransport<ManualClock> {
    LoopbackTransport::new(server, "u", clock.clone())
}

/// A future that pends once before it is ready (an answer that takes a while).
struct PendOnce(bool);

impl Future for PendOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// One pull request as the watching transport saw it: the cursor it asked from, and
/// the reader's stored cursor when it left and when its answer came back.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    asked: Option<Cursor>,
    stored_at_send: Option<Cursor>,
    stored_at_answer: Option<Cursor>,
}

/// The real server rules behind an answer that takes one poll, watching the reader's
/// storage; `on_send` runs when the n-th pull request (from 0) leaves.
struct Watching {
    inner: LoopbackTransport<ManualClock>,
    reader: MemoryStorage,
    seen: RefCell<Vec<Seen>>,
    interfere_at: Cell<Option<usize>>,
}

impl Transport for Watching {
    async fn send(&self, request: TransportRequest) -> Result<TransportResponse, SyncError> {
        if request.endpoint == Endpoint::Pull {
            let asked = serde_json::from_str::<PullRequest>(&request.body)
                .expect("pull request")
                .cursor;
            let n = self.seen.borrow().len();
            if self.interfere_at.get() == Some(n) {
                // Another hand moves the cursor while the page before is applied
                // (as `clear_synced_data` on an account change does).
                self.reader.clear_synced_data().await?;
            }
            let stored_at_send = self.reader.snapshot().meta.cursor;
            PendOnce(false).await;
            let stored_at_answer = self.reader.snapshot().meta.cursor;
            self.seen.borrow_mut().push(Seen {
                asked,
                stored_at_send,
                stored_at_answer,
            });
        }
        self.inner.send(request).await
    }
}

type Engine = SyncEngine<MemoryStorage, Watching, ManualClock>;

/// A server holding `n` records written by another device, and a fresh reader that
/// pulls them `limit` at a time.
fn setup(n: usize, limit: u32) -> (Engine, MemoryStorage) {
    let clock = ManualClock::new(1_000);
    let server = MemoryServer::default();
    let writer = SyncEngine::new(
        MemoryStorage::new("writer"),
        loopback(&server, &clock),
        clock.clone(),
        EngineConfig::default(),
    );
    for i in 0..n {
        let record = rec(json!({ "title": format!("task {i}") }));
        block_on(writer.write(&id(&format!("k{i}")), LocalOp::Put(record))).unwrap();
    }
    block_on(writer.sync_round()).unwrap();
    let reader = MemoryStorage::new("reader");
    let transport = Watching {
        inner: loopback(&server, &clock),
        reader: reader.clone(),
        seen: RefCell::new(Vec::new()),
        interfere_at: Cell::new(None),
    };
    let config = EngineConfig {
        pull_limit: limit,
        ..EngineConfig::default()
    };
    (
        SyncEngine::new(reader.clone(), transport, clock, config),
        reader,
    )
}

#[test]
fn the_next_page_is_fetched_while_the_current_one_is_applied() {
    let (engine, reader) = setup(10, 3);
    let report = block_on(engine.sync_round()).unwrap();
    assert_eq!(report.pulled, 10);
    assert_eq!(reader.records().len(), 10);
    let seen = engine.transport().seen.borrow().clone();
    assert_eq!(seen.len(), 4, "pages of 3, 3, 3 and 1: {seen:?}");
    assert_eq!(seen[0].asked, None);
    for (k, s) in seen.iter().enumerate().skip(1) {
        // Page k's request carries the cursor page k-1 gave, and leaves before page
        // k-1 is committed (the stored cursor is still the one before it) ...
        assert_ne!(
            s.asked, s.stored_at_send,
            "request {k} waited for the apply: {seen:?}"
        );
        assert_eq!(s.stored_at_send, seen[k - 1].asked, "{seen:?}");
        // ... and by the time its answer is back, page k-1 and its cursor are.
        assert_eq!(s.stored_at_answer, s.asked, "{seen:?}");
    }
    let last = seen.last().and_then(|s| s.asked.clone());
    assert_ne!(
        reader.snapshot().meta.cursor,
        last,
        "the last page's cursor is stored"
    );
}

#[test]
fn a_prefetched_page_is_dropped_when_its_page_fails_and_pulled_again_later() {
    let (engine, reader) = setup(10, 3);
    // The third request leaves while page 2 is applied; the cursor moves under it.
    engine.transport().interfere_at.set(Some(2));
    let error = block_on(engine.sync_round()).unwrap_err();
    assert!(
        matches!(&error, SyncError::Storage(m) if m.contains("cursor moved")),
        "{error:?}"
    );
    // Page 1 was applied; page 2 refused; the prefetched page 3 dropped unapplied.
    let after = reader.snapshot();
    assert_eq!(after.meta.cursor, None, "the other hand's cursor stands");
    assert!(
        reader.records().is_empty(),
        "cleared, and nothing applied since"
    );
    // The third request left (it moved the cursor) and was dropped unanswered.
    assert_eq!(engine.transport().seen.borrow().len(), 2);
    // The next round pulls everything from the start.
    engine.transport().interfere_at.set(None);
    let report = block_on(engine.sync_round()).unwrap();
    assert_eq!(report.pulled, 10);
    assert_eq!(reader.records().len(), 10);
}

/// A first sync longer than any fixed page cap (the engine had one of 1,000 pages,
/// which made a fresh device's first sync of 1,000,000 records fail with "the server
/// keeps answering hasMore" after 200,000): one round pulls it all.
#[test]
fn a_first_sync_of_more_pages_than_the_old_cap_completes_in_one_round() {
    let (engine, reader) = setup(1_100, 1);
    let report = block_on(engine.sync_round()).unwrap();
    assert_eq!(report.pulled, 1_100);
    assert_eq!(reader.records().len(), 1_100);
    assert_eq!(engine.transport().seen.borrow().len(), 1_100);
}

/// A server answering `hasMore` from the cursor it was asked with would be pulled
/// forever: refused as a malformed answer, with nothing applied.
#[test]
fn a_page_that_says_has_more_without_moving_the_cursor_is_refused() {
    struct Stuck(Cell<usize>);
    impl Transport for Stuck {
        async fn send(&self, request: TransportRequest) -> Result<TransportResponse, SyncError> {
            self.0.set(self.0.get() + 1);
            assert_eq!(request.endpoint, Endpoint::Pull, "nothing to push");
            // The first answer moves to "c1"; then "c1" again and again.
            let body = json!({
                "status": "ok", "protocolVersion": 1, "serverTime": 1_000,
                "changes": [], "cursor": "c1", "hasMore": true
            });
            Ok(TransportResponse {
                status: 200,
                retry_after_ms: None,
                body: body.to_string(),
            })
        }
    }
    let reader = MemoryStorage::new("reader");
    let engine = SyncEngine::new(
        reader.clone(),
        Stuck(Cell::new(0)),
        ManualClock::new(1_000),
        EngineConfig::default(),
    );
    let error = block_on(engine.sync_round()).unwrap_err();
    assert!(
        matches!(&error, SyncError::MalformedResponse(m) if m.contains("without moving the cursor")),
        "{error:?}"
    );
    // The first page (cursor None → "c1") was fine; the second one was refused, and
    // its prefetched successor dropped: at most three requests, then the round ended.
    assert!(
        engine.transport().0.get() <= 3,
        "{}",
        engine.transport().0.get()
    );
    assert_eq!(reader.snapshot().meta.cursor, Some(Cursor("c1".into())));
}

#[test]
fn a_failing_apply_does_not_wait_for_the_fetch() {
    // The fetch never answers: a failed page still ends the round at once.
    let out = block_on(pull_pair(std::future::pending::<()>()));
    assert!(out.is_err());
}

async fn pull_pair(fetch: impl Future<Output = ()>) -> Result<((), ()), SyncError> {
    idb_sync_core::engine::apply_while_fetching(
        async { Err::<(), _>(SyncError::Storage("refused".into())) },
        fetch,
    )
    .await
}

fn change(key: &str, version: u64, data: Option<Record>) -> Change {
    Change {
        table: "tasks".into(),
        key: key.into(),
        version,
        previous_version: 0,
        deleted: data.is_none(),
        data,
        hlc: None,
        origin: None,
    }
}

fn ctx() -> ApplyContext<'static, NoResolver> {
    static POLICIES: std::sync::OnceLock<PolicyConfig> = std::sync::OnceLock::new();
    ApplyContext {
        policies: POLICIES.get_or_init(PolicyConfig::default),
        resolver: &NoResolver,
        local_now_ms: 1_000,
    }
}

#[test]
fn apply_change_takes_an_unloaded_record_off_the_list_only_when_it_replaces_it() {
    let mut tx = StorageTx {
        meta: Some(ClientMeta::new("c")),
        ..StorageTx::default()
    };
    tx.states.insert(id("a"), KeyState::default());
    tx.unloaded.insert(id("a"));
    // A version not newer than the key's (0) changes nothing: the record stays as stored.
    apply_change(&change("a", 0, Some(rec(json!({"t": 0})))), &mut tx, &ctx()).unwrap();
    assert!(tx.unloaded.contains(&id("a")));
    apply_change(&change("a", 3, Some(rec(json!({"t": 3})))), &mut tx, &ctx()).unwrap();
    assert!(tx.unloaded.is_empty(), "replaced: the adapter writes it");
    assert_eq!(tx.states[&id("a")].value, Some(rec(json!({"t": 3}))));
    assert_eq!(tx.states[&id("a")].version, 3);
}

/// A record without sync state (written beside idb-sync, not adopted yet), stored.
fn stateless_record(storage: &MemoryStorage, key: &str) {
    block_on(storage.transact(&[id(key)], |tx| {
        tx.state(&id(key)).value = Some(rec(json!({"local": true})));
        Ok(())
    }))
    .unwrap();
}

#[test]
fn an_unloaded_record_is_replaced_deleted_or_kept_never_lost() {
    let storage = MemoryStorage::new("c");
    for key in ["put", "gone", "kept"] {
        stateless_record(&storage, key);
    }
    let keys = [id("put"), id("gone"), id("kept")];
    block_on(storage.transact_pulled(&keys, |tx| {
        assert_eq!(tx.unloaded.len(), 3, "no sync state: not loaded");
        assert!(tx.states.values().all(|s| s.value.is_none()));
        apply_change(
            &change("put", 1, Some(rec(json!({"server": 1})))),
            tx,
            &ctx(),
        )?;
        apply_change(&change("gone", 2, None), tx, &ctx())?;
        Ok(())
    }))
    .unwrap();
    let records = storage.records();
    assert_eq!(records.get(&id("put")), Some(&rec(json!({"server": 1}))));
    assert_eq!(
        records.get(&id("gone")),
        None,
        "a pulled tombstone deletes it"
    );
    assert_eq!(records.get(&id("kept")), Some(&rec(json!({"local": true}))));
    // A key with sync state is always loaded.
    block_on(storage.transact_pulled(&[id("put")], |tx| {
        assert!(tx.unloaded.is_empty());
        assert_eq!(tx.states[&id("put")].value, Some(rec(json!({"server": 1}))));
        Ok(())
    }))
    .unwrap();
}

/// The manual clock, counting the engine's returns to the event loop.
#[derive(Clone)]
struct CountingClock {
    inner: ManualClock,
    yields: std::rc::Rc<Cell<usize>>,
}

impl idb_sync_core::ports::Clock for CountingClock {
    fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }
    async fn sleep(&self, ms: u64) {
        self.inner.sleep(ms).await;
    }
    async fn yield_now(&self) {
        self.yields.set(self.yields.get() + 1);
    }
}

#[test]
fn the_engine_yields_between_pulled_pages() {
    let (first, _) = setup(10, 3); // its server holds the 10 records
    let server = first.transport().inner.server.clone();
    let clock = CountingClock {
        inner: ManualClock::new(1_000),
        yields: Default::default(),
    };
    let config = EngineConfig {
        pull_limit: 3,
        ..EngineConfig::default()
    };
    let reader = MemoryStorage::new("another reader");
    let engine = SyncEngine::new(
        reader.clone(),
        loopback(&server, &clock.inner),
        clock.clone(),
        config,
    );
    let report = block_on(engine.sync_round()).unwrap();
    assert_eq!(report.pulled, 10);
    assert_eq!(clock.yields.get(), 3, "one between each two of the 4 pages");
}
