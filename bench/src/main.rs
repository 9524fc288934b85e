//! `bench`: see BENCHMARKS.md, or `bench --help`.

use lbpilot_bench::machine::Machine;
use lbpilot_bench::measure::{self, Plan, Sample};
use lbpilot_bench::report::{self, Measured, Report, Size};
use lbpilot_bench::stack::Stack;
use lbpilot_bench::subject::{Subject, venv_python};
use lbpilot_bench::workspace::{self, Function};
use lbpilot_bench::{Result, render, size};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

const HELP: &str = "\
bench [--quick] [--runs N] [--warm N] [--profile P] [--only a,b] [--out DIR] [--no-peer] [--env K=V] [--keep-logs]

Runs every function binary of the workspace (target/<profile>/<package> for each package under
functions/) and its Python peer (bench/python/<package>.py) under a local Lambda Runtime API,
against the provider fakes and moto's SQS, and writes the report to DIR (bench/results):
latest.md and latest.json, or quick.md and quick.json with --quick.

  --quick       one run, one warm invocation, debug binaries: checks that it works (CI)
  --runs N      runs per subject (default 7; the median and the spread are reported)
  --warm N      warm invocations per run (default 5; their median is the run's figure)
  --profile P   which build to run (default release; debug with --quick)
  --only a,b    only these functions
  --out DIR     where the report goes
  --no-peer     lbpilot only (quicker, while working on lbpilot; no ratios)
  --env K=V     an extra setting for every subject (repeatable), e.g. to try SSL_CERT_DIR=/empty
  --keep-logs   keep the subjects' logs (a folder under the temp dir, named at the end)
";

struct Options {
    quick: bool,
    runs: usize,
    warm: usize,
    profile: String,
    only: Vec<String>,
    out: PathBuf,
    keep_logs: bool,
    no_peer: bool,
    env: Vec<(String, String)>,
}

impl Options {
    fn parse(args: Vec<String>) -> Result<Options> {
        let quick = args.iter().any(|a| a == "--quick");
        let mut o = Options {
            quick,
            runs: if quick { 1 } else { 7 },
            warm: if quick { 1 } else { 5 },
            profile: if quick { "debug" } else { "release" }.into(),
            only: Vec::new(),
            out: workspace::default_root().join("bench/results"),
            keep_logs: false,
            no_peer: false,
            env: Vec::new(),
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--quick" => {}
                "--keep-logs" => o.keep_logs = true,
                "--no-peer" => o.no_peer = true,
                "--env" => {
                    let pair = value()?;
                    let (k, v) = pair.split_once('=').ok_or(format!("--env {pair}: K=V"))?;
                    o.env.push((k.to_string(), v.to_string()));
                }
                "--runs" => o.runs = number(&value()?)?,
                "--warm" => o.warm = number(&value()?)?,
                "--profile" => o.profile = value()?,
                "--only" => o.only = value()?.split(',').map(str::to_string).collect(),
                "--out" => o.out = value()?.into(),
                "-h" | "--help" => return Err(HELP.into()),
                other => return Err(format!("unknown argument {other}\n\n{HELP}")),
            }
        }
        Ok(o)
    }
}

fn number(v: &str) -> Result<usize> {
    match v.parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{v}: expected a positive number")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    let o = Options::parse(std::env::args().skip(1).collect())?;
    let root = workspace::default_root();
    let layout = workspace::layout(&root)?;
    let mut functions =
        workspace::functions(&root, &layout, &layout.target_dir.join(&o.profile), &o.only)?;
    if o.no_peer {
        functions.iter_mut().for_each(|f| f.peer = None);
    }
    let python = venv_python(&root);
    if functions.iter().any(|f| f.peer.is_some()) && !python.exists() {
        return Err(format!(
            "{} is missing: run scripts/setup",
            python.display()
        ));
    }
    let scratch = std::env::temp_dir().join(format!("lbpilot-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let plan = Plan {
        warm: o.warm,
        batch: 10,
        latency_ms: 200,
        timeout: Duration::from_secs(60),
        env: o.env.clone(),
    };
    let stack = Stack::start().await;
    let results = measure_all(&o, &stack, &functions, &python, &plan, &scratch).await;

    let mut reports = Vec::new();
    let mut failed = Vec::new();
    for (f, results) in functions.iter().zip(results) {
        let errors: Vec<String> = results.errors.into_iter().flatten().collect();
        if !errors.is_empty() {
            failed.push(f.name.clone());
        }
        let [lbpilot, peer] = results.samples;
        reports.push(report::function_report(Measured {
            function: f,
            lbpilot,
            peer,
            size: sizes(f, &layout.target_dir, &scratch)?,
            error: (!errors.is_empty()).then(|| errors.join("; ")),
        }));
    }
    let report = Report {
        mode: if o.quick { "quick" } else { "full" }.into(),
        runs: o.runs,
        profile: o.profile.clone(),
        date: now(),
        machine: Machine::detect(&python),
        provider_latency_ms: plan.latency_ms,
        batch: plan.batch,
        warm_invocations: plan.warm,
        functions: reports,
    };
    let markdown = render::markdown(&report);
    println!("{markdown}");
    let name = if o.quick { "quick" } else { "latest" };
    write(&o.out, name, &report, &markdown)?;
    if !failed.is_empty() {
        let logs = scratch.display();
        return Err(format!(
            "not measured: {} (logs in {logs})",
            failed.join(", ")
        ));
    }
    if o.keep_logs {
        eprintln!("logs kept in {}", scratch.display());
    } else {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    Ok(())
}

/// Every run of every subject. Run 0 is a warm-up, not counted (the first start after a build
/// reads the binaries from disk). What fails is reported as failed, and the rest is still measured.
async fn measure_all(
    o: &Options,
    stack: &Stack,
    functions: &[Function],
    python: &Path,
    plan: &Plan,
    scratch: &Path,
) -> Vec<Results> {
    let mut results: Vec<Results> = functions.iter().map(|_| Results::default()).collect();
    let first_run = if o.quick { 1 } else { 0 };
    for run in first_run..=o.runs {
        match run {
            0 => eprintln!("== warm-up (not counted)"),
            _ => eprintln!("== run {run}/{}", o.runs),
        }
        for (f, results) in functions.iter().zip(&mut results) {
            let mut order: Vec<(usize, Subject)> =
                subjects(f, python).into_iter().enumerate().collect();
            if run % 2 == 0 {
                order.reverse(); // alternate who goes first
            }
            for (i, subject) in order {
                if results.errors[i].is_some() {
                    continue;
                }
                let label = subject.label();
                let log = scratch.join(format!("{}-{label}-{run}.log", f.name));
                match measure::sample(stack, f, &subject, plan, log).await {
                    Ok(s) if run > 0 => {
                        eprintln!("   {:<14} {label:<8} {}", f.name, brief(&s));
                        results.samples[i].push(s);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("   {:<14} {label:<8} FAILED: {e}", f.name);
                        results.errors[i] = Some(format!("{label}: {e}"));
                    }
                }
            }
        }
    }
    results
}

/// lbpilot's binary, then the Python peer if the function has one.
fn subjects(f: &Function, python: &Path) -> Vec<Subject> {
    let mut s = vec![Subject::Lbpilot(f.binary.clone())];
    if let Some(script) = &f.peer {
        s.push(Subject::Python {
            python: python.to_path_buf(),
            script: script.clone(),
        });
    }
    s
}

/// One function's samples and errors: lbpilot's, the peer's. A subject that failed once is
/// not run again.
#[derive(Default)]
struct Results {
    samples: [Vec<Sample>; 2],
    errors: [Option<String>; 2],
}

fn sizes(f: &Function, target_dir: &Path, scratch: &Path) -> Result<Size> {
    Ok(Size {
        native_bytes: size::stripped(&f.binary, scratch)?,
        native_arch: std::env::consts::ARCH,
        arm64_bytes: match size::arm64_bootstrap(target_dir, &f.name) {
            Some(path) => Some(size::stripped(&path, scratch)?),
            None => None,
        },
    })
}

/// One line of progress: the sample's figures.
fn brief(s: &Sample) -> String {
    s.iter()
        .map(|(f, v)| format!("{}={}", f.id(), render::number(*v, f.unit())))
        .collect::<Vec<_>>()
        .join(" ")
}

fn write(dir: &Path, name: &str, report: &Report, markdown: &str) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let json = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
    for (ext, text) in [("md", markdown), ("json", json.as_str())] {
        let path = dir.join(format!("{name}.{ext}"));
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
