//! The toolkit stack (`argus-toolkit` by default): what `bootstrap` deploys once per account and
//! Region before any app stack, like the CDK's `CDKToolkit` stack. It holds the assets bucket that
//! Lambda bundles and large templates are published to. Its name, qualifier and description are
//! [`ToolkitSettings`] (as the CDK's `--toolkit-stack-name` and `--qualifier`:
//! <https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-customizing.html>).

use crate::constructs::{AccessLogs, Bucket, BucketProps, RemovalPolicy};
use crate::error::SynthError;
use crate::stack::{Stack, StackSettings};
use crate::template::Output;

/// The default toolkit stack name.
pub const TOOLKIT_STACK_NAME: &str = "argus-toolkit";

/// The default qualifier, which names the assets bucket (`argus-assets-<account>-<region>`).
pub const TOOLKIT_QUALIFIER: &str = "argus";

/// The default toolkit stack description.
pub const TOOLKIT_DESCRIPTION: &str = "Argus toolkit: the assets bucket that deployments publish Lambda bundles and large templates to.";

/// What the toolkit stack is called and how its assets bucket is named. `Default` is Argus's
/// (`argus-toolkit`, qualifier `argus`).
#[derive(Clone, Debug)]
pub struct ToolkitSettings {
    /// The stack name (a CloudFormation stack name: letters, digits, hyphens).
    pub stack_name: String,
    /// The qualifier that names the assets bucket ([`assets_bucket_name`]): lowercase letters,
    /// digits and hyphens, so the bucket name is valid.
    pub qualifier: String,
    /// The stack description.
    pub description: String,
    /// Metadata keys, policy names and rules of the stack.
    pub stack: StackSettings,
}

impl Default for ToolkitSettings {
    fn default() -> Self {
        ToolkitSettings {
            stack_name: TOOLKIT_STACK_NAME.to_owned(),
            qualifier: TOOLKIT_QUALIFIER.to_owned(),
            description: TOOLKIT_DESCRIPTION.to_owned(),
            stack: StackSettings::default(),
        }
    }
}

impl ToolkitSettings {
    /// The assets bucket's name template for these settings.
    pub fn assets_bucket_name(&self) -> String {
        assets_bucket_name(&self.qualifier)
    }
}

/// The output that holds the assets bucket's name.
pub const ASSETS_BUCKET_OUTPUT: &str = "AssetsBucketName";

/// The assets bucket's deterministic name (`Fn::Sub` template) for a qualifier such as `argus`:
/// `<qualifier>-assets-${AWS::AccountId}-${AWS::Region}`.
pub fn assets_bucket_name(qualifier: &str) -> String {
    format!("{qualifier}-assets-${{AWS::AccountId}}-${{AWS::Region}}")
}

/// Builds the default toolkit stack ([`TOOLKIT_STACK_NAME`]) with the assets bucket named by
/// `qualifier`; see [`toolkit_stack_with`].
///
/// # Errors
/// As [`toolkit_stack_with`].
pub fn toolkit_stack(qualifier: &str) -> Result<Stack, SynthError> {
    toolkit_stack_with(&ToolkitSettings {
        qualifier: qualifier.to_owned(),
        ..ToolkitSettings::default()
    })
}

/// Builds the toolkit stack: an assets bucket (secure defaults, noncurrent versions expire after
/// 30 days) whose server access logs go to a second bucket. Both are retained when the stack is
/// deleted, since deployed stacks still point at their assets.
///
/// # Errors
/// As [`Stack::with_settings`] and [`Stack::add`]; [`SynthError::InvalidConstruct`] for a
/// qualifier that is empty or not lowercase letters, digits and hyphens.
pub fn toolkit_stack_with(settings: &ToolkitSettings) -> Result<Stack, SynthError> {
    let q = &settings.qualifier;
    if q.is_empty()
        || !q
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(SynthError::InvalidConstruct {
            construct: settings.stack_name.clone(),
            reason: format!(
                "qualifier `{q}` must be lowercase letters, digits and hyphens (it names a bucket)"
            ),
        });
    }
    let mut stack = Stack::with_settings(
        &settings.stack_name,
        &settings.description,
        settings.stack.clone(),
    )?;
    let qualifier = q.as_str();
    let logs = Bucket::new_access_log_bucket(&mut stack, "AccessLogs", RemovalPolicy::Retain)?;
    let assets = Bucket::new(
        &mut stack,
        "Assets",
        BucketProps {
            bucket_name: Some(assets_bucket_name(qualifier)),
            server_access_logs: Some(AccessLogs {
                bucket: logs,
                prefix: "assets/".into(),
            }),
            ..BucketProps::default()
        },
    )?;
    stack.suppress_all(
        "S3-KMS",
        "SSE-S3 lets Lambda and S3 access logging read and write with no KMS key grants",
    )?;
    stack.suppress_all(
        "S3-OBJECT-LOCK",
        "a bundle is never overwritten in place: its key is its SHA-256, uploads are checksum-verified and functions pin the object version",
    )?;
    stack.suppress(
        &assets.logical_id,
        "S3-EVENT-NOTIFICATIONS",
        "only deploys write here, and they read back what they wrote; nothing consumes events",
    )?;
    stack.suppress_all(
        "S3-REPLICATION",
        "assets are rebuilt from source and logs are regional; no cross-Region copy is needed",
    )?;
    stack.add_output(
        ASSETS_BUCKET_OUTPUT,
        Output::new(
            "Bucket that Lambda bundles and large templates are published to",
            assets.name(),
        ),
    );
    Ok(stack)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::intrinsic::Expr;
    use crate::stack::SynthesizedStack;
    use crate::test_support::{RETAINED, assert_same_synth, policy_statements, removal_policies};

    fn synth() -> SynthesizedStack {
        toolkit_stack("argus").unwrap().synth().unwrap()
    }

    #[test]
    fn toolkit_stack_synthesizes_with_no_unsuppressed_errors() {
        let synth = synth();
        assert_eq!(synth.name, TOOLKIT_STACK_NAME);
        let errors: Vec<String> = synth
            .report
            .unsuppressed_errors()
            .map(|f| format!("{} {}", f.logical_id, f.rule))
            .collect();
        assert_eq!(errors, Vec::<String>::new());
    }

    #[test]
    fn toolkit_stack_outputs_the_assets_bucket_name() {
        let synth = synth();
        let output = &synth.template.outputs[ASSETS_BUCKET_OUTPUT];
        assert_eq!(output.value, Expr::reference("Assets"));
        assert_eq!(
            synth.template.resources["Assets"].resource_type,
            "AWS::S3::Bucket"
        );
    }

    #[test]
    fn assets_bucket_is_named_by_qualifier_account_and_region_and_logs_to_the_log_bucket() {
        assert_eq!(
            assets_bucket_name("argus"),
            "argus-assets-${AWS::AccountId}-${AWS::Region}"
        );
        let synth = toolkit_stack("acme").unwrap().synth().unwrap();
        let assets = &synth.template.resources["Assets"];
        assert_eq!(
            assets.property("BucketName"),
            Some(&json!({"Fn::Sub": "acme-assets-${AWS::AccountId}-${AWS::Region}"}))
        );
        assert_eq!(
            assets.property("LoggingConfiguration"),
            Some(
                &json!({"DestinationBucketName": {"Ref": "AccessLogs"}, "LogFilePrefix": "assets/"})
            )
        );
        assert_eq!(
            assets.property("VersioningConfiguration.Status"),
            Some(&json!("Enabled"))
        );
    }

    #[test]
    fn access_log_bucket_accepts_logs_only_from_the_assets_bucket() {
        let synth = synth();
        let statements = policy_statements(&synth, "AccessLogsPolicy");
        let allows: Vec<&serde_json::Value> = statements
            .iter()
            .filter(|s| s["Effect"] == "Allow")
            .collect();
        assert_eq!(
            allows,
            vec![&json!({
                "Sid": "S3ServerAccessLogsAssets",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": ["s3:PutObject"],
                "Resource": [{"Fn::Sub": "${AccessLogs.Arn}/assets/*"}],
                "Condition": {
                    "ArnLike": {"aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:s3:::argus-assets-${AWS::AccountId}-${AWS::Region}"}},
                    "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
                }
            })]
        );
    }

    #[test]
    fn access_log_bucket_expires_logs_after_a_year() {
        let synth = synth();
        let rules = synth.template.resources["AccessLogs"]
            .property("LifecycleConfiguration.Rules")
            .unwrap();
        assert!(rules.as_array().unwrap().contains(
            &json!({"Id": "expire-objects", "Status": "Enabled", "ExpirationInDays": 365})
        ));
    }

    #[test]
    fn both_buckets_and_their_policies_are_retained() {
        let synth = synth();
        for id in ["Assets", "AssetsPolicy", "AccessLogs", "AccessLogsPolicy"] {
            let r = &synth.template.resources[id];
            assert_eq!(removal_policies(r), RETAINED, "{id}");
        }
    }

    #[test]
    fn suppressions_are_written_to_the_metadata_of_each_bucket() {
        let synth = synth();
        let ids = |logical_id: &str, section: &str, list: &str| -> Vec<String> {
            synth.template.resources[logical_id].metadata[section][list]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            ids("AccessLogs", "argus", "suppressions"),
            vec![
                "S3-ACCESS-LOGS",
                "S3-EVENT-NOTIFICATIONS",
                "S3-KMS",
                "S3-REPLICATION",
                "S3-OBJECT-LOCK"
            ]
        );
        assert_eq!(
            ids("AccessLogs", "checkov", "skip"),
            vec!["CKV_AWS_18", "CKV_AWS_145", "CKV_AWS_144"]
        );
        assert_eq!(
            ids("Assets", "argus", "suppressions"),
            vec![
                "S3-EVENT-NOTIFICATIONS",
                "S3-KMS",
                "S3-REPLICATION",
                "S3-OBJECT-LOCK"
            ]
        );
        let guard = &synth.template.resources["Assets"].metadata["guard"]["SuppressedRules"];
        assert_eq!(
            guard,
            &json!([
                "s3_event_notifications_enabled_check",
                "s3_bucket_default_encryption_kms_check",
                "s3_bucket_object_lock_enabled_check"
            ])
        );
        assert_eq!(
            ids("Assets", "checkov", "skip"),
            vec!["CKV_AWS_145", "CKV_AWS_144"]
        );
        let skip = &synth.template.resources["Assets"].metadata["checkov"]["skip"][0];
        assert!(
            skip["comment"]
                .as_str()
                .unwrap()
                .starts_with("SSE-S3 lets Lambda")
        );
    }

    #[test]
    fn toolkit_template_is_byte_identical_across_builds() {
        assert_same_synth(|| toolkit_stack("argus").unwrap());
    }

    #[test]
    fn toolkit_settings_name_the_stack_and_the_assets_bucket() {
        let settings = ToolkitSettings {
            stack_name: "photo-toolkit".into(),
            qualifier: "photos".into(),
            description: "Photo archive toolkit".into(),
            ..ToolkitSettings::default()
        };
        let synth = toolkit_stack_with(&settings).unwrap().synth().unwrap();
        assert_eq!(synth.name, "photo-toolkit");
        assert_eq!(
            synth.template.description.as_deref(),
            Some("Photo archive toolkit")
        );
        assert_eq!(
            synth.template.resources["Assets"].property("BucketName"),
            Some(&json!({"Fn::Sub": settings.assets_bucket_name()}))
        );
        let default = ToolkitSettings::default();
        assert_eq!(
            (default.stack_name.as_str(), default.qualifier.as_str()),
            (TOOLKIT_STACK_NAME, "argus")
        );
        for bad in ["", "Photos", "photos_1"] {
            let settings = ToolkitSettings {
                qualifier: bad.into(),
                ..ToolkitSettings::default()
            };
            assert!(toolkit_stack_with(&settings).is_err(), "{bad:?}");
        }
    }
}
