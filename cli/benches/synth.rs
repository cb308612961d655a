//! `make bench` (synth): whole-process wall time of `argus synth --stage all` (median of repeated
//! runs, release build) and the size of every template it writes.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 21;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = std::env::temp_dir().join(format!("argus-bench-synth-{}", std::process::id()));
    let run = || {
        let start = Instant::now();
        let status = Command::new(env!("CARGO_BIN_EXE_argus"))
            .args(["synth", "--stage", "all", "--out"])
            .arg(&out)
            .current_dir(root)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run argus");
        assert!(status.success(), "argus synth failed");
        start.elapsed()
    };
    run(); // warm the page cache
    let mut times: Vec<Duration> = (0..RUNS).map(|_| run()).collect();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("argus synth --stage all ({RUNS} runs, whole process)");
    println!(
        "  median {:.2} ms   min {:.2} ms   max {:.2} ms",
        ms(times[RUNS / 2]),
        ms(times[0]),
        ms(times[RUNS - 1])
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    println!(
        "template sizes (CloudFormation inline limit 51,200 bytes; larger ones go via the assets bucket)"
    );
    let mut total = 0;
    for (name, stack) in manifest["stacks"].as_object().unwrap() {
        let bytes = stack["templateBytes"].as_u64().unwrap();
        total += bytes;
        println!(
            "  {name:<15} {bytes:>7} bytes  {:>3} resources",
            stack["resources"]
        );
    }
    println!("  {:<15} {total:>7} bytes", "total");
    std::fs::remove_dir_all(&out).ok();
}
