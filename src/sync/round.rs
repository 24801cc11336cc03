//! The executor's asynchronous work: a round of the engine (verify the lead, read the
//! counts, run, read them again, report to the tab machine with the round's term),
//! asking the lock manager whether this tab still leads, rereading the outbox counts
//! and the client id, and adopting existing rows (at open, or after the first pull).

use std::future::Future;
use std::rc::Rc;

use idb_sync_core::ports::Storage as _;
use wasm_bindgen_futures::spawn_local;

use super::clock::{now_ms, random_u64};
use super::counts;
use super::inner::Inner;

/// Tells the developer about rows adoption had to leave local-only.
pub(crate) fn report_adoption(report: crate::storage::adopt::AdoptReport) {
    if report.unsyncable > 0 {
        let message = format!(
            "idb-sync: {} existing row(s) stay local-only: their keys are not strings or finite numbers, which cannot be synced",
            report.unsyncable
        );
        web_sys::console::warn_1(&message.into());
    }
}

impl Inner {
    /// Round `round` of leadership term `term`; its outcome counts only in that term.
    pub(crate) async fn run_round(self: Rc<Self>, round: u64, term: u64) {
        if !self.verify_lead().await || !self.tabs.borrow().in_term(term) {
            return;
        }
        let before = counts::read(&self.storage).await.ok().map(|c| {
            self.saw_client_id(c.client_id);
            c.counts
        });
        if !self.tabs.borrow_mut().round_starting(term, before) {
            return;
        }
        self.publish();
        let result = self.engine.sync_round().await;
        if !self.tabs.borrow().in_term(term) {
            return; // robbed of the lead (or closed) meanwhile: the new leader reports
        }
        let after = counts::read(&self.storage).await.ok().map(|c| {
            self.saw_client_id(c.client_id);
            self.check_known(c.counts.unacknowledged());
            c.counts
        });
        let (now, random) = (now_ms(), random_u64());
        self.input(|t| t.round_finished(term, round, after, result.as_ref(), now, random));
    }

    /// Does the browser's lock manager still say this tab leads? A robbed tab that
    /// wakes up may run a timer before it hears of the theft; if it no longer leads,
    /// it follows and queues for the lock again.
    pub(crate) fn verify_lead(self: &Rc<Self>) -> impl Future<Output = bool> {
        let inner = self.clone();
        async move {
            let Some(leadership) = inner.leadership() else {
                return true;
            };
            if leadership.still_held().await {
                return true;
            }
            inner.lost_leadership();
            leadership.step_down();
            false
        }
    }

    /// Rereads the counts and publishes them, as the tab machine says (not while
    /// frozen; bursts coalesced: `Tabs::recount_wanted`, `Tabs::counts_read`).
    pub(crate) fn refresh_counts(self: &Rc<Self>) {
        if !self.tabs.borrow_mut().recount_wanted() {
            return;
        }
        let inner = self.clone();
        spawn_local(async move {
            loop {
                let counts = counts::read(&inner.storage).await.ok().map(|c| {
                    inner.saw_client_id(c.client_id);
                    inner.check_known(c.counts.unacknowledged());
                    c.counts
                });
                if !inner.tabs.borrow_mut().counts_read(counts) {
                    break;
                }
            }
            inner.publish();
        });
    }

    /// Rereads the client id from the database (a follower, after the leader's
    /// round), unless the tab machine says not now (`Tabs::rereads_client_id`).
    pub(crate) fn reread_client_id(self: &Rc<Self>) {
        if !self.tabs.borrow().rereads_client_id() {
            return;
        }
        let weak = Rc::downgrade(self);
        spawn_local(async move {
            let Some(inner) = weak.upgrade() else { return };
            if let Ok(meta) = inner.storage.read_meta().await {
                inner.saw_client_id(Some(meta.client_id));
            }
        });
    }

    /// Adopts the rows without sync state (at open, in the background, or with
    /// `adopt: 'pull'` after the first complete pull: `Tabs::opened`) and tells the
    /// tab machine how it went (`Tabs::adopted`, `Tabs::adoption_failed`).
    pub(crate) fn adopt_now(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        spawn_local(async move {
            let Some(inner) = weak.upgrade() else { return };
            match inner.storage.adopt_unsynced().await {
                Ok(report) => {
                    report_adoption(report);
                    let online = super::triggers::is_online();
                    inner.input(|t| t.adopted(report.queued, now_ms(), online));
                }
                Err(e) => {
                    if !inner.closed.get() {
                        web_sys::console::error_1(
                            &format!("idb-sync: adopting existing rows failed: {e}").into(),
                        );
                    }
                    let online = super::triggers::is_online();
                    inner.input(|t| t.adoption_failed(online));
                }
            }
        });
    }
}
