//! `argus invoke`: find a stage's deployed function by its name in the stack (processor, api),
//! build a realistic event for it ([`crate::ops::events`]) from what is deployed (the input
//! object's HeadObject, the ingest queue's ARN, the HTTP API's ID) and invoke it synchronously
//! with Lambda Invoke (`LogType: Tail`), returning its payload, its function error and the last
//! 4 KB of its log.
//!
//! - Invoke: <https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html>
//! - DescribeStackResource: <https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackResource.html>

use std::time::Duration;

use argus_stacks::app::{self, Selection};
use argus_stacks::config::StageConfig;
use argus_stacks::pipeline::FUNCTIONS;
use argus_toolkit::aws::AwsContext;
use aws_sdk_lambda::types::{InvocationType, LogType};
use base64::Engine;
use chrono::Utc;
use serde_json::Value;

use crate::cli::Failure;
use crate::ops::events::{self, ApiFacts, HttpRequest, ObjectFacts, QueueFacts};
use crate::ops::{Context, aws_for};

/// The kinds of event `argus invoke` builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EventKind {
    /// An S3 `ObjectCreated:Put` notification of an existing object (`--key`).
    S3Put,
    /// That notification in an SQS message of the stage's ingest queue: what the processor gets.
    SqsS3,
    /// An HTTP API (payload format 2.0) request: what the api function gets.
    ApigwV2,
}

impl EventKind {
    /// The event a function gets from its event source: `sqs-s3` for the processor,
    /// `apigw-v2` for the api.
    pub fn default_for(function: &str) -> Self {
        if function == "api" {
            EventKind::ApigwV2
        } else {
            EventKind::SqsS3
        }
    }
}

/// What to invoke, with what.
#[derive(Clone, Debug)]
pub struct InvokeOptions {
    /// The function as the stack names it: `processor` or `api` ([`FUNCTIONS`]).
    pub function: String,
    /// The stage (beta, prod, local).
    pub stage: String,
    /// The event to build (default: the function's own, [`EventKind::default_for`]).
    pub event: Option<EventKind>,
    /// The object key in the stage's input bucket, for `s3-put` and `sqs-s3`.
    pub key: Option<String>,
    /// The HTTP request, for `apigw-v2`.
    pub request: HttpRequest,
    /// Build and return the event only; invoke nothing.
    pub print_event: bool,
}

/// A deployed function of a stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeployedFunction {
    /// The name `argus` knows it by (`processor`).
    pub name: String,
    /// Its physical name in Lambda (`argus-local-processor`).
    pub physical_name: String,
    /// The ID of the stack it belongs to (an ARN holding the account ID).
    pub stack_id: Option<String>,
}

/// What one synchronous invocation returned.
#[derive(Clone, Debug)]
pub struct Invoked {
    /// The function's physical name.
    pub function_name: String,
    /// The event that was sent.
    pub event: Value,
    /// Lambda's HTTP status for the call (200 for a synchronous invocation).
    pub status_code: i32,
    /// `Unhandled` (or the runtime's error type) when the function failed.
    pub function_error: Option<String>,
    /// The response payload: JSON when it parses as JSON, else a string.
    pub payload: Value,
    /// The last 4 KB of the invocation's log, decoded (`None` when Lambda sent none).
    pub log: Option<String>,
    /// The version that ran (`$LATEST`).
    pub executed_version: Option<String>,
}

/// What [`invoke`] did.
#[derive(Clone, Debug)]
pub enum InvokeOutcome {
    /// `--print-event`: the event only.
    Event(Value),
    /// The function was invoked.
    Invoked(Box<Invoked>),
}

/// The known function names, for messages: `processor, api`.
pub fn known_functions() -> String {
    FUNCTIONS
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A clap value parser for a FUNCTION argument (`argus invoke`, `argus logs`): the name when the
/// stage has such a function, else a message listing the known ones.
///
/// # Errors
/// The message, when `name` is not one of [`FUNCTIONS`].
pub fn parse_function(name: &str) -> Result<String, String> {
    logical_id(name).map(|_| name.to_owned()).map_err(|_| {
        format!(
            "unknown function; the stage's functions are {}",
            known_functions()
        )
    })
}

/// The logical ID of `function` in the stage's stack.
///
/// # Errors
/// [`Failure`] with code 2 naming the known functions.
pub fn logical_id(function: &str) -> Result<&'static str, Failure> {
    FUNCTIONS
        .iter()
        .find(|(name, _)| *name == function)
        .map(|(_, id)| *id)
        .ok_or_else(|| {
            Failure::new(
                2,
                format!(
                    "unknown function `{function}`: the stage's functions are {}",
                    known_functions()
                ),
            )
        })
}

/// The stage's config, refusing names that are not stages.
///
/// # Errors
/// [`Failure`] with code 2.
pub fn stage_config(context: &Context, stage: &str, command: &str) -> Result<StageConfig, Failure> {
    match Selection::stage(stage)? {
        Selection::Stage(stage) => Ok(StageConfig::load(&context.config_dir, &stage)?),
        _ => Err(Failure::new(
            2,
            format!("--stage {stage}: {command} takes a stage (beta, prod or local)"),
        )),
    }
}

/// AWS for the stage's Region (the context's clients, or the default chain).
///
/// # Errors
/// As [`aws_for`].
pub async fn stage_aws(context: &Context, config: &StageConfig) -> Result<AwsContext, Failure> {
    let target = app::target(
        &context.config_dir,
        &Selection::Stage(config.stage.clone()),
        &config.stage,
    )?;
    aws_for(context, &target).await
}

/// Finds the physical name of `function` in the stage's stack (DescribeStackResource).
///
/// # Errors
/// [`Failure`]: 2 for an unknown function, 1 when the stack or the function is not deployed,
/// 3 when CloudFormation cannot be reached.
pub async fn deployed_function(
    aws: &AwsContext,
    config: &StageConfig,
    function: &str,
) -> Result<DeployedFunction, Failure> {
    let id = logical_id(function)?;
    let not_deployed = || {
        Failure::new(
            1,
            format!(
                "{} has no function {function} ({id}): deploy the stage first (argus deploy --stage {})",
                config.stack_name, config.stage
            ),
        )
    };
    let described = aws
        .cloudformation
        .describe_stack_resource()
        .stack_name(&config.stack_name)
        .logical_resource_id(id)
        .send()
        .await;
    let detail = match described {
        Ok(out) => out.stack_resource_detail,
        // CloudFormation answers ValidationError for a missing stack or resource.
        Err(e) if argus_toolkit::aws::error_code(&e).as_deref() == Some("ValidationError") => {
            return Err(not_deployed());
        }
        Err(e) => {
            return Err(Failure::from(
                aws.error("cloudformation:DescribeStackResource", e),
            ));
        }
    };
    let detail = detail.ok_or_else(not_deployed)?;
    let physical_name = detail
        .physical_resource_id()
        .filter(|p| !p.is_empty())
        .ok_or_else(not_deployed)?
        .to_owned();
    Ok(DeployedFunction {
        name: function.to_owned(),
        physical_name,
        stack_id: detail.stack_id().map(str::to_owned),
    })
}

/// Builds the event and, unless `--print-event`, invokes the function with it.
///
/// # Errors
/// [`Failure`]: 2 for bad options (unknown function or stage, a missing `--key`, a bad
/// `--method`/`--path`/`--body`), 1 for what is not deployed or a missing object (naming bucket
/// and key), 3 when AWS cannot be reached or refuses a call.
pub async fn invoke(context: &Context, options: &InvokeOptions) -> Result<InvokeOutcome, Failure> {
    logical_id(&options.function)?;
    let config = stage_config(context, &options.stage, "invoke")?;
    let kind = options
        .event
        .unwrap_or_else(|| EventKind::default_for(&options.function));
    // Usage errors before any AWS call.
    if kind != EventKind::ApigwV2 && options.key.is_none() {
        return Err(missing_key(kind, &config));
    }
    let aws = stage_aws(context, &config).await?;
    let function = deployed_function(&aws, &config, &options.function).await?;
    let event = build_event(&aws, &config, &function, kind, options).await?;
    if options.print_event {
        return Ok(InvokeOutcome::Event(event));
    }
    let invoked = call(&aws, &config, &function, event).await?;
    Ok(InvokeOutcome::Invoked(Box::new(invoked)))
}

async fn build_event(
    aws: &AwsContext,
    config: &StageConfig,
    function: &DeployedFunction,
    kind: EventKind,
    options: &InvokeOptions,
) -> Result<Value, Failure> {
    // Event times carry milliseconds, as S3, SQS and API Gateway write them.
    let now = Utc::now();
    let now = chrono::DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
    let json = |value: Result<Value, serde_json::Error>| {
        value.map_err(|e| Failure::new(1, format!("cannot serialize the event: {e}")))
    };
    match kind {
        EventKind::S3Put | EventKind::SqsS3 => {
            let key = options
                .key
                .as_deref()
                .ok_or_else(|| missing_key(kind, config))?;
            let outputs = stack_outputs(aws, config).await?;
            let bucket = output(&outputs, config, "InputBucketName")?;
            let object = head_object(aws, &bucket, key, &aws.region()).await?;
            let notification = events::s3_put(&object, now);
            if kind == EventKind::S3Put {
                return json(serde_json::to_value(notification));
            }
            let queue_url = output(&outputs, config, "IngestQueueUrl")?;
            let queue = queue_facts(aws, &queue_url).await?;
            let message = events::sqs_message(&notification, &queue, now)
                .map_err(|e| Failure::new(1, format!("cannot serialize the event: {e}")))?;
            json(serde_json::to_value(message))
        }
        EventKind::ApigwV2 => {
            let outputs = stack_outputs(aws, config).await?;
            let api_url = output(&outputs, config, "ApiUrl")?;
            let api = api_facts(&api_url, function.stack_id.as_deref());
            let request = events::apigw_v2(&options.request, &api, now)
                .map_err(|e| Failure::new(2, e.to_string()))?;
            json(serde_json::to_value(request))
        }
    }
}

fn missing_key(kind: EventKind, config: &StageConfig) -> Failure {
    Failure::new(
        2,
        format!(
            "--event {} needs --key: the key of an object in the stage's input bucket (e.g. {}cat.jpg)",
            kind_name(kind),
            config.storage.input_prefix
        ),
    )
}

/// The `--event` value of a kind, for messages.
pub fn kind_name(kind: EventKind) -> &'static str {
    match kind {
        EventKind::S3Put => "s3-put",
        EventKind::SqsS3 => "sqs-s3",
        EventKind::ApigwV2 => "apigw-v2",
    }
}

async fn stack_outputs(
    aws: &AwsContext,
    config: &StageConfig,
) -> Result<std::collections::BTreeMap<String, String>, Failure> {
    let state = argus_toolkit::deploy::describe_stack(aws, &config.stack_name).await?;
    state.map(|s| s.outputs).ok_or_else(|| {
        Failure::new(
            1,
            format!(
                "{} is not deployed: run argus deploy --stage {}",
                config.stack_name, config.stage
            ),
        )
    })
}

fn output(
    outputs: &std::collections::BTreeMap<String, String>,
    config: &StageConfig,
    key: &str,
) -> Result<String, Failure> {
    outputs.get(key).cloned().ok_or_else(|| {
        Failure::new(
            1,
            format!(
                "{} has no output {key}: redeploy it (argus deploy --stage {})",
                config.stack_name, config.stage
            ),
        )
    })
}

/// HeadObject of `bucket`/`key`: size, ETag, version.
async fn head_object(
    aws: &AwsContext,
    bucket: &str,
    key: &str,
    region: &str,
) -> Result<ObjectFacts, Failure> {
    match aws.s3.head_object().bucket(bucket).key(key).send().await {
        Ok(head) => Ok(ObjectFacts {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size: head.content_length().unwrap_or_default(),
            e_tag: head.e_tag().map(|e| e.trim_matches('"').to_owned()),
            version_id: head.version_id().map(str::to_owned),
            region: region.to_owned(),
        }),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Err(Failure::new(
            1,
            format!(
                "s3://{bucket}/{key} does not exist: upload the object first (an S3 event is about an existing object)"
            ),
        )),
        Err(e) => Err(Failure::from(aws.error("s3:HeadObject", e))),
    }
}

/// The ingest queue's ARN (GetQueueAttributes) and Region.
async fn queue_facts(aws: &AwsContext, queue_url: &str) -> Result<QueueFacts, Failure> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let sqs = aws_sdk_sqs::Client::new(&aws.config);
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| Failure::from(aws.error("sqs:GetQueueAttributes", e)))?;
    let arn = attributes
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| {
            Failure::new(
                3,
                format!("{queue_url}: GetQueueAttributes gave no QueueArn"),
            )
        })?;
    Ok(QueueFacts {
        arn,
        region: aws.region(),
    })
}

/// The API ID and host from the stack's ApiUrl output, the account from the stack ID.
fn api_facts(api_url: &str, stack_id: Option<&str>) -> ApiFacts {
    let host = api_url
        .split_once("://")
        .map_or(api_url, |(_, rest)| rest)
        .split(['/', '?'])
        .next()
        .unwrap_or_default()
        .to_owned();
    let api_id = host.split(['.', ':']).next().unwrap_or_default().to_owned();
    // arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>
    let account_id = stack_id
        .and_then(|arn| arn.split(':').nth(4))
        .unwrap_or_default()
        .to_owned();
    ApiFacts {
        api_id,
        domain_name: host,
        account_id,
    }
}

/// Lambda Invoke, RequestResponse, `LogType: Tail`. Never retried by the SDK: a retry would run
/// the function twice. The call may take the function's whole timeout.
async fn call(
    aws: &AwsContext,
    config: &StageConfig,
    function: &DeployedFunction,
    event: Value,
) -> Result<Invoked, Failure> {
    let timeout = if function.name == "processor" {
        u64::from(config.processor.timeout_secs)
    } else {
        // The api function's timeout (pipeline stack) is short; leave room for a cold start.
        30
    };
    let lambda_config = aws_sdk_lambda::config::Builder::from(&aws.config)
        .retry_config(aws_sdk_lambda::config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_sdk_lambda::config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(timeout + 30))
                .build(),
        )
        .build();
    let lambda = aws_sdk_lambda::Client::from_conf(lambda_config);
    let payload = serde_json::to_vec(&event)
        .map_err(|e| Failure::new(1, format!("cannot serialize the event: {e}")))?;
    let out = lambda
        .invoke()
        .function_name(&function.physical_name)
        .invocation_type(InvocationType::RequestResponse)
        .log_type(LogType::Tail)
        .payload(aws_sdk_lambda::primitives::Blob::new(payload))
        .send()
        .await
        .map_err(|e| Failure::from(aws.error("lambda:Invoke", e)))?;
    let bytes = out
        .payload()
        .map(|p| p.as_ref().to_vec())
        .unwrap_or_default();
    let payload = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    let log = out.log_result().map(decode_log_tail).transpose()?;
    Ok(Invoked {
        function_name: function.physical_name.clone(),
        event,
        status_code: out.status_code(),
        function_error: out.function_error().map(str::to_owned),
        payload,
        log,
        executed_version: out.executed_version().map(str::to_owned),
    })
}

/// Lambda's `LogResult`: the last 4 KB of the log, base64. A first line cut by the 4 KB limit is
/// dropped.
///
/// # Errors
/// [`Failure`] with code 3 when it is not base64.
pub fn decode_log_tail(encoded: &str) -> Result<String, Failure> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|e| Failure::new(3, format!("Lambda's LogResult is not base64: {e}")))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    if bytes.len() >= 4096
        && let Some((_, rest)) = text.split_once('\n')
    {
        return Ok(rest.to_owned());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn unknown_functions_name_the_known_ones() {
        assert_eq!(logical_id("processor").unwrap(), "Processor");
        assert_eq!(logical_id("api").unwrap(), "ApiHandler");
        let failure = logical_id("Processor").unwrap_err();
        assert_eq!(failure.code, 2);
        assert_eq!(
            failure.message,
            "unknown function `Processor`: the stage's functions are processor, api"
        );
    }

    #[test]
    fn each_function_gets_the_event_of_its_source_by_default() {
        assert_eq!(EventKind::default_for("processor"), EventKind::SqsS3);
        assert_eq!(EventKind::default_for("api"), EventKind::ApigwV2);
    }

    #[test]
    fn api_facts_come_from_the_url_and_the_stack_arn() {
        let facts = api_facts(
            "https://abc123.execute-api.eu-west-1.amazonaws.com/",
            Some("arn:aws:cloudformation:eu-west-1:111122223333:stack/argus-beta/0f1e"),
        );
        assert_eq!(facts.api_id, "abc123");
        assert_eq!(
            facts.domain_name,
            "abc123.execute-api.eu-west-1.amazonaws.com"
        );
        assert_eq!(facts.account_id, "111122223333");
        let local = api_facts("http://127.0.0.1:4566/restapis/x", None);
        assert_eq!(local.domain_name, "127.0.0.1:4566");
        assert_eq!(local.account_id, "");
    }

    #[test]
    fn the_log_tail_is_decoded_and_a_cut_first_line_dropped() {
        let encode = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert_eq!(
            decode_log_tail(&encode("START RequestId: 1\nEND\n")).unwrap(),
            "START RequestId: 1\nEND\n"
        );
        let long = format!("{}\nwhole line\n", "x".repeat(4096 - 12));
        assert_eq!(long.len(), 4096);
        assert_eq!(decode_log_tail(&encode(&long)).unwrap(), "whole line\n");
        assert_eq!(decode_log_tail("not base64!").unwrap_err().code, 3);
    }
}
