//! `argus bootstrap`: deploy the toolkit stack (assets bucket) to the stage's account and Region.

use crate::cli::{BootstrapArgs, Failure};
use crate::ops::{Context, bootstrap::bootstrap};
use crate::terminal::Terminal;

/// Deploys `argus-toolkit` in the Region of `--stage` (no changes when it is up to date).
pub async fn run(context: &Context, args: &BootstrapArgs) -> Result<(), Failure> {
    bootstrap(context, &args.stage, &Terminal).await.map(|_| ())
}
