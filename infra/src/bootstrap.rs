//! The toolkit stack (`argus-toolkit`): what `bootstrap` deploys once per account and Region
//! before any app stack, like the CDK's `CDKToolkit` stack. It holds the assets bucket that Lambda
//! bundles and large templates are published to.

use crate::constructs::{AccessLogs, Bucket, BucketProps, RemovalPolicy};
use crate::error::SynthError;
use crate::stack::Stack;
use crate::template::Output;

/// The toolkit stack's name.
pub const TOOLKIT_STACK_NAME: &str = "argus-toolkit";

/// The output that holds the assets bucket's name.
pub const ASSETS_BUCKET_OUTPUT: &str = "AssetsBucketName";

/// The assets bucket's deterministic name (`Fn::Sub` template) for a qualifier such as `argus`:
/// `<qualifier>-assets-${AWS::AccountId}-${AWS::Region}`.
pub fn assets_bucket_name(qualifier: &str) -> String {
    format!("{qualifier}-assets-${{AWS::AccountId}}-${{AWS::Region}}")
}

/// Builds the toolkit stack: an assets bucket (secure defaults, noncurrent versions expire after
/// 30 days) whose server access logs go to a second bucket. Both are retained when the stack is
/// deleted, since deployed stacks still point at their assets.
///
/// # Errors
/// As [`Stack::add`].
pub fn toolkit_stack(qualifier: &str) -> Result<Stack, SynthError> {
    let mut stack = Stack::new(TOOLKIT_STACK_NAME, "Argus toolkit: the assets bucket that deployments publish Lambda bundles and large templates to.")?;
    let logs = Bucket::new(
        &mut stack,
        "AccessLogs",
        BucketProps { expiration_days: Some(365), removal_policy: RemovalPolicy::Retain, ..BucketProps::default() },
    )?;
    stack.suppress(&logs.logical_id, "S3-ACCESS-LOGS", "this is the access-log bucket; logging it to itself would loop")?;
    let assets = Bucket::new(
        &mut stack,
        "Assets",
        BucketProps {
            bucket_name: Some(assets_bucket_name(qualifier)),
            server_access_logs: Some(AccessLogs { bucket: logs, prefix: "assets/".into() }),
            ..BucketProps::default()
        },
    )?;
    stack.suppress_all("S3-KMS", "SSE-S3 lets Lambda and S3 access logging read and write with no KMS key grants")?;
    stack.suppress_all("S3-REPLICATION", "assets are rebuilt from source and logs are regional; no cross-Region copy is needed")?;
    stack.add_output(ASSETS_BUCKET_OUTPUT, Output::new("Bucket that Lambda bundles and large templates are published to", assets.name()));
    Ok(stack)
}
