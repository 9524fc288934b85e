//! The stand-ins every subject runs against: the provider fakes (demo seed), and moto with a
//! results queue and a drain-state table; started once, the fakes reset before each invocation.

use crate::Result;
use lbpilot_tests::fakes::{FakeCloud, Fault, Product, Seed};
use lbpilot_tests::harness::function_env;
use lbpilot_tests::moto::Moto;
use std::collections::HashMap;
use std::time::Duration;

const STATE_TABLE: &str = "lbpilot-bench-state";
/// The table's partition key (`Moto::create_state_table`).
const STATE_KEY: &str = "backend";

pub struct Stack {
    pub cloud: FakeCloud,
    pub moto: Moto,
    pub results_url: String,
}

impl Stack {
    pub async fn start() -> Stack {
        let cloud = FakeCloud::start(Seed::demo()).await;
        let moto = Moto::start().await;
        let results_url = moto.create_queue("lbpilot-bench-results").await;
        moto.create_state_table(STATE_TABLE).await;
        Stack {
            cloud,
            moto,
            results_url,
        }
    }

    /// The environment of a function (and of the Python peer) against this stack.
    pub fn env(&self) -> HashMap<String, String> {
        function_env(&self.cloud, &self.moto, &self.results_url)
    }

    /// What `bench/env/<function>.json` values may name: `{root}` (the workspace), `{queue_url}`
    /// (a queue on moto: the results queue) and `{state_table}` (a DynamoDB table on moto).
    pub fn placeholders(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "root",
                crate::workspace::default_root().display().to_string(),
            ),
            ("queue_url", self.results_url.clone()),
            ("state_table", STATE_TABLE.to_string()),
        ]
    }

    /// The seed state, no drain state, and providers that answer at once: ALB jobs end and GA
    /// groups leave `PENDING` immediately, so no poll ever waits.
    pub async fn zero_latency(&self) -> Result<()> {
        self.cloud.reset();
        self.cloud.set_alb_job_delay(Duration::ZERO);
        self.cloud.set_ga_pending_delay(Duration::ZERO);
        self.clear_state().await
    }

    /// As [`Stack::zero_latency`], then every provider call is answered `ms` late.
    pub async fn provider_latency(&self, ms: u64) -> Result<()> {
        self.zero_latency().await?;
        for product in Product::ALL {
            self.cloud.inject(Fault::latency(product, ms));
        }
        Ok(())
    }

    /// Deletes every item of the drain-state table (so an alert drains again each time).
    async fn clear_state(&self) -> Result<()> {
        let db = self.moto.dynamodb();
        let items = db
            .scan()
            .table_name(STATE_TABLE)
            .send()
            .await
            .map_err(|e| format!("scan the state table: {e}"))?;
        for item in items.items() {
            let Some(key) = item.get(STATE_KEY) else {
                continue;
            };
            db.delete_item()
                .table_name(STATE_TABLE)
                .key(STATE_KEY, key.clone())
                .send()
                .await
                .map_err(|e| format!("clear the state table: {e}"))?;
        }
        Ok(())
    }

    /// Empties the results queue and says how many messages it held (outcomes, or queued
    /// commands); fails unless that is `expected`, when given.
    pub async fn take_outcomes(&self, expected: Option<usize>) -> Result<usize> {
        let got = self.moto.drain(&self.results_url).await.len();
        match expected {
            Some(n) if n != got => Err(format!(
                "{got} outcome(s) on the results queue, expected {n}"
            )),
            _ => Ok(got),
        }
    }
}
