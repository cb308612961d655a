//! [`Trail`]: a CloudTrail trail (multi-Region, global service events, log file validation) with
//! the bucket policy CloudTrail requires.

use crate::constructs::bucket::Bucket;
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
        let trail_arn = Expr::sub(format!(
            "arn:${{AWS::Partition}}:cloudtrail:${{AWS::Region}}:${{AWS::AccountId}}:trail/{}",
            props.trail_name
        ));
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
            Statement::allow(["s3:PutObject"], vec![props.bucket.arn_for_objects("AWSLogs/${AWS::AccountId}/*")])
                .with_sid("CloudTrailWrite")
                .with_principal(cloudtrail())
                .with_condition("StringEquals", "s3:x-amz-acl", "bucket-owner-full-control".into())
                .with_condition("StringEquals", "aws:SourceArn", trail_arn),
        )?;
        let data_resources = if props.s3_data_event_buckets.is_empty() {
            Vec::new()
        } else {
            vec![DataResource { resource_type: "AWS::S3::Object".into(), values: props.s3_data_event_buckets }]
        };
        let cfn = CfnTrail {
            trail_name: Some(Expr::interpolate(&props.trail_name)),
            s3_bucket_name: props.bucket.name(),
            s3_key_prefix: None,
            is_logging: true,
            is_multi_region_trail: Some(true),
            include_global_service_events: Some(true),
            enable_log_file_validation: Some(true),
            kms_key_id: None,
            event_selectors: vec![EventSelector {
                read_write_type: "All".into(),
                include_management_events: true,
                data_resources,
            }],
        };
        let logical_id = stack.add(path, &cfn)?;
        stack.resource_mut(&logical_id)?.depends_on.insert(props.bucket.policy_id.clone());
        Ok(Trail { logical_id })
    }

    /// `{"Fn::GetAtt": [trail, "Arn"]}`.
    pub fn arn(&self) -> Expr {
        Expr::get_att(&self.logical_id, "Arn")
    }
}
