//! [`LiveStream`]: the live channel's stream in the browser — `GET {endpoint}/v1/events`
//! with `fetch` (an `EventSource` cannot send `Authorization`), its body read chunk by
//! chunk and parsed by core's [`Sse`]; its events and its end go to the tab machine
//! (`Tabs::live_ready`, `live_changed`, `live_failed`), which decides everything.
//! Waiting for the response and for each chunk races a timer of core's
//! `Live::silence_limit_ms` (a half-open connection never ends by itself).
//! Dropping the handle aborts the request.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::{Rc, Weak};
use std::task::Poll;

use gloo_timers::future::TimeoutFuture;

use idb_sync_core::sync_loop::{LiveFailure, Sse, SseEvent};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{AbortController, ReadableStreamDefaultReader};

use super::clock::{now_ms, random_u64};
use super::inner::Inner;
use super::wiring::with;

/// An open stream; aborted on drop.
pub(crate) struct LiveStream(Option<AbortController>);

impl Drop for LiveStream {
    fn drop(&mut self) {
        if let Some(abort) = &self.0 {
            abort.abort();
        }
    }
}

/// Opens stream `conn` for `inner`.
pub(crate) fn open(inner: &Rc<Inner>, conn: u64) -> LiveStream {
    let abort = AbortController::new().ok();
    let signal = abort.as_ref().map(AbortController::signal);
    let weak = Rc::downgrade(inner);
    spawn_local(async move {
        let failure = read(&weak, conn, signal).await;
        with(&weak, |i| {
            i.input(|t| t.live_failed(conn, failure, now_ms(), random_u64()))
        });
    });
    LiveStream(abort)
}

/// `future`'s output, or `None` if the stream's silence limit passes first.
async fn or_silent<T>(weak: &Weak<Inner>, future: impl Future<Output = T>) -> Option<T> {
    let limit = weak
        .upgrade()
        .map_or(0, |i| i.tabs.borrow().live().silence_limit_ms());
    let mut future = pin!(future);
    let mut timer = pin!(TimeoutFuture::new(limit.min(u32::MAX.into()) as u32));
    poll_fn(|cx| match future.as_mut().poll(cx) {
        Poll::Ready(out) => Poll::Ready(Some(out)),
        Poll::Pending => timer.as_mut().poll(cx).map(|()| None),
    })
    .await
}

/// Reads the stream until it ends; says how.
async fn read(weak: &Weak<Inner>, conn: u64, signal: Option<web_sys::AbortSignal>) -> LiveFailure {
    let Some((url, credentials)) = weak
        .upgrade()
        .map(|i| (i.live_url.clone(), i.credentials.clone()))
    else {
        return LiveFailure::Lost;
    };
    let Ok(token) = credentials.bearer(false).await else {
        return LiveFailure::Lost;
    };
    let mut request = gloo_net::http::Request::get(&url).abort_signal(signal.as_ref());
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let Some(sent) = or_silent(weak, request.send()).await else {
        return LiveFailure::Silent;
    };
    let Ok(response) = sent else {
        return LiveFailure::Lost;
    };
    let stream = response
        .headers()
        .get("content-type")
        .is_some_and(|t| t.starts_with("text/event-stream"));
    match response.status() {
        404 | 405 => return LiveFailure::Unavailable,
        200 if !stream => return LiveFailure::Unavailable,
        200 => {}
        _ => return LiveFailure::Lost,
    }
    let Some(reader) = response.body().and_then(|b| {
        b.get_reader()
            .dyn_into::<ReadableStreamDefaultReader>()
            .ok()
    }) else {
        return LiveFailure::Lost;
    };
    let mut sse = Sse::default();
    loop {
        let Some(read) = or_silent(weak, JsFuture::from(reader.read())).await else {
            return LiveFailure::Silent;
        };
        let Ok(chunk) = read else {
            return LiveFailure::Lost;
        };
        let value = js_sys::Reflect::get(&chunk, &"value".into()).unwrap_or_default();
        let Some(bytes) = value.dyn_ref::<js_sys::Uint8Array>() else {
            return LiveFailure::Lost; // done
        };
        for event in sse.feed(&bytes.to_vec()) {
            let now = now_ms();
            let Some(inner) = weak.upgrade() else {
                return LiveFailure::Lost;
            };
            inner.input(|t| match event {
                SseEvent::Ready(seq, keepalive) => t.live_ready(conn, seq, keepalive, now),
                SseEvent::Changed(seq) => t.live_changed(conn, seq, now),
            });
        }
    }
}
