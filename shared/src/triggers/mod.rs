//! Event sources: each turns its events into actions, hands them to the executor, and
//! publishes the outcomes.

pub mod alerts;
pub mod schedule;
pub mod sqs;

use lambda_runtime::Context;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// Epoch milliseconds of 2001-09-09: anything smaller cannot be a real deadline.
const EPOCH_MS_FLOOR: u64 = 1_000_000_000_000;

/// The invocation's deadline as an `Instant`. Lambda gives epoch milliseconds; `cargo lambda
/// watch` gives the timeout itself (e.g. `600000`), which is read as "that long from now".
pub fn deadline_of(ctx: &Context) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let remaining = if ctx.deadline < EPOCH_MS_FLOOR {
        ctx.deadline
    } else {
        ctx.deadline.saturating_sub(now_ms)
    };
    tracing::debug!(deadline_ms = ctx.deadline, remaining, "invocation deadline");
    Instant::now() + Duration::from_millis(remaining)
}
