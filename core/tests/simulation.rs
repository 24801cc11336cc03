//! Deterministic simulation of several clients and the server rules under faults.
//!
//! `cargo test -p idb-sync-core --test simulation` runs 2,000 seeds;
//! `IDB_SYNC_SIM_SEEDS=20000` runs more; `IDB_SYNC_SIM_SEED=1234` replays one.

mod sim;

use sim::{run, Breakage};

fn seeds() -> Vec<u64> {
    if let Ok(one) = std::env::var("IDB_SYNC_SIM_SEED") {
        return vec![one.parse().expect("IDB_SYNC_SIM_SEED must be a number")];
    }
    let n: u64 = std::env::var("IDB_SYNC_SIM_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    (0..n).collect()
}

#[test]
fn simulation_keeps_every_invariant_under_faults() {
    let mut totals = std::collections::BTreeMap::new();
    for seed in seeds() {
        let report = run(seed, Breakage::default());
        for (k, v) in report.stats {
            *totals.entry(k).or_insert(0u64) += v;
        }
        if !report.violations.is_empty() {
            panic!(
                "simulation seed {seed} broke invariants:\n  {}\nreplay: IDB_SYNC_SIM_SEED={seed} cargo test -p idb-sync-core --test simulation simulation_keeps -- --nocapture",
                report.violations.join("\n  ")
            );
        }
    }
    println!("simulation totals: {totals:?}");
}

fn detects(breakage: Breakage, what: &str) -> u64 {
    let caught = (0..300)
        .inspect(|&seed| {
            if std::env::var("IDB_SYNC_SIM_DEBUG").is_ok() {
                let v = run(seed, breakage).violations;
                if !v.is_empty() {
                    eprintln!(
                        "seed {seed}: {}",
                        v[0].chars().take(160).collect::<String>()
                    );
                }
            }
        })
        .filter(|&seed| {
            run(seed, breakage)
                .violations
                .iter()
                .any(|v| v.contains(what))
        })
        .count() as u64;
    println!("{breakage:?}: {caught} of 300 seeds report {what:?}");
    caught
}

/// The first seed below `within` whose run reports a violation containing `what`.
fn first_catch(breakage: Breakage, what: &str, within: u64) -> Option<u64> {
    let found = (0..within).find(|&seed| {
        run(seed, breakage)
            .violations
            .iter()
            .any(|v| v.contains(what))
    });
    println!("{breakage:?}: first caught by seed {found:?} (of {within}) reporting {what:?}");
    found
}

#[test]
fn simulation_detects_a_server_that_forgets_high_water_marks() {
    let caught = detects(
        Breakage {
            server_forgets_high_water: true,
            ..Breakage::default()
        },
        "I3: mutation",
    );
    assert!(
        caught > 0,
        "the simulation did not notice a server without idempotency"
    );
}

#[test]
fn simulation_detects_a_client_that_cancels_an_in_flight_create() {
    let caught = detects(
        Breakage {
            client_cancels_in_flight_create: true,
            ..Breakage::default()
        },
        "lost write",
    );
    assert!(
        caught > 0,
        "the simulation did not notice an in-flight create cancelled by a delete"
    );
}

#[test]
fn oracle_catches_last_write_wins_taking_the_server_over_a_later_local_write() {
    let b = Breakage {
        lww_takes_server: true,
        ..Breakage::default()
    };
    assert!(
        first_catch(b, "I12 lastWriteWins", 300).is_some(),
        "defect 1 went unnoticed"
    );
}

#[test]
fn oracle_catches_client_wins_taking_the_server() {
    let b = Breakage {
        client_wins_takes_server: true,
        ..Breakage::default()
    };
    assert!(
        first_catch(b, "I12 clientWins", 300).is_some(),
        "a clientWins that drops the local record went unnoticed"
    );
}

#[test]
fn oracle_catches_field_merge_dropping_local_fields() {
    let b = Breakage {
        field_merge_drops_local_fields: true,
        ..Breakage::default()
    };
    assert!(
        first_catch(b, "I12 fieldMerge", 300).is_some(),
        "a fieldMerge that drops local fields went unnoticed"
    );
}

#[test]
fn oracle_catches_server_wins_discarding_without_a_log_entry() {
    let b = Breakage {
        server_wins_forgets_log: true,
        ..Breakage::default()
    };
    assert!(
        first_catch(b, "without a trace", 300).is_some(),
        "a serverWins that discards silently went unnoticed"
    );
}

#[test]
fn oracle_catches_a_second_manual_conflict_overwriting_the_parked_change() {
    let b = Breakage {
        manual_overwrites_parked: true,
        ..Breakage::default()
    };
    assert!(
        first_catch(b, "I12 manual", 1_000).is_some(),
        "defect 7 went unnoticed"
    );
}

#[test]
fn simulation_detects_a_server_that_answers_a_reused_client_id_with_duplicate() {
    // A wiped database keeps its client id (1 seed of 8): its writes after the wipe
    // reuse seqs the server processed. A server that ignores the content hashes answers
    // them `duplicate`, and the writes never reach the server (I11).
    let b = Breakage {
        server_ignores_content_hash: true,
        ..Breakage::default()
    };
    assert!(
        first_catch(b, "lost write", 300).is_some(),
        "a server answering a reused client id with duplicate went unnoticed"
    );
}
