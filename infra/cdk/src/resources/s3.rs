//! `AWS::S3::Bucket` and `AWS::S3::BucketPolicy`.

use serde::Serialize;
use serde_with::skip_serializing_none;

use crate::iam::PolicyDocument;
use crate::intrinsic::Expr;
use crate::template::CfnResource;

/// `AWS::S3::Bucket` properties.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnBucket {
    /// Globally unique bucket name (3-63 lowercase characters).
    pub bucket_name: Option<Expr>,
    /// Default encryption.
    pub bucket_encryption: Option<BucketEncryption>,
    /// Block Public Access settings.
    pub public_access_block_configuration: Option<PublicAccessBlockConfiguration>,
    /// Object ownership (ACLs disabled with `BucketOwnerEnforced`).
    pub ownership_controls: Option<OwnershipControls>,
    /// Versioning.
    pub versioning_configuration: Option<VersioningConfiguration>,
    /// Lifecycle rules.
    pub lifecycle_configuration: Option<LifecycleConfiguration>,
    /// Server access logging.
    pub logging_configuration: Option<LoggingConfiguration>,
    /// Event notifications.
    pub notification_configuration: Option<NotificationConfiguration>,
    /// Object Lock (write-once-read-many); must be set at creation.
    pub object_lock_enabled: Option<bool>,
}

impl CfnResource for CfnBucket {
    const TYPE: &'static str = "AWS::S3::Bucket";
}

/// `BucketEncryption`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketEncryption {
    /// Rules (one).
    pub server_side_encryption_configuration: Vec<ServerSideEncryptionRule>,
}

/// `ServerSideEncryptionRule`.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServerSideEncryptionRule {
    /// The default applied to new objects.
    pub server_side_encryption_by_default: ServerSideEncryptionByDefault,
    /// S3 Bucket Key for SSE-KMS.
    pub bucket_key_enabled: Option<bool>,
}

/// `ServerSideEncryptionByDefault`.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize)]
pub struct ServerSideEncryptionByDefault {
    /// `AES256` (SSE-S3) or `aws:kms`.
    #[serde(rename = "SSEAlgorithm")]
    pub sse_algorithm: String,
    /// KMS key for `aws:kms`.
    #[serde(rename = "KMSMasterKeyID")]
    pub kms_master_key_id: Option<Expr>,
}

/// `PublicAccessBlockConfiguration`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicAccessBlockConfiguration {
    /// Reject PUTs with public ACLs.
    pub block_public_acls: bool,
    /// Reject public bucket policies.
    pub block_public_policy: bool,
    /// Ignore public ACLs.
    pub ignore_public_acls: bool,
    /// Restrict access under a public policy to the account and services.
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlockConfiguration {
    /// All four settings on.
    pub fn block_all() -> Self {
        PublicAccessBlockConfiguration {
            block_public_acls: true,
            block_public_policy: true,
            ignore_public_acls: true,
            restrict_public_buckets: true,
        }
    }
}

/// `OwnershipControls`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipControls {
    /// Rules (one).
    pub rules: Vec<OwnershipControlsRule>,
}

/// `OwnershipControlsRule`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipControlsRule {
    /// `BucketOwnerEnforced`, `BucketOwnerPreferred` or `ObjectWriter`.
    pub object_ownership: String,
}

/// `VersioningConfiguration`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersioningConfiguration {
    /// `Enabled` or `Suspended`.
    pub status: String,
}

/// `LifecycleConfiguration`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleConfiguration {
    /// The rules.
    pub rules: Vec<LifecycleRule>,
}

/// `Rule` of a lifecycle configuration.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleRule {
    /// Rule ID.
    pub id: String,
    /// `Enabled` or `Disabled`.
    pub status: String,
    /// Key prefix the rule applies to.
    pub prefix: Option<String>,
    /// Days after creation that current versions expire.
    pub expiration_in_days: Option<u32>,
    /// When noncurrent versions are removed.
    pub noncurrent_version_expiration: Option<NoncurrentVersionExpiration>,
    /// When incomplete multipart uploads are aborted.
    pub abort_incomplete_multipart_upload: Option<AbortIncompleteMultipartUpload>,
    /// Remove delete markers with no noncurrent versions left.
    pub expired_object_delete_marker: Option<bool>,
}

/// `NoncurrentVersionExpiration`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NoncurrentVersionExpiration {
    /// Days after a version becomes noncurrent.
    pub noncurrent_days: u32,
}

/// `AbortIncompleteMultipartUpload`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AbortIncompleteMultipartUpload {
    /// Days after the upload started.
    pub days_after_initiation: u32,
}

/// `LoggingConfiguration` (server access logs).
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfiguration {
    /// The bucket the logs go to.
    pub destination_bucket_name: Option<Expr>,
    /// Key prefix of the log objects.
    pub log_file_prefix: Option<String>,
}

/// `NotificationConfiguration`.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NotificationConfiguration {
    /// Notifications to SQS queues.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub queue_configurations: Vec<QueueConfiguration>,
}

/// `QueueConfiguration`.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueueConfiguration {
    /// The event type, e.g. `s3:ObjectCreated:*`.
    pub event: String,
    /// The queue ARN.
    pub queue: Expr,
    /// Key filter.
    pub filter: Option<NotificationFilter>,
}

/// `NotificationFilter`.
#[derive(Clone, Debug, Serialize)]
pub struct NotificationFilter {
    /// Key name rules.
    #[serde(rename = "S3Key")]
    pub s3_key: S3KeyFilter,
}

/// `S3KeyFilter`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3KeyFilter {
    /// `prefix` / `suffix` rules.
    pub rules: Vec<FilterRule>,
}

/// `FilterRule`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FilterRule {
    /// `prefix` or `suffix`.
    pub name: String,
    /// The value matched (case-sensitive).
    pub value: String,
}

/// `AWS::S3::BucketPolicy` properties.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnBucketPolicy {
    /// The bucket name.
    pub bucket: Expr,
    /// The policy.
    pub policy_document: PolicyDocument,
}

impl CfnResource for CfnBucketPolicy {
    const TYPE: &'static str = "AWS::S3::BucketPolicy";
}
