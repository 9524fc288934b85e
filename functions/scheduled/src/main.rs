//! EventBridge Scheduler and EventBridge rule target: runs the schedule's actions in order; a
//! failure is an invocation error, so EventBridge retries and the on-failure destination take over.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use lbpilot::emitter::SqsEmitter;
use lbpilot::error::ConfigError;
use lbpilot::triggers::{deadline_of, schedule::Scheduler};
use serde_json::Value;

// The workspace Cargo.toml says why (at the mimalloc dependency).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

async fn init() -> Result<Scheduler<SqsEmitter>, ConfigError> {
    let app = lbpilot::app::from_env().await?;
    Ok(Scheduler::new(app.executor, app.emitter))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lbpilot::telemetry::init();
    let scheduler = &match init().await {
        Ok(scheduler) => scheduler,
        Err(e) => lbpilot::app::fail_init(e).await,
    };
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = deadline_of(&event.context);
        Ok::<_, Error>(
            scheduler
                .handle(event.payload, &event.context.request_id, deadline)
                .await?,
        )
    }))
    .await
}
