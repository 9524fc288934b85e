//! Executes actions read from standard input (one JSON action per line) with lbpilot's
//! executor, configured from the environment like the functions, and prints one outcome per
//! line. The conformance check points it at a recording server; operators can use it to try an
//! action against a fake or a sandbox account.

use lbpilot::action::Action;
use lbpilot::config::ExecutorConfig;
use lbpilot::executor::Execution;
use lbpilot::outcome::{Outcome, Source};
use std::io::BufRead;
use std::time::Duration;
use tokio::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let executor =
        lbpilot::executor::Executor::new(ExecutorConfig::from_env()?, lbpilot::app::transport()?);
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let source = Source::new("stdin", format!("line-{}", n + 1));
        let outcome = match Action::from_json(&line) {
            Ok(action) => {
                let ctx = Execution {
                    deadline: Instant::now() + Duration::from_secs(30),
                    redelivered: false,
                };
                executor.execute(action, source, ctx).await
            }
            Err(e) => Outcome::invalid_input(&line, &e, source),
        };
        println!("{}", serde_json::to_string(&outcome)?);
    }
    Ok(())
}
