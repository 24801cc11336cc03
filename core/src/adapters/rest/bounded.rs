//! Bounded concurrency for adapters that make one request per item (the rest
//! adapter): at most `limit` of the jobs run at once, without an executor crate (the
//! package stays small and runs on the browser's single thread).

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;

/// One job: a boxed future borrowing the adapter and its HTTP port.
pub type Job<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Runs `jobs` with at most `limit` (at least 1) polled at once, starting them in
/// order; answers their outputs in the jobs' order. After an output for which `stop`
/// is true, no further job is started (those already running finish): their slots
/// stay `None`.
pub async fn run_bounded<'a, T>(
    jobs: Vec<Job<'a, T>>,
    limit: usize,
    stop: impl Fn(&T) -> bool,
) -> Vec<Option<T>> {
    let limit = limit.max(1);
    let mut out: Vec<Option<T>> = jobs.iter().map(|_| None).collect();
    let mut waiting: VecDeque<(usize, Job<'a, T>)> = jobs.into_iter().enumerate().collect();
    let mut running: Vec<(usize, Job<'a, T>)> = Vec::new();
    let mut stopped = false;
    poll_fn(|cx| loop {
        while !stopped && running.len() < limit {
            match waiting.pop_front() {
                Some(job) => running.push(job),
                None => break,
            }
        }
        let mut finished = false;
        let mut i = 0;
        while i < running.len() {
            if let Poll::Ready(value) = running[i].1.as_mut().poll(cx) {
                let (index, _) = running.remove(i);
                stopped |= stop(&value);
                out[index] = Some(value);
                finished = true;
            } else {
                i += 1;
            }
        }
        if running.is_empty() && (stopped || waiting.is_empty()) {
            return Poll::Ready(());
        }
        if !finished {
            return Poll::Pending;
        }
    })
    .await;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::block_on;
    use std::cell::{Cell, RefCell};

    /// A future that is pending once (waking itself), then ready.
    fn yield_once() -> impl Future<Output = ()> {
        let mut yielded = false;
        poll_fn(move |cx| {
            if yielded {
                Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
    }

    #[test]
    fn never_more_than_the_limit_run_and_outputs_keep_the_order() {
        let running = Cell::new(0);
        let most = Cell::new(0);
        let jobs: Vec<Job<'_, usize>> = (0..10_usize)
            .map(|i| {
                let (running, most) = (&running, &most);
                Box::pin(async move {
                    running.set(running.get() + 1);
                    most.set(most.get().max(running.get()));
                    for _ in 0..(10 - i) {
                        yield_once().await;
                    }
                    running.set(running.get() - 1);
                    i * 2
                }) as Job<'_, usize>
            })
            .collect();
        let out = block_on(run_bounded(jobs, 3, |_| false));
        assert_eq!(most.get(), 3);
        let expected: Vec<Option<usize>> = (0..10).map(|i| Some(i * 2)).collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn after_a_stop_nothing_new_starts_and_the_running_finish() {
        let started = RefCell::new(Vec::new());
        let jobs: Vec<Job<'_, usize>> = (0..6_usize)
            .map(|i| {
                let started = &started;
                Box::pin(async move {
                    started.borrow_mut().push(i);
                    if i != 0 {
                        yield_once().await;
                    }
                    i
                }) as Job<'_, usize>
            })
            .collect();
        let out = block_on(run_bounded(jobs, 2, |v| *v == 0));
        assert_eq!(*started.borrow(), vec![0, 1]);
        assert_eq!(out, vec![Some(0), Some(1), None, None, None, None]);
    }
}
