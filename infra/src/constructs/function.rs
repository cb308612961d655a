//! [`Function`]: a Lambda function on the OS-only runtime `provided.al2023` running a Rust
//! `bootstrap`, with its own role and log group, and SQS event sources.

use std::collections::BTreeMap;

use crate::constructs::log_group::{LogGroup, LogGroupProps};
use crate::constructs::queue::Queue;
use crate::constructs::role::{Role, RoleProps};
use crate::constructs::{RemovalPolicy, sid};
use crate::error::SynthError;
use crate::iam::Statement;
use crate::intrinsic::Expr;
use crate::resources::lambda::{CfnEventSourceMapping, CfnFunction, Code, Environment, LoggingConfig, ScalingConfig};
use crate::stack::Stack;

/// The runtime every Argus function uses: Amazon Linux 2023, OS-only, handler `bootstrap`
/// (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-provided.html>).
pub const RUNTIME: &str = "provided.al2023";

/// The instruction set the `bootstrap` is built for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Architecture {
    /// `x86_64` (the default).
    #[default]
    X86_64,
    /// `arm64` (Graviton2).
    Arm64,
}

impl Architecture {
    /// The name Lambda uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }
}

/// Where the deployment package is: an S3 bucket and key (the toolkit fills both from the
/// stack's asset parameters).
#[derive(Clone, Debug)]
pub struct FunctionCode {
    /// The bucket.
    pub bucket: Expr,
    /// The key of the zip.
    pub key: Expr,
}

/// Function settings.
#[derive(Clone, Debug)]
pub struct FunctionProps {
    /// Function name as an `Fn::Sub` template (e.g. `${AWS::StackName}-processor`).
    pub function_name: String,
    /// What it does.
    pub description: String,
    /// The package.
    pub code: FunctionCode,
    /// x86_64 or arm64.
    pub architecture: Architecture,
    /// Memory in MB (128-10,240).
    pub memory_mb: u32,
    /// Timeout in seconds (1-900).
    pub timeout_secs: u32,
    /// Environment variables.
    pub environment: BTreeMap<String, Expr>,
    /// Days the function's log group keeps events.
    pub log_retention_days: u32,
    /// Reserved concurrency (`None`: unreserved, reported by `LAMBDA-CONCURRENCY`).
    pub reserved_concurrency: Option<u32>,
    /// What happens to the log group when the stack is deleted.
    pub log_removal_policy: RemovalPolicy,
}

impl FunctionProps {
    /// Defaults (256 MB, 30 s, x86_64, 365 days of logs) for a function name and package.
    pub fn new(function_name: &str, description: &str, code: FunctionCode) -> Self {
        FunctionProps {
            function_name: function_name.to_owned(),
            description: description.to_owned(),
            code,
            architecture: Architecture::X86_64,
            memory_mb: 256,
            timeout_secs: 30,
            environment: BTreeMap::new(),
            log_retention_days: 365,
            reserved_concurrency: None,
            log_removal_policy: RemovalPolicy::Retain,
        }
    }
}

/// An SQS event source: how the function polls a queue.
#[derive(Clone, Debug)]
pub struct SqsEventSource {
    /// Messages per batch (1-10,000; over 10 needs a batching window).
    pub batch_size: u32,
    /// Seconds to gather a batch (0-300).
    pub max_batching_window_secs: u32,
    /// Concurrent invocations at most (2-1,000).
    pub maximum_concurrency: u32,
}

/// A Lambda function in a stack.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    /// The function's logical ID.
    pub logical_id: String,
    /// Its execution role (one per function).
    pub role: Role,
    /// Its log group.
    pub log_group: LogGroup,
    /// Its timeout in seconds.
    pub timeout_secs: u32,
    path: String,
}

impl Function {
    /// Adds the function at `path`, its role at `path/ServiceRole` and its log group at
    /// `path/LogGroup` (`/aws/lambda/<name>`, JSON log format). The role may write to that log
    /// group only: no `AWSLambdaBasicExecutionRole`.
    ///
    /// # Errors
    /// As [`Stack::add`]; [`SynthError::InvalidConstruct`] for memory or timeout out of range.
    pub fn new(stack: &mut Stack, path: &str, props: FunctionProps) -> Result<Self, SynthError> {
        let invalid = |reason: String| SynthError::InvalidConstruct { construct: path.to_owned(), reason };
        if !(128..=10_240).contains(&props.memory_mb) {
            return Err(invalid(format!("memory {} MB is not within 128-10,240", props.memory_mb)));
        }
        if !(1..=900).contains(&props.timeout_secs) {
            return Err(invalid(format!("timeout {} s is not within 1-900", props.timeout_secs)));
        }
        let log_group = LogGroup::new(
            stack,
            &format!("{path}/LogGroup"),
            LogGroupProps {
                name: Some(format!("/aws/lambda/{}", props.function_name)),
                retention_days: props.log_retention_days,
                removal_policy: props.log_removal_policy,
            },
        )?;
        let role = Role::new(
            stack,
            &format!("{path}/ServiceRole"),
            RoleProps::for_service("lambda.amazonaws.com", format!("Execution role of {}", props.function_name)),
        )?;
        role.add_to_policy(
            stack,
            Statement::allow(["logs:CreateLogStream", "logs:PutLogEvents"], vec![log_group.arn()]).with_sid("WriteOwnLogs"),
        )?;
        let cfn = CfnFunction {
            function_name: Some(Expr::interpolate(&props.function_name)),
            description: Some(props.description),
            role: role.arn(),
            runtime: RUNTIME.into(),
            handler: "bootstrap".into(),
            code: Code { s3_bucket: props.code.bucket, s3_key: props.code.key },
            architectures: vec![props.architecture.as_str().into()],
            memory_size: props.memory_mb,
            timeout: props.timeout_secs,
            environment: (!props.environment.is_empty()).then_some(Environment { variables: props.environment }),
            logging_config: Some(LoggingConfig { log_format: Some("JSON".into()), log_group: Some(log_group.name()) }),
            reserved_concurrent_executions: props.reserved_concurrency,
        };
        let logical_id = stack.add(path, &cfn)?;
        Ok(Function { logical_id, role, log_group, timeout_secs: props.timeout_secs, path: path.to_owned() })
    }

    /// `{"Ref": function}`: the function name.
    pub fn name(&self) -> Expr {
        Expr::reference(&self.logical_id)
    }

    /// `{"Fn::GetAtt": [function, "Arn"]}`.
    pub fn arn(&self) -> Expr {
        Expr::get_att(&self.logical_id, "Arn")
    }

    /// Polls `queue` with an event source mapping at `path/<Queue>Source`, reporting batch item
    /// failures (<https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html>),
    /// and grants the role what polling needs. Returns the mapping's logical ID.
    ///
    /// # Errors
    /// [`SynthError::InvalidConstruct`] when the queue's visibility timeout is shorter than the
    /// function's timeout (Lambda refuses the mapping), or a setting is out of range.
    pub fn add_sqs_event_source(&self, stack: &mut Stack, queue: &Queue, source: SqsEventSource) -> Result<String, SynthError> {
        let invalid = |reason: String| SynthError::InvalidConstruct { construct: self.path.clone(), reason };
        if queue.visibility_timeout_secs < self.timeout_secs {
            return Err(invalid(format!(
                "queue visibility timeout {} s is shorter than the function timeout {} s",
                queue.visibility_timeout_secs, self.timeout_secs
            )));
        }
        if !(1..=10_000).contains(&source.batch_size) || (source.batch_size > 10 && source.max_batching_window_secs == 0) {
            return Err(invalid(format!("batch size {} needs 1-10, or up to 10,000 with a batching window", source.batch_size)));
        }
        if source.max_batching_window_secs > 300 {
            return Err(invalid("the batching window is at most 300 s".into()));
        }
        if !(2..=1000).contains(&source.maximum_concurrency) {
            return Err(invalid(format!("maximum concurrency {} is not within 2-1,000", source.maximum_concurrency)));
        }
        queue.grant_consume(stack, &self.role)?;
        let mapping = stack.add(
            &format!("{}/{}Source", self.path, sid(&[&queue.logical_id])),
            &CfnEventSourceMapping {
                event_source_arn: queue.arn(),
                function_name: self.name(),
                batch_size: Some(source.batch_size),
                maximum_batching_window_in_seconds: Some(source.max_batching_window_secs),
                function_response_types: vec!["ReportBatchItemFailures".into()],
                scaling_config: Some(ScalingConfig { maximum_concurrency: source.maximum_concurrency }),
                enabled: Some(true),
            },
        )?;
        stack.resource_mut(&mapping)?.depends_on.insert(self.role.logical_id.clone());
        Ok(mapping)
    }
}
