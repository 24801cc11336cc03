//! Rereading the outbox counts and the client id in the tab machine: when the browser
//! half may read storage (never while the page is frozen), and how count rereads are
//! coalesced — one read at a time, and one more after it when asked meanwhile, so a
//! burst of writes is two reads, not one per write. A write in this tab reads nothing:
//! it says how it moved the pending count ([`Tabs::own_write`]).

use super::{Effect, Tabs};
use crate::sync_loop::OutboxCounts;

/// The count rereads in progress (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Recount {
    /// A read is running.
    counting: bool,
    /// Another read was asked for while it ran.
    again: bool,
}

impl Tabs {
    /// [`super::Effect::RefreshCounts`] is being carried out: whether to start a
    /// read now. Not while frozen (the counts are reread on resume); while a read
    /// runs, it is read once more after it instead.
    pub fn recount_wanted(&mut self) -> bool {
        if self.frozen {
            return false;
        }
        if self.recount.counting {
            self.recount.again = true;
            return false;
        }
        self.recount.counting = true;
        true
    }

    /// A count read finished with these counts (`None`: it failed, and the status
    /// keeps the old ones). Whether to read again: asked for meanwhile, and not
    /// closed since. When false, publish.
    pub fn counts_read(&mut self, counts: Option<OutboxCounts>) -> bool {
        if let Some(counts) = counts {
            self.set_counts(counts);
        }
        let again = std::mem::take(&mut self.recount.again) && !self.closed;
        self.recount.counting = again;
        again
    }

    /// A local write in this tab at `now` that moved the pending count by
    /// `pending_delta` (the write knows: `LocalWritePlan::pending_delta`). The count is
    /// kept from it, without reading the outbox again — unless a reread is running,
    /// whose result may or may not include this write: then it is read once more
    /// after it. (Writes in other tabs come as [`Tabs::local_write`], which rereads.)
    pub fn own_write(&mut self, now: u64, pending_delta: i64) -> Vec<Effect> {
        if self.closed {
            return Vec::new();
        }
        self.scheduler.local_write(now);
        if self.recount.counting {
            self.recount.again = true;
            return vec![Effect::Pump];
        }
        let mut counts = self.status.counts();
        counts.pending = counts.pending.saturating_add_signed(pending_delta as isize);
        self.set_counts(counts);
        vec![Effect::Publish, Effect::Pump]
    }

    /// Whether to reread the client id ([`super::Effect::RereadClientId`]): not
    /// while frozen, nor after `close()`.
    pub fn rereads_client_id(&self) -> bool {
        !self.frozen && !self.closed
    }
}

#[cfg(test)]
mod tests {
    use crate::sync_loop::tabs::{Browser, Effect, Heartbeat, Tabs};
    use crate::sync_loop::{OutboxCounts, Scheduler, SchedulerConfig, SyncStatus};

    fn tabs() -> Tabs {
        let scheduler = Scheduler::new(SchedulerConfig::default(), 0, true, true);
        let beat = Heartbeat { period_ms: 1_000 };
        Tabs::new(
            scheduler,
            SyncStatus::new(true),
            false,
            beat,
            "t".into(),
            0.0,
        )
    }

    fn pending(n: usize) -> Option<OutboxCounts> {
        Some(OutboxCounts {
            pending: n,
            ..OutboxCounts::default()
        })
    }

    #[test]
    fn one_read_at_a_time_and_one_more_after_a_burst() {
        let mut t = tabs();
        assert!(t.recount_wanted(), "the first ask reads");
        assert!(!t.recount_wanted(), "a read runs: no second one");
        assert!(!t.recount_wanted(), "a burst is still one more read");
        assert!(t.counts_read(pending(1)), "asked meanwhile: read again");
        assert_eq!(t.status().pending, 1);
        assert!(!t.recount_wanted(), "the second read runs");
        assert!(t.counts_read(pending(2)), "asked during the second read");
        assert!(!t.counts_read(pending(3)), "nothing asked since: done");
        assert_eq!(t.status().pending, 3);
        assert!(t.recount_wanted(), "idle again: the next ask reads");
    }

    #[test]
    fn a_read_alone_is_done_after_it() {
        let mut t = tabs();
        assert!(t.recount_wanted());
        assert!(!t.counts_read(pending(4)));
        assert_eq!(t.status().pending, 4);
    }

    #[test]
    fn a_failed_read_keeps_the_counts() {
        let mut t = tabs();
        assert!(t.recount_wanted());
        assert!(!t.counts_read(pending(5)));
        assert!(t.recount_wanted());
        assert!(!t.counts_read(None));
        assert_eq!(t.status().pending, 5);
    }

    #[test]
    fn nothing_is_read_while_frozen_and_the_resume_rereads() {
        let mut t = tabs();
        t.set_frozen(true);
        assert!(!t.recount_wanted(), "frozen: no read");
        assert!(!t.rereads_client_id(), "frozen: no client id read");
        let effects = t.set_frozen(false);
        assert!(effects.contains(&super::super::Effect::RefreshCounts));
        assert!(
            t.recount_wanted(),
            "resumed: reads (nothing was queued meanwhile)"
        );
        assert!(
            !t.counts_read(None),
            "the frozen ask did not queue a second read"
        );
        assert!(t.rereads_client_id());
    }

    #[test]
    fn an_own_write_moves_the_pending_count_without_a_read() {
        let mut t = tabs();
        assert!(t.recount_wanted());
        assert!(!t.counts_read(pending(4)));
        let effects = t.own_write(10, 1);
        assert_eq!(effects, vec![Effect::Publish, Effect::Pump]);
        assert_eq!(t.status().pending, 5);
        t.own_write(11, 0);
        t.own_write(12, -1);
        assert_eq!(t.status().pending, 4);
        assert!(t.recount_wanted(), "no read was left running or queued");
    }

    #[test]
    fn an_own_write_during_a_reread_reads_once_more() {
        let mut t = tabs();
        assert!(t.recount_wanted());
        assert_eq!(
            t.own_write(10, 1),
            vec![Effect::Pump],
            "the read may miss it"
        );
        assert!(t.counts_read(pending(2)), "so it is read again");
        assert!(!t.counts_read(pending(3)));
        assert_eq!(t.status().pending, 3, "the second read is the truth");
    }

    #[test]
    fn an_own_write_never_goes_below_zero_and_not_after_close() {
        let mut t = tabs();
        t.own_write(1, -1);
        assert_eq!(t.status().pending, 0);
        t.close();
        assert!(t.own_write(2, 1).is_empty());
        assert_eq!(t.status().pending, 0);
    }

    #[test]
    fn close_stops_the_rereads() {
        let mut t = tabs();
        t.became_leader(Browser {
            online: true,
            visible: true,
        });
        assert!(t.recount_wanted());
        assert!(!t.recount_wanted(), "asked again during the read");
        t.close();
        assert!(!t.counts_read(pending(1)), "closed: no second read");
        assert!(!t.rereads_client_id(), "closed: no client id read");
    }
}
