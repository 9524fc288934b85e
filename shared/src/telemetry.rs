//! Logging: the runtime's subscriber (JSON under Lambda's advanced logging controls, level from
//! `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`), except that the runtime's "raw JSON event received"
//! record is never written: at TRACE it would log every event whole, and an alert webhook's
//! event carries the caller's credentials (`Authorization`, CloudMonitor's `?token=`).

use lambda_runtime::tracing::subscriber::filter::{Directive, EnvFilter, LevelFilter};
use std::str::FromStr;

/// The target of `lambda_runtime`'s TRACE record of each raw event.
const RAW_EVENT_TARGET: &str = "lambda_runtime::layers::api_response";

pub fn init() {
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let collector = lambda_runtime::tracing::subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter(
            std::env::var("AWS_LAMBDA_LOG_LEVEL")
                .or_else(|_| std::env::var("RUST_LOG"))
                .ok()
                .as_deref(),
        ))
        .with_writer(std::io::stdout);
    if json {
        collector.json().init()
    } else {
        collector.init()
    }
}

/// The runtime's filter (`level`, default INFO, plus `RUST_LOG`'s directives), with the raw
/// event record capped at DEBUG.
pub fn filter(level: Option<&str>) -> EnvFilter {
    let level = LevelFilter::from_str(level.unwrap_or("INFO")).unwrap_or(LevelFilter::INFO);
    EnvFilter::builder()
        .with_default_directive(level.into())
        .from_env_lossy()
        .add_directive(
            Directive::from_str(&format!("{RAW_EVENT_TARGET}=debug")).expect("a valid directive"),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_runtime::tracing::subscriber::fmt::MakeWriter;
    use std::sync::{Arc, Mutex};

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

    #[test]
    fn trace_logs_everything_but_the_raw_event() {
        let out = Captured::default();
        let subscriber = lambda_runtime::tracing::subscriber::fmt()
            .with_env_filter(filter(Some("TRACE")))
            .with_writer(out.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "lambda_runtime::layers::api_response", body = "Bearer s3cr3t", "raw JSON event received from Lambda");
            tracing::trace!(target: "lbpilot::executor", "a trace record");
            tracing::debug!(target: "lambda_runtime::layers::api_response", "a debug record");
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(
            text.contains("a trace record") && text.contains("a debug record"),
            "{text}"
        );
    }
}
