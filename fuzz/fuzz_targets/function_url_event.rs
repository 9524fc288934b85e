//! A whole Lambda event as the two Function URL handlers receive it: the alert webhook (a
//! Function URL request for /alertmanager, /grafana, /cloudmonitor, or an SNS event with
//! CloudWatch alarms) and chat-ops (a Slack slash command). Both run offline end to end: event
//! decoding, body decoding, authentication, payload parsing, routing, command parsing.
//!
//! Signatures cannot be guessed, so the harness signs for the fuzzer: a Slack signature of
//! `v0=fuzz` or a Grafana signature of `fuzz` is replaced by the real HMAC of the body. Every
//! other value (tokens, timestamps, headers) is the fuzzer's.
#![no_main]

use hmac::{Hmac, KeyInit, Mac};
use lbpilot::action::Action;
use lbpilot::alerts::auth::{
    Credentials, GRAFANA_SIGNATURE_HEADER, GrafanaAuth, GrafanaHmac, UrlToken,
};
use lbpilot::chatops::ChatOps;
use lbpilot::chatops::aliases::Aliases;
use lbpilot::drain::engine::DrainEngine;
use lbpilot::drain::routes::Routes;
use lbpilot::http_event::HttpRequestEvent;
use lbpilot::secret::Secret;
use lbpilot::state::MemoryState;
use lbpilot::triggers::alerts::{AlertWebhook, WebhookAuth};
use lbpilot_fuzz::{
    ALIASES, LastQueue, LastSink, ROUTES, SLACK_SECRET, WEBHOOK_TOKEN, block_on, deadline,
    offline_executor,
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use sha2::Sha256;
use std::sync::OnceLock;

/// The clock chat-ops is run at: the sample event's `x-slack-request-timestamp`.
const NOW: i64 = 1_764_655_200;
const GRAFANA_SECRET: &str = "fuzz-grafana-secret";

fn webhook() -> &'static AlertWebhook<MemoryState, LastSink> {
    static W: OnceLock<AlertWebhook<MemoryState, LastSink>> = OnceLock::new();
    W.get_or_init(|| {
        let routes = Routes::parse(ROUTES).expect("the example routes parse");
        let auth = WebhookAuth {
            alertmanager: vec![Credentials::bearer(WEBHOOK_TOKEN)],
            grafana: GrafanaAuth {
                hmac: Some(GrafanaHmac::new(GRAFANA_SECRET)),
                authorization: vec![Credentials::bearer(WEBHOOK_TOKEN)],
            },
            cloudmonitor: Some(UrlToken::new(WEBHOOK_TOKEN)),
        };
        let engine = DrainEngine::new(
            routes,
            offline_executor(),
            MemoryState::new(),
            LastSink::default(),
        );
        AlertWebhook::new(engine, auth)
    })
}

fn chatops() -> &'static ChatOps<LastQueue> {
    static C: OnceLock<ChatOps<LastQueue>> = OnceLock::new();
    C.get_or_init(|| {
        let aliases = Aliases::parse(ALIASES).expect("the example aliases parse");
        ChatOps::new(
            Secret::new(SLACK_SECRET),
            aliases,
            offline_executor(),
            LastQueue::default(),
        )
    })
}

fn hmac_hex(key: &str, parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    for p in parts {
        mac.update(p);
    }
    hex::encode(mac.finalize().into_bytes())
}

/// Replaces the placeholder signature header `name: placeholder` with `real(body)`.
fn sign(
    event: &mut HttpRequestEvent,
    name: &str,
    placeholder: &str,
    real: impl Fn(&[u8]) -> String,
) {
    let Ok(body) = event.body_bytes() else { return };
    for (k, v) in event.headers.iter_mut() {
        if k.eq_ignore_ascii_case(name) && v == placeholder {
            *v = real(&body);
        }
    }
}

/// The answer is a Function URL response: a known status and a JSON body.
fn check_response(response: &Value, allowed: &[u64]) -> Value {
    let status = response["statusCode"].as_u64().expect("statusCode");
    assert!(allowed.contains(&status), "status {status}: {response}");
    let body = response["body"].as_str().expect("a text body");
    serde_json::from_str(body).expect("a JSON body")
}

fn alert_webhook(event: &Value) {
    let mut event = event.clone();
    // Sign Grafana requests whose signature is the placeholder (the HTTP request as decoded).
    if let Ok(mut request) = serde_json::from_value::<HttpRequestEvent>(event.clone()) {
        sign(&mut request, GRAFANA_SIGNATURE_HEADER, "fuzz", |body| {
            hmac_hex(GRAFANA_SECRET, &[body])
        });
        if let Some(headers) = event.get_mut("headers").and_then(Value::as_object_mut) {
            for (k, v) in request.headers {
                headers.insert(k, Value::String(v));
            }
        }
    }
    // Grafana signatures are remembered (replays refused): each input starts from none, so
    // runs do not depend on the order of inputs or grow without bound.
    webhook().engine().state().clear();
    match block_on(webhook().handle(event, "fuzz-request", deadline())) {
        Ok(response) if response.get("summaries").is_some() => {} // SNS
        Ok(response) => {
            let body = check_response(&response, &[200, 400, 401, 404, 405, 413, 500, 503]);
            assert!(body.is_object());
        }
        Err(e) => assert!(!e.is_empty()),
    }
    let _ = webhook().engine().sink().take();
}

fn slash_command(event: &Value) {
    // The chat-ops function's event type: lambda_runtime decodes it with serde_json.
    let Ok(mut request) = serde_json::from_value::<HttpRequestEvent>(event.clone()) else {
        return;
    };
    let timestamp = request
        .header("x-slack-request-timestamp")
        .unwrap_or_default()
        .to_string();
    sign(&mut request, "x-slack-signature", "v0=fuzz", |body| {
        format!(
            "v0={}",
            hmac_hex(SLACK_SECRET, &[b"v0:", timestamp.as_bytes(), b":", body])
        )
    });
    let response = block_on(chatops().handle_at(&request, NOW));
    let response = serde_json::to_value(&response).expect("responses serialize");
    let body = check_response(&response, &[200, 400, 401, 405, 413]);
    if response["statusCode"] == 200 {
        assert!(
            body["text"].as_str().is_some_and(|t| !t.is_empty()),
            "{body}"
        );
    }
    let queued = chatops().queue().take();
    assert!(queued.len() <= 1, "one command, at most one change");
    for (action, group, reply) in queued {
        // The queue worker reads the message body back: it must be the same, valid action.
        let text = serde_json::to_string(&action).expect("actions serialize");
        let again = Action::from_json(&text).expect("a queued action parses");
        assert_eq!(again, action);
        assert!(action.id.starts_with("chat-"));
        assert!(!group.is_empty() && !reply.requested_by.is_empty());
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(event) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    alert_webhook(&event);
    slash_command(&event);
});
