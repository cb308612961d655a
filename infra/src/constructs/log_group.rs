//! [`LogGroup`]: a CloudWatch Logs log group with a retention period.

use crate::constructs::RemovalPolicy;
use crate::error::SynthError;
use crate::intrinsic::Expr;
use crate::resources::logs::CfnLogGroup;
use crate::stack::Stack;

/// The retention periods CloudWatch Logs accepts, in days
/// (<https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html>).
pub const RETENTION_DAYS: &[u32] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/// Log group settings.
#[derive(Clone, Debug)]
pub struct LogGroupProps {
    /// The name (`Fn::Sub` template), or `None` for a generated one.
    pub name: Option<String>,
    /// Days to keep events (365); one of [`RETENTION_DAYS`].
    pub retention_days: u32,
    /// Retain (default) or destroy with the stack.
    pub removal_policy: RemovalPolicy,
}

impl Default for LogGroupProps {
    fn default() -> Self {
        LogGroupProps { name: None, retention_days: 365, removal_policy: RemovalPolicy::Retain }
    }
}

/// A log group in a stack.
#[derive(Clone, Debug, PartialEq)]
pub struct LogGroup {
    /// The log group's logical ID.
    pub logical_id: String,
}

impl LogGroup {
    /// Adds an `AWS::Logs::LogGroup` at `path`.
    ///
    /// # Errors
    /// As [`Stack::add`]; [`SynthError::InvalidConstruct`] for a retention CloudWatch Logs rejects.
    pub fn new(stack: &mut Stack, path: &str, props: LogGroupProps) -> Result<Self, SynthError> {
        if !RETENTION_DAYS.contains(&props.retention_days) {
            return Err(SynthError::InvalidConstruct {
                construct: path.to_owned(),
                reason: format!("retention of {} days is not one of {RETENTION_DAYS:?}", props.retention_days),
            });
        }
        let logical_id = stack.add(
            path,
            &CfnLogGroup { log_group_name: props.name.map(Expr::interpolate), retention_in_days: Some(props.retention_days), kms_key_id: None },
        )?;
        stack.resource_mut(&logical_id)?.apply_removal_policy(props.removal_policy.deletion_policy());
        Ok(LogGroup { logical_id })
    }

    /// `{"Ref": log_group}`: the name.
    pub fn name(&self) -> Expr {
        Expr::reference(&self.logical_id)
    }

    /// `{"Fn::GetAtt": [log_group, "Arn"]}` (ends in `:*`, covering its log streams).
    pub fn arn(&self) -> Expr {
        Expr::get_att(&self.logical_id, "Arn")
    }
}
