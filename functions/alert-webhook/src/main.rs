//! Monitoring alerts in (Alertmanager, Grafana, CloudMonitor over a Function URL; CloudWatch
//! alarms via SNS): firing alerts drain their backends, resolved ones restore them.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use lbpilot::drain::engine::DrainEngine;
use lbpilot::drain::routes::{self, Routes};
use lbpilot::emitter::SqsEmitter;
use lbpilot::error::ConfigError;
use lbpilot::state::DynamoState;
use lbpilot::triggers::alerts::{AlertWebhook, WebhookAuth};
use lbpilot::triggers::deadline_of;
use serde_json::Value;

// The workspace Cargo.toml says why (at the mimalloc dependency).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

async fn init() -> Result<AlertWebhook<DynamoState, SqsEmitter>, ConfigError> {
    let app = lbpilot::app::from_env().await?;
    let routes = Routes::load(&app.settings.required(routes::SETTING)?)?;
    let auth = WebhookAuth::from_settings(&app.settings)?;
    let table = app.settings.required("LBPILOT_STATE_TABLE")?;
    let state = DynamoState::new(aws_sdk_dynamodb::Client::new(&app.aws), table);
    Ok(AlertWebhook::new(
        DrainEngine::new(routes, app.executor, state, app.emitter),
        auth,
    ))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lbpilot::telemetry::init();
    let webhook = &match init().await {
        Ok(webhook) => webhook,
        Err(e) => lbpilot::app::fail_init(e).await,
    };
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = deadline_of(&event.context);
        webhook
            .handle(event.payload, &event.context.request_id, deadline)
            .await
            .map_err(Error::from)
    }))
    .await
}
