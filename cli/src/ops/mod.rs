//! The operations behind the `argus` commands, in the way cargo's `ops::*` sit behind its
//! `commands/*.rs`: each takes typed options and a [`Reporter`](argus_toolkit::report::Reporter)
//! for what a user should see, and returns data or a [`Failure`]; the commands only parse, call
//! and print.
//!
//! - [`bundle`]: build a stack's Lambda assets with cargo-lambda;
//! - [`bootstrap`]: deploy the toolkit stack and find its assets bucket;
//! - [`deploy`]: publish a stack's assets and deploy it through a change set;
//! - [`analyze`]: analyse one image exactly as the deployed processor does;
//! - [`audit_trail`]: read the audit trail (CloudTrail) into Rekognition calls;
//! - [`demo`]: the whole pipeline on the sample images on the local twin;
//! - [`diagram`]: the architecture drawing of a synthesized template (SVG, DOT, Mermaid).
//! - [`watch`]: rebuild, hotswap and tail logs on every change (`argus watch`).
//! - [`events`]: realistic Lambda events (S3, SQS, HTTP API) with the aws_lambda_events types;
//! - [`invoke`]: find a stage's deployed function and invoke it with such an event;
//! - [`logs`]: the functions' CloudWatch Logs, rendered as columns.
//! - [`report`]: the HTML results report of a stage.

pub mod analyze;
pub mod audit_trail;
pub mod bootstrap;
pub mod bundle;
pub mod demo;
pub mod deploy;
pub mod diagram;
pub mod events;
pub mod invoke;
pub mod logs;
pub mod report;
pub mod watch;

use std::path::PathBuf;

use argus_cdk::assembly::{Assembly, TemplateFormat, Written};
use argus_cdk::stack::SynthesizedStack;
use argus_toolkit::aws::AwsContext;

use crate::cli::{Failure, TargetArgs};
use argus_stacks::app::{self, Selection, Target};
use argus_stacks::config::StageConfig;

/// Global options every command sees.
#[derive(Clone, Debug)]
pub struct Context {
    /// `--config-dir`.
    pub config_dir: PathBuf,
    /// `--out`: the cloud assembly folder.
    pub out: PathBuf,
    /// AWS clients to use instead of loading the default chain (the demo points them at the twin
    /// it started).
    pub aws: Option<AwsContext>,
}

/// The stage whose Region the account-level stacks use when a command names them.
pub const ACCOUNT_STACK_REGION_STAGE: &str = "prod";

/// Runs a future on a new tokio runtime.
///
/// # Errors
/// The future's [`Failure`], or exit code 1 when the runtime cannot start.
pub fn block_on<T>(
    future: impl std::future::Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(1, format!("cannot start the async runtime: {e}")))?
        .block_on(future)
}

/// Resolves `--stage` or `--stack` to one target and synthesizes it into the assembly folder, so every
/// command deploys exactly what `argus synth` would write.
pub fn synth_target(
    context: &Context,
    target: &TargetArgs,
    region_stage: &str,
) -> Result<(Target, SynthesizedStack, Written), Failure> {
    let selection = target.selection(&context.config_dir)?;
    let target = app::target(&context.config_dir, &selection, region_stage)?;
    let synthesized = target.stack.synth()?;
    let written = Assembly {
        stacks: vec![synthesized.clone()],
    }
    .write(&context.out, TemplateFormat::Json)?;
    Ok((target, synthesized, written))
}

/// The one stage a command works on (`--stage beta|prod|local`; `all` is refused): its config
/// and the AWS clients for its account and Region. `command` names the command in the error.
///
/// # Errors
/// [`Failure`] 2 when `stage` is not one stage or its config file is invalid; as [`aws_for`].
pub async fn one_stage(
    context: &Context,
    stage: &str,
    command: &str,
) -> Result<(StageConfig, AwsContext), Failure> {
    let selection = Selection::stage(stage)?;
    let Selection::Stage(name) = &selection else {
        return Err(Failure::new(
            2,
            format!(
                "--stage for argus {command} takes a stage: beta, prod or local, not `{stage}`"
            ),
        ));
    };
    let config = StageConfig::load(&context.config_dir, name)?;
    let target = app::target(&context.config_dir, &selection, name)?;
    let aws = aws_for(context, &target).await?;
    Ok((config, aws))
}

/// Loads AWS for the target's Region (or takes the context's clients), refusing stacks the local
/// twin cannot deploy.
pub async fn aws_for(context: &Context, target: &Target) -> Result<AwsContext, Failure> {
    let aws = match &context.aws {
        Some(aws) => aws.clone(),
        None => AwsContext::load(&target.region).await,
    };
    if aws.is_custom_endpoint() && !target.deployable_on_twin {
        return Err(Failure::new(
            1,
            format!(
                "{} needs AWS CloudTrail (AWS::CloudTrail::Trail), which the local twin (MiniStack at {}) does not provide; deploy it to a real AWS account",
                target.stack.name(),
                aws.config.endpoint_url().unwrap_or_default()
            ),
        ));
    }
    aws.ensure_region(&target.region)?;
    Ok(aws)
}
