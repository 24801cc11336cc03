//! Rereading the outbox counts and the client id in the tab machine: when the browser
//! half may read storage (never while the page is frozen), and how count rereads are
//! coalesced — one read at a time, and one more after it when asked meanwhile, so a
//! burst of writes is two reads, not one per write.

use super::Tabs;
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

    /// Whether to reread the client id ([`super::Effect::RereadClientId`]): not
    /// while frozen, nor after `close()`.
    pub fn rereads_client_id(&self) -> bool {
        !self.frozen && !self.closed
    }
}

#[cfg(test)]
mod tests {
    use crate::sync_loop::tabs::{Browser, Heartbeat, Tabs};
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
