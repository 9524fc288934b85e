//! SQS-triggered: executes each record's action and emits one outcome per record.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use lbpilot::chatops::replies::{DEFAULT_ALLOWED_PREFIX, Replier};
use lbpilot::emitter::SqsEmitter;
use lbpilot::error::ConfigError;
use lbpilot::triggers::{deadline_of, sqs::QueueWorker};

// The workspace Cargo.toml says why (at the mimalloc dependency).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

async fn init() -> Result<QueueWorker<SqsEmitter>, ConfigError> {
    let lbpilot::app::App {
        executor,
        emitter,
        settings,
        ..
    } = lbpilot::app::from_env().await?;
    let concurrency = settings.number("LBPILOT_CONCURRENCY", 10, 1..=100)?;
    let slack_prefix = settings
        .get("LBPILOT_SLACK_RESPONSE_URL_PREFIX")
        .unwrap_or_else(|| DEFAULT_ALLOWED_PREFIX.into());
    let replier = Replier::new(executor.transport().client().clone(), slack_prefix);
    Ok(QueueWorker::new(executor, emitter, concurrency).with_replier(replier))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lbpilot::telemetry::init();
    let worker = &match init().await {
        Ok(worker) => worker,
        Err(e) => lbpilot::app::fail_init(e).await,
    };
    run(service_fn(move |event: LambdaEvent<_>| async move {
        Ok::<_, Error>(
            worker
                .handle(event.payload, deadline_of(&event.context))
                .await?,
        )
    }))
    .await
}
