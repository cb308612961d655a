//! Bootstrapping: the toolkit stack (the assets bucket) in a stage's account and Region.

use std::time::Duration;

use argus_cdk::bootstrap::{ASSETS_BUCKET_OUTPUT, TOOLKIT_STACK_NAME};
use argus_toolkit::aws::AwsContext;
use argus_toolkit::deploy::{self, Approval, DeployOutcome, DeployRequest};
use argus_toolkit::report::Reporter;

use super::{Context, aws_for, synth_target};
use crate::cli::{Failure, TargetArgs};

/// Deploys `argus-toolkit` in the account and Region of `stage` (no changes when it is up to
/// date) and reports its assets bucket; returns the bucket's name.
///
/// # Errors
/// A [`Failure`] from synthesis, the deploy, or a toolkit stack without its output.
pub async fn bootstrap(
    context: &Context,
    stage: &str,
    report: &dyn Reporter,
) -> Result<String, Failure> {
    let toolkit = TargetArgs {
        stage: None,
        stack: Some(TOOLKIT_STACK_NAME.to_owned()),
    };
    let (target, synthesized, _) = synth_target(context, &toolkit, stage)?;
    let aws = aws_for(context, &target).await?;
    let outcome = deploy::deploy(
        &aws,
        &DeployRequest {
            stack_name: TOOLKIT_STACK_NAME.to_owned(),
            template_body: synthesized.template.to_json()?,
            parameters: Vec::new(),
            approval: Approval::Never,
            execute: true,
            termination_protection: false,
            template_bucket: None,
            timeout: Duration::from_secs(30 * 60),
            role_arn: None,
        },
        report,
    )
    .await?;
    let bucket = assets_bucket(&aws).await?;
    report.info(&match outcome {
        DeployOutcome::NoChanges => {
            format!("{TOOLKIT_STACK_NAME}: already bootstrapped; assets bucket {bucket}")
        }
        _ => format!("{TOOLKIT_STACK_NAME}: bootstrapped; assets bucket {bucket}"),
    });
    Ok(bucket)
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
