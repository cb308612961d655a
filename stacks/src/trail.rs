//! The `argus-audit` stack: the account-level CloudTrail trail that records every Rekognition
//! call (management events) and every object-level S3 call on the stages' input buckets (data
//! events), into a protected, retained log bucket.

use argus_cdk::constructs::{
    AccessLogs, Bucket, BucketProps, Key, KeyProps, RemovalPolicy, Trail, TrailProps,
};
use argus_cdk::iam::{Principal, Statement};
use argus_cdk::template::DeletionPolicy;
use argus_cdk::{Expr, Output, Stack, SynthError};

use crate::config::StageConfig;

/// The audit trail stack's name.
pub const TRAIL_STACK_NAME: &str = "argus-audit";

/// Builds the audit trail stack for the given (deployed, non-local) stages.
///
/// # Errors
/// [`SynthError`] when a construct rejects a value.
pub fn trail_stack(stages: &[StageConfig]) -> Result<Stack, SynthError> {
    let mut stack = Stack::new(
        TRAIL_STACK_NAME,
        "Argus audit: account-level CloudTrail trail recording Rekognition calls and S3 data events of the stage input buckets",
    )?;
    stack.set_termination_protection(true);
    let access_logs =
        Bucket::new_access_log_bucket(&mut stack, "AccessLogs", RemovalPolicy::Retain)?;
    let trail_bucket = Bucket::new(
        &mut stack,
        "TrailBucket",
        BucketProps {
            bucket_name: Some("argus-trail-${AWS::AccountId}-${AWS::Region}".into()),
            server_access_logs: Some(AccessLogs {
                bucket: access_logs,
                prefix: "trail/".into(),
            }),
            removal_policy: RemovalPolicy::Retain,
            ..BucketProps::default()
        },
    )?;
    // Immutable: nobody deletes a log file or a version of one.
    trail_bucket.add_to_resource_policy(
        &mut stack,
        Statement::deny(
            ["s3:DeleteObject", "s3:DeleteObjectVersion"],
            vec![trail_bucket.arn_for_objects("*")],
        )
        .with_sid("DenyLogDeletion")
        .with_principal(Principal::Any),
    )?;
    let data_buckets: Vec<Expr> = stages
        .iter()
        .map(|s| Expr::arn("s3", "", "", &format!("{}/", s.input_bucket_name())))
        .collect();
    let key = Key::new(
        &mut stack,
        "TrailKey",
        KeyProps {
            description: "Encrypts the Argus audit trail's log files (SSE-KMS)".into(),
        },
    )?;
    stack
        .resource_mut(&key.logical_id)?
        .apply_removal_policy(DeletionPolicy::Retain);
    let trail = Trail::new(
        &mut stack,
        "Trail",
        TrailProps {
            trail_name: "argus-audit-trail".into(),
            bucket: trail_bucket.clone(),
            s3_data_event_buckets: data_buckets,
            key: Some(key),
        },
    )?;
    stack.suppress_all(
        "S3-KMS",
        "the bucket default is SSE-S3 for the access logs (S3 logging cannot use SSE-KMS); trail log files are SSE-KMS with the trail key",
    )?;
    stack.suppress_all(
        "S3-OBJECT-LOCK",
        "deleting log files is denied by the bucket policy; Object Lock can only be set on a new bucket, and this one is retained by name",
    )?;
    stack.suppress(
        &trail_bucket.logical_id,
        "S3-EVENT-NOTIFICATIONS",
        "CloudTrail itself is the record of what is written here; log files are read on demand by `argus audit`",
    )?;
    stack.suppress_all(
        "S3-REPLICATION",
        "a single-Region audit store; the trail itself is multi-Region",
    )?;
    stack.suppress(
        &trail.logical_id,
        "TRAIL-CLOUDWATCH-LOGS",
        "the trail is read from its bucket by `argus audit`; a CloudWatch Logs copy would double the retained audit data with no reader",
    )?;
    stack.suppress(
        &trail.logical_id,
        "TRAIL-SNS",
        "log files are read on demand by `argus audit`; no delivery notifications needed",
    )?;
    stack.add_output(
        "TrailBucketName",
        Output::new(
            "Bucket holding the CloudTrail log files",
            trail_bucket.name(),
        ),
    );
    stack.add_output("TrailArn", Output::new("The audit trail", trail.arn()));
    Ok(stack)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::app::AUDITED_STAGES;

    #[test]
    fn the_trail_records_every_region_and_the_stage_input_buckets() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let stages: Vec<_> = AUDITED_STAGES
            .iter()
            .map(|s| StageConfig::load(&dir, s).unwrap())
            .collect();
        let synth = trail_stack(&stages).unwrap().synth().unwrap();
        assert_eq!(synth.report.unsuppressed_errors().count(), 0);
        let trail = &synth.template.resources["Trail"];
        assert_eq!(trail.property("IsMultiRegionTrail"), Some(&json!(true)));
        assert_eq!(
            trail.property("IncludeGlobalServiceEvents"),
            Some(&json!(true))
        );
        assert_eq!(
            trail.property("EnableLogFileValidation"),
            Some(&json!(true))
        );
        assert_eq!(
            trail.property("EventSelectors.0.DataResources.0.Values"),
            Some(&json!([
                {"Fn::Sub": "arn:${AWS::Partition}:s3:::argus-beta-input-${AWS::AccountId}-eu-west-1/"},
                {"Fn::Sub": "arn:${AWS::Partition}:s3:::argus-prod-input-${AWS::AccountId}-eu-west-1/"}
            ]))
        );
        let statements = synth.template.resources["TrailBucketPolicy"]
            .property("PolicyDocument.Statement")
            .unwrap()
            .clone();
        let sids: Vec<_> = statements
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        for sid in [
            "DenyInsecureTransport",
            "DenyLogDeletion",
            "CloudTrailAclCheck",
            "CloudTrailWrite",
        ] {
            assert!(sids.contains(&sid), "{sid} missing from {sids:?}");
        }
        let write = statements
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == "CloudTrailWrite")
            .unwrap();
        assert!(
            write["Condition"]["StringEquals"]["aws:SourceArn"]["Fn::Sub"]
                .as_str()
                .unwrap()
                .ends_with(":trail/argus-audit-trail")
        );
        assert!(synth.termination_protection);
    }
}
