//! The rules. Each reads one resource of the rendered template (and, for TLS rules, the resource
//! policies that refer to it).

use serde_json::Value;

use super::{Rule, Severity};
use crate::template::{Resource, Template};

/// Actions that support no resource-level permission, so `Resource: "*"` is the only form IAM
/// accepts (Service Authorization Reference, "Actions defined by Amazon Rekognition":
/// <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrekognition.html>).
pub const RESOURCELESS_ACTIONS: &[&str] = &[
    "rekognition:DetectLabels",
    "rekognition:DetectText",
    "rekognition:DetectFaces",
    "rekognition:CompareFaces",
    "rekognition:DetectModerationLabels",
    "cloudtrail:LookupEvents",
];

/// Every rule of the pack.
pub static RULES: &[Rule] = &[
    // S3
    Rule {
        id: "S3-ENCRYPTION",
        severity: Severity::Error,
        resource_type: "AWS::S3::Bucket",
        description: "Buckets have default server-side encryption.",
        checkov: &["CKV_AWS_19"],
        check: |_, _, r| missing(r, "BucketEncryption.ServerSideEncryptionConfiguration.0", "no default encryption"),
    },
    Rule {
        id: "S3-KMS",
        severity: Severity::Warning,
        resource_type: "AWS::S3::Bucket",
        description: "Buckets use SSE-KMS rather than SSE-S3.",
        checkov: &["CKV_AWS_145"],
        check: |_, _, r| {
            let algorithm = r.property("BucketEncryption.ServerSideEncryptionConfiguration.0.ServerSideEncryptionByDefault.SSEAlgorithm");
            (algorithm != Some(&Value::from("aws:kms"))).then(|| "encrypted with SSE-S3, not SSE-KMS".into())
        },
    },
    Rule {
        id: "S3-PUBLIC-ACCESS",
        severity: Severity::Error,
        resource_type: "AWS::S3::Bucket",
        description: "All four Block Public Access settings are on.",
        checkov: &["CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"],
        check: |_, _, r| {
            let off: Vec<&str> = ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"]
                .into_iter()
                .filter(|k| r.property(&format!("PublicAccessBlockConfiguration.{k}")) != Some(&Value::Bool(true)))
                .collect();
            (!off.is_empty()).then(|| format!("public access not blocked: {}", off.join(", ")))
        },
    },
    Rule {
        id: "S3-TLS",
        severity: Severity::Error,
        resource_type: "AWS::S3::Bucket",
        description: "A bucket policy denies requests that do not use TLS.",
        checkov: &[],
        check: |t, id, _| tls_enforced(t, "AWS::S3::BucketPolicy", "Bucket", id),
    },
    Rule {
        id: "S3-VERSIONING",
        severity: Severity::Error,
        resource_type: "AWS::S3::Bucket",
        description: "Versioning is enabled.",
        checkov: &["CKV_AWS_21"],
        check: |_, _, r| {
            (r.property("VersioningConfiguration.Status") != Some(&Value::from("Enabled"))).then(|| "versioning is off".into())
        },
    },
    Rule {
        id: "S3-NONCURRENT-EXPIRY",
        severity: Severity::Warning,
        resource_type: "AWS::S3::Bucket",
        description: "Versioned buckets expire noncurrent versions with a lifecycle rule.",
        checkov: &[],
        check: |_, _, r| {
            let versioned = r.property("VersioningConfiguration.Status") == Some(&Value::from("Enabled"));
            let rules = r.property("LifecycleConfiguration.Rules").and_then(Value::as_array);
            let expires = rules.is_some_and(|rules| rules.iter().any(|rule| rule.get("NoncurrentVersionExpiration").is_some()));
            (versioned && !expires).then(|| "noncurrent versions are kept forever".into())
        },
    },
    Rule {
        id: "S3-ACCESS-LOGS",
        severity: Severity::Error,
        resource_type: "AWS::S3::Bucket",
        description: "Server access logs are delivered to a log bucket.",
        checkov: &["CKV_AWS_18"],
        check: |_, _, r| missing(r, "LoggingConfiguration.DestinationBucketName", "no server access logs"),
    },
    Rule {
        id: "S3-ACLS-DISABLED",
        severity: Severity::Error,
        resource_type: "AWS::S3::Bucket",
        description: "Object ownership is BucketOwnerEnforced (ACLs disabled).",
        checkov: &[],
        check: |_, _, r| {
            (r.property("OwnershipControls.Rules.0.ObjectOwnership") != Some(&Value::from("BucketOwnerEnforced")))
                .then(|| "ACLs are not disabled".into())
        },
    },
    Rule {
        id: "S3-REPLICATION",
        severity: Severity::Warning,
        resource_type: "AWS::S3::Bucket",
        description: "Buckets replicate to another Region.",
        checkov: &["CKV_AWS_144"],
        check: |_, _, r| missing(r, "ReplicationConfiguration", "no cross-Region replication"),
    },
    // SQS
    Rule {
        id: "SQS-ENCRYPTION",
        severity: Severity::Error,
        resource_type: "AWS::SQS::Queue",
        description: "Queues are encrypted (SSE-SQS or SSE-KMS).",
        checkov: &[],
        check: |_, _, r| {
            let sse = r.property("SqsManagedSseEnabled") == Some(&Value::Bool(true)) || r.property("KmsMasterKeyId").is_some();
            (!sse).then(|| "not encrypted".into())
        },
    },
    Rule {
        id: "SQS-KMS",
        severity: Severity::Warning,
        resource_type: "AWS::SQS::Queue",
        description: "Queues use SSE-KMS rather than SSE-SQS.",
        checkov: &["CKV_AWS_27"],
        check: |_, _, r| missing(r, "KmsMasterKeyId", "encrypted with SSE-SQS, not SSE-KMS"),
    },
    Rule {
        id: "SQS-TLS",
        severity: Severity::Error,
        resource_type: "AWS::SQS::Queue",
        description: "A queue policy denies requests that do not use TLS.",
        checkov: &[],
        check: |t, id, _| tls_enforced(t, "AWS::SQS::QueuePolicy", "Queues", id),
    },
    Rule {
        id: "SQS-DLQ",
        severity: Severity::Error,
        resource_type: "AWS::SQS::Queue",
        description: "Queues have a dead-letter queue, unless they are one.",
        checkov: &[],
        check: |t, id, r| {
            let is_dlq = t.resources.values().any(|other| {
                other.property("RedrivePolicy.deadLetterTargetArn").is_some_and(|arn| refers_to(arn, id))
            });
            (!is_dlq && r.property("RedrivePolicy").is_none()).then(|| "no dead-letter queue".into())
        },
    },
    // SNS
    Rule {
        id: "SNS-ENCRYPTION",
        severity: Severity::Error,
        resource_type: "AWS::SNS::Topic",
        description: "Topics are encrypted with KMS.",
        checkov: &["CKV_AWS_26"],
        check: |_, _, r| missing(r, "KmsMasterKeyId", "not encrypted"),
    },
    Rule {
        id: "SNS-TLS",
        severity: Severity::Error,
        resource_type: "AWS::SNS::Topic",
        description: "A topic policy denies publishing without TLS.",
        checkov: &[],
        check: |t, id, _| tls_enforced(t, "AWS::SNS::TopicPolicy", "Topics", id),
    },
    // DynamoDB
    Rule {
        id: "DDB-PITR",
        severity: Severity::Error,
        resource_type: "AWS::DynamoDB::Table",
        description: "Point-in-time recovery is on.",
        checkov: &["CKV_AWS_28"],
        check: |_, _, r| {
            (r.property("PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled") != Some(&Value::Bool(true)))
                .then(|| "point-in-time recovery is off".into())
        },
    },
    Rule {
        id: "DDB-CMK",
        severity: Severity::Warning,
        resource_type: "AWS::DynamoDB::Table",
        description: "Tables are encrypted with a customer managed KMS key.",
        checkov: &["CKV_AWS_119"],
        check: |_, _, r| missing(r, "SSESpecification.KMSMasterKeyId", "encrypted with an AWS managed key"),
    },
    Rule {
        id: "DDB-DELETION-PROTECTION",
        severity: Severity::Error,
        resource_type: "AWS::DynamoDB::Table",
        description: "Retained tables have deletion protection.",
        checkov: &[],
        check: |_, _, r| {
            let retained = r.deletion_policy == Some(crate::template::DeletionPolicy::Retain);
            let protected = r.property("DeletionProtectionEnabled") == Some(&Value::Bool(true));
            (retained && !protected).then(|| "retained but deletion protection is off".into())
        },
    },
    // Lambda
    Rule {
        id: "LAMBDA-LOG-GROUP",
        severity: Severity::Error,
        resource_type: "AWS::Lambda::Function",
        description: "Functions log to their own log group (with retention), in JSON.",
        checkov: &[],
        check: |_, _, r| missing(r, "LoggingConfig.LogGroup", "logs go to an implicit log group that never expires"),
    },
    Rule {
        id: "LAMBDA-CONCURRENCY",
        severity: Severity::Warning,
        resource_type: "AWS::Lambda::Function",
        description: "Functions set reserved concurrency.",
        checkov: &["CKV_AWS_115"],
        check: |_, _, r| missing(r, "ReservedConcurrentExecutions", "no reserved concurrency"),
    },
    Rule {
        id: "LAMBDA-DLQ",
        severity: Severity::Warning,
        resource_type: "AWS::Lambda::Function",
        description: "Asynchronously invoked functions have a dead-letter queue.",
        checkov: &["CKV_AWS_116"],
        check: |_, _, r| missing(r, "DeadLetterConfig", "no dead-letter queue for asynchronous invocations"),
    },
    Rule {
        id: "LAMBDA-VPC",
        severity: Severity::Warning,
        resource_type: "AWS::Lambda::Function",
        description: "Functions run inside a VPC.",
        checkov: &["CKV_AWS_117"],
        check: |_, _, r| missing(r, "VpcConfig", "not in a VPC"),
    },
    Rule {
        id: "LAMBDA-ENV-KMS",
        severity: Severity::Warning,
        resource_type: "AWS::Lambda::Function",
        description: "Environment variables are encrypted with a customer managed KMS key.",
        checkov: &["CKV_AWS_173"],
        check: |_, _, r| {
            (r.property("Environment").is_some() && r.property("KmsKeyArn").is_none())
                .then(|| "environment encrypted with the AWS managed key".into())
        },
    },
    Rule {
        id: "LAMBDA-CODE-SIGNING",
        severity: Severity::Warning,
        resource_type: "AWS::Lambda::Function",
        description: "Functions validate code signatures.",
        checkov: &["CKV_AWS_272"],
        check: |_, _, r| missing(r, "CodeSigningConfigArn", "no code signing"),
    },
    Rule {
        id: "LAMBDA-ESM-PARTIAL-BATCH",
        severity: Severity::Error,
        resource_type: "AWS::Lambda::EventSourceMapping",
        description: "SQS event source mappings report batch item failures, so one bad message does not retry the batch.",
        checkov: &[],
        check: |_, _, r| {
            let types = r.property("FunctionResponseTypes").and_then(Value::as_array);
            let reports = types.is_some_and(|t| t.iter().any(|v| v == "ReportBatchItemFailures"));
            (!reports).then(|| "ReportBatchItemFailures is not set".into())
        },
    },
    // CloudWatch Logs
    Rule {
        id: "LOGS-RETENTION",
        severity: Severity::Error,
        resource_type: "AWS::Logs::LogGroup",
        description: "Log groups have a retention period.",
        checkov: &["CKV_AWS_66"],
        check: |_, _, r| missing(r, "RetentionInDays", "log events never expire"),
    },
    Rule {
        id: "LOGS-RETENTION-1Y",
        severity: Severity::Warning,
        resource_type: "AWS::Logs::LogGroup",
        description: "Log groups keep events for at least a year.",
        checkov: &["CKV_AWS_338"],
        check: |_, _, r| {
            let days = r.property("RetentionInDays").and_then(Value::as_u64);
            days.is_some_and(|d| d < 365).then(|| format!("kept {} days", days.unwrap_or_default()))
        },
    },
    Rule {
        id: "LOGS-KMS",
        severity: Severity::Warning,
        resource_type: "AWS::Logs::LogGroup",
        description: "Log groups are encrypted with a customer managed KMS key.",
        checkov: &["CKV_AWS_158"],
        check: |_, _, r| missing(r, "KmsKeyId", "encrypted with the service key"),
    },
    // IAM
    Rule {
        id: "IAM-WILDCARD-RESOURCE",
        severity: Severity::Error,
        resource_type: "AWS::IAM::Role",
        description: "Allow statements name exact resources; `*` only in a statement of its own holding only actions that support no resource.",
        checkov: &["CKV_AWS_111", "CKV_AWS_355"],
        check: |_, _, r| {
            let bad: Vec<String> = allow_statements(r)
                .filter(|s| resources(s).iter().any(|res| res == "*"))
                .flat_map(actions)
                .filter(|a| !RESOURCELESS_ACTIONS.contains(&a.as_str()))
                .collect();
            (!bad.is_empty()).then(|| format!("`Resource: *` for {}", bad.join(", ")))
        },
    },
    Rule {
        id: "IAM-WILDCARD-ACTION",
        severity: Severity::Error,
        resource_type: "AWS::IAM::Role",
        description: "Allow statements name exact actions (no `*`).",
        checkov: &[],
        check: |_, _, r| {
            let bad: Vec<String> = allow_statements(r).flat_map(actions).filter(|a| a.contains('*')).collect();
            (!bad.is_empty()).then(|| format!("wildcard actions {}", bad.join(", ")))
        },
    },
    Rule {
        id: "IAM-MANAGED-POLICY",
        severity: Severity::Error,
        resource_type: "AWS::IAM::Role",
        description: "Roles carry their own least-privilege inline policy, not AWS managed policies.",
        checkov: &[],
        check: |_, _, r| {
            r.property("ManagedPolicyArns").is_some_and(|v| v.as_array().is_none_or(|a| !a.is_empty()))
                .then(|| "managed policies attached".into())
        },
    },
    // CloudTrail
    Rule {
        id: "TRAIL-MULTI-REGION",
        severity: Severity::Error,
        resource_type: "AWS::CloudTrail::Trail",
        description: "Trails record every Region and global service events.",
        checkov: &["CKV_AWS_67"],
        check: |_, _, r| {
            let ok = r.property("IsMultiRegionTrail") == Some(&Value::Bool(true))
                && r.property("IncludeGlobalServiceEvents") == Some(&Value::Bool(true));
            (!ok).then(|| "not multi-Region with global service events".into())
        },
    },
    Rule {
        id: "TRAIL-LOG-VALIDATION",
        severity: Severity::Error,
        resource_type: "AWS::CloudTrail::Trail",
        description: "Trails write digest files for log file integrity validation.",
        checkov: &["CKV_AWS_36"],
        check: |_, _, r| {
            (r.property("EnableLogFileValidation") != Some(&Value::Bool(true))).then(|| "log file validation is off".into())
        },
    },
    Rule {
        id: "TRAIL-KMS",
        severity: Severity::Warning,
        resource_type: "AWS::CloudTrail::Trail",
        description: "Trail log files are encrypted with a customer managed KMS key.",
        checkov: &["CKV_AWS_35"],
        check: |_, _, r| missing(r, "KMSKeyId", "log files use SSE-S3"),
    },
    Rule {
        id: "TRAIL-SNS",
        severity: Severity::Warning,
        resource_type: "AWS::CloudTrail::Trail",
        description: "Trails notify an SNS topic of each log file delivery.",
        checkov: &["CKV_AWS_252"],
        check: |_, _, r| missing(r, "SnsTopicName", "no delivery notifications"),
    },
    // KMS
    Rule {
        id: "KMS-ROTATION",
        severity: Severity::Error,
        resource_type: "AWS::KMS::Key",
        description: "Customer managed keys rotate yearly.",
        checkov: &["CKV_AWS_7"],
        check: |_, _, r| {
            (r.property("EnableKeyRotation") != Some(&Value::Bool(true))).then(|| "key rotation is off".into())
        },
    },
];

fn missing(r: &Resource, path: &str, message: &str) -> Option<String> {
    r.property(path).is_none().then(|| message.to_owned())
}

/// Whether `value` is `{"Ref": id}` or `{"Fn::GetAtt": [id, …]}`.
fn refers_to(value: &Value, id: &str) -> bool {
    value.get("Ref").and_then(Value::as_str) == Some(id)
        || value.get("Fn::GetAtt").and_then(|v| v.get(0)).and_then(Value::as_str) == Some(id)
}

/// Passes when a policy resource of `policy_type` whose `target_key` names `id` has a statement
/// that denies requests with `aws:SecureTransport` false.
fn tls_enforced(t: &Template, policy_type: &str, target_key: &str, id: &str) -> Option<String> {
    let enforced = t
        .resources
        .values()
        .filter(|p| p.resource_type == policy_type)
        .filter(|p| match p.properties.get(target_key) {
            Some(Value::Array(targets)) => targets.iter().any(|v| refers_to(v, id)),
            Some(target) => refers_to(target, id),
            None => false,
        })
        .filter_map(|p| p.property("PolicyDocument.Statement").and_then(Value::as_array))
        .flatten()
        .any(|s| {
            s.get("Effect") == Some(&Value::from("Deny"))
                && s.pointer("/Condition/Bool/aws:SecureTransport") == Some(&Value::from("false"))
        });
    (!enforced).then(|| "requests without TLS are not denied".into())
}

fn allow_statements(r: &Resource) -> impl Iterator<Item = &Value> {
    r.property("Policies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.pointer("/PolicyDocument/Statement").and_then(Value::as_array))
        .flatten()
        .filter(|s| s.get("Effect") == Some(&Value::from("Allow")))
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

fn actions(statement: &Value) -> Vec<String> {
    string_list(statement.get("Action"))
}

fn resources(statement: &Value) -> Vec<String> {
    string_list(statement.get("Resource"))
}
