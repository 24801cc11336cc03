//! [`ProgressTransport`]: a [`Transport`] decorator that reports a round's progress
//! ([`RoundProgress`]) from the requests and answers it carries, so the engine needs
//! no progress hook. Counting reads only the array lengths of the JSON bodies.

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::status::RoundProgress;
use crate::error::SyncError;
use crate::ports::{Transport, TransportRequest, TransportResponse};
use crate::protocol::Endpoint;

/// Wraps a transport; calls `on_progress` before each request and after each 2xx
/// answer. The callback runs synchronously inside `send` (not across an await).
pub struct ProgressTransport<T, F> {
    inner: T,
    on_progress: F,
}

impl<T, F: Fn(RoundProgress)> ProgressTransport<T, F> {
    /// Wraps `inner`.
    pub fn new(inner: T, on_progress: F) -> Self {
        ProgressTransport { inner, on_progress }
    }

    /// The wrapped transport.
    pub fn inner(&self) -> &T {
        &self.inner
    }
}

#[derive(Deserialize)]
struct Mutations {
    #[serde(default)]
    mutations: Vec<IgnoredAny>,
}

#[derive(Deserialize)]
struct Results {
    #[serde(default)]
    results: Vec<IgnoredAny>,
}

#[derive(Deserialize)]
struct Changes {
    #[serde(default)]
    changes: Vec<IgnoredAny>,
}

fn count<D: for<'de> Deserialize<'de>>(body: &str, len: impl Fn(D) -> usize) -> usize {
    serde_json::from_str::<D>(body).map(len).unwrap_or(0)
}

impl<T: Transport, F: Fn(RoundProgress)> Transport for ProgressTransport<T, F> {
    async fn send(&self, request: TransportRequest) -> Result<TransportResponse, SyncError> {
        let endpoint = request.endpoint;
        (self.on_progress)(match endpoint {
            Endpoint::Push => RoundProgress::Pushing {
                mutations: count(&request.body, |m: Mutations| m.mutations.len()),
            },
            Endpoint::Pull => RoundProgress::Pulling,
        });
        let response = self.inner.send(request).await?;
        if (200..300).contains(&response.status) {
            (self.on_progress)(match endpoint {
                Endpoint::Push => RoundProgress::Pushed {
                    results: count(&response.body, |r: Results| r.results.len()),
                },
                Endpoint::Pull => RoundProgress::Pulled {
                    changes: count(&response.body, |c: Changes| c.changes.len()),
                },
            });
        }
        Ok(response)
    }

    async fn refresh_credentials(&self) -> bool {
        self.inner.refresh_credentials().await
    }
}
