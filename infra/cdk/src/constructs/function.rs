//! [`Function`]: a Lambda function with its own role and log group, and SQS event sources. By
//! default it runs a Rust `bootstrap` on the OS-only runtime `provided.al2023`; any other
//! [`Runtime`] and handler can be chosen (`python3.12` with `app.handler`, `nodejs20.x`, …).

use std::collections::BTreeMap;

use crate::constructs::log_group::{LogGroup, LogGroupProps};
use crate::constructs::queue::Queue;
use crate::constructs::role::{Role, RoleProps};
use crate::constructs::{RemovalPolicy, sid};
use crate::error::SynthError;
use crate::iam::Statement;
use crate::intrinsic::Expr;
use crate::resources::lambda::{
    CfnEventSourceMapping, CfnFunction, Code, Environment, LoggingConfig, ScalingConfig,
};
use crate::stack::Stack;

/// The default runtime (every Argus function uses it): Amazon Linux 2023, OS-only, handler
/// `bootstrap` (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-provided.html>).
pub const RUNTIME: &str = "provided.al2023";

/// The handler of an OS-only runtime: the executable `bootstrap` at the root of the package.
pub const BOOTSTRAP_HANDLER: &str = "bootstrap";

/// A Lambda runtime identifier
/// (<https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html>).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Runtime {
    /// `provided.al2023`: OS-only, runs a `bootstrap` executable (a Rust or Go binary). The
    /// default.
    #[default]
    ProvidedAl2023,
    /// `provided.al2`: OS-only on Amazon Linux 2.
    ProvidedAl2,
    /// `python3.12`.
    Python312,
    /// `python3.13`.
    Python313,
    /// `nodejs20.x`.
    Nodejs20,
    /// `nodejs22.x`.
    Nodejs22,
    /// `java21`.
    Java21,
    /// Any other identifier Lambda accepts, as written (e.g. `ruby3.3`).
    Other(String),
}

impl Runtime {
    /// The identifier Lambda uses, e.g. `python3.12`.
    pub fn name(&self) -> &str {
        match self {
            Runtime::ProvidedAl2023 => RUNTIME,
            Runtime::ProvidedAl2 => "provided.al2",
            Runtime::Python312 => "python3.12",
            Runtime::Python313 => "python3.13",
            Runtime::Nodejs20 => "nodejs20.x",
            Runtime::Nodejs22 => "nodejs22.x",
            Runtime::Java21 => "java21",
            Runtime::Other(name) => name,
        }
    }

    /// Whether this is an OS-only runtime (`provided.*`), whose handler is the `bootstrap`
    /// executable.
    pub fn is_os_only(&self) -> bool {
        self.name().starts_with("provided")
    }
}

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
    /// The S3 object version of the zip (`S3ObjectVersion`), or `None` for the key's current
    /// version.
    pub version: Option<Expr>,
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
    /// The runtime ([`Runtime::ProvidedAl2023`]).
    pub runtime: Runtime,
    /// The handler: `bootstrap` ([`BOOTSTRAP_HANDLER`]) for OS-only runtimes, `module.function`
    /// for Python and Node.js (e.g. `app.handler`), `package.Class::method` for Java.
    pub handler: String,
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
    /// Defaults (a Rust `bootstrap` on `provided.al2023`, 256 MB, 30 s, x86_64, 365 days of logs)
    /// for a function name and package.
    pub fn new(function_name: &str, description: &str, code: FunctionCode) -> Self {
        FunctionProps {
            function_name: function_name.to_owned(),
            description: description.to_owned(),
            code,
            runtime: Runtime::ProvidedAl2023,
            handler: BOOTSTRAP_HANDLER.to_owned(),
            architecture: Architecture::X86_64,
            memory_mb: 256,
            timeout_secs: 30,
            environment: BTreeMap::new(),
            log_retention_days: 365,
            reserved_concurrency: None,
            log_removal_policy: RemovalPolicy::Retain,
        }
    }

    /// The same settings with another runtime and handler, e.g.
    /// `(Runtime::Python312, "app.handler")`.
    #[must_use]
    pub fn with_runtime(mut self, runtime: Runtime, handler: &str) -> Self {
        self.runtime = runtime;
        self.handler = handler.to_owned();
        self
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
    /// As [`Stack::add`]; [`SynthError::InvalidConstruct`] for memory or timeout out of range, an
    /// empty runtime or handler (Lambda: 1-128 characters,
    /// <https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html>).
    pub fn new(stack: &mut Stack, path: &str, props: FunctionProps) -> Result<Self, SynthError> {
        let invalid = |reason: String| SynthError::InvalidConstruct {
            construct: path.to_owned(),
            reason,
        };
        if !(128..=10_240).contains(&props.memory_mb) {
            return Err(invalid(format!(
                "memory {} MB is not within 128-10,240",
                props.memory_mb
            )));
        }
        if !(1..=900).contains(&props.timeout_secs) {
            return Err(invalid(format!(
                "timeout {} s is not within 1-900",
                props.timeout_secs
            )));
        }
        if props.runtime.name().trim().is_empty() {
            return Err(invalid("the runtime is empty".into()));
        }
        if props.handler.trim().is_empty() || props.handler.len() > 128 {
            return Err(invalid(format!(
                "handler `{}` is not 1-128 characters",
                props.handler
            )));
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
            RoleProps::for_service(
                "lambda.amazonaws.com",
                format!("Execution role of the {path} function"),
            ),
        )?;
        role.add_to_policy(
            stack,
            Statement::allow(
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                vec![log_group.arn()],
            )
            .with_sid("WriteOwnLogs"),
        )?;
        let cfn = CfnFunction {
            function_name: Some(Expr::interpolate(&props.function_name)),
            description: Some(props.description),
            role: role.arn(),
            runtime: props.runtime.name().to_owned(),
            handler: props.handler,
            code: Code {
                s3_bucket: props.code.bucket,
                s3_key: props.code.key,
                s3_object_version: props.code.version,
            },
            architectures: vec![props.architecture.as_str().into()],
            memory_size: props.memory_mb,
            timeout: props.timeout_secs,
            environment: (!props.environment.is_empty()).then_some(Environment {
                variables: props.environment,
            }),
            logging_config: Some(LoggingConfig {
                log_format: Some("JSON".into()),
                log_group: Some(log_group.name()),
            }),
            reserved_concurrent_executions: props.reserved_concurrency,
        };
        let logical_id = stack.add(path, &cfn)?;
        Ok(Function {
            logical_id,
            role,
            log_group,
            timeout_secs: props.timeout_secs,
            path: path.to_owned(),
        })
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
    pub fn add_sqs_event_source(
        &self,
        stack: &mut Stack,
        queue: &Queue,
        source: SqsEventSource,
    ) -> Result<String, SynthError> {
        let invalid = |reason: String| SynthError::InvalidConstruct {
            construct: self.path.clone(),
            reason,
        };
        if queue.visibility_timeout_secs < self.timeout_secs {
            return Err(invalid(format!(
                "queue visibility timeout {} s is shorter than the function timeout {} s",
                queue.visibility_timeout_secs, self.timeout_secs
            )));
        }
        if !(1..=10_000).contains(&source.batch_size)
            || (source.batch_size > 10 && source.max_batching_window_secs == 0)
        {
            return Err(invalid(format!(
                "batch size {} needs 1-10, or up to 10,000 with a batching window",
                source.batch_size
            )));
        }
        if source.max_batching_window_secs > 300 {
            return Err(invalid("the batching window is at most 300 s".into()));
        }
        if !(2..=1000).contains(&source.maximum_concurrency) {
            return Err(invalid(format!(
                "maximum concurrency {} is not within 2-1,000",
                source.maximum_concurrency
            )));
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
                scaling_config: Some(ScalingConfig {
                    maximum_concurrency: source.maximum_concurrency,
                }),
                enabled: Some(true),
            },
        )?;
        stack
            .resource_mut(&mapping)?
            .depends_on
            .insert(self.role.logical_id.clone());
        Ok(mapping)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::constructs::queue::QueueProps;
    use crate::template::DeletionPolicy;
    use crate::test_support::{
        any_finding, assert_no_unsuppressed_errors, assert_stable, is_invalid_construct, stack,
        statements, synth_resource, synthesized,
    };

    fn props(name: &str) -> FunctionProps {
        FunctionProps::new(
            name,
            "Labels uploaded images",
            FunctionCode {
                bucket: Expr::reference("AssetsBucket"),
                key: Expr::reference("ProcessorKey"),
                version: None,
            },
        )
    }

    fn processor(stack: &mut Stack, name: &str) -> Function {
        Function::new(stack, "Processor", props(name)).unwrap()
    }

    fn source() -> SqsEventSource {
        SqsEventSource {
            batch_size: 10,
            max_batching_window_secs: 0,
            maximum_concurrency: 5,
        }
    }

    fn queue(stack: &mut Stack, visibility_timeout_secs: u32) -> Queue {
        Queue::new(
            stack,
            "Ingest",
            QueueProps {
                visibility_timeout_secs,
                ..QueueProps::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn function_runs_bootstrap_on_provided_al2023() {
        let mut stack = stack();
        let function = processor(&mut stack, "${AWS::StackName}-processor");
        let r = synthesized(&stack, &function.logical_id);
        assert_eq!(r.resource_type, "AWS::Lambda::Function");
        assert_eq!(r.property("Runtime"), Some(&json!("provided.al2023")));
        assert_eq!(r.property("Handler"), Some(&json!("bootstrap")));
        assert_eq!(r.property("Architectures"), Some(&json!(["x86_64"])));
        assert_eq!(r.property("MemorySize"), Some(&json!(256)));
        assert_eq!(r.property("Timeout"), Some(&json!(30)));
        assert_eq!(
            r.property("FunctionName"),
            Some(&json!({"Fn::Sub": "${AWS::StackName}-processor"}))
        );
        assert_eq!(
            r.property("Code"),
            Some(&json!({"S3Bucket": {"Ref": "AssetsBucket"}, "S3Key": {"Ref": "ProcessorKey"}}))
        );
        assert_eq!(r.property("Environment"), None);
        assert_eq!(r.property("ReservedConcurrentExecutions"), None);
    }

    #[test]
    fn architecture_environment_and_concurrency_are_rendered() {
        let mut stack = stack();
        let mut p = props("processor");
        p.architecture = Architecture::Arm64;
        p.environment
            .insert("TABLE".into(), Expr::reference("Results"));
        p.reserved_concurrency = Some(10);
        let function = Function::new(&mut stack, "Processor", p).unwrap();
        let r = stack.resource(&function.logical_id).unwrap();
        assert_eq!(r.property("Architectures"), Some(&json!(["arm64"])));
        assert_eq!(
            r.property("Environment"),
            Some(&json!({"Variables": {"TABLE": {"Ref": "Results"}}}))
        );
        assert_eq!(r.property("ReservedConcurrentExecutions"), Some(&json!(10)));
        assert_eq!(
            r.property("FunctionName"),
            Some(&json!("processor")),
            "no Fn::Sub without a placeholder"
        );
    }

    #[test]
    fn function_logs_to_its_own_log_group_with_retention() {
        let mut stack = stack();
        let function = processor(&mut stack, "${AWS::StackName}-processor");
        assert_eq!(function.log_group.logical_id, "ProcessorLogGroup");
        let synth = stack.synth().unwrap();
        let log_group = &synth.template.resources["ProcessorLogGroup"];
        assert_eq!(log_group.resource_type, "AWS::Logs::LogGroup");
        assert_eq!(
            log_group.property("LogGroupName"),
            Some(&json!({"Fn::Sub": "/aws/lambda/${AWS::StackName}-processor"}))
        );
        assert_eq!(log_group.property("RetentionInDays"), Some(&json!(365)));
        assert_eq!(log_group.deletion_policy, Some(DeletionPolicy::Retain));
        assert_eq!(
            synth.template.resources[&function.logical_id].property("LoggingConfig"),
            Some(&json!({"LogFormat": "JSON", "LogGroup": {"Ref": "ProcessorLogGroup"}}))
        );
    }

    #[test]
    fn log_retention_and_removal_come_from_the_function_props() {
        let mut stack = stack();
        let mut p = props("processor");
        p.log_retention_days = 30;
        p.log_removal_policy = RemovalPolicy::Destroy;
        let function = Function::new(&mut stack, "Processor", p).unwrap();
        let r = stack.resource(&function.log_group.logical_id).unwrap();
        assert_eq!(r.property("RetentionInDays"), Some(&json!(30)));
        assert_eq!(r.deletion_policy, Some(DeletionPolicy::Delete));
    }

    #[test]
    fn function_role_may_only_write_its_own_logs() {
        let mut stack = stack();
        let function = processor(&mut stack, "processor");
        assert_eq!(function.role.logical_id, "ProcessorServiceRole");
        let synth = stack.synth().unwrap();
        assert_eq!(
            synth.template.resources[&function.logical_id].property("Role"),
            Some(&json!({"Fn::GetAtt": ["ProcessorServiceRole", "Arn"]}))
        );
        let role = &synth.template.resources["ProcessorServiceRole"];
        assert_eq!(
            role.property("AssumeRolePolicyDocument.Statement"),
            Some(
                &json!([{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": ["sts:AssumeRole"]}])
            )
        );
        assert_eq!(
            role.property("Policies"),
            Some(&json!([{
                "PolicyName": "least-privilege",
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "WriteOwnLogs",
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": [{"Fn::GetAtt": ["ProcessorLogGroup", "Arn"]}]
                    }]
                }
            }]))
        );
        assert_eq!(role.property("ManagedPolicyArns"), None);
    }

    #[test]
    fn each_function_gets_its_own_role_scoped_to_its_own_log_group() {
        let mut stack = stack();
        let a = Function::new(&mut stack, "Processor", props("processor")).unwrap();
        let b = Function::new(&mut stack, "Reporter", props("reporter")).unwrap();
        assert_ne!(a.role, b.role);
        for f in [&a, &b] {
            let granted = statements(&stack, &f.role);
            assert_eq!(granted.len(), 1);
            assert_eq!(
                granted[0]["Resource"],
                json!([{"Fn::GetAtt": [f.log_group.logical_id, "Arn"]}])
            );
        }
    }

    #[test]
    fn default_function_fails_no_error_rule() {
        let mut stack = stack();
        processor(&mut stack, "processor");
        let synth = stack.synth().unwrap();
        assert_no_unsuppressed_errors(&synth);
        assert!(any_finding(&synth, |f| f.rule == "LAMBDA-CONCURRENCY"
            && f.logical_id == "Processor"));
    }

    #[test]
    fn memory_timeout_and_retention_out_of_range_are_rejected() {
        let cases: [fn(&mut FunctionProps); 5] = [
            |p| p.memory_mb = 127,
            |p| p.memory_mb = 10_241,
            |p| p.timeout_secs = 0,
            |p| p.timeout_secs = 901,
            |p| p.log_retention_days = 10,
        ];
        for change in cases {
            let mut stack = stack();
            let mut p = props("processor");
            change(&mut p);
            let err = Function::new(&mut stack, "Processor", p).unwrap_err();
            assert!(matches!(err, SynthError::InvalidConstruct { .. }), "{err}");
            assert!(stack.resource("Processor").is_none());
        }
    }

    #[test]
    fn sqs_event_source_reports_batch_item_failures_and_caps_concurrency() {
        let mut stack = stack();
        let function = processor(&mut stack, "processor");
        let queue = queue(&mut stack, 180);
        let mapping = function
            .add_sqs_event_source(&mut stack, &queue, source())
            .unwrap();
        assert_eq!(mapping, "ProcessorIngestSource");
        let (synth, r) = synth_resource(&stack, &mapping);
        assert_eq!(r.resource_type, "AWS::Lambda::EventSourceMapping");
        assert_eq!(
            r.property("EventSourceArn"),
            Some(&json!({"Fn::GetAtt": ["Ingest", "Arn"]}))
        );
        assert_eq!(
            r.property("FunctionName"),
            Some(&json!({"Ref": "Processor"}))
        );
        assert_eq!(
            r.property("FunctionResponseTypes"),
            Some(&json!(["ReportBatchItemFailures"]))
        );
        assert_eq!(
            r.property("ScalingConfig.MaximumConcurrency"),
            Some(&json!(5))
        );
        assert_eq!(r.property("BatchSize"), Some(&json!(10)));
        assert_eq!(
            r.property("MaximumBatchingWindowInSeconds"),
            Some(&json!(0))
        );
        assert_eq!(r.property("Enabled"), Some(&json!(true)));
        assert!(r.depends_on.contains("ProcessorServiceRole"));
        assert_no_unsuppressed_errors(&synth);
    }

    #[test]
    fn sqs_event_source_grants_consume_on_the_queue() {
        let mut stack = stack();
        let function = processor(&mut stack, "processor");
        let queue = Queue::new(&mut stack, "Ingest", QueueProps::default()).unwrap();
        function
            .add_sqs_event_source(&mut stack, &queue, source())
            .unwrap();
        let granted = statements(&stack, &function.role);
        assert_eq!(granted.len(), 2);
        assert_eq!(
            granted[1],
            json!({
                "Sid": "IngestConsume",
                "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
                "Resource": [{"Fn::GetAtt": ["Ingest", "Arn"]}]
            })
        );
    }

    #[test]
    fn sqs_event_source_rejects_a_visibility_timeout_shorter_than_the_function_timeout() {
        let mut stack = stack();
        let function = processor(&mut stack, "processor");
        let queue = queue(&mut stack, 29);
        let err = function
            .add_sqs_event_source(&mut stack, &queue, source())
            .unwrap_err();
        assert!(is_invalid_construct(&err, "Processor"), "{err}");
        assert!(stack.resource("ProcessorIngestSource").is_none());
        assert_eq!(
            stack.statements(&function.role.logical_id).len(),
            1,
            "no consume grant on failure"
        );
    }

    #[test]
    fn sqs_event_source_accepts_a_visibility_timeout_equal_to_the_function_timeout() {
        let mut stack = stack();
        let function = processor(&mut stack, "processor");
        let queue = queue(&mut stack, 30);
        assert!(
            function
                .add_sqs_event_source(&mut stack, &queue, source())
                .is_ok()
        );
    }

    #[test]
    fn sqs_event_source_rejects_out_of_range_batching() {
        let bad = [
            SqsEventSource {
                batch_size: 11,
                max_batching_window_secs: 0,
                maximum_concurrency: 5,
            },
            SqsEventSource {
                batch_size: 0,
                max_batching_window_secs: 0,
                maximum_concurrency: 5,
            },
            SqsEventSource {
                batch_size: 10_001,
                max_batching_window_secs: 5,
                maximum_concurrency: 5,
            },
            SqsEventSource {
                batch_size: 10,
                max_batching_window_secs: 301,
                maximum_concurrency: 5,
            },
            SqsEventSource {
                batch_size: 10,
                max_batching_window_secs: 0,
                maximum_concurrency: 1,
            },
            SqsEventSource {
                batch_size: 10,
                max_batching_window_secs: 0,
                maximum_concurrency: 1001,
            },
        ];
        for source in bad {
            let mut stack = stack();
            let function = processor(&mut stack, "processor");
            let queue = Queue::new(&mut stack, "Ingest", QueueProps::default()).unwrap();
            let err = function
                .add_sqs_event_source(&mut stack, &queue, source.clone())
                .unwrap_err();
            assert!(
                matches!(err, SynthError::InvalidConstruct { .. }),
                "{source:?}: {err}"
            );
        }
    }

    #[test]
    fn sqs_event_source_accepts_large_batches_with_a_batching_window() {
        let mut stack = stack();
        let function = processor(&mut stack, "processor");
        let queue = Queue::new(&mut stack, "Ingest", QueueProps::default()).unwrap();
        let source = SqsEventSource {
            batch_size: 100,
            max_batching_window_secs: 5,
            maximum_concurrency: 2,
        };
        let mapping = function
            .add_sqs_event_source(&mut stack, &queue, source)
            .unwrap();
        let r = stack.resource(&mapping).unwrap();
        assert_eq!(r.property("BatchSize"), Some(&json!(100)));
        assert_eq!(
            r.property("MaximumBatchingWindowInSeconds"),
            Some(&json!(5))
        );
    }

    #[test]
    fn logical_ids_and_template_bytes_are_stable_across_stacks() {
        assert_stable(|stack| {
            let function = processor(stack, "${AWS::StackName}-processor");
            let queue = Queue::new(stack, "Ingest", QueueProps::default()).unwrap();
            let mapping = function
                .add_sqs_event_source(stack, &queue, source())
                .unwrap();
            (function, mapping)
        });
    }

    #[test]
    fn runtime_and_handler_can_be_chosen() {
        let mut stack = stack();
        let function = Function::new(
            &mut stack,
            "Thumbnails",
            props("thumbnails").with_runtime(Runtime::Python312, "app.handler"),
        )
        .unwrap();
        let r = synthesized(&stack, &function.logical_id);
        assert_eq!(r.property("Runtime"), Some(&json!("python3.12")));
        assert_eq!(r.property("Handler"), Some(&json!("app.handler")));
        assert_eq!(Runtime::Nodejs20.name(), "nodejs20.x");
        assert_eq!(Runtime::Other("ruby3.3".into()).name(), "ruby3.3");
        assert!(Runtime::default().is_os_only() && !Runtime::Python312.is_os_only());
        let default = props("x");
        assert_eq!(
            (default.runtime, default.handler.as_str()),
            (Runtime::ProvidedAl2023, "bootstrap")
        );
    }

    #[test]
    fn an_empty_handler_is_rejected() {
        let mut stack = stack();
        let err = Function::new(
            &mut stack,
            "Thumbnails",
            props("thumbnails").with_runtime(Runtime::Nodejs20, " "),
        )
        .unwrap_err();
        assert!(is_invalid_construct(&err, "Thumbnails"), "{err}");
    }
}
