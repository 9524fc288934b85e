//! ROMA Connect and Global Accelerator calls: `SDK-HMAC-SHA256`-signed JSON requests.

use super::{Reply, excerpt};
use crate::error::ProviderError;
use crate::http::HttpRequest;
use crate::signing::huawei::{self, HuaweiCredentials};
use crate::transport::{HttpResponse, Transport};
use serde_json::Value;
use std::time::Duration;
use time::OffsetDateTime;
use time::macros::format_description;

#[derive(Debug, Clone)]
pub struct HuaweiClient {
    transport: Transport,
    credentials: HuaweiCredentials,
}

/// Codes after which the same request can succeed later: gateway throttling, internal errors,
/// and a GA resource busy with an earlier change (`GA.9004`, "in %s status no operation allowed").
fn is_retryable_code(code: &str) -> bool {
    matches!(
        code,
        "APIG.0308" | "APIG.9999" | "APIG.0201" | "APIG.0202" | "GA.9004"
    )
}

impl HuaweiClient {
    pub fn new(transport: Transport, credentials: HuaweiCredentials) -> Self {
        Self {
            transport,
            credentials,
        }
    }

    /// Signs `req` (with `X-Project-Id` when given), sends it, and parses the answer.
    pub async fn call(
        &self,
        mut req: HttpRequest,
        project_id: Option<&str>,
        timeout: Duration,
    ) -> Result<Reply, ProviderError> {
        let date = OffsetDateTime::now_utc()
            .format(format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .expect("UTC dates always format");
        huawei::sign(&mut req, &self.credentials, project_id, &date);
        let response = self.transport.send(&req, timeout).await?;
        parse_response(&response)
    }
}

/// The error code and message, as the SDK looks for them: `error_code`/`error_msg`, then
/// `errorCode`/`errorMsg`, then `code`/`message`, at the top level or one object down.
fn error_fields(body: &Value) -> Option<(String, String)> {
    let pick = |v: &Value| {
        [
            ("error_code", "error_msg"),
            ("errorCode", "errorMsg"),
            ("code", "message"),
        ]
        .iter()
        .find_map(|(c, m)| {
            // An empty code is no code (found by fuzzing): keep looking, else `HTTP<status>`.
            let code = v.get(*c)?.as_str().filter(|c| !c.is_empty())?.to_string();
            let msg = v
                .get(*m)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            Some((code, msg))
        })
    };
    pick(body).or_else(|| body.as_object()?.values().find_map(pick))
}

pub fn parse_response(response: &HttpResponse) -> Result<Reply, ProviderError> {
    let parsed: Option<Value> = serde_json::from_slice(&response.body).ok();
    let request_id = response
        .header("x-request-id")
        .map(str::to_string)
        .or_else(|| {
            parsed
                .as_ref()?
                .get("request_id")?
                .as_str()
                .map(str::to_string)
        });
    if (200..300).contains(&response.status) {
        return match parsed {
            Some(body @ Value::Object(_)) => Ok(Reply {
                status: response.status,
                body,
                request_id,
            }),
            _ => Err(ProviderError {
                http_status: Some(response.status),
                request_id,
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
    let (code, message) = parsed
        .as_ref()
        .and_then(error_fields)
        .unwrap_or_else(|| (format!("HTTP{}", response.status), excerpt(&response.body)));
    let retryable = response.status >= 500 || response.status == 429 || is_retryable_code(&code);
    Err(ProviderError {
        code,
        message,
        http_status: Some(response.status),
        request_id,
        retryable,
        ambiguous: false,
        retry_after: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: u16, body: &str) -> ProviderError {
        parse_response(&HttpResponse {
            status,
            headers: vec![("X-Request-Id".into(), "rid".into())],
            body: body.as_bytes().to_vec(),
        })
        .unwrap_err()
    }

    #[test]
    fn classifies_errors() {
        let e = err(
            404,
            r#"{"error_code":"APIG.3023","error_msg":"The VPC channel does not exist,id:56a7"}"#,
        );
        assert_eq!(
            (e.code.as_str(), e.retryable, e.request_id.as_deref()),
            ("APIG.3023", false, Some("rid"))
        );
        assert!(!err(400, r#"{"error_code":"APIG.2001","error_msg":"m"}"#).retryable);
        assert!(!err(401, r#"{"error_code":"APIG.1002","error_msg":"m"}"#).retryable);
        assert!(
            err(
                500,
                r#"{"error_code":"APIG.9999","error_msg":"System error"}"#
            )
            .retryable
        );
        assert!(err(429, "").retryable);
        assert!(err(400, r#"{"error_code":"GA.9004","error_msg":"Resource eg-1 is in PENDING status no operation allowed"}"#).retryable);
        assert!(
            !err(
                409,
                r#"{"error_code":"APIG.3417","error_msg":"duplicate name"}"#
            )
            .retryable
        );
        assert_eq!(
            err(400, r#"{"error":{"code":"X.1","message":"nested"}}"#).code,
            "X.1"
        );
        assert_eq!(
            err(400, r#"{"errorCode":"Y","errorMsg":"camel"}"#).message,
            "camel"
        );
    }
}
