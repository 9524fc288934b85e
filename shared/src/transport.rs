//! Sends a signed `HttpRequest` and reads the answer; network failures become `ProviderError`s
//! that say whether the request may have been applied.

use crate::error::ProviderError;
use crate::http::HttpRequest;
use std::time::Duration;

/// Answers larger than this are cut off: no provider answer here comes near it.
const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

/// One HTTP client per process, shared by both providers (connection reuse, one TLS setup).
#[derive(Debug, Clone)]
pub struct Transport {
    client: reqwest::Client,
}

pub const USER_AGENT: &str = concat!("lbpilot/", env!("CARGO_PKG_VERSION"));

impl Transport {
    pub fn new() -> Result<Self, TransportError> {
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(crate::tls::client_config()?)
            .user_agent(USER_AGENT)
            .connect_timeout(Duration::from_secs(3))
            .pool_idle_timeout(Duration::from_secs(50))
            .build()?;
        Ok(Self { client })
    }

    /// The shared HTTP client, for calls that are not provider requests (Slack replies).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub async fn send(
        &self,
        req: &HttpRequest,
        timeout: Duration,
    ) -> Result<HttpResponse, ProviderError> {
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .expect("request methods are static upper-case names");
        let mut builder = self.client.request(method, req.url()).timeout(timeout);
        for (name, value) in &req.headers {
            builder = builder.header(name, value);
        }
        if req.body.is_empty() && req.method != "GET" {
            // As the SDKs send it: some gateways refuse a POST without a length (411).
            builder = builder.header("content-length", "0");
        }
        let response = builder
            .body(req.body.clone())
            .send()
            .await
            .map_err(classify)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = Vec::new();
        let mut response = response;
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_RESPONSE_BYTES {
                return Err(ProviderError {
                    http_status: Some(status),
                    ..ProviderError::transport(
                        "ResponseTooLarge",
                        format!("the answer exceeded {MAX_RESPONSE_BYTES} bytes"),
                        true,
                    )
                });
            }
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// A request that could not connect was not applied; one that timed out or broke off may have been.
fn classify(e: reqwest::Error) -> ProviderError {
    let detail = error_chain(&e);
    if e.is_timeout() {
        ProviderError::transport("Timeout", format!("no answer in time: {detail}"), true)
    } else if e.is_connect() {
        ProviderError::transport(
            "ConnectFailed",
            format!("could not connect: {detail}"),
            false,
        )
    } else {
        ProviderError::transport(
            "ConnectionReset",
            format!("the connection broke off: {detail}"),
            true,
        )
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
