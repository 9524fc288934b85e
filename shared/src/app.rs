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
