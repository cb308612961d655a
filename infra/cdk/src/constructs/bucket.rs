//! [`Bucket`]: an S3 bucket with secure defaults, grants, notifications to SQS, and access-log
//! delivery.

use crate::constructs::grant::{Grantee, add_grants, arn_resource, imported_error};
use crate::constructs::queue::Queue;
use crate::constructs::{RemovalPolicy, sid};
use crate::error::SynthError;
use crate::iam::PolicyDocument;
use crate::iam::{Principal, Statement};
use crate::intrinsic::Expr;
use crate::resources::s3::{
    AbortIncompleteMultipartUpload, BucketEncryption, CfnBucket, CfnBucketPolicy, FilterRule,
    LifecycleConfiguration, LifecycleRule, LoggingConfiguration, NoncurrentVersionExpiration,
    NotificationConfiguration, NotificationFilter, OwnershipControls, OwnershipControlsRule,
    PublicAccessBlockConfiguration, QueueConfiguration, S3KeyFilter, ServerSideEncryptionByDefault,
    ServerSideEncryptionRule, VersioningConfiguration,
};
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

/// An S3 bucket in a stack, or an existing bucket imported with [`Bucket::from_name`] or
/// [`Bucket::from_arn`].
#[derive(Clone, Debug, PartialEq)]
pub struct Bucket {
    /// The bucket's logical ID (for an imported bucket: the ID its path gives, used only to name
    /// grant statements).
    pub logical_id: String,
    /// The bucket policy's logical ID (empty for an imported bucket, whose policy this stack does
    /// not manage).
    pub policy_id: String,
    /// The construct path.
    pub path: String,
    name_template: Option<String>,
    kms_key: Option<Expr>,
    imported: Option<Imported>,
}

/// How an imported bucket was named.
#[derive(Clone, Debug, PartialEq)]
enum Imported {
    /// By name: the ARN is built from it in the stack's partition.
    Name,
    /// By ARN (an `Fn::Sub` template or a literal).
    Arn(String),
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
            abort_incomplete_multipart_upload: Some(AbortIncompleteMultipartUpload {
                days_after_initiation: 7,
            }),
            expired_object_delete_marker: None,
        }];
        if let (true, Some(days)) = (props.versioned, props.noncurrent_version_expiration_days) {
            lifecycle.push(LifecycleRule {
                id: "expire-noncurrent-versions".into(),
                status: "Enabled".into(),
                prefix: None,
                expiration_in_days: None,
                noncurrent_version_expiration: Some(NoncurrentVersionExpiration {
                    noncurrent_days: days,
                }),
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
            public_access_block_configuration: props
                .block_public_access
                .then(PublicAccessBlockConfiguration::block_all),
            ownership_controls: Some(OwnershipControls {
                rules: vec![OwnershipControlsRule {
                    object_ownership: "BucketOwnerEnforced".into(),
                }],
            }),
            versioning_configuration: props.versioned.then(|| VersioningConfiguration {
                status: "Enabled".into(),
            }),
            lifecycle_configuration: Some(LifecycleConfiguration { rules: lifecycle }),
            logging_configuration: props.server_access_logs.as_ref().map(|logs| {
                LoggingConfiguration {
                    destination_bucket_name: Some(logs.bucket.name()),
                    log_file_prefix: Some(logs.prefix.clone()),
                }
            }),
            notification_configuration: None,
            object_lock_enabled: None,
        };
        let logical_id = stack.add_typed(path, cfn)?;
        stack
            .resource_mut(&logical_id)?
            .apply_removal_policy(props.removal_policy.deletion_policy());
        let policy_id = stack.add(
            &format!("{path}/Policy"),
            &CfnBucketPolicy {
                bucket: Expr::reference(&logical_id),
                policy_document: PolicyDocument::new(Vec::new()),
            },
        )?;
        stack
            .resource_mut(&policy_id)?
            .apply_removal_policy(props.removal_policy.deletion_policy());
        stack.register_policy(&policy_id, PolicySlot::Property("PolicyDocument"));
        let bucket = Bucket {
            logical_id,
            policy_id,
            path: path.to_owned(),
            name_template: props.bucket_name,
            kms_key: match &props.encryption {
                BucketEncryptionKind::Kms(key) => Some(key.clone()),
                BucketEncryptionKind::S3Managed => None,
            },
            imported: None,
        };
        if props.enforce_tls {
            // The bucket's own `Arn` attribute (the policy depends on the bucket anyway), in the
            // form AWS Control Tower's CT.S3.PR.8 recognizes.
            let arn = Expr::get_att(&bucket.logical_id, "Arn");
            let tls = Statement::deny_insecure_transport(
                &["s3:*"],
                vec![arn.clone(), Expr::join("", vec![arn, "/*".into()])],
            );
            bucket.add_to_resource_policy(stack, tls)?;
        }
        if let Some(logs) = &props.server_access_logs {
            logs.bucket
                .allow_access_log_delivery(stack, &bucket, &logs.prefix)?;
        }
        Ok(bucket)
    }

    /// Adds a bucket for other buckets' server access logs at `path`: secure defaults, log objects
    /// expire after a year, and the `S3-ACCESS-LOGS` finding on itself suppressed (logging a log
    /// bucket to itself would loop). Point buckets at it with [`BucketProps::server_access_logs`].
    ///
    /// # Errors
    /// As [`Bucket::new`] and [`Stack::suppress`].
    pub fn new_access_log_bucket(
        stack: &mut Stack,
        path: &str,
        removal_policy: RemovalPolicy,
    ) -> Result<Self, SynthError> {
        let logs = Bucket::new(
            stack,
            path,
            BucketProps {
                expiration_days: Some(365),
                removal_policy,
                ..BucketProps::default()
            },
        )?;
        stack.suppress(
            &logs.logical_id,
            "S3-ACCESS-LOGS",
            "this is the access-log bucket; logging it to itself would loop",
        )?;
        stack.suppress(
            &logs.logical_id,
            "S3-EVENT-NOTIFICATIONS",
            "only the S3 logging service writes here and logs are read on demand; nothing consumes events",
        )?;
        Ok(logs)
    }

    /// An existing bucket, by name (as aws-cdk-lib's `Bucket.fromBucketName`): it adds nothing to
    /// the template, and grants on it name `arn:${AWS::Partition}:s3:::<name>`. `name` may be an
    /// `Fn::Sub` template such as `photos-${AWS::AccountId}`. `path` names the grant statements
    /// as a bucket's path would (`Sid` `<LogicalId>Read`, …).
    ///
    /// # Errors
    /// [`SynthError::EmptyLogicalId`] for a path that gives no logical ID;
    /// [`SynthError::InvalidConstruct`] for an empty name.
    pub fn from_name(path: &str, name: &str) -> Result<Self, SynthError> {
        if name.trim().is_empty() {
            return Err(SynthError::InvalidConstruct {
                construct: path.to_owned(),
                reason: "an imported bucket needs a name".into(),
            });
        }
        Ok(Bucket {
            logical_id: Stack::logical_id(path)?,
            policy_id: String::new(),
            path: path.to_owned(),
            name_template: Some(name.to_owned()),
            kms_key: None,
            imported: Some(Imported::Name),
        })
    }

    /// An existing bucket, by ARN (as aws-cdk-lib's `Bucket.fromBucketArn`), e.g.
    /// `arn:${AWS::Partition}:s3:::photos-${AWS::AccountId}`: it adds nothing to the template and
    /// grants on it name the ARN as given (a template is written with `Fn::Sub`).
    ///
    /// # Errors
    /// [`SynthError::EmptyLogicalId`] for a path that gives no logical ID;
    /// [`SynthError::InvalidConstruct`] for an ARN not of the form `arn:<partition>:s3:::<name>`.
    pub fn from_arn(path: &str, arn: &str) -> Result<Self, SynthError> {
        let name = arn_resource(path, arn, ":s3:::", "an S3 bucket")?;
        if name.contains('/') {
            return Err(SynthError::InvalidConstruct {
                construct: path.to_owned(),
                reason: format!("`{arn}` is an object ARN, not a bucket ARN"),
            });
        }
        Ok(Bucket {
            logical_id: Stack::logical_id(path)?,
            policy_id: String::new(),
            path: path.to_owned(),
            name_template: Some(name.to_owned()),
            kms_key: None,
            imported: Some(Imported::Arn(arn.to_owned())),
        })
    }

    /// Declares the SSE-KMS key (ARN) of an imported bucket, so grants on it also grant the key
    /// through S3 (`kms:ViaService`), as they do for a bucket of this stack encrypted with
    /// [`BucketEncryptionKind::Kms`].
    #[must_use]
    pub fn with_kms_key(mut self, key_arn: Expr) -> Self {
        self.kms_key = Some(key_arn);
        self
    }

    /// Whether the bucket was imported ([`Bucket::from_name`], [`Bucket::from_arn`]) rather than
    /// added to the stack.
    pub fn is_imported(&self) -> bool {
        self.imported.is_some()
    }

    /// The bucket name: `{"Ref": bucket}`, or for an imported bucket the name it was imported by.
    pub fn name(&self) -> Expr {
        match (&self.imported, &self.name_template) {
            (Some(_), Some(name)) => Expr::interpolate(name),
            _ => Expr::reference(&self.logical_id),
        }
    }

    /// The bucket ARN. For a bucket with a deterministic name this is built from the name with
    /// `Fn::Sub` in the stack's partition (no reference to the bucket resource, so it can be used
    /// in policies the bucket depends on); for a bucket imported by ARN, that ARN; otherwise
    /// `Fn::GetAtt Arn`.
    pub fn arn(&self) -> Expr {
        match (&self.imported, &self.name_template) {
            (Some(Imported::Arn(arn)), _) => Expr::interpolate(arn),
            (_, Some(name)) => Expr::arn("s3", "", "", name),
            (_, None) => Expr::get_att(&self.logical_id, "Arn"),
        }
    }

    /// The ARN of the objects whose keys match `key_pattern` (e.g. `incoming/*`).
    pub fn arn_for_objects(&self, key_pattern: &str) -> Expr {
        match (&self.imported, &self.name_template) {
            (Some(Imported::Arn(arn)), _) => Expr::interpolate(format!("{arn}/{key_pattern}")),
            (_, Some(name)) => Expr::arn("s3", "", "", &format!("{name}/{key_pattern}")),
            (_, None) => Expr::sub(format!("${{{}.Arn}}/{key_pattern}", self.logical_id)),
        }
    }

    /// Adds a statement to the bucket policy.
    ///
    /// # Errors
    /// As [`Stack::add_statement`]; [`SynthError::InvalidConstruct`] for an imported bucket,
    /// whose policy this stack does not manage.
    pub fn add_to_resource_policy(
        &self,
        stack: &mut Stack,
        statement: Statement,
    ) -> Result<(), SynthError> {
        if self.is_imported() {
            return Err(imported_error(&self.path, "bucket policy"));
        }
        stack.add_statement(&self.policy_id, statement)
    }

    /// Makes writes under `prefix` single-use: the bucket policy denies `s3:PutObject` on
    /// `<bucket>/<prefix>*` to everyone when the request is not a conditional write (no
    /// `If-None-Match`: condition key `s3:if-none-match` is null), so no object there is ever
    /// overwritten. A presigned URL that signs `if-none-match: *` (and `content-length`) then
    /// writes one object of the declared size, once. Returns the statement added.
    ///
    /// Condition key: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes-enforce.html>.
    ///
    /// # Errors
    /// As [`Bucket::add_to_resource_policy`].
    pub fn require_single_writes(
        &self,
        stack: &mut Stack,
        prefix: &str,
    ) -> Result<Statement, SynthError> {
        let statement = Statement::deny(
            ["s3:PutObject"],
            vec![self.arn_for_objects(&format!("{prefix}*"))],
        )
        .with_sid(sid(&[&self.logical_id, "WriteOnce"]))
        .with_principal(Principal::Any)
        .with_condition("Null", "s3:if-none-match", "true".into());
        self.add_to_resource_policy(stack, statement.clone())?;
        Ok(statement)
    }

    /// Grants `s3:GetObject` and `s3:GetObjectVersion` on the objects under `key_pattern` to
    /// `grantee`'s role (plus `kms:Decrypt` through S3 for an SSE-KMS bucket) and returns the
    /// statements added. Actions: <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html>.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn grant_read(
        &self,
        stack: &mut Stack,
        grantee: &dyn Grantee,
        key_pattern: &str,
    ) -> Result<Vec<Statement>, SynthError> {
        self.grant(
            stack,
            grantee,
            "Read",
            &["s3:GetObject", "s3:GetObjectVersion"],
            key_pattern,
        )
    }

    /// Grants `s3:PutObject` on the objects under `key_pattern` (plus `kms:GenerateDataKey` and
    /// `kms:Decrypt` through S3 for an SSE-KMS bucket) and returns the statements added.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn grant_put(
        &self,
        stack: &mut Stack,
        grantee: &dyn Grantee,
        key_pattern: &str,
    ) -> Result<Vec<Statement>, SynthError> {
        self.grant(stack, grantee, "Put", &["s3:PutObject"], key_pattern)
    }

    /// Grants `s3:DeleteObjectVersion` (DeleteObject of one version, for good) on the objects
    /// under `key_pattern` and returns the statements added.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn grant_delete_version(
        &self,
        stack: &mut Stack,
        grantee: &dyn Grantee,
        key_pattern: &str,
    ) -> Result<Vec<Statement>, SynthError> {
        self.grant(
            stack,
            grantee,
            "DeleteVersion",
            &["s3:DeleteObjectVersion"],
            key_pattern,
        )
    }

    /// Grants `s3:ListBucket` limited to keys under `prefix` (the `s3:prefix` condition key:
    /// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html>) and
    /// returns the statement added.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn grant_list(
        &self,
        stack: &mut Stack,
        grantee: &dyn Grantee,
        prefix: &str,
    ) -> Result<Statement, SynthError> {
        let statement = Statement::allow(["s3:ListBucket"], vec![self.arn()])
            .with_sid(sid(&[&self.logical_id, "List"]))
            .with_condition("StringLike", "s3:prefix", format!("{prefix}*").into());
        grantee
            .grant_role()
            .add_to_policy(stack, statement.clone())?;
        Ok(statement)
    }

    fn grant(
        &self,
        stack: &mut Stack,
        grantee: &dyn Grantee,
        verb: &str,
        actions: &[&str],
        key_pattern: &str,
    ) -> Result<Vec<Statement>, SynthError> {
        let mut statements = vec![
            Statement::allow(
                actions.iter().copied(),
                vec![self.arn_for_objects(key_pattern)],
            )
            .with_sid(sid(&[&self.logical_id, verb])),
        ];
        // SSE-KMS objects also need the key: decrypt to read, data keys to write.
        if let Some(key) = &self.kms_key {
            let kms_actions: &[&str] = if actions.contains(&"s3:PutObject") {
                &["kms:GenerateDataKey", "kms:Decrypt"]
            } else {
                &["kms:Decrypt"]
            };
            let statement = Statement::allow(kms_actions.iter().copied(), vec![key.clone()])
                .with_sid(sid(&[&self.logical_id, verb, "Key"]))
                .with_condition(
                    "StringEquals",
                    "kms:ViaService",
                    Expr::sub("s3.${AWS::Region}.amazonaws.com"),
                );
            statements.push(statement);
        }
        add_grants(stack, grantee, statements)
    }

    /// Expires the current versions of objects under `prefix` `days` after they were created
    /// (a lifecycle rule `expire-<id>`, as aws-cdk-lib's `addLifecycleRule({prefix,
    /// expiration})`); with versioning, the expired object becomes a noncurrent version that the
    /// bucket's noncurrent-version rule then removes. Part of the bucket's typed properties,
    /// rendered at synth. See
    /// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-expire-general-considerations.html>.
    ///
    /// # Errors
    /// [`SynthError::InvalidConstruct`] for an imported bucket, zero days, or an `id` already
    /// used by a rule of this bucket.
    pub fn add_expiration_rule(
        &self,
        stack: &mut Stack,
        id: &str,
        prefix: &str,
        days: u32,
    ) -> Result<(), SynthError> {
        if self.is_imported() {
            return Err(imported_error(&self.path, "lifecycle configuration"));
        }
        let invalid = |why: String| SynthError::InvalidConstruct {
            construct: self.path.clone(),
            reason: why,
        };
        if days == 0 {
            return Err(invalid(format!(
                "lifecycle rule {id}: expiration needs at least 1 day"
            )));
        }
        let rule_id = format!("expire-{id}");
        let added = stack.update_props(&self.logical_id, |bucket: &mut CfnBucket| {
            let rules = &mut bucket
                .lifecycle_configuration
                .get_or_insert_with(|| LifecycleConfiguration { rules: Vec::new() })
                .rules;
            if rules.iter().any(|r| r.id == rule_id) {
                return false;
            }
            rules.push(LifecycleRule {
                id: rule_id.clone(),
                status: "Enabled".into(),
                prefix: Some(prefix.to_owned()),
                expiration_in_days: Some(days),
                noncurrent_version_expiration: None,
                abort_incomplete_multipart_upload: None,
                expired_object_delete_marker: None,
            });
            true
        })?;
        if added {
            Ok(())
        } else {
            Err(invalid(format!(
                "a lifecycle rule {rule_id} exists already"
            )))
        }
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
    /// The notification is part of the bucket's typed properties
    /// ([`CfnBucket::notification_configuration`]), rendered at synth.
    ///
    /// # Errors
    /// [`SynthError::InvalidConstruct`] when the bucket has no deterministic name (the policy
    /// could then only refer to the bucket resource, a dependency cycle), or the bucket or queue
    /// is imported.
    pub fn add_object_created_notification(
        &self,
        stack: &mut Stack,
        queue: &Queue,
        prefix: &str,
    ) -> Result<(), SynthError> {
        if self.is_imported() {
            return Err(imported_error(&self.path, "notification configuration"));
        }
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
            .with_condition(
                "StringEquals",
                "aws:SourceAccount",
                Expr::pseudo(crate::intrinsic::Pseudo::AccountId),
            );
        queue.add_to_resource_policy(stack, allow)?;
        let config = QueueConfiguration {
            event: "s3:ObjectCreated:*".into(),
            queue: queue.arn(),
            filter: (!prefix.is_empty()).then(|| NotificationFilter {
                s3_key: S3KeyFilter {
                    rules: vec![FilterRule {
                        name: "prefix".into(),
                        value: prefix.to_owned(),
                    }],
                },
            }),
        };
        stack.update_props(&self.logical_id, |bucket: &mut CfnBucket| {
            bucket
                .notification_configuration
                .get_or_insert_with(NotificationConfiguration::default)
                .queue_configurations
                .push(config);
        })?;
        stack
            .resource_mut(&self.logical_id)?
            .depends_on
            .insert(queue.policy_id.clone());
        Ok(())
    }

    /// Lets the S3 logging service write `source`'s server access logs under `prefix`, limited by
    /// `aws:SourceArn` and `aws:SourceAccount` (the bucket-policy method AWS recommends over ACLs:
    /// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html>).
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn allow_access_log_delivery(
        &self,
        stack: &mut Stack,
        source: &Bucket,
        prefix: &str,
    ) -> Result<(), SynthError> {
        let statement = Statement::allow(
            ["s3:PutObject"],
            vec![self.arn_for_objects(&format!("{prefix}*"))],
        )
        .with_sid(sid(&["S3ServerAccessLogs", &source.logical_id]))
        .with_principal(Principal::Service("logging.s3.amazonaws.com".into()))
        .with_condition("ArnLike", "aws:SourceArn", source.arn())
        .with_condition(
            "StringEquals",
            "aws:SourceAccount",
            Expr::pseudo(crate::intrinsic::Pseudo::AccountId),
        );
        self.add_to_resource_policy(stack, statement)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::constructs::queue::QueueProps;
    use crate::constructs::role::{Role, RoleProps};
    use crate::rules::Severity;
    use crate::test_support::{
        DELETED, RETAINED, any_finding, assert_stable, first_finding, has_unsuppressed,
        inline_policy_statements, is_invalid_construct, pair, policy_statements, removal_policies,
        stack, statements, synth_resource, synthesized, unsuppressed, with_worker, worker,
    };

    const NAME: &str = "${AWS::StackName}-input-${AWS::AccountId}-${AWS::Region}";

    fn named() -> BucketProps {
        BucketProps {
            bucket_name: Some(NAME.into()),
            ..BucketProps::default()
        }
    }

    #[test]
    fn defaults_encrypt_with_sse_s3_block_public_access_and_disable_acls() {
        let mut stack = stack();
        let bucket = Bucket::new(&mut stack, "Input", BucketProps::default()).unwrap();
        let r = synthesized(&stack, &bucket.logical_id);
        assert_eq!(r.resource_type, "AWS::S3::Bucket");
        assert_eq!(
            r.property("BucketEncryption.ServerSideEncryptionConfiguration"),
            Some(&json!([{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]))
        );
        assert_eq!(
            r.property("PublicAccessBlockConfiguration"),
            Some(&json!({
                "BlockPublicAcls": true,
                "BlockPublicPolicy": true,
                "IgnorePublicAcls": true,
                "RestrictPublicBuckets": true
            }))
        );
        assert_eq!(
            r.property("OwnershipControls.Rules.0.ObjectOwnership"),
            Some(&json!("BucketOwnerEnforced"))
        );
        assert_eq!(
            r.property("BucketName"),
            None,
            "an unnamed bucket gets a generated name"
        );
    }

    #[test]
    fn defaults_version_objects_and_expire_noncurrent_versions() {
        let mut stack = stack();
        let bucket = Bucket::new(&mut stack, "Input", BucketProps::default()).unwrap();
        let r = synthesized(&stack, &bucket.logical_id);
        assert_eq!(
            r.property("VersioningConfiguration.Status"),
            Some(&json!("Enabled"))
        );
        let rules = r
            .property("LifecycleConfiguration.Rules")
            .unwrap()
            .as_array()
            .unwrap();
        assert!(rules.contains(&json!({
            "Id": "expire-noncurrent-versions",
            "Status": "Enabled",
            "NoncurrentVersionExpiration": {"NoncurrentDays": 30}
        })));
        assert!(rules.contains(&json!({
            "Id": "abort-incomplete-multipart-uploads",
            "Status": "Enabled",
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}
        })));
        assert!(
            !rules
                .iter()
                .any(|rule| rule.get("ExpirationInDays").is_some()),
            "current objects never expire by default"
        );
    }

    #[test]
    fn expiration_days_add_an_expiry_rule() {
        let mut stack = stack();
        let bucket = Bucket::new(
            &mut stack,
            "Logs",
            BucketProps {
                expiration_days: Some(90),
                ..BucketProps::default()
            },
        )
        .unwrap();
        let synth = stack.synth().unwrap();
        let rules = synth.template.resources[&bucket.logical_id]
            .property("LifecycleConfiguration.Rules")
            .unwrap()
            .clone();
        assert!(rules.as_array().unwrap().contains(
            &json!({"Id": "expire-objects", "Status": "Enabled", "ExpirationInDays": 90})
        ));
    }

    #[test]
    fn keeping_noncurrent_versions_forever_is_a_warning() {
        let mut stack = stack();
        let bucket = Bucket::new(
            &mut stack,
            "Input",
            BucketProps {
                noncurrent_version_expiration_days: None,
                ..BucketProps::default()
            },
        )
        .unwrap();
        let synth = stack.synth().unwrap();
        let rules = synth.template.resources[&bucket.logical_id]
            .property("LifecycleConfiguration.Rules")
            .unwrap();
        assert!(
            !rules
                .as_array()
                .unwrap()
                .iter()
                .any(|rule| rule.get("NoncurrentVersionExpiration").is_some())
        );
        let finding = first_finding(&synth, "S3-NONCURRENT-EXPIRY");
        assert_eq!(
            (finding.logical_id.as_str(), finding.severity),
            ("Input", Severity::Warning)
        );
    }

    #[test]
    fn bucket_and_policy_are_retained_by_default_and_deleted_on_destroy() {
        let mut stack = stack();
        let kept = Bucket::new(&mut stack, "Kept", BucketProps::default()).unwrap();
        let gone = Bucket::new(
            &mut stack,
            "Gone",
            BucketProps {
                removal_policy: RemovalPolicy::Destroy,
                ..BucketProps::default()
            },
        )
        .unwrap();
        let synth = stack.synth().unwrap();
        for id in [&kept.logical_id, &kept.policy_id] {
            let r = &synth.template.resources[id];
            assert_eq!(removal_policies(r), RETAINED, "{id}");
        }
        for id in [&gone.logical_id, &gone.policy_id] {
            let r = &synth.template.resources[id];
            assert_eq!(removal_policies(r), DELETED, "{id}");
        }
    }

    #[test]
    fn bucket_policy_denies_requests_without_tls_on_bucket_and_objects() {
        let mut stack = stack();
        let bucket = Bucket::new(&mut stack, "Input", BucketProps::default()).unwrap();
        assert_eq!(bucket.policy_id, "InputPolicy");
        let synth = stack.synth().unwrap();
        let policy = &synth.template.resources[&bucket.policy_id];
        assert_eq!(policy.resource_type, "AWS::S3::BucketPolicy");
        assert_eq!(policy.property("Bucket"), Some(&json!({"Ref": "Input"})));
        assert_eq!(
            policy_statements(&synth, &bucket.policy_id),
            vec![json!({
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:*"],
                "Resource": [{"Fn::GetAtt": ["Input", "Arn"]}, {"Fn::Join": ["", [{"Fn::GetAtt": ["Input", "Arn"]}, "/*"]]}],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            })]
        );
    }

    #[test]
    fn default_bucket_fails_only_the_access_log_rule() {
        let mut stack = stack();
        Bucket::new(&mut stack, "Input", BucketProps::default()).unwrap();
        let synth = stack.synth().unwrap();
        assert_eq!(unsuppressed(&synth), vec![pair("Input", "S3-ACCESS-LOGS")]);
    }

    #[test]
    fn versioning_opt_out_removes_the_configuration_and_is_reported() {
        let mut stack = stack();
        let bucket = Bucket::new(
            &mut stack,
            "Input",
            BucketProps {
                versioned: false,
                ..BucketProps::default()
            },
        )
        .unwrap();
        let (synth, r) = synth_resource(&stack, &bucket.logical_id);
        assert_eq!(r.property("VersioningConfiguration"), None);
        let rules = r
            .property("LifecycleConfiguration.Rules")
            .unwrap()
            .as_array()
            .unwrap();
        assert!(
            !rules
                .iter()
                .any(|rule| rule.get("NoncurrentVersionExpiration").is_some())
        );
        assert!(has_unsuppressed(&synth, "Input", "S3-VERSIONING"));
        let finding = first_finding(&synth, "S3-VERSIONING");
        assert_eq!(finding.severity, Severity::Error);
        assert_eq!(finding.path, "test-stack/Input");
    }

    #[test]
    fn suppressed_versioning_finding_is_written_for_argus_and_checkov() {
        let mut stack = stack();
        let bucket = Bucket::new(
            &mut stack,
            "Input",
            BucketProps {
                versioned: false,
                ..BucketProps::default()
            },
        )
        .unwrap();
        let reason = "objects are written once and never overwritten";
        stack
            .suppress(&bucket.logical_id, "S3-VERSIONING", reason)
            .unwrap();
        let synth = stack.synth().unwrap();
        assert!(!has_unsuppressed(&synth, "Input", "S3-VERSIONING"));
        let finding = first_finding(&synth, "S3-VERSIONING");
        assert_eq!(finding.suppressed.as_deref(), Some(reason));
        let meta = &synth.template.resources[&bucket.logical_id].metadata;
        assert_eq!(
            meta["argus"],
            json!({"suppressions": [{"id": "S3-VERSIONING", "reason": reason}]})
        );
        assert_eq!(
            meta["checkov"],
            json!({"skip": [{"id": "CKV_AWS_21", "comment": reason}]})
        );
    }

    #[test]
    fn tls_opt_out_is_reported() {
        let mut stack = stack();
        let bucket = Bucket::new(
            &mut stack,
            "Input",
            BucketProps {
                enforce_tls: false,
                ..BucketProps::default()
            },
        )
        .unwrap();
        assert!(stack.statements(&bucket.policy_id).is_empty());
        let synth = stack.synth().unwrap();
        assert!(has_unsuppressed(&synth, "Input", "S3-TLS"));
    }

    #[test]
    fn public_access_opt_out_is_reported() {
        let mut stack = stack();
        let bucket = Bucket::new(
            &mut stack,
            "Site",
            BucketProps {
                block_public_access: false,
                ..BucketProps::default()
            },
        )
        .unwrap();
        let synth = stack.synth().unwrap();
        assert_eq!(
            synth.template.resources[&bucket.logical_id].property("PublicAccessBlockConfiguration"),
            None
        );
        assert!(has_unsuppressed(&synth, "Site", "S3-PUBLIC-ACCESS"));
    }

    #[test]
    fn kms_encryption_names_the_key_and_enables_the_bucket_key() {
        let mut stack = stack();
        let key = Expr::get_att("DataKey", "Arn");
        let bucket = Bucket::new(
            &mut stack,
            "Input",
            BucketProps {
                encryption: BucketEncryptionKind::Kms(key),
                ..BucketProps::default()
            },
        )
        .unwrap();
        let synth = stack.synth().unwrap();
        assert_eq!(
            synth.template.resources[&bucket.logical_id]
                .property("BucketEncryption.ServerSideEncryptionConfiguration"),
            Some(&json!([{
                "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": ["DataKey", "Arn"]}},
                "BucketKeyEnabled": true
            }]))
        );
        assert!(!any_finding(&synth, |f| f.rule == "S3-KMS"));
    }

    #[test]
    fn named_bucket_arns_are_built_from_the_name() {
        let mut stack = stack();
        let bucket = Bucket::new(&mut stack, "Input", named()).unwrap();
        assert_eq!(
            bucket.arn().to_json(),
            json!({"Fn::Sub": format!("arn:${{AWS::Partition}}:s3:::{NAME}")})
        );
        assert_eq!(bucket.name().to_json(), json!({"Ref": "Input"}));
        let synth = stack.synth().unwrap();
        assert_eq!(
            synth.template.resources["Input"].property("BucketName"),
            Some(&json!({"Fn::Sub": NAME}))
        );
    }

    #[test]
    fn grant_read_covers_only_the_key_pattern() {
        let (mut stack, bucket, role) =
            with_worker(|stack| Bucket::new(stack, "Input", named()).unwrap());
        bucket.grant_read(&mut stack, &role, "incoming/*").unwrap();
        assert_eq!(
            statements(&stack, &role),
            vec![json!({
                "Sid": "InputRead",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": [{"Fn::Sub": format!("arn:${{AWS::Partition}}:s3:::{NAME}/incoming/*")}]
            })]
        );
    }

    #[test]
    fn grant_read_on_an_unnamed_bucket_subs_its_arn() {
        let (mut stack, bucket, role) =
            with_worker(|stack| Bucket::new(stack, "Input", BucketProps::default()).unwrap());
        bucket.grant_read(&mut stack, &role, "incoming/*").unwrap();
        let granted = statements(&stack, &role);
        assert_eq!(granted.len(), 1);
        assert_eq!(
            granted[0]["Resource"],
            json!([{"Fn::Sub": "${Input.Arn}/incoming/*"}])
        );
    }

    #[test]
    fn grant_put_allows_only_put_object_under_the_pattern() {
        let (mut stack, bucket, role) =
            with_worker(|stack| Bucket::new(stack, "Output", BucketProps::default()).unwrap());
        bucket.grant_put(&mut stack, &role, "results/*").unwrap();
        assert_eq!(
            statements(&stack, &role),
            vec![json!({
                "Sid": "OutputPut",
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": [{"Fn::Sub": "${Output.Arn}/results/*"}]
            })]
        );
    }

    #[test]
    fn grant_list_is_limited_by_the_s3_prefix_condition() {
        let (mut stack, bucket, role) =
            with_worker(|stack| Bucket::new(stack, "Input", BucketProps::default()).unwrap());
        bucket.grant_list(&mut stack, &role, "incoming/").unwrap();
        assert_eq!(
            statements(&stack, &role),
            vec![json!({
                "Sid": "InputList",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [{"Fn::GetAtt": ["Input", "Arn"]}],
                "Condition": {"StringLike": {"s3:prefix": "incoming/*"}}
            })]
        );
    }

    #[test]
    fn grants_go_to_the_role_inline_policy_and_not_the_bucket_policy() {
        let (mut stack, bucket, role) =
            with_worker(|stack| Bucket::new(stack, "Input", BucketProps::default()).unwrap());
        bucket.grant_read(&mut stack, &role, "incoming/*").unwrap();
        bucket.grant_read(&mut stack, &role, "archive/*").unwrap();
        let (synth, r) = synth_resource(&stack, &role.logical_id);
        assert_eq!(
            r.property("Policies.0.PolicyName"),
            Some(&json!("least-privilege"))
        );
        assert_eq!(
            inline_policy_statements(&synth, &role),
            Some(&json!([{
                "Sid": "InputRead",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": [{"Fn::Sub": "${Input.Arn}/incoming/*"}, {"Fn::Sub": "${Input.Arn}/archive/*"}]
            }]))
        );
        assert_eq!(
            policy_statements(&synth, &bucket.policy_id).len(),
            1,
            "only the TLS statement"
        );
        assert!(!any_finding(&synth, |f| f.rule.starts_with("IAM-")));
    }

    #[test]
    fn object_created_notification_filters_by_prefix_only() {
        let mut stack = stack();
        let bucket = Bucket::new(&mut stack, "Input", named()).unwrap();
        let queue = Queue::new(&mut stack, "Ingest", QueueProps::default()).unwrap();
        bucket
            .add_object_created_notification(&mut stack, &queue, "incoming/")
            .unwrap();
        let r = synthesized(&stack, &bucket.logical_id);
        assert_eq!(
            r.property("NotificationConfiguration"),
            Some(&json!({"QueueConfigurations": [{
                "Event": "s3:ObjectCreated:*",
                "Queue": {"Fn::GetAtt": ["Ingest", "Arn"]},
                "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "incoming/"}]}}
            }]}))
        );
        assert!(
            !r.property("NotificationConfiguration")
                .unwrap()
                .to_string()
                .contains("suffix")
        );
    }

    #[test]
    fn notification_with_an_empty_prefix_has_no_filter() {
        let mut stack = stack();
        let bucket = Bucket::new(&mut stack, "Input", named()).unwrap();
        let queue = Queue::new(&mut stack, "Ingest", QueueProps::default()).unwrap();
        bucket
            .add_object_created_notification(&mut stack, &queue, "")
            .unwrap();
        let r = stack.resource(&bucket.logical_id).unwrap();
        assert_eq!(
            r.property("NotificationConfiguration.QueueConfigurations.0.Filter"),
            None
        );
        assert_eq!(
            r.property("NotificationConfiguration.QueueConfigurations.0.Event"),
            Some(&json!("s3:ObjectCreated:*"))
        );
    }

    #[test]
    fn notifications_to_two_queues_are_both_kept() {
        let mut stack = stack();
        let bucket = Bucket::new(&mut stack, "Input", named()).unwrap();
        let first = Queue::new(&mut stack, "Images", QueueProps::default()).unwrap();
        let second = Queue::new(&mut stack, "Documents", QueueProps::default()).unwrap();
        bucket
            .add_object_created_notification(&mut stack, &first, "images/")
            .unwrap();
        bucket
            .add_object_created_notification(&mut stack, &second, "documents/")
            .unwrap();
        let r = stack.resource(&bucket.logical_id).unwrap();
        let configs = r
            .property("NotificationConfiguration.QueueConfigurations")
            .unwrap()
            .as_array()
            .unwrap();
        let queues: Vec<&Value> = configs.iter().map(|c| &c["Queue"]).collect();
        assert_eq!(
            queues,
            vec![
                &json!({"Fn::GetAtt": ["Images", "Arn"]}),
                &json!({"Fn::GetAtt": ["Documents", "Arn"]})
            ]
        );
        assert!(
            r.depends_on.contains(&first.policy_id) && r.depends_on.contains(&second.policy_id)
        );
    }

    #[test]
    fn notification_queue_policy_names_the_bucket_by_its_deterministic_name() {
        let mut stack = stack();
        let bucket = Bucket::new(&mut stack, "Input", named()).unwrap();
        let queue = Queue::new(&mut stack, "Ingest", QueueProps::default()).unwrap();
        bucket
            .add_object_created_notification(&mut stack, &queue, "incoming/")
            .unwrap();
        let synth = stack.synth().unwrap();
        let allow: Vec<Value> = policy_statements(&synth, &queue.policy_id)
            .into_iter()
            .filter(|s| s["Effect"] == "Allow")
            .collect();
        assert_eq!(
            allow,
            vec![json!({
                "Sid": "InputNotifications",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": ["sqs:SendMessage"],
                "Resource": [{"Fn::GetAtt": ["Ingest", "Arn"]}],
                "Condition": {
                    "ArnLike": {"aws:SourceArn": {"Fn::Sub": format!("arn:${{AWS::Partition}}:s3:::{NAME}")}},
                    "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
                }
            })]
        );
        let text = allow[0].to_string();
        assert!(
            !text.contains(r#"{"Ref":"Input"}"#) && !text.contains(r#"["Input","Arn"]"#),
            "no reference to the bucket: {text}"
        );
    }

    #[test]
    fn notification_makes_the_bucket_depend_on_the_queue_policy() {
        let mut stack = stack();
        let bucket = Bucket::new(&mut stack, "Input", named()).unwrap();
        let queue = Queue::new(&mut stack, "Ingest", QueueProps::default()).unwrap();
        assert!(
            stack
                .resource(&bucket.logical_id)
                .unwrap()
                .depends_on
                .is_empty()
        );
        bucket
            .add_object_created_notification(&mut stack, &queue, "incoming/")
            .unwrap();
        let synth = stack.synth().unwrap();
        let depends_on: Vec<&String> = synth.template.resources[&bucket.logical_id]
            .depends_on
            .iter()
            .collect();
        assert_eq!(depends_on, vec!["IngestPolicy"]);
        assert_eq!(
            synth.template.to_value().unwrap()["Resources"]["Input"]["DependsOn"],
            json!(["IngestPolicy"])
        );
    }

    #[test]
    fn notification_on_an_unnamed_bucket_is_rejected() {
        let mut stack = stack();
        let bucket = Bucket::new(&mut stack, "Input", BucketProps::default()).unwrap();
        let queue = Queue::new(&mut stack, "Ingest", QueueProps::default()).unwrap();
        let err = bucket
            .add_object_created_notification(&mut stack, &queue, "incoming/")
            .unwrap_err();
        assert!(is_invalid_construct(&err, "Input"), "{err}");
        assert_eq!(
            stack
                .resource(&bucket.logical_id)
                .unwrap()
                .property("NotificationConfiguration"),
            None
        );
        assert_eq!(
            stack.statements(&queue.policy_id).len(),
            1,
            "the queue policy is left with its TLS statement only"
        );
    }

    #[test]
    fn access_logs_are_delivered_to_the_log_bucket_under_the_prefix() {
        let mut stack = stack();
        let logs = Bucket::new(&mut stack, "Logs", BucketProps::default()).unwrap();
        let input = Bucket::new(
            &mut stack,
            "Input",
            BucketProps {
                server_access_logs: Some(AccessLogs {
                    bucket: logs.clone(),
                    prefix: "input/".into(),
                }),
                ..named()
            },
        )
        .unwrap();
        let synth = stack.synth().unwrap();
        assert_eq!(
            synth.template.resources[&input.logical_id].property("LoggingConfiguration"),
            Some(&json!({"DestinationBucketName": {"Ref": "Logs"}, "LogFilePrefix": "input/"}))
        );
        let delivery: Vec<Value> = policy_statements(&synth, &logs.policy_id)
            .into_iter()
            .filter(|s| s["Effect"] == "Allow")
            .collect();
        assert_eq!(
            delivery,
            vec![json!({
                "Sid": "S3ServerAccessLogsInput",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": ["s3:PutObject"],
                "Resource": [{"Fn::Sub": "${Logs.Arn}/input/*"}],
                "Condition": {
                    "ArnLike": {"aws:SourceArn": {"Fn::Sub": format!("arn:${{AWS::Partition}}:s3:::{NAME}")}},
                    "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
                }
            })]
        );
        assert!(!has_unsuppressed(&synth, "Input", "S3-ACCESS-LOGS"));
        assert!(has_unsuppressed(&synth, "Logs", "S3-ACCESS-LOGS"));
    }

    fn build(stack: &mut Stack) {
        let bucket = Bucket::new(stack, "Input", named()).unwrap();
        let queue = Queue::new(stack, "Ingest", QueueProps::default()).unwrap();
        let role = worker(stack);
        bucket.grant_read(stack, &role, "incoming/*").unwrap();
        bucket.grant_list(stack, &role, "incoming/").unwrap();
        bucket
            .add_object_created_notification(stack, &queue, "incoming/")
            .unwrap();
    }

    #[test]
    fn logical_ids_and_template_bytes_are_stable_across_stacks() {
        let ((), synth) = assert_stable(build);
        let ids: Vec<&String> = synth.template.resources.keys().collect();
        assert_eq!(
            ids,
            vec![
                "Ingest",
                "IngestDeadLetterQueue",
                "IngestDeadLetterQueuePolicy",
                "IngestPolicy",
                "Input",
                "InputPolicy",
                "Worker"
            ]
        );
    }

    #[test]
    fn grants_on_an_sse_kms_bucket_include_the_key_via_s3_only() {
        let mut stack = stack();
        let key = Expr::get_att("DataKey", "Arn");
        let props = BucketProps {
            encryption: BucketEncryptionKind::Kms(key.clone()),
            ..BucketProps::default()
        };
        let bucket = Bucket::new(&mut stack, "Data", props).unwrap();
        let role = Role::new(
            &mut stack,
            "Worker",
            RoleProps::for_service("lambda.amazonaws.com", "test"),
        )
        .unwrap();
        bucket.grant_read(&mut stack, &role, "in/*").unwrap();
        bucket.grant_put(&mut stack, &role, "out/*").unwrap();
        let statements = stack.statements(&role.logical_id).to_vec();
        let read_key = statements
            .iter()
            .find(|s| s.sid.as_deref() == Some("DataReadKey"))
            .unwrap();
        assert_eq!(read_key.action, vec!["kms:Decrypt"]);
        assert_eq!(read_key.resource, vec![key.clone()]);
        assert_eq!(
            read_key.condition["StringEquals"]["kms:ViaService"],
            Expr::sub("s3.${AWS::Region}.amazonaws.com")
        );
        let put_key = statements
            .iter()
            .find(|s| s.sid.as_deref() == Some("DataPutKey"))
            .unwrap();
        assert_eq!(put_key.action, vec!["kms:GenerateDataKey", "kms:Decrypt"]);
    }

    #[test]
    fn grants_on_an_sse_s3_bucket_need_no_key() {
        let mut stack = stack();
        let bucket = Bucket::new(&mut stack, "Data", BucketProps::default()).unwrap();
        let role = Role::new(
            &mut stack,
            "Worker",
            RoleProps::for_service("lambda.amazonaws.com", "test"),
        )
        .unwrap();
        bucket.grant_read(&mut stack, &role, "in/*").unwrap();
        assert!(
            stack
                .statements(&role.logical_id)
                .iter()
                .all(|s| s.action.iter().all(|a| !a.starts_with("kms:")))
        );
    }

    #[test]
    fn a_bucket_policy_with_no_statement_is_left_out() {
        let mut stack = stack();
        let props = BucketProps {
            enforce_tls: false,
            ..BucketProps::default()
        };
        let bucket = Bucket::new(&mut stack, "Data", props).unwrap();
        let synth = stack.synth().unwrap();
        assert!(!synth.template.resources.contains_key(&bucket.policy_id));
        assert!(synth.template.resources.contains_key(&bucket.logical_id));
    }

    #[test]
    fn grant_read_on_a_bucket_imported_by_name_yields_partition_arns_and_adds_no_resource() {
        let mut stack = stack();
        let role = worker(&mut stack);
        let before: Vec<String> = stack
            .synth()
            .unwrap()
            .template
            .resources
            .into_keys()
            .collect();
        let photos = Bucket::from_name("Photos", "photos-${AWS::AccountId}").unwrap();
        assert!(photos.is_imported());
        let granted = photos.grant_read(&mut stack, &role, "2024/*").unwrap();
        assert_eq!(
            granted
                .iter()
                .map(|s| serde_json::to_value(s).unwrap())
                .collect::<Vec<_>>(),
            vec![json!({
                "Sid": "PhotosRead",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:s3:::photos-${AWS::AccountId}/2024/*"}]
            })]
        );
        let list = photos.grant_list(&mut stack, &role, "2024/").unwrap();
        assert_eq!(
            list.resource,
            vec![Expr::sub(
                "arn:${AWS::Partition}:s3:::photos-${AWS::AccountId}"
            )]
        );
        assert_eq!(photos.name(), Expr::sub("photos-${AWS::AccountId}"));
        let synth = stack.synth().unwrap();
        let after: Vec<&String> = synth.template.resources.keys().collect();
        assert_eq!(after, before.iter().collect::<Vec<_>>(), "nothing added");
        assert_eq!(
            inline_policy_statements(&synth, &role).unwrap()[0]["Resource"],
            json!([{"Fn::Sub": "arn:${AWS::Partition}:s3:::photos-${AWS::AccountId}/2024/*"}])
        );
        assert!(!synth.template.to_json().unwrap().contains("arn:aws:"));
    }

    #[test]
    fn grant_put_on_a_bucket_imported_by_arn_uses_that_arn_and_its_kms_key() {
        let (mut stack, (), role) = with_worker(|_| ());
        let arn = "arn:${AWS::Partition}:s3:::shared-exports";
        let key = Expr::sub("arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/1234");
        let exports = Bucket::from_arn("Exports", arn)
            .unwrap()
            .with_kms_key(key.clone());
        assert_eq!(exports.arn(), Expr::sub(arn));
        assert_eq!(exports.name(), Expr::str("shared-exports"));
        let granted = exports.grant_put(&mut stack, &role, "out/*").unwrap();
        assert_eq!(granted.len(), 2);
        assert_eq!(
            granted[0].resource,
            vec![Expr::sub("arn:${AWS::Partition}:s3:::shared-exports/out/*")]
        );
        assert_eq!(granted[1].resource, vec![key]);
        assert_eq!(
            granted[1].action,
            vec!["kms:GenerateDataKey", "kms:Decrypt"]
        );
        assert_eq!(stack.statements(&role.logical_id), granted.as_slice());
    }

    #[test]
    fn import_by_arn_rejects_what_is_not_a_bucket_arn() {
        for arn in [
            "photos",
            "arn:${AWS::Partition}:sqs:eu-west-1:1:q",
            "arn:${AWS::Partition}:s3:::bucket/key",
        ] {
            let err = Bucket::from_arn("Photos", arn).unwrap_err();
            assert!(is_invalid_construct(&err, "Photos"), "{arn}: {err}");
        }
        assert!(Bucket::from_name("Photos", " ").is_err());
    }

    #[test]
    fn an_imported_bucket_takes_no_policy_statement_and_no_notification() {
        let mut stack = stack();
        let queue = Queue::new(&mut stack, "Ingest", QueueProps::default()).unwrap();
        let photos = Bucket::from_name("Photos", "photos").unwrap();
        let err = photos
            .add_to_resource_policy(
                &mut stack,
                Statement::allow(["s3:GetObject"], vec![photos.arn()]),
            )
            .unwrap_err();
        assert!(is_invalid_construct(&err, "Photos"), "{err}");
        let err = photos
            .add_object_created_notification(&mut stack, &queue, "in/")
            .unwrap_err();
        assert!(is_invalid_construct(&err, "Photos"), "{err}");
        assert_eq!(stack.statements(&queue.policy_id).len(), 1, "TLS only");
    }

    #[test]
    fn grants_to_a_function_go_to_its_execution_role() {
        use crate::constructs::function::{Function, FunctionCode, FunctionProps};
        let mut stack = stack();
        let bucket = Bucket::new(&mut stack, "Input", named()).unwrap();
        let function = Function::new(
            &mut stack,
            "Worker",
            FunctionProps::new(
                "worker",
                "test",
                FunctionCode {
                    bucket: "code".into(),
                    key: "worker.zip".into(),
                    version: None,
                },
            ),
        )
        .unwrap();
        let granted = bucket.grant_read(&mut stack, &function, "in/*").unwrap();
        assert!(
            stack
                .statements(&function.role.logical_id)
                .contains(&granted[0])
        );
    }

    #[test]
    fn an_expiration_rule_expires_current_versions_under_its_prefix() {
        let mut stack = stack();
        let bucket = Bucket::new(&mut stack, "Input", named()).unwrap();
        bucket
            .add_expiration_rule(&mut stack, "uploads", "incoming/", 7)
            .unwrap();
        let r = synthesized(&stack, &bucket.logical_id);
        let rules = r.property("LifecycleConfiguration.Rules").unwrap();
        assert_eq!(
            rules.as_array().unwrap().last().unwrap(),
            &json!({"Id": "expire-uploads", "Status": "Enabled", "Prefix": "incoming/", "ExpirationInDays": 7})
        );
        assert!(
            bucket
                .add_expiration_rule(&mut stack, "uploads", "x/", 1)
                .is_err()
        );
        assert!(
            bucket
                .add_expiration_rule(&mut stack, "never", "x/", 0)
                .is_err()
        );
        let imported = Bucket::from_name("Old", "old-bucket").unwrap();
        assert!(
            imported
                .add_expiration_rule(&mut stack, "x", "x/", 1)
                .is_err()
        );
    }

    #[test]
    fn notifications_are_typed_bucket_state_rendered_at_synth() {
        let mut stack = stack();
        let bucket = Bucket::new(&mut stack, "Input", named()).unwrap();
        let queue = Queue::new(&mut stack, "Ingest", QueueProps::default()).unwrap();
        stack
            .resource_mut(&bucket.logical_id)
            .unwrap()
            .add_property_override("VersioningConfiguration.Status", "Suspended")
            .unwrap();
        bucket
            .add_object_created_notification(&mut stack, &queue, "in/")
            .unwrap();
        let typed = stack.props::<CfnBucket>(&bucket.logical_id).unwrap();
        let configs = &typed
            .notification_configuration
            .as_ref()
            .unwrap()
            .queue_configurations;
        assert_eq!(configs.len(), 1);
        assert_eq!(configs[0].queue, queue.arn());
        let r = synthesized(&stack, &bucket.logical_id);
        assert_eq!(
            r.property("NotificationConfiguration.QueueConfigurations.0.Queue"),
            Some(&json!({"Fn::GetAtt": ["Ingest", "Arn"]}))
        );
        assert_eq!(
            r.property("VersioningConfiguration.Status"),
            Some(&json!("Suspended")),
            "an override made before the typed change still wins"
        );
    }
}
