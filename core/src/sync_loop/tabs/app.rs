//! The tab machine's inputs from the app and the page: local writes and pokes, new
//! credentials, `startAutoSync()`/`stopAutoSync()`, online/offline, visibility (each
//! opens, closes or hurries the live channel: `live.rs`),
//! freeze/resume, and the outbox counts read from storage (adoption: `adoption.rs`).

use super::{Effect, Message, Tabs};
use crate::sync_loop::OutboxCounts;

impl Tabs {
    /// A local write at `now` (in this tab or another, or a decision that queued
    /// something).
    pub fn local_write(&mut self, now: u64) -> Vec<Effect> {
        if self.closed {
            return Vec::new();
        }
        self.scheduler.local_write(now);
        vec![Effect::RefreshCounts, Effect::Pump]
    }

    /// Something this tab changed in the outbox outside the table API (a conflict or
    /// dead-letter decision): the leader syncs soon; a follower tells the leader.
    pub fn poke(&mut self, now: u64) -> Vec<Effect> {
        if self.leader {
            self.local_write(now)
        } else {
            vec![Effect::Post(Message::Poke), Effect::RefreshCounts]
        }
    }

    /// New credentials: forget the cached token and end an auth block (in the leader,
    /// wherever this is called).
    pub fn credentials_changed(&mut self) -> Vec<Effect> {
        self.scheduler.credentials_changed();
        let mut effects = vec![Effect::ForgetCredentials];
        self.live_sync(true, &mut effects);
        effects.push(if self.leader {
            Effect::Pump
        } else {
            Effect::Post(Message::Reauth)
        });
        effects
    }

    /// The app decided what to do after `account_changed`: a round runs at once, in
    /// the leader tab (a follower asks it, as the relayed call `<client_id>:account-resolved`
    /// that nobody waits for).
    pub fn account_resolved(&mut self, client_id: &str) -> Vec<Effect> {
        if self.leader {
            let _ = self.scheduler.request_sync_now();
            vec![Effect::Pump]
        } else {
            let id = format!("{client_id}:account-resolved");
            vec![Effect::Post(Message::SyncNow { id })]
        }
    }

    /// `startAutoSync()` (`true`) or `stopAutoSync()`.
    pub fn set_auto(&mut self, on: bool) -> Vec<Effect> {
        self.wants_auto = on;
        if on {
            self.scheduler.start();
        } else {
            self.scheduler.stop();
        }
        let mut effects = Vec::new();
        self.live_sync(false, &mut effects);
        effects.push(Effect::Pump);
        effects
    }

    /// The browser went online or offline.
    pub fn set_online(&mut self, online: bool) -> Vec<Effect> {
        self.scheduler.set_online(online);
        self.status.set_online(online);
        let mut effects = Vec::new();
        self.live_sync(online, &mut effects);
        effects.extend([Effect::Publish, Effect::Pump]);
        effects
    }

    /// The page became visible or hidden.
    pub fn set_visible(&mut self, visible: bool) -> Vec<Effect> {
        self.scheduler.set_visible(visible);
        let mut effects = Vec::new();
        self.live_sync(visible, &mut effects);
        effects.push(Effect::Pump);
        effects
    }

    /// The page is frozen (`true`) or resumed. A frozen page's IndexedDB transactions
    /// never finish and block every other tab's, so a frozen manager starts no round
    /// and reads nothing; on resume it rereads the counts and decides again.
    pub fn set_frozen(&mut self, frozen: bool) -> Vec<Effect> {
        self.frozen = frozen;
        if frozen {
            Vec::new()
        } else {
            vec![Effect::RefreshCounts, Effect::Pump]
        }
    }

    /// New outbox counts, read from storage.
    pub fn set_counts(&mut self, counts: OutboxCounts) {
        self.status.set_counts(counts);
    }
}
