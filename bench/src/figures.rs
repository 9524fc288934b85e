//! The figures measured in each run, with how the report names them.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    Init,
    First,
    Cold,
    Warm,
    EventCpu,
    Batch0,
    Single200,
    Batch200,
    BatchRatio,
    Rss,
}

impl Figure {
    pub const ALL: [Figure; 10] = [
        Figure::Init,
        Figure::First,
        Figure::Cold,
        Figure::Warm,
        Figure::EventCpu,
        Figure::Batch0,
        Figure::Single200,
        Figure::Batch200,
        Figure::BatchRatio,
        Figure::Rss,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Figure::Init => "init_ms",
            Figure::First => "first_ms",
            Figure::Cold => "cold_ms",
            Figure::Warm => "warm_ms",
            Figure::EventCpu => "event_cpu_ms",
            Figure::Batch0 => "batch0_ms",
            Figure::Single200 => "single_latency_ms",
            Figure::Batch200 => "batch_latency_ms",
            Figure::BatchRatio => "batch_ratio",
            Figure::Rss => "peak_rss_mib",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Figure::Init => "init (spawn → first `next`)",
            Figure::First => "first invocation",
            Figure::Cold => "init + first invocation",
            Figure::Warm => "warm invocation",
            Figure::EventCpu => "per-event overhead (CPU per action, 0 ms provider)",
            Figure::Batch0 => "10-message batch, 0 ms provider: wall",
            Figure::Single200 => "1 message, 200 ms provider latency: wall",
            Figure::Batch200 => "10 messages, 200 ms provider latency: wall",
            Figure::BatchRatio => "10-message batch ÷ 1 message (200 ms)",
            Figure::Rss => "peak RSS (VmHWM)",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Figure::BatchRatio => "x",
            Figure::Rss => "MiB",
            _ => "ms",
        }
    }

    /// Measured only with an SQS event (a batch can be built from it).
    pub fn sqs_only(self) -> bool {
        matches!(
            self,
            Figure::Batch0 | Figure::Single200 | Figure::Batch200 | Figure::BatchRatio
        )
    }

    /// Measured only when the function has a benchmark event (it is invoked).
    pub fn needs_event(self) -> bool {
        !matches!(self, Figure::Init | Figure::Rss)
    }

    /// Whether "peer ÷ lbpilot" means something (it does not for a ratio of the subject's own).
    pub fn has_ratio(self) -> bool {
        self != Figure::BatchRatio
    }
}
