//! The report: per function, each figure's median and spread for lbpilot and its Python peer,
//! the ratio (peer ÷ lbpilot, taken within each run), the sizes, and the targets.

use crate::figures::Figure;
use crate::machine::Machine;
use crate::measure::Sample;
use crate::stats::Stats;
use crate::workspace::Function;
use serde::Serialize;

#[derive(Serialize)]
pub struct Report {
    /// `full` or `quick`.
    pub mode: String,
    pub runs: usize,
    /// The cargo profile the function binaries were built with.
    pub profile: String,
    /// RFC 3339, UTC.
    pub date: String,
    pub machine: Machine,
    pub provider_latency_ms: u64,
    pub batch: usize,
    pub warm_invocations: usize,
    pub functions: Vec<FunctionReport>,
}

#[derive(Serialize)]
pub struct FunctionReport {
    pub name: String,
    pub event: Option<String>,
    pub event_records: Option<usize>,
    pub peer: Option<String>,
    pub figures: Vec<FigureRow>,
    pub size: Size,
    pub targets: Vec<TargetRow>,
    pub error: Option<String>,
}

#[derive(Serialize)]
pub struct FigureRow {
    pub figure: Figure,
    pub id: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub lbpilot: Option<Stats>,
    pub peer: Option<Stats>,
    /// Python peer ÷ lbpilot, one ratio per run.
    pub ratio: Option<Stats>,
    /// Why a figure is missing.
    pub note: Option<String>,
}

#[derive(Serialize)]
pub struct Size {
    /// The stripped binary of the benchmarked profile (this machine's architecture).
    pub native_bytes: u64,
    pub native_arch: &'static str,
    /// The stripped arm64 bootstrap from `cargo lambda build --arm64`, when there is one.
    pub arm64_bytes: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    Pass,
    Miss,
    NotMeasured,
}

#[derive(Serialize)]
pub struct TargetRow {
    pub target: &'static str,
    pub measured: String,
    pub result: Verdict,
}

/// What one function's runs produced.
pub struct Measured<'a> {
    pub function: &'a Function,
    pub lbpilot: Vec<Sample>,
    /// Empty without a peer; else one sample per run, in the same order as `lbpilot`.
    pub peer: Vec<Sample>,
    pub size: Size,
    /// Why it could not be measured (fully), if it could not.
    pub error: Option<String>,
}

const MIB: f64 = 1024.0 * 1024.0;

pub fn function_report(m: Measured) -> FunctionReport {
    let f = m.function;
    let figures: Vec<FigureRow> = Figure::ALL
        .iter()
        .map(|&figure| {
            let values = |samples: &[Sample]| -> Vec<f64> {
                samples
                    .iter()
                    .filter_map(|s| s.get(&figure).copied())
                    .collect()
            };
            let ratios: Vec<f64> = m
                .lbpilot
                .iter()
                .zip(&m.peer)
                .filter_map(|(l, p)| Some(p.get(&figure)? / l.get(&figure)?))
                .collect();
            let note = match &f.event {
                None if figure.needs_event() => {
                    Some(format!("no benchmark event (events/{}/*.json)", f.name))
                }
                Some(e) if figure.sqs_only() && e.sqs_records().is_none() => {
                    Some("not an SQS event: no batch".into())
                }
                _ => None,
            };
            FigureRow {
                figure,
                id: figure.id(),
                label: figure.label(),
                unit: figure.unit(),
                lbpilot: Stats::of(&values(&m.lbpilot)),
                peer: Stats::of(&values(&m.peer)),
                ratio: figure.has_ratio().then(|| Stats::of(&ratios)).flatten(),
                note,
            }
        })
        .collect();
    let targets = targets(&figures, &m.size, f.peer.is_some());
    FunctionReport {
        name: f.name.clone(),
        event: f.event.as_ref().map(|e| e.file.clone()),
        event_records: f
            .event
            .as_ref()
            .and_then(|e| e.sqs_records().map(<[_]>::len)),
        peer: f.peer.as_ref().map(|p| {
            p.strip_prefix(crate::workspace::default_root())
                .unwrap_or(p)
                .display()
                .to_string()
        }),
        figures,
        size: m.size,
        targets,
        error: m.error,
    }
}

/// The targets, each checked on the medians.
fn targets(figures: &[FigureRow], size: &Size, has_peer: bool) -> Vec<TargetRow> {
    let row = |f: Figure| figures.iter().find(|r| r.figure == f);
    let median = |f: Figure| row(f).and_then(|r| r.lbpilot).map(|s| s.median);
    let ratio = |f: Figure| row(f).and_then(|r| r.ratio).map(|s| s.median);
    let check = |target, value: Option<f64>, unit: &str, pass: fn(f64) -> bool| match value {
        Some(v) => TargetRow {
            target,
            measured: crate::render::with_unit(v, unit),
            result: if pass(v) {
                Verdict::Pass
            } else {
                Verdict::Miss
            },
        },
        None => TargetRow {
            target,
            measured: "not measured".into(),
            result: Verdict::NotMeasured,
        },
    };
    let mut rows = vec![check("init ≤ 8 ms", median(Figure::Init), "ms", |v| {
        v <= 8.0
    })];
    if has_peer {
        rows.push(check(
            "init ≥ 100x faster than the Python peer",
            ratio(Figure::Init),
            "x",
            |v| v >= 100.0,
        ));
    }
    rows.push(check(
        "peak RSS ≤ 12 MiB",
        median(Figure::Rss),
        "MiB",
        |v| v <= 12.0,
    ));
    if has_peer {
        rows.push(check(
            "peak RSS ≥ 8x less than the Python peer",
            ratio(Figure::Rss),
            "x",
            |v| v >= 8.0,
        ));
    }
    rows.push(check(
        "per-event overhead < 1 ms",
        median(Figure::EventCpu),
        "ms",
        |v| v < 1.0,
    ));
    if row(Figure::BatchRatio).is_some_and(|r| r.note.is_none()) {
        rows.push(check(
            "10-message batch < 1.5x one message (200 ms provider latency)",
            median(Figure::BatchRatio),
            "x",
            |v| v < 1.5,
        ));
    }
    rows.push(match size.arm64_bytes {
        Some(b) => check("stripped arm64 binary < 6 MiB", Some(b as f64 / MIB), "MiB", |v| v < 6.0),
        None => TargetRow {
            target: "stripped arm64 binary < 6 MiB",
            measured: format!(
                "arm64 not built (needs `rustup target add aarch64-unknown-linux-gnu`); {}: {} MiB{}",
                size.native_arch,
                crate::render::number(size.native_bytes as f64 / MIB, "MiB"),
                if size.native_bytes as f64 / MIB < 6.0 { "" } else { ", over 6 MiB already" }
            ),
            result: Verdict::NotMeasured,
        },
    });
    rows
}
