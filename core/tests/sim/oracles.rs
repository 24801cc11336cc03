//! Policy oracles (I12 "every policy keeps its promise", I5 "no silent overwrite"):
//! what each conflict policy promises about the *surviving value*, checked against
//! everything the server decided and every local write the apps made.
//!
//! - `lastWriteWins` (per record, like the engine: the whole record of the later write
//!   survives). (a) The server never lets a write overwrite a record written by a later
//!   one (by skew-corrected HLC), except a create of a key that is absent or deleted
//!   there, which starts a new life of the record. (b) Every local write is *covered*:
//!   after it, the record on the server at some point carries an HLC at least as late
//!   (its own, or a later write's) — unless the write was rejected (dead letter) or
//!   cancelled locally (a create deleted before it was ever sent, or while it was in
//!   flight: the conflict log says `local change had cancelled out`), or its conflict
//!   resolved, by the client's own log, to exactly the server's record. A delete is also
//!   covered by the record being deleted on the server: when both sides deleted it,
//!   the engine sends nothing, and the tombstone keeps the earlier delete's HLC.
//! - `clientWins`: a `conflict` is never the server's last word on a record: the client
//!   that got it pushes its record again — unless its local record already equals the
//!   server's (both deleted it, or its change had cancelled out). Deliberate behaviour
//!   this allows: when the record was gone on the server, the conflict re-queues the
//!   client's record as a create; if the user deletes it before it is sent, the create
//!   and the delete cancel out and nothing is pushed. The client's last write (the
//!   record deleted) is then exactly what the server holds, so the conflict is not the
//!   last word on the user's wish (simulation seed 7302).
//! - `fieldMerge`: every field value a client writes reaches the server in a mutation
//!   of that client — unless the same client wrote that field again (or replaced or
//!   deleted the record), the mutation was rejected, or the record was deleted on the
//!   server after the write (a delete beats a concurrent field update).
//! - `manual`: a parked local change never leaves the conflict store except into the
//!   conflict log; the policy never resolves anything by itself (a local change that
//!   cancelled out — a create deleted again while in flight — has nothing to park).
//! - every policy (I5): a sync transaction that takes away a key's pending change (other
//!   than turning a create into a put) leaves a trace: a conflict-log entry for the key
//!   or an open manual conflict. `serverWins` thereby logs every value it discards at
//!   pull time; at push time the seq check of `mod.rs` requires the log entry.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use idb_sync_core::conflict::{ConflictPolicy, PolicyConfig};
use idb_sync_core::engine::SUPERSEDED_PARKED;
use idb_sync_core::hlc::Hlc;
use idb_sync_core::merge::LocalOp;
use idb_sync_core::outbox::KeyState;
use idb_sync_core::ports::StorageTx;
use idb_sync_core::protocol::{MutationResult, PushRequest, PushResponse};
use idb_sync_core::server::ServerRecord;
use idb_sync_core::{Op, RecordId};
use serde_json::Value;

use super::Breakage;

/// A local `lastWriteWins` write still waiting to be covered on the server.
#[derive(Clone, Debug)]
struct LwwDue {
    client: String,
    id: RecordId,
    hlc: Hlc,
    /// A delete is also covered by any delete of the record on the server.
    delete: bool,
}

/// A field value a client wrote to a `fieldMerge` record, not yet on the server.
#[derive(Clone, Debug)]
struct FieldDue {
    client: String,
    id: RecordId,
    field: String,
    value: Value,
}

/// The server's first (deciding) answer to the latest mutation of a record.
#[derive(Clone, Debug)]
struct LastWord {
    client: String,
    seq: u64,
    conflict: bool,
}

/// What the oracles remember during a run.
pub struct Oracles {
    pub policies: PolicyConfig,
    lww: RefCell<Vec<LwwDue>>,
    fields: RefCell<Vec<FieldDue>>,
    decided: RefCell<BTreeSet<(String, u64)>>,
    last_word: RefCell<BTreeMap<RecordId, LastWord>>,
    pub violations: RefCell<Vec<String>>,
    pub stats: RefCell<BTreeMap<&'static str, u64>>,
}

fn stat(stats: &RefCell<BTreeMap<&'static str, u64>>, what: &'static str) {
    *stats.borrow_mut().entry(what).or_default() += 1;
}

impl Oracles {
    pub fn new(policies: PolicyConfig) -> Self {
        Oracles {
            policies,
            lww: RefCell::default(),
            fields: RefCell::default(),
            decided: RefCell::default(),
            last_word: RefCell::default(),
            violations: RefCell::default(),
            stats: RefCell::default(),
        }
    }

    fn policy(&self, id: &RecordId) -> ConflictPolicy {
        self.policies.for_table(&id.table)
    }

    /// An app write that committed: `hlc` is its timestamp (`None` if it changed
    /// nothing), `after` the key's state, `server` the server's record now.
    pub fn on_local_write(
        &self,
        client: &str,
        id: &RecordId,
        op: &LocalOp,
        hlc: Option<Hlc>,
        after: &KeyState,
        server: Option<&ServerRecord>,
    ) {
        let Some(hlc) = hlc else { return };
        let cancelled = !after.has_local_changes();
        match self.policy(id) {
            ConflictPolicy::LastWriteWins => {
                let mut due = self.lww.borrow_mut();
                // The client's earlier writes on the key are merged into this later one.
                due.retain(|d| !(d.client == client && &d.id == id));
                if !cancelled {
                    let delete = matches!(op, LocalOp::Delete);
                    let covered = server.is_some_and(|r| {
                        r.hlc.as_ref().is_some_and(|h| *h >= hlc) || (delete && r.data.is_none())
                    });
                    if !covered {
                        due.push(LwwDue {
                            client: client.to_owned(),
                            id: id.clone(),
                            hlc,
                            delete,
                        });
                    }
                }
            }
            ConflictPolicy::FieldMerge => {
                let mut due = self.fields.borrow_mut();
                let mine = |d: &FieldDue| d.client == client && &d.id == id;
                match op {
                    LocalOp::Update(patch) => {
                        due.retain(|d| !(mine(d) && patch.contains_key(&d.field)))
                    }
                    _ => due.retain(|d| !mine(d)),
                }
                // An update of a record already deleted (or purged) on the server is
                // dropped there (a delete beats a concurrent field update).
                let deleted_there =
                    server.is_none_or(|r| r.data.is_none()) && matches!(op, LocalOp::Update(_));
                if cancelled || deleted_there {
                    due.retain(|d| !mine(d));
                    return;
                }
                if let LocalOp::Create(fields) | LocalOp::Put(fields) | LocalOp::Update(fields) = op
                {
                    for (field, value) in fields {
                        due.push(FieldDue {
                            client: client.to_owned(),
                            id: id.clone(),
                            field: field.clone(),
                            value: value.clone(),
                        });
                    }
                }
            }
            ConflictPolicy::ClientWins => {
                // The client's newer write supersedes the one the conflict was about.
                // If it leaves nothing to push (the create the conflict re-queued,
                // deleted before it was sent) while the record is gone on the server,
                // the server holds exactly the client's last write: no record.
                let gone_there = server.is_none_or(|r| r.data.is_none());
                let mut last = self.last_word.borrow_mut();
                if cancelled
                    && gone_there
                    && last
                        .get(id)
                        .is_some_and(|w| w.client == client && w.conflict)
                {
                    last.remove(id);
                    stat(&self.stats, "oracle_client_wins_superseded_locally");
                }
            }
            _ => {}
        }
    }

    /// A push the server answered; `before` holds the records as they were.
    pub fn on_push(
        &self,
        client: &str,
        req: &PushRequest,
        resp: &PushResponse,
        before: &BTreeMap<RecordId, ServerRecord>,
    ) {
        for (m, r) in req.mutations.iter().zip(&resp.results) {
            if !self
                .decided
                .borrow_mut()
                .insert((req.client_id.clone(), m.seq))
            {
                continue; // a replayed answer: the server decided this mutation earlier
            }
            let id = RecordId {
                table: m.table.clone(),
                key: m.key.clone(),
            };
            let prev = before.get(&id);
            let policy = self.policy(&id);
            let conflict = matches!(r, MutationResult::Conflict { .. });
            if policy == ConflictPolicy::ClientWins {
                self.last_word.borrow_mut().insert(
                    id.clone(),
                    LastWord {
                        client: client.to_owned(),
                        seq: m.seq,
                        conflict,
                    },
                );
            }
            match r {
                MutationResult::Applied {
                    version,
                    previous_version,
                    ..
                } if version != previous_version => {
                    let starts_life =
                        matches!(m.op, Op::Create { .. }) && prev.is_none_or(|p| p.data.is_none());
                    if policy == ConflictPolicy::LastWriteWins && !starts_life {
                        if let Some(old) = prev.and_then(|p| p.hlc.as_ref()) {
                            stat(&self.stats, "oracle_lww_overwrites");
                            if m.hlc <= *old {
                                self.violations.borrow_mut().push(format!(
                                    "I12 lastWriteWins: ({}, {}) {} on {id} at {:?} overwrote the later write at {old:?}",
                                    client, m.seq, m.op.kind(), m.hlc
                                ));
                            }
                        }
                    }
                    let deleted = matches!(m.op, Op::Delete);
                    self.lww
                        .borrow_mut()
                        .retain(|d| !(d.id == id && (d.hlc <= m.hlc || (d.delete && deleted))));
                    let fields = m.op.fields();
                    self.fields.borrow_mut().retain(|d| {
                        let landed = d.client == client
                            && fields.and_then(|f| f.get(&d.field)) == Some(&d.value);
                        !(d.id == id && (deleted || landed))
                    });
                }
                MutationResult::Applied { .. } => {
                    // A delete of a deleted record: nothing changed, and the client's
                    // wish (deleted) holds, superseding its own earlier writes.
                    let mine = |d: &LwwDue| d.client == client && d.hlc <= m.hlc;
                    self.lww
                        .borrow_mut()
                        .retain(|d| !(d.id == id && (d.delete || mine(d))));
                    self.fields.borrow_mut().retain(|d| d.id != id);
                }
                MutationResult::Rejected { .. } => {
                    let mine = |c: &str, i: &RecordId| c == client && *i == id;
                    self.lww.borrow_mut().retain(|d| !mine(&d.client, &d.id));
                    self.fields.borrow_mut().retain(|d| !mine(&d.client, &d.id));
                }
                _ => {}
            }
        }
    }

    /// Checks one storage transaction of `client` (`app`: an app call — a write or a
    /// manual resolution — rather than the sync engine). `before` are the key states
    /// as loaded.
    pub fn on_transaction(
        &self,
        client: &str,
        app: bool,
        before: &BTreeMap<RecordId, KeyState>,
        tx: &StorageTx,
    ) {
        let agreed = |e: &&idb_sync_core::conflict::ConflictLogEntry| {
            e.outcome == "local change had cancelled out"
                || (e.resolved == e.remote && !e.outcome.starts_with("took server"))
        };
        for entry in tx.conflict_log.iter().filter(agreed) {
            // The client's writes on the key undid each other (a create deleted again
            // while in flight), or its record already is the server's (both deleted, or
            // it updated a record whose create the server rejected): nothing to push.
            let undone = |c: &str, id: &RecordId, h: &Hlc| {
                c == client && *id == entry.id && entry.local_hlc.as_ref().is_none_or(|l| h <= l)
            };
            self.lww
                .borrow_mut()
                .retain(|d| !undone(&d.client, &d.id, &d.hlc));
            self.fields
                .borrow_mut()
                .retain(|d| !(d.client == client && d.id == entry.id));
        }
        let mut v = self.violations.borrow_mut();
        for entry in &tx.conflict_log {
            let nothing_to_park = entry.outcome == "local change had cancelled out";
            if entry.policy == ConflictPolicy::Manual
                && !app
                && entry.outcome != SUPERSEDED_PARKED
                && !nothing_to_park
            {
                v.push(format!(
                    "I12 manual: client {client} resolved {} by itself ({})",
                    entry.id, entry.outcome
                ));
            }
        }
        for (id, old) in before {
            let new = tx.states.get(id);
            if let Some(parked) = &old.conflict {
                let open = new.and_then(|s| s.conflict.as_ref());
                let kept = open.is_some_and(|c| {
                    c.local == parked.local && c.local_change == parked.local_change
                });
                let logged = tx.conflict_log.iter().any(|e| {
                    &e.id == id && e.local == parked.local && e.local_change == parked.local_change
                });
                if !kept && !logged {
                    v.push(format!(
                        "I12 manual: client {client} dropped the parked local change on {id}: {:?}",
                        parked.local
                    ));
                } else if !kept {
                    stat(&self.stats, "oracle_manual_moved_to_log");
                }
            }
            if app {
                continue;
            }
            let Some(pending) = &old.pending else {
                continue;
            };
            let same = |op: &Op| match (&pending.op, op) {
                (Op::Create { record: a }, Op::Put { record: b }) => a == b,
                (a, b) => a == b,
            };
            if new
                .and_then(|s| s.pending.as_ref())
                .is_some_and(|p| same(&p.op))
            {
                continue;
            }
            let logged = tx.conflict_log.iter().any(|e| &e.id == id);
            let parked = new.is_some_and(|s| s.conflict.is_some());
            if logged || parked {
                stat(&self.stats, "oracle_changes_traced");
            } else {
                v.push(format!(
                    "I5/I12 {:?}: client {client} took the pending {} on {id} away without a trace",
                    self.policy(id),
                    pending.op.kind()
                ));
            }
        }
    }

    /// The end-of-run checks, after quiescence. `agreed` are the `(client, seq)` whose
    /// conflict the client resolved, by its own account, to exactly the server's record
    /// (e.g. both sides deleted it, or its change had cancelled out): nothing was left
    /// to push. (A client that *took* the server's record does not count.)
    /// Forgets what `client` still owed the server and what its log proved: its database
    /// was wiped, and the wipe itself lost its un-pushed writes and its log (I11).
    pub fn forget_client(&self, client: &str) {
        self.lww.borrow_mut().retain(|d| d.client != client);
        self.fields.borrow_mut().retain(|d| d.client != client);
        // Its conflict log went with the wipe: a conflict it agreed to is no longer provable.
        self.last_word
            .borrow_mut()
            .retain(|_, w| w.client != client);
    }

    pub fn check_end(&self, agreed: &BTreeSet<(String, u64)>, violations: &mut Vec<String>) {
        for d in self.lww.borrow().iter() {
            violations.push(format!(
                "I12 lastWriteWins: client {}'s write on {} at {:?} is later than every write the server kept",
                d.client, d.id, d.hlc
            ));
        }
        for d in self.fields.borrow().iter() {
            violations.push(format!(
                "I12 fieldMerge: client {}'s {} = {} on {} never reached the server",
                d.client, d.field, d.value, d.id
            ));
        }
        for (id, w) in self.last_word.borrow().iter() {
            if w.conflict && !agreed.contains(&(w.client.clone(), w.seq)) {
                violations.push(format!("I12 clientWins: the last word on {id} is a conflict for ({}, {}): the local record was dropped", w.client, w.seq));
            }
        }
        violations.append(&mut self.violations.borrow_mut());
    }
}

/// Deliberately broken policy rules, applied to a sync transaction after the engine
/// ran in it (the broken engine's log tells the truth about what it did).
pub fn break_rules(breakage: &Breakage, before: &BTreeMap<RecordId, KeyState>, tx: &mut StorageTx) {
    let StorageTx {
        states,
        conflict_log,
        ..
    } = tx;
    for entry in conflict_log.iter_mut() {
        let take_server = match (entry.policy, entry.outcome.as_str()) {
            (ConflictPolicy::LastWriteWins, "kept local (later write)") => {
                breakage.lww_takes_server
            }
            (ConflictPolicy::ClientWins, "kept local") => breakage.client_wins_takes_server,
            (ConflictPolicy::FieldMerge, "merged fields") => {
                breakage.field_merge_drops_local_fields
            }
            _ => false,
        };
        if take_server {
            if let Some(state) = states.get_mut(&entry.id) {
                state.pending = None;
                state.rebuild_value(entry.remote.as_ref());
                entry.resolved = entry.remote.clone();
                entry.outcome = "took server".into();
            }
        }
    }
    if breakage.server_wins_forgets_log {
        conflict_log.retain(|e| e.policy != ConflictPolicy::ServerWins);
    }
    if breakage.manual_overwrites_parked {
        conflict_log.retain(|e| {
            let reparked = before.get(&e.id).is_some_and(|s| s.conflict.is_some());
            !(e.outcome == SUPERSEDED_PARKED && reparked)
        });
    }
}
