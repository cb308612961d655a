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
        Metric { namespace: namespace.into(), name: name.into(), dimensions: Vec::new(), statistic: "Sum".into(), period_secs: 60 }
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
            dimensions: props.metric.dimensions.into_iter().map(|(name, value)| Dimension { name, value }).collect(),
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
        Ok(Alarm { logical_id: stack.add(path, &cfn)? })
    }
}
