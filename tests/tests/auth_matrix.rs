//! Every way a webhook caller proves who it is, attacked through the real handler entry points
//! (`AlertWebhook::handle` with the invocation payload, `ChatOps::handle` with the Function URL
//! request): missing, wrong, truncated, extended, differently cased, padded, duplicated,
//! replayed and tampered credentials. A refusal is 401, says why without the secret or what was
//! presented, and changes nothing (no provider request, no drain state, no outcome, nothing
//! queued); an acceptance acts (a drain that is then restored, or a queued command).
//!
//! Decisions (also in README, "Security"):
//! - header names are case-insensitive (HTTP); credential values are exact (case included);
//! - the `Authorization` scheme is case-insensitive (RFC 7235 §2.1): `bearer`, `BEARER` pass;
//! - whitespace around a header value is not part of it (RFC 9110 §5.5): padded values pass;
//! - a header given twice is refused, even with the same value twice;
//! - the CloudMonitor query parameter name is exact after percent-decoding (`TOKEN=` is not it);
//! - Grafana's hex signature is decoded (either case); Slack's is compared as Slack writes it.

use base64::Engine;
use lbpilot::config::Settings;
use lbpilot::drain::engine::DrainEngine;
use lbpilot::drain::routes::Routes;
use lbpilot::emitter::SqsEmitter;
use lbpilot::http_event::HttpRequestEvent;
use lbpilot::state::{DrainState, DynamoState, MemoryState};
use lbpilot::triggers::alerts::{AlertWebhook, WebhookAuth};
use lbpilot_tests::check;
use lbpilot_tests::fakes::{Product, demo};
use lbpilot_tests::harness::{
    ChatStack, Stack, function_url_event, hmac_hex, slack_form, slack_signature,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

const AM_TOKEN: &str = "am-bearer-7Kq2xZ9wLm";
const AM_USER: &str = "alertmanager";
const AM_PASSWORD: &str = "Pa55:word-4-AM-q";
const GRAFANA_SECRET: &str = "grafana-hmac-Secret-3f9a";
const GRAFANA_TOKEN: &str = "grafana-bearer-Zx81Qp";
const CMS_TOKEN: &str = "cms-callback-Token-a1b2";
const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const SECRETS: [&str; 6] = [
    AM_TOKEN,
    AM_PASSWORD,
    GRAFANA_SECRET,
    GRAFANA_TOKEN,
    CMS_TOKEN,
    SLACK_SECRET,
];
const SIG: &str = "X-Grafana-Alerting-Signature";
const TS: &str = "X-Grafana-Alerting-Timestamp";
const ONCALL: &str = "U2CERLKJA";
const OPS: &str = "C0OPS0001";
/// The member group the `api-pool-degraded` route of `config/routes.json` drains (weight 10).
const POOL: &str = demo::ROMA_GROUPS[1];

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn routes() -> Routes {
    Routes::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../config/routes.json"
    ))
    .unwrap()
}

/// A webhook configured from settings, as the function builds it at cold start.
fn webhook<St: DrainState>(
    stack: &Stack,
    state: St,
    settings: &[(&str, &str)],
) -> AlertWebhook<St, SqsEmitter> {
    let settings = Settings::from_map(
        settings
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>(),
    );
    let auth = WebhookAuth::from_settings(&settings).expect("webhook settings");
    let (executor, emitter) = stack.parts();
    AlertWebhook::new(DrainEngine::new(routes(), executor, state, emitter), auth)
}

/// Each case's alert is its own episode (`nonce` names it): the episodes' times increase in
/// the order their cases first ask, so a case's firing is newer than the resolutions before it
/// (an older one would be a late notification, which drains nothing). Epoch seconds of the
/// episode's start; it resolves 60 s later.
fn episode_start(nonce: &str) -> i64 {
    static EPISODES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut episodes = EPISODES.lock().unwrap();
    let index = match episodes.iter().position(|n| n == nonce) {
        Some(i) => i,
        None => {
            episodes.push(nonce.to_string());
            episodes.len() - 1
        }
    };
    1_764_655_200 + 120 * index as i64
}

fn rfc3339(epoch: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// An Alertmanager (or Grafana) notification of the pool alert; `nonce` makes each body unique
/// and names its episode.
fn notification(status: &str, nonce: &str) -> String {
    let start = episode_start(nonce);
    let ends = if status == "firing" {
        "0001-01-01T00:00:00Z".to_string()
    } else {
        rfc3339(start + 60)
    };
    json!({"version": "4", "status": status, "receiver": "lbpilot", "groupKey": "{}:{alertname=\"ApiPoolDegraded\"}",
           "alerts": [{"status": status, "labels": {"alertname": "ApiPoolDegraded", "service": "api"},
                       "annotations": {"summary": format!("case {nonce}")},
                       "startsAt": rfc3339(start), "endsAt": ends, "fingerprint": "fp-api-pool"}]})
    .to_string()
}

/// A CloudMonitor callback form of the pool alert (`nonce` names its episode).
fn cms_form(state: &str, nonce: &str) -> String {
    let at = episode_start(nonce) + if state == "OK" { 60 } else { 0 };
    format!(
        "alertName=ApiPoolDegraded&alertState={state}&metricName=pool_health&metricProject=acs_roma&curValue=1&triggerLevel=CRITICAL&expression=case+{}&timestamp={}",
        nonce.replace(' ', "+").replace('/', "%2F"),
        at * 1000
    )
}

/// A CloudWatch alarm for the pool, as SNS invokes the function.
fn sns_event(message_id: &str, state: &str) -> Value {
    let changed = if state == "OK" {
        "2026-12-02T06:16:00.000+0000"
    } else {
        "2026-12-02T06:06:00.123+0000"
    };
    let message = json!({"AlarmName": "ApiPoolDegraded", "NewStateValue": state, "OldStateValue": "OK",
                         "StateChangeTime": changed, "Region": "US East (N. Virginia)",
                         "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ApiPoolDegraded",
                         "AWSAccountId": "123456789012"});
    json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                        "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:lbpilot-alarms:1",
                        "Sns": {"Type": "Notification", "MessageId": message_id,
                                "TopicArn": "arn:aws:sns:us-east-1:123456789012:lbpilot-alarms",
                                "Subject": "ALARM", "Message": message.to_string()}}]})
}

fn http(path: &str, query: &str, headers: &[(&str, &str)], body: &str) -> Value {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    function_url_event("POST", path, query, &all, body, false)
}

fn grafana_signed(ts: &str, body: &str) -> String {
    hmac_hex(GRAFANA_SECRET, format!("{ts}:{body}").as_bytes())
}

/// Headers as a case presents them: (name, value), in order.
type Headers = Vec<(String, String)>;
/// The same, with names written in the table.
type NamedHeaders = Vec<(&'static str, String)>;
/// Builds a case's headers and the body it sends from the body that was signed.
type Build<'a> = dyn Fn(&str) -> (Headers, String) + 'a;

/// Which configured webhook a case goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hook {
    /// Alertmanager Bearer and Basic (and the CloudMonitor token).
    Main,
    /// CloudMonitor's URL token (on the same webhook as Alertmanager's credentials).
    Cms,
    /// Grafana HMAC with a timestamp header (so a replay window).
    GrafanaHmac,
    /// Grafana Bearer token.
    GrafanaToken,
}

enum Expect {
    /// 200, the pool drained (then restored with good credentials).
    Acts,
    /// 401 whose reason contains this.
    Refused(&'static str),
}

struct Case {
    name: String,
    hook: Hook,
    event: Value,
    /// What the caller presented, which the answer must not repeat.
    presented: Vec<String>,
    expect: Expect,
}

struct Hooks {
    stack: Stack,
    main: AlertWebhook<MemoryState, SqsEmitter>,
    grafana_hmac: AlertWebhook<MemoryState, SqsEmitter>,
    grafana_token: AlertWebhook<MemoryState, SqsEmitter>,
}

impl Hooks {
    async fn start() -> Hooks {
        let stack = Stack::start().await;
        let main = webhook(
            &stack,
            MemoryState::new(),
            &[
                ("LBPILOT_ALERTMANAGER_BEARER_TOKEN", AM_TOKEN),
                ("LBPILOT_ALERTMANAGER_BASIC_USER", AM_USER),
                ("LBPILOT_ALERTMANAGER_BASIC_PASSWORD", AM_PASSWORD),
                ("LBPILOT_CLOUDMONITOR_TOKEN", CMS_TOKEN),
            ],
        );
        let grafana_hmac = webhook(
            &stack,
            MemoryState::new(),
            &[
                ("LBPILOT_GRAFANA_HMAC_SECRET", GRAFANA_SECRET),
                ("LBPILOT_GRAFANA_TIMESTAMP_HEADER", TS),
            ],
        );
        let grafana_token = webhook(
            &stack,
            MemoryState::new(),
            &[("LBPILOT_GRAFANA_BEARER_TOKEN", GRAFANA_TOKEN)],
        );
        Hooks {
            stack,
            main,
            grafana_hmac,
            grafana_token,
        }
    }

    fn hook(&self, which: Hook) -> &AlertWebhook<MemoryState, SqsEmitter> {
        match which {
            Hook::Main | Hook::Cms => &self.main,
            Hook::GrafanaHmac => &self.grafana_hmac,
            Hook::GrafanaToken => &self.grafana_token,
        }
    }

    fn pool_weight(&self) -> Option<i64> {
        self.stack
            .cloud
            .roma_member_group(POOL)
            .unwrap()
            .member_group_weight
    }

    fn writes(&self) -> usize {
        self.stack
            .cloud
            .requests_for(Product::Roma, "UpdateMemberGroup")
            .len()
    }
}

/// Sends an invocation payload; returns the HTTP status and the JSON body (and its length).
async fn send(
    hook: &AlertWebhook<impl DrainState, SqsEmitter>,
    event: Value,
) -> (u16, Value, usize) {
    let answer = hook
        .handle(event, "req-1", Instant::now() + Duration::from_secs(20))
        .await
        .expect("an HTTP answer");
    let body = answer["body"].as_str().unwrap_or_default().to_string();
    (
        answer["statusCode"].as_u64().unwrap_or_default() as u16,
        serde_json::from_str(&body).unwrap_or(Value::Null),
        body.len(),
    )
}

/// A resolved notification with good credentials: puts the pool back after a case acted.
fn good_resolved(hook: Hook, nonce: &str) -> Value {
    match hook {
        Hook::Main => {
            let bearer = format!("Bearer {AM_TOKEN}");
            http(
                "/alertmanager",
                "",
                &[("authorization", &bearer)],
                &notification("resolved", nonce),
            )
        }
        Hook::Cms => function_url_event(
            "POST",
            "/cloudmonitor",
            &format!("token={CMS_TOKEN}"),
            &[("content-type", "application/x-www-form-urlencoded")],
            &cms_form("OK", nonce),
            false,
        ),
        Hook::GrafanaHmac => {
            let body = notification("resolved", nonce);
            let ts = now().to_string();
            let sig = grafana_signed(&ts, &body);
            http("/grafana", "", &[(SIG, &sig), (TS, &ts)], &body)
        }
        Hook::GrafanaToken => {
            let bearer = format!("Bearer {GRAFANA_TOKEN}");
            http(
                "/grafana",
                "",
                &[("authorization", &bearer)],
                &notification("resolved", nonce),
            )
        }
    }
}

fn alertmanager_cases() -> Vec<Case> {
    let firing = |name: &str| notification("firing", &format!("alertmanager/{name}"));
    let bearer = format!("Bearer {AM_TOKEN}");
    let good_basic = basic(AM_USER, AM_PASSWORD);
    let mut table: Vec<(&str, Headers, &str, Expect)> = vec![
        // Bearer.
        (
            "bearer",
            vec![("authorization".into(), bearer.clone())],
            "",
            Expect::Acts,
        ),
        (
            "bearer-header-name-capitalised",
            vec![("Authorization".into(), bearer.clone())],
            "",
            Expect::Acts,
        ),
        (
            "bearer-header-name-upper",
            vec![("AUTHORIZATION".into(), bearer.clone())],
            "",
            Expect::Acts,
        ),
        (
            "bearer-scheme-lower",
            vec![("authorization".into(), format!("bearer {AM_TOKEN}"))],
            "",
            Expect::Acts,
        ),
        (
            "bearer-scheme-upper",
            vec![("authorization".into(), format!("BEARER {AM_TOKEN}"))],
            "",
            Expect::Acts,
        ),
        (
            "bearer-padded",
            vec![("authorization".into(), format!("  Bearer \t {AM_TOKEN} \t"))],
            "",
            Expect::Acts,
        ),
        (
            "missing",
            vec![],
            "",
            Expect::Refused("header Authorization is missing"),
        ),
        (
            "empty-header",
            vec![("authorization".into(), String::new())],
            "",
            Expect::Refused("header Authorization is malformed"),
        ),
        (
            "blank-header",
            vec![("authorization".into(), "   ".into())],
            "",
            Expect::Refused("header Authorization is malformed"),
        ),
        (
            "scheme-only",
            vec![("authorization".into(), "Bearer".into())],
            "",
            Expect::Refused("header Authorization is malformed"),
        ),
        (
            "scheme-and-space",
            vec![("authorization".into(), "Bearer ".into())],
            "",
            Expect::Refused("header Authorization is malformed"),
        ),
        (
            "token-without-scheme",
            vec![("authorization".into(), AM_TOKEN.into())],
            "",
            Expect::Refused("header Authorization is malformed"),
        ),
        (
            "bearer-wrong",
            vec![("authorization".into(), "Bearer not-the-token-at-all".into())],
            "",
            Expect::Refused("wrong Bearer credentials"),
        ),
        (
            "bearer-truncated",
            vec![(
                "authorization".into(),
                format!("Bearer {}", &AM_TOKEN[..AM_TOKEN.len() - 1]),
            )],
            "",
            Expect::Refused("wrong Bearer credentials"),
        ),
        (
            "bearer-prefix-half",
            vec![(
                "authorization".into(),
                format!("Bearer {}", &AM_TOKEN[..AM_TOKEN.len() / 2]),
            )],
            "",
            Expect::Refused("wrong Bearer credentials"),
        ),
        (
            "bearer-extended",
            vec![("authorization".into(), format!("Bearer {AM_TOKEN}x"))],
            "",
            Expect::Refused("wrong Bearer credentials"),
        ),
        (
            "bearer-value-upper",
            vec![(
                "authorization".into(),
                format!("Bearer {}", AM_TOKEN.to_uppercase()),
            )],
            "",
            Expect::Refused("wrong Bearer credentials"),
        ),
        (
            "bearer-value-lower",
            vec![(
                "authorization".into(),
                format!("Bearer {}", AM_TOKEN.to_lowercase()),
            )],
            "",
            Expect::Refused("wrong Bearer credentials"),
        ),
        (
            "bearer-crlf-appended",
            vec![(
                "authorization".into(),
                format!("Bearer {AM_TOKEN}\r\nX-Admin: 1"),
            )],
            "",
            Expect::Refused("wrong Bearer credentials"),
        ),
        (
            "bearer-other-webhooks-token",
            vec![("authorization".into(), format!("Bearer {GRAFANA_TOKEN}"))],
            "",
            Expect::Refused("wrong Bearer credentials"),
        ),
        (
            "duplicated-header",
            vec![
                ("authorization".into(), bearer.clone()),
                ("Authorization".into(), bearer.clone()),
            ],
            "",
            Expect::Refused("header Authorization is given more than once"),
        ),
        (
            // What a Function URL makes of a header sent twice: one value, comma-joined.
            "duplicated-header-comma-joined",
            vec![("authorization".into(), format!("{bearer},{bearer}"))],
            "",
            Expect::Refused("wrong Bearer credentials"),
        ),
        (
            "other-header",
            vec![("x-authorization".into(), bearer.clone())],
            "",
            Expect::Refused("header Authorization is missing"),
        ),
        (
            "token-in-query",
            vec![],
            "token=am-bearer-7Kq2xZ9wLm",
            Expect::Refused("header Authorization is missing"),
        ),
        (
            "wrong-scheme-token",
            vec![("authorization".into(), format!("Token {AM_TOKEN}"))],
            "",
            Expect::Refused("scheme is not accepted here (accepted: Basic, Bearer)"),
        ),
        (
            "wrong-scheme-digest",
            vec![("authorization".into(), format!("Digest {AM_TOKEN}"))],
            "",
            Expect::Refused("scheme is not accepted here"),
        ),
        (
            "bearer-token-as-basic",
            vec![("authorization".into(), format!("Basic {}", b64(AM_TOKEN)))],
            "",
            Expect::Refused("Basic credentials are not `user:password`"),
        ),
        // Basic.
        (
            "basic",
            vec![("authorization".into(), good_basic.clone())],
            "",
            Expect::Acts,
        ),
        (
            "basic-scheme-lower",
            vec![("authorization".into(), good_basic.replace("Basic", "basic"))],
            "",
            Expect::Acts,
        ),
        (
            "basic-unpadded-base64",
            vec![(
                "authorization".into(),
                good_basic.trim_end_matches('=').to_string(),
            )],
            "",
            Expect::Acts,
        ),
        (
            "basic-wrong-password",
            vec![("authorization".into(), basic(AM_USER, "wrong"))],
            "",
            Expect::Refused("wrong Basic credentials"),
        ),
        (
            "basic-wrong-user",
            vec![("authorization".into(), basic("admin", AM_PASSWORD))],
            "",
            Expect::Refused("wrong Basic credentials"),
        ),
        (
            "basic-password-upper",
            vec![(
                "authorization".into(),
                basic(AM_USER, &AM_PASSWORD.to_uppercase()),
            )],
            "",
            Expect::Refused("wrong Basic credentials"),
        ),
        (
            "basic-user-upper",
            vec![(
                "authorization".into(),
                basic(&AM_USER.to_uppercase(), AM_PASSWORD),
            )],
            "",
            Expect::Refused("wrong Basic credentials"),
        ),
        (
            "basic-password-truncated",
            vec![(
                "authorization".into(),
                basic(AM_USER, &AM_PASSWORD[..AM_PASSWORD.len() - 1]),
            )],
            "",
            Expect::Refused("wrong Basic credentials"),
        ),
        (
            "basic-password-extended",
            vec![(
                "authorization".into(),
                basic(AM_USER, &format!("{AM_PASSWORD}x")),
            )],
            "",
            Expect::Refused("wrong Basic credentials"),
        ),
        (
            "basic-password-padded-inside",
            vec![(
                "authorization".into(),
                basic(AM_USER, &format!(" {AM_PASSWORD} ")),
            )],
            "",
            Expect::Refused("wrong Basic credentials"),
        ),
        (
            "basic-empty-password",
            vec![("authorization".into(), basic(AM_USER, ""))],
            "",
            Expect::Refused("wrong Basic credentials"),
        ),
        (
            "basic-empty-credentials",
            vec![("authorization".into(), format!("Basic {}", b64(":")))],
            "",
            Expect::Refused("wrong Basic credentials"),
        ),
        (
            "basic-not-base64",
            vec![("authorization".into(), "Basic not*base64!".into())],
            "",
            Expect::Refused("Basic credentials are not base64"),
        ),
        (
            "basic-truncated-base64",
            vec![(
                "authorization".into(),
                good_basic[..good_basic.len() - 3].to_string(),
            )],
            "",
            Expect::Refused("Basic credentials are not base64"),
        ),
        (
            "basic-as-bearer",
            vec![(
                "authorization".into(),
                format!("Bearer {}", b64(format!("{AM_USER}:{AM_PASSWORD}"))),
            )],
            "",
            Expect::Refused("wrong Bearer credentials"),
        ),
    ];
    table
        .drain(..)
        .map(|(name, headers, query, expect)| {
            let refs: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            Case {
                name: format!("alertmanager/{name}"),
                hook: Hook::Main,
                event: http("/alertmanager", query, &refs, &firing(name)),
                presented: headers.iter().map(|(_, v)| v.clone()).collect(),
                expect,
            }
        })
        .collect()
}

fn grafana_hmac_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |name: &str, build: &Build<'_>, expect| {
        let body = notification("firing", &format!("grafana-hmac/{name}"));
        let (headers, sent) = build(&body);
        let refs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        cases.push(Case {
            name: format!("grafana-hmac/{name}"),
            hook: Hook::GrafanaHmac,
            event: http("/grafana", "", &refs, &sent),
            presented: headers.iter().map(|(_, v)| v.clone()).collect(),
            expect,
        });
    };
    let h = |pairs: &[(&str, String)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    };
    let ts = || now().to_string();
    add(
        "signed",
        &|b| {
            let t = ts();
            (h(&[(SIG, grafana_signed(&t, b)), (TS, t)]), b.into())
        },
        Expect::Acts,
    );
    add(
        "header-names-lower",
        &|b| {
            let t = ts();
            (
                h(&[
                    (&SIG.to_lowercase(), grafana_signed(&t, b)),
                    (&TS.to_lowercase(), t),
                ]),
                b.into(),
            )
        },
        Expect::Acts,
    );
    add(
        "header-names-upper",
        &|b| {
            let t = ts();
            (
                h(&[
                    (&SIG.to_uppercase(), grafana_signed(&t, b)),
                    (&TS.to_uppercase(), t),
                ]),
                b.into(),
            )
        },
        Expect::Acts,
    );
    add(
        "fallback-signature-header",
        &|b| {
            let t = ts();
            (
                h(&[
                    ("X-Grafana-Alert-Signature", grafana_signed(&t, b)),
                    (TS, t),
                ]),
                b.into(),
            )
        },
        Expect::Acts,
    );
    add(
        "signature-hex-upper",
        &|b| {
            let t = ts();
            (
                h(&[(SIG, grafana_signed(&t, b).to_uppercase()), (TS, t)]),
                b.into(),
            )
        },
        Expect::Acts,
    );
    add(
        "values-padded",
        &|b| {
            let t = ts();
            (
                h(&[
                    (SIG, format!("  {} ", grafana_signed(&t, b))),
                    (TS, format!(" {t}\t")),
                ]),
                b.into(),
            )
        },
        Expect::Acts,
    );
    add(
        "missing-everything",
        &|b| (vec![], b.into()),
        Expect::Refused("header X-Grafana-Alerting-Signature is missing"),
    );
    add(
        "missing-signature",
        &|b| (h(&[(TS, ts())]), b.into()),
        Expect::Refused("header X-Grafana-Alerting-Signature is missing"),
    );
    add(
        "missing-timestamp",
        &|b| (h(&[(SIG, grafana_signed(&ts(), b))]), b.into()),
        Expect::Refused("header X-Grafana-Alerting-Timestamp is missing"),
    );
    add(
        "wrong-secret",
        &|b| {
            let t = ts();
            let sig = hmac_hex("not-the-secret", format!("{t}:{b}").as_bytes());
            (h(&[(SIG, sig), (TS, t)]), b.into())
        },
        Expect::Refused("wrong signature"),
    );
    add(
        "secret-other-case",
        &|b| {
            let t = ts();
            let sig = hmac_hex(
                &GRAFANA_SECRET.to_lowercase(),
                format!("{t}:{b}").as_bytes(),
            );
            (h(&[(SIG, sig), (TS, t)]), b.into())
        },
        Expect::Refused("wrong signature"),
    );
    add(
        "signature-truncated",
        &|b| {
            let t = ts();
            let sig = grafana_signed(&t, b);
            (h(&[(SIG, sig[..63].to_string()), (TS, t)]), b.into())
        },
        Expect::Refused("not 64 hex digits"),
    );
    add(
        "signature-truncated-even",
        &|b| {
            let t = ts();
            let sig = grafana_signed(&t, b);
            (h(&[(SIG, sig[..62].to_string()), (TS, t)]), b.into())
        },
        Expect::Refused("not 64 hex digits"),
    );
    add(
        "signature-extended",
        &|b| {
            let t = ts();
            (
                h(&[(SIG, format!("{}00", grafana_signed(&t, b))), (TS, t)]),
                b.into(),
            )
        },
        Expect::Refused("not 64 hex digits"),
    );
    add(
        "signature-prefixed",
        &|b| {
            let t = ts();
            (
                h(&[(SIG, format!("sha256={}", grafana_signed(&t, b))), (TS, t)]),
                b.into(),
            )
        },
        Expect::Refused("not 64 hex digits"),
    );
    add(
        "signature-empty",
        &|b| (h(&[(SIG, String::new()), (TS, ts())]), b.into()),
        Expect::Refused("not 64 hex digits"),
    );
    add(
        "timestamp-empty",
        &|b| {
            (
                h(&[(SIG, grafana_signed("", b)), (TS, String::new())]),
                b.into(),
            )
        },
        Expect::Refused("header X-Grafana-Alerting-Timestamp is malformed: not Unix seconds"),
    );
    add(
        "timestamp-iso",
        &|b| {
            let t = "2026-12-02T06:00:00Z";
            (h(&[(SIG, grafana_signed(t, b)), (TS, t.into())]), b.into())
        },
        Expect::Refused("not Unix seconds"),
    );
    add(
        "timestamp-negative",
        &|b| {
            let t = format!("-{}", now());
            (h(&[(SIG, grafana_signed(&t, b)), (TS, t)]), b.into())
        },
        Expect::Refused("not Unix seconds"),
    );
    add(
        "timestamp-float",
        &|b| {
            let t = format!("{}.5", now());
            (h(&[(SIG, grafana_signed(&t, b)), (TS, t)]), b.into())
        },
        Expect::Refused("not Unix seconds"),
    );
    add(
        "timestamp-huge",
        &|b| {
            let t = "1e300".to_string();
            (h(&[(SIG, grafana_signed(&t, b)), (TS, t)]), b.into())
        },
        Expect::Refused("not Unix seconds"),
    );
    add(
        "signature-over-body-only",
        &|b| {
            (
                h(&[(SIG, hmac_hex(GRAFANA_SECRET, b.as_bytes())), (TS, ts())]),
                b.into(),
            )
        },
        Expect::Refused("wrong signature"),
    );
    add(
        "tampered-body",
        &|b| {
            let t = ts();
            let sig = grafana_signed(&t, b);
            (h(&[(SIG, sig), (TS, t)]), b.replace("firing", "resolved"))
        },
        Expect::Refused("wrong signature"),
    );
    add(
        "body-extended",
        &|b| {
            let t = ts();
            let sig = grafana_signed(&t, b);
            (h(&[(SIG, sig), (TS, t)]), format!("{b} "))
        },
        Expect::Refused("wrong signature"),
    );
    add(
        "right-signature-wrong-timestamp",
        &|b| {
            let t = now();
            let sig = grafana_signed(&t.to_string(), b);
            (h(&[(SIG, sig), (TS, (t + 1).to_string())]), b.into())
        },
        Expect::Refused("wrong signature"),
    );
    add(
        "timestamp-leading-zero",
        &|b| {
            let t = now();
            let sig = grafana_signed(&t.to_string(), b);
            (h(&[(SIG, sig), (TS, format!("0{t}"))]), b.into())
        },
        Expect::Refused("wrong signature"),
    );
    add(
        "replayed-old",
        &|b| {
            let t = (now() - 301).to_string();
            (h(&[(SIG, grafana_signed(&t, b)), (TS, t)]), b.into())
        },
        Expect::Refused("outside the 300 s replay window"),
    );
    add(
        "replayed-a-day-old",
        &|b| {
            let t = (now() - 86_400).to_string();
            (h(&[(SIG, grafana_signed(&t, b)), (TS, t)]), b.into())
        },
        Expect::Refused("outside the 300 s replay window"),
    );
    add(
        "from-the-future",
        &|b| {
            let t = (now() + 310).to_string();
            (h(&[(SIG, grafana_signed(&t, b)), (TS, t)]), b.into())
        },
        Expect::Refused("outside the 300 s replay window"),
    );
    add(
        "duplicated-signature-header",
        &|b| {
            let t = ts();
            let sig = grafana_signed(&t, b);
            (
                h(&[(SIG, sig.clone()), (&SIG.to_lowercase(), sig), (TS, t)]),
                b.into(),
            )
        },
        Expect::Refused("is given more than once"),
    );
    add(
        "both-signature-headers",
        &|b| {
            let t = ts();
            let sig = grafana_signed(&t, b);
            (
                h(&[
                    (SIG, sig.clone()),
                    ("X-Grafana-Alert-Signature", sig),
                    (TS, t),
                ]),
                b.into(),
            )
        },
        Expect::Refused("is given more than once"),
    );
    add(
        "duplicated-timestamp-header",
        &|b| {
            let t = ts();
            let sig = grafana_signed(&t, b);
            (
                h(&[(SIG, sig), (TS, t.clone()), (&TS.to_lowercase(), t)]),
                b.into(),
            )
        },
        Expect::Refused("header X-Grafana-Alerting-Timestamp is given more than once"),
    );
    add(
        "signature-comma-joined",
        &|b| {
            let t = ts();
            let sig = grafana_signed(&t, b);
            (h(&[(SIG, format!("{sig},{sig}")), (TS, t)]), b.into())
        },
        Expect::Refused("not 64 hex digits"),
    );
    add(
        "signature-as-bearer",
        &|b| {
            let t = ts();
            (
                h(&[
                    ("authorization", format!("Bearer {}", grafana_signed(&t, b))),
                    (TS, t),
                ]),
                b.into(),
            )
        },
        Expect::Refused("header X-Grafana-Alerting-Signature is missing"),
    );
    add(
        "secret-as-signature",
        &|b| (h(&[(SIG, GRAFANA_SECRET.into()), (TS, ts())]), b.into()),
        Expect::Refused("not 64 hex digits"),
    );
    cases
}

fn grafana_token_cases() -> Vec<Case> {
    let bearer = format!("Bearer {GRAFANA_TOKEN}");
    let table: Vec<(&str, NamedHeaders, Expect)> = vec![
        (
            "bearer",
            vec![("authorization", bearer.clone())],
            Expect::Acts,
        ),
        (
            "scheme-lower",
            vec![("authorization", format!("bearer {GRAFANA_TOKEN}"))],
            Expect::Acts,
        ),
        (
            "header-name-upper",
            vec![("AUTHORIZATION", bearer.clone())],
            Expect::Acts,
        ),
        (
            "missing",
            vec![],
            Expect::Refused("header Authorization is missing"),
        ),
        (
            "empty",
            vec![("authorization", String::new())],
            Expect::Refused("header Authorization is malformed"),
        ),
        (
            "wrong",
            vec![("authorization", "Bearer nope".into())],
            Expect::Refused("wrong Bearer credentials"),
        ),
        (
            "truncated",
            vec![(
                "authorization",
                format!("Bearer {}", &GRAFANA_TOKEN[..GRAFANA_TOKEN.len() - 1]),
            )],
            Expect::Refused("wrong Bearer credentials"),
        ),
        (
            "extended",
            vec![("authorization", format!("{bearer}="))],
            Expect::Refused("wrong Bearer credentials"),
        ),
        (
            "value-upper",
            vec![(
                "authorization",
                format!("Bearer {}", GRAFANA_TOKEN.to_uppercase()),
            )],
            Expect::Refused("wrong Bearer credentials"),
        ),
        (
            "alertmanagers-token",
            vec![("authorization", format!("Bearer {AM_TOKEN}"))],
            Expect::Refused("wrong Bearer credentials"),
        ),
        (
            "duplicated",
            vec![
                ("authorization", bearer.clone()),
                ("Authorization", bearer.clone()),
            ],
            Expect::Refused("header Authorization is given more than once"),
        ),
        (
            "basic-scheme",
            vec![("authorization", basic("grafana", GRAFANA_TOKEN))],
            Expect::Refused("scheme is not accepted here (accepted: Bearer)"),
        ),
        (
            "hmac-instead",
            vec![(SIG, hmac_hex(GRAFANA_TOKEN, b"x"))],
            Expect::Refused("header Authorization is missing"),
        ),
    ];
    table
        .into_iter()
        .map(|(name, headers, expect)| {
            let body = notification("firing", &format!("grafana-token/{name}"));
            let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            Case {
                name: format!("grafana-token/{name}"),
                hook: Hook::GrafanaToken,
                event: http("/grafana", "", &refs, &body),
                presented: headers.iter().map(|(_, v)| v.clone()).collect(),
                expect,
            }
        })
        .collect()
}

fn cloudmonitor_cases() -> Vec<Case> {
    let upper = CMS_TOKEN.to_uppercase();
    let truncated = &CMS_TOKEN[..CMS_TOKEN.len() - 1];
    let table: Vec<(&str, String, NamedHeaders, Expect)> = vec![
        ("token", format!("token={CMS_TOKEN}"), vec![], Expect::Acts),
        (
            "token-among-others",
            format!("a=1&token={CMS_TOKEN}&b=2"),
            vec![],
            Expect::Acts,
        ),
        (
            "name-percent-encoded",
            format!("tok%65n={CMS_TOKEN}"),
            vec![],
            Expect::Acts,
        ),
        (
            "value-percent-encoded",
            format!("token={}", CMS_TOKEN.replace('-', "%2D")),
            vec![],
            Expect::Acts,
        ),
        (
            "missing",
            String::new(),
            vec![],
            Expect::Refused("query parameter token is missing"),
        ),
        (
            "empty",
            "token=".into(),
            vec![],
            Expect::Refused("wrong token"),
        ),
        (
            "name-only",
            "token".into(),
            vec![],
            Expect::Refused("wrong token"),
        ),
        (
            "wrong",
            "token=not-the-token".into(),
            vec![],
            Expect::Refused("wrong token"),
        ),
        (
            "truncated",
            format!("token={truncated}"),
            vec![],
            Expect::Refused("wrong token"),
        ),
        (
            "extended",
            format!("token={CMS_TOKEN}0"),
            vec![],
            Expect::Refused("wrong token"),
        ),
        (
            "value-upper",
            format!("token={upper}"),
            vec![],
            Expect::Refused("wrong token"),
        ),
        (
            "padded-plus",
            format!("token=+{CMS_TOKEN}+"),
            vec![],
            Expect::Refused("wrong token"),
        ),
        (
            "padded-percent",
            format!("token=%20{CMS_TOKEN}"),
            vec![],
            Expect::Refused("wrong token"),
        ),
        (
            "nul-appended",
            format!("token={CMS_TOKEN}%00"),
            vec![],
            Expect::Refused("wrong token"),
        ),
        (
            "duplicated",
            format!("token={CMS_TOKEN}&token={CMS_TOKEN}"),
            vec![],
            Expect::Refused("query parameter token is given more than once"),
        ),
        (
            "duplicated-wrong-first",
            format!("token=x&token={CMS_TOKEN}"),
            vec![],
            Expect::Refused("query parameter token is given more than once"),
        ),
        (
            "name-upper",
            format!("TOKEN={CMS_TOKEN}"),
            vec![],
            Expect::Refused("query parameter token is missing"),
        ),
        (
            "name-suffixed",
            format!("token_={CMS_TOKEN}"),
            vec![],
            Expect::Refused("query parameter token is missing"),
        ),
        (
            "in-authorization-header",
            String::new(),
            vec![("authorization", format!("Bearer {CMS_TOKEN}"))],
            Expect::Refused("query parameter token is missing"),
        ),
        (
            "alertmanagers-token",
            format!("token={AM_TOKEN}"),
            vec![],
            Expect::Refused("wrong token"),
        ),
    ];
    table
        .into_iter()
        .map(|(name, query, headers, expect)| {
            let mut all: Vec<(&str, &str)> =
                vec![("content-type", "application/x-www-form-urlencoded")];
            all.extend(headers.iter().map(|(k, v)| (*k, v.as_str())));
            let mut presented: Vec<String> = headers.iter().map(|(_, v)| v.clone()).collect();
            presented.push(query.clone());
            Case {
                name: format!("cloudmonitor/{name}"),
                hook: Hook::Cms,
                event: function_url_event(
                    "POST",
                    "/cloudmonitor",
                    &query,
                    &all,
                    &cms_form("ALERT", &format!("cloudmonitor/{name}")),
                    false,
                ),
                presented,
                expect,
            }
        })
        .collect()
}

/// `config/routes.json` drains the pool on `ApiPoolDegraded` from any source.
#[tokio::test]
async fn every_webhook_credential_is_checked_through_the_handler() {
    let h = Hooks::start().await;
    let mut cases = alertmanager_cases();
    cases.extend(grafana_hmac_cases());
    cases.extend(grafana_token_cases());
    cases.extend(cloudmonitor_cases());
    let (mut acted, mut refused) = (0, 0);
    let mut failures: Vec<String> = Vec::new();
    for case in cases {
        let name = &case.name;
        h.stack.cloud.clear_requests();
        let hook = h.hook(case.hook);
        let seen = hook.engine().state().seen().len();
        let records = hook.engine().state().records();
        let (status, body, len) = send(hook, case.event).await;
        check!(
            failures,
            len < 1024,
            "{name}: the answer stays small ({len} bytes)"
        );
        match case.expect {
            Expect::Acts => {
                acted += 1;
                let drained = status == 200 && body["summary"]["drained"] == 1;
                check!(failures, drained, "{name}: should act: {status} {body}");
                check!(
                    failures,
                    h.pool_weight() == Some(0),
                    "{name}: the pool was drained"
                );
                if !drained {
                    continue;
                }
                let (status, body, _) = send(hook, good_resolved(case.hook, name)).await;
                check!(
                    failures,
                    (status, body["summary"]["restored"].as_u64()) == (200, Some(1)),
                    "{name}: restore: {status} {body}"
                );
                check!(
                    failures,
                    h.pool_weight() == Some(10),
                    "{name}: the pool came back"
                );
                let outcomes = h.stack.moto.drain(&h.stack.results_url).await;
                check!(
                    failures,
                    outcomes.len() == 2,
                    "{name}: two outcomes: {outcomes:?}"
                );
            }
            Expect::Refused(why) => {
                refused += 1;
                check!(
                    failures,
                    status == 401,
                    "{name}: should be 401: {status} {body}"
                );
                check!(failures, body["error"] == "unauthorized", "{name}: {body}");
                let reason = body["reason"].as_str().unwrap_or_default();
                check!(
                    failures,
                    reason.contains(why),
                    "{name}: the reason should say {why:?}: {body}"
                );
                let text = body.to_string();
                for secret in SECRETS {
                    check!(
                        failures,
                        !text.contains(secret),
                        "{name}: the answer holds a secret"
                    );
                }
                for p in case.presented.iter().filter(|p| p.len() >= 12) {
                    check!(
                        failures,
                        !text.contains(p.as_str()),
                        "{name}: the answer repeats what was presented"
                    );
                }
                let requests: Vec<String> = h
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
                check!(
                    failures,
                    hook.engine().state().records() == records,
                    "{name}: no drain state"
                );
                let outcomes = h.stack.moto.drain(&h.stack.results_url).await;
                check!(
                    failures,
                    outcomes.is_empty(),
                    "{name}: no outcome: {outcomes:?}"
                );
                check!(
                    failures,
                    hook.engine().state().seen().len() == seen,
                    "{name}: a refused signature is not remembered"
                );
                if h.pool_weight() != Some(10) {
                    failures.push(format!("{name}: the pool was drained"));
                    send(hook, good_resolved(case.hook, name)).await;
                    h.stack.moto.drain(&h.stack.results_url).await;
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed checks:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!((acted, refused), (22, 88), "the matrix's size");
}

/// CloudWatch alarms arrive as an SNS invocation: Lambda's resource policy (the SNS service
/// principal, for the alarm topic) is their authentication, so the function checks no
/// credential. The Function URL cannot make an SNS invocation: an SNS event posted to it is an
/// HTTP body like any other, refused or not found.
#[tokio::test]
async fn the_sns_path_is_only_reachable_as_an_sns_invocation() {
    let h = Hooks::start().await;
    let sns = sns_event("0f8e7d6c-0000-4938-8271-605f4e3d2c1b", "ALARM").to_string();
    let bearer = format!("Bearer {AM_TOKEN}");
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            "root",
            http("/", "", &[], &sns),
            404,
            "post to /alertmanager",
        ),
        ("sns-path", http("/sns", "", &[], &sns), 404, "post to"),
        (
            "cloudwatch-path",
            http("/cloudwatch", "", &[], &sns),
            404,
            "post to",
        ),
        (
            "nested-path",
            http("/alertmanager/sns", "", &[("authorization", &bearer)], &sns),
            404,
            "post to",
        ),
        (
            "alertmanager-unauthenticated",
            http("/alertmanager", "", &[], &sns),
            401,
            "unauthorized",
        ),
        // With Alertmanager's credentials an SNS body is still not an Alertmanager payload.
        (
            "alertmanager-authenticated",
            http("/alertmanager", "", &[("authorization", &bearer)], &sns),
            400,
            "alerts: missing",
        ),
        (
            "get",
            function_url_event(
                "GET",
                "/alertmanager",
                "",
                &[("authorization", &bearer)],
                &sns,
                false,
            ),
            405,
            "use POST",
        ),
    ];
    for (name, event, expected, why) in cases {
        let (status, body, _) = send(&h.main, event).await;
        assert_eq!(status, expected, "{name}: {body}");
        assert!(body.to_string().contains(why), "{name}: {body}");
    }
    assert!(h.stack.cloud.requests().is_empty());
    assert!(h.main.engine().state().records().is_empty());
    assert!(h.stack.moto.drain(&h.stack.results_url).await.is_empty());

    // The same message as an SNS invocation acts.
    let answer = h
        .main
        .handle(
            sns_event("0f8e7d6c-0000-4938-8271-605f4e3d2c1b", "ALARM"),
            "req-sns",
            Instant::now() + Duration::from_secs(20),
        )
        .await
        .expect("handled");
    assert_eq!(answer["summaries"][0]["drained"], 1, "{answer}");
    assert_eq!(h.pool_weight(), Some(0));
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

    async fn send(&self, event: Value) -> (u16, Value, usize) {
        let event: HttpRequestEvent = serde_json::from_value(event).unwrap();
        let response = self.chatops.handle(&event).await;
        (
            response.status_code,
            serde_json::from_str(&response.body).unwrap_or(Value::Null),
            response.body.len(),
        )
    }

    fn form(&self, text: &str) -> String {
        slack_form(ONCALL, OPS, text, &self.response_url())
    }

    async fn work_all(&self) {
        let response = self.0.work().await;
        assert!(response.batch_item_failures.is_empty(), "{response:?}");
    }
}

fn slack_event(headers: &[(&str, &str)], form: &str) -> Value {
    let mut all = vec![("content-type", "application/x-www-form-urlencoded")];
    all.extend_from_slice(headers);
    function_url_event("POST", "/", "", &all, &b64(form), true)
}

#[tokio::test]
async fn every_slack_signature_flaw_is_refused() {
    let c = Chat::start().await;
    type Boxed = Box<Build<'static>>;
    let sign = |ts: &str, form: &str| slack_signature(SLACK_SECRET, ts, form.as_bytes());
    let h = |pairs: &[(&str, String)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    };
    let sig = "x-slack-signature";
    let tsh = "x-slack-request-timestamp";
    let cases: Vec<(&str, Boxed, Option<&str>)> = vec![
        (
            "signed",
            Box::new(move |f| {
                let t = now().to_string();
                (h(&[(sig, sign(&t, f)), (tsh, t)]), f.into())
            }),
            None,
        ),
        (
            "header-names-capitalised",
            Box::new(move |f| {
                let t = now().to_string();
                (
                    h(&[
                        ("X-Slack-Signature", sign(&t, f)),
                        ("X-Slack-Request-Timestamp", t),
                    ]),
                    f.into(),
                )
            }),
            None,
        ),
        (
            "header-names-upper",
            Box::new(move |f| {
                let t = now().to_string();
                (
                    h(&[
                        ("X-SLACK-SIGNATURE", sign(&t, f)),
                        ("X-SLACK-REQUEST-TIMESTAMP", t),
                    ]),
                    f.into(),
                )
            }),
            None,
        ),
        (
            "values-padded",
            Box::new(move |f| {
                let t = now().to_string();
                (
                    h(&[(sig, format!(" {} ", sign(&t, f))), (tsh, format!(" {t} "))]),
                    f.into(),
                )
            }),
            None,
        ),
        (
            "at-the-window's-edge",
            Box::new(move |f| {
                let t = (now() - 290).to_string();
                (h(&[(sig, sign(&t, f)), (tsh, t)]), f.into())
            }),
            None,
        ),
        (
            "missing-everything",
            Box::new(move |f| (vec![], f.into())),
            Some("X-Slack-Request-Timestamp is missing"),
        ),
        (
            "missing-signature",
            Box::new(move |f| (h(&[(tsh, now().to_string())]), f.into())),
            Some("X-Slack-Signature is missing"),
        ),
        (
            "missing-timestamp",
            Box::new(move |f| (h(&[(sig, sign(&now().to_string(), f))]), f.into())),
            Some("X-Slack-Request-Timestamp is missing"),
        ),
        (
            "wrong-secret",
            Box::new(move |f| {
                let t = now().to_string();
                (
                    h(&[
                        (sig, slack_signature("not-the-secret", &t, f.as_bytes())),
                        (tsh, t),
                    ]),
                    f.into(),
                )
            }),
            Some("does not match"),
        ),
        (
            "secret-other-case",
            Box::new(move |f| {
                let t = now().to_string();
                (
                    h(&[
                        (
                            sig,
                            slack_signature(&SLACK_SECRET.to_uppercase(), &t, f.as_bytes()),
                        ),
                        (tsh, t),
                    ]),
                    f.into(),
                )
            }),
            Some("does not match"),
        ),
        (
            "truncated",
            Box::new(move |f| {
                let t = now().to_string();
                let s = sign(&t, f);
                (
                    h(&[(sig, s[..s.len() - 1].to_string()), (tsh, t)]),
                    f.into(),
                )
            }),
            Some("does not match"),
        ),
        (
            "prefix-only",
            Box::new(move |f| {
                (
                    h(&[(sig, "v0=".into()), (tsh, now().to_string())]),
                    f.into(),
                )
            }),
            Some("does not match"),
        ),
        (
            "extended",
            Box::new(move |f| {
                let t = now().to_string();
                (h(&[(sig, format!("{}0", sign(&t, f))), (tsh, t)]), f.into())
            }),
            Some("does not match"),
        ),
        (
            "hex-upper",
            Box::new(move |f| {
                let t = now().to_string();
                (h(&[(sig, sign(&t, f).to_uppercase()), (tsh, t)]), f.into())
            }),
            Some("does not match"),
        ),
        (
            "version-v1",
            Box::new(move |f| {
                let t = now().to_string();
                (
                    h(&[(sig, sign(&t, f).replacen("v0=", "v1=", 1)), (tsh, t)]),
                    f.into(),
                )
            }),
            Some("does not match"),
        ),
        (
            "no-version",
            Box::new(move |f| {
                let t = now().to_string();
                (
                    h(&[(sig, sign(&t, f)[3..].to_string()), (tsh, t)]),
                    f.into(),
                )
            }),
            Some("does not match"),
        ),
        (
            "empty-signature",
            Box::new(move |f| {
                (
                    h(&[(sig, String::new()), (tsh, now().to_string())]),
                    f.into(),
                )
            }),
            Some("does not match"),
        ),
        (
            "empty-timestamp",
            Box::new(move |f| (h(&[(sig, sign("", f)), (tsh, String::new())]), f.into())),
            Some("not a Unix time"),
        ),
        (
            "timestamp-text",
            Box::new(move |f| (h(&[(sig, sign("soon", f)), (tsh, "soon".into())]), f.into())),
            Some("not a Unix time"),
        ),
        (
            "timestamp-float",
            Box::new(move |f| {
                let t = format!("{}.0", now());
                (h(&[(sig, sign(&t, f)), (tsh, t)]), f.into())
            }),
            Some("not a Unix time"),
        ),
        (
            "timestamp-huge",
            Box::new(move |f| {
                (
                    h(&[(sig, sign("1e300", f)), (tsh, "1e300".into())]),
                    f.into(),
                )
            }),
            Some("not a Unix time"),
        ),
        (
            "timestamp-overflow",
            Box::new(move |f| {
                let t = "99999999999999999999".to_string();
                (h(&[(sig, sign(&t, f)), (tsh, t)]), f.into())
            }),
            Some("not a Unix time"),
        ),
        (
            "replayed-old",
            Box::new(move |f| {
                let t = (now() - 301).to_string();
                (h(&[(sig, sign(&t, f)), (tsh, t)]), f.into())
            }),
            Some("more than 5 minutes old"),
        ),
        (
            "from-the-future",
            Box::new(move |f| {
                let t = (now() + 310).to_string();
                (h(&[(sig, sign(&t, f)), (tsh, t)]), f.into())
            }),
            Some("more than 5 minutes old or ahead"),
        ),
        (
            "timestamp-i64-min",
            Box::new(move |f| {
                let t = i64::MIN.to_string();
                (h(&[(sig, sign(&t, f)), (tsh, t)]), f.into())
            }),
            Some("more than 5 minutes old"),
        ),
        (
            "right-signature-wrong-timestamp",
            Box::new(move |f| {
                let t = now();
                (
                    h(&[(sig, sign(&t.to_string(), f)), (tsh, (t - 1).to_string())]),
                    f.into(),
                )
            }),
            Some("does not match"),
        ),
        (
            "timestamp-leading-zero",
            Box::new(move |f| {
                let t = now();
                (
                    h(&[(sig, sign(&t.to_string(), f)), (tsh, format!("0{t}"))]),
                    f.into(),
                )
            }),
            Some("does not match"),
        ),
        (
            "tampered-body",
            Box::new(move |f| {
                let t = now().to_string();
                (
                    h(&[(sig, sign(&t, f)), (tsh, t)]),
                    f.replace("dial+edge-ga", "dial+edge-ga+0+"),
                )
            }),
            Some("does not match"),
        ),
        (
            "body-extended",
            Box::new(move |f| {
                let t = now().to_string();
                (
                    h(&[(sig, sign(&t, f)), (tsh, t)]),
                    format!("{f}&user_id=U0ATTACKR"),
                )
            }),
            Some("does not match"),
        ),
        (
            "duplicated-signature",
            Box::new(move |f| {
                let t = now().to_string();
                let s = sign(&t, f);
                (
                    h(&[(sig, s.clone()), ("X-Slack-Signature", s), (tsh, t)]),
                    f.into(),
                )
            }),
            Some("X-Slack-Signature is given more than once"),
        ),
        (
            "duplicated-timestamp",
            Box::new(move |f| {
                let t = now().to_string();
                (
                    h(&[
                        (sig, sign(&t, f)),
                        (tsh, t.clone()),
                        ("X-Slack-Request-Timestamp", t),
                    ]),
                    f.into(),
                )
            }),
            Some("X-Slack-Request-Timestamp is given more than once"),
        ),
        (
            "signature-comma-joined",
            Box::new(move |f| {
                let t = now().to_string();
                let s = sign(&t, f);
                (h(&[(sig, format!("{s},{s}")), (tsh, t)]), f.into())
            }),
            Some("does not match"),
        ),
        (
            "secret-as-signature",
            Box::new(move |f| {
                (
                    h(&[
                        (sig, format!("v0={SLACK_SECRET}")),
                        (tsh, now().to_string()),
                    ]),
                    f.into(),
                )
            }),
            Some("does not match"),
        ),
        (
            "signature-in-authorization",
            Box::new(move |f| {
                let t = now().to_string();
                (
                    h(&[
                        ("authorization", format!("Bearer {}", sign(&t, f))),
                        (tsh, t),
                    ]),
                    f.into(),
                )
            }),
            Some("X-Slack-Signature is missing"),
        ),
    ];
    let (mut acted, mut refused) = (0, 0);
    let mut failures: Vec<String> = Vec::new();
    for (i, (name, build, why)) in cases.iter().enumerate() {
        let form = c.form(&format!("dial edge-ga {}", 10 + i));
        let (headers, body) = build(&form);
        let refs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let before = c.queued().await;
        let (status, reply, len) = c.send(slack_event(&refs, &body)).await;
        check!(failures, len < 1024, "{name}: the answer stays small");
        match why {
            None => {
                acted += 1;
                let text = reply["text"].as_str().unwrap_or_default();
                check!(
                    failures,
                    status == 200 && text.starts_with("Queued"),
                    "{name}: should be queued: {status} {reply}"
                );
                let after = c.queued().await;
                check!(
                    failures,
                    after == before + 1,
                    "{name}: one command queued ({before} -> {after})"
                );
            }
            Some(why) => {
                refused += 1;
                check!(
                    failures,
                    status == 401,
                    "{name}: should be 401: {status} {reply}"
                );
                let error = reply["error"].as_str().unwrap_or_default();
                check!(
                    failures,
                    error.contains(why),
                    "{name}: should say {why:?}: {reply}"
                );
                check!(
                    failures,
                    !reply.to_string().contains(SLACK_SECRET),
                    "{name}: the secret"
                );
                for (_, v) in headers.iter().filter(|(_, v)| v.len() >= 12) {
                    check!(
                        failures,
                        !reply.to_string().contains(v.as_str()),
                        "{name}: repeats {v}"
                    );
                }
                let after = c.queued().await;
                check!(
                    failures,
                    after == before,
                    "{name}: nothing queued ({before} -> {after})"
                );
            }
        }
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
    assert_eq!((acted, refused), (5, 29), "the matrix's size");
}

// ---- Replays inside the window ----

/// Grafana signs each delivery (retries included) with the time it is sent, so one signature
/// is one delivery: the same signature twice inside the window is a replay, refused before it
/// can act, and the first one's effect stands. Checked with the DynamoDB state (on moto), where
/// the seen signatures are kept with a TTL.
#[tokio::test]
async fn a_replayed_grafana_request_inside_the_window_acts_once() {
    let stack = Stack::start().await;
    stack.moto.create_state_table("lbpilot-state").await;
    let state = DynamoState::new(stack.moto.dynamodb(), "lbpilot-state");
    let hook = webhook(
        &stack,
        state,
        &[
            ("LBPILOT_GRAFANA_HMAC_SECRET", GRAFANA_SECRET),
            ("LBPILOT_GRAFANA_TIMESTAMP_HEADER", TS),
        ],
    );
    let weight = || {
        stack
            .cloud
            .roma_member_group(POOL)
            .unwrap()
            .member_group_weight
    };
    let writes = || {
        stack
            .cloud
            .requests_for(Product::Roma, "UpdateMemberGroup")
            .len()
    };
    let ts = now().to_string();
    let signed = |body: &str, ts: &str| {
        let sig = grafana_signed(ts, body);
        http("/grafana", "", &[(SIG, &sig), (TS, ts)], body)
    };
    let firing = notification("firing", "replay");
    let resolved = notification("resolved", "replay");

    let (status, body, _) = send(&hook, signed(&firing, &ts)).await;
    assert_eq!(
        (status, body["summary"]["drained"].as_u64()),
        (200, Some(1)),
        "{body}"
    );
    assert_eq!(weight(), Some(0));

    // The same request again while drained: refused as a replay.
    let (status, body, _) = send(&hook, signed(&firing, &ts)).await;
    assert_eq!(status, 401, "replayed firing while drained: {body}");
    assert!(
        body["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("already received"),
        "{body}"
    );

    let (status, body, _) = send(&hook, signed(&resolved, &ts)).await;
    assert_eq!(
        (status, body["summary"]["restored"].as_u64()),
        (200, Some(1)),
        "{body}"
    );
    assert_eq!(weight(), Some(10));

    // After the resolution: a replayed firing must not drain again, a replayed resolution must
    // not restore again.
    let (status, body, _) = send(&hook, signed(&firing, &ts)).await;
    assert_eq!(status, 401, "replayed firing after the resolution: {body}");
    assert_eq!(weight(), Some(10), "the replay did not drain again");
    let (status, body, _) = send(&hook, signed(&resolved, &ts)).await;
    assert_eq!(status, 401, "replayed resolution: {body}");
    assert_eq!(
        writes(),
        2,
        "one drain and one restore reached the provider"
    );
    let outcomes = stack.moto.drain(&stack.results_url).await;
    assert_eq!(
        outcomes.len(),
        2,
        "one outcome each, none for the replays: {outcomes:?}"
    );

    // A new delivery of the same firing (Grafana re-signs every send) is not a replay, but
    // its alert resolved after it fired: a late notification, which drains nothing.
    let (status, body, _) = send(&hook, signed(&firing, &(now() + 1).to_string())).await;
    assert_eq!(
        (status, body["summary"]["duplicates"].as_u64()),
        (200, Some(1)),
        "{body}"
    );
    assert_eq!(weight(), Some(10));
    // The alert firing again (a new episode, started after the resolution) drains.
    let again = notification("firing", "replay-again");
    let (status, body, _) = send(&hook, signed(&again, &(now() + 2).to_string())).await;
    assert_eq!(
        (status, body["summary"]["drained"].as_u64()),
        (200, Some(1)),
        "{body}"
    );
    assert_eq!(weight(), Some(0));
}

/// The replay check needs the state table: while it is unavailable the answer is 503 (the
/// sender retries) and nothing is remembered or changed, so the retry is accepted.
#[tokio::test]
async fn the_replay_check_fails_safe_when_the_state_table_is_down() {
    let h = Hooks::start().await;
    let body = notification("firing", "outage");
    let ts = now().to_string();
    let sig = grafana_signed(&ts, &body);
    let event = http("/grafana", "", &[(SIG, &sig), (TS, &ts)], &body);
    h.grafana_hmac.engine().state().fail_next(1);
    let (status, answer, _) = send(&h.grafana_hmac, event.clone()).await;
    assert_eq!(status, 503, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("retry"),
        "{answer}"
    );
    assert!(h.stack.cloud.requests().is_empty());
    assert!(h.grafana_hmac.engine().state().seen().is_empty());
    let (status, answer, _) = send(&h.grafana_hmac, event.clone()).await;
    assert_eq!(
        (status, answer["summary"]["drained"].as_u64()),
        (200, Some(1)),
        "{answer}"
    );
    assert_eq!(h.pool_weight(), Some(0));
    let (status, _, _) = send(&h.grafana_hmac, event).await;
    assert_eq!(status, 401, "and once accepted, it is a replay");
}

/// Alertmanager, CloudMonitor and SNS sign nothing, so a repeat cannot be told from a replay:
/// a repeated firing while its drain stands is `skipped` (one change, a second outcome saying
/// so); see README for what that leaves open.
#[tokio::test]
async fn unsigned_sources_repeat_harmlessly_while_drained() {
    let h = Hooks::start().await;
    let bearer = format!("Bearer {AM_TOKEN}");
    let am = http(
        "/alertmanager",
        "",
        &[("authorization", &bearer)],
        &notification("firing", "repeat"),
    );
    let cms = function_url_event(
        "POST",
        "/cloudmonitor",
        &format!("token={CMS_TOKEN}"),
        &[("content-type", "application/x-www-form-urlencoded")],
        &cms_form("ALERT", "repeat"),
        false,
    );
    let sns = sns_event("1f8e7d6c-0000-4938-8271-605f4e3d2c1b", "ALARM");
    let resolve = [
        good_resolved(Hook::Main, "repeat"),
        good_resolved(Hook::Cms, "repeat"),
        sns_event("2f8e7d6c-0000-4938-8271-605f4e3d2c1b", "OK"),
    ];
    for ((name, event), resolve) in [("alertmanager", am), ("cloudmonitor", cms), ("sns", sns)]
        .into_iter()
        .zip(resolve)
    {
        let writes = h.writes();
        for attempt in 0..2 {
            let answer = h
                .main
                .handle(
                    event.clone(),
                    "req",
                    Instant::now() + Duration::from_secs(20),
                )
                .await
                .unwrap();
            let summary = if name == "sns" {
                answer["summaries"][0].clone()
            } else {
                serde_json::from_str::<Value>(answer["body"].as_str().unwrap()).unwrap()["summary"]
                    .clone()
            };
            let (drained, duplicates) = if attempt == 0 { (1, 0) } else { (0, 1) };
            assert_eq!(summary["drained"], drained, "{name} #{attempt}: {summary}");
            assert_eq!(
                summary["duplicates"], duplicates,
                "{name} #{attempt}: {summary}"
            );
        }
        assert_eq!(h.writes(), writes + 1, "{name}: one change");
        assert_eq!(h.pool_weight(), Some(0));
        h.main
            .handle(resolve, "req", Instant::now() + Duration::from_secs(20))
            .await
            .unwrap();
        assert_eq!(h.pool_weight(), Some(10), "{name}: restored");
    }
}

/// A Slack command is queued with its action id (from Slack's trigger id and the command) as
/// the FIFO deduplication id: the same signed request again inside the window is dropped by
/// SQS, so it is executed once, answered once on the channel, and audited once.
#[tokio::test]
async fn a_replayed_slack_command_inside_the_window_acts_once() {
    let c = Chat::start().await;
    let form = c.form("dial edge-ga 40");
    let t = now().to_string();
    let s = slack_signature(SLACK_SECRET, &t, form.as_bytes());
    let event = || {
        slack_event(
            &[("x-slack-signature", &s), ("x-slack-request-timestamp", &t)],
            &form,
        )
    };
    for attempt in 0..3 {
        let (status, reply, _) = c.send(event()).await;
        assert_eq!(status, 200, "#{attempt}: {reply}");
    }
    assert_eq!(c.queued().await, 1, "one message for three deliveries");
    c.work_all().await;
    // Replayed again after it ran (still inside the window).
    let (status, _, _) = c.send(event()).await;
    assert_eq!(status, 200);
    assert_eq!(
        c.queued().await,
        1,
        "the replay after execution is dropped too (the first is not deleted here; SQS keeps \
         a deduplication id 5 minutes either way)"
    );
    assert_eq!(
        c.stack
            .cloud
            .requests_for(Product::Ga, "UpdateEndpointGroup")
            .len(),
        1,
        "one change"
    );
    assert_eq!(
        c.stack
            .cloud
            .ga_endpoint_group(demo::GA_GROUP)
            .unwrap()
            .traffic_dial_percentage,
        40
    );
    assert_eq!(c.stack.moto.drain(&c.stack.results_url).await.len(), 1);
    assert_eq!(c.hook.wait_for(1, Duration::from_secs(5)).await.len(), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(c.hook.received().len(), 1, "one reply on the channel");

    // Another command (a new trigger id) with the same text is not a replay.
    let (status, reply, _) = c.send(slack_event_signed(&c.form("dial edge-ga 40"))).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(c.queued().await, 2);
}

fn slack_event_signed(form: &str) -> Value {
    let t = now().to_string();
    let s = slack_signature(SLACK_SECRET, &t, form.as_bytes());
    slack_event(
        &[("x-slack-signature", &s), ("x-slack-request-timestamp", &t)],
        form,
    )
}
