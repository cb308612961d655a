//! `argus watch`: rebuild, hotswap and tail logs on every change until Ctrl-C.

use std::time::Duration;

use argus_toolkit::deploy::Approval;

use crate::cli::{Failure, RequireApproval, TargetArgs, WatchArgs};
use crate::ops::Context;
use crate::ops::deploy::DeployOptions;
use crate::ops::watch::{WatchOptions, watch};
use crate::terminal::Terminal;

/// Watches one stage until Ctrl-C (exit 0).
pub async fn run(context: &Context, args: &WatchArgs) -> Result<(), Failure> {
    let options = WatchOptions {
        deploy: DeployOptions {
            approval: match args.require_approval {
                RequireApproval::Never => Approval::Never,
                RequireApproval::Broadening => Approval::Broadening,
            },
            outputs_file: None,
            execute: true,
            timeout: Duration::from_secs(30 * 60),
            execution_role: None,
            hotswap: true,
            force: args.force,
        },
        debounce: Duration::from_millis(args.debounce),
        tail_logs: !args.no_logs,
    };
    watch(
        context,
        &TargetArgs::stage(&args.stage),
        &options,
        &Terminal,
    )
    .await
}
