pub mod fakes;
pub mod harness;

pub mod moto;
pub mod ports;
pub mod runtime_api;
pub mod slack_stub;

/// Records a failed check in `$failures` (its message names the case) instead of stopping at the
/// first, so a run shows every case that fails.
#[macro_export]
macro_rules! check {
    ($failures:expr, $cond:expr, $($msg:tt)+) => {
        if !$cond {
            $failures.push(format!($($msg)+));
        }
    };
}
