//! [`Trail`]: a CloudTrail trail (multi-Region, global service events, log file validation) with
//! the bucket policy CloudTrail requires.

use crate::constructs::bucket::Bucket;
use crate::constructs::key::Key;
use crate::error::SynthError;
use crate::iam::{Principal, Statement};
use crate::intrinsic::Expr;
use crate::resources::cloudtrail::{CfnTrail, DataResource, EventSelector};
use crate::stack::Stack;

/// Trail settings.
#[derive(Clone, Debug)]
pub struct TrailProps {
    /// The trail name (`Fn::Sub` template); deterministic so the bucket policy can name the
    /// trail in `aws:SourceArn` before the trail exists.
    pub trail_name: String,
    /// The bucket log files go to.
    pub bucket: Bucket,
    /// Buckets (ARNs) whose object-level API calls are recorded as S3 data events.
    pub s3_data_event_buckets: Vec<Expr>,
    /// The customer managed key log files are encrypted with (SSE-KMS); its key policy gets the
    /// statements CloudTrail needs, limited to this trail. `None`: SSE-S3 (the bucket's default).
    pub key: Option<Key>,
}

/// A CloudTrail trail in a stack.
#[derive(Clone, Debug, PartialEq)]
pub struct Trail {
    /// The trail's logical ID.
    pub logical_id: String,
}

impl Trail {
    /// Adds an `AWS::CloudTrail::Trail` at `path` recording management events (every Rekognition
    /// call among them) in all Regions, plus S3 data events for the given buckets, and adds to the
    /// bucket's policy the two statements CloudTrail needs, each limited by `aws:SourceArn`
    /// (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html>).
    ///
    /// # Errors
    /// As [`Stack::add`].
    pub fn new(stack: &mut Stack, path: &str, props: TrailProps) -> Result<Self, SynthError> {
        let trail_arn = Expr::arn(
            "cloudtrail",
            "${AWS::Region}",
            "${AWS::AccountId}",
            &format!("trail/{}", props.trail_name),
        );
        let cloudtrail = || Principal::Service("cloudtrail.amazonaws.com".into());
        props.bucket.add_to_resource_policy(
            stack,
            Statement::allow(["s3:GetBucketAcl"], vec![props.bucket.arn()])
                .with_sid("CloudTrailAclCheck")
                .with_principal(cloudtrail())
                .with_condition("StringEquals", "aws:SourceArn", trail_arn.clone()),
        )?;
        props.bucket.add_to_resource_policy(
            stack,
            Statement::allow(
                ["s3:PutObject"],
                vec![props.bucket.arn_for_objects("AWSLogs/${AWS::AccountId}/*")],
            )
            .with_sid("CloudTrailWrite")
            .with_principal(cloudtrail())
            .with_condition(
                "StringEquals",
                "s3:x-amz-acl",
                "bucket-owner-full-control".into(),
            )
            .with_condition("StringEquals", "aws:SourceArn", trail_arn.clone()),
        )?;
        if let Some(key) = &props.key {
            // <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html>
            stack.add_statement(
                &key.logical_id,
                Statement::allow(["kms:GenerateDataKey"], vec!["*".into()])
                    .with_sid("CloudTrailEncryptLogs")
                    .with_principal(cloudtrail())
                    .with_condition("StringEquals", "aws:SourceArn", trail_arn.clone())
                    .with_condition(
                        "StringLike",
                        "kms:EncryptionContext:aws:cloudtrail:arn",
                        Expr::arn("cloudtrail", "*", "${AWS::AccountId}", "trail/*"),
                    ),
            )?;
            stack.add_statement(
                &key.logical_id,
                Statement::allow(["kms:DescribeKey"], vec!["*".into()])
                    .with_sid("CloudTrailDescribeKey")
                    .with_principal(cloudtrail())
                    .with_condition("StringEquals", "aws:SourceArn", trail_arn.clone()),
            )?;
        }
        let data_resources = if props.s3_data_event_buckets.is_empty() {
            Vec::new()
        } else {
            vec![DataResource {
                resource_type: "AWS::S3::Object".into(),
                values: props.s3_data_event_buckets,
            }]
        };
        let cfn = CfnTrail {
            trail_name: Some(Expr::interpolate(&props.trail_name)),
            s3_bucket_name: props.bucket.name(),
            s3_key_prefix: None,
            is_logging: true,
            is_multi_region_trail: Some(true),
            include_global_service_events: Some(true),
            enable_log_file_validation: Some(true),
            kms_key_id: props.key.as_ref().map(Key::arn),
            event_selectors: vec![EventSelector {
                read_write_type: "All".into(),
                include_management_events: true,
                data_resources,
            }],
        };
        let logical_id = stack.add(path, &cfn)?;
        stack
            .resource_mut(&logical_id)?
            .depends_on
            .insert(props.bucket.policy_id.clone());
        Ok(Trail { logical_id })
    }

    /// `{"Fn::GetAtt": [trail, "Arn"]}`.
    pub fn arn(&self) -> Expr {
        Expr::get_att(&self.logical_id, "Arn")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::constructs::bucket::BucketProps;
    use crate::test_support::{policy_statements, stack, synth_resource};

    const TRAIL_ARN: &str = "arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/${AWS::StackName}-trail";

    fn trail(stack: &mut Stack, data_buckets: Vec<Expr>) -> (Bucket, Trail) {
        let bucket = Bucket::new(stack, "TrailLogs", BucketProps::default()).unwrap();
        let props = TrailProps {
            trail_name: "${AWS::StackName}-trail".into(),
            bucket: bucket.clone(),
            s3_data_event_buckets: data_buckets,
            key: None,
        };
        let trail = Trail::new(stack, "Trail", props).unwrap();
        (bucket, trail)
    }

    fn statement<'a>(statements: &'a [Value], sid: &str) -> &'a Value {
        statements.iter().find(|s| s["Sid"] == sid).unwrap()
    }

    #[test]
    fn trail_records_all_regions_global_events_and_validates_logs() {
        let mut stack = stack();
        let (_, trail) = trail(&mut stack, Vec::new());
        let (synth, r) = synth_resource(&stack, &trail.logical_id);
        assert_eq!(r.resource_type, "AWS::CloudTrail::Trail");
        assert_eq!(r.property("IsMultiRegionTrail"), Some(&json!(true)));
        assert_eq!(r.property("IncludeGlobalServiceEvents"), Some(&json!(true)));
        assert_eq!(r.property("EnableLogFileValidation"), Some(&json!(true)));
        assert_eq!(r.property("IsLogging"), Some(&json!(true)));
        assert_eq!(
            r.property("S3BucketName"),
            Some(&json!({"Ref": "TrailLogs"}))
        );
        assert_eq!(
            r.property("TrailName"),
            Some(&json!({"Fn::Sub": "${AWS::StackName}-trail"}))
        );
        assert_eq!(
            r.property("EventSelectors"),
            Some(&json!([{"ReadWriteType": "All", "IncludeManagementEvents": true}]))
        );
        let trail_errors: Vec<&str> = synth
            .report
            .unsuppressed_errors()
            .filter(|f| f.logical_id == "Trail")
            .map(|f| f.rule.as_str())
            .collect();
        assert_eq!(trail_errors, Vec::<&str>::new());
    }

    #[test]
    fn bucket_policy_lets_cloudtrail_check_the_acl_and_write_limited_by_source_arn() {
        let mut stack = stack();
        let (bucket, _) = trail(&mut stack, Vec::new());
        let synth = stack.synth().unwrap();
        let statements = policy_statements(&synth, &bucket.policy_id);
        assert_eq!(statements.len(), 3, "TLS deny, ACL check, write");
        assert_eq!(
            statement(&statements, "CloudTrailAclCheck"),
            &json!({
                "Sid": "CloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": ["s3:GetBucketAcl"],
                "Resource": [{"Fn::GetAtt": ["TrailLogs", "Arn"]}],
                "Condition": {"StringEquals": {"aws:SourceArn": {"Fn::Sub": TRAIL_ARN}}}
            })
        );
        assert_eq!(
            statement(&statements, "CloudTrailWrite"),
            &json!({
                "Sid": "CloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": ["s3:PutObject"],
                "Resource": [{"Fn::Sub": "${TrailLogs.Arn}/AWSLogs/${AWS::AccountId}/*"}],
                "Condition": {"StringEquals": {
                    "aws:SourceArn": {"Fn::Sub": TRAIL_ARN},
                    "s3:x-amz-acl": "bucket-owner-full-control"
                }}
            })
        );
    }

    #[test]
    fn trail_is_created_after_the_bucket_policy() {
        let mut stack = stack();
        let (bucket, trail) = trail(&mut stack, Vec::new());
        let r = stack.resource(&trail.logical_id).unwrap();
        assert_eq!(
            r.depends_on.iter().collect::<Vec<_>>(),
            vec![&bucket.policy_id]
        );
    }

    #[test]
    fn data_events_are_recorded_for_the_given_buckets_only() {
        let mut stack = stack();
        let input = Expr::sub("arn:${AWS::Partition}:s3:::input/");
        let (_, trail) = trail(&mut stack, vec![input]);
        let r = stack.resource(&trail.logical_id).unwrap();
        assert_eq!(
            r.property("EventSelectors"),
            Some(&json!([{
                "ReadWriteType": "All",
                "IncludeManagementEvents": true,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": [{"Fn::Sub": "arn:${AWS::Partition}:s3:::input/"}]}]
            }]))
        );
        assert_eq!(
            trail.arn().to_json(),
            json!({"Fn::GetAtt": ["Trail", "Arn"]})
        );
    }
}
