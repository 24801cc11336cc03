//! [`FetchTransport`]: the core's `Transport` port over `fetch` (gloo-net), with the
//! app's credentials: a bearer token from `getToken()` (cached; asked for once more
//! after a 401, see `refresh_credentials`) or a fixed API key. After `close()`, and
//! while its tab does not lead (I7), it sends nothing, and it drops a response that
//! comes back after its tab was robbed of the lead, so the engine never applies it.
//! With `options.protocol` other than v1 it performs the HTTP of core's adapter
//! (docs/ADAPTERS.md): every translation is core's, this file only sends.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

#[cfg(feature = "adapters")]
use gloo_net::http::Method;
use gloo_net::http::RequestBuilder;
#[cfg(feature = "adapters")]
use idb_sync_core::adapters::{
    send_through, Adapter, HttpMethod, HttpPort, HttpRequest, HttpResponse,
};
#[cfg(feature = "adapters")]
use idb_sync_core::options::ProtocolOption;
use idb_sync_core::ports::{Transport, TransportRequest, TransportResponse};
use idb_sync_core::SyncError as CoreError;
use js_sys::{Function, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

#[cfg(feature = "adapters")]
use super::custom::CustomFunctions;
use super::error::message_of;
use super::options::AuthOption;
use crate::error::OrNetwork;

/// Credentials, shared by the transport and the manager (`refreshAuth()`).
pub(crate) struct Credentials {
    option: AuthOption,
    token: RefCell<Option<String>>,
}

impl Credentials {
    pub(crate) fn new(option: AuthOption) -> Self {
        Credentials {
            option,
            token: RefCell::new(None),
        }
    }

    /// Forgets the cached token: the next request asks `getToken()` again.
    pub(crate) fn forget(&self) {
        self.token.borrow_mut().take();
    }

    /// The bearer token a request would carry now, without asking `getToken()` (a
    /// page that hides cannot wait for it): `None` when it would have to be asked for,
    /// `Some(None)` without auth.
    pub(crate) fn cached(&self) -> Option<Option<String>> {
        match &self.option {
            AuthOption::None => Some(None),
            AuthOption::ApiKey(key) => Some(Some(key.clone())),
            AuthOption::GetToken(_) => self.token.borrow().clone().map(Some),
        }
    }

    /// The bearer token, asking `getToken()` when none is cached (or `fresh`).
    pub(crate) async fn bearer(&self, fresh: bool) -> Result<Option<String>, CoreError> {
        let get_token = match &self.option {
            AuthOption::None => return Ok(None),
            AuthOption::ApiKey(key) => return Ok(Some(key.clone())),
            AuthOption::GetToken(f) => f.clone(),
        };
        if !fresh {
            if let Some(token) = self.token.borrow().clone() {
                return Ok(Some(token));
            }
        }
        let token = call_get_token(&get_token).await?;
        *self.token.borrow_mut() = Some(token.clone());
        Ok(Some(token))
    }
}

async fn call_get_token(get_token: &Function) -> Result<String, CoreError> {
    let failed = |e: &JsValue| CoreError::Auth(format!("getToken() failed: {}", message_of(e)));
    let value = get_token
        .call0(&JsValue::UNDEFINED)
        .map_err(|e| failed(&e))?;
    let value = match value.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise).await.map_err(|e| failed(&e))?,
        Err(value) => value,
    };
    value
        .as_string()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| CoreError::Auth("getToken() did not return a non-empty string".into()))
}

/// Protocol v1 (or an adapter's HTTP) over `fetch`.
pub(crate) struct FetchTransport {
    base: String,
    credentials: Rc<Credentials>,
    closed: Rc<Cell<bool>>,
    leading: Rc<Cell<bool>>,
    /// `protocol: { kind: 'custom' }`: the app's functions instead of `fetch`.
    #[cfg(feature = "adapters")]
    custom: Option<CustomFunctions>,
    /// The seed adapter `options.protocol` chose (only in the `adapters` build).
    #[cfg(feature = "adapters")]
    adapter: Option<Adapter>,
}

impl FetchTransport {
    /// `closed` is set by `close()`; `leading` says whether this tab runs the loop;
    /// in the `adapters` build, the validated `options.protocol` and `custom`'s
    /// functions.
    pub(crate) fn new(
        base: String,
        credentials: Rc<Credentials>,
        closed: Rc<Cell<bool>>,
        leading: Rc<Cell<bool>>,
        #[cfg(feature = "adapters")] (protocol, custom): (ProtocolOption, Option<CustomFunctions>),
    ) -> Self {
        FetchTransport {
            base,
            credentials,
            closed,
            leading,
            #[cfg(feature = "adapters")]
            custom,
            #[cfg(feature = "adapters")]
            adapter: Adapter::for_protocol(&protocol),
        }
    }

    /// Whether it speaks protocol v1 itself (not an adapter nor the app's functions):
    /// what a keepalive push needs (`super::after_close`).
    pub(crate) fn speaks_v1(&self) -> bool {
        #[cfg(feature = "adapters")]
        if self.adapter.is_some() || self.custom.is_some() {
            return false;
        }
        true
    }

    /// Refuses to go on after `close()` or once another tab leads.
    fn may_send(&self) -> Result<(), CoreError> {
        if self.closed.get() {
            return Err(CoreError::Closed("the sync manager is closed".into()));
        }
        if !self.leading.get() {
            return Err(CoreError::NotLeader(
                "another tab runs the sync loop now".into(),
            ));
        }
        Ok(())
    }
}

impl FetchTransport {
    /// Sends one request to `path` (under the endpoint), built by `build` from the
    /// URL, with the bearer token added: refused after `close()`, while another tab
    /// leads (also when the answer comes back) and while the browser is offline.
    async fn exchange(
        &self,
        path: &str,
        build: impl FnOnce(&str) -> RequestBuilder,
        body: Option<String>,
    ) -> Result<TransportResponse, CoreError> {
        self.may_send()?;
        let token = self.credentials.bearer(false).await?;
        self.may_send()?;
        if !super::triggers::is_online() {
            return Err(CoreError::Network("the browser is offline".into()));
        }
        let mut builder = build(&format!("{}{}", self.base, path));
        if let Some(token) = token {
            builder = builder.header("Authorization", &format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => builder.body(body),
            None => builder.build(),
        };
        let response = request.or_network()?.send().await.or_network()?;
        let status = response.status();
        let retry_after = response.headers().get("retry-after");
        let retry_after_ms = TransportResponse::retry_after_header_ms(retry_after.as_deref());
        let body = response.text().await.or_network()?;
        // Robbed of the lead while waiting: the new leader resends (I2, I3) and pulls.
        self.may_send()?;
        Ok(TransportResponse {
            status,
            retry_after_ms,
            body,
        })
    }
}

/// The adapters' HTTP (only in the `adapters` build): any method, their headers.
#[cfg(feature = "adapters")]
impl HttpPort for FetchTransport {
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, CoreError> {
        let method = match request.method {
            HttpMethod::Get => Method::GET,
            HttpMethod::Post => Method::POST,
            HttpMethod::Put => Method::PUT,
            HttpMethod::Delete => Method::DELETE,
        };
        let headers = request.headers;
        let build = |url: &str| {
            headers.iter().fold(
                RequestBuilder::new(url).method(method),
                |b, (name, value)| b.header(name, value),
            )
        };
        let answer = self.exchange(&request.path, build, request.body).await?;
        Ok(HttpResponse {
            status: answer.status,
            retry_after_ms: answer.retry_after_ms,
            body: answer.body,
        })
    }
}

impl Transport for FetchTransport {
    async fn send(&self, request: TransportRequest) -> Result<TransportResponse, CoreError> {
        #[cfg(feature = "adapters")]
        if let Some(adapter) = &self.adapter {
            return send_through(self, adapter, request).await;
        }
        #[cfg(feature = "adapters")]
        if let Some(custom) = &self.custom {
            // Not after close() nor while another tab leads (I7), and an answer that
            // comes back after the lead was lost is dropped, as for fetch.
            self.may_send()?;
            let answer = custom.send(request).await;
            self.may_send()?;
            return answer;
        }
        let post = |url: &str| {
            gloo_net::http::Request::post(url).header("Content-Type", "application/json")
        };
        self.exchange(request.endpoint.path(), post, Some(request.body))
            .await
    }

    async fn refresh_credentials(&self) -> bool {
        if self.may_send().is_err() || !matches!(self.credentials.option, AuthOption::GetToken(_)) {
            return false;
        }
        self.credentials.bearer(true).await.is_ok()
    }
}
