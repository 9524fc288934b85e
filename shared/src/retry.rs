//! Exponential backoff with full jitter, bounded by attempts and by the invocation's deadline.

use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The longest one provider call may take.
    pub request_timeout: Duration,
    /// Kept free before the deadline, to emit the outcome.
    pub deadline_margin: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
            deadline_margin: Duration::from_millis(800),
        }
    }
}

/// The shortest call worth starting.
const MIN_CALL: Duration = Duration::from_millis(100);

impl RetryPolicy {
    /// Delay before attempt `attempt + 1` (attempt counts from 1): random in
    /// `[0, min(max, base * 2^(attempt-1))]`, and never less than the provider's `retry_after`.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << (attempt.saturating_sub(1)).min(16));
        let cap = exp.min(self.max_delay);
        let jitter = Duration::from_micros(fastrand::u64(0..=cap.as_micros() as u64));
        retry_after.map_or(jitter, |r| r.max(jitter))
    }

    /// How long the next call may take, or `None` when too little time is left before `deadline`.
    pub fn call_timeout(&self, deadline: Instant) -> Option<Duration> {
        let left = deadline
            .checked_duration_since(Instant::now())?
            .checked_sub(self.deadline_margin)?;
        (left >= MIN_CALL).then(|| left.min(self.request_timeout))
    }

    /// Whether sleeping `delay` still leaves time for a call before `deadline`.
    pub fn can_wait(&self, delay: Duration, deadline: Instant) -> bool {
        Instant::now() + delay + self.deadline_margin + MIN_CALL <= deadline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_capped() {
        let p = RetryPolicy::default();
        for attempt in 1..20 {
            let d = p.delay(attempt, None);
            assert!(d <= p.max_delay);
            assert!(d <= p.base_delay * 2u32.pow((attempt - 1).min(16)));
        }
        assert!(p.delay(1, Some(Duration::from_secs(2))) >= Duration::from_secs(2));
    }

    #[tokio::test]
    async fn never_past_the_deadline() {
        let p = RetryPolicy::default();
        let soon = Instant::now() + Duration::from_millis(500);
        assert_eq!(p.call_timeout(soon), None);
        assert!(!p.can_wait(Duration::from_millis(10), soon));
        let later = Instant::now() + Duration::from_secs(3);
        let t = p.call_timeout(later).unwrap();
        assert!(t <= Duration::from_millis(2200) && t >= Duration::from_millis(2000));
    }
}
