//! `argus report`: the HTML results report of a stage ([`crate::ops::report`]).

use std::path::{Path, PathBuf};

use argus_toolkit::deploy::describe_stack;

use crate::cli::Failure;
use crate::ops::audit_trail::{Since, parse_since};
use crate::ops::report::write_report;
use crate::ops::{Context, one_stage};

/// The report folder when the global `--out` is not given.
pub const DEFAULT_REPORT_DIR: &str = "cdk.out/report";

/// `argus report` options (the folder is the global `--out DIR`, default `cdk.out/report`).
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The stage whose results to show: beta, prod or local.
    #[arg(long, value_name = "STAGE")]
    pub stage: String,
    /// Only records processed this recently: a whole number and a unit, s, m, h or d (`30m`,
    /// `1h`, `2d`); at most 90d.
    #[arg(long, default_value = "1h", value_name = "DURATION", value_parser = parse_since)]
    pub since: Since,
}

/// Writes the report into `out` (the global `--out`, else [`DEFAULT_REPORT_DIR`]) and prints
/// the path of its `index.html`.
///
/// # Errors
/// [`Failure`]: 2 for a `--stage` that is not a stage or an invalid config; 1 when the stage is
/// not deployed or a file cannot be written; 3 when AWS refuses a call.
pub async fn run(context: &Context, args: &ReportArgs, out: Option<&Path>) -> Result<(), Failure> {
    let (config, aws) = one_stage(context, &args.stage, "report").await?;
    let stack = describe_stack(&aws, &config.stack_name)
        .await?
        .ok_or_else(|| Failure::new(1, format!("{} is not deployed", config.stack_name)))?;
    let table = stack.outputs.get("ResultsTableName").ok_or_else(|| {
        Failure::new(
            1,
            format!("{} has no output ResultsTableName", config.stack_name),
        )
    })?;
    let since = chrono::Utc::now()
        - chrono::Duration::seconds(i64::try_from(args.since.seconds).unwrap_or(i64::MAX));
    let dir = out.map_or_else(|| PathBuf::from(DEFAULT_REPORT_DIR), Path::to_path_buf);
    let written = write_report(&aws, table, &config.stage, since, &dir).await?;
    println!(
        "Report: {} ({} images since {}, {} image(s) no longer in the bucket)",
        written.index.display(),
        written.cards,
        args.since,
        written.missing_images
    );
    Ok(())
}
