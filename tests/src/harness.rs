//! Wiring for integration tests: the fakes, moto's SQS, and lbpilot configured against them.

use crate::fakes::{FakeCloud, Seed, demo};
use crate::moto::Moto;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use lbpilot::config::{ExecutorConfig, Settings};
use lbpilot::emitter::SqsEmitter;
use lbpilot::triggers::sqs::QueueWorker;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

/// The environment a function needs to run against `cloud` (and `results_queue_url` on `moto`).
pub fn function_env(
    cloud: &FakeCloud,
    moto: &Moto,
    results_queue_url: &str,
) -> HashMap<String, String> {
    let mut env = executor_env(cloud);
    env.extend(
        [
            ("LBPILOT_RESULTS_QUEUE_URL", results_queue_url.to_string()),
            ("AWS_ENDPOINT_URL", moto.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
        .map(|(k, v)| (k.to_string(), v)),
    );
    env
}

/// Provider credentials and endpoints for the demo seed's fakes.
pub fn executor_env(cloud: &FakeCloud) -> HashMap<String, String> {
    [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", demo::ALIBABA_AK.to_string()),
        (
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            demo::ALIBABA_SECRET.into(),
        ),
        ("HUAWEICLOUD_SDK_AK", demo::HUAWEI_AK.into()),
        ("HUAWEICLOUD_SDK_SK", demo::HUAWEI_SK.into()),
        ("HUAWEICLOUD_SDK_PROJECT_ID", demo::ROMA_PROJECT.into()),
        ("LBPILOT_ALB_ENDPOINT", cloud.alb_url()),
        ("LBPILOT_SLB_ENDPOINT", cloud.slb_url()),
        ("LBPILOT_ROMA_ENDPOINT", cloud.roma_url()),
        ("LBPILOT_GA_ENDPOINT", cloud.ga_url()),
    ]
    .map(|(k, v)| (k.to_string(), v))
    .into()
}

/// An executor with `env`'s settings and an HTTP client of its own.
pub fn executor(env: &HashMap<String, String>) -> lbpilot::executor::Executor {
    lbpilot::executor::Executor::new(
        executor_config(env),
        lbpilot::app::transport().expect("the HTTP client"),
    )
}

pub fn executor_config(env: &HashMap<String, String>) -> ExecutorConfig {
    ExecutorConfig::from_settings(&Settings::from_map(env.clone()))
        .expect("valid test configuration")
}

/// The fakes, moto with a results queue, and a queue worker wired to them.
pub struct Stack {
    pub cloud: FakeCloud,
    pub moto: Moto,
    pub results_url: String,
    pub worker: QueueWorker<SqsEmitter>,
    /// The executor's settings, to build other triggers on the same stack.
    pub env: HashMap<String, String>,
}

impl Stack {
    pub async fn start() -> Stack {
        Self::start_with(Seed::demo(), &[]).await
    }

    /// `overrides` replace or add settings (e.g. `LBPILOT_MAX_ATTEMPTS`).
    pub async fn start_with(seed: Seed, overrides: &[(&str, &str)]) -> Stack {
        let cloud = FakeCloud::start(seed).await;
        let moto = Moto::start().await;
        let results_url = moto.create_queue("lbpilot-results").await;
        let mut env = executor_env(&cloud);
        env.insert("LBPILOT_ALB_JOB_WAIT_MS".into(), "5000".into());
        for (k, v) in overrides {
            env.insert(k.to_string(), v.to_string());
        }
        let executor = executor(&env);
        let worker = QueueWorker::new(
            executor,
            SqsEmitter::new(moto.sqs(), results_url.clone()),
            10,
        );
        Stack {
            cloud,
            moto,
            results_url,
            worker,
            env,
        }
    }

    /// An executor and a results-queue emitter like the worker's, for another trigger.
    pub fn parts(&self) -> (lbpilot::executor::Executor, SqsEmitter) {
        let executor = executor(&self.env);
        (
            executor,
            SqsEmitter::new(self.moto.sqs(), self.results_url.clone()),
        )
    }

    /// Outcomes now on the results queue, by source id (the SQS messageId).
    pub async fn outcomes(&self) -> HashMap<String, Value> {
        self.moto
            .drain(&self.results_url)
            .await
            .into_iter()
            .map(|o| {
                (
                    o["source"]["id"].as_str().unwrap_or_default().to_string(),
                    o,
                )
            })
            .collect()
    }
}

/// An SQS record as Lambda delivers it.
pub fn sqs_record(message_id: &str, body: &str, receive_count: u32) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(message_id.to_string());
    m.receipt_handle = Some(format!("rh-{message_id}"));
    m.body = Some(body.to_string());
    m.event_source = Some("aws:sqs".into());
    m.event_source_arn = Some("arn:aws:sqs:us-east-1:123456789012:lbpilot-actions".into());
    m.aws_region = Some("us-east-1".into());
    m.attributes
        .insert("ApproximateReceiveCount".into(), receive_count.to_string());
    m
}

pub fn sqs_event(records: Vec<SqsMessage>) -> SqsEvent {
    let mut e = SqsEvent::default();
    e.records = records;
    e
}

/// Sample actions for the demo seed, one per operation.
pub mod actions {
    use super::*;

    pub fn alb_drain(server: usize, weight: u32) -> Value {
        json!({"operation": "alb:UpdateServerGroupServersAttribute", "region": "cn-hangzhou",
               "params": {"ServerGroupId": demo::ALB_GROUP,
                          "Servers": [{"ServerId": demo::ALB_SERVERS[server], "ServerType": "Ecs", "Port": demo::ALB_PORT, "Weight": weight}]},
               "reason": "test"})
    }

    pub fn slb_modify(server: usize, old_weight: u32, new_weight: u32) -> Value {
        json!({"operation": "slb:ModifyVServerGroupBackendServers", "region": demo::SLB_REGION,
               "params": {"VServerGroupId": demo::SLB_VSG,
                          "OldBackendServers": [{"ServerId": demo::SLB_SERVERS[server], "Port": demo::SLB_PORT, "Weight": old_weight}],
                          "NewBackendServers": [{"ServerId": demo::SLB_SERVERS[server], "Port": demo::SLB_PORT, "Weight": new_weight}]}})
    }

    pub fn slb_create(name: &str) -> Value {
        json!({"operation": "slb:CreateVServerGroup", "region": demo::SLB_REGION,
               "params": {"LoadBalancerId": demo::SLB_LB, "VServerGroupName": name,
                          "BackendServers": [{"ServerId": demo::SLB_SERVERS[0], "Port": 8080, "Weight": 100}]}})
    }

    pub fn roma_weight(weight: u32) -> Value {
        json!({"operation": "roma:UpdateMemberGroup", "region": "cn-north-4",
               "params": {"instance_id": demo::ROMA_INSTANCE, "vpc_channel_id": demo::ROMA_CHANNEL,
                          "member_group_id": demo::ROMA_GROUPS[0], "member_group_name": "primary", "member_group_weight": weight}})
    }

    pub fn ga_dial(dial: u32) -> Value {
        json!({"operation": "ga:UpdateEndpointGroup",
               "params": {"endpoint_group_id": demo::GA_GROUP, "endpoint_group": {"traffic_dial_percentage": dial}}})
    }
}

/// The path of a handler binary of this workspace, built first if needed (a no-op when fresh).
pub fn function_binary(package: &str) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        // The whole workspace, as `scripts/test` and `scripts/demo` build it: one set of features.
        .args(["build", "--quiet", "--workspace", "--bins"])
        .current_dir(&root)
        .status()
        .expect("run cargo build");
    assert!(status.success(), "cargo build -p {package} failed");
    let target = std::env::var("CARGO_TARGET_DIR").map_or_else(|_| root.join("target"), Into::into);
    target.join("debug").join(package)
}

/// A handler binary running under a local Lambda Runtime API, as Lambda runs a bootstrap.
/// `package`'s binary with only `env`, `PATH` and what the Lambda service sets, pointed at the
/// Runtime API at `runtime_address`.
pub fn lambda_command(
    package: &str,
    env: &HashMap<String, String>,
    runtime_address: &str,
) -> std::process::Command {
    let mut command = std::process::Command::new(function_binary(package));
    command
        .env_clear()
        .envs(env)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", runtime_address)
        .env("AWS_LAMBDA_FUNCTION_NAME", package)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON");
    command
}

pub struct RunningFunction {
    child: std::process::Child,
    pub runtime: crate::runtime_api::RuntimeApi,
}

impl RunningFunction {
    pub async fn start(package: &str, env: &HashMap<String, String>) -> RunningFunction {
        let runtime = crate::runtime_api::RuntimeApi::start().await;
        let child = lambda_command(package, env, &runtime.address)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("start the function");
        RunningFunction { child, runtime }
    }

    /// Stops the function and returns everything it logged on stdout.
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let mut out = String::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            let _ = std::io::Read::read_to_string(&mut stdout, &mut out);
        }
        let _ = self.child.wait();
        out
    }
}

impl Drop for RunningFunction {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Messages now on `queue_url`, received (not deleted) and shaped as the SQS event Lambda would
/// deliver: attributes and message attributes included.
pub async fn receive_as_event(moto: &Moto, queue_url: &str) -> SqsEvent {
    let out = moto
        .sqs()
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .message_attribute_names("All")
        .send()
        .await
        .expect("receive");
    event_of_messages(out.messages())
}

/// Received messages as the SQS event Lambda would deliver: attributes (`ApproximateReceiveCount`
/// among them), message attributes and the receipt handles to delete them with.
pub fn event_of_messages(messages: &[aws_sdk_sqs::types::Message]) -> SqsEvent {
    let records = messages
        .iter()
        .map(|m| {
            let mut r = sqs_record(
                m.message_id().unwrap_or_default(),
                m.body().unwrap_or_default(),
                1,
            );
            r.receipt_handle = m.receipt_handle().map(str::to_string);
            for (k, v) in m.attributes().into_iter().flatten() {
                r.attributes.insert(k.as_str().to_string(), v.clone());
            }
            for (k, v) in m.message_attributes().into_iter().flatten() {
                let mut a = aws_lambda_events::sqs::SqsMessageAttribute::default();
                a.string_value = v.string_value().map(str::to_string);
                a.data_type = Some(v.data_type().to_string());
                r.message_attributes.insert(k.clone(), a);
            }
            r
        })
        .collect();
    sqs_event(records)
}

/// `hex(HMAC-SHA256(secret, message))`: what Grafana's `hmacConfig` sends (over the body, or
/// over `"{timestamp}:{body}"`).
pub fn hmac_hex(secret: &str, message: &[u8]) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// Slack's `X-Slack-Signature` for `body` sent at `timestamp`: `v0=` + hex HMAC-SHA256 of
/// `v0:{timestamp}:{body}`.
pub fn slack_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut message = format!("v0:{timestamp}:").into_bytes();
    message.extend_from_slice(body);
    format!("v0={}", hmac_hex(secret, &message))
}

/// A Function URL request (payload format 2.0) as the handlers receive it: `headers` in the
/// order and spelling given (a name given twice in two spellings stays twice), `body` as the
/// event carries it (base64 text when `is_base64`).
pub fn function_url_event(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &str,
    is_base64: bool,
) -> Value {
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    json!({
        "version": "2.0", "rawPath": path, "rawQueryString": query, "headers": headers,
        "body": body, "isBase64Encoded": is_base64,
        "requestContext": {"requestId": "req-1", "http": {"method": method, "path": path, "sourceIp": "203.0.113.7"}}
    })
}

/// A Function URL event carrying a Slack slash command signed with `secret` at `timestamp`,
/// its form body base64-encoded as Function URLs (and `cargo lambda watch`) deliver it.
pub fn slack_command_event(secret: &str, timestamp: i64, form: &str) -> Value {
    use base64::Engine;
    let signature = slack_signature(secret, &timestamp.to_string(), form.as_bytes());
    json!({
        "version": "2.0", "rawPath": "/", "rawQueryString": "",
        "headers": {"content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": timestamp.to_string(),
                    "x-slack-signature": signature, "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)"},
        "body": base64::engine::general_purpose::STANDARD.encode(form), "isBase64Encoded": true,
        "requestContext": {"requestId": "req-1", "http": {"method": "POST", "path": "/", "sourceIp": "127.0.0.1"}}
    })
}

/// A slash command's form body, as Slack sends it.
pub fn slack_form(user: &str, channel: &str, text: &str, response_url: &str) -> String {
    use lbpilot::signing::encoding::form_encode;
    format!(
        "token=deprecated&team_id=T1DC2JH3J&team_domain=example&channel_id={channel}&channel_name=ops&user_id={user}&user_name=oncall&command=%2Flbpilot&text={}&api_app_id=A0001&is_enterprise_install=false&response_url={}&trigger_id={}",
        form_encode(text),
        form_encode(response_url),
        fastrand::u64(..)
    )
}

/// `cargo lambda watch` serving every function of the workspace on a loopback port, with `env`.
/// Stopped (with the functions it started) when dropped.
pub struct LambdaWatch {
    _served: crate::ports::Served,
    pub port: u16,
}

impl LambdaWatch {
    pub async fn start(env: &HashMap<String, String>) -> LambdaWatch {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let venv_bin = root.join(".venv/bin");
        let path = format!(
            "{}:{}",
            venv_bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let command = |port: u16| {
            let mut c = std::process::Command::new(
                std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
            );
            c.args([
                "lambda",
                "watch",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &port.to_string(),
                "--ignore-changes",
            ])
            .current_dir(&root)
            .envs(env)
            .env("PATH", &path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit());
            c
        };
        let listening = async |port: u16| {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        };
        let served = crate::ports::serve_on_free_port(
            "cargo lambda watch (scripts/setup installs cargo-lambda)",
            Duration::from_secs(60),
            command,
            listening,
        )
        .await;
        LambdaWatch {
            port: served.port,
            _served: served,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Invokes `function` synchronously through watch's Invoke API.
    pub async fn invoke(&self, function: &str, event: &Value) -> Value {
        let response = reqwest::Client::new()
            .post(self.url(&format!("/2015-03-31/functions/{function}/invocations")))
            .timeout(Duration::from_secs(300))
            .body(event.to_string())
            .send()
            .await
            .expect("invoke");
        serde_json::from_str(&response.text().await.expect("answer")).expect("JSON answer")
    }
}

/// The chat-ops handler against the stack: a FIFO command queue on moto, the example aliases,
/// and a Slack stub for the replies the queue worker posts.
pub struct ChatStack {
    pub stack: Stack,
    pub chatops: lbpilot::chatops::ChatOps<lbpilot::chatops::queue::SqsCommandQueue>,
    pub commands_url: String,
    pub hook: crate::slack_stub::SlackHook,
}

impl ChatStack {
    pub async fn start(signing_secret: &str) -> ChatStack {
        let stack = Stack::start().await;
        let commands_url = stack.moto.create_queue("lbpilot-commands.fifo").await;
        let aliases = lbpilot::chatops::aliases::Aliases::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../config/chatops-aliases.json"
        ))
        .unwrap();
        let (executor, _) = stack.parts();
        let queue =
            lbpilot::chatops::queue::SqsCommandQueue::new(stack.moto.sqs(), commands_url.clone());
        let chatops = lbpilot::chatops::ChatOps::new(
            lbpilot::secret::Secret::new(signing_secret),
            aliases,
            executor,
            queue,
        );
        let hook = crate::slack_stub::SlackHook::start().await;
        ChatStack {
            stack,
            chatops,
            commands_url,
            hook,
        }
    }

    /// A `response_url` on the Slack stub.
    pub fn response_url(&self) -> String {
        format!("{}/commands/T1DC2JH3J/1/abc", self.hook.url)
    }

    /// Runs the queue worker over what is on the command queue, replying to the stub.
    pub async fn work(&self) -> aws_lambda_events::sqs::SqsBatchResponse {
        let (executor, emitter) = self.stack.parts();
        let replier = lbpilot::chatops::replies::Replier::new(
            executor.transport().client().clone(),
            self.hook.url.clone(),
        );
        let worker = QueueWorker::new(executor, emitter, 4).with_replier(replier);
        let event = receive_as_event(&self.stack.moto, &self.commands_url).await;
        worker
            .handle(event, tokio::time::Instant::now() + Duration::from_secs(20))
            .await
            .unwrap()
    }

    /// Messages on the command queue, in flight or not (a FIFO group with a message in flight
    /// delivers no other, so receiving would not show them).
    pub async fn queued(&self) -> usize {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let names = [
            A::ApproximateNumberOfMessages,
            A::ApproximateNumberOfMessagesNotVisible,
        ];
        let out = self
            .stack
            .moto
            .sqs()
            .get_queue_attributes()
            .queue_url(&self.commands_url)
            .set_attribute_names(Some(names.to_vec()))
            .send()
            .await
            .expect("queue attributes");
        let attributes = out.attributes().cloned().unwrap_or_default();
        names
            .iter()
            .filter_map(|a| attributes.get(a)?.parse::<usize>().ok())
            .sum()
    }
}
