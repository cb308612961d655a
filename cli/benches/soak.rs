//! `make bench` (soak): 2,000 images (`ARGUS_SOAK_IMAGES`) through the deployed local stage on a
//! twin of its own while argus-twin throttles 20 % of the Rekognition calls and fails 5 % with
//! HTTP 500, with one duplicate delivery in ten. Prints images per second, the p50/p99 latency
//! from upload to final record, and what was lost, duplicated or dead-lettered (all must be 0;
//! the bench fails otherwise). The same run, smaller, is a test in `make test`
//! (`cli/tests/twin/soak.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

// The pipeline tests' twin; its #[test] functions are not compiled into a bench.
#[allow(dead_code, unused_imports)]
#[path = "../tests/twin/pipeline.rs"]
mod pipeline;

#[allow(dead_code)]
#[path = "../tests/twin/soak.rs"]
mod soak;

fn main() {
    let images = std::env::var("ARGUS_SOAK_IMAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let options = soak::SoakOptions::with_images(images);
    let twin = soak::soak_twin();
    let report = soak::run(&twin, &options);
    println!("{}", report.summary(&options));
    let problems = report.problems();
    assert!(
        problems.is_empty(),
        "the soak lost or duplicated work:\n{}",
        problems.join("\n")
    );
}
