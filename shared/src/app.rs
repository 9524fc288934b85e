//! Cold-start wiring shared by the handler binaries: configuration, clients and the emitter,
//! built once per process.

use crate::config::{ExecutorConfig, Settings};
use crate::emitter::SqsEmitter;
use crate::error::ConfigError;
use crate::executor::Executor;
use crate::transport::Transport;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{self, ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::SdkConfig;
use aws_types::region::Region;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};
use std::collections::HashMap;
use std::time::Duration;

/// The secret that holds provider keys and webhook secrets, read once per cold start.
pub const SECRET_ID: &str = "LBPILOT_SECRET_ID";

/// The process's one HTTP client (provider calls, Slack replies and, through
/// [`aws_config`], the AWS SDK): built once per cold start, so one TLS setup and one pool.
pub fn transport() -> Result<Transport, ConfigError> {
    Transport::new()
        .map_err(|e| ConfigError::new("TLS", format!("the HTTP client could not start: {e}")))
}

/// The AWS configuration, from the environment as Lambda sets it, sending through `transport`
/// (crate::transport::AwsHttpClient): credentials from `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` (the execution role's, which Lambda puts
/// there), the region from `AWS_REGION` (else `AWS_DEFAULT_REGION`), and the endpoint from
/// `AWS_ENDPOINT_URL_<SERVICE>` (e.g. `AWS_ENDPOINT_URL_DYNAMODB`), else `AWS_ENDPOINT_URL`,
/// unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true. Timeouts are [`aws_timeouts`]; retries
/// and the identity cache are the SDK's defaults for the latest behavior version.
///
/// Not `aws_config::defaults(…)`: its chain (profile files, SSO, web identity, ECS, IMDS, and
/// the STS client they need) has nothing to find in Lambda and was about 0.5 MiB of every
/// binary (BENCHMARKS.md).
pub fn aws_config(transport: &Transport) -> SdkConfig {
    sdk_config(
        |name| std::env::var(name).ok(),
        SharedHttpClient::new(crate::transport::AwsHttpClient::new(transport)),
    )
}

/// [`aws_config`] with the environment given (tests).
pub fn sdk_config(env: impl Fn(&str) -> Option<String>, http: SharedHttpClient) -> SdkConfig {
    let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http)
        .credentials_provider(SharedCredentialsProvider::new(EnvCredentials))
        .timeout_config(aws_timeouts())
        // Its watchdog guards streamed bodies; these are small and whole, and the attempt
        // timeout bounds them (BENCHMARKS.md: the alert webhook's per-call cost).
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled());
    builder.set_region(
        env("AWS_REGION")
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .map(Region::new),
    );
    let ignore = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if !ignore {
        builder.set_endpoint_url(env("AWS_ENDPOINT_URL"));
        let urls: HashMap<String, String> = ["SQS", "DYNAMODB", "SECRETS_MANAGER"]
            .into_iter()
            .filter_map(|service| {
                env(&format!("AWS_ENDPOINT_URL_{service}")).map(|url| (service.to_string(), url))
            })
            .collect();
        builder.set_service_config(Some(ServiceEndpoints(urls)));
    }
    builder.build()
}

/// Every AWS call bounded: SQS, DynamoDB and Secrets Manager answer in milliseconds, so an
/// attempt that takes seconds is lost, and the SDK's retries get the rest of the budget.
pub fn aws_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(15))
        .build()
}

/// `AWS_ENDPOINT_URL_<SERVICE>` for the clients lbpilot uses, as the SDK asks for it (by service
/// id: "SQS", "DynamoDB", "Secrets Manager").
#[derive(Debug)]
struct ServiceEndpoints(HashMap<String, String>);

impl LoadServiceConfig for ServiceEndpoints {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        if key.env() != "AWS_ENDPOINT_URL" {
            return None;
        }
        let service = key
            .service_id()
            .to_ascii_uppercase()
            .replace([' ', '-'], "_");
        self.0.get(&service).cloned()
    }
}

/// The environment's credentials, read when the SDK's identity cache asks for them (as
/// aws-config's environment provider does).
#[derive(Debug)]
struct EnvCredentials;

impl ProvideCredentials for EnvCredentials {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        provider::future::ProvideCredentials::ready(
            match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
                (Some(key), Some(secret)) => Ok(Credentials::new(
                    key,
                    secret,
                    var("AWS_SESSION_TOKEN"),
                    None,
                    "Environment",
                )),
                _ => Err(provider::error::CredentialsError::not_loaded(
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
                )),
            },
        )
    }
}

/// The environment, overlaid with the JSON object in the Secrets Manager secret named by
/// `LBPILOT_SECRET_ID` (when set): its keys are setting names, e.g.
/// `{"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "…"}`. Values are never logged or echoed in errors.
pub async fn settings(aws: &SdkConfig) -> Result<Settings, ConfigError> {
    let mut settings = Settings::from_env();
    if let Some(id) = settings.get(SECRET_ID) {
        settings.overlay(read_secret(aws, &id).await?);
    }
    Ok(settings)
}

async fn read_secret(aws: &SdkConfig, id: &str) -> Result<HashMap<String, String>, ConfigError> {
    let out = aws_sdk_secretsmanager::Client::new(aws)
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| {
            ConfigError::new(
                SECRET_ID,
                format!(
                    "cannot read secret {id}: {}",
                    aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
                ),
            )
        })?;
    let text = out
        .secret_string()
        .ok_or_else(|| ConfigError::new(SECRET_ID, format!("secret {id} has no SecretString")))?;
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
        .map_err(|_| ConfigError::new(SECRET_ID, format!("secret {id} is not a JSON object")))?;
    object
        .into_iter()
        .map(|(name, value)| match value {
            serde_json::Value::String(s) => Ok((name, s)),
            serde_json::Value::Number(n) => Ok((name, n.to_string())),
            _ => Err(ConfigError::new(
                SECRET_ID,
                format!("secret {id}: the value of {name} must be a string"),
            )),
        })
        .collect()
}

/// What every function builds once per cold start.
pub struct App {
    pub aws: SdkConfig,
    pub settings: Settings,
    pub executor: Executor,
    pub emitter: SqsEmitter,
}

/// The executor and the results-queue emitter, from the environment and the secret.
pub async fn from_env() -> Result<App, ConfigError> {
    let transport = transport()?;
    let aws = aws_config(&transport);
    let settings = settings(&aws).await?;
    let executor = Executor::new(ExecutorConfig::from_settings(&settings)?, transport);
    let queue_url = settings.required("LBPILOT_RESULTS_QUEUE_URL")?;
    let emitter = SqsEmitter::new(aws_sdk_sqs::Client::new(&aws), queue_url);
    Ok(App {
        aws,
        settings,
        executor,
        emitter,
    })
}

/// Reports a cold-start failure to the Lambda Runtime API (so the console shows it as the init
/// error, with the setting's name) and logs it, then exits. Only configuration errors reach this.
pub async fn fail_init(error: ConfigError) -> ! {
    tracing::error!(setting = %error.name, problem = %error.problem, "cold start failed");
    if let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") {
        let body = serde_json::json!({"errorMessage": error.to_string(), "errorType": "Runtime.ConfigurationError"});
        let Ok(transport) = Transport::new() else {
            std::process::exit(1)
        };
        let _ = transport
            .client()
            .post(format!("http://{api}/2018-06-01/runtime/init/error"))
            .header(
                "Lambda-Runtime-Function-Error-Type",
                "Runtime.ConfigurationError",
            )
            .body(body.to_string())
            .send()
            .await;
    }
    std::process::exit(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> SdkConfig {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        sdk_config(
            |name| vars.get(name).cloned(),
            SharedHttpClient::new(crate::transport::AwsHttpClient::new(
                &Transport::new().unwrap(),
            )),
        )
    }

    fn endpoint(config: &SdkConfig, service: &str) -> Option<String> {
        config
            .service_config()
            .and_then(|c| {
                c.load_config(
                    ServiceConfigKey::builder()
                        .service_id(service)
                        .env("AWS_ENDPOINT_URL")
                        .profile("endpoint_url")
                        .build()
                        .unwrap(),
                )
            })
            .or_else(|| config.endpoint_url().map(str::to_string))
    }

    #[test]
    fn region_and_endpoints_come_from_the_environment() {
        let c = config(&[
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:7000"),
        ]);
        assert_eq!(c.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(
            endpoint(&c, "SQS").as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(
            endpoint(&c, "DynamoDB").as_deref(),
            Some("http://127.0.0.1:8000")
        );
        assert_eq!(
            endpoint(&c, "Secrets Manager").as_deref(),
            Some("http://127.0.0.1:7000")
        );
        let c = config(&[
            ("AWS_REGION", "us-east-1"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        ]);
        assert_eq!(c.region().map(|r| r.as_ref()), Some("us-east-1"));
        assert_eq!(endpoint(&c, "SQS"), None);
        assert!(config(&[]).region().is_none());
    }
}
