//! The alert webhook: Alertmanager, Grafana and CloudMonitor over a Function URL, CloudWatch
//! alarms through SNS. Every HTTP source is authenticated first; a request that fails gets 401
//! (saying which check failed, never a secret or what was presented) and executes nothing. A
//! Grafana request signed with a timestamp is accepted once: its signature is remembered in
//! the state table until the replay window closes, and the same one again is refused. The
//! answer is 2xx with a summary when all is handled, and 5xx only when a retry by the sender
//! can help.

use crate::alerts::auth::{self, Credentials, GrafanaAuth, GrafanaHmac, UrlToken};
use crate::alerts::{self as parse, Notification};
use crate::config::Settings;
use crate::drain::engine::{DrainEngine, Summary};
use crate::emitter::OutcomeSink;
use crate::error::ConfigError;
use crate::http_event::{BodyError, HttpRequestEvent, HttpResponse};
use crate::outcome::Source;
use crate::state::DrainState;
use serde_json::{Value, json};
use tokio::time::Instant;

/// Who may call, per source. A source without credentials is refused.
#[derive(Debug, Default)]
pub struct WebhookAuth {
    pub alertmanager: Vec<Credentials>,
    pub grafana: GrafanaAuth,
    pub cloudmonitor: Option<UrlToken>,
}

impl WebhookAuth {
    pub fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        let mut a = WebhookAuth::default();
        if let Some(token) = s.get("LBPILOT_ALERTMANAGER_BEARER_TOKEN") {
            a.alertmanager.push(Credentials::bearer(token));
        }
        if let Some(user) = s.get("LBPILOT_ALERTMANAGER_BASIC_USER") {
            a.alertmanager.push(Credentials::basic(
                user,
                s.required("LBPILOT_ALERTMANAGER_BASIC_PASSWORD")?,
            ));
        }
        if let Some(secret) = s.get("LBPILOT_GRAFANA_HMAC_SECRET") {
            let mut hmac = GrafanaHmac::new(secret);
            if let Some(header) = s.get("LBPILOT_GRAFANA_TIMESTAMP_HEADER") {
                hmac = hmac.with_timestamp_header(header);
            }
            a.grafana.hmac = Some(hmac);
        }
        if let Some(token) = s.get("LBPILOT_GRAFANA_BEARER_TOKEN") {
            a.grafana.authorization.push(Credentials::bearer(token));
        }
        a.cloudmonitor = s.get("LBPILOT_CLOUDMONITOR_TOKEN").map(UrlToken::new);
        if a.alertmanager.is_empty()
            && a.grafana.hmac.is_none()
            && a.grafana.authorization.is_empty()
            && a.cloudmonitor.is_none()
        {
            return Err(ConfigError::new(
                "LBPILOT_ALERTMANAGER_BEARER_TOKEN",
                "no webhook credentials: set at least one of LBPILOT_ALERTMANAGER_BEARER_TOKEN, LBPILOT_ALERTMANAGER_BASIC_USER, LBPILOT_GRAFANA_HMAC_SECRET, LBPILOT_GRAFANA_BEARER_TOKEN, LBPILOT_CLOUDMONITOR_TOKEN",
            ));
        }
        Ok(a)
    }
}

pub struct AlertWebhook<St, S> {
    engine: DrainEngine<St, S>,
    auth: WebhookAuth,
}

fn answer(summary: &Summary) -> HttpResponse {
    HttpResponse::json(
        if summary.retry { 503 } else { 200 },
        &json!({"handled": !summary.retry, "summary": summary}),
    )
}

impl<St: DrainState, S: OutcomeSink> AlertWebhook<St, S> {
    pub fn new(engine: DrainEngine<St, S>, auth: WebhookAuth) -> Self {
        Self { engine, auth }
    }

    pub fn engine(&self) -> &DrainEngine<St, S> {
        &self.engine
    }

    /// An invocation: a Function URL request, or an SNS event carrying CloudWatch alarms.
    pub async fn handle(
        &self,
        event: Value,
        request_id: &str,
        deadline: Instant,
    ) -> Result<Value, String> {
        let is_sns = event
            .pointer("/Records/0/EventSource")
            .and_then(Value::as_str)
            == Some("aws:sns")
            || event
                .pointer("/Records/0/eventSource")
                .and_then(Value::as_str)
                == Some("aws:sns");
        if is_sns {
            return self.handle_sns(&event, deadline).await;
        }
        let request: HttpRequestEvent = serde_json::from_value(event)
            .map_err(|e| format!("not a Function URL request: {e}"))?;
        let response = self.handle_http(&request, request_id, deadline).await;
        Ok(serde_json::to_value(response).expect("responses serialize"))
    }

    pub async fn handle_http(
        &self,
        req: &HttpRequestEvent,
        request_id: &str,
        deadline: Instant,
    ) -> HttpResponse {
        if !req.request_context.http.method.eq_ignore_ascii_case("POST") {
            return HttpResponse::json(405, &json!({"error": "use POST"}));
        }
        let source_name = req
            .raw_path
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let body = match req.body_bytes() {
            Ok(b) => b,
            Err(e @ BodyError::TooLarge) => {
                return HttpResponse::json(413, &json!({"error": e.to_string()}));
            }
            Err(e) => return HttpResponse::json(400, &json!({"error": e.to_string()})),
        };
        let mut delivery = None;
        let verified = match source_name.as_str() {
            "alertmanager" => auth::verify_alertmanager(&self.auth.alertmanager, &req.headers),
            "grafana" => auth::verify_grafana_delivery(
                &self.auth.grafana,
                &req.headers,
                &body,
                std::time::SystemTime::now(),
            )
            .map(|signed| delivery = signed),
            "cloudmonitor" => match &self.auth.cloudmonitor {
                Some(token) => auth::verify_cloudmonitor(token, Some(&req.raw_query_string)),
                None => Err(auth::AuthError::NotConfigured),
            },
            _ => {
                return HttpResponse::json(
                    404,
                    &json!({"error": "post to /alertmanager, /grafana or /cloudmonitor"}),
                );
            }
        };
        if let Err(e) = verified {
            return refused(&source_name, req, &e);
        }
        if let Some(signed) = delivery {
            match self
                .engine
                .state()
                .note_once(&signed.key, signed.expires_at)
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    let e = auth::AuthError::Replayed {
                        window_secs: signed.window_secs,
                    };
                    return refused(&source_name, req, &e);
                }
                Err(e) => {
                    tracing::error!(error = %e, "the replay check could not be made");
                    return HttpResponse::json(
                        503,
                        &json!({"error": "the state table is unavailable: retry"}),
                    );
                }
            }
        }
        let parsed = match source_name.as_str() {
            "alertmanager" => parse::parse_alertmanager(&body),
            "grafana" => parse::parse_grafana(&body),
            _ => parse::parse_cloudmonitor(&body),
        };
        let notification = match parsed {
            Ok(n) => n,
            Err(e) => return HttpResponse::json(400, &json!({"error": e.to_string()})),
        };
        let source = source_of(&source_name, &notification, request_id);
        answer(&self.engine.handle(&notification, source, deadline).await)
    }

    /// CloudWatch alarms via SNS: an error makes Lambda retry the (asynchronous) invocation.
    async fn handle_sns(&self, event: &Value, deadline: Instant) -> Result<Value, String> {
        let mut summaries = Vec::new();
        for record in event["Records"].as_array().into_iter().flatten() {
            let sns = &record["Sns"];
            let message_id = sns["MessageId"].as_str().unwrap_or_default();
            let notification =
                parse::parse_cloudwatch_sns(sns["Message"].as_str().unwrap_or_default())
                    .map_err(|e| format!("SNS message {message_id}: {e}"))?;
            let mut source = Source::new("cloudwatch", message_id);
            source.detail = Some(json!({"topic": sns["TopicArn"], "subject": sns["Subject"]}));
            let summary = self.engine.handle(&notification, source, deadline).await;
            if summary.retry {
                return Err(format!(
                    "SNS message {message_id}: a retry is needed: {}",
                    json!(summary)
                ));
            }
            summaries.push(summary);
        }
        Ok(json!({"summaries": summaries}))
    }
}

/// 401 naming the check that failed: an [`auth::AuthError`] never holds a secret or a
/// presented value, and a sender's operator needs the reason to fix its configuration.
fn refused(source: &str, req: &HttpRequestEvent, e: &auth::AuthError) -> HttpResponse {
    tracing::warn!(source = %source, reason = %e, source_ip = %req.request_context.http.source_ip, "webhook refused");
    HttpResponse::json(
        401,
        &json!({"error": "unauthorized", "reason": e.to_string()}),
    )
}

fn source_of(kind: &str, n: &Notification, request_id: &str) -> Source {
    let mut source = Source::new(
        kind,
        n.group_key
            .clone()
            .unwrap_or_else(|| request_id.to_string()),
    );
    source.detail =
        Some(json!({"request_id": request_id, "receiver": n.receiver, "alerts": n.alerts.len()}));
    source
}
