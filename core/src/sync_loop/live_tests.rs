//! Native tests of [`Live`] (every transition) and of the [`Sse`] parser.

use super::*;

const POLICY: RetryPolicy = RetryPolicy {
    base_ms: 1_000,
    cap_ms: 60_000,
};

fn live() -> Live {
    Live::new(true, POLICY)
}

/// A channel opened (stream 1) and ready at `seq`.
fn ready_at(seq: u64) -> Live {
    let mut l = live();
    assert_eq!(l.want(true), vec![LiveAction::Open { conn: 1 }]);
    assert_eq!(l.state(), LiveState::Connecting);
    l.ready(1, seq, None);
    l
}

#[test]
fn it_opens_only_when_wanted_and_enabled() {
    let mut off = Live::new(false, POLICY);
    assert_eq!(off.want(true), vec![]);
    assert_eq!(off.state(), LiveState::Off);
    assert_eq!(off.mode(true), LiveMode::Polling, "live: false polls");
    let mut l = live();
    assert_eq!(l.want(false), vec![]);
    assert_eq!(l.want(true), vec![LiveAction::Open { conn: 1 }]);
    assert_eq!(l.want(true), vec![], "already opening: not twice");
    assert_eq!(l.want(false), vec![LiveAction::Close]);
    assert_eq!(l.state(), LiveState::Off);
    assert_eq!(l.want(true), vec![LiveAction::Open { conn: 2 }]);
}

#[test]
fn ready_goes_live_and_pulls_what_may_have_been_missed() {
    let mut l = live();
    l.want(true);
    assert_eq!(
        l.mode(true),
        LiveMode::Polling,
        "connecting is not push yet"
    );
    assert_eq!(l.ready(1, 7, None), vec![LiveAction::Pull]);
    assert_eq!(l.state(), LiveState::Live);
    assert_eq!(l.mode(true), LiveMode::Push);
    assert_eq!(l.mode(false), LiveMode::Off);
}

#[test]
fn a_poke_above_the_last_pull_pulls_and_one_at_or_below_does_not() {
    let mut l = ready_at(5);
    // A round pulls after hearing 5: it reaches 5.
    l.pull_sent();
    l.round_ended(true);
    assert_eq!(l.changed(1, 5), vec![], "already pulled");
    assert_eq!(l.changed(1, 4), vec![], "older");
    assert_eq!(l.changed(1, 6), vec![LiveAction::Pull]);
}

#[test]
fn a_poke_heard_after_the_last_pull_went_out_is_not_covered_by_it() {
    let mut l = ready_at(1);
    l.pull_sent(); // covers 1
    assert_eq!(l.changed(1, 2), vec![LiveAction::Pull]);
    l.round_ended(true);
    assert_eq!(
        l.changed(1, 2),
        vec![LiveAction::Pull],
        "2 came after the pull"
    );
    // A failed round reaches nothing.
    l.pull_sent();
    l.round_ended(false);
    assert_eq!(l.changed(1, 2), vec![LiveAction::Pull]);
    // A round with no pull request reaches nothing either.
    l.round_ended(true);
    assert_eq!(l.changed(1, 2), vec![LiveAction::Pull]);
}

#[test]
fn a_lost_stream_backs_off_with_the_policy_and_reopens() {
    let mut l = ready_at(1);
    // random 500 under a ceiling of 1000: 500 ms.
    assert_eq!(
        l.failed(1, 10_000, LiveFailure::Lost, 500),
        vec![LiveAction::Close, LiveAction::ArmTimer { after_ms: 500 }]
    );
    assert_eq!(l.state(), LiveState::Backoff { retry_at: 10_500 });
    assert_eq!(l.mode(true), LiveMode::Polling);
    assert_eq!(l.want(true), vec![], "wanted, but waiting");
    assert_eq!(
        l.retry(10_200),
        vec![LiveAction::ArmTimer { after_ms: 300 }]
    );
    assert_eq!(l.retry(10_500), vec![LiveAction::Open { conn: 2 }]);
    // Fails again before ready: the ceiling doubled (random 1999 % 2001).
    assert_eq!(
        l.failed(2, 20_000, LiveFailure::Lost, 1_999),
        vec![LiveAction::Close, LiveAction::ArmTimer { after_ms: 1_999 }]
    );
    assert_eq!(l.retry(21_999), vec![LiveAction::Open { conn: 3 }]);
    // Ready resets the backoff: the next loss starts from the base again.
    l.ready(3, 1, None);
    assert_eq!(
        l.failed(3, 30_000, LiveFailure::Lost, u64::MAX),
        vec![
            LiveAction::Close,
            LiveAction::ArmTimer {
                after_ms: u64::MAX % 1_001
            }
        ]
    );
}

#[test]
fn online_visible_or_new_credentials_reopen_a_waiting_channel_now() {
    let mut l = ready_at(1);
    l.failed(1, 0, LiveFailure::Lost, 999);
    assert_eq!(l.hurry(), vec![LiveAction::Open { conn: 2 }]);
    assert_eq!(l.hurry(), vec![], "already opening");
}

#[test]
fn a_server_without_the_channel_leaves_polling_for_the_session() {
    let mut l = live();
    l.want(true);
    assert_eq!(
        l.failed(1, 0, LiveFailure::Unavailable, 0),
        vec![LiveAction::Close]
    );
    assert_eq!(l.state(), LiveState::Unavailable);
    assert_eq!(l.mode(true), LiveMode::Polling);
    assert_eq!(l.want(false), vec![]);
    assert_eq!(l.want(true), vec![], "never again this session");
    assert_eq!(l.hurry(), vec![]);
    assert_eq!(l.retry(u64::MAX), vec![]);
}

#[test]
fn events_of_an_old_stream_change_nothing() {
    let mut l = ready_at(1);
    l.want(false);
    l.want(true); // stream 2
    assert_eq!(l.ready(1, 9, None), vec![], "stream 1 is gone");
    assert_eq!(l.failed(1, 0, LiveFailure::Unavailable, 0), vec![]);
    assert_eq!(l.state(), LiveState::Connecting);
    assert_eq!(l.changed(2, 9), vec![], "no poke before ready");
    l.ready(2, 9, None);
    assert_eq!(l.changed(1, 10), vec![]);
    // Closed: a late failure of the closed stream arms nothing.
    l.want(false);
    assert_eq!(l.failed(2, 0, LiveFailure::Lost, 0), vec![]);
    assert_eq!(l.state(), LiveState::Off);
}

#[test]
fn a_stream_that_went_backwards_is_pulled_again() {
    let mut l = ready_at(9);
    l.pull_sent();
    l.round_ended(true);
    l.failed(1, 0, LiveFailure::Lost, 0);
    l.retry(0);
    assert_eq!(
        l.ready(2, 3, None),
        vec![LiveAction::Pull],
        "a reset server store"
    );
}

#[test]
fn the_parser_reads_events_across_chunks_and_skips_the_rest() {
    let mut sse = Sse::default();
    assert_eq!(sse.feed(b"event: ready\ndata: {\"seq\":3}\n"), vec![]);
    assert_eq!(sse.feed(b"\n"), vec![SseEvent::Ready(3, None)]);
    let body = b": keepalive\n\nevent: changed\r\ndata:{\"seq\":4}\r\n\r\nevent: other\ndata: {\"seq\":5}\n\nevent: changed\ndata: nope\n\nid: 1\nevent: chan";
    assert_eq!(sse.feed(body), vec![SseEvent::Changed(4)]);
    assert_eq!(sse.feed(b"ged\ndata: {\"seq\":\n"), vec![], "split field");
    assert_eq!(
        sse.feed(b"data: 6}\n\n"),
        vec![SseEvent::Changed(6)],
        "data lines join with a newline"
    );
}

#[test]
fn the_seq_is_read_from_the_json_with_spaces_and_other_fields() {
    let mut sse = Sse::default();
    let body = b"event: changed\ndata: { \"at\": 1, \"seq\" : 12 }\n\nevent: changed\ndata: {\"seq\":-1}\n\nevent: changed\ndata: {\"seq\":99999999999999999999}\n\nevent: ready\ndata: {\"seq\":\"7\"}\n\n";
    assert_eq!(
        sse.feed(body),
        vec![SseEvent::Changed(12)],
        "negative, overflowing and quoted are skipped"
    );
}

#[test]
fn the_ready_event_says_the_servers_keepalive() {
    let mut sse = Sse::default();
    let body = b"event: ready\ndata: {\"seq\":3,\"keepalive\":200}\n\nevent: ready\ndata: {\"keepalive\": 5, \"seq\": 4}\n\n";
    assert_eq!(
        sse.feed(body),
        vec![SseEvent::Ready(3, Some(200)), SseEvent::Ready(4, Some(5))]
    );
}

#[test]
fn silence_past_three_keepalives_is_a_lost_stream() {
    let mut l = live();
    assert_eq!(
        l.silence_limit_ms(),
        3 * DEFAULT_KEEPALIVE_MS,
        "before any ready: the reference server's interval"
    );
    l.want(true);
    l.ready(1, 1, Some(20_000));
    assert_eq!(l.silence_limit_ms(), 60_000, "the server's own interval");
    assert_eq!(l.mode(true), LiveMode::Push);
    // Nothing for that long: the stream is dead though it never ended. The status
    // leaves push while it waits to reopen, as for any lost stream.
    assert_eq!(
        l.failed(1, 100_000, LiveFailure::Silent, 500),
        vec![LiveAction::Close, LiveAction::ArmTimer { after_ms: 500 }]
    );
    assert_eq!(l.state(), LiveState::Backoff { retry_at: 100_500 });
    assert_eq!(l.mode(true), LiveMode::Polling);
    assert_eq!(l.retry(100_500), vec![LiveAction::Open { conn: 2 }]);
    // A server that announces nothing: the default again; a tiny interval is floored.
    l.ready(2, 1, None);
    assert_eq!(l.silence_limit_ms(), 3 * DEFAULT_KEEPALIVE_MS);
    l.failed(2, 0, LiveFailure::Silent, 0);
    l.retry(u64::MAX);
    l.ready(3, 1, Some(10));
    assert_eq!(l.silence_limit_ms(), MIN_SILENCE_MS);
}
