//! Cold-start wiring shared by the handler binaries: configuration, clients and the emitter,
//! built once per process.

use crate::config::{ExecutorConfig, Settings};
use crate::emitter::SqsEmitter;
use crate::error::ConfigError;
use crate::executor::Executor;
use crate::transport::Transport;

/// The SQS client, with the standard AWS configuration chain (`AWS_ENDPOINT_URL_SQS` and
/// `AWS_ENDPOINT_URL` included).
pub async fn sqs_client() -> aws_sdk_sqs::Client {
    let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    aws_sdk_sqs::Client::new(&shared)
}

pub fn executor(config: ExecutorConfig) -> Result<Executor, ConfigError> {
    let transport = Transport::new()
        .map_err(|e| ConfigError::new("TLS", format!("the HTTP client could not start: {e}")))?;
    Ok(Executor::new(config, transport))
}

/// The executor and the results-queue emitter, from the environment.
pub async fn from_env() -> Result<(Executor, SqsEmitter, Settings<'static>), ConfigError> {
    let settings = Settings::new(&|name| std::env::var(name).ok());
    let executor = executor(ExecutorConfig::from_settings(&settings)?)?;
    let queue_url = settings.required("LBPILOT_RESULTS_QUEUE_URL")?;
    let emitter = SqsEmitter::new(sqs_client().await, queue_url);
    Ok((executor, emitter, settings))
}

/// Reports a cold-start failure to the Lambda Runtime API (so the console shows it as the init
/// error, with the setting's name) and logs it, then exits. Only configuration errors reach this.
pub async fn fail_init(error: ConfigError) -> ! {
    tracing::error!(setting = %error.name, problem = %error.problem, "cold start failed");
    if let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") {
        let body = serde_json::json!({"errorMessage": error.to_string(), "errorType": "Runtime.ConfigurationError"});
        let _ = reqwest::Client::new()
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
