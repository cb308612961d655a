//! `AWS::CloudTrail::Trail`.

use serde::Serialize;
use serde_with::skip_serializing_none;

use crate::intrinsic::Expr;
use crate::template::CfnResource;

/// `AWS::CloudTrail::Trail` properties.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnTrail {
    /// Trail name.
    pub trail_name: Option<Expr>,
    /// The bucket log files are delivered to.
    pub s3_bucket_name: Expr,
    /// Key prefix of the log files.
    pub s3_key_prefix: Option<String>,
    /// Whether the trail records.
    pub is_logging: bool,
    /// Record every Region.
    pub is_multi_region_trail: Option<bool>,
    /// Record global services (IAM, STS, …).
    pub include_global_service_events: Option<bool>,
    /// Write digest files to validate log integrity.
    pub enable_log_file_validation: Option<bool>,
    /// KMS key for SSE-KMS of the log files.
    #[serde(rename = "KMSKeyId")]
    pub kms_key_id: Option<Expr>,
    /// Management and data event selectors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub event_selectors: Vec<EventSelector>,
}

impl CfnResource for CfnTrail {
    const TYPE: &'static str = "AWS::CloudTrail::Trail";
}

/// `EventSelector`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventSelector {
    /// `All`, `ReadOnly` or `WriteOnly`.
    pub read_write_type: String,
    /// Record management events too.
    pub include_management_events: bool,
    /// Data event resources.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data_resources: Vec<DataResource>,
}

/// `DataResource`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataResource {
    /// e.g. `AWS::S3::Object`.
    #[serde(rename = "Type")]
    pub resource_type: String,
    /// ARN prefixes, e.g. `arn:${AWS::Partition}:s3:::bucket/`.
    pub values: Vec<Expr>,
}
