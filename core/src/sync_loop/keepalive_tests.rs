//! Native tests of [`keepalive_body`] (what fits the keepalive budget) and of
//! [`Keepalive`] (when a body leaves).

use super::*;
use crate::hlc::Hlc;
use crate::key::RecordId;
use crate::protocol::{MergeMode, PushRequest};
use crate::record::Op;

fn op(seq: u64, text: &str) -> InFlightOp {
    let mut record = crate::Record::new();
    record.insert("t".into(), serde_json::Value::String(text.into()));
    InFlightOp {
        id: RecordId::new("tasks", format!("k{seq}").as_str()),
        op: Op::Create { record },
        seq,
        base_version: 0,
        hlc: Hlc::zero("c"),
        mode: MergeMode::FieldMerge,
        since_ms: 0,
        attempts: 1,
    }
}

fn meta() -> ClientMeta {
    let mut meta = ClientMeta::new("client-1");
    meta.account = Some("user-7".into());
    meta
}

fn decode(body: &str) -> PushRequest {
    serde_json::from_str(body).expect("a v1 push request")
}

#[test]
fn a_small_batch_leaves_whole_as_the_next_rounds_push() {
    let batch = vec![op(4, "a"), op(5, "b")];
    let body = keepalive_body(&batch, &meta(), KEEPALIVE_BODY_BYTES).unwrap();
    let request = decode(&body);
    assert_eq!(request.protocol_version, 1);
    assert_eq!(request.client_id, "client-1");
    assert_eq!(
        request.account.as_deref(),
        Some("user-7"),
        "I10: it names the account"
    );
    let expected: Vec<_> = batch.iter().map(InFlightOp::to_mutation).collect();
    assert_eq!(
        request.mutations, expected,
        "same seqs, same order, same content"
    );
}

#[test]
fn the_longest_prefix_that_fits_leaves_counted_in_utf8_bytes() {
    // Three-byte characters: counting chars instead of bytes would overshoot.
    let batch: Vec<_> = (1..=40).map(|s| op(s, &"€".repeat(1_000))).collect();
    let budget = 10_000;
    let body = keepalive_body(&batch, &meta(), budget).unwrap();
    assert!(body.len() <= budget, "{} bytes > {budget}", body.len());
    let sent = decode(&body).mutations.len();
    assert!(sent >= 2, "a few fit: {sent}");
    let one_more = keepalive_body(&batch[..sent + 1], &meta(), usize::MAX).unwrap();
    assert!(one_more.len() > budget, "the next entry would not have fit");
    assert_eq!(
        decode(&body).mutations[sent - 1].seq,
        sent as u64,
        "a prefix"
    );
    // Exactly at the limit still fits.
    let exact = keepalive_body(&batch[..sent], &meta(), body.len()).unwrap();
    assert_eq!(exact, body);
}

#[test]
fn nothing_leaves_when_nothing_fits_or_nothing_waits() {
    let big = vec![op(1, &"x".repeat(KEEPALIVE_BODY_BYTES)), op(2, "small")];
    assert_eq!(
        keepalive_body(&big, &meta(), KEEPALIVE_BODY_BYTES),
        None,
        "an entry over the budget is not sent, nor anything after it (a prefix)"
    );
    assert_eq!(keepalive_body(&[], &meta(), KEEPALIVE_BODY_BYTES), None);
}

#[test]
fn a_body_leaves_once_and_only_from_the_running_loop_holding_credentials() {
    let mut k = Keepalive::default();
    assert_eq!(k.hide(true, true), None, "nothing read yet");
    assert!(k.touched());
    assert!(!k.read(Some("b1".into())));
    assert_eq!(
        k.hide(false, true),
        None,
        "a follower (or auto sync stopped) sends nothing"
    );
    assert_eq!(k.hide(true, false), None, "no cached token: nothing");
    assert_eq!(k.hide(true, true).as_deref(), Some("b1"));
    assert_eq!(k.hide(true, true), None, "pagehide after hidden: not twice");
    assert!(k.touched());
    assert!(!k.read(Some("b1".into())));
    assert_eq!(k.hide(true, true), None, "the same body again: still sent");
    assert!(k.touched());
    assert!(!k.read(Some("b2".into())));
    assert_eq!(
        k.hide(true, true).as_deref(),
        Some("b2"),
        "a new body leaves"
    );
    assert!(k.touched());
    assert!(!k.read(None));
    assert_eq!(
        k.body(),
        None,
        "an empty outbox (or a failed read) keeps no old body"
    );
    assert_eq!(k.hide(true, true), None);
}

#[test]
fn changes_during_a_read_ask_for_one_more_read() {
    let mut k = Keepalive::default();
    assert!(k.touched());
    assert!(!k.touched(), "a read runs: not two at once");
    assert!(!k.touched());
    assert!(k.read(Some("old".into())), "changed meanwhile: read again");
    assert!(!k.touched(), "the second read runs");
    assert!(k.read(Some("new".into())));
    assert!(
        !k.read(Some("newer".into())),
        "no change during the last read"
    );
    assert_eq!(k.body(), Some("newer"));
    assert!(k.touched(), "idle again");
}

#[test]
fn a_skipped_read_keeps_the_body_and_the_next_change_reads_again() {
    let mut k = Keepalive::default();
    assert!(k.touched());
    assert!(!k.read(Some("b1".into())));
    assert!(k.touched(), "hidden: a change comes");
    assert!(!k.touched());
    k.skipped();
    assert_eq!(k.body(), Some("b1"), "kept for the hide");
    assert_eq!(k.hide(true, true).as_deref(), Some("b1"));
    assert!(k.touched(), "shown again: a read starts");
}
