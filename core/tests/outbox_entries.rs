//! What `pendingChanges()` shows, through real rounds: an entry's `since` is its first
//! write and stays through merges and sends; `attempts` counts every batch that took
//! it, stored with the entry; `lastError` is what the failing rounds fail with; an
//! answered entry leaves the list.

use std::cell::Cell;

use idb_sync_core::engine::{EngineConfig, SyncEngine};
use idb_sync_core::memory::{
    block_on, LoopbackTransport, ManualClock, MemoryServer, MemoryStorage,
};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::outbox::entry::{outbox_entries, EntryState, PendingFacts};
use idb_sync_core::outbox::OpKind;
use idb_sync_core::ports::{Storage, Transport, TransportRequest, TransportResponse};
use idb_sync_core::protocol::Endpoint;
use idb_sync_core::server::{BasicValidator, ServerConfig};
use idb_sync_core::sync_loop::SyncStatus;
use idb_sync_core::{Record, RecordId, SyncError};
use serde_json::json;

/// The real server rules behind a push path that can be cut.
struct Cut {
    inner: LoopbackTransport<ManualClock>,
    down: Cell<bool>,
}

impl Transport for Cut {
    async fn send(&self, request: TransportRequest) -> Result<TransportResponse, SyncError> {
        if self.down.get() && request.endpoint == Endpoint::Push {
            return Err(SyncError::Network("cable cut".into()));
        }
        self.inner.send(request).await
    }
}

fn rec(v: serde_json::Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

/// An entry as the app shows it: key, state, op, since, attempts, error code.
type Shown = (String, EntryState, &'static str, u64, u32, Option<String>);

/// The entries as `pendingChanges()` builds them from storage (the memory storage's
/// key states stand in for the rows).
fn entries(
    e: &SyncEngine<MemoryStorage, Cut, ManualClock>,
    keys: &[RecordId],
    status: &SyncStatus,
) -> Vec<Shown> {
    let mut in_flight = Vec::new();
    let mut pending = Vec::new();
    for id in keys {
        let s = block_on(e.storage().read_state(id)).unwrap();
        in_flight.extend(s.in_flight.clone());
        if let Some(p) = s.pending {
            let facts = PendingFacts {
                kind: OpKind::of(&p.op),
                queued: p.queued,
                since_ms: p.since_ms,
                hlc_ms: p.hlc.millis,
                change: None,
            };
            pending.push((id.clone(), facts));
        }
    }
    outbox_entries(in_flight, pending, status, false)
        .into_iter()
        .map(|e| {
            let code = e.last_error.map(|x| x.code);
            (e.key.to_string(), e.state, e.op, e.since, e.attempts, code)
        })
        .collect()
}

#[test]
fn an_entry_shows_its_first_write_its_attempts_and_what_the_rounds_fail_with() {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_000);
    let transport = Cut {
        inner: LoopbackTransport {
            server: server.clone(),
            user: "u".into(),
            config: ServerConfig::default(),
            validator: BasicValidator {
                max_record_bytes: 1 << 20,
            },
            clock: clock.clone(),
        },
        down: Cell::new(false),
    };
    let e = SyncEngine::new(
        MemoryStorage::new("a"),
        transport,
        clock.clone(),
        EngineConfig::default(),
    );
    let (a, b) = (RecordId::new("t", "a"), RecordId::new("t", "b"));
    let keys = [a.clone(), b.clone()];
    let mut status = SyncStatus::new(true);

    block_on(e.write(&a, LocalOp::Create(rec(json!({"n": 1}))))).unwrap();
    clock.advance(500);
    block_on(e.write(&a, LocalOp::Update(rec(json!({"n": 2}))))).unwrap();
    assert_eq!(
        entries(&e, &keys, &status),
        vec![(
            "\"a\"".into(),
            EntryState::Pending,
            "create",
            1_000,
            0,
            None
        )],
        "one pending create since the first write, never sent"
    );

    e.transport().down.set(true);
    for round in 1..=3u32 {
        clock.advance(1_000);
        let error = block_on(e.sync_round()).unwrap_err();
        status.round_failed(&error, None);
        let shown = entries(&e, &keys, &status);
        assert_eq!(
            shown,
            vec![(
                "\"a\"".into(),
                EntryState::InFlight,
                "create",
                1_000,
                round,
                Some("network_error".into())
            )],
            "after {round} failed rounds"
        );
    }
    block_on(e.write(&a, LocalOp::Update(rec(json!({"n": 3}))))).unwrap();
    let shown = entries(&e, &keys, &status);
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert_eq!(
        (shown[1].1, shown[1].2, shown[1].3, shown[1].4),
        (EntryState::Pending, "update", 4_500, 0),
        "a write after the send is a pending entry of its own"
    );

    e.transport().down.set(false);
    block_on(e.sync_round()).unwrap();
    assert_eq!(entries(&e, &keys, &SyncStatus::new(true)), vec![]);
}
