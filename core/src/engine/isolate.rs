//! Isolating a mutation that keeps failing its push (I9 "no mutation blocks another").
//!
//! A server that cannot take one mutation (a value its database refuses, a bug) may
//! answer the whole request with a 5xx or a broken answer, again on every resend: the
//! in-flight entries are resent first, so that one mutation would stop the queue for
//! good. [`Isolation`] remembers, in memory, the request that failed last:
//!
//! - the same request failing [`STRIKES`] times in a row (each a round of its own,
//!   with the retry backoff in between) makes it a *confirmed* suspect;
//! - a confirmed suspect is searched by halves, at once: its first half is sent; if it
//!   fails it is the new suspect, if it succeeds the rest is;
//! - a single mutation is dead-lettered only after failing alone [`STRIKES`] times in
//!   a row **and** the server then answering an empty push (a probe that changes
//!   nothing) correctly. A server that is down fails the probe too, so an outage never
//!   dead-letters anything: it is retried forever, as before.
//!
//! Only failures that can be the request's own fault count (HTTP 500, 501, 505–599
//! and malformed answers); network errors, 429, 502, 503 and 504 are outages.

use crate::error::SyncError;

/// Consecutive failures of the same request before it is split, and of a single
/// mutation sent alone before it may be dead-lettered.
pub const STRIKES: u32 = 3;

/// The dead-letter code of a mutation isolated this way.
pub const POISON_CODE: &str = crate::ErrorCode::Poison.as_str();

/// True if `error` may be caused by the request's content (so it counts as a strike).
pub fn counts(error: &SyncError) -> bool {
    match error {
        SyncError::Server { status, .. } => matches!(status, 500 | 501 | 505..=599),
        SyncError::MalformedResponse(_) => true,
        _ => false,
    }
}

/// What to do after a failed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Fail the round; the same request is retried after the backoff.
    RetryLater,
    /// Send the first half of the suspect now.
    Split,
    /// The single mutation failed alone often enough: probe the server, and
    /// dead-letter it if the server answers the probe.
    Probe,
}

/// The request that failed last, and what is known about it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Isolation {
    /// Seqs of the suspect request (always a prefix of the in-flight entries).
    suspect: Vec<u64>,
    /// Consecutive failures of exactly this request.
    failures: u32,
    /// The suspect holds a mutation that fails (it failed [`STRIKES`] times, or it is
    /// what is left of a confirmed suspect).
    confirmed: bool,
}

impl Isolation {
    /// How many of the in-flight entries `seqs` (in order) to send next, if the
    /// isolation has something to say about them.
    pub fn chunk_for(&self, seqs: &[u64]) -> Option<usize> {
        if self.suspect.is_empty() || !seqs.starts_with(&self.suspect) {
            return None;
        }
        let n = self.suspect.len();
        Some(if self.confirmed && n > 1 { n / 2 } else { n })
    }

    /// The request `sent` was answered, or its mutations left the queue otherwise.
    pub fn succeeded(&mut self, sent: &[u64]) {
        if self.confirmed && self.suspect.len() > sent.len() && self.suspect.starts_with(sent) {
            // The failing mutation is in the rest.
            self.suspect.drain(..sent.len());
            self.failures = 0;
        } else {
            *self = Isolation::default();
        }
    }

    /// The request `sent` failed with an error that [`counts`].
    pub fn failed(&mut self, sent: &[u64]) -> Verdict {
        if self.confirmed && self.suspect.len() > sent.len() && self.suspect.starts_with(sent) {
            // The first half of a confirmed suspect failed: the failing one is in it.
            self.suspect = sent.to_vec();
            self.failures = 1;
        } else if self.suspect == sent {
            self.failures += 1;
        } else {
            *self = Isolation {
                suspect: sent.to_vec(),
                failures: 1,
                confirmed: false,
            };
        }
        if sent.len() == 1 {
            return if self.failures >= STRIKES {
                Verdict::Probe
            } else {
                Verdict::RetryLater
            };
        }
        if self.confirmed || self.failures >= STRIKES {
            self.confirmed = true;
            Verdict::Split
        } else {
            Verdict::RetryLater
        }
    }

    /// Forgets everything (after a mutation was dead-lettered).
    pub fn clear(&mut self) {
        *self = Isolation::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_split_only_after_failing_strikes_times_in_a_row() {
        let mut iso = Isolation::default();
        let batch = [1, 2, 3, 4];
        assert_eq!(iso.failed(&batch), Verdict::RetryLater);
        assert_eq!(iso.failed(&batch), Verdict::RetryLater);
        assert_eq!(iso.failed(&batch), Verdict::Split);
        assert_eq!(iso.chunk_for(&batch), Some(2));
        // The first half goes through: the failing one is in [3, 4], tried by halves.
        iso.succeeded(&[1, 2]);
        assert_eq!(iso.chunk_for(&[3, 4]), Some(1));
        // 3 alone fails: a single needs STRIKES failures of its own before a probe.
        assert_eq!(iso.failed(&[3]), Verdict::RetryLater);
        assert_eq!(iso.chunk_for(&[3, 4]), Some(1));
        assert_eq!(iso.failed(&[3]), Verdict::RetryLater);
        assert_eq!(iso.failed(&[3]), Verdict::Probe);
    }

    #[test]
    fn a_success_between_failures_starts_the_count_again() {
        let mut iso = Isolation::default();
        assert_eq!(iso.failed(&[1, 2]), Verdict::RetryLater);
        assert_eq!(iso.failed(&[1, 2]), Verdict::RetryLater);
        iso.succeeded(&[1, 2]);
        assert_eq!(iso.chunk_for(&[5, 6]), None);
        assert_eq!(iso.failed(&[5, 6]), Verdict::RetryLater);
    }

    #[test]
    fn outages_do_not_count() {
        let server = |status| SyncError::Server {
            status,
            code: String::new(),
            message: String::new(),
            retry_after_ms: None,
        };
        assert!(counts(&server(500)));
        assert!(counts(&SyncError::MalformedResponse("x".into())));
        for status in [429, 502, 503, 504] {
            assert!(!counts(&server(status)), "{status}");
        }
        assert!(!counts(&SyncError::Network("down".into())));
    }
}
