//! Own echoes (docs/ENGINE.md, "Own echoes"): which of this client's own changes a
//! pull may leave out because the client already holds them at their exact server
//! version. The metadata keeps two watermarks over the client's seqs:
//!
//! - `answered_through`: the highest seq the server answered (as applied here);
//! - `exact_through` (≤ `answered_through`): every own mutation with a seq up to it
//!   was answered `applied` exactly ([`Acked::Exact`]: the key was at the mutation's
//!   base and the server applied it on that base), or its echo came back in a pull
//!   that reached the head since ([`ClientMeta::pull_reached_head`]).
//!
//! An answer that is not exact (a `duplicate` whose first answer was lost, an apply
//! over other changes, a conflict, a rejection), or a seq that skips one, freezes
//! `exact_through`; the next pull that reaches the head thaws it up to what was
//! answered before that pull started (those echoes came back in it). An incremental
//! pull sends `omitOwnThrough: exact_through`; a full pull (no cursor) never does.

use super::{ClientMeta, InFlightOp, KeyState};
use crate::protocol::MutationResult;

/// How an `applied` or `duplicate` answer left the key ([`acknowledge`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acked {
    /// The answer matched nothing in flight (already applied): nothing changed.
    Stale,
    /// Applied on the base it was sent on, nothing else in between: the key now holds
    /// the server's version exactly.
    Exact,
    /// Acknowledged, but the resulting version is not known here (`acked_unpulled`):
    /// the next pull brings it.
    Inexact,
}

/// The part of a key's state a push answer that needs no record data changes: what
/// storage adapters may read and write without the record itself.
pub struct SyncHeader<'a> {
    /// The server version the local record is based on.
    pub version: &'a mut u64,
    /// The in-flight entry.
    pub in_flight: &'a mut Option<InFlightOp>,
    /// The server acknowledged a mutation whose version is not pulled yet.
    pub acked_unpulled: &'a mut bool,
}

impl KeyState {
    /// The key's [`SyncHeader`].
    pub fn header(&mut self) -> SyncHeader<'_> {
        SyncHeader {
            version: &mut self.version,
            in_flight: &mut self.in_flight,
            acked_unpulled: &mut self.acked_unpulled,
        }
    }
}

/// Whether applying `result` needs the key's record data: a conflict goes through the
/// conflict policy and a rejection rolls the record back, while `applied` and
/// `duplicate` only touch the [`SyncHeader`] ([`acknowledge`]).
pub fn needs_record(result: &MutationResult) -> bool {
    matches!(
        result,
        MutationResult::Conflict { .. } | MutationResult::Rejected { .. }
    )
}

/// Applies an `applied` or `duplicate` answer to a key's header and notes it in the
/// own-echo watermark of `meta`. `None` for an answer that [`needs_record`] (nothing
/// is changed: apply it with [`crate::engine::apply_result`]).
pub fn acknowledge(
    meta: &mut ClientMeta,
    header: SyncHeader<'_>,
    result: &MutationResult,
) -> Option<Acked> {
    if needs_record(result) {
        return None;
    }
    let Some(sent) = header.in_flight.take_if(|f| f.seq == result.seq()) else {
        return Some(Acked::Stale);
    };
    let acked = match result {
        // Only when nothing else happened on the server in between do we know the
        // server record at `version` exactly; otherwise the next pull brings it.
        MutationResult::Applied {
            version,
            previous_version,
            ..
        } if *header.version == sent.base_version
            && *previous_version == sent.base_version
            && version > previous_version =>
        {
            *header.version = *version;
            Acked::Exact
        }
        _ => {
            *header.acked_unpulled = true;
            Acked::Inexact
        }
    };
    meta.note_answer(sent.seq, acked == Acked::Exact);
    Some(acked)
}

impl ClientMeta {
    /// The server answered own mutation `seq` (applied here); `exact`: see
    /// [`Acked::Exact`]. Anything but the next seq answered exactly freezes
    /// `exact_through` (see the module docs).
    pub fn note_answer(&mut self, seq: u64, exact: bool) {
        if exact && self.exact_through == self.answered_through && seq == self.answered_through + 1
        {
            self.exact_through = seq;
        }
        self.answered_through = self.answered_through.max(seq);
    }

    /// What an incremental pull may ask the server to leave out: own changes with a
    /// seq up to this. `None` for a full pull (no cursor) or when nothing is known.
    pub fn omit_own_through(&self) -> Option<u64> {
        (self.cursor.is_some() && self.exact_through > 0).then_some(self.exact_through)
    }

    /// A pull that started when `answered_before` was [`ClientMeta::answered_through`]
    /// reached the head: every own change answered before it started is now held at
    /// its server version (exactly, or pulled in it).
    pub fn pull_reached_head(&mut self, answered_before: u64) {
        self.exact_through = self.exact_through.max(answered_before);
        self.answered_through = self.answered_through.max(self.exact_through);
    }

    /// Drops the cursor: the next pull is a full pull (a reset, a rollback, another
    /// account). Every place that drops the cursor goes through here: the records the
    /// own echoes were held in may be gone with it, and a full pull that stops half
    /// way goes on from a cursor later, so `exact_through` is 0 until a pull reaches
    /// the head again (which sets it to what was answered before that pull).
    pub fn forget_cursor(&mut self) {
        self.cursor = None;
        self.exact_through = 0;
    }

    /// Forgets both watermarks: the client id was renewed and seqs start again at 1
    /// (I11), so no earlier answer says anything about the new seqs.
    pub fn forget_own_echoes(&mut self) {
        self.exact_through = 0;
        self.answered_through = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::{acknowledge, Acked};
    use crate::hlc::Hlc;
    use crate::key::RecordId;
    use crate::outbox::{ClientMeta, InFlightOp, KeyState};
    use crate::protocol::{ConflictReason, Cursor, MergeMode, MutationResult, ServerSnapshot};
    use crate::record::Op;

    fn meta() -> ClientMeta {
        let mut m = ClientMeta::new("c");
        m.cursor = Some(Cursor("k".into()));
        m
    }

    /// A key with mutation `seq` in flight on base `base`, locally at version `local`.
    fn sent(seq: u64, base: u64, local: u64) -> KeyState {
        KeyState {
            version: local,
            in_flight: Some(InFlightOp {
                id: RecordId::new("t", "k"),
                op: Op::Delete,
                seq,
                base_version: base,
                hlc: Hlc::zero("c"),
                mode: MergeMode::default(),
                since_ms: 0,
                attempts: 0,
            }),
            ..KeyState::default()
        }
    }

    fn applied(seq: u64, previous: u64, version: u64) -> MutationResult {
        MutationResult::Applied {
            seq,
            version,
            previous_version: previous,
        }
    }

    fn ack(m: &mut ClientMeta, state: &mut KeyState, r: MutationResult) -> Option<Acked> {
        acknowledge(m, state.header(), &r)
    }

    #[test]
    fn exact_answers_in_seq_order_advance_the_watermark() {
        let mut m = meta();
        assert_eq!(m.omit_own_through(), None, "nothing answered yet");
        for seq in 1..=3 {
            let mut s = sent(seq, 0, 0);
            assert_eq!(ack(&mut m, &mut s, applied(seq, 0, 1)), Some(Acked::Exact));
            assert_eq!(
                (s.version, s.in_flight.is_none(), s.acked_unpulled),
                (1, true, false)
            );
        }
        assert_eq!((m.exact_through, m.answered_through), (3, 3));
        assert_eq!(m.omit_own_through(), Some(3));
    }

    #[test]
    fn a_duplicate_freezes_until_a_pull_reaches_the_head() {
        let mut m = meta();
        ack(&mut m, &mut sent(1, 0, 0), applied(1, 0, 1));
        let mut s = sent(2, 0, 0);
        let dup = MutationResult::Duplicate { seq: 2 };
        assert_eq!(ack(&mut m, &mut s, dup), Some(Acked::Inexact));
        assert!(s.acked_unpulled);
        ack(&mut m, &mut sent(3, 0, 0), applied(3, 0, 1));
        assert_eq!((m.exact_through, m.answered_through), (1, 3), "frozen at 1");
        let before = m.answered_through;
        ack(&mut m, &mut sent(4, 0, 0), applied(4, 0, 1)); // answered during the pull
        m.pull_reached_head(before);
        assert_eq!((m.exact_through, m.answered_through), (3, 4));
        assert_eq!(
            m.omit_own_through(),
            Some(3),
            "seq 4 came after the pull started"
        );
        ack(&mut m, &mut sent(5, 0, 0), applied(5, 0, 1));
        assert_eq!(m.exact_through, 3, "still frozen by 4 until the next head");
    }

    #[test]
    fn an_apply_over_other_changes_freezes() {
        let mut m = meta();
        // The server merged it over another device's version 5.
        let mut s = sent(1, 4, 4);
        assert_eq!(ack(&mut m, &mut s, applied(1, 5, 6)), Some(Acked::Inexact));
        assert_eq!((s.version, s.acked_unpulled), (4, true));
        // A pull moved the key while the mutation was in flight.
        let mut s = sent(2, 4, 7);
        assert_eq!(ack(&mut m, &mut s, applied(2, 4, 8)), Some(Acked::Inexact));
        // A no-op (version unchanged).
        let mut s = sent(3, 4, 4);
        assert_eq!(ack(&mut m, &mut s, applied(3, 4, 4)), Some(Acked::Inexact));
        assert_eq!((m.exact_through, m.answered_through), (0, 3));
        assert_eq!(m.omit_own_through(), None);
    }

    #[test]
    fn a_conflict_or_rejection_is_left_to_apply_result_and_freezes() {
        let mut m = meta();
        ack(&mut m, &mut sent(1, 0, 0), applied(1, 0, 1));
        let conflict = MutationResult::Conflict {
            seq: 2,
            reason: ConflictReason::StaleBase,
            server: ServerSnapshot::absent(),
        };
        let mut s = sent(2, 0, 0);
        assert_eq!(ack(&mut m, &mut s, conflict), None);
        assert!(s.in_flight.is_some(), "untouched");
        // apply_result notes it (inexact); the next exact answer does not thaw.
        m.note_answer(2, false);
        ack(&mut m, &mut sent(3, 0, 0), applied(3, 0, 1));
        assert_eq!((m.exact_through, m.answered_through), (1, 3));
    }

    #[test]
    fn a_skipped_seq_or_a_stale_answer_never_advances() {
        let mut m = meta();
        ack(&mut m, &mut sent(1, 0, 0), applied(1, 0, 1));
        // Seq 2 was dead-lettered locally (never answered): 3 skips it.
        ack(&mut m, &mut sent(3, 0, 0), applied(3, 0, 1));
        assert_eq!((m.exact_through, m.answered_through), (1, 3));
        // An answer for something no longer in flight changes nothing.
        let mut s = sent(9, 0, 0);
        assert_eq!(ack(&mut m, &mut s, applied(4, 0, 1)), Some(Acked::Stale));
        assert!(s.in_flight.is_some());
        assert_eq!(m.answered_through, 3);
    }

    #[test]
    fn a_full_pull_omits_nothing_and_thaws_at_its_head() {
        let mut m = meta();
        ack(&mut m, &mut sent(1, 0, 0), applied(1, 0, 1));
        m.note_answer(2, false);
        // resetRequired, an account switch or a rollback drop the cursor.
        m.forget_cursor();
        assert_eq!(m.omit_own_through(), None, "a full pull brings everything");
        let before = m.answered_through;
        // Its first page sets a cursor: the later pages (or a later round's pull,
        // if it stops half way) still leave nothing out.
        m.cursor = Some(Cursor("page 1".into()));
        assert_eq!(m.omit_own_through(), None, "the full pull is not over");
        ack(&mut m, &mut sent(3, 0, 0), applied(3, 0, 1));
        assert_eq!(m.omit_own_through(), None, "still frozen");
        m.pull_reached_head(before);
        assert_eq!(m.omit_own_through(), Some(2));
    }

    #[test]
    fn a_renewed_client_id_forgets_both_watermarks() {
        let mut m = meta();
        ack(&mut m, &mut sent(1, 0, 0), applied(1, 0, 1));
        m.forget_own_echoes();
        assert_eq!(m.omit_own_through(), None);
        // Seqs start again at 1 under the new id.
        ack(&mut m, &mut sent(1, 0, 0), applied(1, 0, 1));
        assert_eq!(m.omit_own_through(), Some(1));
    }

    #[test]
    fn metadata_stored_before_the_watermarks_reads_them_as_zero() {
        let mut json = serde_json::to_value(ClientMeta::new("c")).unwrap();
        let obj = json.as_object_mut().unwrap();
        obj.remove("exactThrough");
        obj.remove("answeredThrough");
        obj.remove("exact_through");
        obj.remove("answered_through");
        let m: ClientMeta = serde_json::from_value(json).unwrap();
        assert_eq!((m.exact_through, m.answered_through), (0, 0));
    }
}
