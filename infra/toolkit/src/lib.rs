//! argus-toolkit (the CDK CLI part): bundle Lambda assets, publish them, and deploy, diff and
//! destroy stacks synthesized with argus-cdk, through CloudFormation change sets (or, for Lambda
//! code and configuration only, a hotswap through the Lambda API).
//!
//! A library: it reports messages, progress and questions through a [`report::Reporter`] its
//! caller implements (the `argus` CLI draws them on a terminal) and never prints or reads
//! standard input itself.
//!
//! AWS is reached only through `aws-config`'s default chain, so `AWS_PROFILE`, `AWS_REGION` and
//! `AWS_ENDPOINT_URL` (the local twin) work with no special code. Every wait has a timeout.

pub mod assets;
pub mod aws;
pub mod bundle;
pub mod deploy;
pub mod destroy;
pub mod diff;
pub mod hotswap;
pub mod report;
pub mod table;

use thiserror::Error;

/// What can go wrong in a toolkit operation.
#[derive(Debug, Error)]
pub enum ToolkitError {
    /// An AWS API call failed (unreachable endpoint, missing credentials, refused call).
    #[error("{operation} failed: {message}\n  tried: {target}")]
    Aws {
        /// The API operation, e.g. `cloudformation:DescribeStacks`.
        operation: String,
        /// The error, with its code when AWS gave one.
        message: String,
        /// Which endpoint, Region and credentials source was used.
        target: String,
    },
    /// The stack operation ended in a failed state.
    #[error("stack {stack} ended in {status}{reasons}", reasons = format_reasons(failed))]
    StackFailed {
        /// The stack.
        stack: String,
        /// Its final status, e.g. `ROLLBACK_COMPLETE`.
        status: String,
        /// Each failed resource: (logical ID, resource type, status reason).
        failed: Vec<(String, String, String)>,
    },
    /// A change set could not be created.
    #[error("change set for {stack} failed: {reason}")]
    ChangeSetFailed {
        /// The stack.
        stack: String,
        /// CloudFormation's status reason.
        reason: String,
    },
    /// A wait ran past its timeout.
    #[error(
        "timed out after {seconds} s waiting for {what}; the stack is {status}. Run the command again to keep waiting, or inspect it with `argus diff`"
    )]
    Timeout {
        /// What was being waited for.
        what: String,
        /// The last status seen.
        status: String,
        /// The timeout.
        seconds: u64,
    },
    /// The user (or a non-interactive run) did not approve a broadening of IAM permissions.
    #[error("{0}")]
    NotApproved(String),
    /// The operation is refused (protected stack, stack in a state that needs attention, …).
    #[error("{0}")]
    Refused(String),
    /// A hotswapped function's update ended with `LastUpdateStatus: Failed`.
    #[error("hotswap of function {function} failed: {reason}")]
    HotswapFailed {
        /// The function name.
        function: String,
        /// Lambda's `LastUpdateStatusReason`.
        reason: String,
    },
    /// Ctrl-C.
    #[error("interrupted: {0}")]
    Interrupted(String),
    /// Building or packaging a bundle failed.
    #[error("bundle: {0}")]
    Bundle(String),
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

fn format_reasons(failed: &[(String, String, String)]) -> String {
    failed
        .iter()
        .map(|(id, ty, reason)| format!("\n  {id} ({ty}): {reason}"))
        .collect()
}

impl ToolkitError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        ToolkitError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
