//! The report as markdown (printed, and written to `bench/results/`).

use crate::report::{FigureRow, FunctionReport, Report, Verdict};
use crate::stats::Stats;
use std::fmt::Write;

const MIB: f64 = 1024.0 * 1024.0;

/// A value with as many decimals as its size deserves.
pub fn number(v: f64, unit: &str) -> String {
    let decimals = match (unit, v.abs()) {
        ("MiB", _) => 1,
        (_, a) if a < 10.0 => 2,
        (_, a) if a < 100.0 => 1,
        _ => 0,
    };
    format!("{v:.decimals$}")
}

/// `12.3 ms`, `4.5x`.
pub fn with_unit(v: f64, unit: &str) -> String {
    match unit {
        "x" => format!("{}x", number(v, unit)),
        _ => format!("{} {unit}", number(v, unit)),
    }
}

fn stats(s: Option<Stats>, unit: &str) -> String {
    match s {
        None => "—".into(),
        Some(s) if s.runs == 1 => with_unit(s.median, unit),
        Some(s) => format!(
            "{} ({}–{})",
            with_unit(s.median, unit),
            number(s.min, unit),
            number(s.max, unit)
        ),
    }
}

pub fn markdown(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# lbpilot benchmark: {} mode\n", r.mode);
    if r.mode == "quick" {
        let _ = writeln!(
            out,
            "> Quick mode: one run of {} binaries. It checks that the benchmark works; the \
             figures and verdicts say nothing about speed.\n",
            r.profile
        );
    }
    let m = &r.machine;
    let _ = writeln!(
        out,
        "{} · {} runs · {} binaries · {} ({} cores, {} GiB, {}, Linux {}) · peer: {}\n",
        r.date, r.runs, r.profile, m.cpu, m.cores, m.memory_gib, m.arch, m.kernel, m.python
    );
    let _ = writeln!(
        out,
        "Each figure: median (min–max) over the runs. Ratio: Python peer ÷ lbpilot, taken within \
         each run, then its median (min–max). Warm: median of {} invocations per run. Batches: {} \
         messages; provider latency {} ms where stated, else 0. Definitions: BENCHMARKS.md.\n",
        r.warm_invocations, r.batch, r.provider_latency_ms
    );
    for f in &r.functions {
        function(&mut out, f);
    }
    out
}

fn function(out: &mut String, f: &FunctionReport) {
    let _ = writeln!(out, "## {}\n", f.name);
    let event = match (&f.event, f.event_records) {
        (Some(e), Some(n)) => format!("`{e}` ({n} records)"),
        (Some(e), None) => format!("`{e}`"),
        (None, _) => "none yet".into(),
    };
    let peer = f
        .peer
        .as_ref()
        .map_or("none".into(), |p| format!("`{p}` under awslambdaric"));
    let _ = writeln!(out, "Event: {event}. Python peer: {peer}.\n");
    if let Some(e) = &f.error {
        let short: String = e
            .lines()
            .next()
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect();
        let _ = writeln!(out, "**FAILED**, not (fully) measured: {short}…\n");
    }
    let _ = writeln!(out, "| figure | lbpilot | Python peer | ratio |");
    let _ = writeln!(out, "|---|---|---|---|");
    for row in &f.figures {
        figure(out, row, f.peer.is_some());
    }
    let size = |b: u64| format!("{} MiB ({b} bytes)", number(b as f64 / MIB, "MiB"));
    let _ = writeln!(
        out,
        "| stripped binary ({}) | {} | — | — |",
        f.size.native_arch,
        size(f.size.native_bytes)
    );
    let arm64 = f.size.arm64_bytes.map_or("not built".into(), size);
    let _ = writeln!(out, "| stripped binary (arm64) | {arm64} | — | — |\n");
    let _ = writeln!(out, "| target | measured | result |");
    let _ = writeln!(out, "|---|---|---|");
    for t in &f.targets {
        let result = match t.result {
            Verdict::Pass => "PASS",
            Verdict::Miss => "**MISS**",
            Verdict::NotMeasured => "NOT MEASURED",
        };
        let _ = writeln!(out, "| {} | {} | {result} |", t.target, t.measured);
    }
    let _ = writeln!(out);
}

fn figure(out: &mut String, row: &FigureRow, has_peer: bool) {
    let lbpilot = match (&row.note, row.lbpilot) {
        (Some(note), None) => format!("n/a: {note}"),
        _ => stats(row.lbpilot, row.unit),
    };
    let peer = if has_peer {
        stats(row.peer, row.unit)
    } else {
        "—".into()
    };
    let ratio = stats(row.ratio, "x");
    let _ = writeln!(out, "| {} | {lbpilot} | {peer} | {ratio} |", row.label);
}
