//! Secret scan: the four function binaries run under a local Lambda Runtime API with a
//! distinctive value for every secret setting (some from the environment, some from the
//! Secrets Manager overlay), through success and error paths: provider authentication failures
//! (a wrong key), provider 5xx, bad webhook and Slack signatures, invalid bodies, and
//! configuration errors at init. Then everything observable is scanned: the functions' stdout
//! and stderr, every outcome on the results queue, the command queue and its DLQ (bodies and
//! attributes), the Slack replies, the HTTP answers, and the Runtime API's error reports. No
//! secret may appear, nor its base64 (at any alignment) or hex or percent-encoded forms, nor
//! its first 8 characters. The `Debug` (and `Display`) output of every type that holds a
//! credential is checked the same way.
//!
//! This is the one place the project checks for leaked secrets.

use base64::Engine as _;
use lbpilot::alerts::auth::{Credentials, GrafanaHmac, UrlToken};
use lbpilot::config::{ExecutorConfig, Settings};
use lbpilot::secret::Secret;
use lbpilot::triggers::alerts::WebhookAuth;
use lbpilot_tests::fakes::seed::{AlibabaKey, HuaweiKey};
use lbpilot_tests::fakes::{FakeCloud, Fault, Product, Seed, demo};
use lbpilot_tests::harness::{
    actions, function_env, lambda_command, receive_as_event, slack_form, sqs_event, sqs_record,
};
use lbpilot_tests::moto::Moto;
use lbpilot_tests::runtime_api::{Invocation, RuntimeApi};
use lbpilot_tests::slack_stub::SlackHook;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::io::Read as _;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const ALIBABA_AK: &str = "LTAI5tScanKeyId00001";
const HUAWEI_AK: &str = "HWSCANAK00000000001";
const BASIC_USER: &str = "alertmanager";
const ONCALL: &str = "U2CERLKJA";
const OPS: &str = "C0OPS0001";
const GRAFANA_TIMESTAMP_HEADER: &str = "X-Grafana-Alerting-Timestamp";

/// Every secret value of the run, by the setting (or role) it plays. Random per run, with the
/// characters (`+/=:@%`) that make their encoded forms differ from the plain text.
struct Secrets(BTreeMap<&'static str, String>);

fn random_secret(rng: &mut fastrand::Rng, len: usize, extra: &str) -> String {
    let alphabet: Vec<char> = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
        .chars()
        .collect();
    let extra: Vec<char> = extra.chars().collect();
    (0..len)
        .map(|i| {
            if !extra.is_empty() && i % 7 == 3 {
                extra[rng.usize(..extra.len())]
            } else {
                alphabet[rng.usize(..alphabet.len())]
            }
        })
        .collect()
}

impl Secrets {
    fn new(seed: u64) -> Secrets {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut s = BTreeMap::new();
        for (name, len, extra) in [
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", 30, ""),
            ("ALIBABA_CLOUD_SECURITY_TOKEN", 120, "+/="),
            ("HUAWEICLOUD_SDK_SK", 40, ""),
            ("HUAWEICLOUD_SDK_SECURITY_TOKEN", 160, "+/=-_"),
            ("LBPILOT_ALERTMANAGER_BEARER_TOKEN", 40, "-._~+/"),
            ("LBPILOT_ALERTMANAGER_BASIC_PASSWORD", 32, ":@%+/ "),
            ("LBPILOT_GRAFANA_HMAC_SECRET", 40, "+/=!"),
            ("LBPILOT_GRAFANA_BEARER_TOKEN", 40, "-._~"),
            ("LBPILOT_CLOUDMONITOR_TOKEN", 36, "+/=&%"),
            ("LBPILOT_SLACK_SIGNING_SECRET", 32, ""),
            ("AWS_SECRET_ACCESS_KEY", 40, "+/"),
            ("AWS_SESSION_TOKEN", 200, "+/="),
            // The wrong keys one worker signs with (provider authentication failures), and
            // what a caller presents with a bad signature: never echoed either.
            ("wrong ALIBABA_CLOUD_ACCESS_KEY_SECRET", 30, ""),
            ("wrong HUAWEICLOUD_SDK_SK", 40, ""),
            ("wrong Slack signing secret", 32, ""),
            ("wrong Grafana HMAC secret", 40, ""),
        ] {
            s.insert(name, random_secret(&mut rng, len, extra));
        }
        Secrets(s)
    }

    fn get(&self, name: &str) -> &str {
        &self.0[name]
    }

    /// Every form in which a secret must not appear: (secret name, form, needle).
    fn needles(&self) -> Vec<(String, &'static str, String)> {
        let mut out = Vec::new();
        let mut add = |name: &str, form: &'static str, needle: String| {
            out.push((name.to_string(), form, needle));
        };
        for (name, value) in &self.0 {
            add(name, "plain", value.clone());
            add(name, "first 8 characters", value.chars().take(8).collect());
            add(
                name,
                "percent-encoded",
                lbpilot::signing::encoding::encode(value),
            );
            add(
                name,
                "form-encoded",
                lbpilot::signing::encoding::form_encode(value),
            );
            add(
                name,
                "JSON-escaped",
                json!(value).to_string().trim_matches('"').to_string(),
            );
            add(name, "hex", hex::encode(value));
            for (form, segment) in base64_segments(value.as_bytes()) {
                add(name, form, segment);
            }
        }
        let basic = format!(
            "{BASIC_USER}:{}",
            self.get("LBPILOT_ALERTMANAGER_BASIC_PASSWORD")
        );
        for (form, segment) in base64_segments(basic.as_bytes()) {
            add("LBPILOT_ALERTMANAGER_BASIC_PASSWORD", form, segment);
        }
        out.sort();
        out.dedup();
        out
    }
}

/// The part of `bytes`' base64 that is the same wherever it starts in a longer encoded text:
/// for each of the three alignments, the characters that depend on `bytes` alone. Standard and
/// URL-safe alphabets.
fn base64_segments(bytes: &[u8]) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for shift in 0..3 {
        let mut padded = vec![0u8; shift];
        padded.extend_from_slice(bytes);
        for (form, engine) in [
            ("base64", &base64::engine::general_purpose::STANDARD_NO_PAD),
            (
                "base64url",
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ),
        ] {
            let text = engine.encode(&padded);
            // The first characters mix in the shift bytes; the last one may mix in what follows.
            let skip = (shift * 8).div_ceil(6);
            let keep_end = text.len().saturating_sub(2);
            if keep_end > skip + 16 {
                out.push((form, text[skip..keep_end].to_string()));
            }
        }
    }
    out
}

/// Everything observable, as (where, text).
#[derive(Default)]
struct Observed {
    items: Mutex<Vec<(String, String)>>,
}

impl Observed {
    fn add(&self, place: impl Into<String>, text: impl Into<String>) {
        self.items.lock().unwrap().push((place.into(), text.into()));
    }

    fn add_json(&self, place: impl Into<String>, value: &Value) {
        self.add(place, value.to_string());
    }

    /// Every (place, secret, form) where a needle was found.
    fn scan(&self, needles: &[(String, &'static str, String)]) -> Vec<String> {
        let items = self.items.lock().unwrap();
        let mut hits = Vec::new();
        for (place, text) in items.iter() {
            for (name, form, needle) in needles {
                if let Some(at) = text.find(needle.as_str()) {
                    let from = text[..at]
                        .char_indices()
                        .rev()
                        .nth(60)
                        .map_or(0, |(i, _)| i);
                    let context: String = text[from..].chars().take(160).collect();
                    hits.push(format!("{place}: {name} ({form}) in …{context}…"));
                }
            }
        }
        hits
    }
}

/// A handler binary under a local Runtime API, both its output streams read as it runs.
struct Function {
    name: &'static str,
    child: Child,
    runtime: RuntimeApi,
    output: Arc<Mutex<Vec<u8>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Function {
    async fn start(package: &'static str, env: &HashMap<String, String>) -> Function {
        let runtime = RuntimeApi::start().await;
        let mut child = lambda_command(package, env, &runtime.address)
            // The most a log can say: TRACE from every crate, the AWS SDK's included
            // (`LBPILOT_SECRET_SCAN_LOG_LEVEL` changes it).
            .env(
                "AWS_LAMBDA_LOG_LEVEL",
                std::env::var("LBPILOT_SECRET_SCAN_LOG_LEVEL").unwrap_or_else(|_| "TRACE".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the function");
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        let streams: [Box<dyn std::io::Read + Send>; 2] = [
            Box::new(child.stdout.take().expect("stdout")),
            Box::new(child.stderr.take().expect("stderr")),
        ];
        for mut stream in streams {
            let output = output.clone();
            readers.push(std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    output.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            }));
        }
        Function {
            name: package,
            child,
            runtime,
            output,
            readers,
        }
    }

    /// Invokes the function; the answer (or the error it reported) is observed.
    async fn invoke(&self, seen: &Observed, what: &str, event: Value) -> Invocation {
        let answer = self.runtime.invoke(event, Duration::from_secs(30)).await;
        let place = format!("{} {what}", self.name);
        match &answer {
            Ok(v) => seen.add_json(format!("{place}: answer"), v),
            Err(e) => seen.add_json(format!("{place}: error report"), e),
        }
        answer
    }

    /// Waits for the init error the function reports, and observes it.
    async fn init_error(&self, seen: &Observed) -> Value {
        let started = std::time::Instant::now();
        while self.runtime.init_error().is_none() && started.elapsed() < Duration::from_secs(20) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let error = self
            .runtime
            .init_error()
            .unwrap_or_else(|| panic!("{}: no init error reported", self.name));
        seen.add_json(format!("{}: init error report", self.name), &error);
        error
    }

    /// Stops the function; its logs are observed and returned.
    fn stop(mut self, seen: &Observed) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        let logs = String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned();
        seen.add(format!("{}: stdout and stderr", self.name), logs.clone());
        logs
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn event_file(path: &str) -> Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../events")
            .join(path),
    )
    .unwrap_or_else(|e| panic!("events/{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn config_file(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../config")
        .join(name)
        .display()
        .to_string()
}

fn hmac_hex(key: &str, message: &[u8]) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// A Function URL request.
fn url_event(path: &str, query: &str, headers: Value, body: &str) -> Value {
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": headers, "body": body, "isBase64Encoded": false,
        "requestContext": {"requestId": format!("req-{}", fastrand::u32(..)),
                           "http": {"method": "POST", "path": path, "sourceIp": "203.0.113.10"}}
    })
}

/// A slash command as Slack sends it, signed with `key` at `timestamp`.
fn slash_command(key: &str, timestamp: i64, form: &str) -> Value {
    let signature = format!(
        "v0={}",
        hmac_hex(key, format!("v0:{timestamp}:{form}").as_bytes())
    );
    let mut e = url_event(
        "/",
        "",
        json!({"content-type": "application/x-www-form-urlencoded",
               "x-slack-request-timestamp": timestamp.to_string(), "x-slack-signature": signature,
               "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}),
        &base64::engine::general_purpose::STANDARD.encode(form),
    );
    e["isBase64Encoded"] = json!(true);
    e
}

async fn create_fifo_with_dlq(moto: &Moto, name: &str) -> (String, String) {
    let sqs = moto.sqs();
    let dlq = moto.create_queue(&format!("{name}-dlq.fifo")).await;
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .unwrap();
    let url = sqs
        .create_queue()
        .queue_name(format!("{name}.fifo"))
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
            "1",
        )
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy,
            json!({"deadLetterTargetArn": arn, "maxReceiveCount": "1"}).to_string(),
        )
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    (url, dlq)
}

/// Every message on a queue (received, left there): body and attributes.
async fn observe_queue(moto: &Moto, url: &str, place: &str, seen: &Observed) -> usize {
    let sqs = moto.sqs();
    let mut n = 0;
    loop {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(600)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .expect("receive");
        if out.messages().is_empty() {
            return n;
        }
        for m in out.messages() {
            n += 1;
            let attributes: BTreeMap<String, String> = m
                .message_attributes()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.string_value().unwrap_or_default().to_string()))
                .collect();
            seen.add(
                format!("{place}: message {}", m.message_id().unwrap_or_default()),
                format!("{} {attributes:?}", m.body().unwrap_or_default()),
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_anything_observable() {
    let seed_value = std::env::var("LBPILOT_SECRET_SCAN_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("secret scan: seed {seed_value} (LBPILOT_SECRET_SCAN_SEED repeats a run)");
    let secrets = Secrets::new(seed_value);
    let seen = Observed::default();
    let mut seed = Seed::demo();
    seed.credentials.alibaba.push(AlibabaKey {
        access_key_id: ALIBABA_AK.into(),
        access_key_secret: secrets.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET").into(),
    });
    seed.credentials.huawei.push(HuaweiKey {
        access_key: HUAWEI_AK.into(),
        secret_key: secrets.get("HUAWEICLOUD_SDK_SK").into(),
    });
    let cloud = FakeCloud::start(seed).await;
    cloud.set_alb_job_delay(Duration::from_millis(50));
    cloud.set_ga_pending_delay(Duration::from_millis(50));
    let moto = Moto::start().await;
    let results = moto.create_queue("scan-results").await;
    let (commands, commands_dlq) = create_fifo_with_dlq(&moto, "scan-commands").await;
    moto.create_state_table("scan-drain-state").await;
    let hook = SlackHook::start().await;

    // Every secret setting: some in the environment, the others in the Secrets Manager secret.
    let mut env = function_env(&cloud, &moto, &results);
    for name in [
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "HUAWEICLOUD_SDK_SK",
        "LBPILOT_GRAFANA_HMAC_SECRET",
        "LBPILOT_SLACK_SIGNING_SECRET",
        "LBPILOT_CLOUDMONITOR_TOKEN",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
        "HUAWEICLOUD_SDK_SECURITY_TOKEN",
        "LBPILOT_ALERTMANAGER_BEARER_TOKEN",
        "LBPILOT_ALERTMANAGER_BASIC_PASSWORD",
        "LBPILOT_GRAFANA_BEARER_TOKEN",
    ] {
        env.remove(name);
    }
    let from_env = [
        "ALIBABA_CLOUD_SECURITY_TOKEN",
        "HUAWEICLOUD_SDK_SK",
        "LBPILOT_ALERTMANAGER_BEARER_TOKEN",
        "LBPILOT_ALERTMANAGER_BASIC_PASSWORD",
        "LBPILOT_GRAFANA_BEARER_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ];
    let from_secret = [
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "HUAWEICLOUD_SDK_SECURITY_TOKEN",
        "LBPILOT_GRAFANA_HMAC_SECRET",
        "LBPILOT_SLACK_SIGNING_SECRET",
        "LBPILOT_CLOUDMONITOR_TOKEN",
    ];
    for name in from_env {
        env.insert(name.into(), secrets.get(name).into());
    }
    let overlay: serde_json::Map<String, Value> = from_secret
        .iter()
        .map(|n| (n.to_string(), json!(secrets.get(n))))
        .collect();
    let secret_arn = moto
        .create_secret("lbpilot/scan", &Value::Object(overlay).to_string())
        .await;
    env.extend(
        [
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", ALIBABA_AK.to_string()),
            ("HUAWEICLOUD_SDK_AK", HUAWEI_AK.into()),
            ("LBPILOT_SECRET_ID", secret_arn.clone()),
            ("LBPILOT_MAX_ATTEMPTS", "2".into()),
            ("LBPILOT_ALB_JOB_WAIT_MS", "3000".into()),
            ("LBPILOT_SLACK_RESPONSE_URL_PREFIX", hook.url.clone()),
            ("LBPILOT_COMMAND_QUEUE_URL", commands.clone()),
            (
                "LBPILOT_CHATOPS_ALIASES",
                config_file("chatops-aliases.json"),
            ),
            ("LBPILOT_ROUTES", config_file("routes.json")),
            ("LBPILOT_STATE_TABLE", "scan-drain-state".into()),
            ("LBPILOT_ALERTMANAGER_BASIC_USER", BASIC_USER.into()),
            (
                "LBPILOT_GRAFANA_TIMESTAMP_HEADER",
                GRAFANA_TIMESTAMP_HEADER.into(),
            ),
        ]
        .map(|(k, v)| (k.to_string(), v)),
    );
    for name in secrets.0.keys().filter(|n| !n.starts_with("wrong")) {
        assert!(
            from_env.contains(name) || from_secret.contains(name),
            "{name} is given to the functions"
        );
    }

    // ------------------------------------------------------------ chatops
    let chatops = Function::start("chatops", &env).await;
    let slack_key = secrets.get("LBPILOT_SLACK_SIGNING_SECRET");
    let response_url = format!("{}/commands/T1DC2JH3J/1/abc", hook.url);
    let form = |text: &str| slack_form(ONCALL, OPS, text, &response_url);
    let drain = format!("drain web-alb {}:80", demo::ALB_SERVERS[1]);
    let mut chat_answers = Vec::new();
    for (what, event) in [
        ("drain", slash_command(slack_key, now(), &form(&drain))),
        (
            "dial",
            slash_command(slack_key, now(), &form("dial edge-ga 40")),
        ),
        (
            "status",
            slash_command(slack_key, now(), &form("status edge-ga")),
        ),
        (
            "unknown command",
            slash_command(slack_key, now(), &form("reboot everything")),
        ),
        (
            "a user who may not",
            slash_command(
                slack_key,
                now(),
                &slack_form("U0NOBODY00", OPS, "drain web-slb i-x:80", &response_url),
            ),
        ),
        (
            "the wrong signing secret",
            slash_command(
                secrets.get("wrong Slack signing secret"),
                now(),
                &form(&drain),
            ),
        ),
        (
            "a stale timestamp",
            slash_command(slack_key, now() - 3600, &form(&drain)),
        ),
        (
            "a body that is not a form",
            slash_command(slack_key, now(), "\u{1}{not a form}"),
        ),
    ] {
        let answer = chatops.invoke(&seen, what, event).await;
        chat_answers.push((what, answer));
    }
    // A provider outage while answering `status`.
    cloud.inject(Fault::server_error(Product::Ga, 503));
    chatops
        .invoke(
            &seen,
            "status in an outage",
            slash_command(slack_key, now(), &form("status edge-ga")),
        )
        .await
        .expect("chatops answers");
    cloud.clear_faults();
    let chat_statuses: Vec<(&str, u64)> = chat_answers
        .iter()
        .map(|(w, a)| {
            (
                *w,
                a.as_ref()
                    .ok()
                    .and_then(|v| v["statusCode"].as_u64())
                    .unwrap_or(0),
            )
        })
        .collect();
    assert!(
        chat_statuses.contains(&("the wrong signing secret", 401))
            && chat_statuses.contains(&("drain", 200)),
        "{chat_statuses:?}"
    );

    // ------------------------------------------------------------ queue-worker
    let worker = Function::start("queue-worker", &env).await;
    // The queued chat commands: the drain succeeds and is answered on Slack; the dial fails
    // (GA outage) and, after its one delivery, goes to the command DLQ.
    cloud.inject(Fault::server_error(Product::Ga, 503).action("UpdateEndpointGroup"));
    let queued = receive_as_event(&moto, &commands).await;
    assert_eq!(queued.records.len(), 2, "two commands were queued");
    let answer = worker
        .invoke(
            &seen,
            "chat commands",
            serde_json::to_value(&queued).unwrap(),
        )
        .await
        .expect("the worker answers");
    // As Lambda's event source mapping does: delete what did not fail.
    let failed: Vec<&str> = answer["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["itemIdentifier"].as_str())
        .collect();
    assert_eq!(failed.len(), 1, "{answer}");
    for r in &queued.records {
        if !failed.contains(&r.message_id.as_deref().unwrap_or_default()) {
            moto.sqs()
                .delete_message()
                .queue_url(&commands)
                .receipt_handle(r.receipt_handle.clone().unwrap_or_default())
                .send()
                .await
                .expect("delete");
        }
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let again = receive_as_event(&moto, &commands).await;
    assert!(
        again.records.is_empty(),
        "the failed command went to the DLQ"
    );
    cloud.clear_faults();
    // A batch of every operation, with failures that a retry can fix and ones it cannot.
    cloud.inject(Fault::alb_job_fails().once());
    cloud.inject(Fault::server_error(Product::Roma, 500));
    let batch = sqs_event(vec![
        sqs_record("m-alb-job", &actions::alb_drain(0, 10).to_string(), 1),
        sqs_record("m-alb", &actions::alb_drain(2, 20).to_string(), 1),
        sqs_record("m-slb", &actions::slb_modify(1, 100, 30).to_string(), 1),
        sqs_record("m-create", &actions::slb_create("scan-blue").to_string(), 1),
        sqs_record("m-roma", &actions::roma_weight(5).to_string(), 1),
        sqs_record("m-ga", &actions::ga_dial(60).to_string(), 2),
        sqs_record("m-invalid", &actions::ga_dial(150).to_string(), 1),
        sqs_record("m-junk", "\u{0}not an action", 1),
    ]);
    let answer = worker
        .invoke(&seen, "batch", serde_json::to_value(&batch).unwrap())
        .await
        .expect("the worker answers");
    assert_eq!(
        answer,
        json!({"batchItemFailures": [{"itemIdentifier": "m-roma"}]})
    );
    cloud.clear_faults();
    worker.stop(&seen);

    // Signed with the wrong keys: every provider refuses.
    let mut wrong = env.clone();
    wrong.remove("LBPILOT_SECRET_ID");
    wrong.insert(
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET".into(),
        secrets.get("wrong ALIBABA_CLOUD_ACCESS_KEY_SECRET").into(),
    );
    wrong.insert(
        "HUAWEICLOUD_SDK_SK".into(),
        secrets.get("wrong HUAWEICLOUD_SDK_SK").into(),
    );
    let refused = Function::start("queue-worker", &wrong).await;
    refused
        .invoke(
            &seen,
            "wrong keys",
            serde_json::to_value(sqs_event(vec![
                sqs_record("w-alb", &actions::alb_drain(0, 0).to_string(), 1),
                sqs_record("w-slb", &actions::slb_modify(0, 100, 0).to_string(), 1),
                sqs_record("w-roma", &actions::roma_weight(0).to_string(), 1),
                sqs_record("w-ga", &actions::ga_dial(0).to_string(), 1),
            ]))
            .unwrap(),
        )
        .await
        .expect("the worker answers");
    refused.stop(&seen);
    let auth_failures = cloud
        .requests()
        .iter()
        .filter(|r| r.status.is_some_and(|s| (400..404).contains(&s)) && r.access_key.is_none())
        .count();
    assert!(auth_failures >= 4, "the providers refused the wrong keys");
    chatops.stop(&seen);

    // ------------------------------------------------------------ scheduled
    let scheduled = Function::start("scheduled", &env).await;
    scheduled
        .invoke(
            &seen,
            "maintenance start",
            event_file("scheduled/scheduler-maintenance-start.json"),
        )
        .await
        .expect("the schedule ran");
    cloud.inject(Fault::server_error(Product::Alb, 503));
    let failed = scheduled
        .invoke(
            &seen,
            "an ALB outage",
            event_file("scheduled/eventbridge-rule-nightly-shift.json"),
        )
        .await;
    assert!(failed.is_err(), "a failed schedule is an invocation error");
    cloud.clear_faults();
    let odd = scheduled
        .invoke(&seen, "not a schedule", json!({"nonsense": [1, 2, 3]}))
        .await;
    assert!(odd.is_err(), "{odd:?}");
    scheduled.stop(&seen);

    // ------------------------------------------------------------ alert-webhook
    let webhook = Function::start("alert-webhook", &env).await;
    let bearer = secrets.get("LBPILOT_ALERTMANAGER_BEARER_TOKEN");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{BASIC_USER}:{}",
        secrets.get("LBPILOT_ALERTMANAGER_BASIC_PASSWORD")
    ));
    let firing = event_file("alert-webhook/alertmanager-firing.json");
    let resolved = event_file("alert-webhook/alertmanager-resolved.json");
    let with_auth = |event: &Value, auth: &str| {
        let mut e = event.clone();
        e["headers"]["authorization"] = json!(auth);
        e
    };
    let grafana = event_file("alert-webhook/grafana-firing.json");
    let grafana_body = grafana["body"].as_str().unwrap().to_string();
    let grafana_event = |key: &str, token: &str| {
        let ts = now().to_string();
        let mut e = grafana.clone();
        e["headers"]["authorization"] = json!(format!("Bearer {token}"));
        e["headers"][GRAFANA_TIMESTAMP_HEADER.to_ascii_lowercase()] = json!(ts);
        e["headers"]["x-grafana-alerting-signature"] =
            json!(hmac_hex(key, format!("{ts}:{grafana_body}").as_bytes()));
        e
    };
    let cloudmonitor = event_file("alert-webhook/cloudmonitor-alert.json");
    let cm_token = secrets.get("LBPILOT_CLOUDMONITOR_TOKEN");
    let with_token = |token: &str| {
        let mut e = cloudmonitor.clone();
        let query = format!("token={}", lbpilot::signing::encoding::form_encode(token));
        e["rawQueryString"] = json!(query);
        e["queryStringParameters"] = json!({"token": token});
        e
    };
    let grafana_token = secrets.get("LBPILOT_GRAFANA_BEARER_TOKEN");
    let grafana_key = secrets.get("LBPILOT_GRAFANA_HMAC_SECRET");
    let mut hook_statuses = Vec::new();
    for (what, event) in [
        (
            "alertmanager bearer",
            with_auth(&firing, &format!("Bearer {bearer}")),
        ),
        (
            "alertmanager basic",
            with_auth(&resolved, &format!("Basic {basic}")),
        ),
        (
            "alertmanager near-miss bearer",
            with_auth(&firing, &format!("Bearer {bearer}x")),
        ),
        (
            "alertmanager bearer prefix",
            with_auth(&firing, &format!("Bearer {}", &bearer[..12])),
        ),
        (
            "alertmanager wrong password",
            with_auth(
                &firing,
                &format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!(
                        "{BASIC_USER}:{}!",
                        secrets.get("LBPILOT_ALERTMANAGER_BASIC_PASSWORD")
                    ))
                ),
            ),
        ),
        ("grafana signed", grafana_event(grafana_key, grafana_token)),
        (
            "grafana wrong key",
            grafana_event(secrets.get("wrong Grafana HMAC secret"), grafana_token),
        ),
        ("cloudmonitor token", with_token(cm_token)),
        (
            "cloudmonitor near-miss token",
            with_token(&format!("{cm_token}0")),
        ),
        ("cloudmonitor token prefix", with_token(&cm_token[..10])),
        (
            "alertmanager invalid JSON",
            url_event(
                "/alertmanager",
                "",
                json!({"content-type": "application/json", "authorization": format!("Bearer {bearer}")}),
                "{\"alerts\": [",
            ),
        ),
        (
            "cloudwatch via sns",
            event_file("alert-webhook/cloudwatch-sns-alarm.json"),
        ),
    ] {
        let answer = webhook.invoke(&seen, what, event).await;
        let status = answer
            .as_ref()
            .ok()
            .and_then(|v| v["statusCode"].as_u64())
            .unwrap_or(0);
        hook_statuses.push((what, status));
    }
    // A provider outage: the sender is told to retry.
    cloud.inject(Fault::server_error(Product::Ga, 503));
    let outage = webhook
        .invoke(&seen, "grafana in an outage", {
            let mut e = grafana_event(grafana_key, grafana_token);
            e["body"] = json!(grafana_body.replace("a1b2c3d4e5f60718", "a1b2c3d4e5f60719"));
            let ts = e["headers"][GRAFANA_TIMESTAMP_HEADER.to_ascii_lowercase()]
                .as_str()
                .unwrap()
                .to_string();
            e["headers"]["x-grafana-alerting-signature"] = json!(hmac_hex(
                grafana_key,
                format!("{ts}:{}", e["body"].as_str().unwrap()).as_bytes()
            ));
            e
        })
        .await;
    cloud.clear_faults();
    webhook.stop(&seen);
    let expected = [
        ("alertmanager bearer", 200),
        ("alertmanager basic", 200),
        ("alertmanager near-miss bearer", 401),
        ("alertmanager bearer prefix", 401),
        ("alertmanager wrong password", 401),
        ("grafana signed", 200),
        ("grafana wrong key", 401),
        ("cloudmonitor token", 200),
        ("cloudmonitor near-miss token", 401),
        ("cloudmonitor token prefix", 401),
        ("alertmanager invalid JSON", 400),
    ];
    for e in expected {
        assert!(hook_statuses.contains(&e), "{e:?} in {hook_statuses:?}");
    }
    let _ = outage;

    // ------------------------------------------------------------ configuration errors at init
    let broken_secret = moto
        .create_secret(
            "lbpilot/broken",
            &format!(
                "{{\"ALIBABA_CLOUD_ACCESS_KEY_SECRET\": \"{}\", \"HUAWEICLOUD_SDK_SK\": \"{}\"",
                secrets.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
                secrets.get("HUAWEICLOUD_SDK_SK")
            ),
        )
        .await;
    let nested_secret = moto
        .create_secret(
            "lbpilot/nested",
            &json!({"HUAWEICLOUD_SDK_SK": {"value": secrets.get("HUAWEICLOUD_SDK_SK")},
                    "LBPILOT_SLACK_SIGNING_SECRET": [slack_key]})
            .to_string(),
        )
        .await;
    let mut init_cases: Vec<(&'static str, &'static str, HashMap<String, String>)> = Vec::new();
    let mut e = env.clone();
    e.insert("LBPILOT_SECRET_ID".into(), broken_secret);
    init_cases.push(("queue-worker", "a secret that is not JSON", e));
    let mut e = env.clone();
    e.insert("LBPILOT_SECRET_ID".into(), nested_secret);
    init_cases.push(("scheduled", "a secret value that is not text", e));
    let mut e = env.clone();
    e.remove("LBPILOT_SECRET_ID");
    e.remove("ALIBABA_CLOUD_ACCESS_KEY_ID");
    e.remove("HUAWEICLOUD_SDK_AK");
    e.insert(
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET".into(),
        secrets.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET").into(),
    );
    init_cases.push(("alert-webhook", "a key secret without its id", e));
    let mut e = env.clone();
    e.remove("LBPILOT_CHATOPS_ALIASES");
    init_cases.push(("chatops", "no aliases", e));
    let mut e = env.clone();
    e.remove("LBPILOT_ALERTMANAGER_BASIC_USER");
    e.remove("LBPILOT_ALERTMANAGER_BEARER_TOKEN");
    e.remove("LBPILOT_GRAFANA_BEARER_TOKEN");
    e.remove("LBPILOT_SECRET_ID");
    e.insert(
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET".into(),
        secrets.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET").into(),
    );
    init_cases.push(("alert-webhook", "no webhook credentials", e));
    for (package, what, env) in init_cases {
        let f = Function::start(package, &env).await;
        let error = f.init_error(&seen).await;
        assert!(
            error["errorType"] == "Runtime.ConfigurationError",
            "{package} {what}: {error}"
        );
        f.stop(&seen);
    }

    // ------------------------------------------------------------ what else came out
    let outcomes = observe_queue(&moto, &results, "results queue", &seen).await;
    let dead = observe_queue(&moto, &commands_dlq, "command DLQ", &seen).await;
    observe_queue(&moto, &commands, "command queue", &seen).await;
    let replies = hook.received();
    for (i, r) in replies.iter().enumerate() {
        seen.add_json(format!("Slack reply {i}"), r);
    }
    assert!(outcomes >= 20, "{outcomes} outcomes");
    assert_eq!(dead, 1, "the failed chat command is in the DLQ");
    assert!(!replies.is_empty(), "the worker replied on Slack");

    let needles = secrets.needles();
    let hits = seen.scan(&needles);
    let items = seen.items.lock().unwrap();
    let mut by_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (place, text) in items.iter() {
        let kind = if place.contains("stdout") {
            "logs"
        } else if place.contains("error report") {
            "error reports"
        } else if place.contains("answer") {
            "answers (HTTP, batch)"
        } else if place.contains("Slack") {
            "Slack replies"
        } else if place.contains("results") {
            "outcomes"
        } else {
            "queue messages"
        };
        let e = by_kind.entry(kind).or_default();
        e.0 += 1;
        e.1 += text.len();
    }
    eprintln!(
        "secret scan: {} secrets, {} needles, over:",
        secrets.0.len(),
        needles.len()
    );
    for (kind, (n, bytes)) in &by_kind {
        eprintln!("  {kind:<24} {n:>4} items {bytes:>9} bytes");
    }
    // The scan is not vacuous: each kind of output was seen, and a log line per outcome.
    for kind in [
        "logs",
        "error reports",
        "answers (HTTP, batch)",
        "Slack replies",
        "outcomes",
        "queue messages",
    ] {
        assert!(by_kind.contains_key(kind), "nothing observed of {kind}");
    }
    let logs: String = items
        .iter()
        .filter(|(p, _)| p.contains("stdout"))
        .map(|(_, t)| t.as_str())
        .collect();
    assert!(
        logs.contains("outcome") && logs.contains("cold start failed"),
        "the logs say what happened"
    );
    drop(items);
    assert!(
        hits.is_empty(),
        "secrets leaked (seed {seed_value}):\n{}",
        hits.join("\n")
    );
}

/// The scanner finds a secret in each form it looks for (so a leak cannot slip through).
#[test]
fn the_scan_finds_every_form_of_a_secret() {
    let secrets = Secrets::new(7);
    let needles = secrets.needles();
    let value = secrets.get("LBPILOT_CLOUDMONITOR_TOKEN");
    let plants = [
        format!("token={value}"),
        format!(
            "GET /cloudmonitor?token={}",
            lbpilot::signing::encoding::form_encode(value)
        ),
        format!("q={}", lbpilot::signing::encoding::encode(value)),
        format!("presented {}…", &value[..8]),
        json!({"m": value}).to_string(),
        format!("hex {}", hex::encode(value)),
    ];
    let mut plants: Vec<String> = plants.into();
    for prefix in ["", "x", "xy"] {
        plants.push(
            base64::engine::general_purpose::STANDARD
                .encode(format!("{prefix}{{\"token\":\"{value}\"}}")),
        );
        plants
            .push(base64::engine::general_purpose::URL_SAFE.encode(format!("{prefix}{value}tail")));
    }
    plants.push(format!(
        "Authorization: Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{BASIC_USER}:{}",
            secrets.get("LBPILOT_ALERTMANAGER_BASIC_PASSWORD")
        ))
    ));
    for plant in plants {
        let seen = Observed::default();
        seen.add("planted", plant.clone());
        assert!(!seen.scan(&needles).is_empty(), "not found in {plant}");
    }
    let clean = Observed::default();
    clean.add(
        "clean",
        "{\"status\":\"succeeded\",\"token\":\"***\",\"secret\":\"Secret(***)\"}",
    );
    assert!(clean.scan(&needles).is_empty());
}

/// `Debug` and `Display` of every type that holds a credential hide it.
#[test]
fn credential_types_print_redacted() {
    let secrets = Secrets::new(11);
    let needles = secrets.needles();
    let mut values: HashMap<String, String> = secrets
        .0
        .iter()
        .filter(|(n, _)| !n.starts_with("wrong") && !n.starts_with("AWS_"))
        .map(|(n, v)| (n.to_string(), v.clone()))
        .collect();
    values.insert("ALIBABA_CLOUD_ACCESS_KEY_ID".into(), ALIBABA_AK.into());
    values.insert("HUAWEICLOUD_SDK_AK".into(), HUAWEI_AK.into());
    values.insert("LBPILOT_ALERTMANAGER_BASIC_USER".into(), BASIC_USER.into());
    let settings = Settings::from_map(values);
    let config = ExecutorConfig::from_settings(&settings).expect("config");
    let alibaba = config.alibaba.clone().expect("alibaba credentials");
    let huawei = config.huawei.clone().expect("huawei credentials");
    let transport = lbpilot::transport::Transport::new().expect("transport");
    let auth = WebhookAuth::from_settings(&settings).expect("webhook auth");
    let (slack_secret, _) =
        lbpilot::chatops::ChatOps::<lbpilot::chatops::queue::MemoryQueue>::settings(
            &Settings::from_map(HashMap::from([
                (
                    "LBPILOT_SLACK_SIGNING_SECRET".to_string(),
                    secrets.get("LBPILOT_SLACK_SIGNING_SECRET").to_string(),
                ),
                (
                    "LBPILOT_CHATOPS_ALIASES".to_string(),
                    config_file("chatops-aliases.json"),
                ),
            ])),
        )
        .expect("chatops settings");
    let mut printed: Vec<(&str, String)> = vec![
        ("Settings", format!("{settings:?}")),
        ("ExecutorConfig", format!("{config:?}")),
        ("ExecutorConfig (pretty)", format!("{config:#?}")),
        ("AlibabaCredentials", format!("{alibaba:?}")),
        ("HuaweiCredentials", format!("{huawei:?}")),
        (
            "AlibabaClient",
            format!(
                "{:?}",
                lbpilot::clients::alibaba::AlibabaClient::new(transport.clone(), alibaba)
            ),
        ),
        (
            "HuaweiClient",
            format!(
                "{:?}",
                lbpilot::clients::huawei::HuaweiClient::new(transport, huawei)
            ),
        ),
        ("WebhookAuth", format!("{auth:#?}")),
        (
            "Credentials::bearer",
            format!(
                "{:?}",
                Credentials::bearer(secrets.get("LBPILOT_ALERTMANAGER_BEARER_TOKEN"))
            ),
        ),
        (
            "Credentials::basic",
            format!(
                "{:?}",
                Credentials::basic(
                    BASIC_USER,
                    secrets.get("LBPILOT_ALERTMANAGER_BASIC_PASSWORD")
                )
            ),
        ),
        (
            "GrafanaHmac",
            format!(
                "{:?}",
                GrafanaHmac::new(secrets.get("LBPILOT_GRAFANA_HMAC_SECRET"))
                    .with_timestamp_header(GRAFANA_TIMESTAMP_HEADER)
            ),
        ),
        (
            "UrlToken",
            format!(
                "{:?}",
                UrlToken::new(secrets.get("LBPILOT_CLOUDMONITOR_TOKEN"))
            ),
        ),
        (
            "Slack signing secret",
            format!("{slack_secret:?} {slack_secret}"),
        ),
    ];
    for (name, value) in &secrets.0 {
        let s = Secret::new(value.clone());
        printed.push(("Secret", format!("{name}: {s:?} {s} {s:#?}")));
    }
    // Configuration errors name the setting, never its value.
    let mut bad = settings_map(&secrets);
    bad.remove("ALIBABA_CLOUD_ACCESS_KEY_ID");
    bad.remove("HUAWEICLOUD_SDK_AK");
    let error = ExecutorConfig::from_settings(&Settings::from_map(bad)).unwrap_err();
    printed.push(("ConfigError", format!("{error:?} {error}")));
    let seen = Observed::default();
    for (what, text) in &printed {
        seen.add(*what, text.clone());
    }
    let hits = seen.scan(&needles);
    assert!(
        hits.is_empty(),
        "secrets in Debug output:\n{}",
        hits.join("\n")
    );
    // And they say what they hold (the id, the scheme, the user), so the check is not vacuous.
    let all: String = printed.iter().map(|(_, t)| t.as_str()).collect();
    assert!(all.contains(ALIBABA_AK) && all.contains(HUAWEI_AK) && all.contains(BASIC_USER));
}

fn settings_map(secrets: &Secrets) -> HashMap<String, String> {
    secrets
        .0
        .iter()
        .filter(|(n, _)| !n.starts_with("wrong"))
        .map(|(n, v)| (n.to_string(), v.clone()))
        .collect()
}
