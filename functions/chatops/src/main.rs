//! Slack slash command over a Lambda Function URL: verifies the signature, checks who may act on
//! the target, queues the change (answering within Slack's 3 s), and answers `status` directly.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use lbpilot::chatops::ChatOps;
use lbpilot::chatops::queue::SqsCommandQueue;
use lbpilot::config::ExecutorConfig;
use lbpilot::error::ConfigError;
use lbpilot::executor::Executor;
use lbpilot::http_event::HttpRequestEvent;

// The workspace Cargo.toml says why (at the mimalloc dependency).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

async fn init() -> Result<ChatOps<SqsCommandQueue>, ConfigError> {
    let transport = lbpilot::app::transport()?;
    let aws = lbpilot::app::aws_config(&transport);
    let settings = lbpilot::app::settings(&aws).await?;
    let executor = Executor::new(ExecutorConfig::from_settings(&settings)?, transport);
    let (signing_secret, aliases) = ChatOps::<SqsCommandQueue>::settings(&settings)?;
    let queue_url = settings.required("LBPILOT_COMMAND_QUEUE_URL")?;
    let queue = SqsCommandQueue::new(aws_sdk_sqs::Client::new(&aws), queue_url);
    Ok(ChatOps::new(signing_secret, aliases, executor, queue))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lbpilot::telemetry::init();
    let chatops = &match init().await {
        Ok(chatops) => chatops,
        Err(e) => lbpilot::app::fail_init(e).await,
    };
    run(service_fn(
        move |event: LambdaEvent<HttpRequestEvent>| async move {
            Ok::<_, Error>(chatops.handle(&event.payload).await)
        },
    ))
    .await
}
