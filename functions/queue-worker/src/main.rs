//! SQS-triggered: executes each record's action and emits one outcome per record.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use lbpilot::triggers::{deadline_of, sqs::QueueWorker};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lbpilot::telemetry::init();
    let (executor, emitter, settings) = lbpilot::app::from_env().await?;
    let concurrency = settings.number("LBPILOT_CONCURRENCY", 10, 1..=100)?;
    let worker = &QueueWorker::new(executor, emitter, concurrency);
    run(service_fn(move |event: LambdaEvent<_>| async move {
        Ok::<_, Error>(
            worker
                .handle(event.payload, deadline_of(&event.context))
                .await?,
        )
    }))
    .await
}
