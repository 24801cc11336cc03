//! The rules of the election the browser half runs over Web Locks
//! (docs/INVARIANTS.md, I7): when a follower tries to take the lead from a silent
//! leader, when it may steal the leader's lock, and whether this tab still holds it.
//! The browser half does the lock requests and queries; these decide on what they
//! found.

/// How a takeover asks for the candidate lock (`idb-sync-candidate:<dbName>`), which
/// lets one follower at a time try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CandidateLock {
    /// Only if free right now (another follower is trying: wait a window).
    IfAvailable,
    /// Steal it: the tab holding it froze in the middle of a takeover.
    Steal,
}

/// A follower's takeover attempts (at most one at a time).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Takeover {
    running: bool,
    /// Attempts in a row that found the candidate lock taken.
    misses: u32,
}

impl Takeover {
    /// After this many attempts in a row that found the candidate lock taken, the
    /// next one steals it.
    pub const STEAL_CANDIDATE_AFTER: u32 = 3;

    /// A takeover is asked for ([`super::Effect::TakeOver`]): how to ask for the
    /// candidate lock, or `None` when not to try (closed, already holding the lead,
    /// or an attempt runs).
    pub fn begin(&mut self, closed: bool, holds: bool) -> Option<CandidateLock> {
        if closed || holds || self.running {
            return None;
        }
        self.running = true;
        Some(if self.misses >= Self::STEAL_CANDIDATE_AFTER {
            CandidateLock::Steal
        } else {
            CandidateLock::IfAvailable
        })
    }

    /// The candidate lock was granted (`true`) or found taken.
    pub fn candidate(&mut self, granted: bool) {
        self.misses = if granted { 0 } else { self.misses + 1 };
    }

    /// The attempt is over: whether this tab now leads (it stole the lead and was
    /// not closed meanwhile).
    pub fn finished(&mut self, stolen: bool, closed: bool) -> bool {
        self.running = false;
        stolen && !closed
    }
}

/// Under the candidate lock: steal the leader's lock only if the tab seen holding it
/// when the silence was noticed (`silent_holder`) still holds it (`holder`), that tab
/// is not this one (`me`), this tab is open and holds nothing, and the leader is
/// still silent (asked last). So two followers never rob each other.
pub fn may_steal(
    silent_holder: Option<&str>,
    holder: Option<&str>,
    me: Option<&str>,
    closed: bool,
    holds: bool,
    still_silent: impl FnOnce() -> bool,
) -> bool {
    let same = holder.is_some() && holder == silent_holder && holder != me;
    same && !closed && !holds && still_silent()
}

/// Whether this tab still holds the leader's lock, by the lock manager's answer
/// (`Err`: it could not say). True when this tab's own id is unknown or the lock
/// manager cannot say: only a clear "another tab holds it" counts.
pub fn still_holds(me: Option<&str>, holder: Result<Option<&str>, ()>) -> bool {
    match (me, holder) {
        (Some(me), Ok(holder)) => holder == Some(me),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_attempt_at_a_time_and_not_when_closed_or_leading() {
        let mut t = Takeover::default();
        assert_eq!(t.begin(true, false), None, "closed");
        assert_eq!(t.begin(false, true), None, "holds the lead");
        assert_eq!(t.begin(false, false), Some(CandidateLock::IfAvailable));
        assert_eq!(t.begin(false, false), None, "one runs");
        assert!(t.finished(true, false), "stolen: leads");
        assert_eq!(t.begin(false, false), Some(CandidateLock::IfAvailable));
        assert!(!t.finished(true, true), "closed meanwhile: does not lead");
        assert_eq!(t.begin(false, false), Some(CandidateLock::IfAvailable));
        assert!(!t.finished(false, false));
    }

    #[test]
    fn the_candidate_lock_is_stolen_after_three_misses_in_a_row() {
        let mut t = Takeover::default();
        for _ in 0..Takeover::STEAL_CANDIDATE_AFTER {
            assert_eq!(t.begin(false, false), Some(CandidateLock::IfAvailable));
            t.candidate(false);
            t.finished(false, false);
        }
        assert_eq!(t.begin(false, false), Some(CandidateLock::Steal));
        t.candidate(true);
        t.finished(true, false);
        assert_eq!(
            t.begin(false, false),
            Some(CandidateLock::IfAvailable),
            "a granted candidate lock resets the misses"
        );
        t.candidate(false);
        t.finished(false, false);
        t.begin(false, false);
        t.candidate(true);
        t.finished(false, false);
        assert_eq!(t.begin(false, false), Some(CandidateLock::IfAvailable));
    }

    #[test]
    fn steal_only_from_the_same_silent_holder() {
        let yes = || true;
        assert!(may_steal(
            Some("a"),
            Some("a"),
            Some("me"),
            false,
            false,
            yes
        ));
        assert!(
            !may_steal(Some("a"), Some("b"), Some("me"), false, false, yes),
            "another tab took over meanwhile"
        );
        assert!(
            !may_steal(None, None, Some("me"), false, false, yes),
            "free"
        );
        assert!(
            !may_steal(Some("me"), Some("me"), Some("me"), false, false, yes),
            "this tab itself"
        );
        assert!(
            !may_steal(Some("a"), Some("a"), None, true, false, yes),
            "closed"
        );
        assert!(
            !may_steal(Some("a"), Some("a"), None, false, true, yes),
            "holds"
        );
        assert!(
            !may_steal(Some("a"), Some("a"), None, false, false, || false),
            "the leader spoke meanwhile"
        );
        let asked = std::cell::Cell::new(false);
        may_steal(Some("a"), Some("b"), None, false, false, || {
            asked.set(true);
            true
        });
        assert!(!asked.get(), "the silence is asked last");
    }

    #[test]
    fn only_a_clear_other_holder_means_the_lead_is_lost() {
        assert!(still_holds(Some("me"), Ok(Some("me"))));
        assert!(!still_holds(Some("me"), Ok(Some("b"))), "robbed");
        assert!(!still_holds(Some("me"), Ok(None)), "nobody holds it");
        assert!(still_holds(Some("me"), Err(())), "the browser cannot say");
        assert!(still_holds(None, Ok(Some("b"))), "own id unknown");
    }
}
