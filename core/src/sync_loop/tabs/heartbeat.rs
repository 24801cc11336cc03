//! [`Heartbeat`] (how often the leader tab says it is alive) and [`Watch`] (a
//! follower's view of that heartbeat: when to call the leader frozen). Times are
//! milliseconds on a monotonic clock, given by the caller: this file reads no clock.

/// How often the leader says it is alive, and when followers call it frozen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heartbeat {
    /// The leader's heartbeat period, ms (followers check at the same pace).
    pub period_ms: u64,
}

impl Heartbeat {
    /// The default period: 2 s, so a frozen leader is replaced after about 8 s.
    pub const DEFAULT_PERIOD_MS: u64 = 2_000;

    /// Silence longer than this means the leader is frozen: four periods, well above
    /// timer jitter and the 1 s timer alignment of hidden pages.
    pub fn stale_after_ms(&self) -> f64 {
        (self.period_ms * 4) as f64
    }
}

impl Default for Heartbeat {
    fn default() -> Self {
        Heartbeat {
            period_ms: Self::DEFAULT_PERIOD_MS,
        }
    }
}

/// A follower's watch over the leader's heartbeat (times from a monotonic clock).
#[derive(Clone, Debug)]
pub struct Watch {
    heartbeat: Heartbeat,
    last_heard: f64,
    last_tick: f64,
}

impl Watch {
    /// A watch started at `now` (the leader counts as just heard).
    pub fn new(heartbeat: Heartbeat, now: f64) -> Watch {
        Watch {
            heartbeat,
            last_heard: now,
            last_tick: now,
        }
    }

    /// The heartbeat it watches.
    pub fn heartbeat(&self) -> Heartbeat {
        self.heartbeat
    }

    /// The leader (or a tab that just became it) spoke.
    pub fn heard(&mut self, now: f64) {
        self.last_heard = now;
    }

    /// When the leader last spoke (or the window last started again).
    pub fn last_heard(&self) -> f64 {
        self.last_heard
    }

    /// The follower's periodic check: whether the leader has been silent too long.
    /// When this tab's own timer ran late by half a window it was frozen or heavily
    /// throttled itself: the silence it saw says nothing about the leader, so the
    /// window starts again (this also keeps hidden tabs, whose timers Chrome may run
    /// once a minute, from stealing from each other in turn).
    pub fn tick(&mut self, now: f64) -> bool {
        let stale = self.heartbeat.stale_after_ms();
        let asleep = now - self.last_tick > stale / 2.0;
        self.last_tick = now;
        if asleep {
            self.last_heard = now;
            return false;
        }
        now - self.last_heard > stale
    }
}

#[cfg(test)]
mod tests {
    use super::{Heartbeat, Watch};

    const BEAT: Heartbeat = Heartbeat { period_ms: 1_000 };

    #[test]
    fn a_leader_heard_every_period_is_never_stale() {
        let mut watch = Watch::new(BEAT, 0.0);
        for t in (1..100).map(|i| f64::from(i) * 1_000.0) {
            watch.heard(t - 10.0);
            assert!(!watch.tick(t), "stale at {t}");
        }
    }

    #[test]
    fn a_silent_leader_is_stale_after_four_periods() {
        let mut watch = Watch::new(BEAT, 0.0);
        let stale: Vec<bool> = (1..=5)
            .map(|i| watch.tick(f64::from(i) * 1_000.0))
            .collect();
        assert_eq!(stale, [false, false, false, false, true]);
    }

    #[test]
    fn a_follower_that_slept_itself_starts_the_window_again() {
        let mut watch = Watch::new(BEAT, 0.0);
        assert!(!watch.tick(1_000.0));
        // Frozen (or throttled to once a minute) for 60 s: no verdict on the leader.
        assert!(!watch.tick(61_000.0));
        for t in [62_000.0, 63_000.0, 64_000.0, 65_000.0] {
            assert!(!watch.tick(t), "stale at {t}");
        }
        assert!(watch.tick(65_500.0));
    }
}
