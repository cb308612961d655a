//! [`Bucket`]: an S3 bucket with secure defaults, grants, notifications to SQS, and access-log
//! delivery.

use crate::constructs::queue::Queue;
use crate::constructs::role::Role;
use crate::constructs::{RemovalPolicy, sid};
use crate::error::SynthError;
use crate::iam::{Principal, Statement};
use crate::intrinsic::Expr;
use crate::resources::s3::{
    AbortIncompleteMultipartUpload, BucketEncryption, CfnBucket, CfnBucketPolicy, FilterRule, LifecycleConfiguration,
    LifecycleRule, LoggingConfiguration, NoncurrentVersionExpiration, NotificationFilter,
    OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration, QueueConfiguration, S3KeyFilter,
    ServerSideEncryptionByDefault, ServerSideEncryptionRule, VersioningConfiguration,
};
use crate::iam::PolicyDocument;
use crate::stack::{PolicySlot, Stack};

/// Default encryption of new objects.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum BucketEncryptionKind {
    /// SSE-S3 (`AES256`): readable by Rekognition and S3 server access logging with no key grants.
    #[default]
    S3Managed,
    /// SSE-KMS with the given key ARN, with an S3 Bucket Key.
    Kms(Expr),
}

/// Where a bucket's server access logs go.
#[derive(Clone, Debug)]
pub struct AccessLogs {
    /// The log bucket (its policy is extended to let the S3 logging service write).
    pub bucket: Bucket,
    /// Key prefix of the log objects, e.g. `input/`.
    pub prefix: String,
}

/// Bucket settings; `Default` is the secure configuration.
#[derive(Clone, Debug)]
pub struct BucketProps {
    /// A deterministic bucket name as an `Fn::Sub` template (e.g.
    /// `${AWS::StackName}-input-${AWS::AccountId}-${AWS::Region}`), or `None` for a generated
    /// name. Needed for S3 → SQS notifications, whose queue policy must name the bucket before
    /// it exists.
    pub bucket_name: Option<String>,
    /// Default encryption (SSE-S3).
    pub encryption: BucketEncryptionKind,
    /// Versioning (on).
    pub versioned: bool,
    /// Days before noncurrent versions are deleted (30); `None` keeps them.
    pub noncurrent_version_expiration_days: Option<u32>,
    /// Days before current objects expire (`None`: never).
    pub expiration_days: Option<u32>,
    /// Server access logs (`None`: the rule pack reports `S3-ACCESS-LOGS`).
    pub server_access_logs: Option<AccessLogs>,
    /// All four Block Public Access settings (on).
    pub block_public_access: bool,
    /// A bucket policy statement denying requests without TLS (on).
    pub enforce_tls: bool,
    /// Retain (default) or destroy with the stack.
    pub removal_policy: RemovalPolicy,
}

impl Default for BucketProps {
    fn default() -> Self {
        BucketProps {
            bucket_name: None,
            encryption: BucketEncryptionKind::S3Managed,
            versioned: true,
            noncurrent_version_expiration_days: Some(30),
            expiration_days: None,
            server_access_logs: None,
            block_public_access: true,
            enforce_tls: true,
            removal_policy: RemovalPolicy::Retain,
        }
    }
}

/// An S3 bucket in a stack.
#[derive(Clone, Debug, PartialEq)]
pub struct Bucket {
    /// The bucket's logical ID.
    pub logical_id: String,
    /// The bucket policy's logical ID.
    pub policy_id: String,
    /// The construct path.
    pub path: String,
    name_template: Option<String>,
}

impl Bucket {
    /// Adds an `AWS::S3::Bucket` at `path` and its bucket policy at `path/Policy`.
    ///
    /// # Errors
    /// As [`Stack::add`].
    pub fn new(stack: &mut Stack, path: &str, props: BucketProps) -> Result<Self, SynthError> {
        let mut lifecycle = vec![LifecycleRule {
            id: "abort-incomplete-multipart-uploads".into(),
            status: "Enabled".into(),
            prefix: None,
            expiration_in_days: None,
            noncurrent_version_expiration: None,
            abort_incomplete_multipart_upload: Some(AbortIncompleteMultipartUpload { days_after_initiation: 7 }),
            expired_object_delete_marker: None,
        }];
        if let (true, Some(days)) = (props.versioned, props.noncurrent_version_expiration_days) {
            lifecycle.push(LifecycleRule {
                id: "expire-noncurrent-versions".into(),
                status: "Enabled".into(),
                prefix: None,
                expiration_in_days: None,
                noncurrent_version_expiration: Some(NoncurrentVersionExpiration { noncurrent_days: days }),
                abort_incomplete_multipart_upload: None,
                expired_object_delete_marker: None,
            });
        }
        if let Some(days) = props.expiration_days {
            lifecycle.push(LifecycleRule {
                id: "expire-objects".into(),
                status: "Enabled".into(),
                prefix: None,
                expiration_in_days: Some(days),
                noncurrent_version_expiration: None,
                abort_incomplete_multipart_upload: None,
                expired_object_delete_marker: None,
            });
        }
        let (sse_algorithm, kms_master_key_id, bucket_key_enabled) = match &props.encryption {
            BucketEncryptionKind::S3Managed => ("AES256", None, None),
            BucketEncryptionKind::Kms(key) => ("aws:kms", Some(key.clone()), Some(true)),
        };
        let cfn = CfnBucket {
            bucket_name: props.bucket_name.as_deref().map(Expr::interpolate),
            bucket_encryption: Some(BucketEncryption {
                server_side_encryption_configuration: vec![ServerSideEncryptionRule {
                    server_side_encryption_by_default: ServerSideEncryptionByDefault {
                        sse_algorithm: sse_algorithm.into(),
                        kms_master_key_id,
                    },
                    bucket_key_enabled,
                }],
            }),
            public_access_block_configuration: props.block_public_access.then(PublicAccessBlockConfiguration::block_all),
            ownership_controls: Some(OwnershipControls {
                rules: vec![OwnershipControlsRule { object_ownership: "BucketOwnerEnforced".into() }],
            }),
            versioning_configuration: props.versioned.then(|| VersioningConfiguration { status: "Enabled".into() }),
            lifecycle_configuration: Some(LifecycleConfiguration { rules: lifecycle }),
            logging_configuration: props.server_access_logs.as_ref().map(|logs| LoggingConfiguration {
                destination_bucket_name: Some(logs.bucket.name()),
                log_file_prefix: Some(logs.prefix.clone()),
            }),
            notification_configuration: None,
            object_lock_enabled: None,
        };
        let logical_id = stack.add(path, &cfn)?;
        stack.resource_mut(&logical_id)?.apply_removal_policy(props.removal_policy.deletion_policy());
        let policy_id = stack.add(
            &format!("{path}/Policy"),
            &CfnBucketPolicy { bucket: Expr::reference(&logical_id), policy_document: PolicyDocument::new(Vec::new()) },
        )?;
        stack.resource_mut(&policy_id)?.apply_removal_policy(props.removal_policy.deletion_policy());
        stack.register_policy(&policy_id, PolicySlot::Property("PolicyDocument"));
        let bucket = Bucket { logical_id, policy_id, path: path.to_owned(), name_template: props.bucket_name };
        if props.enforce_tls {
            let tls = Statement::deny_insecure_transport(&["s3:*"], vec![bucket.arn(), bucket.arn_for_objects("*")]);
            bucket.add_to_resource_policy(stack, tls)?;
        }
        if let Some(logs) = &props.server_access_logs {
            logs.bucket.allow_access_log_delivery(stack, &bucket, &logs.prefix)?;
        }
        Ok(bucket)
    }

    /// `{"Ref": bucket}`: the bucket name.
    pub fn name(&self) -> Expr {
        Expr::reference(&self.logical_id)
    }

    /// The bucket ARN. For a bucket with a deterministic name this is built from the name with
    /// `Fn::Sub` (no reference to the bucket resource, so it can be used in policies the bucket
    /// depends on); otherwise `Fn::GetAtt Arn`.
    pub fn arn(&self) -> Expr {
        match &self.name_template {
            Some(name) => Expr::sub(format!("arn:${{AWS::Partition}}:s3:::{name}")),
            None => Expr::get_att(&self.logical_id, "Arn"),
        }
    }

    /// The ARN of the objects whose keys match `key_pattern` (e.g. `incoming/*`).
    pub fn arn_for_objects(&self, key_pattern: &str) -> Expr {
        match &self.name_template {
            Some(name) => Expr::sub(format!("arn:${{AWS::Partition}}:s3:::{name}/{key_pattern}")),
            None => Expr::sub(format!("${{{}.Arn}}/{key_pattern}", self.logical_id)),
        }
    }

    /// Adds a statement to the bucket policy.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn add_to_resource_policy(&self, stack: &mut Stack, statement: Statement) -> Result<(), SynthError> {
        stack.add_statement(&self.policy_id, statement)
    }

    /// Grants `s3:GetObject` and `s3:GetObjectVersion` on the objects under `key_pattern`.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn grant_read(&self, stack: &mut Stack, role: &Role, key_pattern: &str) -> Result<(), SynthError> {
        self.grant(stack, role, "Read", &["s3:GetObject", "s3:GetObjectVersion"], key_pattern)
    }

    /// Grants `s3:PutObject` on the objects under `key_pattern`.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn grant_put(&self, stack: &mut Stack, role: &Role, key_pattern: &str) -> Result<(), SynthError> {
        self.grant(stack, role, "Put", &["s3:PutObject"], key_pattern)
    }

    /// Grants `s3:ListBucket` limited to keys under `prefix` (the `s3:prefix` condition key).
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn grant_list(&self, stack: &mut Stack, role: &Role, prefix: &str) -> Result<(), SynthError> {
        let statement = Statement::allow(["s3:ListBucket"], vec![self.arn()])
            .with_sid(sid(&[&self.logical_id, "List"]))
            .with_condition("StringLike", "s3:prefix", format!("{prefix}*").into());
        role.add_to_policy(stack, statement)
    }

    fn grant(&self, stack: &mut Stack, role: &Role, verb: &str, actions: &[&str], key_pattern: &str) -> Result<(), SynthError> {
        let statement = Statement::allow(actions.iter().copied(), vec![self.arn_for_objects(key_pattern)])
            .with_sid(sid(&[&self.logical_id, verb]));
        role.add_to_policy(stack, statement)
    }

    /// Sends `s3:ObjectCreated:*` events for keys under `prefix` to `queue`.
    ///
    /// Only a prefix filter is used: S3 matches suffix filters case-sensitively, so a suffix would
    /// drop `IMG_0001.JPG`; the processor decides by content. The queue policy allows
    /// `s3.amazonaws.com` to send, limited by `aws:SourceArn` (this bucket, by its deterministic
    /// name) and `aws:SourceAccount`, and the bucket depends on that policy because S3 checks the
    /// destination when the notification is configured. No custom resource is involved.
    /// See <https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html>.
    ///
    /// # Errors
    /// [`SynthError::InvalidConstruct`] when the bucket has no deterministic name (the policy
    /// could then only refer to the bucket resource, a dependency cycle).
    pub fn add_object_created_notification(&self, stack: &mut Stack, queue: &Queue, prefix: &str) -> Result<(), SynthError> {
        if self.name_template.is_none() {
            return Err(SynthError::InvalidConstruct {
                construct: self.path.clone(),
                reason: "S3 → SQS notifications need a deterministic bucket_name to break the bucket ↔ queue policy cycle".into(),
            });
        }
        let allow = Statement::allow(["sqs:SendMessage"], vec![queue.arn()])
            .with_sid(sid(&[&self.logical_id, "Notifications"]))
            .with_principal(Principal::Service("s3.amazonaws.com".into()))
            .with_condition("ArnLike", "aws:SourceArn", self.arn())
            .with_condition("StringEquals", "aws:SourceAccount", Expr::pseudo(crate::intrinsic::Pseudo::AccountId));
        queue.add_to_resource_policy(stack, allow)?;
        let config = QueueConfiguration {
            event: "s3:ObjectCreated:*".into(),
            queue: queue.arn(),
            filter: (!prefix.is_empty()).then(|| NotificationFilter {
                s3_key: S3KeyFilter { rules: vec![FilterRule { name: "prefix".into(), value: prefix.to_owned() }] },
            }),
        };
        let config = serde_json::to_value(config).map_err(|e| SynthError::Serialize(e.to_string()))?;
        let resource = stack.resource_mut(&self.logical_id)?;
        let notifications = resource
            .properties
            .entry("NotificationConfiguration")
            .or_insert_with(|| serde_json::json!({"QueueConfigurations": []}));
        match notifications.get_mut("QueueConfigurations").and_then(serde_json::Value::as_array_mut) {
            Some(list) => list.push(config),
            None => notifications["QueueConfigurations"] = serde_json::json!([config]),
        }
        resource.depends_on.insert(queue.policy_id.clone());
        Ok(())
    }

    /// Lets the S3 logging service write `source`'s server access logs under `prefix`, limited by
    /// `aws:SourceArn` and `aws:SourceAccount` (the bucket-policy method AWS recommends over ACLs:
    /// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html>).
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn allow_access_log_delivery(&self, stack: &mut Stack, source: &Bucket, prefix: &str) -> Result<(), SynthError> {
        let statement = Statement::allow(["s3:PutObject"], vec![self.arn_for_objects(&format!("{prefix}*"))])
            .with_sid(sid(&["S3ServerAccessLogs", &source.logical_id]))
            .with_principal(Principal::Service("logging.s3.amazonaws.com".into()))
            .with_condition("ArnLike", "aws:SourceArn", source.arn())
            .with_condition("StringEquals", "aws:SourceAccount", Expr::pseudo(crate::intrinsic::Pseudo::AccountId));
        self.add_to_resource_policy(stack, statement)
    }
}
