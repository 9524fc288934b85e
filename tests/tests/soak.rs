//! Soak: a few thousand queue messages through the real queue-worker path while the provider
//! fakes misbehave at random (5xx bursts, throttling with and without retry-after, latency past
//! the deadline, connections reset before and after applying, truncated bodies, failed ALB
//! jobs) and the results queue refuses some outcomes. Messages go through moto's SQS as Lambda's
//! event source mapping would take them: a steady producer, several source queues (each with a
//! poller: one "Lambda instance" per queue) sharing a DLQ, batches of up to 10 handed to
//! `QueueWorker::handle` with a deadline, deleted unless reported as batch item failures,
//! delivered again once visible, and moved to the DLQ after `maxReceiveCount` deliveries.
//! Standard queues, not FIFO: with one message group per target, a FIFO queue would run the
//! targets one change at a time and the soak would measure the visibility timeout.
//!
//! Time: the source queues' visibility timeout is long ([`VISIBILITY_SECS`]), so a batch slowed
//! down by a busy machine is never received twice at once, and a record reported failed is made
//! visible again [`REDELIVERY_SECS`] later with `ChangeMessageVisibility` (as a short visibility
//! timeout would, without that risk): the DLQ path costs `maxReceiveCount` short waits, not
//! `maxReceiveCount` visibility timeouts. Provider calls time out after [`REQUEST_TIMEOUT_MS`]
//! and a latency fault holds its answer just past that, so a call that hangs costs one timeout
//! and leaves room for a retry inside the deadline. moto answers one request at a time and its
//! receive slows down with every message a queue holds, so the messages are spread over a few
//! source queues (kept short by the producer) and the outcomes over a few results queues on a
//! second server (kept short by their collectors).
//!
//! Then everything is counted: every delivery produced one outcome; every message has exactly
//! one confirmed final outcome, or is in the DLQ with non-final outcomes on the results queue
//! saying why; an outcome that is not final or was not published is always followed by another
//! delivery (nothing is lost); bad input is rejected once, never retried; no change was applied
//! twice (ALB ClientTokens, SLB changes after they were applied, VServer groups per name); the
//! results queue holds exactly the outcomes the worker published.
//!
//! `LBPILOT_SOAK_MESSAGES` (default 2000), `LBPILOT_SOAK_SEED` and `LBPILOT_SOAK_TIME_LIMIT_SECS`
//! (default 90: the run fails, with its figures, when it takes longer) change the run;
//! `LBPILOT_SOAK_PROGRESS=1` prints a line every 5 s while it runs. The figures are printed on
//! stderr; see them with `cargo test -p lbpilot-tests --test soak -- --nocapture`.

use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry, QueueAttributeName,
};
use lbpilot::emitter::{OutcomeSink, SqsEmitter};
use lbpilot::outcome::Outcome;
use lbpilot::triggers::sqs::QueueWorker;
use lbpilot_tests::fakes::{
    FakeCloud, FaultKind, FaultMix, MixRule, Product, RecordedRequest, Seed, SlbBackend, demo,
};
use lbpilot_tests::harness::{actions, event_of_messages, executor_env};
use lbpilot_tests::moto::Moto;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

const DEFAULT_MESSAGES: usize = 2000;
const DEFAULT_SEED: u64 = 20_261_202;
/// The whole run (sending, every delivery, the DLQ), not counting the checks after it.
const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(90);
/// The source queues' visibility timeout: far longer than any batch is held, even on a machine
/// busy with other tests, so no message is ever handed to two pollers at once.
const VISIBILITY_SECS: i32 = 30;
/// A record reported as a batch item failure is visible again this much later.
const REDELIVERY_SECS: i32 = 1;
/// The invocation's deadline, well inside the visibility timeout (as Lambda requires).
const INVOCATION: Duration = Duration::from_millis(2500);
/// The longest one provider call may take (`LBPILOT_REQUEST_TIMEOUT_MS`).
const REQUEST_TIMEOUT_MS: u64 = 500;
/// Deliveries before SQS moves a message to the DLQ.
const MAX_RECEIVES: u32 = 4;
/// Batches in flight at once (concurrent "Lambda instances"), one per source queue: moto's
/// receive is not safe against itself, two at once on one queue can return the same message.
const POLLERS: usize = SHARDS;
/// Records of one batch run at once (`LBPILOT_CONCURRENCY`).
const RECORD_CONCURRENCY: usize = 10;
/// A latency fault holds the answer this long: just past a call's timeout.
const LATE_MS: u64 = REQUEST_TIMEOUT_MS + 300;
/// Source queues (moto's receive slows down with every message a queue holds), and the most
/// messages the producer keeps on each (in flight included).
const SHARDS: usize = 8;
const BACKLOG: usize = 30;
/// Results queues: the worker's sink sends each batch's outcomes to the next one, and each has
/// a collector taking them off as they come (one moto queue could not keep up).
const RESULT_SHARDS: usize = 4;
/// Share of outcomes the results queue refuses (each one makes its record fail).
const REFUSE_RATE: f64 = 0.01;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Alb,
    SlbModify,
    SlbCreate,
    Roma,
    Ga,
    /// A valid action whose target always fails retryably: it must end in the DLQ.
    Poison,
    /// An action that breaks a documented rule (or is not an object of the right shape).
    Invalid,
    /// A body that is not JSON at all, or JSON that is not an action object.
    Unparseable,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Alb => "alb update",
            Kind::SlbModify => "slb modify",
            Kind::SlbCreate => "slb create",
            Kind::Roma => "roma update",
            Kind::Ga => "ga dial",
            Kind::Poison => "poison (ga)",
            Kind::Invalid => "invalid",
            Kind::Unparseable => "unparseable",
        }
    }

    fn is_bad_input(self) -> bool {
        matches!(self, Kind::Invalid | Kind::Unparseable)
    }
}

/// One message as sent.
#[derive(Debug, Clone)]
struct Sent {
    kind: Kind,
    body: String,
    action_id: Option<String>,
    /// SLB modify: the backend it changes (one per message, so no two messages race on it) and
    /// the weight it sets.
    slb_server: Option<(String, u32)>,
    /// SLB create: the group's name.
    create_name: Option<String>,
}

fn slb_server(i: usize) -> String {
    format!("i-soak{i:05}")
}

fn message(i: usize, rng: &mut fastrand::Rng) -> Sent {
    let kind = if i % 250 == 125 {
        Kind::Poison
    } else {
        match rng.u32(0..100) {
            0..16 => Kind::Alb,
            16..32 => Kind::SlbModify,
            32..44 => Kind::SlbCreate,
            44..60 => Kind::Roma,
            60..76 => Kind::Ga,
            76..90 => Kind::Invalid,
            _ => Kind::Unparseable,
        }
    };
    let id = format!("soak-{i:05}");
    let with_id = |mut v: Value| {
        v["id"] = json!(id);
        v
    };
    let mut sent = Sent {
        kind,
        body: String::new(),
        action_id: Some(id.clone()),
        slb_server: None,
        create_name: None,
    };
    let action = match kind {
        Kind::Alb => with_id(actions::alb_drain(rng.usize(0..3), rng.u32(0..=100))),
        Kind::SlbModify => {
            let (server, weight) = (slb_server(i), rng.u32(0..100));
            sent.slb_server = Some((server.clone(), weight));
            with_id(
                json!({"operation": "slb:ModifyVServerGroupBackendServers", "region": demo::SLB_REGION,
                "params": {"VServerGroupId": demo::SLB_VSG,
                           "OldBackendServers": [{"ServerId": server, "Port": demo::SLB_PORT, "Weight": 100}],
                           "NewBackendServers": [{"ServerId": server, "Port": demo::SLB_PORT, "Weight": weight}]}}),
            )
        }
        Kind::SlbCreate => {
            let name = format!("soak-create-{i:05}");
            sent.create_name = Some(name.clone());
            with_id(actions::slb_create(&name))
        }
        Kind::Roma => with_id(actions::roma_weight(rng.u32(0..=100))),
        Kind::Ga => with_id(actions::ga_dial(rng.u32(0..=100))),
        Kind::Poison => with_id(json!({"operation": "ga:UpdateEndpointGroup",
            "params": {"endpoint_group_id": demo::GA_BACKUP_GROUP, "endpoint_group": {"traffic_dial_percentage": 0}}})),
        Kind::Invalid => {
            sent.action_id = None;
            match i % 7 {
                0 => json!({"operation": 42, "n": i}),
                1 => with_id(actions::alb_drain(0, 101)),
                2 => {
                    let mut a = actions::ga_dial(0);
                    a["dryrun"] = json!(true);
                    a["reason"] = json!(format!("misspelt dry run #{i}"));
                    a
                }
                3 => with_id(actions::ga_dial(150)),
                4 => {
                    let mut a = actions::roma_weight(1);
                    a["id"] = json!(format!("{i:0>70}"));
                    a
                }
                5 => with_id(
                    json!({"operation": "alb:DeleteServerGroup", "region": "cn-hangzhou", "params": {}}),
                ),
                _ => {
                    let mut a = actions::slb_modify(0, 100, 0);
                    a["params"]["NewBackendServers"] = json!([]);
                    with_id(a)
                }
            }
        }
        Kind::Unparseable => {
            sent.action_id = None;
            sent.body = match i % 6 {
                0 => format!("\u{fffd}\u{fffd} not an action #{i}"),
                1 => format!("<Action><Id>{i}</Id></Action>"),
                2 => format!(
                    "{{\"id\": \"soak-{i:05}\", \"operation\": \"ga:UpdateEndpointGroup\", "
                ),
                3 => "null".into(),
                4 => format!("[{i}, \"drain\"]"),
                _ => format!("drain web-{i} please"),
            };
            return sent;
        }
    };
    sent.body = action.to_string();
    sent
}

/// The providers' trouble, per call. One draw per call is shared by a product's rules, so
/// the rates below are the chances per call (a burst adds the next calls to its first).
fn fault_mix(seed: u64) -> (FaultMix, Vec<String>) {
    let mut mix = FaultMix::new(seed)
        // The poison target: every call fails with a 5xx, a retry never helps.
        .rule(
            MixRule::new(
                Product::Ga,
                1.0,
                FaultKind::ServerError {
                    status: 503,
                    code: None,
                },
            )
            .matching(demo::GA_BACKUP_GROUP),
        );
    let mut described = vec![format!(
        "ga calls naming {}: 503 always (poison)",
        demo::GA_BACKUP_GROUP
    )];
    let writes: [(Product, &str); 5] = [
        (Product::Alb, "UpdateServerGroupServersAttribute"),
        (Product::Slb, "ModifyVServerGroupBackendServers"),
        (Product::Slb, "CreateVServerGroup"),
        (Product::Roma, "UpdateMemberGroup"),
        (Product::Ga, "UpdateEndpointGroup"),
    ];
    for product in Product::ALL {
        let status = if product.is_alibaba() { 503 } else { 500 };
        let rules = [
            (0.02, 3, FaultKind::ServerError { status, code: None }),
            (
                0.02,
                1,
                FaultKind::Throttle {
                    retry_after_ms: Some(300),
                },
            ),
            (
                0.02,
                1,
                FaultKind::Throttle {
                    retry_after_ms: None,
                },
            ),
            (0.005, 1, FaultKind::Latency { ms: LATE_MS }),
            (0.01, 1, FaultKind::Drop),
            (0.02, 1, FaultKind::MalformedBody),
        ];
        for (p, burst, kind) in rules {
            described.push(format!(
                "{product} any call: {} {:.1} %{}",
                describe(&kind),
                p * 100.0,
                if burst > 1 {
                    format!(" (bursts of {burst})")
                } else {
                    String::new()
                }
            ));
            mix = mix.rule(MixRule::new(product, p, kind).burst(burst));
        }
        for (_, action) in writes.iter().filter(|(p, _)| *p == product) {
            mix = mix.rule(MixRule::new(product, 0.03, FaultKind::AppliedThenDrop).action(action));
            described.push(format!("{product} {action}: applied_then_drop 3.0 %"));
        }
    }
    mix = mix.rule(MixRule::new(
        Product::Alb,
        0.03,
        FaultKind::JobFails {
            code: None,
            message: None,
        },
    ));
    described.push("alb UpdateServerGroupServersAttribute: job_fails 3.0 %".into());
    (mix, described)
}

fn describe(kind: &FaultKind) -> String {
    match kind {
        FaultKind::ServerError { status, .. } => format!("server_error {status}"),
        FaultKind::Throttle {
            retry_after_ms: Some(ms),
        } => format!("throttle (retry-after {ms} ms)"),
        FaultKind::Throttle { .. } => "throttle (no retry-after)".into(),
        FaultKind::Latency { ms } => format!("latency {ms} ms"),
        other => other.name().into(),
    }
}

/// What became of an outcome the worker handed to its sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// The results queue accepted it.
    Confirmed,
    /// `SendMessageBatch` did not confirm it (it may still have landed).
    Unconfirmed,
    /// Refused by this test, as a failing results queue would: never sent.
    Refused,
}

/// One outcome handed to the sink: its message body (exactly as the emitter sends it), parsed,
/// and what became of it.
struct Handed {
    body: String,
    outcome: Value,
    fate: Fate,
}

/// The results queue as the worker sees it: the real emitter, refusing a share of outcomes at
/// random (as a failing `SendMessageBatch` entry would: those records must come back, never be
/// lost) and remembering every outcome and its fate.
struct CountingSink {
    /// One emitter per results queue, taken in turn.
    inner: Vec<SqsEmitter>,
    next: AtomicUsize,
    rng: Mutex<fastrand::Rng>,
    handed: Mutex<Vec<Handed>>,
    /// The longest `SendMessageBatch` round (part of an invocation's time).
    slowest_publish: Mutex<Duration>,
}

impl OutcomeSink for CountingSink {
    async fn publish(&self, outcomes: &[Outcome]) -> Vec<bool> {
        let refuse: Vec<bool> = {
            let mut rng = self.rng.lock().unwrap();
            outcomes.iter().map(|_| rng.f64() < REFUSE_RATE).collect()
        };
        let passed: Vec<Outcome> = outcomes
            .iter()
            .zip(&refuse)
            .filter(|(_, r)| !**r)
            .map(|(o, _)| o.clone())
            .collect();
        let asked = Instant::now();
        let emitter = &self.inner[self.next.fetch_add(1, Ordering::Relaxed) % self.inner.len()];
        let mut results = emitter.publish(&passed).await.into_iter();
        {
            let mut slowest = self.slowest_publish.lock().unwrap();
            *slowest = (*slowest).max(asked.elapsed());
        }
        let mut handed = self.handed.lock().unwrap();
        let mut out = Vec::with_capacity(outcomes.len());
        for (o, refused) in outcomes.iter().zip(refuse) {
            let fate = match (refused, refused || results.next().unwrap_or(false)) {
                (true, _) => Fate::Refused,
                (false, true) => Fate::Confirmed,
                (false, false) => Fate::Unconfirmed,
            };
            let body = lbpilot::emitter::outcome_json(o);
            handed.push(Handed {
                outcome: serde_json::from_str(&body).expect("an outcome is JSON"),
                body,
                fate,
            });
            out.push(fate == Fate::Confirmed);
        }
        out
    }
}

/// What the pollers saw.
#[derive(Default)]
struct Observed {
    /// (messageId, ApproximateReceiveCount) of every record handed to the worker.
    deliveries: Vec<(String, u32)>,
    invocations: usize,
    slowest: Duration,
    unreportable_batches: usize,
    sqs_errors: usize,
    receives: usize,
    /// From asking for a batch to deleting its records: must stay under the visibility timeout.
    longest_held: Duration,
    slowest_receive: Duration,
    receive_time: Duration,
}

struct Run {
    /// The source queues and their DLQ.
    moto: Moto,
    /// The results queues (a second server: moto handles one request at a time).
    results_moto: Moto,
    /// The source queues, one per shard (moto's receive slows down with every message a queue
    /// holds, so the messages are spread over a few queues, each with its poller).
    source_urls: Vec<String>,
    worker: QueueWorker<CountingSink>,
    stop: AtomicBool,
    in_flight: AtomicUsize,
    /// Per source queue, the messages that left it: deleted, or failed at their last delivery
    /// (bound for the DLQ). What the producer sent minus these is the queue's backlog.
    gone: Vec<AtomicUsize>,
    observed: Mutex<Observed>,
}

fn receive_count_of(m: &aws_sdk_sqs::types::Message) -> u32 {
    m.attributes()
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
        })
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

async fn poller(run: Arc<Run>, shard: usize) {
    let sqs = run.moto.sqs();
    let source_url = &run.source_urls[shard];
    while !run.stop.load(Ordering::SeqCst) {
        let asked = Instant::now();
        let received = sqs
            .receive_message()
            .queue_url(source_url)
            .max_number_of_messages(10)
            // Long polling, as Lambda's pollers do: an idle poller costs moto little.
            .wait_time_seconds(1)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await;
        {
            let took = asked.elapsed();
            let mut o = run.observed.lock().unwrap();
            o.receives += 1;
            o.receive_time += took;
            o.slowest_receive = o.slowest_receive.max(took);
        }
        let messages = match received {
            Ok(out) => out.messages().to_vec(),
            Err(_) => {
                run.observed.lock().unwrap().sqs_errors += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        run.in_flight.fetch_add(1, Ordering::SeqCst);
        let event = event_of_messages(&messages);
        let started = Instant::now();
        let answer = run.worker.handle(event, started + INVOCATION).await;
        let took = started.elapsed();
        // Reported as batch item failures (every record, when the batch failed whole): those
        // come back; the others are deleted.
        let failed: HashSet<String> = match &answer {
            Ok(r) => r
                .batch_item_failures
                .iter()
                .map(|f| f.item_identifier.clone())
                .collect(),
            Err(_) => messages
                .iter()
                .map(|m| m.message_id().unwrap_or_default().to_string())
                .collect(),
        };
        let (mut deletes, mut retries) = (Vec::new(), Vec::new());
        let mut last_failures = 0;
        for (i, m) in messages.iter().enumerate() {
            let handle = m.receipt_handle().unwrap_or_default();
            if failed.contains(m.message_id().unwrap_or_default()) {
                if receive_count_of(m) >= MAX_RECEIVES {
                    last_failures += 1;
                }
                retries.push(
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(handle)
                        .visibility_timeout(REDELIVERY_SECS)
                        .build()
                        .expect("id and handle"),
                );
            } else {
                deletes.push(
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(handle)
                        .build()
                        .expect("id and handle"),
                );
            }
        }
        let delete = async {
            if deletes.is_empty() {
                return Some(0);
            }
            let out = sqs
                .delete_message_batch()
                .queue_url(source_url)
                .set_entries(Some(deletes))
                .send()
                .await
                .ok()?;
            out.failed().is_empty().then_some(out.successful().len())
        };
        let retry = async {
            if retries.is_empty() {
                return true;
            }
            sqs.change_message_visibility_batch()
                .queue_url(source_url)
                .set_entries(Some(retries))
                .send()
                .await
                .is_ok_and(|out| out.failed().is_empty())
        };
        let (deleted, retried) = tokio::join!(delete, retry);
        run.gone[shard].fetch_add(deleted.unwrap_or(0) + last_failures, Ordering::SeqCst);
        {
            let mut o = run.observed.lock().unwrap();
            o.sqs_errors += usize::from(deleted.is_none()) + usize::from(!retried);
            o.invocations += 1;
            o.slowest = o.slowest.max(took);
            o.longest_held = o.longest_held.max(asked.elapsed());
            if answer.is_err() {
                o.unreportable_batches += 1;
            }
            for m in &messages {
                o.deliveries.push((
                    m.message_id().unwrap_or_default().to_string(),
                    receive_count_of(m),
                ));
            }
        }
        run.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Sends a queue's bodies in batches of 10, keeping its backlog (sent, not yet gone) under
/// [`BACKLOG`]: a steady producer, counting for itself rather than asking moto, which would
/// slow it down. Returns how long sending took.
async fn produce(
    run: Arc<Run>,
    shard: usize,
    bodies: Vec<(usize, String)>,
    by_message_id: Arc<Mutex<HashMap<String, usize>>>,
) -> Duration {
    let sqs = run.moto.sqs();
    let url = &run.source_urls[shard];
    let started = Instant::now();
    let mut next = 0;
    while next < bodies.len() {
        let backlog = next.saturating_sub(run.gone[shard].load(Ordering::SeqCst));
        if backlog + 10 > BACKLOG {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        let room = (BACKLOG - backlog).min(bodies.len() - next);
        let mut sends = tokio::task::JoinSet::new();
        for start in (next..next + room).step_by(10) {
            let end = (start + 10).min(next + room);
            let entries: Vec<_> = (start..end)
                .map(|k| {
                    let (i, body) = &bodies[k];
                    aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(body)
                        .build()
                        .expect("entry")
                })
                .collect();
            let request = sqs
                .send_message_batch()
                .queue_url(url)
                .set_entries(Some(entries));
            sends.spawn(async move { request.send().await.expect("send batch") });
        }
        next += room;
        while let Some(out) = sends.join_next().await {
            let out = out.expect("sender");
            assert!(out.failed().is_empty(), "{:?}", out.failed());
            let mut ids = by_message_id.lock().unwrap();
            for ok in out.successful() {
                ids.insert(ok.message_id().to_string(), ok.id().parse().unwrap());
            }
        }
    }
    started.elapsed()
}

/// Takes outcomes off the results queue as they come (keeping it short), until told to stop.
async fn collect(
    sqs: aws_sdk_sqs::Client,
    url: String,
    into: Arc<Mutex<Vec<String>>>,
    run: Arc<Run>,
) {
    while !run.stop.load(Ordering::SeqCst) {
        let Ok(out) = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .visibility_timeout(600)
            .wait_time_seconds(1)
            .send()
            .await
        else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let messages = out.messages();
        if messages.is_empty() {
            continue;
        }
        let entries: Vec<_> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .build()
                    .expect("id and handle")
            })
            .collect();
        {
            let mut all = into.lock().unwrap();
            for m in messages {
                all.push(m.body().unwrap_or_default().to_string());
            }
        }
        let _ = sqs
            .delete_message_batch()
            .queue_url(&url)
            .set_entries(Some(entries))
            .send()
            .await;
    }
}

/// Messages on a queue, visible or in flight.
async fn queue_depth(moto: &Moto, url: &str) -> Option<u64> {
    let out = moto
        .sqs()
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .ok()?;
    let attrs = out.attributes()?;
    let n = |k: QueueAttributeName| attrs.get(&k).and_then(|v| v.parse::<u64>().ok());
    Some(
        n(QueueAttributeName::ApproximateNumberOfMessages)?
            + n(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)?,
    )
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// An SLB modify request's backend (the first new entry's ServerId).
fn slb_modify_server(r: &RecordedRequest) -> Option<String> {
    let list: Value = serde_json::from_str(&r.param("NewBackendServers")?).ok()?;
    list[0]["ServerId"].as_str().map(str::to_string)
}

/// Whether the fake ran the operation of a request (its change applied, if it was valid).
fn reached_the_operation(r: &RecordedRequest) -> bool {
    match r.fault.as_deref() {
        None => r.status == Some(200),
        Some("latency") => r.status == Some(200),
        Some("applied_then_drop") => true,
        Some("job_fails") => true,
        _ => false,
    }
}

#[derive(Default)]
struct Report {
    lines: String,
}

impl Report {
    fn row(&mut self, label: &str, value: impl std::fmt::Display) {
        let _ = writeln!(self.lines, "  {label:<34} {value}");
    }

    fn sub(&mut self, label: &str, value: impl std::fmt::Display) {
        let _ = writeln!(self.lines, "    {label:<32} {value}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn soak_thousands_of_messages_through_faults_lose_nothing_and_apply_nothing_twice() {
    let total: usize = env_number("LBPILOT_SOAK_MESSAGES").unwrap_or(DEFAULT_MESSAGES);
    let seed: u64 = env_number("LBPILOT_SOAK_SEED").unwrap_or(DEFAULT_SEED);
    let time_limit = env_number::<u64>("LBPILOT_SOAK_TIME_LIMIT_SECS")
        .map_or(DEFAULT_TIME_LIMIT, Duration::from_secs);
    let mut rng = fastrand::Rng::with_seed(seed);
    let sent: Vec<Sent> = (0..total).map(|i| message(i, &mut rng)).collect();

    // The fakes: one SLB backend per SLB-modify message; ALB jobs that finish at once and GA
    // groups pending briefly, so messages contend on the shared groups without stalling.
    let mut seed_state = Seed::demo();
    let vsg = &mut seed_state.slb.load_balancers[0].vserver_groups[0];
    assert_eq!(vsg.vserver_group_id, demo::SLB_VSG);
    for (server, _) in sent.iter().filter_map(|s| s.slb_server.as_ref()) {
        vsg.backend_servers.push(SlbBackend {
            server_id: server.clone(),
            port: demo::SLB_PORT,
            weight: 100,
            ..SlbBackend::default()
        });
    }
    let cloud = FakeCloud::start(seed_state).await;
    cloud.set_alb_job_delay(Duration::ZERO);
    cloud.set_ga_pending_delay(Duration::from_millis(10));
    let (mix, mix_description) = fault_mix(seed);
    cloud.set_fault_mix(Some(mix));

    // moto: the source queues with their DLQ; the results queue on a second server.
    let (moto, results_moto) = tokio::join!(Moto::start(), Moto::start());
    let sqs = moto.sqs();
    let dlq_url = moto.create_queue("soak-actions-dlq").await;
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("dlq attributes")
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .expect("dlq arn");
    let mut source_urls = Vec::new();
    for shard in 0..SHARDS {
        let url = sqs
            .create_queue()
            .queue_name(format!("soak-actions-{shard}"))
            .attributes(
                QueueAttributeName::VisibilityTimeout,
                VISIBILITY_SECS.to_string(),
            )
            .attributes(
                QueueAttributeName::RedrivePolicy,
                json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES.to_string()})
                    .to_string(),
            )
            .send()
            .await
            .expect("create source queue")
            .queue_url()
            .expect("queue url")
            .to_string();
        source_urls.push(url);
    }
    let mut results_urls = Vec::new();
    for k in 0..RESULT_SHARDS {
        results_urls.push(
            results_moto
                .create_queue(&format!("soak-results-{k}"))
                .await,
        );
    }

    let mut env = executor_env(&cloud);
    env.insert(
        "LBPILOT_REQUEST_TIMEOUT_MS".into(),
        REQUEST_TIMEOUT_MS.to_string(),
    );
    let executor = lbpilot_tests::harness::executor(&env);
    let sink = CountingSink {
        inner: results_urls
            .iter()
            .map(|url| SqsEmitter::new(results_moto.sqs(), url.clone()))
            .collect(),
        next: AtomicUsize::new(0),
        rng: Mutex::new(fastrand::Rng::with_seed(seed ^ 0x5eed)),
        handed: Mutex::new(Vec::new()),
        slowest_publish: Mutex::new(Duration::ZERO),
    };
    let run = Arc::new(Run {
        moto,
        results_moto,
        source_urls: source_urls.clone(),
        worker: QueueWorker::new(executor, sink, RECORD_CONCURRENCY),
        stop: AtomicBool::new(false),
        in_flight: AtomicUsize::new(0),
        gone: (0..SHARDS).map(|_| AtomicUsize::new(0)).collect(),
        observed: Mutex::new(Observed::default()),
    });

    // The worker's futures are not `Send` (async closures), so the pollers share one thread
    // as tasks of a LocalSet; the fakes and the SQS clients run on the runtime's threads.
    let collected: Arc<Mutex<Vec<String>>> = Arc::default();
    let ids: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let local = tokio::task::LocalSet::new();
    let progress = std::env::var_os("LBPILOT_SOAK_PROGRESS").is_some();
    let (by_message_id, sent_done, timed_out, wall) = local
        .run_until(async {
            let started = Instant::now();
            let pollers: Vec<_> = (0..POLLERS)
                .map(|p| tokio::task::spawn_local(poller(run.clone(), p % SHARDS)))
                .collect();
            let producers: Vec<_> = (0..SHARDS)
                .map(|shard| {
                    let bodies = (shard..sent.len())
                        .step_by(SHARDS)
                        .map(|i| (i, sent[i].body.clone()))
                        .collect();
                    tokio::spawn(produce(run.clone(), shard, bodies, ids.clone()))
                })
                .collect();
            let collectors: Vec<_> = results_urls
                .iter()
                .map(|url| {
                    tokio::spawn(collect(
                        run.results_moto.sqs(),
                        url.clone(),
                        collected.clone(),
                        run.clone(),
                    ))
                })
                .collect();

            // Until everything is sent, every message has left its queue and no batch is in
            // flight, or the time is up. The pollers' own count says when to ask moto (whose
            // word is final: a message bound for the DLQ moves at the next receive).
            let mut empty_checks = 0;
            let mut last_progress = Instant::now();
            let timed_out = loop {
                if started.elapsed() > time_limit {
                    break true;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
                let gone: usize = run.gone.iter().map(|g| g.load(Ordering::SeqCst)).sum();
                if progress && last_progress.elapsed() >= Duration::from_secs(5) {
                    last_progress = Instant::now();
                    let o = run.observed.lock().unwrap();
                    eprintln!(
                        "soak: {:5.1} s, {} sent, {gone} gone, {} deliveries in {} batches, {} receives",
                        started.elapsed().as_secs_f64(),
                        ids.lock().unwrap().len(),
                        o.deliveries.len(),
                        o.invocations,
                        o.receives,
                    );
                }
                let sent_all = producers.iter().all(|p| p.is_finished());
                let idle = run.in_flight.load(Ordering::SeqCst) == 0;
                let done = sent_all && idle && gone >= total && {
                    let mut depth = Some(0);
                    for url in &source_urls {
                        depth = match (depth, queue_depth(&run.moto, url).await) {
                            (Some(a), Some(b)) => Some(a + b),
                            _ => None,
                        };
                    }
                    depth == Some(0)
                };
                empty_checks = if done { empty_checks + 1 } else { 0 };
                if empty_checks >= 2 {
                    break false;
                }
            };
            run.stop.store(true, Ordering::SeqCst);
            for p in pollers {
                p.await.expect("poller");
            }
            for c in collectors {
                c.await.expect("collector");
            }
            let mut sent_done = Duration::ZERO;
            for p in producers {
                p.abort();
                sent_done = sent_done.max(p.await.unwrap_or(Duration::ZERO));
            }
            let by_message_id = std::mem::take(&mut *ids.lock().unwrap());
            let wall = started.elapsed();
            (by_message_id, sent_done, timed_out, wall)
        })
        .await;

    // ------------------------------------------------------------------ what came out
    let checks_started = Instant::now();
    let mut received: Vec<String> = std::mem::take(&mut *collected.lock().unwrap());
    for url in &results_urls {
        received.extend(
            run.results_moto
                .peek_all(url)
                .await
                .into_iter()
                .map(|(_, body)| body),
        );
    }
    let dlq: Vec<String> = run
        .moto
        .peek_all(&dlq_url)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let observed = std::mem::take(&mut *run.observed.lock().unwrap());
    let handed: Vec<Handed> = std::mem::take(&mut *run.worker.sink().handed.lock().unwrap());
    let requests = cloud.requests();
    let state = cloud.state();

    let mut violations: Vec<String> = Vec::new();
    if by_message_id.len() != total {
        violations.push(format!(
            "{} of {total} messages were sent",
            by_message_id.len()
        ));
    }
    let mut duplicates_applied = 0usize;

    // The results queue holds exactly what the worker published: every confirmed outcome, no
    // outcome it did not send; an unconfirmed one may have landed anyway.
    let mut copies: HashMap<&str, usize> = HashMap::new();
    for body in &received {
        *copies.entry(body.as_str()).or_default() += 1;
    }
    let handed_bodies: HashMap<&str, Fate> =
        handed.iter().map(|h| (h.body.as_str(), h.fate)).collect();
    for body in copies.keys() {
        match handed_bodies.get(body) {
            Some(Fate::Confirmed | Fate::Unconfirmed) => {}
            Some(Fate::Refused) => violations.push(format!(
                "a refused outcome reached the results queue: {body}"
            )),
            None => violations.push(format!("an outcome the worker never published: {body}")),
        }
    }
    let confirmed = handed.iter().filter(|h| h.fate == Fate::Confirmed).count();
    let confirmed_received = handed
        .iter()
        .filter(|h| h.fate == Fate::Confirmed && copies.contains_key(h.body.as_str()))
        .count();
    if confirmed_received != confirmed {
        violations.push(format!(
            "the worker emitted {confirmed} outcomes; {confirmed_received} of them are on the results queue"
        ));
    }
    let unconfirmed = handed
        .iter()
        .filter(|h| h.fate == Fate::Unconfirmed)
        .count();
    let unconfirmed_landed = handed
        .iter()
        .filter(|h| h.fate == Fate::Unconfirmed && copies.contains_key(h.body.as_str()))
        .count();
    let refused = handed.iter().filter(|h| h.fate == Fate::Refused).count();
    let duplicate_copies: usize = copies.values().map(|n| n - 1).sum();
    let outcomes: Vec<Value> = copies
        .keys()
        .map(|b| serde_json::from_str(b).expect("an outcome is JSON"))
        .collect();

    let receive_count = |o: &Value| o["source"]["detail"]["receive_count"].as_u64().unwrap_or(0);
    let mut handed_of: HashMap<&str, Vec<&Handed>> = HashMap::new();
    for h in &handed {
        let id = h.outcome["source"]["id"].as_str().unwrap_or_default();
        if h.outcome["source"]["kind"] != "sqs" || !by_message_id.contains_key(id) {
            violations.push(format!("an outcome for no message sent: {}", h.body));
        }
        handed_of.entry(id).or_default().push(h);
    }
    let mut deliveries_of: HashMap<&str, Vec<u64>> = HashMap::new();
    for (id, count) in &observed.deliveries {
        deliveries_of.entry(id).or_default().push(u64::from(*count));
    }
    let dlq_set: HashSet<&str> = dlq.iter().map(String::as_str).collect();
    let mut message_id_of_action: HashMap<&str, &str> = HashMap::new();
    let mut extra_finals = 0usize;

    for (message_id, &i) in &by_message_id {
        let s = &sent[i];
        if let Some(a) = &s.action_id {
            message_id_of_action.insert(a, message_id);
        }
        let mut list: Vec<&Handed> = handed_of
            .get(message_id.as_str())
            .cloned()
            .unwrap_or_default();
        list.sort_by_key(|h| receive_count(&h.outcome));
        let mut deliveries = deliveries_of
            .get(message_id.as_str())
            .cloned()
            .unwrap_or_default();
        deliveries.sort_unstable();
        let last_delivery = deliveries.last().copied().unwrap_or(0);
        let in_dlq = dlq_set.contains(message_id.as_str());
        let label = format!(
            "message {i} ({}, {message_id}, deliveries {deliveries:?})",
            s.kind.name()
        );
        if deliveries.windows(2).any(|w| w[0] == w[1]) {
            violations.push(format!(
                "{label}: delivered twice at once (SQS handed one message to two pollers)"
            ));
        }
        // One outcome per delivery.
        if list.len() != deliveries.len() {
            violations.push(format!(
                "{label}: {} outcomes for {} deliveries",
                list.len(),
                deliveries.len()
            ));
        }
        // Never lost: an outcome that is not final, or was not confirmed, is followed by
        // another delivery (or the message is in the DLQ); a confirmed final one is the last.
        let confirmed_finals: Vec<&&Handed> = list
            .iter()
            .filter(|h| h.fate == Fate::Confirmed && h.outcome["final"] == true)
            .collect();
        for h in &list {
            let rc = receive_count(&h.outcome);
            let promised = h.fate != Fate::Confirmed || h.outcome["final"] == false;
            if promised && rc >= last_delivery && !in_dlq {
                violations.push(format!(
                    "{label}: {:?} outcome of delivery {rc} was never followed by another delivery: {}",
                    h.fate, h.body
                ));
            }
            if h.outcome["final"] == false
                && (h.outcome["status"] != "failed" || h.outcome["error"]["retryable"] != true)
            {
                violations.push(format!(
                    "{label}: a non-final outcome that is not a retryable failure: {}",
                    h.body
                ));
            }
        }
        if in_dlq {
            if !confirmed_finals.is_empty() {
                violations.push(format!("{label}: in the DLQ with a final outcome"));
            }
            let said_why = list
                .iter()
                .any(|h| h.outcome["final"] == false && copies.contains_key(h.body.as_str()));
            if !said_why {
                violations.push(format!(
                    "{label}: in the DLQ with no non-final outcome on the results queue saying why"
                ));
            }
            if deliveries.len() != MAX_RECEIVES as usize {
                violations.push(format!(
                    "{label}: in the DLQ after {} deliveries, not {MAX_RECEIVES}",
                    deliveries.len()
                ));
            }
        } else if confirmed_finals.len() != 1 {
            violations.push(format!(
                "{label}: {} confirmed final outcomes",
                confirmed_finals.len()
            ));
        } else if receive_count(&confirmed_finals[0].outcome) != last_delivery {
            violations.push(format!("{label}: delivered again after its final outcome"));
        }
        // A final outcome whose publish was not confirmed may have landed too: the record was
        // delivered again (never lost), and the repeat must have changed nothing (see below).
        let finals_on_queue = list
            .iter()
            .filter(|h| h.outcome["final"] == true && copies.contains_key(h.body.as_str()))
            .count();
        extra_finals += finals_on_queue.saturating_sub(1);
        let finals: Vec<&Value> = confirmed_finals.iter().map(|h| &h.outcome).collect();
        match s.kind {
            kind if kind.is_bad_input() => {
                for h in &list {
                    let o = &h.outcome;
                    if o["status"] != "rejected" || o["final"] != true || o["attempts"] != 0 {
                        violations.push(format!("{label}: not a final rejection: {o}"));
                    }
                }
                // Rejected, never retried: delivered again only when its outcome was not published.
                if list.len() > 1
                    && list[..list.len() - 1]
                        .iter()
                        .any(|h| h.fate == Fate::Confirmed)
                {
                    violations.push(format!("{label}: a rejected input was delivered again"));
                }
                if kind == Kind::Unparseable {
                    let start: String = s.body.chars().take(64).collect();
                    for h in &list {
                        let o = &h.outcome;
                        if !o["action"].is_null()
                            || o["source"]["id"] != message_id.as_str()
                            || !o["input"].as_str().is_some_and(|i| i.starts_with(&start))
                        {
                            violations.push(format!(
                                "{label}: the outcome does not keep the input and its messageId: {o}"
                            ));
                        }
                    }
                }
            }
            Kind::Poison => {
                if !in_dlq {
                    violations.push(format!(
                        "{label}: a message that always fails is not in the DLQ"
                    ));
                }
            }
            _ => {
                for f in list
                    .iter()
                    .map(|h| &h.outcome)
                    .filter(|o| o["final"] == true)
                {
                    let ok = f["status"] == "succeeded"
                        || (s.kind == Kind::Alb
                            && f["status"] == "failed"
                            && f["detail"]["job"]["Status"] == "Failed");
                    if !ok {
                        violations.push(format!("{label}: unexpected final outcome: {f}"));
                    }
                }
                for h in &list {
                    if h.outcome["action"]["id"].as_str() != s.action_id.as_deref() {
                        violations.push(format!(
                            "{label}: the outcome names another action: {}",
                            h.body
                        ));
                    }
                }
            }
        }
        // The fakes' state agrees with the final outcome.
        if let (Some((server, weight)), Some(f)) = (&s.slb_server, finals.first())
            && f["status"] == "succeeded"
        {
            let now = state
                .slb
                .vserver_group(demo::SLB_VSG)
                .and_then(|(_, g)| g.backend_servers.iter().find(|b| &b.server_id == server))
                .map(|b| b.weight);
            if now != Some(*weight) {
                violations.push(format!(
                    "{label}: {server} has weight {now:?}, not {weight}"
                ));
            }
        }
        if let Some(name) = &s.create_name {
            let groups: Vec<_> = state.slb.load_balancers[0]
                .vserver_groups
                .iter()
                .filter(|g| &g.vserver_group_name == name)
                .collect();
            if groups.len() > 1 {
                duplicates_applied += groups.len() - 1;
                violations.push(format!(
                    "{label}: {} VServer groups named {name}",
                    groups.len()
                ));
            }
            if let Some(f) = finals.first()
                && f["status"] == "succeeded"
                && (groups.len() != 1
                    || f["response"]["VServerGroupId"] != groups[0].vserver_group_id.as_str())
            {
                violations.push(format!(
                    "{label}: created {} groups; outcome {f}",
                    groups.len()
                ));
            }
        }
    }

    // Applied twice? ALB: every update carries its action's ClientToken, and each token made
    // one job at most. SLB: no change is sent again once one of its requests was applied.
    let mut alb_jobs_by_token: BTreeMap<String, usize> = BTreeMap::new();
    let mut slb_applied: HashSet<String> = HashSet::new();
    let mut create_applied: BTreeMap<String, usize> = BTreeMap::new();
    for r in &requests {
        match (r.product, r.action.as_str()) {
            (Product::Alb, "UpdateServerGroupServersAttribute") => match r.client_token() {
                Some(t) if message_id_of_action.contains_key(t.as_str()) => {
                    if reached_the_operation(r) && !r.replayed {
                        *alb_jobs_by_token.entry(t).or_default() += 1;
                    }
                }
                other => violations.push(format!(
                    "an ALB update with ClientToken {other:?}, not an action id (request #{})",
                    r.seq
                )),
            },
            (Product::Slb, "ModifyVServerGroupBackendServers") => {
                let Some(server) = slb_modify_server(r) else {
                    violations.push(format!("an SLB modify of no known backend (#{})", r.seq));
                    continue;
                };
                if slb_applied.contains(&server) {
                    duplicates_applied += 1;
                    violations.push(format!(
                        "SLB change of {server} sent again after it was applied (request #{})",
                        r.seq
                    ));
                }
                if reached_the_operation(r) {
                    slb_applied.insert(server);
                }
            }
            (Product::Slb, "CreateVServerGroup") if reached_the_operation(r) => {
                *create_applied
                    .entry(r.param("VServerGroupName").unwrap_or_default())
                    .or_default() += 1;
            }
            _ => {}
        }
    }
    for (token, jobs) in alb_jobs_by_token.iter().filter(|(_, n)| **n > 1) {
        duplicates_applied += jobs - 1;
        violations.push(format!("ALB ClientToken {token} applied {jobs} times"));
    }
    for (name, n) in create_applied.iter().filter(|(_, n)| **n > 1) {
        duplicates_applied += n - 1;
        violations.push(format!("CreateVServerGroup {name} ran {n} times"));
    }
    // Whatever the tokens say: at most one job per ALB message.
    let alb_messages = sent.iter().filter(|s| s.kind == Kind::Alb).count();
    if state.alb.jobs.len() > alb_messages {
        duplicates_applied += state.alb.jobs.len() - alb_messages;
        violations.push(format!(
            "{} ALB jobs for {alb_messages} ALB messages",
            state.alb.jobs.len()
        ));
    }
    let distinct_tokens: HashSet<&str> = state
        .alb
        .client_tokens
        .iter()
        .map(|t| t.token.as_str())
        .collect();
    if state.alb.jobs.len() != distinct_tokens.len() {
        violations.push(format!(
            "{} ALB jobs for {} ClientTokens",
            state.alb.jobs.len(),
            distinct_tokens.len()
        ));
    }
    if observed.longest_held >= Duration::from_secs(VISIBILITY_SECS as u64) {
        violations.push(format!(
            "a batch was held {:?} from receive to delete, past the visibility timeout: its records could be delivered twice at once (the harness is too slow for these settings)",
            observed.longest_held
        ));
    }
    if observed.unreportable_batches > 0 || observed.sqs_errors > 0 {
        violations.push(format!(
            "{} batches failed whole, {} SQS calls failed",
            observed.unreportable_batches, observed.sqs_errors
        ));
    }

    // ------------------------------------------------------------------ figures
    let mut rep = Report::default();
    let mut kinds: BTreeMap<Kind, usize> = BTreeMap::new();
    for s in &sent {
        *kinds.entry(s.kind).or_default() += 1;
    }
    let _ = writeln!(
        rep.lines,
        "soak: {total} messages, seed {seed}, {SHARDS} queues (backlog {BACKLOG} each), {POLLERS} pollers x {RECORD_CONCURRENCY} records, visibility {VISIBILITY_SECS} s (failed records again after {REDELIVERY_SECS} s), deadline {} ms, call timeout {REQUEST_TIMEOUT_MS} ms, maxReceiveCount {MAX_RECEIVES}, {RESULT_SHARDS} results queues, time limit {} s",
        INVOCATION.as_millis(),
        time_limit.as_secs()
    );
    rep.row("messages in", total);
    for (k, n) in &kinds {
        rep.sub(k.name(), n);
    }
    let redeliveries = observed.deliveries.iter().filter(|(_, c)| *c > 1).count();
    rep.row(
        "deliveries (invocations)",
        format!(
            "{} ({} batches), redeliveries {redeliveries}",
            observed.deliveries.len(),
            observed.invocations
        ),
    );
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    for o in &outcomes {
        let key = format!(
            "{} {}",
            if o["final"] == true {
                "final"
            } else {
                "non-final"
            },
            o["status"].as_str().unwrap_or("?")
        );
        *by_status.entry(key).or_default() += 1;
    }
    rep.row("outcomes out (results queue)", outcomes.len());
    for (k, n) in &by_status {
        rep.sub(k, n);
    }
    let finals_total: usize = by_status
        .iter()
        .filter(|(k, _)| k.starts_with("final"))
        .map(|(_, n)| n)
        .sum();
    rep.row(
        "final outcomes + DLQ",
        format!(
            "{finals_total} + {} = {}",
            dlq.len(),
            finals_total + dlq.len()
        ),
    );
    rep.row(
        "outcomes emitted (worker's sink)",
        format!("{} handed: {confirmed} confirmed, {unconfirmed} unconfirmed ({unconfirmed_landed} landed anyway), {refused} refused", handed.len()),
    );
    rep.row("outcome copies SQS delivered twice", duplicate_copies);
    rep.row("extra finals (unconfirmed, landed)", extra_finals);
    let retries: u64 = outcomes
        .iter()
        .map(|o| o["attempts"].as_u64().unwrap_or(0).saturating_sub(1))
        .sum();
    rep.row("retries inside invocations", retries);
    let already = outcomes
        .iter()
        .filter(|o| o["detail"]["already_applied"] == true)
        .count();
    rep.row("found already applied (SLB look)", already);
    let dlq_poison = dlq
        .iter()
        .filter(|id| {
            by_message_id
                .get(*id)
                .is_some_and(|&i| sent[i].kind == Kind::Poison)
        })
        .count();
    rep.row(
        "DLQ",
        format!(
            "{} (poison {dlq_poison}, other {})",
            dlq.len(),
            dlq.len() - dlq_poison
        ),
    );
    let mut by_operation: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_fault: BTreeMap<String, usize> = BTreeMap::new();
    for r in &requests {
        *by_operation
            .entry(format!("{} {}", r.product, r.action))
            .or_default() += 1;
        *by_fault
            .entry(r.fault.clone().unwrap_or_else(|| "none".into()))
            .or_default() += 1;
    }
    rep.row("provider requests", requests.len());
    rep.row("  by operation", "");
    for (k, n) in &by_operation {
        rep.sub(k, n);
    }
    rep.row("  by fault", "");
    for (k, n) in &by_fault {
        rep.sub(
            k,
            format!(
                "{n} ({:.1} %)",
                *n as f64 * 100.0 / requests.len().max(1) as f64
            ),
        );
    }
    rep.row("duplicates applied", duplicates_applied);
    rep.row(
        "wall time",
        format!(
            "{:.1} s (sending {:.1} s; then reading the queues and checking {:.1} s), slowest invocation {} ms (publishing {} ms), longest held batch {} ms",
            wall.as_secs_f64(),
            sent_done.as_secs_f64(),
            checks_started.elapsed().as_secs_f64(),
            observed.slowest.as_millis(),
            run.worker.sink().slowest_publish.lock().unwrap().as_millis(),
            observed.longest_held.as_millis()
        ),
    );
    rep.row(
        "SQS receives",
        format!(
            "{} (mean {} ms, slowest {} ms), SQS errors {}",
            observed.receives,
            observed.receive_time.as_millis() / observed.receives.max(1) as u128,
            observed.slowest_receive.as_millis(),
            observed.sqs_errors
        ),
    );
    rep.row(
        "throughput",
        format!("{:.1} messages/s", total as f64 / wall.as_secs_f64()),
    );
    let _ = writeln!(rep.lines, "  fault mix (per call):");
    for line in &mix_description {
        let _ = writeln!(rep.lines, "    {line}");
    }
    eprintln!("{}", rep.lines);

    assert!(
        !timed_out,
        "the soak did not finish within {time_limit:?} (figures above); {} violations so far, e.g. {:#?}",
        violations.len(),
        &violations[..violations.len().min(10)]
    );
    assert_eq!(duplicates_applied, 0, "{violations:#?}");
    assert!(
        violations.is_empty(),
        "{} violations, first ones: {:#?}",
        violations.len(),
        &violations[..violations.len().min(20)]
    );
}
