//! `AWS::Lambda::Function` and `AWS::Lambda::EventSourceMapping`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_with::skip_serializing_none;

use crate::intrinsic::Expr;
use crate::template::CfnResource;

/// `AWS::Lambda::Function` properties.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnFunction {
    /// Function name.
    pub function_name: Option<Expr>,
    /// What the function does.
    pub description: Option<String>,
    /// Execution role ARN.
    pub role: Expr,
    /// e.g. `provided.al2023`.
    pub runtime: String,
    /// `bootstrap` for OS-only runtimes.
    pub handler: String,
    /// The deployment package.
    pub code: Code,
    /// `x86_64` or `arm64` (one).
    pub architectures: Vec<String>,
    /// Memory in MB (128-10,240).
    pub memory_size: u32,
    /// Timeout in seconds (1-900).
    pub timeout: u32,
    /// Environment variables.
    pub environment: Option<Environment>,
    /// Where and how logs are written.
    pub logging_config: Option<LoggingConfig>,
    /// Concurrency reserved for (and limiting) the function.
    pub reserved_concurrent_executions: Option<u32>,
}

impl CfnResource for CfnFunction {
    const TYPE: &'static str = "AWS::Lambda::Function";
}

/// `Code` from S3.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Code {
    /// The bucket.
    pub s3_bucket: Expr,
    /// The object key of the zip.
    pub s3_key: Expr,
    /// The object version of the zip (versioned bucket): the function runs exactly the bytes it
    /// was deployed with, whatever is written to the key later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_object_version: Option<Expr>,
}

/// `Environment`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    /// Name → value.
    pub variables: BTreeMap<String, Expr>,
}

/// `LoggingConfig`.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    /// `JSON` or `Text`.
    pub log_format: Option<String>,
    /// The log group name.
    pub log_group: Option<Expr>,
}

/// `AWS::Lambda::EventSourceMapping` properties (SQS sources).
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnEventSourceMapping {
    /// The queue ARN.
    pub event_source_arn: Expr,
    /// The function name or ARN.
    pub function_name: Expr,
    /// Messages per batch (1-10,000; over 10 needs a batching window).
    pub batch_size: Option<u32>,
    /// Seconds to gather a batch (0-300).
    pub maximum_batching_window_in_seconds: Option<u32>,
    /// `ReportBatchItemFailures` for partial batch responses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub function_response_types: Vec<String>,
    /// Maximum concurrent invocations from this source.
    pub scaling_config: Option<ScalingConfig>,
    /// Whether the mapping polls.
    pub enabled: Option<bool>,
}

impl CfnResource for CfnEventSourceMapping {
    const TYPE: &'static str = "AWS::Lambda::EventSourceMapping";
}

/// `ScalingConfig`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScalingConfig {
    /// 2-1,000 concurrent invocations.
    pub maximum_concurrency: u32,
}
