//! [`Live`]: the live channel's decisions (docs/SYNC_MANAGER.md, "Live sync"). The
//! leader tab holds one `GET /v1/events` stream (SSE) while auto sync runs online;
//! the server says `ready {seq}` and `changed {seq}` when the user's change stream
//! moved. A poke above what the last pull reached asks for a round; pokes that come
//! while one is due or running are one more round, not one each. A lost stream is
//! reopened with the loop's backoff policy; a server without the endpoint (404/405)
//! leaves polling for the rest of the session. A stream that stays silent (no byte,
//! not even the server's `: keepalive` comment) for [`Live::silence_limit_ms`] is
//! dead (a half-open connection): it is lost like any other, so the status leaves
//! `push` while it is reopened. [`Sse`] parses the stream's bytes.
//!
//! Like the scheduler it owns no timer and no connection: the browser opens and
//! closes the stream and arms the retry timer as the [`LiveAction`]s say.

use serde::{Deserialize, Serialize};

use crate::error::SyncError;
use crate::retry::{Backoff, NextStep, RetryPolicy};

/// Which mode the loop is in, shown as `status.live`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum LiveMode {
    /// The server pushes: another device's change is pulled when it happens.
    Push,
    /// Rounds run on the interval and the other triggers only.
    Polling,
    /// No automatic sync (offline, auto sync stopped, closed, not yet known).
    #[default]
    Off,
}

/// The channel's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveState {
    /// Not open (not wanted now, or `live: false`).
    Off,
    /// Opening: waiting for `ready`.
    Connecting,
    /// `ready` was heard: pokes arrive.
    Live,
    /// Lost or refused: reopen at this time (ms).
    Backoff {
        /// When to reopen.
        retry_at: u64,
    },
    /// The server has no channel (404/405, or not an event stream): polling only,
    /// for the rest of the session.
    Unavailable,
}

/// How the stream ended or was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveFailure {
    /// 404/405 or a 200 that is not `text/event-stream`: no channel on this server.
    Unavailable,
    /// A network error, another status, or the stream ended: try again later.
    Lost,
    /// Nothing arrived for [`Live::silence_limit_ms`] (no response, no byte): the
    /// connection is dead though nothing said so. Treated as [`LiveFailure::Lost`].
    Silent,
}

/// The server's keepalive interval until its `ready` says otherwise: the reference
/// server's default (docs/PROTOCOL.md, §8).
pub const DEFAULT_KEEPALIVE_MS: u64 = 15_000;

/// How many keepalive intervals of silence make a stream dead: one missed keepalive
/// may be a slow network, three are a dead connection.
pub const SILENT_KEEPALIVES: u64 = 3;

/// The least silence called dead, whatever the keepalive (a server announcing a very
/// short interval does not make a busy page reconnect over a late timer).
pub const MIN_SILENCE_MS: u64 = 1_000;

/// What the browser does for the channel, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveAction {
    /// Open a stream numbered `conn` (closing any other first).
    Open {
        /// Its number: events of another number are stale.
        conn: u64,
    },
    /// Close the stream and stop the retry timer.
    Close,
    /// Call [`Live::retry`] after this many ms.
    ArmTimer {
        /// The delay, ms.
        after_ms: u64,
    },
    /// Pull soon: the server's stream is ahead of the last pull.
    Pull,
}

/// The live channel's state machine (see the module docs).
#[derive(Clone, Debug)]
pub struct Live {
    enabled: bool,
    state: LiveState,
    conn: u64,
    backoff: Backoff,
    /// The highest seq a successful round is known to have pulled.
    pulled_to: u64,
    /// The highest seq heard.
    seen: u64,
    /// The seq heard when the running round's last pull request went out.
    covering: Option<u64>,
    /// The server's keepalive interval (its `ready` says it), ms.
    keepalive_ms: u64,
}

impl Live {
    /// A closed channel; `enabled`: the `live` option (and a protocol that has one).
    pub fn new(enabled: bool, retry: RetryPolicy) -> Live {
        Live {
            enabled,
            state: LiveState::Off,
            conn: 0,
            backoff: Backoff::new(retry),
            pulled_to: 0,
            seen: 0,
            covering: None,
            keepalive_ms: DEFAULT_KEEPALIVE_MS,
        }
    }

    /// How long the open stream may stay silent (waiting for the response, then
    /// between two chunks) before the browser gives it up with
    /// [`LiveFailure::Silent`]: [`SILENT_KEEPALIVES`] times the server's keepalive
    /// interval (the last `ready`'s, else [`DEFAULT_KEEPALIVE_MS`]), at least
    /// [`MIN_SILENCE_MS`].
    pub fn silence_limit_ms(&self) -> u64 {
        self.keepalive_ms
            .saturating_mul(SILENT_KEEPALIVES)
            .max(MIN_SILENCE_MS)
    }

    /// The state.
    pub fn state(&self) -> LiveState {
        self.state
    }

    /// The mode shown, when automatic sync `runs` (leader or not, online, auto on).
    pub fn mode(&self, runs: bool) -> LiveMode {
        match (runs, self.state) {
            (false, _) => LiveMode::Off,
            (true, LiveState::Live) => LiveMode::Push,
            (true, _) => LiveMode::Polling,
        }
    }

    /// Whether the channel should be open now: this tab leads, is open, online, and
    /// auto sync is on. Opens or closes it accordingly.
    pub fn want(&mut self, wanted: bool) -> Vec<LiveAction> {
        match (wanted && self.enabled, self.state) {
            (_, LiveState::Unavailable) => Vec::new(),
            (true, LiveState::Off) => self.open(),
            (true, _) => Vec::new(),
            (false, LiveState::Off) => Vec::new(),
            (false, _) => {
                self.state = LiveState::Off;
                self.backoff.on_success();
                vec![LiveAction::Close]
            }
        }
    }

    /// Online again, the page visible, new credentials: a waiting reopen happens now.
    pub fn hurry(&mut self) -> Vec<LiveAction> {
        match self.state {
            LiveState::Backoff { .. } => self.open(),
            _ => Vec::new(),
        }
    }

    /// The retry timer fired at `now`.
    pub fn retry(&mut self, now: u64) -> Vec<LiveAction> {
        match self.state {
            LiveState::Backoff { retry_at } if retry_at <= now => self.open(),
            LiveState::Backoff { retry_at } => vec![LiveAction::ArmTimer {
                after_ms: retry_at - now,
            }],
            _ => Vec::new(),
        }
    }

    /// Stream `conn` said `ready` with the stream's `seq` and the server's keepalive
    /// interval (`None`: not said, the default): live. A pull runs unless the last
    /// one reached `seq` (pokes may have been missed while closed).
    pub fn ready(&mut self, conn: u64, seq: u64, keepalive_ms: Option<u64>) -> Vec<LiveAction> {
        if conn != self.conn || self.state != LiveState::Connecting {
            return Vec::new();
        }
        self.keepalive_ms = keepalive_ms.unwrap_or(DEFAULT_KEEPALIVE_MS);
        self.state = LiveState::Live;
        self.backoff.on_success();
        if seq < self.pulled_to {
            self.pulled_to = 0; // another stream (the server's store was reset)
        }
        self.heard(seq)
    }

    /// Stream `conn` said `changed` with `seq`.
    pub fn changed(&mut self, conn: u64, seq: u64) -> Vec<LiveAction> {
        if conn != self.conn || self.state != LiveState::Live {
            return Vec::new();
        }
        self.heard(seq)
    }

    fn heard(&mut self, seq: u64) -> Vec<LiveAction> {
        self.seen = self.seen.max(seq);
        if seq > self.pulled_to || self.pulled_to == 0 {
            vec![LiveAction::Pull]
        } else {
            Vec::new()
        }
    }

    /// Stream `conn` failed at `now` (`random` for the backoff's jitter).
    pub fn failed(
        &mut self,
        conn: u64,
        now: u64,
        failure: LiveFailure,
        random: u64,
    ) -> Vec<LiveAction> {
        if conn != self.conn || matches!(self.state, LiveState::Off | LiveState::Unavailable) {
            return Vec::new();
        }
        if failure == LiveFailure::Unavailable {
            self.state = LiveState::Unavailable;
            return vec![LiveAction::Close];
        }
        let lost = SyncError::Network("the live channel was lost".into());
        let after_ms = match self.backoff.on_failure(&lost, random) {
            NextStep::RetryAfter(ms) => ms,
            NextStep::WaitForApp => self.backoff.ceiling_ms(),
        };
        self.state = LiveState::Backoff {
            retry_at: now.saturating_add(after_ms),
        };
        vec![LiveAction::Close, LiveAction::ArmTimer { after_ms }]
    }

    /// A pull request of the running round goes out: the pokes heard so far are
    /// covered by it (the server sent them after committing).
    pub fn pull_sent(&mut self) {
        self.covering = Some(self.seen);
    }

    /// The running round ended; a success reached what its last pull covered.
    pub fn round_ended(&mut self, ok: bool) {
        if let Some(seq) = self.covering.take().filter(|_| ok) {
            self.pulled_to = self.pulled_to.max(seq);
        }
    }

    fn open(&mut self) -> Vec<LiveAction> {
        self.conn += 1;
        self.state = LiveState::Connecting;
        vec![LiveAction::Open { conn: self.conn }]
    }
}

/// One event of the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SseEvent {
    /// `event: ready`, `data: {"seq":N,"keepalive":MS}` (`keepalive`: the server's
    /// interval, `None` when absent).
    Ready(u64, Option<u64>),
    /// `event: changed`, `data: {"seq":N}`.
    Changed(u64),
}

/// An incremental `text/event-stream` parser for the two events above (comments,
/// other events and fields, and data without a `"seq"` number are skipped). It works
/// on bytes and reads the number by hand: no UTF-8 or JSON machinery in the package.
#[derive(Clone, Debug, Default)]
pub struct Sse {
    line: Vec<u8>,
    event: Vec<u8>,
    data: Vec<u8>,
}

impl Sse {
    /// Feeds a chunk of the body; returns the events it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        for &byte in chunk {
            if byte != b'\n' {
                self.line.push(byte);
                continue;
            }
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.is_empty() {
                let event = std::mem::take(&mut self.event);
                let data = std::mem::take(&mut self.data);
                match (event.as_slice(), number_of(&data, b"\"seq\"")) {
                    (b"ready", Some(seq)) => {
                        events.push(SseEvent::Ready(seq, number_of(&data, b"\"keepalive\"")))
                    }
                    (b"changed", Some(seq)) => events.push(SseEvent::Changed(seq)),
                    _ => {}
                }
                continue;
            }
            let colon = line.iter().position(|&b| b == b':').unwrap_or(line.len());
            let (field, value) = line.split_at(colon);
            let value = value.get(1..).unwrap_or_default();
            let value = value.strip_prefix(b" ").unwrap_or(value);
            match field {
                b"event" => self.event = value.to_vec(),
                b"data" => {
                    if !self.data.is_empty() {
                        self.data.push(b'\n'); // data lines join with a newline
                    }
                    self.data.extend_from_slice(value);
                }
                _ => {}
            }
        }
        events
    }
}

/// The number after `key` (quoted) and its colon in a JSON object's text.
fn number_of(data: &[u8], key: &[u8]) -> Option<u64> {
    let at = data.windows(key.len()).position(|w| w == key)?;
    let rest = &data[at + key.len()..];
    let rest = rest
        .trim_ascii_start()
        .strip_prefix(b":")?
        .trim_ascii_start();
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    rest[..digits].iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
