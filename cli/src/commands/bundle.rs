//! `argus bundle`: build the stack's Lambda assets into deterministic zips.

use crate::cli::{Failure, TargetArgs};
use crate::ops::{self, ACCOUNT_STACK_REGION_STAGE, Context, synth_target};
use crate::terminal::Terminal;

/// Builds every asset of the stack.
pub fn run(context: &Context, args: &TargetArgs) -> Result<(), Failure> {
    let (_, synthesized, _) = synth_target(context, args, ACCOUNT_STACK_REGION_STAGE)?;
    ops::bundle::bundle_stack(&context.out, &synthesized, &Terminal)?;
    Ok(())
}
