//! In-memory implementations of every port, for tests and the simulation, plus a tiny
//! executor: in-memory ports never truly pend, so a future can be polled to the end.

mod clock;
mod server;
mod storage;
mod transport;

pub use clock::ManualClock;
pub use server::{MemoryServer, MemoryServerTx, UserData};
pub use storage::{MemoryData, MemoryStorage};
pub use transport::{serve, LoopbackTransport};

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Runs a future to completion by polling it. Panics if it pends 10,000 times in a
/// row (an in-memory port never should).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..10_000 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
    panic!("block_on: the future never completed (an in-memory port pended)");
}
