//! What a round reports (`syncNow()`'s `{ pushed, pulled, conflicts, rejected }`): the
//! numbers say what the user would see happen. `pulled` counts other devices' changes
//! that changed this copy (never this device's own coming back); `conflicts` counts
//! every conflict the app can see in the conflict log or the open conflicts, whether
//! the push answer or a pulled change met the local change.

use idb_sync_core::conflict::{ConflictPolicy, PolicyConfig};
use idb_sync_core::engine::{EngineConfig, RoundReport, SyncEngine};
use idb_sync_core::memory::{
    block_on, LoopbackTransport, ManualClock, MemoryServer, MemoryStorage,
};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::ports::{Storage, Transport, TransportRequest, TransportResponse};
use idb_sync_core::protocol::Endpoint;
use idb_sync_core::server::BasicValidator;
use idb_sync_core::{Record, RecordId, SyncError};
use serde_json::json;
use std::cell::Cell;

type Engine = SyncEngine<MemoryStorage, LoopbackTransport<ManualClock>, ManualClock>;

fn rec(v: serde_json::Value) -> Record {
    v.as_object().cloned().unwrap_or_default()
}

fn loopback(server: &MemoryServer, clock: &ManualClock) -> LoopbackTransport<ManualClock> {
    LoopbackTransport {
        validator: BasicValidator {
            max_record_bytes: 1_000,
        },
        ..LoopbackTransport::new(server, "u", clock.clone())
    }
}

fn config(policy: ConflictPolicy) -> EngineConfig {
    EngineConfig {
        policies: PolicyConfig::uniform(policy),
        ..EngineConfig::default()
    }
}

fn device(server: &MemoryServer, clock: &ManualClock, id: &str, policy: ConflictPolicy) -> Engine {
    let transport = loopback(server, clock);
    SyncEngine::new(
        MemoryStorage::new(id),
        transport,
        clock.clone(),
        config(policy),
    )
}

/// A connection that loses the answer to the first push after the server applied it
/// (a tab closed or a network cut mid-request).
struct LosesFirstPushAnswer {
    inner: LoopbackTransport<ManualClock>,
    lost: Cell<bool>,
}

impl Transport for LosesFirstPushAnswer {
    async fn send(&self, request: TransportRequest) -> Result<TransportResponse, SyncError> {
        let push = request.endpoint == Endpoint::Push;
        let answer = self.inner.send(request).await?;
        if push && !self.lost.replace(true) {
            return Err(SyncError::Network("the answer was lost".into()));
        }
        Ok(answer)
    }
}

fn task(n: u32) -> RecordId {
    RecordId::new("tasks", format!("t{n}"))
}

fn round(e: &Engine) -> RoundReport {
    block_on(e.sync_round()).unwrap()
}

fn write(e: &Engine, id: &RecordId, op: LocalOp) {
    block_on(e.write(id, op)).unwrap();
}

fn update(fields: serde_json::Value) -> LocalOp {
    LocalOp::Update(rec(fields))
}

/// Two devices of one account with three tasks `{title, done}` synced on both.
fn two_devices(policy: ConflictPolicy) -> (ManualClock, Engine, Engine) {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_000_000);
    let a = device(&server, &clock, "a", policy);
    let b = device(&server, &clock, "b", policy);
    for n in 0..3 {
        write(
            &a,
            &task(n),
            LocalOp::Create(rec(json!({"title": "t", "done": false}))),
        );
    }
    let first = round(&a);
    assert_eq!(
        (first.applied, first.pulled),
        (3, 0),
        "A pushed 3 and pulled none of its own"
    );
    let second = round(&b);
    assert_eq!((second.pulled, second.conflicts), (3, 0), "B pulled A's 3");
    (clock, a, b)
}

#[test]
fn own_changes_and_versions_already_here_are_not_pulled() {
    let (clock, a, b) = two_devices(ConflictPolicy::FieldMerge);
    write(&a, &task(0), update(json!({"done": true})));
    clock.advance(1_000);
    let pushed = round(&a);
    assert_eq!(
        (pushed.applied, pushed.pulled),
        (1, 0),
        "A's own update is not news to A"
    );
    let again = round(&a);
    assert_eq!(again.pulled, 0, "a round with nothing new pulls nothing");
    assert_eq!(round(&b).pulled, 1, "B sees A's update");
    assert_eq!(round(&b).pulled, 0);
}

#[test]
fn a_pulled_change_meeting_a_local_one_is_a_conflict_the_log_shows() {
    let (clock, a, b) = two_devices(ConflictPolicy::LastWriteWins);
    write(&a, &task(1), update(json!({"title": "from A"})));
    clock.advance(1_000);
    write(&b, &task(1), update(json!({"title": "from B"})));
    round(&a);
    clock.advance(1_000);
    let report = round(&b);
    let log = block_on(b.storage().conflict_log()).unwrap();
    assert_eq!(log.len(), 1, "B's conflict log shows the conflict");
    assert_eq!(report.conflicts, 1, "and B's round reports it");
    assert_eq!(report.pulled, 1, "A's change is pulled into B");
}

#[test]
fn updates_of_different_fields_merge_quietly_and_are_no_conflict() {
    let (clock, a, b) = two_devices(ConflictPolicy::FieldMerge);
    write(&a, &task(2), update(json!({"title": "renamed on A"})));
    write(&b, &task(2), update(json!({"done": true})));
    round(&a);
    clock.advance(1_000);
    let report = round(&b);
    assert!(block_on(b.storage().conflict_log()).unwrap().is_empty());
    assert_eq!((report.pulled, report.conflicts), (1, 0));
}

#[test]
fn a_manual_conflict_is_counted_once_and_opened() {
    let (clock, a, b) = two_devices(ConflictPolicy::Manual);
    write(&a, &task(0), update(json!({"title": "A"})));
    write(&b, &task(0), update(json!({"title": "B"})));
    round(&a);
    clock.advance(1_000);
    let report = round(&b);
    assert_eq!(
        block_on(b.storage().conflict_keys()).unwrap(),
        vec![task(0)]
    );
    assert_eq!(report.conflicts, 1);
}

#[test]
fn own_changes_coming_back_after_a_lost_answer_are_not_pulled() {
    let server = MemoryServer::new();
    let clock = ManualClock::new(1_000_000);
    let transport = LosesFirstPushAnswer {
        inner: loopback(&server, &clock),
        lost: Cell::new(false),
    };
    let a = SyncEngine::new(
        MemoryStorage::new("a"),
        transport,
        clock.clone(),
        config(ConflictPolicy::FieldMerge),
    );
    for n in 0..2 {
        write_to(&a, &task(n));
    }
    assert!(block_on(a.sync_round()).is_err(), "the answer was lost");
    // The next round cannot know the server applied them, so the pull brings A's
    // two changes back: they are not news to A.
    let report = block_on(a.sync_round()).unwrap();
    assert_eq!(report.pulled, 0, "{report:?}");
    assert_eq!(block_on(a.storage().outbox_len()).unwrap(), 0);
}

fn write_to<T: Transport>(e: &SyncEngine<MemoryStorage, T, ManualClock>, id: &RecordId) {
    block_on(e.write(id, LocalOp::Create(rec(json!({"title": "t"}))))).unwrap();
}
