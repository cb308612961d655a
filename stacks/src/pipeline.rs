//! The `argus-<stage>` stack: the image pipeline of one stage.
//!
//! ```text
//! Input bucket (incoming/…) ──ObjectCreated──► Ingest queue ──► Processor λ ──► Results table (TTL)
//!        │ access logs ► AccessLogs bucket        │ DLQ (alarm)        ├──► decision log (append only)
//!                                                                     └──► Alerts topic (e-mail)
//! Alarms (DLQ depth, function errors, throttles) ──► Ops topic (customer managed key)
//! ```

use std::collections::BTreeMap;

use argus_cdk::asset::Asset;
use argus_cdk::constructs::{
    AccessLogs, Alarm, AlarmProps, Architecture, Attribute, AttributeType, Bucket, BucketProps,
    Comparison, DeadLetter, Function, FunctionCode, FunctionProps, GlobalSecondaryIndexProps,
    HttpApi, HttpApiProps, Key, KeyProps, Metric, Queue, QueueProps, RemovalPolicy,
    RouteAuthorization, SqsEventSource, Table, TableProps, Topic, TopicKey, TopicProps,
};
use argus_cdk::{Expr, Output, Parameter, Stack, SynthError};

use argus_contract::{decision_log, env, results};

use crate::config::{Arch, Removal, StageConfig};

/// The parameter that takes the assets bucket name.
pub const ASSETS_BUCKET_PARAMETER: &str = "AssetsBucket";
/// The parameter that takes the processor bundle's object key (`<sha256>.zip`).
pub const PROCESSOR_CODE_KEY_PARAMETER: &str = "ProcessorCodeKey";
/// Construct paths (= logical IDs) of the resources the processor's environment names.
pub const INPUT_BUCKET_ID: &str = "Input";
/// The results table.
pub const RESULTS_TABLE_ID: &str = "Results";
/// The append-only decision log table (face decisions; its logical ID keeps its first name so
/// deployed tables are never replaced).
pub const DECISION_LOG_ID: &str = "Audit";
/// The weapon-alert topic.
pub const ALERT_TOPIC_ID: &str = "Alerts";
/// The parameter that takes the api bundle's object key.
pub const API_CODE_KEY_PARAMETER: &str = "ApiCodeKey";
/// The template parameter that takes the processor bundle's S3 version ID.
pub const PROCESSOR_CODE_VERSION_PARAMETER: &str = "ProcessorCodeVersion";
/// The template parameter that takes the api bundle's S3 version ID.
pub const API_CODE_VERSION_PARAMETER: &str = "ApiCodeVersion";
/// Logical ID (construct name) of the processor function.
pub const PROCESSOR_FUNCTION_ID: &str = "Processor";
/// Logical ID (construct name) of the api function.
pub const API_FUNCTION_ID: &str = "ApiHandler";
/// The stage's Lambda functions as `argus invoke` and `argus logs` name them, with their logical
/// IDs: `(name, logical ID)`. The physical name is the stack's resource of that logical ID.
pub const FUNCTIONS: &[(&str, &str)] = &[
    ("processor", PROCESSOR_FUNCTION_ID),
    ("api", API_FUNCTION_ID),
];
/// The HTTP API's routes, all served by the `api` function with IAM authorization.
pub const API_ROUTES: &[&str] = &["POST /uploads", "GET /images", "GET /images/{imageId}"];
/// The results table's index for listing images newest first, which the `api` function queries.
pub use argus_contract::results::BY_PROCESSED_AT_INDEX as BY_TIME_INDEX;

/// Builds the pipeline stack of one stage.
///
/// # Errors
/// [`SynthError`] when a construct rejects a configured value.
pub fn pipeline_stack(config: &StageConfig) -> Result<Stack, SynthError> {
    let mut stack = Stack::new(
        &config.stack_name,
        &format!(
            "Argus image pipeline, stage {}: S3 uploads -> SQS -> Rust processor -> Rekognition -> DynamoDB, SNS alerts",
            config.stage
        ),
    )?;
    stack.set_termination_protection(config.protected);
    if let Some(roles) = crate::ci::stage_role_defaults(config) {
        stack.set_role_defaults(roles)?;
    }
    stack.suppress_all(
        "S3-OBJECT-LOCK",
        "uploads hold faces and must expire with their records (privacy); Object Lock would keep them",
    )?;
    let removal = match config.storage.removal_policy {
        Removal::Retain => RemovalPolicy::Retain,
        Removal::Destroy => RemovalPolicy::Destroy,
    };

    // Storage: the input bucket and its access-log bucket.
    let access_logs = Bucket::new_access_log_bucket(&mut stack, "AccessLogs", removal)?;
    let input = Bucket::new(
        &mut stack,
        INPUT_BUCKET_ID,
        BucketProps {
            bucket_name: Some(config.input_bucket_name()),
            server_access_logs: Some(AccessLogs {
                bucket: access_logs,
                prefix: "input/".into(),
            }),
            removal_policy: removal,
            ..BucketProps::default()
        },
    )?;

    // Ingest: S3 ObjectCreated under the input prefix → SQS (with DLQ).
    let ingest = Queue::new(
        &mut stack,
        "Ingest",
        QueueProps {
            // Lambda's guidance: at least six times the function timeout.
            visibility_timeout_secs: config.processor.timeout_secs * 6,
            dead_letter: Some(DeadLetter {
                max_receive_count: config.processor.max_receive_count,
            }),
            ..QueueProps::default()
        },
    )?;
    input.add_object_created_notification(&mut stack, &ingest, &config.storage.input_prefix)?;
    // Uploads (faces are biometric data) expire with their records, not never.
    input.add_expiration_rule(
        &mut stack,
        "uploads",
        &config.storage.input_prefix,
        config.input_expiration_days(),
    )?;
    // Uploads write once (If-None-Match); the api function, the only writer granted PutObject
    // there, signs that and the declared size into every URL it hands out.
    input.require_single_writes(&mut stack, &config.storage.input_prefix)?;

    // The results table and the decision log.
    let mut results_props = TableProps::new(Attribute::new(
        results::PARTITION_KEY,
        AttributeType::String,
    ));
    results_props.removal_policy = removal;
    results_props
        .global_secondary_indexes
        .push(GlobalSecondaryIndexProps {
            index_name: BY_TIME_INDEX.into(),
            partition_key: Attribute::new(
                results::BY_PROCESSED_AT_PARTITION_KEY,
                AttributeType::String,
            ),
            sort_key: Some(Attribute::new(
                results::BY_PROCESSED_AT_SORT_KEY,
                AttributeType::String,
            )),
            non_key_attributes: Some(
                results::LISTING_ATTRIBUTES
                    .iter()
                    .map(|a| (*a).to_owned())
                    .collect(),
            ),
        });
    let results = Table::new(&mut stack, RESULTS_TABLE_ID, results_props)?;
    let mut log_props = TableProps::new(Attribute::new(
        decision_log::PARTITION_KEY,
        AttributeType::String,
    ));
    log_props.sort_key = Some(Attribute::new(
        decision_log::SORT_KEY,
        AttributeType::String,
    ));
    log_props.ttl_attribute = None;
    log_props.removal_policy = removal;
    let decision_log = Table::new(&mut stack, DECISION_LOG_ID, log_props)?;

    // Topics: weapon alerts (alias/aws/sns) and operations alarms (a customer managed key, since
    // CloudWatch cannot use the AWS managed SNS key).
    let alerts = Topic::new(
        &mut stack,
        ALERT_TOPIC_ID,
        TopicProps {
            display_name: Some(format!("Argus {} alerts", config.stage)),
            key: TopicKey::AwsManaged,
        },
    )?;
    for (i, email) in config.alerts.emails.iter().enumerate() {
        alerts.add_email_subscription(&mut stack, i, email)?;
    }
    let ops_key = Key::new(
        &mut stack,
        "OpsKey",
        KeyProps {
            description: format!("Encrypts the {} operations topic", config.stack_name),
        },
    )?;
    ops_key.allow_service(
        &mut stack,
        "cloudwatch.amazonaws.com",
        &["kms:Decrypt", "kms:GenerateDataKey*"],
    )?;
    let ops = Topic::new(
        &mut stack,
        "Ops",
        TopicProps {
            display_name: Some(format!("Argus {} operations", config.stage)),
            key: TopicKey::Key(ops_key.arn()),
        },
    )?;
    ops.allow_cloudwatch_alarms(&mut stack)?;

    // The processor function.
    let assets_bucket = stack.add_parameter(
        ASSETS_BUCKET_PARAMETER,
        Parameter::string("Assets bucket holding the Lambda bundles (argus-toolkit)"),
    );
    let code_key = stack.add_parameter(
        PROCESSOR_CODE_KEY_PARAMETER,
        Parameter::string("Object key of the processor bundle (<sha256>.zip)"),
    );
    let architecture = match config.processor.architecture {
        Arch::X86_64 => Architecture::X86_64,
        Arch::Arm64 => Architecture::Arm64,
    };
    stack.add_asset(Asset {
        id: "processor".into(),
        packaging: "file".into(),
        source: "argus-runtime/processor".into(),
        architecture: architecture.as_str().into(),
        bucket_parameter: ASSETS_BUCKET_PARAMETER.into(),
        key_parameter: PROCESSOR_CODE_KEY_PARAMETER.into(),
        version_parameter: Some(PROCESSOR_CODE_VERSION_PARAMETER.into()),
        bundle: config.processor.bundle,
    });
    let mut props = FunctionProps::new(
        &format!("{}-processor", config.stack_name),
        "Analyses each uploaded image with Amazon Rekognition and records the result",
        FunctionCode {
            bucket: assets_bucket,
            key: code_key,
            version: Some(stack.add_parameter(
                PROCESSOR_CODE_VERSION_PARAMETER,
                Parameter::string(
                    "S3 version ID of the processor bundle the deploy uploaded or verified",
                ),
            )),
        },
    );
    props.architecture = architecture;
    props.memory_mb = config.processor.memory_mb;
    props.timeout_secs = config.processor.timeout_secs;
    props.log_retention_days = config.processor.log_retention_days;
    props.log_removal_policy = removal;
    props.environment = processor_environment(
        config,
        results.name(),
        decision_log.name(),
        alerts.arn(),
        input.name(),
    );
    let processor = Function::new(&mut stack, PROCESSOR_FUNCTION_ID, props)?;

    // Least privilege: exactly what the processor calls, on exactly these resources.
    let role = &processor.role;
    input.grant_read(
        &mut stack,
        role,
        &format!("{}*", config.storage.input_prefix),
    )?;
    // ListBucket (limited to the prefix) makes a missing upload a 404 NoSuchKey, not a 403.
    input.grant_list(&mut stack, role, &config.storage.input_prefix)?;
    // A REJECTED upload's version is deleted once its record is written.
    input.grant_delete_version(
        &mut stack,
        role,
        &format!("{}*", config.storage.input_prefix),
    )?;
    results.grant_write_data(&mut stack, role)?;
    decision_log.grant_append(&mut stack, role)?;
    alerts.grant_publish(&mut stack, role)?;
    let mut rekognition: Vec<&str> = config
        .analysis
        .features
        .iter()
        .map(|f| f.iam_action())
        .collect();
    if let Some(reference) = &config.faces.reference_key {
        input.grant_read(&mut stack, role, reference)?;
        rekognition.push("rekognition:CompareFaces");
    }
    rekognition.sort_unstable();
    role.grant_resourceless(&mut stack, "RekognitionAnalyses", &rekognition)?;
    processor.add_sqs_event_source(
        &mut stack,
        &ingest,
        SqsEventSource {
            batch_size: config.processor.batch_size,
            max_batching_window_secs: 1,
            maximum_concurrency: config.processor.max_concurrency,
        },
    )?;

    // Alarms → ops topic.
    let dlq = ingest
        .dead_letter_queue
        .as_deref()
        .ok_or_else(|| SynthError::InvalidConstruct {
            construct: "Ingest".into(),
            reason: "the ingest queue has no dead-letter queue".into(),
        })?;
    let alarms = [
        (
            "Alarms/DeadLetters",
            "Messages are in the ingest dead-letter queue: images failed after every retry. Inspect them and redrive.",
            Metric::new("AWS/SQS", "ApproximateNumberOfMessagesVisible")
                .with_dimension("QueueName", dlq.name())
                .with_statistic("Maximum"),
        ),
        (
            "Alarms/ProcessorErrors",
            "The processor function failed (unhandled errors); messages are being retried.",
            Metric::new("AWS/Lambda", "Errors").with_dimension("FunctionName", processor.name()),
        ),
        (
            "Alarms/ProcessorThrottles",
            "The processor function is being throttled; raise concurrency or lower the event source's maximum.",
            Metric::new("AWS/Lambda", "Throttles").with_dimension("FunctionName", processor.name()),
        ),
    ];
    for (path, description, metric) in alarms {
        Alarm::new(
            &mut stack,
            path,
            AlarmProps {
                description: description.into(),
                metric,
                threshold: 1.0,
                comparison: Comparison::GreaterThanOrEqual,
                evaluation_periods: 1,
                actions: vec![ops.arn()],
            },
        )?;
    }

    // The upload and query API: HTTP API, IAM (SigV4) authorization, an `api` function.
    let api_code_key = stack.add_parameter(
        API_CODE_KEY_PARAMETER,
        Parameter::string("Object key of the api bundle (<sha256>.zip)"),
    );
    stack.add_asset(Asset {
        id: "api".into(),
        packaging: "file".into(),
        source: "argus-runtime/api".into(),
        architecture: architecture.as_str().into(),
        bucket_parameter: ASSETS_BUCKET_PARAMETER.into(),
        key_parameter: API_CODE_KEY_PARAMETER.into(),
        version_parameter: Some(API_CODE_VERSION_PARAMETER.into()),
        bundle: config.processor.bundle,
    });
    let mut api_props = FunctionProps::new(
        &format!("{}-api", config.stack_name),
        "Presigned uploads and the image metadata API",
        FunctionCode {
            bucket: Expr::reference(ASSETS_BUCKET_PARAMETER),
            key: api_code_key,
            version: Some(stack.add_parameter(
                API_CODE_VERSION_PARAMETER,
                Parameter::string(
                    "S3 version ID of the api bundle the deploy uploaded or verified",
                ),
            )),
        },
    );
    api_props.architecture = architecture;
    api_props.memory_mb = 256;
    api_props.timeout_secs = 10;
    api_props.log_retention_days = config.processor.log_retention_days;
    api_props.log_removal_policy = removal;
    api_props.environment = BTreeMap::from([
        (env::STAGE.to_owned(), Expr::str(&config.stage)),
        (env::RESULTS_TABLE.to_owned(), results.name()),
        (env::INPUT_BUCKET.to_owned(), input.name()),
        (
            env::INPUT_PREFIX.to_owned(),
            Expr::str(&config.storage.input_prefix),
        ),
    ]);
    let api_function = Function::new(&mut stack, API_FUNCTION_ID, api_props)?;
    // Presigning signs with the function's own credentials: it may put and get uploads only.
    let uploads = format!("{}*", config.storage.input_prefix);
    input.grant_put(&mut stack, &api_function.role, &uploads)?;
    input.grant_read(&mut stack, &api_function.role, &uploads)?;
    results.grant(
        &mut stack,
        &api_function.role,
        "ApiRead",
        &["dynamodb:GetItem", "dynamodb:Query"],
        true,
    )?;
    let mut http_api = HttpApi::new(&mut stack, "Api", {
        let mut props = HttpApiProps::new(
            &format!("{}-api", config.stack_name),
            "Argus upload and image metadata API",
        );
        props.access_log_retention_days = config.processor.log_retention_days;
        props.removal_policy = removal;
        props
            .tags
            .insert(crate::ci::STACK_TAG.into(), config.stack_name.clone());
        props
    })?;
    for route in API_ROUTES {
        http_api.add_lambda_route(&mut stack, route, &api_function, RouteAuthorization::Iam)?;
    }
    for function in [&processor, &api_function] {
        let (dlq_reason, concurrency_reason) = if function.logical_id == processor.logical_id {
            (
                "invoked by an SQS event source mapping; failed messages go to the ingest queue's DLQ",
                "concurrency is bounded by the event source mapping's MaximumConcurrency from the stage config",
            )
        } else {
            (
                "invoked synchronously by API Gateway; errors return to the caller, nothing is queued",
                "bounded by the HTTP API stage's throttling (burst and rate limits)",
            )
        };
        stack.suppress(&function.logical_id, "LAMBDA-DLQ", dlq_reason)?;
        stack.suppress(
            &function.logical_id,
            "LAMBDA-CONCURRENCY",
            concurrency_reason,
        )?;
    }

    // Decisions the rule pack reports, each with its reason.
    stack.suppress_all("S3-KMS", "SSE-S3: Rekognition reads S3Object images and S3 access logging writes with no KMS key grants")?;
    stack.suppress_all("SQS-KMS", "SSE-SQS: S3 notifications cannot use the AWS managed SQS key, and SSE-SQS needs no key grants")?;
    stack.suppress_all(
        "S3-REPLICATION",
        "uploads are transient inputs with results in DynamoDB; cross-Region copies are not needed",
    )?;
    stack.suppress_all("DDB-CMK", "encrypted at rest with the AWS managed key aws/dynamodb; no cross-account access needs a CMK")?;
    stack.suppress_all(
        "LOGS-KMS",
        "CloudWatch Logs encrypts at rest; logs hold no image content or secrets",
    )?;
    stack.suppress_all("LAMBDA-VPC", "the functions call only AWS APIs over TLS; a VPC adds NAT cost and cold start for no isolation gain")?;
    stack.suppress_all(
        "LAMBDA-ENV-KMS",
        "the environment holds resource names and thresholds only, no secrets",
    )?;
    stack.suppress_all(
        "LAMBDA-CODE-SIGNING",
        "bundles are built by CI from this repository and published content-addressed by SHA-256",
    )?;
    if config.processor.log_retention_days < 365 {
        stack.suppress_all(
            "LOGS-RETENTION-1Y",
            "non-production stage: logs are kept for the configured short retention",
        )?;
    }

    let outputs = [
        (
            "InputBucketName",
            "Bucket that images are uploaded to",
            input.name(),
        ),
        (
            "InputPrefix",
            "Key prefix that triggers processing",
            Expr::str(&config.storage.input_prefix),
        ),
        (
            "IngestQueueUrl",
            "Queue of S3 notifications for the processor",
            ingest.url(),
        ),
        (
            "DeadLetterQueueUrl",
            "Messages that failed every retry",
            dlq.url(),
        ),
        (
            "ResultsTableName",
            "One item per image: labels, text, faces, status, expires_at",
            results.name(),
        ),
        (
            "AuditTableName",
            "Append-only audit records (face decisions)",
            decision_log.name(),
        ),
        ("AlertTopicArn", "Weapon alerts", alerts.arn()),
        ("OpsTopicArn", "Operational alarms", ops.arn()),
        (
            "ProcessorFunctionName",
            "The processor Lambda function",
            processor.name(),
        ),
        (
            "ApiUrl",
            "The HTTP API (IAM-authorized: sign requests with SigV4)",
            http_api.url(),
        ),
    ];
    for (id, description, value) in outputs {
        stack.add_output(id, Output::new(description, value));
    }
    Ok(stack)
}

/// The processor's environment of a stage with references to the stack's resources by logical
/// ID: what `argus analyze` resolves through the deployed stack to analyse exactly as the
/// processor does.
pub fn processor_environment_for(config: &StageConfig) -> BTreeMap<String, Expr> {
    processor_environment(
        config,
        Expr::reference(RESULTS_TABLE_ID),
        Expr::reference(DECISION_LOG_ID),
        Expr::reference(ALERT_TOPIC_ID),
        Expr::reference(INPUT_BUCKET_ID),
    )
}

/// The processor's environment: resource names and the stage's analysis settings.
fn processor_environment(
    config: &StageConfig,
    results: Expr,
    decision_log: Expr,
    alerts: Expr,
    input: Expr,
) -> BTreeMap<String, Expr> {
    let features: Vec<&str> = config
        .analysis
        .features
        .iter()
        .map(|f| f.as_str())
        .collect();
    let mut env = BTreeMap::from([
        (env::STAGE.to_owned(), Expr::str(&config.stage)),
        (env::RESULTS_TABLE.to_owned(), results),
        (env::DECISION_LOG_TABLE.to_owned(), decision_log),
        (env::INPUT_BUCKET.to_owned(), input.clone()),
        (env::ALERT_TOPIC_ARN.to_owned(), alerts),
        (
            env::INPUT_PREFIX.to_owned(),
            Expr::str(&config.storage.input_prefix),
        ),
        (env::FEATURES.to_owned(), Expr::str(features.join(","))),
        (
            env::MIN_CONFIDENCE.to_owned(),
            Expr::str(config.analysis.min_confidence.to_string()),
        ),
        (
            env::MAX_LABELS.to_owned(),
            Expr::str(config.analysis.max_labels.to_string()),
        ),
        (
            env::TTL_HOURS.to_owned(),
            Expr::str(config.storage.ttl_hours.to_string()),
        ),
        (
            env::ALERT_LABELS.to_owned(),
            Expr::str(config.alerts.labels.join(",")),
        ),
        (
            env::ALERT_THRESHOLD.to_owned(),
            Expr::str(config.alerts.threshold.to_string()),
        ),
        (
            env::IMAGE_CONCURRENCY.to_owned(),
            Expr::str(config.processor.image_concurrency.to_string()),
        ),
    ]);
    if let Some(reference) = &config.faces.reference_key {
        env.insert(env::FACE_REFERENCE_BUCKET.into(), input);
        env.insert(env::FACE_REFERENCE_KEY.into(), Expr::str(reference));
        env.insert(
            env::FACE_SIMILARITY_THRESHOLD.into(),
            Expr::str(config.faces.similarity_threshold.to_string()),
        );
    }
    if let Some(endpoint) = &config.analysis.rekognition_endpoint {
        env.insert("AWS_ENDPOINT_URL_REKOGNITION".into(), Expr::str(endpoint));
    }
    env
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use argus_cdk::template::{DeletionPolicy, Template};
    use serde_json::{Value, json};

    use super::*;

    fn config(stage: &str) -> StageConfig {
        StageConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config"), stage).unwrap()
    }

    fn template(config: &StageConfig) -> Template {
        let synth = pipeline_stack(config).unwrap().synth().unwrap();
        assert_eq!(synth.report.unsuppressed_errors().count(), 0);
        synth.template
    }

    fn processor_statements(t: &Template) -> Vec<Value> {
        t.resources["ProcessorServiceRole"]
            .property("Policies.0.PolicyDocument.Statement")
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    #[test]
    fn uploads_expire_with_their_records_unless_configured_apart() {
        let rule = |config: &StageConfig| {
            template(config).resources["Input"]
                .property("LifecycleConfiguration.Rules")
                .unwrap()
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["Id"] == "expire-uploads")
                .cloned()
                .unwrap()
        };
        let mut beta = config("beta");
        assert_eq!(
            rule(&beta),
            json!({"Id": "expire-uploads", "Status": "Enabled", "Prefix": "incoming/", "ExpirationInDays": 7}),
            "168 hours of TTL: uploads expire after 7 days"
        );
        beta.storage.ttl_hours = 25;
        assert_eq!(
            rule(&beta)["ExpirationInDays"],
            2,
            "rounded up to whole days"
        );
        beta.storage.input_expiration_days = Some(1);
        assert_eq!(rule(&beta)["ExpirationInDays"], 1);
    }

    #[test]
    fn uploads_under_the_input_prefix_write_once() {
        let t = template(&config("beta"));
        let policy = t
            .resources
            .values()
            .find(|r| {
                r.resource_type == "AWS::S3::BucketPolicy"
                    && r.properties["Bucket"] == json!({"Ref": INPUT_BUCKET_ID})
            })
            .unwrap();
        let statements = policy.properties["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap();
        let deny = |condition: Value| {
            statements
                .iter()
                .find(|s| s["Condition"] == condition)
                .cloned()
                .unwrap_or_else(|| panic!("no statement with {condition}: {statements:?}"))
        };
        let objects = json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::argus-beta-input-${AWS::AccountId}-eu-west-1/incoming/*"});
        let s = deny(json!({"Null": {"s3:if-none-match": "true"}}));
        assert_eq!(s["Effect"], "Deny", "{s}");
        assert_eq!(s["Principal"], "*", "{s}");
        assert_eq!(s["Action"], json!(["s3:PutObject"]), "{s}");
        assert_eq!(s["Resource"], json!([objects]), "{s}");
    }

    #[test]
    fn the_processor_role_grants_exactly_what_the_processor_needs() {
        let t = template(&config("beta"));
        let mut granted = BTreeSet::new();
        for s in processor_statements(&t) {
            assert_eq!(s["Effect"], "Allow");
            for action in s["Action"].as_array().unwrap() {
                for resource in s["Resource"].as_array().unwrap() {
                    granted.insert((action.as_str().unwrap().to_owned(), resource.to_string()));
                }
            }
        }
        let input = |key: &str| {
            json!({"Fn::Sub": format!("arn:${{AWS::Partition}}:s3:::argus-beta-input-${{AWS::AccountId}}-eu-west-1/{key}")}).to_string()
        };
        let att = |id: &str| json!({"Fn::GetAtt": [id, "Arn"]}).to_string();
        let mut expected = BTreeSet::new();
        let mut add = |actions: &[&str], resource: String| {
            for a in actions {
                expected.insert(((*a).to_owned(), resource.clone()));
            }
        };
        add(
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            att("ProcessorLogGroup"),
        );
        add(
            &["s3:GetObject", "s3:GetObjectVersion"],
            input("incoming/*"),
        );
        add(
            &["s3:GetObject", "s3:GetObjectVersion"],
            input("reference/authorized-face.jpg"),
        );
        add(&["s3:DeleteObjectVersion"], input("incoming/*"));
        add(
            &["s3:ListBucket"],
            json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::argus-beta-input-${AWS::AccountId}-eu-west-1"}).to_string(),
        );
        add(
            &[
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:GetItem",
            ],
            att("Results"),
        );
        add(&["dynamodb:PutItem"], att("Audit"));
        add(&["sns:Publish"], json!({"Ref": "Alerts"}).to_string());
        add(
            &[
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:GetQueueAttributes",
            ],
            att("Ingest"),
        );
        add(
            &[
                "rekognition:CompareFaces",
                "rekognition:DetectFaces",
                "rekognition:DetectLabels",
                "rekognition:DetectModerationLabels",
                "rekognition:DetectText",
            ],
            json!("*").to_string(),
        );
        assert_eq!(granted, expected);
    }

    #[test]
    fn only_rekognition_actions_use_a_wildcard_resource_in_a_statement_of_their_own() {
        let t = template(&config("prod"));
        for s in processor_statements(&t) {
            let resources = s["Resource"].as_array().unwrap();
            if resources.contains(&json!("*")) {
                assert_eq!(resources.len(), 1);
                assert!(
                    s["Action"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .all(|a| a.as_str().unwrap().starts_with("rekognition:"))
                );
            }
        }
    }

    #[test]
    fn disabled_analyses_are_not_granted() {
        let mut c = config("beta");
        c.analysis.features = vec![crate::config::Feature::Labels];
        c.faces.reference_key = None;
        let actions: Vec<Value> = processor_statements(&template(&c))
            .into_iter()
            .filter(|s| s["Sid"] == "RekognitionAnalyses")
            .flat_map(|s| s["Action"].as_array().unwrap().clone())
            .collect();
        assert_eq!(actions, vec![json!("rekognition:DetectLabels")]);
    }

    #[test]
    fn prod_retains_data_and_beta_does_not() {
        let prod = template(&config("prod"));
        let beta = template(&config("beta"));
        for id in [
            "Input",
            "AccessLogs",
            "Results",
            "Audit",
            "ProcessorLogGroup",
        ] {
            assert_eq!(
                prod.resources[id].deletion_policy,
                Some(DeletionPolicy::Retain),
                "{id}"
            );
            assert_eq!(
                prod.resources[id].update_replace_policy,
                Some(DeletionPolicy::Retain),
                "{id}"
            );
            assert_eq!(
                beta.resources[id].deletion_policy,
                Some(DeletionPolicy::Delete),
                "{id}"
            );
        }
        assert_eq!(
            prod.resources["Results"].property("DeletionProtectionEnabled"),
            Some(&json!(true))
        );
        assert_eq!(
            beta.resources["Results"].property("DeletionProtectionEnabled"),
            Some(&json!(false))
        );
        assert!(
            pipeline_stack(&config("prod"))
                .unwrap()
                .synth()
                .unwrap()
                .termination_protection
        );
    }

    #[test]
    fn results_table_has_ttl_and_a_time_index() {
        let t = template(&config("beta"));
        let results = &t.resources["Results"];
        assert_eq!(
            results.property("TimeToLiveSpecification"),
            Some(&json!({"AttributeName": "expires_at", "Enabled": true}))
        );
        assert_eq!(
            results.property("GlobalSecondaryIndexes.0.IndexName"),
            Some(&json!(BY_TIME_INDEX))
        );
        assert_eq!(
            results.property("GlobalSecondaryIndexes.0.KeySchema.1.AttributeName"),
            Some(&json!("processedAt"))
        );
        assert_eq!(
            results.property("BillingMode"),
            Some(&json!("PAY_PER_REQUEST"))
        );
    }

    #[test]
    fn the_event_source_reports_batch_item_failures_with_the_configured_bounds() {
        let c = config("prod");
        let t = template(&c);
        let esm = &t.resources["ProcessorIngestSource"];
        assert_eq!(
            esm.property("FunctionResponseTypes"),
            Some(&json!(["ReportBatchItemFailures"]))
        );
        assert_eq!(
            esm.property("ScalingConfig.MaximumConcurrency"),
            Some(&json!(c.processor.max_concurrency))
        );
        assert_eq!(
            esm.property("BatchSize"),
            Some(&json!(c.processor.batch_size))
        );
        assert_eq!(
            t.resources["Ingest"].property("VisibilityTimeout"),
            Some(&json!(c.processor.timeout_secs * 6))
        );
        assert_eq!(
            t.resources["Ingest"].property("RedrivePolicy.maxReceiveCount"),
            Some(&json!(c.processor.max_receive_count))
        );
    }

    #[test]
    fn alarms_watch_the_dlq_errors_and_throttles_and_notify_the_ops_topic() {
        let t = template(&config("beta"));
        let alarms: Vec<_> = t
            .resources
            .values()
            .filter(|r| r.resource_type == "AWS::CloudWatch::Alarm")
            .collect();
        let metrics: BTreeSet<_> = alarms
            .iter()
            .map(|a| a.property("MetricName").unwrap().as_str().unwrap())
            .collect();
        assert_eq!(
            metrics,
            BTreeSet::from(["ApproximateNumberOfMessagesVisible", "Errors", "Throttles"])
        );
        for a in alarms {
            assert_eq!(a.property("AlarmActions"), Some(&json!([{"Ref": "Ops"}])));
        }
        assert_eq!(
            t.resources["Ops"].property("KmsMasterKeyId"),
            Some(&json!({"Fn::GetAtt": ["OpsKey", "Arn"]}))
        );
    }

    #[test]
    fn alert_emails_become_subscriptions() {
        let t = template(&config("prod"));
        let sub = &t.resources["AlertsEmailSubscription1"];
        assert_eq!(sub.property("Protocol"), Some(&json!("email")));
        assert_eq!(
            sub.property("Endpoint"),
            Some(&json!("security-alerts@example.com"))
        );
        assert!(
            !template(&config("beta"))
                .resources
                .contains_key("AlertsEmailSubscription1")
        );
    }

    #[test]
    fn arm64_is_a_configuration_choice() {
        let mut c = config("beta");
        c.processor.architecture = Arch::Arm64;
        let synth = pipeline_stack(&c).unwrap().synth().unwrap();
        assert_eq!(
            synth.template.resources["Processor"].property("Architectures"),
            Some(&json!(["arm64"]))
        );
        assert_eq!(synth.assets[0].architecture, "arm64");
    }

    #[test]
    fn the_local_stage_points_rekognition_at_the_twin() {
        let t = template(&config("local"));
        let endpoint =
            t.resources["Processor"].property("Environment.Variables.AWS_ENDPOINT_URL_REKOGNITION");
        assert_eq!(endpoint, Some(&json!("http://127.0.0.1:4599")));
        assert!(
            template(&config("prod")).resources["Processor"]
                .property("Environment.Variables.AWS_ENDPOINT_URL_REKOGNITION")
                .is_none()
        );
    }
}
