//! What runs under the Runtime API: an lbpilot function binary or its Python peer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone)]
pub enum Subject {
    /// A Rust bootstrap binary.
    Lbpilot(PathBuf),
    /// `python -m awslambdaric <module>.handler` in the peer's folder.
    Python { python: PathBuf, script: PathBuf },
}

impl Subject {
    pub fn label(&self) -> &'static str {
        match self {
            Subject::Lbpilot(_) => "lbpilot",
            Subject::Python { .. } => "python",
        }
    }

    /// The command Lambda would run, with `env` (and nothing else but `PATH`) and the
    /// variables the Lambda service sets.
    pub fn command(&self, function: &str, env: &HashMap<String, String>, api: &str) -> Command {
        let mut command = match self {
            Subject::Lbpilot(binary) => Command::new(binary),
            Subject::Python { python, script } => {
                let module = script.file_stem().unwrap_or_default().to_string_lossy();
                let mut c = Command::new(python);
                c.args(["-m", "awslambdaric", &format!("{module}.handler")])
                    .current_dir(script.parent().unwrap_or(Path::new(".")));
                c
            }
        };
        command
            .env_clear()
            .envs(env)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", api)
            // Lambda sets both; boto3 reads only the second.
            .env(
                "AWS_DEFAULT_REGION",
                env.get("AWS_REGION").map_or("us-east-1", String::as_str),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON");
        command
    }
}

/// The workspace's `.venv` Python, which `scripts/setup` fills (awslambdaric, boto3, the SDKs).
pub fn venv_python(root: &Path) -> PathBuf {
    root.join(".venv/bin/python")
}
