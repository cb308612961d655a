//! Deploying a stack: publish its bundles to the assets bucket, then a change set.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use argus_toolkit::assets::{Published, publish_bytes};
use argus_toolkit::bundle::AL2023_GLIBC;
use argus_toolkit::deploy::{self, Approval, DeployOutcome, DeployRequest};
use argus_toolkit::report::Reporter;

use super::bootstrap::assets_bucket;
use super::bundle::bundle_path;
use super::{ACCOUNT_STACK_REGION_STAGE, Context, aws_for, synth_target};
use crate::cli::{Failure, TargetArgs};

/// How to deploy a stack.
#[derive(Clone, Debug)]
pub struct DeployOptions {
    /// When to ask before IAM permissions broaden.
    pub approval: Approval,
    /// Write the stack outputs as JSON (`{"<stack>": {"<key>": "<value>"}}`) to this file.
    pub outputs_file: Option<PathBuf>,
    /// Execute the change set (false: create and show it only).
    pub execute: bool,
    /// How long the stack operation may take.
    pub timeout: Duration,
    /// The role CloudFormation assumes to change the stack's resources.
    pub execution_role: Option<String>,
    /// Hotswap Lambda code and configuration through the Lambda API when nothing else changed.
    pub hotswap: bool,
    /// Allow a hotswap on a protected stage (prod).
    pub force: bool,
}

/// Synthesizes the stack `target` names, publishes its bundles from `<out>/assets/` (uploading
/// only what the assets bucket lacks), deploys it through a change set — or, with
/// [`DeployOptions::hotswap`], through the Lambda API when only function code and configuration
/// changed ([`argus_toolkit::hotswap`]) — and writes the outputs file; returns the outcome.
///
/// # Errors
/// A [`Failure`]: a hotswap of a protected stage without `force` (exit 1), a missing bundle
/// (naming the command that builds it), a missing toolkit stack, or the deploy's own errors
/// (failed resources with their reasons).
pub async fn deploy_stack(
    context: &Context,
    target: &TargetArgs,
    options: &DeployOptions,
    report: &dyn Reporter,
) -> Result<DeployOutcome, Failure> {
    let (target_stack, synthesized, _) = synth_target(context, target, ACCOUNT_STACK_REGION_STAGE)?;
    let args = target;
    let name = synthesized.name.clone();
    if options.hotswap && target_stack.protected && !options.force {
        return Err(Failure::new(
            1,
            format!(
                "{name} is a protected stage (`protected = true` in its config): --hotswap would leave it drifting from its template; deploy it through a change set, or pass --force if you mean it"
            ),
        ));
    }
    let aws = aws_for(context, &target_stack).await?;
    let mut parameters = Vec::new();
    let mut bucket = None;
    if !synthesized.assets.is_empty() {
        let assets = assets_bucket(&aws).await?;
        for asset in &synthesized.assets {
            let path = bundle_path(&context.out, asset);
            let bytes = std::fs::read(&path).map_err(|_| {
                Failure::new(1, format!(
                    "no bundle for {} ({}) at {}: run `argus bundle {}` first (make deploy-<stage> does)",
                    asset.id, asset.architecture, path.display(), args.flag()
                ))
            })?;
            // Each stack's bundles live under its own prefix (`argus-beta/…`), which only its
            // deploy role writes: one stage never deploys another's bytes.
            let key = format!("{name}/{}.zip", argus_cdk::assembly::sha256_hex(&bytes));
            let size = bytes.len();
            let published = publish_bytes(&aws, &assets, &key, bytes).await?;
            report.info(&format!(
                "{name}: asset {} {} s3://{assets}/{key} ({} bytes; bootstrap for provided.al2023, glibc <= {}.{})",
                asset.id,
                if published.outcome == Published::Uploaded {
                    "uploaded to"
                } else {
                    "already in"
                },
                size,
                AL2023_GLIBC.0,
                AL2023_GLIBC.1
            ));
            parameters.push((asset.bucket_parameter.clone(), assets.clone()));
            parameters.push((asset.key_parameter.clone(), key.clone()));
            if let Some(parameter) = &asset.version_parameter {
                let version = published.version_id.clone().ok_or_else(|| {
                    Failure::new(1, format!(
                        "s3://{assets}/{key} has no version ID: the assets bucket must be versioned (run `argus bootstrap`)"
                    ))
                })?;
                parameters.push((parameter.clone(), version));
            }
        }
        bucket = Some(assets);
    }
    parameters.sort();
    parameters.dedup();
    let request = DeployRequest {
        stack_name: name.clone(),
        // Compact JSON: the same template in fewer bytes (the inline limit is 51,200).
        template_body: serde_json::to_string(&synthesized.template.to_value()?)
            .map_err(|e| Failure::new(1, e.to_string()))?,
        parameters,
        approval: options.approval,
        execute: options.execute,
        termination_protection: synthesized.termination_protection,
        template_bucket: bucket,
        timeout: options.timeout,
        role_arn: options.execution_role.clone(),
    };
    let hotswapped = if options.hotswap && options.execute {
        argus_toolkit::hotswap::try_hotswap(&aws, &request, report).await?
    } else {
        None
    };
    let outcome = match hotswapped {
        Some(outcome) => {
            if matches!(outcome, DeployOutcome::Hotswapped { .. }) {
                report.info(&format!(
                    "{name}: run `argus deploy {}` to deploy it through a change set and end the drift",
                    args.flag()
                ));
            }
            outcome
        }
        None => deploy::deploy(&aws, &request, report).await?,
    };
    if let Some(file) = &options.outputs_file {
        let outputs = match &outcome {
            DeployOutcome::Deployed { outputs } => outputs.clone(),
            _ => deploy::describe_stack(&aws, &name)
                .await?
                .map(|s| s.outputs)
                .unwrap_or_default(),
        };
        let document = BTreeMap::from([(name.clone(), outputs)]);
        let text =
            serde_json::to_string_pretty(&document).map_err(|e| Failure::new(1, e.to_string()))?;
        std::fs::write(file, text + "\n")
            .map_err(|e| Failure::new(1, format!("cannot write {}: {e}", file.display())))?;
        report.info(&format!("{name}: outputs written to {}", file.display()));
    }
    Ok(outcome)
}
