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

/// The AWS SDK clients' HTTP client: the same reqwest client (hyper, rustls over the compiled-in
/// roots, its connection pool) as the provider calls, instead of aws-smithy's own hyper client,
/// which linked a second HTTP stack and HTTP/2 into every binary (BENCHMARKS.md). The SDK's
/// requests are all in memory (SQS, DynamoDB and Secrets Manager JSON); the connect timeout is
/// the client's ([`Transport::new`]: 3 s, the SDK's default 3.1 s); the SDK's attempt timeout
/// ([`crate::app::aws_timeouts`]) bounds each call, and a read timeout, if one is set, the
/// exchange.
#[derive(Debug, Clone)]
pub struct AwsHttpClient {
    client: reqwest::Client,
}

impl AwsHttpClient {
    pub fn new(transport: &Transport) -> Self {
        Self {
            client: transport.client.clone(),
        }
    }
}

impl aws_smithy_runtime_api::client::http::HttpClient for AwsHttpClient {
    fn http_connector(
        &self,
        settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(AwsConnector {
            client: self.client.clone(),
            read_timeout: settings.read_timeout(),
        })
    }
}

#[derive(Debug)]
struct AwsConnector {
    client: reqwest::Client,
    read_timeout: Option<Duration>,
}

impl aws_smithy_runtime_api::client::http::HttpConnector for AwsConnector {
    fn call(
        &self,
        request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        let client = self.client.clone();
        let read_timeout = self.read_timeout;
        aws_smithy_runtime_api::client::http::HttpConnectorFuture::new(async move {
            let response = client
                .execute(reqwest_request(request, read_timeout)?)
                .await
                .map_err(aws_error)?;
            sdk_response(response).await
        })
    }
}

/// The SDK's request as reqwest's. The header map moves across as it is (both are `http`
/// 1.x's): building it again from names and values parsed every name a second time.
fn reqwest_request(
    request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    read_timeout: Option<Duration>,
) -> Result<reqwest::Request, aws_smithy_runtime_api::client::result::ConnectorError> {
    use aws_smithy_runtime_api::client::result::ConnectorError;
    let url = reqwest::Url::parse(request.uri()).map_err(|e| ConnectorError::user(e.into()))?;
    let (parts, body) = request
        .try_into_http1x()
        .map_err(|e| ConnectorError::user(e.into()))?
        .into_parts();
    let Some(body) = body.bytes() else {
        return Err(ConnectorError::user(
            "a streaming request body is not supported".into(),
        ));
    };
    let mut out = reqwest::Request::new(parts.method, url);
    *out.headers_mut() = parts.headers;
    *out.body_mut() = Some(body.to_vec().into());
    *out.timeout_mut() = read_timeout;
    Ok(out)
}

/// reqwest's response as the SDK's, its header map moved across; a header whose value is not
/// UTF-8 (which the SDK's headers cannot hold) is left out.
async fn sdk_response(
    mut response: reqwest::Response,
) -> Result<
    aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    aws_smithy_runtime_api::client::result::ConnectorError,
> {
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_runtime_api::http::{Headers, HttpError};
    let status = response.status().as_u16();
    let mut headers = std::mem::take(response.headers_mut());
    if headers.values().any(|v| v.to_str().is_err()) {
        let mut text = reqwest::header::HeaderMap::with_capacity(headers.len());
        for (name, value) in headers.iter().filter(|(_, v)| v.to_str().is_ok()) {
            text.append(name.clone(), value.clone());
        }
        headers = text;
    }
    let bytes = response.bytes().await.map_err(aws_error)?;
    let invalid = |e: HttpError| ConnectorError::other(e.into(), None);
    let mut out = aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
        status.try_into().map_err(invalid)?,
        aws_smithy_types::body::SdkBody::from(bytes),
    );
    *out.headers_mut() = Headers::try_from(headers).map_err(invalid)?;
    Ok(out)
}

/// Connect failures were never sent; the others may have been (the SDK's retry decides).
fn aws_error(e: reqwest::Error) -> aws_smithy_runtime_api::client::result::ConnectorError {
    use aws_smithy_runtime_api::client::result::ConnectorError;
    if e.is_timeout() {
        ConnectorError::timeout(e.into())
    } else if e.is_connect() {
        ConnectorError::io(e.into()).never_connected()
    } else if e.is_request() || e.is_body() || e.is_decode() {
        ConnectorError::io(e.into())
    } else {
        ConnectorError::other(e.into(), None)
    }
}
