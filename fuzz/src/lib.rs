//! What the fuzz targets share: the handlers built once per process, offline (no provider
//! credentials, so an action is validated and then refused before anything is sent), and
//! checks used by several targets.

use lbpilot::action::Action;
use lbpilot::chatops::queue::{CommandQueue, Reply};
use lbpilot::config::ExecutorConfig;
use lbpilot::emitter::OutcomeSink;
use lbpilot::endpoints::Endpoints;
use lbpilot::executor::Executor;
use lbpilot::outcome::Outcome;
use lbpilot::retry::RetryPolicy;
use lbpilot::transport::Transport;
use serde_json::Value;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use tokio::time::Instant;

/// The routes and chat aliases the local run uses: real configuration for the handlers.
pub const ROUTES: &str = include_str!("../../config/routes.json");
pub const ALIASES: &str = include_str!("../../config/chatops-aliases.json");

/// The secrets the fuzzed handlers accept (the seeds carry them, so inputs get past auth).
pub const WEBHOOK_TOKEN: &str = "fuzz-token";
pub const SLACK_SECRET: &str = "fuzz-slack-secret";

/// One current-thread runtime per process: the handlers are async but never block here.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime starts")
    })
    .block_on(f)
}

/// An executor without credentials: it validates each action fully, then answers
/// `NotConfigured` without touching the network.
pub fn offline_executor() -> Executor {
    let config = ExecutorConfig {
        alibaba: None,
        huawei: None,
        huawei_project_id: Some("fuzz-project".into()),
        endpoints: Endpoints::default(),
        retry: RetryPolicy::default(),
        alb_job_wait: Duration::ZERO,
        ga_pending_wait: Duration::ZERO,
    };
    Executor::new(config, Transport::new().expect("the HTTP client starts"))
}

/// A deadline far enough away that nothing is cut short by it.
pub fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

/// JSON equality where numbers compare as f64 with a relative tolerance: serde_json (without
/// `float_roundtrip`) may parse a printed float one ULP away, which is not a finding.
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if x == y {
                return true;
            }
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Whether any object key in `value` (at any depth) contains `needle`.
pub fn any_key_contains(value: &Value, needle: &str) -> bool {
    match value {
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.contains(needle) || any_key_contains(v, needle)),
        Value::Array(items) => items.iter().any(|v| any_key_contains(v, needle)),
        _ => false,
    }
}

/// Keeps only what was published since the last `take` (the lbpilot `MemorySink` keeps
/// everything, which would grow without bound over millions of runs).
#[derive(Debug, Default)]
pub struct LastSink(Mutex<Vec<Outcome>>);

impl LastSink {
    pub fn take(&self) -> Vec<Outcome> {
        std::mem::take(&mut *self.0.lock().expect("not poisoned"))
    }
}

impl OutcomeSink for LastSink {
    async fn publish(&self, outcomes: &[Outcome]) -> Vec<bool> {
        self.0
            .lock()
            .expect("not poisoned")
            .extend_from_slice(outcomes);
        vec![true; outcomes.len()]
    }
}

/// The command queue, keeping only what was queued since the last `take`.
#[derive(Debug, Default)]
pub struct LastQueue(Mutex<Vec<(Action, String, Reply)>>);

impl LastQueue {
    pub fn take(&self) -> Vec<(Action, String, Reply)> {
        std::mem::take(&mut *self.0.lock().expect("not poisoned"))
    }
}

impl CommandQueue for LastQueue {
    async fn enqueue(&self, action: &Action, group: &str, reply: &Reply) -> Result<String, String> {
        let mut sent = self.0.lock().expect("not poisoned");
        sent.push((action.clone(), group.to_string(), reply.clone()));
        Ok(format!("fuzz-{}", sent.len()))
    }
}
