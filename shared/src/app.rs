//! Cold-start wiring shared by the handler binaries: configuration, clients and the emitter,
//! built once per process.

use crate::config::{ExecutorConfig, Settings};
use crate::emitter::SqsEmitter;
use crate::error::ConfigError;
use crate::executor::Executor;
use crate::transport::Transport;
use aws_config::SdkConfig;
use std::collections::HashMap;

/// The secret that holds provider keys and webhook secrets, read once per cold start.
pub const SECRET_ID: &str = "LBPILOT_SECRET_ID";

/// The AWS configuration chain (credentials, region, `AWS_ENDPOINT_URL_*`), loaded once, with
/// an HTTPS client that trusts the compiled-in roots (crate::tls).
pub async fn aws_config() -> Result<SdkConfig, ConfigError> {
    let http = crate::tls::aws_http_client().map_err(|e| {
        ConfigError::new("TLS", format!("the AWS HTTPS client could not start: {e}"))
    })?;
    Ok(aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .load()
        .await)
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

pub fn executor(config: ExecutorConfig) -> Result<Executor, ConfigError> {
    let transport = Transport::new()
        .map_err(|e| ConfigError::new("TLS", format!("the HTTP client could not start: {e}")))?;
    Ok(Executor::new(config, transport))
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
    let aws = aws_config().await?;
    let settings = settings(&aws).await?;
    let executor = executor(ExecutorConfig::from_settings(&settings)?)?;
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
