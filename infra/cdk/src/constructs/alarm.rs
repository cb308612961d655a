//! [`Alarm`] and [`Metric`]: CloudWatch alarms on one metric.

use crate::error::SynthError;
use crate::intrinsic::Expr;
use crate::resources::cloudwatch::{CfnAlarm, Dimension};
use crate::stack::Stack;

/// A CloudWatch metric: namespace, name and dimensions.
#[derive(Clone, Debug)]
pub struct Metric {
    /// e.g. `AWS/SQS`.
    pub namespace: String,
    /// e.g. `ApproximateNumberOfMessagesVisible`.
    pub name: String,
    /// (name, value) pairs.
    pub dimensions: Vec<(String, Expr)>,
    /// `Sum`, `Maximum`, …
    pub statistic: String,
    /// Seconds per datapoint.
    pub period_secs: u32,
}

impl Metric {
    /// A metric with the `Sum` statistic over 60 s periods.
    pub fn new(namespace: &str, name: &str) -> Self {
        Metric {
            namespace: namespace.into(),
            name: name.into(),
            dimensions: Vec::new(),
            statistic: "Sum".into(),
            period_secs: 60,
        }
    }

    /// Adds a dimension.
    #[must_use]
    pub fn with_dimension(mut self, name: &str, value: Expr) -> Self {
        self.dimensions.push((name.into(), value));
        self
    }

    /// Sets the statistic.
    #[must_use]
    pub fn with_statistic(mut self, statistic: &str) -> Self {
        self.statistic = statistic.into();
        self
    }
}

/// How the metric is compared with the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// `GreaterThanOrEqualToThreshold`.
    GreaterThanOrEqual,
    /// `GreaterThanThreshold`.
    GreaterThan,
}

/// Alarm settings.
#[derive(Clone, Debug)]
pub struct AlarmProps {
    /// What the alarm means and what to do about it.
    pub description: String,
    /// The metric watched.
    pub metric: Metric,
    /// The threshold.
    pub threshold: f64,
    /// The comparison.
    pub comparison: Comparison,
    /// Datapoints that must breach.
    pub evaluation_periods: u32,
    /// Topic ARNs notified on ALARM and on OK.
    pub actions: Vec<Expr>,
}

/// A CloudWatch alarm in a stack.
#[derive(Clone, Debug, PartialEq)]
pub struct Alarm {
    /// The alarm's logical ID.
    pub logical_id: String,
}

impl Alarm {
    /// Adds an `AWS::CloudWatch::Alarm` at `path`; missing data counts as not breaching.
    ///
    /// # Errors
    /// As [`Stack::add`].
    pub fn new(stack: &mut Stack, path: &str, props: AlarmProps) -> Result<Self, SynthError> {
        let cfn = CfnAlarm {
            alarm_name: None,
            alarm_description: Some(props.description),
            namespace: props.metric.namespace,
            metric_name: props.metric.name,
            dimensions: props
                .metric
                .dimensions
                .into_iter()
                .map(|(name, value)| Dimension { name, value })
                .collect(),
            statistic: props.metric.statistic,
            period: props.metric.period_secs,
            evaluation_periods: props.evaluation_periods,
            threshold: props.threshold,
            comparison_operator: match props.comparison {
                Comparison::GreaterThanOrEqual => "GreaterThanOrEqualToThreshold".into(),
                Comparison::GreaterThan => "GreaterThanThreshold".into(),
            },
            treat_missing_data: Some("notBreaching".into()),
            alarm_actions: props.actions.clone(),
            ok_actions: props.actions,
        };
        Ok(Alarm {
            logical_id: stack.add(path, &cfn)?,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_support::{stack, synthesized};

    fn props(actions: Vec<Expr>) -> AlarmProps {
        AlarmProps {
            description: "Messages are piling up in the dead-letter queue: inspect and redrive."
                .into(),
            metric: Metric::new("AWS/SQS", "ApproximateNumberOfMessagesVisible")
                .with_dimension(
                    "QueueName",
                    Expr::get_att("IngestDeadLetterQueue", "QueueName"),
                )
                .with_statistic("Maximum"),
            threshold: 1.0,
            comparison: Comparison::GreaterThanOrEqual,
            evaluation_periods: 1,
            actions,
        }
    }

    #[test]
    fn alarm_notifies_its_actions_on_alarm_and_on_ok() {
        let mut stack = stack();
        let alarm = Alarm::new(
            &mut stack,
            "DlqAlarm",
            props(vec![Expr::reference("Alerts")]),
        )
        .unwrap();
        let r = synthesized(&stack, &alarm.logical_id);
        assert_eq!(r.resource_type, "AWS::CloudWatch::Alarm");
        assert_eq!(
            r.property("AlarmActions"),
            Some(&json!([{"Ref": "Alerts"}]))
        );
        assert_eq!(r.property("OKActions"), Some(&json!([{"Ref": "Alerts"}])));
    }

    #[test]
    fn alarm_without_actions_renders_no_action_lists() {
        let mut stack = stack();
        let alarm = Alarm::new(&mut stack, "DlqAlarm", props(Vec::new())).unwrap();
        let r = stack.resource(&alarm.logical_id).unwrap();
        assert_eq!(r.property("AlarmActions"), None);
        assert_eq!(r.property("OKActions"), None);
    }

    #[test]
    fn alarm_watches_the_metric_and_treats_missing_data_as_not_breaching() {
        let mut stack = stack();
        let alarm = Alarm::new(&mut stack, "DlqAlarm", props(Vec::new())).unwrap();
        let r = stack.resource(&alarm.logical_id).unwrap();
        assert_eq!(r.property("Namespace"), Some(&json!("AWS/SQS")));
        assert_eq!(
            r.property("MetricName"),
            Some(&json!("ApproximateNumberOfMessagesVisible"))
        );
        assert_eq!(
            r.property("Dimensions"),
            Some(
                &json!([{"Name": "QueueName", "Value": {"Fn::GetAtt": ["IngestDeadLetterQueue", "QueueName"]}}])
            )
        );
        assert_eq!(r.property("Statistic"), Some(&json!("Maximum")));
        assert_eq!(r.property("Period"), Some(&json!(60)));
        assert_eq!(r.property("EvaluationPeriods"), Some(&json!(1)));
        assert_eq!(r.property("Threshold"), Some(&json!(1.0)));
        assert_eq!(
            r.property("ComparisonOperator"),
            Some(&json!("GreaterThanOrEqualToThreshold"))
        );
        assert_eq!(r.property("TreatMissingData"), Some(&json!("notBreaching")));
    }

    #[test]
    fn greater_than_maps_to_its_operator_and_metrics_default_to_sum() {
        let mut stack = stack();
        let mut p = props(Vec::new());
        p.comparison = Comparison::GreaterThan;
        p.metric = Metric::new("AWS/Lambda", "Errors");
        let alarm = Alarm::new(&mut stack, "Errors", p).unwrap();
        let r = stack.resource(&alarm.logical_id).unwrap();
        assert_eq!(
            r.property("ComparisonOperator"),
            Some(&json!("GreaterThanThreshold"))
        );
        assert_eq!(r.property("Statistic"), Some(&json!("Sum")));
        assert_eq!(r.property("Dimensions"), None);
    }
}
