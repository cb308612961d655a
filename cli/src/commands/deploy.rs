//! `argus deploy`: synth, publish bundles, deploy through a change set, write outputs.

use std::collections::BTreeMap;
use std::time::Duration;

use argus_toolkit::assets::{Published, publish_bytes};
use argus_toolkit::bundle::AL2023_GLIBC;
use argus_toolkit::deploy::{self, Approval, DeployOutcome, DeployRequest};

use super::bootstrap::assets_bucket;
use super::bundle::bundle_path;
use super::{Context, aws_for, synth_target};
use crate::cli::{DeployArgs, Failure, RequireApproval};
use crate::terminal::Terminal;

/// Deploys one stack.
pub async fn run(context: &Context, args: &DeployArgs) -> Result<(), Failure> {
    let (target, synthesized, _) =
        synth_target(context, &args.target, super::ACCOUNT_STACK_REGION_STAGE)?;
    let name = synthesized.name.clone();
    let aws = aws_for(context, &target).await?;
    let mut parameters = Vec::new();
    let mut bucket = None;
    if !synthesized.assets.is_empty() {
        let assets = assets_bucket(&aws).await?;
        for asset in &synthesized.assets {
            let path = bundle_path(&context.out, asset);
            let bytes = std::fs::read(&path).map_err(|_| {
                Failure::new(1, format!(
                    "no bundle for {} ({}) at {}: run `argus bundle {}` first (make deploy-<stage> does)",
                    asset.id, asset.architecture, path.display(), args.target.flag()
                ))
            })?;
            let key = format!("{}.zip", argus_cdk::assembly::sha256_hex(&bytes));
            let size = bytes.len();
            let published = publish_bytes(&aws, &assets, &key, bytes).await?;
            println!(
                "{name}: asset {} {} s3://{assets}/{key} ({} bytes; bootstrap for provided.al2023, glibc <= {}.{})",
                asset.id,
                if published == Published::Uploaded {
                    "uploaded to"
                } else {
                    "already in"
                },
                size,
                AL2023_GLIBC.0,
                AL2023_GLIBC.1
            );
            parameters.push((asset.bucket_parameter.clone(), assets.clone()));
            parameters.push((asset.key_parameter.clone(), key));
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
        approval: match args.require_approval {
            RequireApproval::Never => Approval::Never,
            RequireApproval::Broadening => Approval::Broadening,
        },
        execute: !args.no_execute,
        termination_protection: synthesized.termination_protection,
        template_bucket: bucket,
        timeout: Duration::from_secs(args.timeout * 60),
        role_arn: args.execution_role.clone(),
    };
    let outcome = deploy::deploy(&aws, &request, &Terminal).await?;
    if let Some(file) = &args.outputs_file {
        let outputs = match outcome {
            DeployOutcome::Deployed { outputs } => outputs,
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
        println!("{name}: outputs written to {}", file.display());
    }
    Ok(())
}
