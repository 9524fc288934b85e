//! One run of one subject: spawn it under a fresh Runtime API, time its init and invocations,
//! read its CPU time and peak RSS, stop it. The definitions are in BENCHMARKS.md.

use crate::figures::Figure;
use crate::process::Running;
use crate::stack::Stack;
use crate::subject::Subject;
use crate::workspace::Function;
use crate::{Result, event::BenchEvent};
use lbpilot_tests::runtime_api::RuntimeApi;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

pub struct Plan {
    /// Warm invocations per run (their median is the run's figure).
    pub warm: usize,
    /// Messages in the batches.
    pub batch: usize,
    /// The provider latency injected for the batch-versus-single figures.
    pub latency_ms: u64,
    /// The deadline each invocation gets, and the longest init waited for.
    pub timeout: Duration,
    /// Settings added for every subject (`--env`), last.
    pub env: Vec<(String, String)>,
}

pub type Sample = BTreeMap<Figure, f64>;

pub async fn sample(
    stack: &Stack,
    function: &Function,
    subject: &Subject,
    plan: &Plan,
    log: PathBuf,
) -> Result<Sample> {
    stack.zero_latency().await?;
    stack.take_outcomes(None).await?;
    let api = Arc::new(RuntimeApi::start().await);
    let mut env = stack.env();
    env.extend(function.settings(&stack.placeholders()));
    env.extend(plan.env.iter().cloned());
    let command = subject.command(&function.name, &env, &api.address);
    let event = function.event.as_ref().map(|e| e.refreshed(&env));
    let mut proc = Running::spawn(command, log)?;
    let mut s = Sample::new();
    // Lambda has the event ready when a cold start asks for it: queue it now, long before the
    // new process can ask, so the first `next` returns at once.
    let first = event
        .as_ref()
        .map(|e| start_invoke(&api, e.value.clone(), plan.timeout));
    let init_end = wait_for_init(&api, &mut proc, plan.timeout).await?;
    s.insert(Figure::Init, ms(init_end - proc.started));
    if let (Some(event), Some(first)) = (&event, first) {
        let (answer, _, answered_at) = finish_invoke(first, &mut proc).await?;
        check(&answer, event, &proc)?;
        s.insert(Figure::First, ms(answered_at - init_end));
        s.insert(Figure::Cold, ms(answered_at - proc.started));
        stack.take_outcomes(sqs_count(event)).await?;
        invocations(stack, &api, &mut proc, event, plan, &mut s).await?;
    }
    s.insert(Figure::Rss, proc.peak_rss_kib()? as f64 / 1024.0);
    Ok(s)
}

/// The warm figures, and the batch figures for an SQS event.
async fn invocations(
    stack: &Stack,
    api: &Arc<RuntimeApi>,
    proc: &mut Running,
    event: &BenchEvent,
    plan: &Plan,
    s: &mut Sample,
) -> Result<()> {
    let (mut warm, mut warm_cpu, mut outcomes) = (Vec::new(), Duration::ZERO, 0);
    for _ in 0..plan.warm {
        stack.zero_latency().await?;
        let cpu_before = proc.cpu_time()?;
        let took = call(api, proc, event, event.value.clone(), plan.timeout).await?;
        warm_cpu += proc.cpu_time()? - cpu_before;
        warm.push(ms(took));
        outcomes += stack.take_outcomes(sqs_count(event)).await?;
    }
    s.insert(Figure::Warm, crate::stats::median(&warm));
    let (Some(batch), Some(single), Some(copies)) = (
        event.batch(plan.batch),
        event.copies_of_first(1),
        event.copies_of_first(plan.batch),
    ) else {
        // Not a batch: the CPU time of the warm invocations per action they handled (per
        // message they published: outcomes, or queued commands), at least per invocation.
        s.insert(
            Figure::EventCpu,
            ms(warm_cpu) / outcomes.max(plan.warm) as f64,
        );
        return Ok(());
    };

    stack.zero_latency().await?;
    let cpu_before = proc.cpu_time()?;
    let took = call(api, proc, event, batch, plan.timeout).await?;
    let cpu = proc.cpu_time()? - cpu_before;
    s.insert(Figure::Batch0, ms(took));
    s.insert(Figure::EventCpu, ms(cpu) / plan.batch as f64);
    stack.take_outcomes(Some(plan.batch)).await?;

    stack.provider_latency(plan.latency_ms).await?;
    let one = call(api, proc, event, single, plan.timeout).await?;
    stack.take_outcomes(Some(1)).await?;
    stack.provider_latency(plan.latency_ms).await?;
    let all = call(api, proc, event, copies, plan.timeout).await?;
    stack.take_outcomes(Some(plan.batch)).await?;
    s.insert(Figure::Single200, ms(one));
    s.insert(Figure::Batch200, ms(all));
    s.insert(Figure::BatchRatio, ms(all) / ms(one));
    stack.zero_latency().await?;
    Ok(())
}

type Invoke = JoinHandle<(lbpilot_tests::runtime_api::Invocation, Duration, Instant)>;

/// Queues `event`; the task ends with the answer, how long it took and when it came.
fn start_invoke(api: &Arc<RuntimeApi>, event: Value, timeout: Duration) -> Invoke {
    let api = api.clone();
    tokio::spawn(async move {
        let start = Instant::now();
        let answer = api.invoke(event, timeout).await;
        let now = Instant::now();
        (answer, now - start, now)
    })
}

/// Waits for an invocation, failing early if the process dies.
async fn finish_invoke(
    mut task: Invoke,
    proc: &mut Running,
) -> Result<(Result<Value>, Duration, Instant)> {
    loop {
        tokio::select! {
            done = &mut task => {
                let (answer, took, at) = done.map_err(|e| format!("no answer ({e}); {}", proc.log_tail()))?;
                return Ok((answer.map_err(|e| e.to_string()), took, at));
            }
            _ = tokio::time::sleep(Duration::from_millis(20)) => {
                if let Some(status) = proc.exited() {
                    return Err(format!("the function exited ({status}); {}", proc.log_tail()));
                }
            }
        }
    }
}

/// One invocation, answered successfully; returns its latency.
async fn call(
    api: &Arc<RuntimeApi>,
    proc: &mut Running,
    event: &BenchEvent,
    value: Value,
    timeout: Duration,
) -> Result<Duration> {
    let (answer, took, _) = finish_invoke(start_invoke(api, value, timeout), proc).await?;
    check(&answer, event, proc)?;
    Ok(took)
}

/// The end of init: the first `next`. Fails on an init error, an exit or a time-out.
async fn wait_for_init(api: &RuntimeApi, proc: &mut Running, timeout: Duration) -> Result<Instant> {
    loop {
        if let Some(at) = api.first_next() {
            return Ok(at);
        }
        if let Some(error) = api.init_error() {
            return Err(format!("init failed: {error}; {}", proc.log_tail()));
        }
        if let Some(status) = proc.exited() {
            return Err(format!(
                "exited during init ({status}); {}",
                proc.log_tail()
            ));
        }
        if proc.started.elapsed() > timeout {
            return Err(format!("no `next` after {timeout:?}; {}", proc.log_tail()));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A benchmark invocation must succeed: no invocation error, no HTTP error answer (Function
/// URL events), and nothing left to retry in an SQS batch. Otherwise the figures would not be
/// of the job done.
fn check(answer: &Result<Value>, event: &BenchEvent, proc: &Running) -> Result<()> {
    let value = answer
        .as_ref()
        .map_err(|e| format!("the invocation failed: {e}; {}", proc.log_tail()))?;
    if let Some(status) = value["statusCode"].as_u64().filter(|s| *s >= 400) {
        let body: String = value["body"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        return Err(format!(
            "answered HTTP {status}: {body}; {}",
            proc.log_tail()
        ));
    }
    if event.sqs_records().is_some() {
        let failures = value["batchItemFailures"].as_array();
        if failures.is_none_or(|f| !f.is_empty()) {
            return Err(format!(
                "the batch was not fully processed: {value}; {}",
                proc.log_tail()
            ));
        }
    }
    Ok(())
}

/// One outcome per record of an SQS event; other events are not counted.
fn sqs_count(event: &BenchEvent) -> Option<usize> {
    event.sqs_records().map(<[Value]>::len)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
