//! `argus analyze <FILE|s3://bucket/key>`: analyse one image with a stage's analyses
//! ([`crate::ops::analyze`]), print the JSON record and write it to a file.

use std::path::PathBuf;

use crate::cli::Failure;
use crate::ops::analyze::{AnalyzeOptions, analyze};
use crate::ops::{Context, block_on};

/// `argus analyze` options.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// A local JPEG/PNG file, or `s3://bucket/key` of an object already in S3.
    pub image: String,
    /// The stage whose settings (analyses, MinConfidence, MaxLabels, alert labels) and buckets are used.
    #[arg(long, default_value = "local", value_name = "STAGE")]
    pub stage: String,
    /// Folder the `<image>_labels_<YYYYMMDD_HHMMSS>.json` file is written to.
    #[arg(long = "results", default_value = ".", value_name = "DIR")]
    pub results: PathBuf,
    /// Also write the record to the stage's results table (unless the pipeline already did).
    #[arg(long)]
    pub store: bool,
}

/// Runs `argus analyze`.
pub fn run(context: &Context, args: &AnalyzeArgs) -> Result<(), Failure> {
    let options = AnalyzeOptions {
        image: args.image.clone(),
        stage: args.stage.clone(),
        results: args.results.clone(),
        store: args.store,
    };
    let analyzed = block_on(analyze(context, &options))?;
    if let Some(location) = &analyzed.uploaded {
        eprintln!("uploaded {} to {location}", args.image);
    }
    println!("{}", analyzed.json);
    eprintln!("wrote {}", analyzed.file.display());
    Ok(())
}
