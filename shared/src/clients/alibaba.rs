//! ALB and SLB calls: `ACS3-HMAC-SHA256`-signed RPC requests with JSON answers.

use super::{Reply, excerpt};
use crate::error::ProviderError;
use crate::http::HttpRequest;
use crate::signing::alibaba::{self, AlibabaCredentials, SigningParams};
use crate::transport::{HttpResponse, Transport};
use serde_json::Value;
use std::time::Duration;
use time::OffsetDateTime;
use time::macros::format_description;

#[derive(Debug, Clone)]
pub struct AlibabaClient {
    transport: Transport,
    credentials: AlibabaCredentials,
}

/// Codes after which the same request can succeed later.
fn is_retryable_code(code: &str) -> bool {
    code.starts_with("Throttling")
        || code.starts_with("IncorrectStatus")
        || matches!(
            code,
            "ServiceUnavailable" | "InternalError" | "UnknownError" | "SystemBusy" | "ServiceBusy"
        )
}

impl AlibabaClient {
    pub fn new(transport: Transport, credentials: AlibabaCredentials) -> Self {
        Self {
            transport,
            credentials,
        }
    }

    /// Signs `req` for `action` of API `version` at the current time, sends it, and parses the answer.
    pub async fn call(
        &self,
        mut req: HttpRequest,
        action: &str,
        version: &str,
        timeout: Duration,
    ) -> Result<Reply, ProviderError> {
        let date = OffsetDateTime::now_utc()
            .format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .expect("UTC dates always format");
        let nonce = format!("{:032x}", fastrand::u128(..));
        req.set_header("accept", "application/json");
        alibaba::sign(
            &mut req,
            &self.credentials,
            action,
            version,
            &SigningParams {
                date: &date,
                nonce: &nonce,
            },
        );
        let response = self.transport.send(&req, timeout).await?;
        parse_response(&response)
    }
}

/// A 2xx JSON body is the answer; anything else is a classified error.
pub fn parse_response(response: &HttpResponse) -> Result<Reply, ProviderError> {
    let parsed: Option<Value> = serde_json::from_slice(&response.body).ok();
    let request_id = parsed
        .as_ref()
        .and_then(|b| b.get("RequestId"))
        .and_then(Value::as_str)
        .map(str::to_string);
    if (200..300).contains(&response.status) {
        return match parsed {
            Some(body @ Value::Object(_)) => Ok(Reply {
                status: response.status,
                body,
                request_id,
            }),
            _ => Err(ProviderError {
                http_status: Some(response.status),
                ..ProviderError::transport(
                    "MalformedResponse",
                    format!(
                        "HTTP {} with a body that is not a JSON object: {}",
                        response.status,
                        excerpt(&response.body)
                    ),
                    true,
                )
            }),
        };
    }
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|b| b.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| xml_field(&response.body, name))
            // An empty value is no value (found by fuzzing): an empty `Code` left the error
            // without a code; now it falls back to `HTTP<status>`.
            .filter(|v| !v.is_empty())
    };
    let code = field("Code").unwrap_or_else(|| format!("HTTP{}", response.status));
    let message = field("Message").unwrap_or_else(|| excerpt(&response.body));
    let retry_after = response
        .header("x-acs-retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis);
    // A resource being configured stays so for a while: wait at least a second, not a jitter.
    let retry_after = retry_after.or_else(|| {
        code.starts_with("IncorrectStatus")
            .then_some(Duration::from_secs(1))
    });
    let retryable = response.status >= 500
        || response.status == 429
        || retry_after.is_some()
        || is_retryable_code(&code);
    Err(ProviderError {
        code,
        message,
        http_status: Some(response.status),
        request_id: request_id.or_else(|| field("RequestId")),
        retryable,
        ambiguous: false,
        retry_after,
    })
}

/// `<Name>value</Name>` from an XML error body (`text/xml` answers).
fn xml_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find(&format!("<{name}>"))? + name.len() + 2;
    let end = start + text[start..].find(&format!("</{name}>"))?;
    Some(text[start..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn classifies_errors() {
        let err = |status, headers: &[(&str, &str)], body| {
            parse_response(&response(status, headers, body)).unwrap_err()
        };
        let e = err(
            404,
            &[],
            r#"{"RequestId":"r1","Code":"ResourceNotFound.ServerGroup","Message":"The specified resource sgp-1 is not found."}"#,
        );
        assert_eq!(
            (e.code.as_str(), e.retryable, e.request_id.as_deref()),
            ("ResourceNotFound.ServerGroup", false, Some("r1"))
        );
        assert!(
            err(
                400,
                &[],
                r#"{"Code":"IncorrectStatus.ServerGroup","Message":"m"}"#
            )
            .retryable
        );
        assert!(err(400, &[], r#"{"Code":"Throttling.User","Message":"m"}"#).retryable);
        assert!(
            !err(
                400,
                &[],
                r#"{"Code":"SignatureDoesNotMatch","Message":"m"}"#
            )
            .retryable
        );
        assert!(err(503, &[], "<html>bad gateway</html>").retryable);
        let throttled = err(
            400,
            &[("x-acs-retry-after", "1500")],
            r#"{"Code":"Throttling.Api","Message":"m"}"#,
        );
        assert_eq!(throttled.retry_after, Some(Duration::from_millis(1500)));
        let xml = err(
            400,
            &[],
            "<Error><RequestId>x</RequestId><Code>InvalidParameter</Code><Message>bad</Message></Error>",
        );
        assert_eq!(
            (xml.code.as_str(), xml.message.as_str()),
            ("InvalidParameter", "bad")
        );
        let truncated = parse_response(&response(200, &[], r#"{"JobId":"#)).unwrap_err();
        assert!(truncated.ambiguous && truncated.retryable);
    }
}
