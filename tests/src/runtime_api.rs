//! A local Lambda Runtime API (the protocol a `provided.al2023` bootstrap speaks), so tests and
//! benchmarks can run the real handler binaries as Lambda would: queue an event, get the answer.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{Notify, oneshot};

/// What the function answered: its result, or the error it reported.
pub type Invocation = Result<Value, Value>;

struct Pending {
    id: String,
    event: Value,
    timeout: Duration,
}

#[derive(Default)]
struct Inner {
    queue: VecDeque<Pending>,
    waiting: HashMap<String, oneshot::Sender<Invocation>>,
    first_next: Option<Instant>,
    init_error: Option<Value>,
}

#[derive(Clone, Default)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    ready: Arc<Notify>,
}

pub struct RuntimeApi {
    shared: Shared,
    /// `host:port`, the value for `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    counter: Mutex<u64>,
}

impl RuntimeApi {
    pub async fn start() -> RuntimeApi {
        let shared = Shared::default();
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        tokio::spawn(async move { axum::serve(listener, app).await.expect("runtime api") });
        RuntimeApi {
            shared,
            address,
            counter: Mutex::new(0),
        }
    }

    /// Queues `event` and waits for the function's answer (the deadline it sees is `timeout` away).
    pub async fn invoke(&self, event: Value, timeout: Duration) -> Invocation {
        let id = {
            let mut c = self.counter.lock().unwrap();
            *c += 1;
            format!("req-{:08}", *c)
        };
        let (tx, rx) = oneshot::channel();
        {
            let mut inner = self.shared.inner.lock().unwrap();
            inner.waiting.insert(id.clone(), tx);
            inner.queue.push_back(Pending { id, event, timeout });
        }
        self.shared.ready.notify_one();
        tokio::time::timeout(timeout + Duration::from_secs(5), rx)
            .await
            .expect("the function answered in time")
            .expect("the function answered")
    }

    /// When the function first asked for an event: the end of its init.
    pub fn first_next(&self) -> Option<Instant> {
        self.shared.inner.lock().unwrap().first_next
    }

    pub fn init_error(&self) -> Option<Value> {
        self.shared.inner.lock().unwrap().init_error.clone()
    }
}

async fn next(State(s): State<Shared>) -> Response {
    loop {
        let notified = s.ready.notified();
        let pending = {
            let mut inner = s.inner.lock().unwrap();
            inner.first_next.get_or_insert_with(Instant::now);
            inner.queue.pop_front()
        };
        if let Some(p) = pending {
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis() as u64
                + p.timeout.as_millis() as u64;
            let mut headers = HeaderMap::new();
            let h = |v: String| HeaderValue::from_str(&v).unwrap();
            headers.insert("lambda-runtime-aws-request-id", h(p.id));
            headers.insert("lambda-runtime-deadline-ms", h(deadline.to_string()));
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                h("arn:aws:lambda:us-east-1:123456789012:function:local".into()),
            );
            headers.insert(
                "lambda-runtime-trace-id",
                h("Root=1-00000000-000000000000000000000000".into()),
            );
            headers.insert("content-type", h("application/json".into()));
            return (StatusCode::OK, headers, p.event.to_string()).into_response();
        }
        notified.await;
    }
}

fn finish(s: &Shared, id: &str, result: Invocation) -> StatusCode {
    match s.inner.lock().unwrap().waiting.remove(id) {
        Some(tx) => {
            let _ = tx.send(result);
            StatusCode::ACCEPTED
        }
        None => StatusCode::NOT_FOUND,
    }
}

fn parse(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

async fn response(State(s): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&s, &id, Ok(parse(&body)))
}

async fn error(State(s): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&s, &id, Err(parse(&body)))
}

async fn init_error(State(s): State<Shared>, body: Bytes) -> StatusCode {
    s.inner.lock().unwrap().init_error = Some(parse(&body));
    StatusCode::ACCEPTED
}
