//! `argus deploy`: synth, publish bundles, deploy through a change set (or hotswap the functions
//! with `--hotswap`), write outputs.

use std::time::Duration;

use argus_toolkit::deploy::Approval;

use crate::cli::{DeployArgs, Failure, RequireApproval};
use crate::ops::Context;
use crate::ops::deploy::{DeployOptions, deploy_stack};
use crate::terminal::Terminal;

/// The deploy options `args` give.
pub fn options(args: &DeployArgs) -> DeployOptions {
    DeployOptions {
        approval: match args.require_approval {
            RequireApproval::Never => Approval::Never,
            RequireApproval::Broadening => Approval::Broadening,
        },
        outputs_file: args.outputs_file.clone(),
        execute: !args.no_execute,
        timeout: Duration::from_secs(args.timeout * 60),
        execution_role: args.execution_role.clone(),
        hotswap: args.hotswap,
        force: args.force,
    }
}

/// Deploys one stack.
pub async fn run(context: &Context, args: &DeployArgs) -> Result<(), Failure> {
    deploy_stack(context, &args.target, &options(args), &Terminal)
        .await
        .map(|_| ())
}
