//! `argus diff`: the synthesized template against the deployed one.

use argus_toolkit::deploy::deployed_template;
use argus_toolkit::diff::TemplateDiff;

use crate::cli::{Failure, TargetArgs};
use crate::ops::{ACCOUNT_STACK_REGION_STAGE, Context, aws_for, synth_target};

/// Prints the differences; exit 1 (as a [`Failure`] with an empty message) when there are some.
pub async fn run(context: &Context, args: &TargetArgs) -> Result<(), Failure> {
    let (target, synthesized, _) = synth_target(context, args, ACCOUNT_STACK_REGION_STAGE)?;
    let aws = aws_for(context, &target).await?;
    let deployed = deployed_template(&aws, &synthesized.name).await?;
    let new = synthesized.template.to_value()?;
    if deployed.is_none() {
        println!(
            "{}: not deployed; every resource would be added",
            synthesized.name
        );
    }
    let diff = TemplateDiff::between(deployed.as_ref(), &new);
    print!("{}: {}", synthesized.name, diff.render());
    if diff.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(1, String::new()))
    }
}
