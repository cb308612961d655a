//! The rules. Each reads one resource of the rendered template (and, for TLS rules, the resource
//! policies that refer to it).

use serde_json::Value;

use super::{Rule, Severity};
use crate::template::{Resource, Template};

/// Actions that support no resource-level permission, so `Resource: "*"` is the only form IAM
/// accepts (the default of [`super::RuleSet::resourceless_actions`]) (Service Authorization Reference, "Actions defined by Amazon Rekognition":
/// <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrekognition.html>).
pub const RESOURCELESS_ACTIONS: &[&str] = &[
    "rekognition:DetectLabels",
    "rekognition:DetectText",
    "rekognition:DetectFaces",
    "rekognition:CompareFaces",
    "rekognition:DetectModerationLabels",
    "cloudtrail:LookupEvents",
    "kms:CreateKey",
    "lambda:CreateEventSourceMapping",
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
        guard: &[],
        check: |_, _, r| {
            missing(
                r,
                "BucketEncryption.ServerSideEncryptionConfiguration.0",
                "no default encryption",
            )
        },
    },
    Rule {
        id: "S3-KMS",
        severity: Severity::Warning,
        resource_type: "AWS::S3::Bucket",
        description: "Buckets use SSE-KMS rather than SSE-S3.",
        checkov: &["CKV_AWS_145"],
        guard: &["s3_bucket_default_encryption_kms_check"],
        check: |_, _, r| {
            let algorithm = r.property("BucketEncryption.ServerSideEncryptionConfiguration.0.ServerSideEncryptionByDefault.SSEAlgorithm");
            (algorithm != Some(&Value::from("aws:kms")))
                .then(|| "encrypted with SSE-S3, not SSE-KMS".into())
        },
    },
    Rule {
        id: "S3-PUBLIC-ACCESS",
        severity: Severity::Error,
        resource_type: "AWS::S3::Bucket",
        description: "All four Block Public Access settings are on.",
        checkov: &["CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"],
        guard: &[],
        check: |_, _, r| {
            let off: Vec<&str> = [
                "BlockPublicAcls",
                "BlockPublicPolicy",
                "IgnorePublicAcls",
                "RestrictPublicBuckets",
            ]
            .into_iter()
            .filter(|k| {
                r.property(&format!("PublicAccessBlockConfiguration.{k}"))
                    != Some(&Value::Bool(true))
            })
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
        guard: &[],
        check: |t, id, _| tls_enforced(t, "AWS::S3::BucketPolicy", "Bucket", id),
    },
    Rule {
        id: "S3-VERSIONING",
        severity: Severity::Error,
        resource_type: "AWS::S3::Bucket",
        description: "Versioning is enabled.",
        checkov: &["CKV_AWS_21"],
        guard: &[],
        check: |_, _, r| {
            (r.property("VersioningConfiguration.Status") != Some(&Value::from("Enabled")))
                .then(|| "versioning is off".into())
        },
    },
    Rule {
        id: "S3-NONCURRENT-EXPIRY",
        severity: Severity::Warning,
        resource_type: "AWS::S3::Bucket",
        description: "Versioned buckets expire noncurrent versions with a lifecycle rule.",
        checkov: &[],
        guard: &[],
        check: |_, _, r| {
            let versioned =
                r.property("VersioningConfiguration.Status") == Some(&Value::from("Enabled"));
            let rules = r
                .property("LifecycleConfiguration.Rules")
                .and_then(Value::as_array);
            let expires = rules.is_some_and(|rules| {
                rules
                    .iter()
                    .any(|rule| rule.get("NoncurrentVersionExpiration").is_some())
            });
            (versioned && !expires).then(|| "noncurrent versions are kept forever".into())
        },
    },
    Rule {
        id: "S3-ACCESS-LOGS",
        severity: Severity::Error,
        resource_type: "AWS::S3::Bucket",
        description: "Server access logs are delivered to a log bucket.",
        checkov: &["CKV_AWS_18"],
        guard: &["s3_bucket_logging_enabled_check"],
        check: |_, _, r| {
            missing(
                r,
                "LoggingConfiguration.DestinationBucketName",
                "no server access logs",
            )
        },
    },
    Rule {
        id: "S3-ACLS-DISABLED",
        severity: Severity::Error,
        resource_type: "AWS::S3::Bucket",
        description: "Object ownership is BucketOwnerEnforced (ACLs disabled).",
        checkov: &[],
        guard: &[],
        check: |_, _, r| {
            (r.property("OwnershipControls.Rules.0.ObjectOwnership")
                != Some(&Value::from("BucketOwnerEnforced")))
            .then(|| "ACLs are not disabled".into())
        },
    },
    Rule {
        id: "S3-REPLICATION",
        severity: Severity::Warning,
        resource_type: "AWS::S3::Bucket",
        description: "Buckets replicate to another Region.",
        checkov: &["CKV_AWS_144"],
        guard: &[],
        check: |_, _, r| missing(r, "ReplicationConfiguration", "no cross-Region replication"),
    },
    Rule {
        id: "S3-EVENT-NOTIFICATIONS",
        severity: Severity::Warning,
        resource_type: "AWS::S3::Bucket",
        description: "Buckets send event notifications (to SQS, SNS, Lambda or EventBridge).",
        checkov: &[],
        guard: &["s3_event_notifications_enabled_check"],
        check: |_, _, r| missing(r, "NotificationConfiguration", "no event notifications"),
    },
    Rule {
        id: "S3-OBJECT-LOCK",
        severity: Severity::Warning,
        resource_type: "AWS::S3::Bucket",
        description: "Buckets have S3 Object Lock enabled (objects cannot be deleted or overwritten while locked).",
        checkov: &[],
        guard: &["s3_bucket_object_lock_enabled_check"],
        check: |_, _, r| {
            (r.property("ObjectLockEnabled") != Some(&Value::Bool(true)))
                .then(|| "no object lock".into())
        },
    },
    // SQS
    Rule {
        id: "SQS-ENCRYPTION",
        severity: Severity::Error,
        resource_type: "AWS::SQS::Queue",
        description: "Queues are encrypted (SSE-SQS or SSE-KMS).",
        checkov: &[],
        guard: &[],
        check: |_, _, r| {
            let sse = r.property("SqsManagedSseEnabled") == Some(&Value::Bool(true))
                || r.property("KmsMasterKeyId").is_some();
            (!sse).then(|| "not encrypted".into())
        },
    },
    Rule {
        id: "SQS-KMS",
        severity: Severity::Warning,
        resource_type: "AWS::SQS::Queue",
        description: "Queues use SSE-KMS rather than SSE-SQS.",
        checkov: &["CKV_AWS_27"],
        guard: &[],
        check: |_, _, r| missing(r, "KmsMasterKeyId", "encrypted with SSE-SQS, not SSE-KMS"),
    },
    Rule {
        id: "SQS-TLS",
        severity: Severity::Error,
        resource_type: "AWS::SQS::Queue",
        description: "A queue policy denies requests that do not use TLS.",
        checkov: &[],
        guard: &[],
        check: |t, id, _| tls_enforced(t, "AWS::SQS::QueuePolicy", "Queues", id),
    },
    Rule {
        id: "SQS-DLQ",
        severity: Severity::Error,
        resource_type: "AWS::SQS::Queue",
        description: "Queues have a dead-letter queue, unless they are one.",
        checkov: &[],
        guard: &["sqs_dlq_check"],
        check: |t, id, r| {
            let is_dlq = t.resources.values().any(|other| {
                other
                    .property("RedrivePolicy.deadLetterTargetArn")
                    .is_some_and(|arn| refers_to(arn, id))
            });
            (!is_dlq && r.property("RedrivePolicy").is_none())
                .then(|| "no dead-letter queue".into())
        },
    },
    // SNS
    Rule {
        id: "SNS-ENCRYPTION",
        severity: Severity::Error,
        resource_type: "AWS::SNS::Topic",
        description: "Topics are encrypted with KMS.",
        checkov: &["CKV_AWS_26"],
        guard: &[],
        check: |_, _, r| missing(r, "KmsMasterKeyId", "not encrypted"),
    },
    Rule {
        id: "SNS-TLS",
        severity: Severity::Error,
        resource_type: "AWS::SNS::Topic",
        description: "A topic policy denies publishing without TLS.",
        checkov: &[],
        guard: &[],
        check: |t, id, _| tls_enforced(t, "AWS::SNS::TopicPolicy", "Topics", id),
    },
    // DynamoDB
    Rule {
        id: "DDB-PITR",
        severity: Severity::Error,
        resource_type: "AWS::DynamoDB::Table",
        description: "Point-in-time recovery is on.",
        checkov: &["CKV_AWS_28"],
        guard: &[],
        check: |_, _, r| {
            (r.property("PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled")
                != Some(&Value::Bool(true)))
            .then(|| "point-in-time recovery is off".into())
        },
    },
    Rule {
        id: "DDB-CMK",
        severity: Severity::Warning,
        resource_type: "AWS::DynamoDB::Table",
        description: "Tables are encrypted with a customer managed KMS key.",
        checkov: &["CKV_AWS_119"],
        guard: &[],
        check: |_, _, r| {
            missing(
                r,
                "SSESpecification.KMSMasterKeyId",
                "encrypted with an AWS managed key",
            )
        },
    },
    Rule {
        id: "DDB-DELETION-PROTECTION",
        severity: Severity::Error,
        resource_type: "AWS::DynamoDB::Table",
        description: "Retained tables have deletion protection.",
        checkov: &[],
        guard: &[],
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
        guard: &[],
        check: |_, _, r| {
            missing(
                r,
                "LoggingConfig.LogGroup",
                "logs go to an implicit log group that never expires",
            )
        },
    },
    Rule {
        id: "LAMBDA-CONCURRENCY",
        severity: Severity::Warning,
        resource_type: "AWS::Lambda::Function",
        description: "Functions set reserved concurrency.",
        checkov: &["CKV_AWS_115"],
        guard: &[],
        check: |_, _, r| missing(r, "ReservedConcurrentExecutions", "no reserved concurrency"),
    },
    Rule {
        id: "LAMBDA-DLQ",
        severity: Severity::Warning,
        resource_type: "AWS::Lambda::Function",
        description: "Asynchronously invoked functions have a dead-letter queue.",
        checkov: &["CKV_AWS_116"],
        guard: &[],
        check: |_, _, r| {
            missing(
                r,
                "DeadLetterConfig",
                "no dead-letter queue for asynchronous invocations",
            )
        },
    },
    Rule {
        id: "LAMBDA-VPC",
        severity: Severity::Warning,
        resource_type: "AWS::Lambda::Function",
        description: "Functions run inside a VPC.",
        checkov: &["CKV_AWS_117"],
        guard: &["lambda_inside_vpc_check"],
        check: |_, _, r| missing(r, "VpcConfig", "not in a VPC"),
    },
    Rule {
        id: "LAMBDA-ENV-KMS",
        severity: Severity::Warning,
        resource_type: "AWS::Lambda::Function",
        description: "Environment variables are encrypted with a customer managed KMS key.",
        checkov: &["CKV_AWS_173"],
        guard: &[],
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
        guard: &[],
        check: |_, _, r| missing(r, "CodeSigningConfigArn", "no code signing"),
    },
    Rule {
        id: "LAMBDA-ESM-PARTIAL-BATCH",
        severity: Severity::Error,
        resource_type: "AWS::Lambda::EventSourceMapping",
        description: "SQS event source mappings report batch item failures, so one bad message does not retry the batch.",
        checkov: &[],
        guard: &[],
        check: |_, _, r| {
            let types = r
                .property("FunctionResponseTypes")
                .and_then(Value::as_array);
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
        guard: &[],
        check: |_, _, r| missing(r, "RetentionInDays", "log events never expire"),
    },
    Rule {
        id: "LOGS-RETENTION-1Y",
        severity: Severity::Warning,
        resource_type: "AWS::Logs::LogGroup",
        description: "Log groups keep events for at least a year.",
        checkov: &["CKV_AWS_338"],
        guard: &["cloudwatch_log_group_retention_period_check"],
        check: |_, _, r| {
            let days = r.property("RetentionInDays").and_then(Value::as_u64);
            days.is_some_and(|d| d < 365)
                .then(|| format!("kept {} days", days.unwrap_or_default()))
        },
    },
    Rule {
        id: "LOGS-KMS",
        severity: Severity::Warning,
        resource_type: "AWS::Logs::LogGroup",
        description: "Log groups are encrypted with a customer managed KMS key.",
        checkov: &["CKV_AWS_158"],
        guard: &["cloudwatch_log_group_encrypted_check"],
        check: |_, _, r| missing(r, "KmsKeyId", "encrypted with the service key"),
    },
    Rule {
        id: "LAMBDA-PERMISSION-SOURCE",
        severity: Severity::Error,
        resource_type: "AWS::Lambda::Permission",
        description: "A permission for a service or anyone names the source (SourceArn or SourceAccount).",
        checkov: &[],
        guard: &["lambda_function_public_access_prohibited_check"],
        check: |_, _, r| {
            let principal = r
                .property("Principal")
                .and_then(Value::as_str)
                .unwrap_or("*");
            let account = principal.len() == 12 && principal.chars().all(|c| c.is_ascii_digit());
            (!account && r.property("SourceArn").is_none() && r.property("SourceAccount").is_none())
                .then(|| format!("{principal} may invoke from any source"))
        },
    },
    // IAM
    Rule {
        id: "IAM-WILDCARD-RESOURCE",
        severity: Severity::Error,
        resource_type: "AWS::IAM::Role",
        description: "Allow statements name exact resources; `*` only in a statement of its own holding only actions that support no resource.",
        checkov: &["CKV_AWS_111", "CKV_AWS_355"],
        guard: &[],
        check: |cx, _, r| {
            let bad: Vec<String> = allow_statements(r)
                .filter(|s| resources(s).iter().any(|res| res == "*"))
                .flat_map(actions)
                .filter(|a| !cx.is_resourceless(a))
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
        guard: &[],
        check: |_, _, r| {
            let bad: Vec<String> = allow_statements(r)
                .flat_map(actions)
                .filter(|a| a.contains('*'))
                .collect();
            (!bad.is_empty()).then(|| format!("wildcard actions {}", bad.join(", ")))
        },
    },
    Rule {
        id: "IAM-NOT-ACTION",
        severity: Severity::Error,
        resource_type: "AWS::IAM::Role",
        description: "Allow statements do not use NotAction or NotResource (they grant everything else).",
        checkov: &[],
        guard: &[],
        check: |_, _, r| {
            let bad = allow_statements(r)
                .filter(|s| s.get("NotAction").is_some() || s.get("NotResource").is_some())
                .count();
            (bad > 0).then(|| format!("{bad} Allow statement(s) with NotAction or NotResource"))
        },
    },
    Rule {
        id: "IAM-MANAGED-POLICY",
        severity: Severity::Error,
        resource_type: "AWS::IAM::Role",
        description: "Roles carry their own least-privilege inline policy, not AWS managed policies.",
        checkov: &[],
        guard: &[],
        check: |_, _, r| {
            r.property("ManagedPolicyArns")
                .is_some_and(|v| v.as_array().is_none_or(|a| !a.is_empty()))
                .then(|| "managed policies attached".into())
        },
    },
    // API Gateway HTTP APIs
    Rule {
        id: "API-ROUTE-AUTH",
        severity: Severity::Error,
        resource_type: "AWS::ApiGatewayV2::Route",
        description: "Routes require authorization (IAM, JWT or a Lambda authorizer).",
        checkov: &["CKV_AWS_309"],
        guard: &[],
        check: |_, _, r| {
            let auth = r
                .property("AuthorizationType")
                .and_then(Value::as_str)
                .unwrap_or("NONE");
            (auth == "NONE").then(|| "the route is open to anyone".into())
        },
    },
    Rule {
        id: "API-ACCESS-LOGS",
        severity: Severity::Error,
        resource_type: "AWS::ApiGatewayV2::Stage",
        description: "Stages write access logs.",
        checkov: &["CKV_AWS_76"],
        guard: &[],
        check: |_, _, r| missing(r, "AccessLogSettings.DestinationArn", "no access logs"),
    },
    // CloudTrail
    Rule {
        id: "TRAIL-MULTI-REGION",
        severity: Severity::Error,
        resource_type: "AWS::CloudTrail::Trail",
        description: "Trails record every Region and global service events.",
        checkov: &["CKV_AWS_67"],
        guard: &[],
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
        guard: &[],
        check: |_, _, r| {
            (r.property("EnableLogFileValidation") != Some(&Value::Bool(true)))
                .then(|| "log file validation is off".into())
        },
    },
    Rule {
        id: "TRAIL-KMS",
        severity: Severity::Warning,
        resource_type: "AWS::CloudTrail::Trail",
        description: "Trail log files are encrypted with a customer managed KMS key.",
        checkov: &["CKV_AWS_35"],
        guard: &["cloud_trail_encryption_enabled_check"],
        check: |_, _, r| missing(r, "KMSKeyId", "log files use SSE-S3"),
    },
    Rule {
        id: "TRAIL-SNS",
        severity: Severity::Warning,
        resource_type: "AWS::CloudTrail::Trail",
        description: "Trails notify an SNS topic of each log file delivery.",
        checkov: &["CKV_AWS_252"],
        guard: &[],
        check: |_, _, r| missing(r, "SnsTopicName", "no delivery notifications"),
    },
    Rule {
        id: "TRAIL-CLOUDWATCH-LOGS",
        severity: Severity::Warning,
        resource_type: "AWS::CloudTrail::Trail",
        description: "Trails also deliver events to CloudWatch Logs.",
        checkov: &[],
        guard: &["cloud_trail_cloud_watch_logs_enabled_check"],
        check: |_, _, r| {
            missing(
                r,
                "CloudWatchLogsLogGroupArn",
                "no CloudWatch Logs delivery",
            )
        },
    },
    // KMS
    Rule {
        id: "KMS-ROTATION",
        severity: Severity::Error,
        resource_type: "AWS::KMS::Key",
        description: "Customer managed keys rotate yearly.",
        checkov: &["CKV_AWS_7"],
        guard: &[],
        check: |_, _, r| {
            (r.property("EnableKeyRotation") != Some(&Value::Bool(true)))
                .then(|| "key rotation is off".into())
        },
    },
];

fn missing(r: &Resource, path: &str, message: &str) -> Option<String> {
    r.property(path).is_none().then(|| message.to_owned())
}

/// Whether `value` is `{"Ref": id}` or `{"Fn::GetAtt": [id, …]}`.
fn refers_to(value: &Value, id: &str) -> bool {
    value.get("Ref").and_then(Value::as_str) == Some(id)
        || value
            .get("Fn::GetAtt")
            .and_then(|v| v.get(0))
            .and_then(Value::as_str)
            == Some(id)
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
        .filter_map(|p| {
            p.property("PolicyDocument.Statement")
                .and_then(Value::as_array)
        })
        .flatten()
        .any(|s| {
            let insecure = s.pointer("/Condition/Bool/aws:SecureTransport");
            s.get("Effect") == Some(&Value::from("Deny"))
                && s.get("Principal") == Some(&Value::from("*"))
                && (insecure == Some(&Value::from("false"))
                    || insecure == Some(&Value::Bool(false)))
        });
    (!enforced).then(|| "requests without TLS are not denied".into())
}

fn allow_statements(r: &Resource) -> impl Iterator<Item = &Value> {
    r.property("Policies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            p.pointer("/PolicyDocument/Statement")
                .and_then(Value::as_array)
        })
        .flatten()
        .filter(|s| s.get("Effect") == Some(&Value::from("Allow")))
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn actions(statement: &Value) -> Vec<String> {
    string_list(statement.get("Action"))
}

fn resources(statement: &Value) -> Vec<String> {
    string_list(statement.get("Resource"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::json;

    use super::*;
    use crate::iam::{PolicyDocument, Principal, Statement};
    use crate::intrinsic::Expr;
    use crate::resources::dynamodb::{
        AttributeDefinition, CfnTable, KeySchema, PointInTimeRecoverySpecification,
    };
    use crate::resources::iam::{CfnRole, InlinePolicy};
    use crate::resources::lambda::CfnEventSourceMapping;
    use crate::resources::logs::CfnLogGroup;
    use crate::resources::s3::{CfnBucket, CfnBucketPolicy, PublicAccessBlockConfiguration};
    use crate::resources::sqs::{CfnQueue, RedrivePolicy};
    use crate::rules::{Finding, RuleReport, check};
    use crate::stack::Suppression;
    use crate::template::{CfnResource, DeletionPolicy};
    use crate::test_support::{finding, rules_for};

    fn template(resources: Vec<(&str, Resource)>) -> Template {
        let mut t = Template::default();
        t.resources
            .extend(resources.into_iter().map(|(id, r)| (id.to_owned(), r)));
        t
    }

    fn resource<R: CfnResource>(props: &R) -> Resource {
        Resource::from_props(props).unwrap()
    }

    fn report(t: &Template) -> RuleReport {
        check("test-stack", t, &BTreeMap::new(), &[])
    }

    fn role(statements: Vec<Statement>) -> Resource {
        let trust = Statement::allow(["sts:AssumeRole"], Vec::new())
            .with_principal(Principal::Service("lambda.amazonaws.com".into()));
        resource(&CfnRole {
            role_name: None,
            description: None,
            assume_role_policy_document: PolicyDocument::new(vec![trust]),
            policies: vec![InlinePolicy {
                policy_name: "least-privilege".into(),
                policy_document: PolicyDocument::new(statements),
            }],
            max_session_duration: None,
            path: None,
            permissions_boundary: None,
        })
    }

    fn tls_policy(target: Expr, effect_deny: bool) -> Resource {
        let mut statement =
            Statement::deny_insecure_transport(&["s3:*"], vec![Expr::get_att("B", "Arn")]);
        if !effect_deny {
            statement.effect = crate::iam::Effect::Allow;
        }
        resource(&CfnBucketPolicy {
            bucket: target,
            policy_document: PolicyDocument::new(vec![statement]),
        })
    }

    fn queue(redrive_to: Option<&str>) -> Resource {
        resource(&CfnQueue {
            sqs_managed_sse_enabled: Some(true),
            redrive_policy: redrive_to.map(|id| RedrivePolicy {
                dead_letter_target_arn: Expr::get_att(id, "Arn"),
                max_receive_count: 3,
            }),
            ..CfnQueue::default()
        })
    }

    #[test]
    fn wildcard_resource_is_flagged_for_actions_that_support_resources() {
        let t = template(vec![(
            "R",
            role(vec![Statement::allow(["s3:GetObject"], vec!["*".into()])]),
        )]);
        let report = report(&t);
        let f = finding(&report, "R", "IAM-WILDCARD-RESOURCE").unwrap();
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.message, "`Resource: *` for s3:GetObject");
        assert_eq!(f.suppressed, None);
    }

    #[test]
    fn wildcard_resource_is_allowed_for_resourceless_actions() {
        let t = template(vec![(
            "R",
            role(vec![Statement::allow(
                ["rekognition:DetectLabels", "rekognition:DetectText"],
                vec!["*".into()],
            )]),
        )]);
        assert_eq!(rules_for(&report(&t), "R"), BTreeSet::new());
    }

    #[test]
    fn wildcard_resource_names_only_the_actions_that_support_resources() {
        let t = template(vec![(
            "R",
            role(vec![Statement::allow(
                ["rekognition:DetectLabels", "s3:GetObject"],
                vec!["*".into()],
            )]),
        )]);
        assert_eq!(
            finding(&report(&t), "R", "IAM-WILDCARD-RESOURCE")
                .unwrap()
                .message,
            "`Resource: *` for s3:GetObject"
        );
    }

    #[test]
    fn exact_arns_pass_the_wildcard_resource_rule() {
        let t = template(vec![(
            "R",
            role(vec![Statement::allow(
                ["s3:GetObject"],
                vec![Expr::sub("${B.Arn}/*")],
            )]),
        )]);
        assert!(finding(&report(&t), "R", "IAM-WILDCARD-RESOURCE").is_none());
    }

    #[test]
    fn wildcard_actions_are_flagged() {
        for action in ["s3:*", "s3:Get*", "*"] {
            let t = template(vec![(
                "R",
                role(vec![Statement::allow(
                    [action],
                    vec![Expr::get_att("B", "Arn")],
                )]),
            )]);
            let report = report(&t);
            let f = finding(&report, "R", "IAM-WILDCARD-ACTION")
                .unwrap_or_else(|| panic!("{action} not flagged"));
            assert_eq!(f.message, format!("wildcard actions {action}"));
        }
        let t = template(vec![(
            "R",
            role(vec![Statement::allow(
                ["s3:GetObject"],
                vec![Expr::get_att("B", "Arn")],
            )]),
        )]);
        assert!(finding(&report(&t), "R", "IAM-WILDCARD-ACTION").is_none());
    }

    #[test]
    fn deny_statements_are_not_checked_for_wildcards() {
        let t = template(vec![(
            "R",
            role(vec![Statement::deny(["s3:*"], vec!["*".into()])]),
        )]);
        assert_eq!(rules_for(&report(&t), "R"), BTreeSet::new());
    }

    #[test]
    fn wildcards_written_as_plain_strings_are_flagged_too() {
        let mut r = role(Vec::new());
        r.add_property_override(
            "Policies.0.PolicyDocument.Statement",
            json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]),
        )
        .unwrap();
        let t = template(vec![("R", r)]);
        let rules = rules_for(&report(&t), "R");
        assert!(
            rules.contains("IAM-WILDCARD-ACTION") && rules.contains("IAM-WILDCARD-RESOURCE"),
            "{rules:?}"
        );
    }

    #[test]
    fn managed_policy_arns_are_flagged_unless_empty() {
        let mut r = role(Vec::new());
        r.add_property_override(
            "ManagedPolicyArns",
            json!(["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]),
        )
        .unwrap();
        let t = template(vec![("R", r.clone())]);
        assert_eq!(
            finding(&report(&t), "R", "IAM-MANAGED-POLICY")
                .unwrap()
                .severity,
            Severity::Error
        );

        r.add_property_override(
            "ManagedPolicyArns",
            json!({"Fn::If": ["IsProd", ["arn"], {"Ref": "AWS::NoValue"}]}),
        )
        .unwrap();
        assert!(
            finding(
                &report(&template(vec![("R", r.clone())])),
                "R",
                "IAM-MANAGED-POLICY"
            )
            .is_some()
        );

        r.add_property_override("ManagedPolicyArns", json!([]))
            .unwrap();
        assert!(
            finding(
                &report(&template(vec![("R", r)])),
                "R",
                "IAM-MANAGED-POLICY"
            )
            .is_none()
        );
        assert!(
            finding(
                &report(&template(vec![("R", role(Vec::new()))])),
                "R",
                "IAM-MANAGED-POLICY"
            )
            .is_none()
        );
    }

    #[test]
    fn queue_without_a_dead_letter_queue_is_flagged() {
        let t = template(vec![("Q", queue(None))]);
        let report = report(&t);
        assert_eq!(
            finding(&report, "Q", "SQS-DLQ").unwrap().message,
            "no dead-letter queue"
        );
    }

    #[test]
    fn a_queue_that_is_another_queues_dead_letter_queue_needs_none() {
        let t = template(vec![("Main", queue(Some("Dlq"))), ("Dlq", queue(None))]);
        let report = report(&t);
        assert!(finding(&report, "Main", "SQS-DLQ").is_none());
        assert!(finding(&report, "Dlq", "SQS-DLQ").is_none());
    }

    #[test]
    fn a_redrive_to_some_other_queue_does_not_excuse_a_queue() {
        let t = template(vec![
            ("Main", queue(Some("Elsewhere"))),
            ("Lonely", queue(None)),
        ]);
        assert!(finding(&report(&t), "Lonely", "SQS-DLQ").is_some());
    }

    #[test]
    fn log_group_without_retention_is_flagged() {
        let t = template(vec![
            ("Forever", resource(&CfnLogGroup::default())),
            (
                "Year",
                resource(&CfnLogGroup {
                    retention_in_days: Some(365),
                    ..CfnLogGroup::default()
                }),
            ),
        ]);
        let report = report(&t);
        let f = finding(&report, "Forever", "LOGS-RETENTION").unwrap();
        assert_eq!(
            (f.severity, f.message.as_str()),
            (Severity::Error, "log events never expire")
        );
        assert!(finding(&report, "Year", "LOGS-RETENTION").is_none());
        assert!(finding(&report, "Year", "LOGS-RETENTION-1Y").is_none());
    }

    #[test]
    fn not_action_and_not_resource_in_allow_statements_are_flagged() {
        let mut not_action = Statement::allow(Vec::<String>::new(), vec!["*".into()]);
        not_action.action.clear();
        let mut r = role(vec![not_action]);
        r.add_property_override(
            "Policies.0.PolicyDocument.Statement.0.NotAction",
            json!(["iam:*"]),
        )
        .unwrap();
        let t = template(vec![
            ("Admin", r),
            (
                "Fine",
                role(vec![Statement::allow(
                    ["s3:GetObject"],
                    vec!["arn:x".into()],
                )]),
            ),
        ]);
        let report = report(&t);
        assert!(finding(&report, "Admin", "IAM-NOT-ACTION").is_some());
        assert!(finding(&report, "Fine", "IAM-NOT-ACTION").is_none());
    }

    #[test]
    fn a_tls_deny_must_apply_to_everyone_and_may_use_a_boolean() {
        let bucket = || resource(&CfnBucket::default());
        let mut boolean = tls_policy(Expr::reference("Boolean"), true);
        boolean
            .add_property_override(
                "PolicyDocument.Statement.0.Condition.Bool.aws:SecureTransport",
                false,
            )
            .unwrap();
        let mut one_principal = tls_policy(Expr::reference("OnePrincipal"), true);
        one_principal
            .add_property_override(
                "PolicyDocument.Statement.0.Principal",
                json!({"AWS": "arn:role"}),
            )
            .unwrap();
        let t = template(vec![
            ("Boolean", bucket()),
            ("BooleanPolicy", boolean),
            ("OnePrincipal", bucket()),
            ("OnePrincipalPolicy", one_principal),
        ]);
        let report = report(&t);
        assert!(finding(&report, "Boolean", "S3-TLS").is_none());
        assert!(finding(&report, "OnePrincipal", "S3-TLS").is_some());
    }

    #[test]
    fn tls_rules_need_a_deny_in_a_policy_that_names_the_resource() {
        let bucket = || resource(&CfnBucket::default());
        let t = template(vec![
            ("Covered", bucket()),
            (
                "CoveredPolicy",
                tls_policy(Expr::reference("Covered"), true),
            ),
            ("Elsewhere", bucket()),
            (
                "ElsewherePolicy",
                tls_policy(Expr::reference("SomeOtherBucket"), true),
            ),
            ("AllowOnly", bucket()),
            (
                "AllowOnlyPolicy",
                tls_policy(Expr::reference("AllowOnly"), false),
            ),
            ("Bare", bucket()),
        ]);
        let report = report(&t);
        assert!(finding(&report, "Covered", "S3-TLS").is_none());
        for id in ["Elsewhere", "AllowOnly", "Bare"] {
            assert!(finding(&report, id, "S3-TLS").is_some(), "{id}");
        }
    }

    #[test]
    fn public_access_lists_each_setting_that_is_off() {
        let mut block = PublicAccessBlockConfiguration::block_all();
        block.block_public_policy = false;
        block.restrict_public_buckets = false;
        let t = template(vec![
            (
                "Open",
                resource(&CfnBucket {
                    public_access_block_configuration: Some(block),
                    ..CfnBucket::default()
                }),
            ),
            (
                "Closed",
                resource(&CfnBucket {
                    public_access_block_configuration: Some(
                        PublicAccessBlockConfiguration::block_all(),
                    ),
                    ..CfnBucket::default()
                }),
            ),
        ]);
        let report = report(&t);
        assert_eq!(
            finding(&report, "Open", "S3-PUBLIC-ACCESS")
                .unwrap()
                .message,
            "public access not blocked: BlockPublicPolicy, RestrictPublicBuckets"
        );
        assert!(finding(&report, "Closed", "S3-PUBLIC-ACCESS").is_none());
    }

    #[test]
    fn event_source_mappings_must_report_batch_item_failures() {
        let mapping = |types: Vec<String>| {
            resource(&CfnEventSourceMapping {
                event_source_arn: Expr::get_att("Q", "Arn"),
                function_name: Expr::reference("F"),
                batch_size: None,
                maximum_batching_window_in_seconds: None,
                function_response_types: types,
                scaling_config: None,
                enabled: None,
            })
        };
        let t = template(vec![
            ("Partial", mapping(vec!["ReportBatchItemFailures".into()])),
            ("Whole", mapping(Vec::new())),
        ]);
        let report = report(&t);
        assert!(finding(&report, "Partial", "LAMBDA-ESM-PARTIAL-BATCH").is_none());
        assert!(finding(&report, "Whole", "LAMBDA-ESM-PARTIAL-BATCH").is_some());
    }

    #[test]
    fn retained_tables_need_deletion_protection_and_pitr() {
        let table = |protected: bool, pitr: bool| {
            let mut r = resource(&CfnTable {
                billing_mode: Some("PAY_PER_REQUEST".into()),
                attribute_definitions: vec![AttributeDefinition {
                    attribute_name: "pk".into(),
                    attribute_type: "S".into(),
                }],
                key_schema: vec![KeySchema {
                    attribute_name: "pk".into(),
                    key_type: "HASH".into(),
                }],
                point_in_time_recovery_specification: Some(PointInTimeRecoverySpecification {
                    point_in_time_recovery_enabled: pitr,
                }),
                deletion_protection_enabled: Some(protected),
                ..CfnTable::default()
            });
            r.apply_removal_policy(DeletionPolicy::Retain);
            r
        };
        let t = template(vec![
            ("Safe", table(true, true)),
            ("Exposed", table(false, false)),
        ]);
        let report = report(&t);
        assert!(finding(&report, "Safe", "DDB-DELETION-PROTECTION").is_none());
        assert!(finding(&report, "Safe", "DDB-PITR").is_none());
        assert!(finding(&report, "Exposed", "DDB-DELETION-PROTECTION").is_some());
        assert!(finding(&report, "Exposed", "DDB-PITR").is_some());
    }

    #[test]
    fn rules_run_only_on_their_resource_type() {
        let t = template(vec![("Q", queue(None))]);
        let report = report(&t);
        assert!(
            report
                .findings
                .iter()
                .all(|f| find_rule(&f.rule).resource_type == "AWS::SQS::Queue")
        );
        assert!(
            report
                .findings
                .iter()
                .all(|f| f.stack == "test-stack" && f.path == "Q")
        );
    }

    fn find_rule(id: &str) -> &'static Rule {
        RULES.iter().find(|r| r.id == id).unwrap()
    }

    #[test]
    fn per_resource_and_stack_wide_suppressions_mark_findings() {
        let t = template(vec![("A", queue(None)), ("B", queue(None))]);
        let reason = "a dead-letter queue of another stack";
        let per_resource = BTreeMap::from([(
            "A".to_owned(),
            vec![Suppression::new("SQS-DLQ", reason, "A").unwrap()],
        )]);
        let report = check("test-stack", &t, &per_resource, &[]);
        assert_eq!(
            finding(&report, "A", "SQS-DLQ")
                .unwrap()
                .suppressed
                .as_deref(),
            Some(reason)
        );
        assert_eq!(finding(&report, "B", "SQS-DLQ").unwrap().suppressed, None);

        let stack_wide = [Suppression::new("SQS-DLQ", reason, "*").unwrap()];
        let report = check("test-stack", &t, &BTreeMap::new(), &stack_wide);
        let dlq: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.rule == "SQS-DLQ")
            .collect();
        assert_eq!(dlq.len(), 2);
        assert!(dlq.iter().all(|f| f.suppressed.as_deref() == Some(reason)));
        assert!(report.unsuppressed_errors().all(|f| f.rule != "SQS-DLQ"));
        assert!(
            report.unsuppressed_errors().any(|f| f.rule == "SQS-TLS"),
            "other rules stay unsuppressed"
        );
    }

    #[test]
    fn rule_ids_are_unique_and_checkov_ids_well_formed() {
        let ids: BTreeSet<&str> = RULES.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), RULES.len());
        for rule in RULES {
            assert!(rule.resource_type.starts_with("AWS::"), "{}", rule.id);
            assert!(
                rule.checkov.iter().all(|c| c.starts_with("CKV_AWS_")),
                "{}",
                rule.id
            );
            assert!(rule.description.ends_with('.'), "{}", rule.id);
        }
    }
}
