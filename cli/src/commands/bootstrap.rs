//! `argus bootstrap`: deploy the toolkit stack (assets bucket) to the stage's account and Region.

use std::time::Duration;

use argus_cdk::bootstrap::{ASSETS_BUCKET_OUTPUT, TOOLKIT_STACK_NAME};
use argus_toolkit::aws::AwsContext;
use argus_toolkit::deploy::{self, Approval, DeployOutcome, DeployRequest};

use super::{Context, aws_for, synth_target};
use crate::cli::{BootstrapArgs, Failure, TargetArgs};
use crate::terminal::Terminal;

/// Deploys `argus-toolkit` in the Region of `--stage` (no changes when it is up to date).
pub async fn run(context: &Context, args: &BootstrapArgs) -> Result<(), Failure> {
    let toolkit = TargetArgs {
        stage: None,
        stack: Some(TOOLKIT_STACK_NAME.to_owned()),
    };
    let (target, synthesized, _) = synth_target(context, &toolkit, &args.stage)?;
    let aws = aws_for(context, &target).await?;
    let body = synthesized.template.to_json()?;
    let outcome = deploy::deploy(
        &aws,
        &DeployRequest {
            stack_name: TOOLKIT_STACK_NAME.to_owned(),
            template_body: body,
            parameters: Vec::new(),
            approval: Approval::Never,
            execute: true,
            termination_protection: false,
            template_bucket: None,
            timeout: Duration::from_secs(30 * 60),
            role_arn: None,
        },
        &Terminal,
    )
    .await?;
    let bucket = assets_bucket(&aws).await?;
    match outcome {
        DeployOutcome::NoChanges => {
            println!("{TOOLKIT_STACK_NAME}: already bootstrapped; assets bucket {bucket}")
        }
        _ => println!("{TOOLKIT_STACK_NAME}: bootstrapped; assets bucket {bucket}"),
    }
    Ok(())
}

/// The assets bucket name from the toolkit stack's outputs.
///
/// # Errors
/// A [`Failure`] telling to run `argus bootstrap` when the toolkit stack is missing.
pub async fn assets_bucket(aws: &AwsContext) -> Result<String, Failure> {
    let state = deploy::describe_stack(aws, TOOLKIT_STACK_NAME).await?;
    state
        .and_then(|s| s.outputs.get(ASSETS_BUCKET_OUTPUT).cloned())
        .ok_or_else(|| Failure::new(1, format!("{TOOLKIT_STACK_NAME} is not deployed in this account and Region: run `argus bootstrap --stage <stage>` (make deploy-beta does) first")))
}
