//! A catalogue of hostile webhook requests and slash commands, each properly authenticated so it
//! reaches the parser: oversized and at-the-limit bodies, invalid UTF-8, deep nesting, huge
//! arrays, control and bidi characters, injection attempts, numbers out of range or of the
//! wrong type, wrong content types, base64 flags that lie, missing fields and nulls.
//!
//! Each gets a clear 4xx naming the problem (or, where README documents it, a 200 whose summary
//! says the alert was refused or matched no route), changes nothing (no provider write, the
//! fakes' state as before, no drain record, nothing queued), answers small, and never puts
//! the attacker's Slack markup (`<!channel>`, `<@U…>`, links) or control characters into a
//! Slack reply.

use base64::Engine;
use lbpilot::action::{Action, Operation};
use lbpilot::chatops::queue::{CommandQueue, Reply, SqsCommandQueue};
use lbpilot::chatops::replies::Replier;
use lbpilot::config::Settings;
use lbpilot::drain::engine::DrainEngine;
use lbpilot::drain::routes::Routes;
use lbpilot::emitter::SqsEmitter;
use lbpilot::http_event::{HttpRequestEvent, MAX_BODY_BYTES};
use lbpilot::state::MemoryState;
use lbpilot::triggers::alerts::{AlertWebhook, WebhookAuth};
use lbpilot::triggers::sqs::QueueWorker;
use lbpilot_tests::check;
use lbpilot_tests::fakes::demo;
use lbpilot_tests::harness::{
    ChatStack, Stack, function_url_event, hmac_hex, receive_as_event, slack_signature,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

const AM_TOKEN: &str = "am-bearer-hostile-0001";
const GRAFANA_SECRET: &str = "grafana-hmac-hostile-0001";
const TS: &str = "X-Grafana-Alerting-Timestamp";
const CMS_TOKEN: &str = "cms-hostile-0001";
const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const ONCALL: &str = "U2CERLKJA";
const OPS: &str = "C0OPS0001";
/// Provider operations that change something.
const WRITES: [&str; 5] = [
    "UpdateServerGroupServersAttribute",
    "ModifyVServerGroupBackendServers",
    "CreateVServerGroup",
    "UpdateMemberGroup",
    "UpdateEndpointGroup",
];
/// What must never reach a Slack reply raw.
const SLACK_MARKUP: [&str; 6] = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0ATTACK",
    "<https://",
    "<script>",
];

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// `text` padded with spaces (after the JSON value, or as a form field) to exactly `len` bytes.
fn padded_json(text: &str, len: usize) -> String {
    format!("{text}{}", " ".repeat(len - text.len()))
}

fn alert(labels: Value) -> Value {
    json!({"status": "firing", "labels": labels, "annotations": {"summary": "hostile"},
           "startsAt": "2026-12-02T06:00:00Z", "endsAt": "0001-01-01T00:00:00Z"})
}

fn alerts(list: Vec<Value>) -> String {
    json!({"version": "4", "status": "firing", "receiver": "lbpilot", "groupKey": "{}:{}", "alerts": list})
        .to_string()
}

/// A web backend alert (the `web-backend-down` route) naming `instance`.
fn backend_down(instance: &str) -> String {
    alerts(vec![alert(
        json!({"alertname": "BackendDown", "service": "web", "instance": instance}),
    )])
}

/// An alert that matches no route.
fn unmatched(labels: Value) -> String {
    let mut l = json!({"alertname": "DiskFull"});
    l.as_object_mut()
        .unwrap()
        .extend(labels.as_object().unwrap().clone());
    alerts(vec![alert(l)])
}

/// What a case is expected to leave behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leaves {
    /// No provider request at all.
    Nothing,
    /// The group may be read (to apply the guard), but nothing is written.
    NoWrite,
}

/// A webhook body and how it is carried.
struct Body {
    bytes: Vec<u8>,
    /// Carried as base64 text with `isBase64Encoded: true`.
    base64: bool,
}

fn text(s: impl Into<String>) -> Body {
    Body {
        bytes: s.into().into_bytes(),
        base64: false,
    }
}

fn base64_body(bytes: impl Into<Vec<u8>>) -> Body {
    Body {
        bytes: bytes.into(),
        base64: true,
    }
}

/// (name, body, HTTP status, what the answer must contain, what it leaves)
type JsonCase = (&'static str, Body, u16, &'static str, Leaves);

fn json_cases() -> Vec<JsonCase> {
    let over = format!(
        "{{\"alerts\": [], \"pad\": \"{}\"}}",
        "x".repeat(MAX_BODY_BYTES)
    );
    let over = over[..MAX_BODY_BYTES - 2].to_string() + "\"}";
    let over_by_one = format!("{over} ");
    let at_limit = padded_json(&unmatched(json!({"case": "at-the-limit"})), MAX_BODY_BYTES);
    let hundred_k = format!("{{\"alerts\": [{}]}}", vec!["{}"; 100_000].join(","));
    let hundred_k_nulls = format!("{{\"alerts\": [{}]}}", vec!["null"; 100_000].join(","));
    let wide_labels: serde_json::Map<String, Value> = (0..400)
        .map(|i| (format!("l{i:03}"), json!("v".repeat(1000))))
        .collect();
    let deep_objects = format!("{}1{}", "{\"a\":".repeat(5000), "}".repeat(5000));
    vec![
        ("oversized", text(over_by_one.clone()), 413, "larger than 1048576 bytes", Leaves::Nothing),
        ("oversized-base64", base64_body(over_by_one.into_bytes()), 413, "larger than 1048576 bytes", Leaves::Nothing),
        ("oversized-10MiB", text("x".repeat(10 * MAX_BODY_BYTES)), 413, "larger than", Leaves::Nothing),
        ("at-the-limit", text(at_limit), 200, "\"unmatched\":1", Leaves::Nothing),
        ("invalid-utf8-base64", base64_body(b"{\"alerts\": [{\"status\": \"firing\", \"labels\": {\"alertname\": \"\xff\xfe\"}}]}".to_vec()), 400, "not valid UTF-8", Leaves::Nothing),
        ("latin1-base64", base64_body(b"{\"alerts\": [], \"receiver\": \"caf\xe9\"}".to_vec()), 400, "not valid UTF-8", Leaves::Nothing),
        ("lone-surrogate", text(r#"{"alerts": [{"status": "firing", "labels": {"alertname": "\udc80"}}]}"#), 400, "not valid JSON", Leaves::Nothing),
        ("deeply-nested", text(nested(5000)), 400, "nested more than 64 levels deep", Leaves::Nothing),
        ("deeply-nested-ignored-field", text(format!("{{\"x\": {}, \"alerts\": []}}", nested(5000))), 400, "nested more than 64 levels deep", Leaves::Nothing),
        ("deeply-nested-objects", text(deep_objects), 400, "nested more than 64 levels deep", Leaves::Nothing),
        ("huge-array", text(hundred_k), 400, "100000 alerts, more than the 1000 allowed", Leaves::Nothing),
        ("huge-array-of-nulls", text(hundred_k_nulls), 400, "invalid type: null", Leaves::Nothing),
        ("wide-labels", text(unmatched(Value::Object(wide_labels))), 200, "\"unmatched\":1", Leaves::Nothing),
        ("not-json", text("DROP TABLE servers; --"), 400, "not valid JSON", Leaves::Nothing),
        ("empty", text(""), 400, "truncated JSON", Leaves::Nothing),
        ("json-null", text("null"), 400, "invalid type: null", Leaves::Nothing),
        ("json-array", text("[]"), 400, "expected struct RawNotification", Leaves::Nothing),
        ("json-string", text("\"firing\""), 400, "invalid type: string", Leaves::Nothing),
        ("trailing-garbage", text("{\"alerts\": []} {\"alerts\": []}"), 400, "not valid JSON", Leaves::Nothing),
        ("nulls-everywhere", text(r#"{"version": null, "groupKey": null, "truncatedAlerts": null, "status": null, "receiver": null, "groupLabels": null, "externalURL": null, "orgId": null, "alerts": null}"#), 400, "alerts: missing", Leaves::Nothing),
        ("alert-null", text(r#"{"alerts": [null]}"#), 400, "alerts[0]: invalid type: null", Leaves::Nothing),
        ("alert-fields-null", text(r#"{"alerts": [{"status": null, "labels": null, "annotations": null, "startsAt": null, "endsAt": null, "generatorURL": null, "fingerprint": null, "values": null}]}"#), 400, "alerts[0].status: missing", Leaves::Nothing),
        ("missing-alerts", text("{}"), 400, "alerts: missing", Leaves::Nothing),
        ("alert-missing-status", text(r#"{"alerts": [{"labels": {"alertname": "BackendDown"}}]}"#), 400, "alerts[0].status: missing", Leaves::Nothing),
        ("status-unknown", text(r#"{"alerts": [{"status": "FIRING!", "labels": {}}]}"#), 400, "alerts[0].status: must be", Leaves::Nothing),
        ("group-status-unknown", text(r#"{"status": "on fire", "alerts": []}"#), 400, "status: must be", Leaves::Nothing),
        ("label-value-number", text(r#"{"alerts": [{"status": "firing", "labels": {"alertname": 5}}]}"#), 400, "alerts[0].labels.alertname: invalid type: integer", Leaves::Nothing),
        ("labels-array", text(r#"{"alerts": [{"status": "firing", "labels": ["alertname"]}]}"#), 400, "alerts[0].labels: invalid type: sequence", Leaves::Nothing),
        ("truncated-negative", text(r#"{"truncatedAlerts": -1, "alerts": []}"#), 400, "truncatedAlerts: invalid value", Leaves::Nothing),
        ("truncated-1e300", text(r#"{"truncatedAlerts": 1e300, "alerts": []}"#), 400, "truncatedAlerts: invalid type: floating point", Leaves::Nothing),
        ("org-id-string", text(r#"{"orgId": "1", "alerts": []}"#), 400, "orgId: invalid type: string", Leaves::Nothing),
        ("org-id-overflow", text(r#"{"orgId": 99999999999999999999999, "alerts": []}"#), 400, "orgId: invalid type: floating point", Leaves::Nothing),
        ("values-nan-text", text(r#"{"alerts": [{"status": "firing", "labels": {}, "values": {"B": "NaN"}}]}"#), 400, "alerts[0].values.B: invalid type: string", Leaves::Nothing),
        ("values-1e999", text(r#"{"alerts": [{"status": "firing", "labels": {}, "values": {"B": 1e999}}]}"#), 400, "number out of range", Leaves::Nothing),
        ("starts-at-number", text(r#"{"alerts": [{"status": "firing", "labels": {}, "startsAt": 1764655200}]}"#), 400, "alerts[0].startsAt: invalid type: integer", Leaves::Nothing),
        ("version-unknown", text(r#"{"version": "5", "alerts": []}"#), 400, "version: unsupported payload version", Leaves::Nothing),
        ("version-number", text(r#"{"version": 4, "alerts": []}"#), 400, "version: invalid type: integer", Leaves::Nothing),
        ("duplicate-field", text(r#"{"alerts": [], "alerts": []}"#), 400, "duplicate field `alerts`", Leaves::Nothing),
        ("fingerprint-nul", text(r#"{"alerts": [{"status": "firing", "labels": {"alertname": "BackendDown"}, "fingerprint": "fp\u0000"}]}"#), 400, "alerts[0].fingerprint: contains a control character", Leaves::Nothing),
        ("label-name-ansi", text(unmatched(json!({"x\u{1b}[31m": "y"}))), 400, "contains a control character", Leaves::Nothing),
        ("label-name-empty", text(unmatched(json!({"": "y"}))), 400, "a name is empty", Leaves::Nothing),
        ("label-value-too-long", text(unmatched(json!({"big": "v".repeat(2000)}))), 400, "value longer than 1024 characters", Leaves::Nothing),
        // Values that parse: refused or unmatched, read-only at most.
        ("instance-rtl-override", text(backend_down(&format!("{}\u{202e}", demo::ALB_SERVERS[0]))), 200, "\"refused\":1", Leaves::NoWrite),
        ("instance-nul", text(backend_down(&format!("{}\u{0}", demo::ALB_SERVERS[0]))), 200, "\"refused\":1", Leaves::NoWrite),
        ("instance-ansi", text(backend_down(&format!("\u{1b}[31m{}", demo::ALB_SERVERS[0]))), 200, "\"refused\":1", Leaves::NoWrite),
        ("instance-param-injection", text(backend_down(&format!("{}&Weight=100", demo::ALB_SERVERS[0]))), 200, "\"refused\":1", Leaves::NoWrite),
        ("instance-path-traversal", text(backend_down(&format!("../../sgp-other/{}", demo::ALB_SERVERS[0]))), 200, "\"refused\":1", Leaves::NoWrite),
        ("instance-percent-2f", text(backend_down(&format!("{}%2F..%2F", demo::ALB_SERVERS[0]))), 200, "\"refused\":1", Leaves::NoWrite),
        ("instance-script", text(backend_down("<script>alert(1)</script>")), 200, "\"refused\":1", Leaves::NoWrite),
        ("instance-crlf", text(backend_down(&format!("{}\r\nX-Injected: 1", demo::ALB_SERVERS[0]))), 200, "\"refused\":1", Leaves::NoWrite),
        ("instance-port-out-of-range", text(backend_down(&format!("{}:99999", demo::ALB_SERVERS[0]))), 200, "\"refused\":1", Leaves::NoWrite),
        ("instance-port-negative", text(backend_down(&format!("{}:-80", demo::ALB_SERVERS[0]))), 200, "\"refused\":1", Leaves::NoWrite),
        ("instance-empty", text(backend_down("")), 200, "\"refused\":1", Leaves::Nothing),
        ("alertname-rtl", text(alerts(vec![alert(json!({"alertname": "BackendDown\u{202e}", "service": "web", "instance": demo::ALB_SERVERS[0]}))])), 200, "\"unmatched\":1", Leaves::Nothing),
        ("alertname-injection", text(alerts(vec![alert(json!({"alertname": "BackendDown&Weight=100", "service": "web", "instance": demo::ALB_SERVERS[0]}))])), 200, "\"unmatched\":1", Leaves::Nothing),
        ("label-regex-metacharacters", text(alerts(vec![alert(json!({"alertname": "BackendDown", "service": "web|api.*", "instance": demo::ALB_SERVERS[0]}))])), 200, "\"unmatched\":1", Leaves::Nothing),
        ("mrkdwn-and-markup", text(unmatched(json!({"summary": "<!channel> <script>x</script> ${jndi:ldap://x}"}))), 200, "\"unmatched\":1", Leaves::Nothing),
    ]
}

fn cms_cases() -> Vec<JsonCase> {
    let over = format!(
        "alertName=DiskFull&alertState=ALERT&pad={}",
        "x".repeat(MAX_BODY_BYTES)
    );
    let at_limit = {
        let head = "alertName=DiskFull&alertState=ALERT&pad=";
        format!("{head}{}", "x".repeat(MAX_BODY_BYTES - head.len()))
    };
    let fields: String = (0..100_000).map(|i| format!("f{i}=1&")).collect();
    let cpu = |dims: &str| {
        format!(
            "alertName=cpu&alertState=ALERT&metricName=cpu_total&dimensions={}",
            lbpilot::signing::encoding::form_encode(dims)
        )
    };
    vec![
        (
            "oversized",
            text(over),
            413,
            "larger than 1048576 bytes",
            Leaves::Nothing,
        ),
        (
            "at-the-limit",
            text(at_limit),
            200,
            "\"unmatched\":1",
            Leaves::Nothing,
        ),
        (
            "invalid-utf8-percent",
            text("alertName=%FF%FE&alertState=ALERT"),
            400,
            "not valid UTF-8 after percent-decoding",
            Leaves::Nothing,
        ),
        (
            "invalid-utf8-base64",
            base64_body(b"alertName=\xff&alertState=ALERT".to_vec()),
            400,
            "not valid UTF-8",
            Leaves::Nothing,
        ),
        (
            "deeply-nested-json-body",
            text(format!("{{\"alertName\": {}}}", nested(5000))),
            400,
            "nested more than 64 levels deep",
            Leaves::Nothing,
        ),
        (
            "deeply-nested-dimensions",
            text(format!(
                "alertName=x&alertState=ALERT&dimensions={}",
                nested(5000)
            )),
            400,
            "dimensions: JSON nested more than 64 levels deep",
            Leaves::Nothing,
        ),
        (
            "huge-field-count",
            text(format!("alertName=x&alertState=ALERT&{fields}")),
            400,
            "more than 1000 fields",
            Leaves::Nothing,
        ),
        (
            "empty",
            text(""),
            400,
            "alertName: missing",
            Leaves::Nothing,
        ),
        (
            "json-null",
            text("null"),
            400,
            "alertName: missing",
            Leaves::Nothing,
        ),
        (
            "json-nulls",
            text(r#"{"alertName": null, "alertState": null, "dimensions": null}"#),
            400,
            "alertName: missing",
            Leaves::Nothing,
        ),
        (
            "missing-state",
            text("alertName=DiskFull"),
            400,
            "alertState: missing",
            Leaves::Nothing,
        ),
        (
            "state-unknown",
            text("alertName=DiskFull&alertState=FIRING"),
            400,
            "alertState: must be ALERT, ALARM, OK or INSUFFICIENT_DATA",
            Leaves::Nothing,
        ),
        (
            "duplicate-field",
            text("alertName=DiskFull&alertState=ALERT&alertState=OK"),
            400,
            "alertState: given more than once",
            Leaves::Nothing,
        ),
        (
            "dimension-name-control",
            text(format!(
                "alertName=x&alertState=ALERT&dimensions={}",
                lbpilot::signing::encoding::form_encode("{a\u{7}=1}")
            )),
            400,
            "control character",
            Leaves::Nothing,
        ),
        (
            "dimension-param-injection",
            text(cpu(&format!(
                "{{instanceId={}&Weight=100}}",
                demo::ALB_SERVERS[2]
            ))),
            200,
            "\"refused\":1",
            Leaves::NoWrite,
        ),
        (
            "dimension-path-traversal",
            text(cpu(&format!("{{instanceId=../{}}}", demo::ALB_SERVERS[2]))),
            200,
            "\"refused\":1",
            Leaves::NoWrite,
        ),
        (
            "dimension-rtl",
            text(cpu(&format!(
                "{{instanceId={}\u{202e}}}",
                demo::ALB_SERVERS[2]
            ))),
            200,
            "\"refused\":1",
            Leaves::NoWrite,
        ),
        (
            "dimension-crlf",
            text(cpu(&format!(
                "{{instanceId={}\r\nX: 1}}",
                demo::ALB_SERVERS[2]
            ))),
            200,
            "\"refused\":1",
            Leaves::NoWrite,
        ),
        (
            "numbers-out-of-range",
            text(
                "alertName=DiskFull&alertState=ALERT&curValue=1e999&timestamp=-99999999999999999999",
            ),
            200,
            "\"unmatched\":1",
            Leaves::Nothing,
        ),
        (
            "numbers-nan",
            text("alertName=DiskFull&alertState=ALERT&curValue=NaN&timestamp=soon"),
            200,
            "\"unmatched\":1",
            Leaves::Nothing,
        ),
        (
            "insufficient-data",
            text(
                cpu(&format!("{{instanceId={}}}", demo::ALB_SERVERS[2]))
                    .replace("ALERT", "INSUFFICIENT_DATA"),
            ),
            200,
            "\"drained\":0",
            Leaves::Nothing,
        ),
    ]
}

struct Hostile {
    stack: Stack,
    hook: AlertWebhook<MemoryState, SqsEmitter>,
}

impl Hostile {
    async fn start() -> Hostile {
        let stack = Stack::start().await;
        let settings = Settings::from_map(
            [
                ("LBPILOT_ALERTMANAGER_BEARER_TOKEN", AM_TOKEN),
                ("LBPILOT_GRAFANA_HMAC_SECRET", GRAFANA_SECRET),
                ("LBPILOT_GRAFANA_TIMESTAMP_HEADER", TS),
                ("LBPILOT_CLOUDMONITOR_TOKEN", CMS_TOKEN),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>(),
        );
        let routes = Routes::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../config/routes.json"
        ))
        .unwrap();
        let (executor, emitter) = stack.parts();
        let hook = AlertWebhook::new(
            DrainEngine::new(routes, executor, MemoryState::new(), emitter),
            WebhookAuth::from_settings(&settings).unwrap(),
        );
        Hostile { stack, hook }
    }

    /// Sends `body` to `source` with good credentials (a Grafana signature over the bytes).
    fn event(&self, source: &str, body: &Body, content_type: &str) -> Value {
        let carried = if body.base64 {
            b64(&body.bytes)
        } else {
            String::from_utf8(body.bytes.clone()).expect("text bodies are text")
        };
        let bearer = format!("Bearer {AM_TOKEN}");
        let ts = now().to_string();
        let mut signed = format!("{ts}:").into_bytes();
        signed.extend_from_slice(&body.bytes);
        let signature = hmac_hex(GRAFANA_SECRET, &signed);
        let (query, auth): (String, Vec<(&str, &str)>) = match source {
            "alertmanager" => (String::new(), vec![("authorization", &bearer)]),
            "grafana" => (
                String::new(),
                vec![("x-grafana-alerting-signature", &signature), (TS, &ts)],
            ),
            _ => (format!("token={CMS_TOKEN}"), vec![]),
        };
        let mut headers = vec![("content-type", content_type)];
        headers.extend(auth);
        function_url_event(
            "POST",
            &format!("/{source}"),
            &query,
            &headers,
            &carried,
            body.base64,
        )
    }

    async fn send(&self, event: Value) -> (u16, String) {
        let answer = self
            .hook
            .handle(
                event,
                "req-hostile",
                Instant::now() + Duration::from_secs(20),
            )
            .await
            .expect("an HTTP answer");
        (
            answer["statusCode"].as_u64().unwrap_or_default() as u16,
            answer["body"].as_str().unwrap_or_default().to_string(),
        )
    }

    fn writes(&self) -> Vec<String> {
        self.stack
            .cloud
            .requests()
            .iter()
            .filter(|r| WRITES.contains(&r.action.as_str()))
            .map(|r| r.summary())
            .collect()
    }

    /// Checks what a case left: nothing written, the fakes as they were, no drain record, only
    /// `rejected`/`skipped` outcomes, each small.
    async fn unchanged(&self, name: &str, leaves: Leaves, failures: &mut Vec<String>) {
        let writes = self.writes();
        check!(
            failures,
            writes.is_empty(),
            "{name}: no provider write: {writes:?}"
        );
        if leaves == Leaves::Nothing {
            let requests: Vec<String> = self
                .stack
                .cloud
                .requests()
                .iter()
                .map(|r| r.summary())
                .collect();
            check!(
                failures,
                requests.is_empty(),
                "{name}: no provider request: {requests:?}"
            );
        }
        check!(
            failures,
            self.hook.engine().state().records().is_empty(),
            "{name}: no drain record"
        );
        for o in self.stack.moto.drain(&self.stack.results_url).await {
            check!(
                failures,
                o["status"] == "rejected" || o["status"] == "skipped",
                "{name}: only refusals and skips: {}",
                &o.to_string()[..o.to_string().len().min(300)]
            );
            let len = o.to_string().len();
            check!(
                failures,
                len < 64 * 1024,
                "{name}: the outcome stays small ({len} bytes)"
            );
        }
    }
}

#[tokio::test]
async fn hostile_alert_webhooks_are_refused_and_change_nothing() {
    let h = Hostile::start().await;
    let seed = h.stack.cloud.state();
    let mut cases: Vec<(String, Value, u16, &str, Leaves)> = Vec::new();
    for source in ["alertmanager", "grafana"] {
        for (name, body, status, expected, leaves) in json_cases() {
            let event = h.event(source, &body, "application/json");
            cases.push((format!("{source}/{name}"), event, status, expected, leaves));
        }
    }
    for (name, body, status, expected, leaves) in cms_cases() {
        let event = h.event("cloudmonitor", &body, "application/x-www-form-urlencoded");
        cases.push((
            format!("cloudmonitor/{name}"),
            event,
            status,
            expected,
            leaves,
        ));
    }
    // How the request is carried.
    let good = unmatched(json!({"case": "carriage"}));
    let mut lie_true = h.event("alertmanager", &text(good.clone()), "application/json");
    lie_true["isBase64Encoded"] = json!(true);
    let mut lie_false = h.event(
        "alertmanager",
        &base64_body(good.clone().into_bytes()),
        "application/json",
    );
    lie_false["isBase64Encoded"] = json!(false);
    let mut wrapped = h.event(
        "alertmanager",
        &base64_body(good.clone().into_bytes()),
        "application/json",
    );
    wrapped["body"] = json!(format!("{}\n", wrapped["body"].as_str().unwrap()));
    let mut null_body = h.event("alertmanager", &text(""), "application/json");
    null_body["body"] = Value::Null;
    let mut get = h.event("alertmanager", &text(good.clone()), "application/json");
    get["requestContext"]["http"]["method"] = json!("GET");
    let mut unknown_path = h.event("alertmanager", &text(good.clone()), "application/json");
    unknown_path["rawPath"] = json!("/alertmanager%2F..%2Fadmin");
    let carriage: Vec<(&str, Value, u16, &str, Leaves)> = vec![
        (
            "base64-flag-lies-true",
            lie_true,
            400,
            "marked base64 but does not decode",
            Leaves::Nothing,
        ),
        (
            "base64-flag-lies-false",
            lie_false,
            400,
            "not valid JSON",
            Leaves::Nothing,
        ),
        (
            "base64-with-newline",
            wrapped,
            400,
            "marked base64 but does not decode",
            Leaves::Nothing,
        ),
        (
            "body-null",
            null_body,
            400,
            "truncated JSON",
            Leaves::Nothing,
        ),
        ("method-get", get, 405, "use POST", Leaves::Nothing),
        (
            "unknown-path",
            unknown_path,
            404,
            "post to /alertmanager",
            Leaves::Nothing,
        ),
        // The content type is not trusted: the body is read as what the endpoint takes.
        (
            "form-content-type-form-body",
            h.event(
                "alertmanager",
                &text("alertName=x&alertState=ALERT"),
                "application/x-www-form-urlencoded",
            ),
            400,
            "not valid JSON",
            Leaves::Nothing,
        ),
        (
            "multipart-content-type",
            h.event(
                "alertmanager",
                &text("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--"),
                "multipart/form-data; boundary=b",
            ),
            400,
            "not valid JSON",
            Leaves::Nothing,
        ),
        (
            "text-plain-json-body",
            h.event("alertmanager", &text(good.clone()), "text/plain"),
            200,
            "\"unmatched\":1",
            Leaves::Nothing,
        ),
        (
            "json-content-type-form-body",
            h.event(
                "cloudmonitor",
                &text("alertName=DiskFull&alertState=ALERT"),
                "application/json",
            ),
            200,
            "\"unmatched\":1",
            Leaves::Nothing,
        ),
    ];
    for (name, event, status, expected, leaves) in carriage {
        cases.push((format!("carriage/{name}"), event, status, expected, leaves));
    }
    let count = cases.len();
    let mut failures = Vec::new();
    for (name, event, status, expected, leaves) in cases {
        h.stack.cloud.clear_requests();
        let (got, body) = h.send(event).await;
        let shown = &body[..body.len().min(300)];
        check!(
            failures,
            got == status,
            "{name}: expected {status}, got {got}: {shown}"
        );
        check!(
            failures,
            body.contains(expected),
            "{name}: the answer should name {expected:?}: {shown}"
        );
        check!(
            failures,
            body.len() < 2048,
            "{name}: the answer stays small ({} bytes)",
            body.len()
        );
        check!(
            failures,
            !body.contains('\u{202e}') && !body.contains('\u{1b}') && !body.contains('\u{0}'),
            "{name}: no raw control characters"
        );
        h.unchanged(&name, leaves, &mut failures).await;
    }
    assert!(
        failures.is_empty(),
        "{} failed checks:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(h.stack.cloud.state(), seed, "the fakes are as seeded");
    assert_eq!(count, 2 * 57 + 21 + 10, "the catalogue's size");
}

/// CloudWatch alarms come through SNS: a message that does not parse fails the invocation (so
/// Lambda retries it, then keeps it in the failure queue) with an error naming the problem;
/// one that parses but matches nothing changes nothing.
#[tokio::test]
async fn hostile_cloudwatch_messages_are_refused_and_change_nothing() {
    let h = Hostile::start().await;
    let seed = h.stack.cloud.state();
    let sns = |message: Value| {
        json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                            "Sns": {"Type": "Notification", "MessageId": "m-hostile",
                                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:lbpilot-alarms",
                                    "Subject": "ALARM", "Message": message}}]})
    };
    let alarm = |fields: Value| {
        let mut m = json!({"AlarmName": "DiskFull", "NewStateValue": "ALARM",
                           "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:DiskFull"});
        m.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        json!(m.to_string())
    };
    let dims: Vec<Value> = (0..100_000)
        .map(|i| json!({"name": format!("d{i}"), "value": "v"}))
        .collect();
    let cases: Vec<(&str, Value, Result<&str, &str>)> = vec![
        ("not-json", sns(json!("DROP TABLE alarms")), Err("not valid JSON")),
        ("deeply-nested", sns(json!(nested(5000))), Err("nested more than 64 levels deep")),
        ("oversized", sns(json!(format!("{{\"AlarmName\": \"{}\"}}", "x".repeat(MAX_BODY_BYTES)))), Err("more than the 1048576-byte limit")),
        ("huge-dimensions", sns(alarm(json!({"Trigger": {"Dimensions": dims}}))), Err("more than the 1048576-byte limit")),
        ("message-null", sns(Value::Null), Err("truncated JSON")),
        ("message-object", sns(json!({"AlarmName": "x"})), Err("truncated JSON")),
        ("missing-alarm-name", sns(json!(json!({"NewStateValue": "ALARM"}).to_string())), Err("AlarmName: missing")),
        ("nulls-everywhere", sns(json!(json!({"AlarmName": null, "NewStateValue": null, "Trigger": null, "AlarmArn": null}).to_string())), Err("AlarmName: missing")),
        ("alarm-name-number", sns(alarm(json!({"AlarmName": 5}))), Err("AlarmName: invalid type: integer")),
        ("state-change-time-number", sns(alarm(json!({"StateChangeTime": 1e300}))), Err("StateChangeTime: invalid type: floating point")),
        ("dimensions-not-a-list", sns(alarm(json!({"Trigger": {"Dimensions": "InstanceId=i-1"}}))), Err("Trigger.Dimensions: invalid type: string")),
        ("alarm-name-rtl", sns(alarm(json!({"AlarmName": "DiskFull\u{202e}"}))), Ok("\"unmatched\":1")),
        ("alarm-name-markup", sns(alarm(json!({"AlarmName": "<!channel> <script>"}))), Ok("\"unmatched\":1")),
        ("alarm-name-injection", sns(alarm(json!({"AlarmName": "DiskFull&Weight=100"}))), Ok("\"unmatched\":1")),
        ("state-with-nul", sns(alarm(json!({"NewStateValue": "ALARM\u{0}"}))), Ok("\"drained\":0")),
        ("state-unknown", sns(alarm(json!({"NewStateValue": "SOMETHING"}))), Ok("\"drained\":0")),
    ];
    let count = cases.len();
    let mut failures = Vec::new();
    for (name, event, expected) in cases {
        h.stack.cloud.clear_requests();
        let result = h
            .hook
            .handle(event, "req-sns", Instant::now() + Duration::from_secs(20))
            .await;
        match (expected, result) {
            (Err(why), Err(e)) => {
                check!(
                    failures,
                    e.contains(why),
                    "{name}: the error should name {why:?}: {e}"
                );
                check!(failures, e.len() < 1024, "{name}: the error stays small");
            }
            (Ok(what), Ok(answer)) => {
                check!(
                    failures,
                    answer.to_string().contains(what),
                    "{name}: {answer}"
                );
            }
            (expected, got) => failures.push(format!("{name}: expected {expected:?}, got {got:?}")),
        }
        h.unchanged(name, Leaves::Nothing, &mut failures).await;
    }
    assert!(
        failures.is_empty(),
        "{} failed checks:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(h.stack.cloud.state(), seed);
    assert_eq!(count, 16, "the catalogue's size");
}

/// Hostile values in an alert that does drain travel nowhere as parameters: they are encoded
/// where they are sent at all (the fingerprint names the change in the reason), and the
/// provider gets exactly one server with its drain weight.
#[tokio::test]
async fn hostile_alert_values_inject_no_parameters() {
    let h = Hostile::start().await;
    let body = json!({"version": "4", "status": "firing", "alerts": [{
        "status": "firing",
        "labels": {"alertname": "BackendDown", "service": "web", "instance": demo::ALB_SERVERS[0]},
        "annotations": {"summary": "<script>alert(1)</script>&Weight=100", "description": "%2F../\r\nX-Injected: 1"},
        "startsAt": "2026-12-02T06:00:00Z", "fingerprint": "fp&Weight=100&Servers.2.ServerId=x"}]})
    .to_string();
    let (status, answer) = h
        .send(h.event("alertmanager", &text(body), "application/json"))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("\"drained\":1"), "{answer}");
    let sent = h.stack.cloud.requests_for(
        lbpilot_tests::fakes::Product::Alb,
        "UpdateServerGroupServersAttribute",
    );
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].param("Servers.1.ServerId").as_deref(),
        Some(demo::ALB_SERVERS[0])
    );
    assert_eq!(sent[0].param("Servers.1.Weight").as_deref(), Some("0"));
    assert_eq!(sent[0].param("Servers.2.ServerId"), None);
    assert_eq!(sent[0].param("Weight"), None);
    assert!(
        !sent[0].body.contains("X-Injected") && sent[0].header("x-injected").is_none(),
        "{}",
        sent[0].body
    );
}

// ---- Slack ----

/// The shared chat-ops fixture, with this file's own ways of sending.
struct Chat(ChatStack);

impl std::ops::Deref for Chat {
    type Target = ChatStack;
    fn deref(&self) -> &ChatStack {
        &self.0
    }
}

impl Chat {
    async fn start() -> Chat {
        Chat(ChatStack::start(SLACK_SECRET).await)
    }
}

/// A slash command form with the fields given as they go on the wire (already encoded);
/// `None` leaves a field out.
fn form(fields: &[(&str, Option<&str>)]) -> String {
    let defaults = [
        ("token", "deprecated"),
        ("team_id", "T1DC2JH3J"),
        ("channel_id", OPS),
        ("user_id", ONCALL),
        ("user_name", "oncall"),
        ("command", "%2Flbpilot"),
        ("text", "help"),
        ("response_url", "RESPONSE_URL"),
        ("trigger_id", "TRIGGER"),
    ];
    let mut pairs: Vec<String> = Vec::new();
    for (k, v) in defaults {
        match fields.iter().find(|(name, _)| *name == k) {
            Some((_, Some(given))) => pairs.push(format!("{k}={given}")),
            Some((_, None)) => {}
            None => pairs.push(format!("{k}={v}")),
        }
    }
    for (k, v) in fields {
        if !defaults.iter().any(|(d, _)| d == k)
            && let Some(v) = v
        {
            pairs.push(format!("{k}={v}"));
        }
    }
    pairs.join("&")
}

fn enc(text: &str) -> String {
    lbpilot::signing::encoding::form_encode(text)
}

/// A signed Function URL event carrying `bytes` (base64, as Function URLs deliver forms).
fn signed(bytes: &[u8], content_type: &str, base64: bool) -> Value {
    let t = now().to_string();
    let carried = if base64 {
        b64(bytes)
    } else {
        String::from_utf8(bytes.to_vec()).unwrap()
    };
    let signature = if base64 {
        slack_signature(SLACK_SECRET, &t, bytes)
    } else {
        slack_signature(SLACK_SECRET, &t, carried.as_bytes())
    };
    function_url_event(
        "POST",
        "/",
        "",
        &[
            ("content-type", content_type),
            ("x-slack-request-timestamp", &t),
            ("x-slack-signature", &signature),
        ],
        &carried,
        base64,
    )
}

#[tokio::test]
async fn hostile_slash_commands_are_refused_and_change_nothing() {
    let c = Chat::start().await;
    let response_url = enc(&c.response_url());
    let server = demo::ALB_SERVERS[0];
    let with_text = |t: &str| form(&[("text", Some(&enc(t)))]);
    // (name, event, status, what the answer must contain)
    let mut cases: Vec<(String, Value, u16, &str)> = Vec::new();
    let mut add = |name: &str, event: Value, status: u16, expected: &'static str| {
        cases.push((name.to_string(), event, status, expected));
    };
    let form_ct = "application/x-www-form-urlencoded";
    let texts: Vec<(&str, String, &str)> = vec![
        ("deeply-nested-text", nested(5000), "too long"),
        ("huge-word-count", "drain ".repeat(100_000), "too long"),
        (
            "rtl-override-in-server",
            format!("drain web-alb {server}\u{202e}:80"),
            "server id",
        ),
        (
            "nul-in-server",
            format!("drain web-alb {server}\u{0}:80"),
            "server id",
        ),
        (
            "ansi-in-target",
            format!("drain \u{1b}[31mweb-alb {server}:80"),
            "Unknown target",
        ),
        (
            "bidi-in-target",
            "drain web\u{202e}bla-".to_string(),
            "Unknown target",
        ),
        (
            "zero-width-in-target",
            "dial edge\u{200b}-ga 0".to_string(),
            "Unknown target",
        ),
        (
            "param-injection-in-server",
            format!("drain web-alb {server}&Weight=100:80"),
            "server id",
        ),
        (
            "path-traversal-in-server",
            "drain web-alb ../../sgp-other:80".into(),
            "server id",
        ),
        (
            "percent-2f-in-server",
            format!("drain web-alb {server}%2F..%2F:80"),
            "server id",
        ),
        (
            "script-in-server",
            "drain web-alb <script>alert(1)</script>".into(),
            "server id",
        ),
        (
            "crlf-in-server",
            format!("drain web-alb {server}\r\nX-Injected: 1"),
            "wrong number of arguments",
        ),
        (
            "mrkdwn-channel-as-target",
            format!("drain <!channel> {server}:80"),
            "Unknown target",
        ),
        (
            "mrkdwn-here-as-verb",
            "<!here> web-alb".into(),
            "unknown command",
        ),
        (
            "mrkdwn-mention-as-target",
            "status <@U0ATTACKR>".into(),
            "Unknown target",
        ),
        (
            "mrkdwn-link-as-server",
            format!("drain web-alb <https://evil.example|{server}>:80"),
            "server id",
        ),
        (
            "mrkdwn-everyone-as-weight",
            format!("weight web-alb {server}:80 <!everyone>"),
            "not a number from 0 to 100",
        ),
        (
            "mrkdwn-channel-as-option",
            format!("drain web-alb {server}:80 --<!channel>"),
            "unknown option",
        ),
        (
            "mrkdwn-channel-as-port",
            format!("drain web-alb {server}:<!channel>"),
            "not a port",
        ),
        (
            "dial-1e300",
            "dial edge-ga 1e300".into(),
            "not a number from 0 to 100",
        ),
        (
            "dial-negative",
            "dial edge-ga -5".into(),
            "not a number from 0 to 100",
        ),
        (
            "dial-nan",
            "dial edge-ga NaN".into(),
            "not a number from 0 to 100",
        ),
        (
            "dial-float",
            "dial edge-ga 100.0".into(),
            "not a number from 0 to 100",
        ),
        (
            "dial-hex",
            "dial edge-ga 0x10".into(),
            "not a number from 0 to 100",
        ),
        (
            "dial-256",
            "dial edge-ga 256".into(),
            "not a number from 0 to 100",
        ),
        (
            "dial-101",
            "dial edge-ga 101".into(),
            "not a number from 0 to 100",
        ),
        (
            "dial-overflow",
            "dial edge-ga 99999999999999999999".into(),
            "not a number from 0 to 100",
        ),
        (
            "dial-fullwidth-digits",
            "dial edge-ga １００".into(),
            "not a number from 0 to 100",
        ),
        (
            "weight-text",
            format!("weight web-alb {server}:80 heavy"),
            "not a number from 0 to 100",
        ),
        (
            "port-out-of-range",
            format!("weight web-alb {server}:70000 50"),
            "not a port",
        ),
        (
            "port-zero",
            format!("drain web-alb {server}:0"),
            "not a port",
        ),
        (
            "port-negative",
            format!("drain web-alb {server}:-80"),
            "not a port",
        ),
        (
            "too-many-arguments",
            format!("drain web-alb {server}:80 now please"),
            "wrong number of arguments",
        ),
        ("null-text", "null".into(), "unknown command"),
    ];
    for (name, t, expected) in texts {
        add(
            name,
            signed(
                with_text(&t)
                    .replace("RESPONSE_URL", &response_url)
                    .as_bytes(),
                form_ct,
                true,
            ),
            200,
            expected,
        );
    }
    let pad = |len: usize| {
        let head = form(&[("text", Some(""))]).replace("RESPONSE_URL", &response_url);
        let head = head.replace("text=&", "");
        let text_len = len - head.len() - "&text=".len();
        format!("{head}&text={}", "x".repeat(text_len))
    };
    add(
        "oversized",
        signed(pad(MAX_BODY_BYTES + 1).as_bytes(), form_ct, true),
        413,
        "larger than 1048576 bytes",
    );
    add(
        "at-the-limit",
        signed(pad(MAX_BODY_BYTES).as_bytes(), form_ct, true),
        200,
        "too long",
    );
    let mut raw = form(&[("text", Some("drain+web-alb+RAW"))])
        .replace("RESPONSE_URL", &response_url)
        .into_bytes();
    let at = raw.windows(3).position(|w| w == b"RAW").unwrap();
    raw.splice(at..at + 3, *b"\xff\xfe");
    add(
        "invalid-utf8-base64",
        signed(&raw, form_ct, true),
        400,
        "not UTF-8",
    );
    add(
        "invalid-utf8-percent",
        signed(
            form(&[("text", Some("drain+web-alb+%FF%FE%3A80"))])
                .replace("RESPONSE_URL", &response_url)
                .as_bytes(),
            form_ct,
            true,
        ),
        400,
        "not UTF-8",
    );
    add(
        "invalid-utf8-percent-user",
        signed(
            form(&[("user_id", Some("U2CERLKJA%C0"))])
                .replace("RESPONSE_URL", &response_url)
                .as_bytes(),
            form_ct,
            true,
        ),
        400,
        "not UTF-8",
    );
    let json_body = json!({"user_id": ONCALL, "channel_id": OPS, "text": "dial edge-ga 0", "response_url": c.response_url()}).to_string();
    add(
        "json-content-type",
        signed(json_body.as_bytes(), "application/json", true),
        400,
        "no user_id or channel_id",
    );
    let good_form =
        form(&[("text", Some("dial+edge-ga+0"))]).replace("RESPONSE_URL", &response_url);
    add(
        "base64-flag-lies-false",
        {
            // The base64 text arrives unmarked: signed as received, read as a form.
            let text = b64(&good_form);
            signed(text.as_bytes(), form_ct, false)
        },
        400,
        "no user_id or channel_id",
    );
    add(
        "base64-flag-lies-true",
        {
            let mut e = signed(good_form.as_bytes(), form_ct, false);
            e["isBase64Encoded"] = json!(true);
            e
        },
        400,
        "marked base64 but does not decode",
    );
    add(
        "missing-user",
        signed(
            form(&[("user_id", None), ("text", Some("dial+edge-ga+0"))])
                .replace("RESPONSE_URL", &response_url)
                .as_bytes(),
            form_ct,
            true,
        ),
        400,
        "no user_id or channel_id",
    );
    add(
        "missing-channel",
        signed(
            form(&[("channel_id", None), ("text", Some("dial+edge-ga+0"))])
                .replace("RESPONSE_URL", &response_url)
                .as_bytes(),
            form_ct,
            true,
        ),
        400,
        "no user_id or channel_id",
    );
    add(
        "missing-text",
        signed(
            form(&[("text", None)])
                .replace("RESPONSE_URL", &response_url)
                .as_bytes(),
            form_ct,
            true,
        ),
        200,
        "drain <target>",
    );
    add(
        "missing-response-url",
        signed(
            form(&[("response_url", None), ("text", Some("dial+edge-ga+0"))]).as_bytes(),
            form_ct,
            true,
        ),
        400,
        "response_url",
    );
    add("nulls-everywhere", signed(b"token=null&team_id=null&channel_id=null&user_id=null&user_name=null&command=null&text=null&response_url=null&trigger_id=null", form_ct, true), 400, "user_id");
    add(
        "user-id-markup",
        signed(
            form(&[
                ("user_id", Some("U1%3E+%3C%21channel")),
                ("text", Some("dial+edge-ga+0")),
            ])
            .replace("RESPONSE_URL", &response_url)
            .as_bytes(),
            form_ct,
            true,
        ),
        400,
        "user_id",
    );
    add(
        "channel-id-markup",
        signed(
            form(&[
                ("channel_id", Some("C0OPS0001%3E%3C%21here%3E")),
                ("text", Some("dial+edge-ga+0")),
            ])
            .replace("RESPONSE_URL", &response_url)
            .as_bytes(),
            form_ct,
            true,
        ),
        400,
        "channel_id",
    );
    add(
        "duplicate-text",
        signed(
            format!(
                "{}&text=dial+edge-ga+0",
                form(&[("text", Some("status+edge-ga"))]).replace("RESPONSE_URL", &response_url)
            )
            .as_bytes(),
            form_ct,
            true,
        ),
        400,
        "text is given more than once",
    );
    add(
        "duplicate-user",
        signed(
            format!(
                "{}&user_id=U0ANYONE1",
                form(&[("text", Some("dial+edge-ga+0"))]).replace("RESPONSE_URL", &response_url)
            )
            .as_bytes(),
            form_ct,
            true,
        ),
        400,
        "user_id is given more than once",
    );
    add(
        "empty-body",
        signed(b"", form_ct, true),
        400,
        "no user_id or channel_id",
    );
    add(
        "not-a-form",
        signed(b"DROP TABLE commands; --", form_ct, true),
        400,
        "no user_id or channel_id",
    );
    add(
        "method-get",
        {
            let mut e = signed(good_form.as_bytes(), form_ct, true);
            e["requestContext"]["http"]["method"] = json!("GET");
            e
        },
        405,
        "use POST",
    );

    let count = cases.len();
    let mut failures = Vec::new();
    for (name, event, status, expected) in cases {
        let before = c.queued().await;
        let event: HttpRequestEvent = serde_json::from_value(event).unwrap();
        let response = c.chatops.handle(&event).await;
        let body = &response.body;
        let shown: String = body.chars().take(300).collect();
        check!(
            failures,
            response.status_code == status,
            "{name}: expected {status}, got {}: {shown}",
            response.status_code
        );
        let reply: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let said = reply["text"]
            .as_str()
            .or(reply["error"].as_str())
            .unwrap_or_default();
        check!(
            failures,
            said.contains(expected),
            "{name}: should say {expected:?}: {shown}"
        );
        if response.status_code == 200 {
            check!(
                failures,
                reply["response_type"] == "ephemeral",
                "{name}: only the requester sees it"
            );
        }
        check!(
            failures,
            body.len() < 4096,
            "{name}: the answer stays small ({} bytes)",
            body.len()
        );
        for markup in SLACK_MARKUP {
            check!(
                failures,
                !said.contains(markup),
                "{name}: the reply holds {markup:?} raw: {shown}"
            );
        }
        check!(
            failures,
            !said.chars().any(|ch| ch.is_control() && ch != '\n'
                || ('\u{202a}'..='\u{202e}').contains(&ch)
                || ch == '\u{200b}'),
            "{name}: the reply holds a control or bidi character: {shown:?}"
        );
        let after = c.queued().await;
        check!(
            failures,
            after == before,
            "{name}: nothing queued ({before} -> {after})"
        );
    }
    assert!(
        failures.is_empty(),
        "{} failed checks:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        c.stack.cloud.requests().is_empty(),
        "nothing reached a provider"
    );
    assert_eq!(count, 34 + 20, "the catalogue's size");
}

/// What the queue worker posts on the channel is built from the queued message (its summary
/// and requester, from any producer) and the provider's answer: markup in them is escaped, so
/// a reply cannot ping the channel or disguise a link.
#[tokio::test]
async fn channel_replies_neutralise_markup_from_the_queue_and_the_provider() {
    let c = Chat::start().await;
    let queue = SqsCommandQueue::new(c.stack.moto.sqs(), c.commands_url.clone());
    let action = Action::new(
        Some("chat-hostile-reply".into()),
        Operation::AlbUpdateServerGroupServersAttribute,
        Some("cn-hangzhou".into()),
        json!({"ServerGroupId": demo::ALB_GROUP,
               "Servers": [{"ServerId": "<!channel>", "ServerType": "Ecs", "Port": 80, "Weight": 0}]}),
        false,
        Some("hostile".into()),
    )
    .unwrap();
    let reply = Reply {
        response_url: c.response_url(),
        requested_by: "<!here> <@U0ATTACKR>".into(),
        summary: "`drain` <!everyone> <https://evil.example|web-alb> & co".into(),
    };
    queue.enqueue(&action, "web-alb", &reply).await.unwrap();
    let (executor, emitter) = c.stack.parts();
    let replier = Replier::new(executor.transport().client().clone(), c.hook.url.clone());
    let worker = QueueWorker::new(executor, emitter, 4).with_replier(replier);
    let event = receive_as_event(&c.stack.moto, &c.commands_url).await;
    worker
        .handle(event, Instant::now() + Duration::from_secs(20))
        .await
        .unwrap();
    let posted = c.hook.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(posted.len(), 1);
    let message = posted[0]["text"].as_str().unwrap();
    assert!(message.contains("failed"), "{message}");
    for markup in SLACK_MARKUP.iter().chain(&["<!here>"]) {
        assert!(!message.contains(markup), "{markup:?} raw in {message}");
    }
    assert!(
        message.contains("&lt;!everyone&gt;") && message.contains("&amp; co"),
        "escaped, not dropped: {message}"
    );
    // A requester that is not one well-formed mention is escaped whole.
    assert!(!message.contains("<@"), "{message}");
}
