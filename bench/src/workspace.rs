//! What to benchmark, found in the workspace: every binary of the packages under `functions/`,
//! its first benchmark event under `events/<function>/`, and its Python peer under `bench/python/`.

use crate::Result;
use crate::event::BenchEvent;
use std::path::{Path, PathBuf};

pub struct Function {
    /// The binary's name (the package's, for the functions so far).
    pub name: String,
    pub binary: PathBuf,
    /// `None`: no event yet, so only init, RSS and size are measured.
    pub event: Option<BenchEvent>,
    /// `bench/python/<name with _>.py`, if it exists.
    pub peer: Option<PathBuf>,
    /// Settings it needs beyond the common ones, from `bench/env/<name>.json` (see
    /// [`Function::settings`]).
    pub extra_env: Vec<(String, String)>,
}

impl Function {
    /// Its extra settings, with each `{name}` of `placeholders` replaced by its value
    /// (see [`crate::stack::Stack::placeholders`]).
    pub fn settings(&self, placeholders: &[(&str, String)]) -> Vec<(String, String)> {
        self.extra_env
            .iter()
            .map(|(k, v)| {
                let v = placeholders.iter().fold(v.clone(), |v, (name, value)| {
                    v.replace(&format!("{{{name}}}"), value)
                });
                (k.clone(), v)
            })
            .collect()
    }
}

/// `bench/env/<name>.json`: an object of setting names to strings; none if there is no file.
fn extra_env(root: &Path, name: &str) -> Result<Vec<(String, String)>> {
    let path = root.join("bench/env").join(format!("{name}.json"));
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Vec::new());
    };
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    object
        .into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => Ok((k, s)),
            _ => Err(format!("{}: {k} must be a string", path.display())),
        })
        .collect()
}

/// The workspace root this crate was built in.
pub fn default_root() -> PathBuf {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR"));
    bench.parent().unwrap_or(bench).to_path_buf()
}

/// The workspace as `cargo metadata` describes it: the function binaries (the binary targets
/// of the member packages under `functions/`, sorted) and the target directory.
pub struct Layout {
    pub functions: Vec<String>,
    pub target_dir: PathBuf,
}

pub fn layout(root: &Path) -> Result<Layout> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
    Ok(parse_layout(&meta))
}

fn parse_layout(meta: &serde_json::Value) -> Layout {
    let functions_dir =
        Path::new(meta["workspace_root"].as_str().unwrap_or_default()).join("functions");
    let mut functions: Vec<String> = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| {
            Path::new(p["manifest_path"].as_str().unwrap_or_default()).starts_with(&functions_dir)
        })
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
        })
        .filter_map(|t| t["name"].as_str().map(str::to_string))
        .collect();
    functions.sort();
    Layout {
        functions,
        target_dir: meta["target_directory"].as_str().unwrap_or("target").into(),
    }
}

/// Every function, with its binary from `bin_dir` (e.g. `target/release`), which must exist.
pub fn functions(
    root: &Path,
    layout: &Layout,
    bin_dir: &Path,
    only: &[String],
) -> Result<Vec<Function>> {
    let mut found = Vec::new();
    for name in layout.functions.iter().cloned() {
        if !only.is_empty() && !only.contains(&name) {
            continue;
        }
        let binary = bin_dir.join(&name);
        if !binary.is_file() {
            return Err(format!(
                "{} is missing: build the functions first (scripts/bench does)",
                binary.display()
            ));
        }
        let peer = root
            .join("bench/python")
            .join(format!("{}.py", name.replace('-', "_")));
        found.push(Function {
            event: BenchEvent::find(root, &name)?,
            extra_env: extra_env(root, &name)?,
            peer: peer.is_file().then_some(peer),
            binary,
            name,
        });
    }
    if found.is_empty() {
        return Err("no function to benchmark".into());
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_are_the_binaries_of_the_packages_under_functions() {
        let meta = serde_json::json!({
            "workspace_root": "/w", "target_directory": "/w/target",
            "packages": [
                {"manifest_path": "/w/shared/Cargo.toml", "targets": [{"name": "lbpilot", "kind": ["lib"]}]},
                {"manifest_path": "/w/functions/b/Cargo.toml", "targets": [{"name": "b", "kind": ["bin"]}]},
                {"manifest_path": "/w/functions/a/Cargo.toml", "targets": [{"name": "a", "kind": ["bin"]}]},
                {"manifest_path": "/w/tests/Cargo.toml", "targets": [{"name": "fake-cloud", "kind": ["bin"]}]}
            ]
        });
        let layout = parse_layout(&meta);
        assert_eq!(layout.functions, ["a", "b"]);
        assert_eq!(layout.target_dir, PathBuf::from("/w/target"));
    }
}
