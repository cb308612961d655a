//! [`LogGroup`]: a CloudWatch Logs log group with a retention period.

use crate::constructs::RemovalPolicy;
use crate::error::SynthError;
use crate::intrinsic::Expr;
use crate::resources::logs::CfnLogGroup;
use crate::stack::Stack;

/// The retention periods CloudWatch Logs accepts, in days
/// (<https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html>).
pub const RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

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
        LogGroupProps {
            name: None,
            retention_days: 365,
            removal_policy: RemovalPolicy::Retain,
        }
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
                reason: format!(
                    "retention of {} days is not one of {RETENTION_DAYS:?}",
                    props.retention_days
                ),
            });
        }
        let logical_id = stack.add(
            path,
            &CfnLogGroup {
                log_group_name: props.name.map(Expr::interpolate),
                retention_in_days: Some(props.retention_days),
                kms_key_id: None,
            },
        )?;
        stack
            .resource_mut(&logical_id)?
            .apply_removal_policy(props.removal_policy.deletion_policy());
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::rules::Severity;
    use crate::template::DeletionPolicy;
    use crate::test_support::{
        RETAINED, any_finding, assert_no_unsuppressed_errors, first_finding, is_invalid_construct,
        removal_policies, stack, synth_resource,
    };

    #[test]
    fn log_group_keeps_events_for_a_year_and_is_retained_by_default() {
        let mut stack = stack();
        let group = LogGroup::new(&mut stack, "AppLogs", LogGroupProps::default()).unwrap();
        let (synth, r) = synth_resource(&stack, &group.logical_id);
        assert_eq!(r.resource_type, "AWS::Logs::LogGroup");
        assert_eq!(r.property("RetentionInDays"), Some(&json!(365)));
        assert_eq!(r.property("LogGroupName"), None);
        assert_eq!(removal_policies(&r), RETAINED);
        assert_no_unsuppressed_errors(&synth);
        assert!(!any_finding(&synth, |f| f.rule == "LOGS-RETENTION-1Y"));
    }

    #[test]
    fn destroy_deletes_the_log_group() {
        let mut stack = stack();
        let props = LogGroupProps {
            removal_policy: RemovalPolicy::Destroy,
            ..LogGroupProps::default()
        };
        let group = LogGroup::new(&mut stack, "AppLogs", props).unwrap();
        assert_eq!(
            stack.resource(&group.logical_id).unwrap().deletion_policy,
            Some(DeletionPolicy::Delete)
        );
    }

    #[test]
    fn invalid_retention_is_rejected_and_nothing_is_added() {
        for days in [0, 2, 10, 366, 4000] {
            let mut stack = stack();
            let props = LogGroupProps {
                retention_days: days,
                ..LogGroupProps::default()
            };
            let err = LogGroup::new(&mut stack, "AppLogs", props).unwrap_err();
            assert!(is_invalid_construct(&err, "AppLogs"), "{days}: {err}");
            assert!(stack.resource("AppLogs").is_none());
        }
    }

    #[test]
    fn every_documented_retention_is_accepted() {
        let mut stack = stack();
        for days in RETENTION_DAYS {
            let props = LogGroupProps {
                retention_days: *days,
                ..LogGroupProps::default()
            };
            let group = LogGroup::new(&mut stack, &format!("Logs{days}"), props).unwrap();
            assert_eq!(
                stack
                    .resource(&group.logical_id)
                    .unwrap()
                    .property("RetentionInDays"),
                Some(&json!(days))
            );
        }
    }

    #[test]
    fn retention_under_a_year_is_a_warning_not_an_error() {
        let mut stack = stack();
        LogGroup::new(
            &mut stack,
            "AppLogs",
            LogGroupProps {
                retention_days: 30,
                ..LogGroupProps::default()
            },
        )
        .unwrap();
        let synth = stack.synth().unwrap();
        let finding = first_finding(&synth, "LOGS-RETENTION-1Y");
        assert_eq!(finding.severity, Severity::Warning);
        assert_eq!(finding.message, "kept 30 days");
        assert!(!any_finding(&synth, |f| f.rule == "LOGS-RETENTION"));
    }

    #[test]
    fn names_are_substituted_only_when_they_have_placeholders() {
        let mut stack = stack();
        let fixed = LogGroup::new(
            &mut stack,
            "Fixed",
            LogGroupProps {
                name: Some("/argus/app".into()),
                ..LogGroupProps::default()
            },
        )
        .unwrap();
        let per_stack = LogGroup::new(
            &mut stack,
            "PerStack",
            LogGroupProps {
                name: Some("/argus/${AWS::StackName}".into()),
                ..LogGroupProps::default()
            },
        )
        .unwrap();
        assert_eq!(
            stack
                .resource(&fixed.logical_id)
                .unwrap()
                .property("LogGroupName"),
            Some(&json!("/argus/app"))
        );
        assert_eq!(
            stack
                .resource(&per_stack.logical_id)
                .unwrap()
                .property("LogGroupName"),
            Some(&json!({"Fn::Sub": "/argus/${AWS::StackName}"}))
        );
        assert_eq!(fixed.name().to_json(), json!({"Ref": "Fixed"}));
        assert_eq!(
            fixed.arn().to_json(),
            json!({"Fn::GetAtt": ["Fixed", "Arn"]})
        );
    }
}
