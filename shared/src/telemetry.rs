//! Logging: the runtime's subscriber (JSON under Lambda's advanced logging controls, level from
//! `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`).

pub fn init() {
    lambda_runtime::tracing::init_default_subscriber();
}
