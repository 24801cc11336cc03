//! [`FetchTransport`]: the core's `Transport` port over `fetch` (gloo-net), with the
//! app's credentials: a bearer token from `getToken()` (cached; asked for once more
//! after a 401, see `refresh_credentials`) or a fixed API key. After `close()`, and
//! while its tab does not lead (I7), it sends nothing, and it drops a response that
//! comes back after its tab was robbed of the lead, so the engine never applies it.
//! With `options.protocol` other than v1 it performs the HTTP of core's adapter
//! (docs/ADAPTERS.md): every translation is core's, this file only sends.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_net::http::{Method, RequestBuilder};
#[cfg(feature = "adapters")]
use idb_sync_core::adapters::{send_through, Adapter};
use idb_sync_core::adapters::{HttpMethod, HttpPort, HttpRequest, HttpResponse};
use idb_sync_core::options::ProtocolOption;
use idb_sync_core::ports::{Transport, TransportRequest, TransportResponse};
use idb_sync_core::SyncError as CoreError;
use js_sys::{Function, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

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

    /// The bearer token, asking `getToken()` when none is cached (or `fresh`).
    async fn bearer(&self, fresh: bool) -> Result<Option<String>, CoreError> {
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
    /// The seed adapter `options.protocol` chose (only in the `adapters` build).
    #[cfg(feature = "adapters")]
    adapter: Option<Adapter>,
}

impl FetchTransport {
    /// `closed` is set by `close()`; `leading` says whether this tab runs the loop;
    /// `protocol` is the validated `options.protocol`.
    pub(crate) fn new(
        base: String,
        credentials: Rc<Credentials>,
        closed: Rc<Cell<bool>>,
        leading: Rc<Cell<bool>>,
        protocol: ProtocolOption,
    ) -> Self {
        #[cfg(not(feature = "adapters"))]
        let _ = protocol;
        FetchTransport {
            base,
            credentials,
            closed,
            leading,
            #[cfg(feature = "adapters")]
            adapter: Adapter::for_protocol(&protocol),
        }
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

impl HttpPort for FetchTransport {
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, CoreError> {
        self.may_send()?;
        let token = self.credentials.bearer(false).await?;
        self.may_send()?;
        if !super::triggers::is_online() {
            return Err(CoreError::Network("the browser is offline".into()));
        }
        let url = format!("{}{}", self.base, request.path);
        let method = match request.method {
            HttpMethod::Get => Method::GET,
            HttpMethod::Post => Method::POST,
            HttpMethod::Put => Method::PUT,
            HttpMethod::Delete => Method::DELETE,
        };
        let mut builder = RequestBuilder::new(&url).method(method);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(token) = token {
            builder = builder.header("Authorization", &format!("Bearer {token}"));
        }
        let request = match request.body {
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
        Ok(HttpResponse {
            status,
            retry_after_ms,
            body,
        })
    }
}

impl Transport for FetchTransport {
    async fn send(&self, request: TransportRequest) -> Result<TransportResponse, CoreError> {
        #[cfg(feature = "adapters")]
        if let Some(adapter) = &self.adapter {
            return send_through(self, adapter, request).await;
        }
        let response = self
            .fetch(HttpRequest {
                method: HttpMethod::Post,
                path: request.endpoint.path().to_owned(),
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: Some(request.body),
            })
            .await?;
        Ok(TransportResponse {
            status: response.status,
            retry_after_ms: response.retry_after_ms,
            body: response.body,
        })
    }

    async fn refresh_credentials(&self) -> bool {
        if self.may_send().is_err() || !matches!(self.credentials.option, AuthOption::GetToken(_)) {
            return false;
        }
        self.credentials.bearer(true).await.is_ok()
    }
}
