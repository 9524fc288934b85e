//! Event sources: each turns its events into actions, hands them to the executor, and
//! publishes the outcomes.

pub mod sqs;

use lambda_runtime::Context;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// The invocation's deadline as an `Instant` (the runtime gives epoch milliseconds).
pub fn deadline_of(ctx: &Context) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    Instant::now() + Duration::from_millis(ctx.deadline.saturating_sub(now_ms))
}
