//! moto's server (from PyPI, installed in `.venv` by `scripts/setup`), started on a loopback port
//! of its own choosing for one test and stopped when dropped: a real SQS-protocol server.

use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    child: Child,
    pub endpoint: String,
}

/// The command that starts moto's server: `LBPILOT_MOTO_SERVER` (a `moto_server` executable)
/// if set; else `tests/moto/serialized_server.py` (moto answering one request at a time, as
/// atomic as AWS) under the workspace's `.venv` Python, or `python3`.
fn moto_command() -> Command {
    if let Ok(p) = std::env::var("LBPILOT_MOTO_SERVER") {
        return Command::new(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let venv = root.join("../.venv/bin/python");
    let mut command = Command::new(if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    });
    command.arg(root.join("moto/serialized_server.py"));
    command
}

impl Moto {
    /// Starts moto and waits until it answers. Panics with advice when it cannot be started.
    /// moto binds port 0 itself and the port is read from its start-up line: choosing a free
    /// port first and handing it over left a window in which a parallel test's server took it.
    pub async fn start() -> Moto {
        let mut command = moto_command();
        let mut child = command
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start moto ({:?}: {e}); run scripts/setup to install it",
                    command.get_program()
                )
            });
        let stderr = child.stderr.take().expect("piped stderr");
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        // Reads the start-up line, then keeps draining so moto never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = line
                    .split("Running on http://127.0.0.1:")
                    .nth(1)
                    .and_then(|rest| rest.trim().parse::<u16>().ok())
                {
                    let _ = port_tx.send(port);
                }
            }
        });
        let port =
            tokio::task::spawn_blocking(move || port_rx.recv_timeout(Duration::from_secs(30)))
                .await
                .expect("the port reader")
                .unwrap_or_else(|_| panic!("moto did not start ({:?})", command.get_program()));
        let endpoint = format!("http://127.0.0.1:{port}");
        let moto = Moto { child, endpoint };
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "moto did not start on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        moto
    }

    /// An SQS client for this server, with dummy credentials.
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&sdk_config(&self.endpoint))
    }

    /// Stores `value` as a Secrets Manager secret's `SecretString`; returns its ARN.
    pub async fn create_secret(&self, name: &str, value: &str) -> String {
        aws_sdk_secretsmanager::Client::new(&sdk_config(&self.endpoint))
            .create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await
            .expect("create secret")
            .arn()
            .expect("secret arn")
            .to_string()
    }

    /// A DynamoDB client for this server, with dummy credentials.
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        dynamodb_client(&self.endpoint)
    }

    /// Creates a drain-state table as `template.yaml` declares it (partition key `backend`,
    /// TTL on `expires_at`; see `lbpilot::state`).
    pub async fn create_state_table(&self, name: &str) {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
            TimeToLiveSpecification,
        };
        let client = self.dynamodb();
        client
            .create_table()
            .table_name(name)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("backend")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("attribute definition"),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("backend")
                    .key_type(KeyType::Hash)
                    .build()
                    .expect("key schema"),
            )
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .expect("create table");
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name("expires_at")
                    .build()
                    .expect("ttl specification"),
            )
            .send()
            .await
            .expect("enable ttl");
    }

    pub async fn create_queue(&self, name: &str) -> String {
        let mut req = self.sqs().create_queue().queue_name(name);
        if name.ends_with(".fifo") {
            req = req.attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true");
        }
        req.send()
            .await
            .expect("create queue")
            .queue_url()
            .expect("queue url")
            .to_string()
    }

    /// Every message now on the queue (received and deleted), as parsed JSON.
    pub async fn drain(&self, queue_url: &str) -> Vec<serde_json::Value> {
        let sqs = self.sqs();
        let mut all = Vec::new();
        for m in self.receive_all(queue_url).await {
            all.push(serde_json::from_str(m.body().unwrap_or("null")).expect("JSON message"));
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("delete");
        }
        all
    }

    /// Every message now on the queue, as (messageId, body), left there (in flight).
    pub async fn peek_all(&self, queue_url: &str) -> Vec<(String, String)> {
        let messages = self.receive_all(queue_url).await;
        messages
            .into_iter()
            .map(|m| (m.message_id.unwrap_or_default(), m.body.unwrap_or_default()))
            .collect()
    }

    /// Receives until the queue answers with nothing. A long visibility timeout, whatever the
    /// queue's own (some tests use 1 s), so no message comes back while the loop runs.
    async fn receive_all(&self, queue_url: &str) -> Vec<aws_sdk_sqs::types::Message> {
        let mut all = Vec::new();
        loop {
            let out = self
                .sqs()
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .visibility_timeout(600)
                .send()
                .await
                .expect("receive");
            if out.messages().is_empty() {
                return all;
            }
            all.extend(out.messages.unwrap_or_default());
        }
    }
}

/// A DynamoDB client for `endpoint` (moto's, or one that is down), with dummy credentials.
pub fn dynamodb_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config(endpoint))
}

/// AWS settings for a local endpoint: a region and dummy credentials, as moto accepts, over
/// the functions' own HTTP client (lbpilot::transport::AwsHttpClient).
pub fn sdk_config(endpoint: &str) -> aws_types::SdkConfig {
    let transport = lbpilot::transport::Transport::new().expect("the HTTP client");
    aws_types::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                "test",
                "test",
                None,
                None,
                "lbpilot-tests",
            )),
        )
        .http_client(aws_smithy_runtime_api::client::http::SharedHttpClient::new(
            lbpilot::transport::AwsHttpClient::new(&transport),
        ))
        .endpoint_url(endpoint)
        .build()
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
