//! The benchmark behind `scripts/bench` (see BENCHMARKS.md): every function binary of the
//! workspace, and its Python peer where there is one, run under a local Lambda Runtime API
//! against the provider fakes and moto's SQS, several times; the figures, their spread, the
//! ratios and the targets, as markdown and JSON.

pub mod event;
pub mod figures;
pub mod fresh;
pub mod machine;
pub mod measure;
pub mod process;
pub mod render;
pub mod report;
pub mod size;
pub mod stack;
pub mod stats;
pub mod subject;
pub mod workspace;

/// Errors are messages for the person running the benchmark.
pub type Result<T> = std::result::Result<T, String>;
