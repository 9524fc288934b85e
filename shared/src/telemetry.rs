//! Logging: JSON under Lambda's advanced logging controls (`AWS_LAMBDA_LOG_FORMAT=JSON`), text
//! otherwise; the level from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`'s bare level, else INFO,
//! and `RUST_LOG`'s `target=level` directives on top (as the runtime's own subscriber does),
//! except that the runtime's "raw JSON event received" record is never written: at TRACE it
//! would log every event whole, and an alert webhook's event carries the caller's credentials
//! (`Authorization`, CloudMonitor's `?token=`).
//!
//! The filter is tracing-subscriber's `Targets` (target prefixes and levels), not its
//! `EnvFilter`: that one compiles span and field directives with a regex engine, about 0.25 MiB
//! of every binary (BENCHMARKS.md), for directives nothing here uses.

use std::str::FromStr;
use tracing::Level;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The target of `lambda_runtime`'s TRACE record of each raw event.
const RAW_EVENT_TARGET: &str = "lambda_runtime::layers::api_response";

/// Targets (prefixes) whose TRACE records can hold secrets, capped at [`CAP`]: the runtime's raw
/// event, and the AWS SDK's, which prints whole requests and responses (a Secrets Manager
/// answer holds every secret of the function).
const CAPPED: [&str; 5] = [
    RAW_EVENT_TARGET,
    "aws_smithy",
    "aws_sdk",
    "aws_sigv4",
    "aws_runtime",
];
const CAP: LevelFilter = LevelFilter::DEBUG;

pub fn init() {
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let filter = filter(
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
        std::env::var("RUST_LOG").ok().as_deref(),
    );
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .without_time()
        .with_writer(std::io::stdout);
    let registry = tracing_subscriber::registry().with(filter);
    if json {
        // The invocation's span (requestId, xrayTraceId) once per line, not again in a list.
        registry.with(fmt.json().with_span_list(false)).init()
    } else {
        registry.with(fmt).init()
    }
}

/// The filter: `level` (Lambda's `AWS_LAMBDA_LOG_LEVEL`; `FATAL` or anything unknown is INFO),
/// else the bare level among `directives` (`RUST_LOG`), else INFO; `directives`' `target=level`
/// parts (the unparsable ones ignored); and the [`CAPPED`] targets at DEBUG at most, whatever
/// the directives say.
pub fn filter(level: Option<&str>, directives: Option<&str>) -> Targets {
    let parsed: Vec<Targets> = directives
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .filter_map(|d| Targets::from_str(d).ok())
        .collect();
    let bare = parsed.iter().find_map(Targets::default_level);
    let default = match level {
        Some(level) => LevelFilter::from_str(level.trim()).unwrap_or(LevelFilter::INFO),
        None => bare.unwrap_or(LevelFilter::INFO),
    };
    let is_capped = |target: &str| CAPPED.iter().any(|c| target.starts_with(c));
    let targets = Targets::new().with_default(default).with_targets(
        parsed
            .iter()
            .flat_map(|t| t.iter())
            .map(|(target, level)| {
                let level = if is_capped(target) {
                    level.min(CAP)
                } else {
                    level
                };
                (target.to_string(), level)
            })
            .collect::<Vec<_>>(),
    );
    // What the directives would let through for each capped target, at most the cap.
    let capped: Vec<(&str, LevelFilter)> = CAPPED
        .iter()
        .map(|&target| {
            let effective = [
                Level::TRACE,
                Level::DEBUG,
                Level::INFO,
                Level::WARN,
                Level::ERROR,
            ]
            .into_iter()
            .find(|l| targets.would_enable(target, l))
            .map_or(LevelFilter::OFF, LevelFilter::from_level);
            (target, effective.min(CAP))
        })
        .collect();
    targets.with_targets(capped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::fmt::MakeWriter;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    fn captured(filter: Targets, records: impl FnOnce()) -> String {
        let out = Captured::default();
        let subscriber = tracing_subscriber::registry()
            .with(filter)
            .with(tracing_subscriber::fmt::layer().with_writer(out.clone()));
        tracing::subscriber::with_default(subscriber, records);
        String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn trace_logs_everything_but_the_raw_event() {
        let text = captured(filter(Some("TRACE"), None), || {
            tracing::trace!(target: "lambda_runtime::layers::api_response", body = "Bearer s3cr3t", "raw JSON event received from Lambda");
            tracing::trace!(target: "lbpilot::executor", "a trace record");
            tracing::debug!(target: "lambda_runtime::layers::api_response", "a debug record");
        });
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(
            text.contains("a trace record") && text.contains("a debug record"),
            "{text}"
        );
    }

    #[test]
    fn rust_log_cannot_lift_the_cap_on_the_raw_event() {
        for rust_log in [
            "trace",
            "lambda_runtime=trace",
            "lambda_runtime=trace,lambda_runtime::layers::api_response=trace",
            "trace,lambda_runtime::layers::api_response::deeper=trace",
        ] {
            let text = captured(filter(None, Some(rust_log)), || {
                tracing::trace!(target: "lambda_runtime::layers::api_response", body = "Bearer s3cr3t", "raw JSON event received from Lambda");
                tracing::trace!(target: "lambda_runtime::other", "another trace record");
            });
            assert!(!text.contains("s3cr3t"), "{rust_log}: {text}");
            assert!(text.contains("another trace record"), "{rust_log}: {text}");
        }
    }

    #[test]
    fn the_aws_sdk_never_logs_at_trace() {
        let enabled = |f: &Targets, target: &str, level: Level| f.would_enable(target, &level);
        for (level, rust_log) in [
            (Some("TRACE"), None),
            (None, Some("trace")),
            (None, Some("aws_smithy_runtime::client::orchestrator=trace")),
            (
                Some("TRACE"),
                Some("aws_sdk_secretsmanager=trace,aws_sigv4=trace"),
            ),
        ] {
            let f = filter(level, rust_log);
            for target in [
                "aws_smithy_runtime::client::orchestrator",
                "aws_sdk_secretsmanager::operation",
                "aws_sigv4::http_request::sign",
                "aws_runtime::auth",
            ] {
                assert!(
                    !enabled(&f, target, Level::TRACE),
                    "{level:?} {rust_log:?}: {target}"
                );
            }
        }
        // At TRACE the SDK still says what it does, at DEBUG; by default, from INFO.
        assert!(enabled(
            &filter(Some("TRACE"), None),
            "aws_smithy_runtime",
            Level::DEBUG
        ));
        assert!(!enabled(
            &filter(None, None),
            "aws_smithy_runtime",
            Level::DEBUG
        ));
    }

    #[test]
    fn the_level_comes_from_lambda_then_rust_log_then_info() {
        let enabled = |f: &Targets, target: &str, level: Level| f.would_enable(target, &level);
        let f = filter(Some("WARN"), Some("debug,lbpilot::executor=trace"));
        assert!(!enabled(&f, "aws_smithy_runtime", Level::INFO));
        assert!(enabled(&f, "aws_smithy_runtime", Level::WARN));
        assert!(enabled(&f, "lbpilot::executor", Level::TRACE));
        let f = filter(None, Some("debug,not a directive=,x=nonsense"));
        assert!(enabled(&f, "lbpilot", Level::DEBUG));
        assert!(!enabled(&f, "lbpilot", Level::TRACE));
        let f = filter(Some("FATAL"), None);
        assert!(enabled(&f, "lbpilot", Level::INFO));
        assert!(!enabled(&f, "lbpilot", Level::DEBUG));
        // The raw event record is not raised above the default level.
        assert!(!enabled(
            &filter(None, None),
            RAW_EVENT_TARGET,
            Level::DEBUG
        ));
        assert!(enabled(&filter(None, None), RAW_EVENT_TARGET, Level::INFO));
    }
}
