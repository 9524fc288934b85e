//! The four provider fakes as a standalone process, for manual runs and end-to-end scripts.
//!
//! ```text
//! fake-cloud [--seed FILE] [--alb-port N] [--slb-port N] [--roma-port N] [--ga-port N]
//! ```
//! Without `--seed` it serves `Seed::demo()`. When ready it prints one JSON line with the four
//! URLs on stdout (`{"alb":"http://127.0.0.1:…","slb":…,"roma":…,"ga":…}`), then logs each
//! request as one line on stderr. It exits on SIGTERM or ctrl-c.

use lbpilot_tests::fakes::{FakeCloud, Ports, Seed};
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str =
    "usage: fake-cloud [--seed FILE] [--alb-port N] [--slb-port N] [--roma-port N] [--ga-port N]";

fn parse_args() -> Result<(Seed, Ports), String> {
    let mut seed = None;
    let mut ports = Ports::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            return Err(USAGE.to_string());
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))?;
        let port = || {
            value
                .parse::<u16>()
                .map_err(|_| format!("{arg}: not a port: {value}"))
        };
        match arg.as_str() {
            "--seed" => seed = Some(Seed::load(std::path::Path::new(&value))?),
            "--alb-port" => ports.alb = port()?,
            "--slb-port" => ports.slb = port()?,
            "--roma-port" => ports.roma = port()?,
            "--ga-port" => ports.ga = port()?,
            _ => return Err(format!("unknown argument {arg}\n{USAGE}")),
        }
    }
    Ok((seed.unwrap_or_else(Seed::demo), ports))
}

fn log(line: &str) {
    let _ = writeln!(std::io::stderr(), "fake-cloud: {line}");
}

async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let (seed, ports) = match parse_args() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let cloud = match FakeCloud::start_on(seed, ports).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fake-cloud: cannot bind: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Logging must not panic when whoever reads stderr has gone away.
    cloud.on_request(|r| log(&r.summary()));
    println!("{}", cloud.urls_json());
    let _ = std::io::stdout().flush();
    stopped().await;
    log("stopping");
    ExitCode::SUCCESS
}
