//! `checkServer(endpoint)`: asks a sync server's `GET /health` whether it answers and
//! which protocol it speaks. Used by the demo page and handy when wiring up an app.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use idb_sync_core::SyncError as CoreError;

use crate::error::{OrNetwork, SyncError};

/// What a healthy server says about itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerHealth {
    /// `"ok"`.
    pub status: String,
    /// The server's version.
    pub version: String,
    /// The protocol version it speaks.
    pub protocol_version: u32,
    /// The kind of database behind it.
    pub database: String,
}

/// Asks the sync server at `endpoint` (for example `http://127.0.0.1:8787`) whether it
/// is healthy. Resolves to `{ status, version, protocolVersion, database }`; rejects
/// with a `SyncError` (`invalid_argument`, `network_error`, `server_error` or
/// `malformed_response`).
#[wasm_bindgen(js_name = checkServer, unchecked_return_type = "Promise<any>")]
pub fn check_server(
    #[wasm_bindgen(unchecked_param_type = "string")] endpoint: JsValue,
) -> js_sys::Promise {
    crate::interop::promise(check(endpoint))
}

async fn check(endpoint: JsValue) -> Result<JsValue, JsValue> {
    let endpoint = crate::args::string(&endpoint, "endpoint")?;
    let health = fetch_health(&endpoint).await?;
    Ok(crate::interop::to_js(&health)
        .map_err(|e| SyncError::Core(CoreError::MalformedResponse(e)))?)
}

async fn fetch_health(endpoint: &str) -> Result<ServerHealth, SyncError> {
    let base = endpoint.trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(SyncError::InvalidArgument {
            argument: "endpoint",
            reason: format!("expected an http(s) URL, got {endpoint:?}"),
        });
    }
    let response = gloo_net::http::Request::get(&format!("{base}/health"))
        .send()
        .await
        .or_network()?;
    let status = response.status();
    let body = response.text().await.or_network()?;
    if !response.ok() {
        let (code, message) = server_error_fields(&body);
        return Err(CoreError::Server {
            status,
            code,
            message,
            retry_after_ms: None,
        }
        .into());
    }
    serde_json::from_str(&body)
        .map_err(|e| CoreError::MalformedResponse(format!("GET /health: {e}")).into())
}

/// Reads `{ "error": { "code", "message" } }`, falling back to the raw body.
fn server_error_fields(body: &str) -> (String, String) {
    #[derive(Deserialize)]
    struct Envelope {
        error: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        code: String,
        message: String,
    }
    match serde_json::from_str::<Envelope>(body) {
        Ok(Envelope { error }) => (error.code, error.message),
        Err(_) => ("unknown".to_owned(), body.chars().take(200).collect()),
    }
}
