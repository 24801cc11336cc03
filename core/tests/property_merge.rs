//! Property: merging any sequence of local ops and pushing once gives the same server
//! state as pushing after every op. Generated from seeded random sequences (1,000
//! cases, no dependency); `IDB_SYNC_PROP_CASES` runs more.

use idb_sync_core::conflict::{ConflictPolicy, PolicyConfig};
use idb_sync_core::engine::{EngineConfig, SyncEngine};
use idb_sync_core::memory::{
    block_on, LoopbackTransport, ManualClock, MemoryServer, MemoryStorage,
};
use idb_sync_core::merge::LocalOp;
use idb_sync_core::ports::Storage;

use idb_sync_core::{Record, RecordId};
use serde_json::json;

struct Rng(u64);
impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn engine(
    server: &MemoryServer,
    policy: ConflictPolicy,
) -> SyncEngine<MemoryStorage, LoopbackTransport<ManualClock>, ManualClock> {
    let clock = ManualClock::new(1);
    let transport = LoopbackTransport::new(server, "u", clock.clone());
    let config = EngineConfig {
        policies: PolicyConfig::uniform(policy),
        ..EngineConfig::default()
    };
    SyncEngine::new(MemoryStorage::new("c"), transport, clock, config)
}

fn live(server: &MemoryServer) -> Vec<(String, Option<Record>)> {
    server
        .user("u")
        .records
        .values()
        .map(|r| (format!("{}", r.key), r.data.clone()))
        .filter(|(_, d)| d.is_some())
        .collect()
}

fn random_op(rng: &mut Rng, exists: bool, i: u64) -> LocalOp {
    let mut r = Record::new();
    for f in ["a", "b", "c"] {
        if rng.next(2) == 0 {
            r.insert(f.into(), json!(i));
        }
    }
    match (exists, rng.next(4)) {
        (false, 0..=2) => LocalOp::Create(r),
        (false, _) => LocalOp::Put(r),
        (true, 0 | 1) => LocalOp::Update(r),
        (true, 2) => LocalOp::Delete,
        (true, _) => LocalOp::Put(r),
    }
}

#[test]
fn merging_local_ops_then_pushing_equals_pushing_them_one_by_one() {
    let cases: u64 = std::env::var("IDB_SYNC_PROP_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    for case in 0..cases {
        let policy = [
            ConflictPolicy::FieldMerge,
            ConflictPolicy::ServerWins,
            ConflictPolicy::ClientWins,
        ][(case % 3) as usize];
        let mut rng = Rng(case);
        let (merged_server, stepwise_server) = (MemoryServer::new(), MemoryServer::new());
        let merged = engine(&merged_server, policy);
        let stepwise = engine(&stepwise_server, policy);
        let keys = ["x", "y", "z"];
        let n = 1 + rng.next(12);
        let mut ops = Vec::new();
        for i in 0..n {
            let key = keys[rng.next(3) as usize];
            let id = RecordId::new("t", key);
            let exists = block_on(merged.storage().read_state(&id))
                .unwrap()
                .value
                .is_some();
            let op = random_op(&mut rng, exists, i);
            ops.push((id.clone(), op.clone()));
            block_on(merged.write(&id, op.clone())).unwrap();
            if rng.next(3) == 0 {
                block_on(merged.sync_round()).unwrap(); // sometimes the merged side syncs midway too
            }
        }
        for (id, op) in &ops {
            block_on(stepwise.write(id, op.clone())).unwrap();
            block_on(stepwise.sync_round()).unwrap();
        }
        block_on(merged.sync_round()).unwrap();
        assert_eq!(
            live(&merged_server),
            live(&stepwise_server),
            "case {case}: ops {ops:?}"
        );
    }
}
