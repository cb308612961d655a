//! `argus demo` (`make demo`): the whole pipeline on the sample images on the local twin
//! ([`crate::ops::demo`]), then a table of the results and what to try next.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::Failure;
use crate::ops::Context;
use crate::ops::demo::{DemoOptions, FINAL_STATUSES, run_demo, table};
use crate::terminal::Terminal;

/// `argus demo` options.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Folder of images to upload (every .png, .jpg and .jpeg in it).
    #[arg(long, default_value = "samples", value_name = "DIR")]
    pub samples: PathBuf,
    /// Seconds to wait for every result before giving up.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub wait: u64,
    /// A second folder of images to upload: real photos the models answer (no fixture), by
    /// default the `photos/` that `make models` unpacks into the models folder (skipped when
    /// absent).
    #[arg(long, value_name = "DIR")]
    pub photos: Option<PathBuf>,
    /// Folder of Rekognition fixtures (`<sha256>.json`, e.g. `samples/fixtures`) that override
    /// the models for the images they name, as the tests do. Without it (the default) every
    /// answer comes from argus-twin's models.
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
    /// Where the result files go (default: <out>/demo).
    #[arg(long, value_name = "DIR")]
    pub results: Option<PathBuf>,
    /// Where the twin keeps its PIDs, state and logs.
    #[arg(long, default_value = ".argus/local", value_name = "DIR")]
    pub state_dir: PathBuf,
    /// MiniStack's port (argus-twin's comes from the local stage config).
    #[arg(long, default_value_t = argus_twin::lifecycle::DEFAULT_MINISTACK_PORT)]
    pub ministack_port: u16,
}

/// Runs the demo and prints the table; exit 1 when an image did not reach a final status.
pub fn run(context: &Context, args: &DemoArgs) -> Result<(), Failure> {
    let options = DemoOptions {
        samples: args.samples.clone(),
        photos: args
            .photos
            .clone()
            .unwrap_or_else(|| argus_twin::vision::models_dir().join("photos")),
        fixtures: args.fixtures.clone(),
        wait: Duration::from_secs(args.wait),
        results: args.results.clone(),
        state_dir: args.state_dir.clone(),
        ministack_port: args.ministack_port,
    };
    let report = run_demo(context, &options, &Terminal)?;
    println!();
    print!("{}", table(&report.rows));
    println!();
    println!(
        "Result files ({}): {}",
        report.files.len(),
        report.results_dir.display()
    );
    let env: Vec<String> = report
        .twin
        .environment()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    println!("Results report: {}", report.report.display());
    println!("Inspect more:");
    println!("  argus local status                      the twin's processes");
    println!(
        "  argus report --stage local --since 1d   the results report again (with the env below)"
    );
    println!("  argus diff --stage local                the deployed stack against the code");
    println!("  env {} \\", env.join(" "));
    println!(
        "    argus deploy --stage local           redeploy after a change (reports no changes otherwise)"
    );
    println!(
        "  results table: {} (DynamoDB on {})",
        report.results_table,
        report.twin.ministack.endpoint()
    );
    println!("Stop the twin: make demo-down   (or: argus local down)");
    let waiting: Vec<&str> = report
        .rows
        .iter()
        .filter(|r| !FINAL_STATUSES.contains(&r.status()))
        .map(|r| r.image.as_str())
        .collect();
    if waiting.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(
            1,
            format!(
                "no final status within {} s for: {}",
                args.wait,
                waiting.join(", ")
            ),
        ))
    }
}
