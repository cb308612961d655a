//! `AWS::CloudWatch::Alarm`.

use serde::Serialize;
use serde_with::skip_serializing_none;

use crate::intrinsic::Expr;
use crate::template::CfnResource;

/// `AWS::CloudWatch::Alarm` properties (single-metric alarms).
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnAlarm {
    /// Alarm name.
    pub alarm_name: Option<Expr>,
    /// What the alarm means and what to do.
    pub alarm_description: Option<String>,
    /// Metric namespace, e.g. `AWS/SQS`.
    pub namespace: String,
    /// Metric name.
    pub metric_name: String,
    /// Metric dimensions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<Dimension>,
    /// `Sum`, `Maximum`, `Average`, …
    pub statistic: String,
    /// Seconds per datapoint.
    pub period: u32,
    /// Datapoints evaluated.
    pub evaluation_periods: u32,
    /// The threshold.
    pub threshold: f64,
    /// e.g. `GreaterThanOrEqualToThreshold`.
    pub comparison_operator: String,
    /// `notBreaching`, `breaching`, `ignore` or `missing`.
    pub treat_missing_data: Option<String>,
    /// ARNs notified on ALARM.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alarm_actions: Vec<Expr>,
    /// ARNs notified on return to OK.
    #[serde(rename = "OKActions", skip_serializing_if = "Vec::is_empty")]
    pub ok_actions: Vec<Expr>,
}

impl CfnResource for CfnAlarm {
    const TYPE: &'static str = "AWS::CloudWatch::Alarm";
}

/// `Dimension`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dimension {
    /// Dimension name, e.g. `QueueName`.
    pub name: String,
    /// Its value.
    pub value: Expr,
}
