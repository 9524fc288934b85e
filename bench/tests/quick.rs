//! The benchmark in quick mode (one run of the debug binaries), as CI runs it: it must work and
//! report every figure for every function. Nothing here looks at how fast anything is.

use lbpilot_bench::figures::Figure;
use lbpilot_bench::workspace;
use serde_json::Value;
use std::process::Command;

#[test]
fn quick_mode_reports_every_figure_for_every_function() {
    let root = workspace::default_root();
    let layout = workspace::layout(&root).expect("cargo metadata");
    // Builds the workspace's debug binaries (a no-op when they are fresh).
    lbpilot_tests::harness::function_binary(&layout.functions[0]);
    let out = std::env::temp_dir().join(format!("lbpilot-bench-quick-{}", std::process::id()));
    let run = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(["--quick", "--out"])
        .arg(&out)
        .output()
        .expect("run the bench");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "bench --quick failed:\n{stderr}");
    let markdown = std::fs::read_to_string(out.join("quick.md")).expect("quick.md");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("quick.json")).expect("quick.json"))
            .expect("quick.json is JSON");
    let _ = std::fs::remove_dir_all(&out);

    let names: Vec<&str> = report["functions"]
        .as_array()
        .expect("functions")
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, layout.functions, "one section per function binary");
    for f in report["functions"].as_array().unwrap() {
        let name = f["name"].as_str().unwrap();
        assert!(
            markdown.contains(&format!("## {name}")),
            "{name} in quick.md"
        );
        assert!(f["error"].is_null(), "{name}: {}", f["error"]);
        assert!(
            f["size"]["native_bytes"].as_u64().unwrap() > 0,
            "{name}: size"
        );
        let has_event = !f["event"].is_null();
        let is_sqs = !f["event_records"].is_null();
        let has_peer = !f["peer"].is_null();
        for figure in Figure::ALL {
            let row = f["figures"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["id"] == figure.id())
                .unwrap_or_else(|| panic!("{name}: no {} row", figure.id()));
            let expected = (!figure.needs_event() || has_event) && (!figure.sqs_only() || is_sqs);
            let measured = row["lbpilot"]["median"].is_number();
            assert_eq!(measured, expected, "{name}: {} measured?", figure.id());
            if !expected {
                assert!(
                    row["note"].is_string(),
                    "{name}: {} says why not",
                    figure.id()
                );
            }
            if has_peer && expected {
                assert!(
                    row["peer"]["median"].is_number(),
                    "{name}: peer {}",
                    figure.id()
                );
                if figure.has_ratio() {
                    assert!(
                        row["ratio"]["median"].is_number(),
                        "{name}: ratio {}",
                        figure.id()
                    );
                }
            }
        }
        let results: Vec<&str> = f["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["result"].as_str().unwrap())
            .collect();
        assert!(results.len() >= 4, "{name}: targets {results:?}");
    }
    let queue_worker = report["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "queue-worker")
        .expect("queue-worker is benchmarked");
    assert!(
        queue_worker["peer"].is_string(),
        "queue-worker has its Python peer"
    );
}
