//! `argus destroy`.

use std::time::Duration;

use argus_toolkit::destroy::{self, DestroyRequest};

use crate::cli::{DestroyArgs, Failure};
use crate::ops::{ACCOUNT_STACK_REGION_STAGE, Context, aws_for, synth_target};
use crate::terminal::Terminal;

/// Destroys one stack (emptying its deletable buckets first).
pub async fn run(context: &Context, args: &DestroyArgs) -> Result<(), Failure> {
    let (target, synthesized, _) = synth_target(context, &args.target, ACCOUNT_STACK_REGION_STAGE)?;
    let aws = aws_for(context, &target).await?;
    destroy::destroy(
        &aws,
        &DestroyRequest {
            stack_name: synthesized.name,
            protected: target.protected,
            force: args.force,
            timeout: Duration::from_secs(args.timeout * 60),
            role_arn: args.execution_role.clone(),
        },
        &Terminal,
    )
    .await?;
    Ok(())
}
