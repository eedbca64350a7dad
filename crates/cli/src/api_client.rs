//! A small client of the Steward API for the commands that drive a server through it
//! (`steward demo --server`, `steward bench` setup).

use std::time::Duration;

use anyhow::Context as _;
use reqwest::Method;
use serde_json::Value;

/// Calls one server's API; cheap to clone.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
}

impl ApiClient {
    /// A client of the server at `base` (no trailing slash); `timeout` bounds each request.
    pub fn new(base: &str, timeout: Option<Duration>) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder();
        if let Some(timeout) = timeout {
            builder = builder.timeout(timeout);
        }
        Ok(Self {
            http: builder.build().context("cannot build the HTTP client")?,
            base: base.to_owned(),
        })
    }

    /// Calls the API with a credential; any answer but 2xx is an error naming the step.
    pub async fn call(
        &self,
        step: &str,
        method: Method,
        path: &str,
        credential: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", credential);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{step}: cannot reach {}", self.base))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            anyhow::bail!("{step}: the server answered {status}: {text}");
        }
        serde_json::from_str(&text).with_context(|| format!("{step}: the answer is not JSON"))
    }
}
