//! A local HTTP server standing in for Slack's `response_url`: records what is posted to it.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct SlackHook {
    received: Arc<Mutex<Vec<Value>>>,
    /// The base URL; any path under it is accepted (`{url}/commands/T1/2/abc`).
    pub url: String,
}

impl SlackHook {
    pub async fn start() -> SlackHook {
        let received = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/{*path}", post(record))
            .with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("slack hook") });
        SlackHook { received, url }
    }

    pub fn received(&self) -> Vec<Value> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `n` messages arrived (or the timeout passed) and returns them.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let started = std::time::Instant::now();
        while self.received().len() < n && started.elapsed() < timeout {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.received()
    }
}

async fn record(State(received): State<Arc<Mutex<Vec<Value>>>>, body: Bytes) -> &'static str {
    let value = serde_json::from_slice(&body)
        .unwrap_or(Value::String(String::from_utf8_lossy(&body).into()));
    received.lock().unwrap().push(value);
    "ok"
}
