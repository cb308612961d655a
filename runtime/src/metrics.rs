//! The processor's metrics in CloudWatch Embedded Metric Format (EMF): one JSON log line per
//! invocation, which CloudWatch Logs turns into metrics in the `Argus` namespace with the
//! dimension `Stage`.
//!
//! Spec: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>.

use serde_json::{Map, Value, json};

/// The CloudWatch namespace.
pub const NAMESPACE: &str = "Argus";

/// Counts of one invocation (all `Count` metrics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// `ImagesProcessed`: records written with status PROCESSED.
    pub images_processed: u64,
    /// `ImagesRejected`: records written with status REJECTED.
    pub images_rejected: u64,
    /// `ImagesFailed`: records written with status FAILED.
    pub images_failed: u64,
    /// `AlertsRaised`: alerts published to the alert topic.
    pub alerts_raised: u64,
    /// `RekognitionThrottles`: Rekognition calls still throttled after the SDK's retries.
    pub rekognition_throttles: u64,
}

impl Counters {
    /// Adds another set of counts.
    pub fn add(&mut self, other: &Counters) {
        self.images_processed += other.images_processed;
        self.images_rejected += other.images_rejected;
        self.images_failed += other.images_failed;
        self.alerts_raised += other.alerts_raised;
        self.rekognition_throttles += other.rekognition_throttles;
    }

    /// `(metric name, value)` pairs in a fixed order.
    pub fn values(&self) -> [(&'static str, u64); 5] {
        [
            ("ImagesProcessed", self.images_processed),
            ("ImagesRejected", self.images_rejected),
            ("ImagesFailed", self.images_failed),
            ("AlertsRaised", self.alerts_raised),
            ("RekognitionThrottles", self.rekognition_throttles),
        ]
    }
}

/// One EMF line (no trailing newline):
/// `{"_aws": {"Timestamp": <ms since epoch>, "CloudWatchMetrics": [{"Namespace": "Argus",
/// "Dimensions": [["Stage"]], "Metrics": [{"Name": "ImagesProcessed", "Unit": "Count"}, …]}]},
/// "Stage": "<stage>", "ImagesProcessed": 1, …}`.
///
/// Every metric is present (zeros too), so CloudWatch sees a data point per invocation.
pub fn emf_line(stage: &str, timestamp_ms: i64, counters: &Counters) -> String {
    let values = counters.values();
    let definitions: Vec<Value> = values
        .iter()
        .map(|(name, _)| json!({"Name": name, "Unit": "Count"}))
        .collect();
    let mut root = Map::new();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Stage"]],
                "Metrics": definitions,
            }],
        }),
    );
    root.insert("Stage".into(), Value::String(stage.to_owned()));
    for (name, value) in values {
        root.insert(name.into(), Value::from(value));
    }
    Value::Object(root).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_follows_the_emf_spec() {
        let counters = Counters {
            images_processed: 3,
            images_rejected: 1,
            images_failed: 0,
            alerts_raised: 1,
            rekognition_throttles: 2,
        };
        let line = emf_line("beta", 1_795_240_800_000, &counters);
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        let aws = &v["_aws"];
        assert_eq!(aws["Timestamp"], 1_795_240_800_000_i64);
        let directives = aws["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives.len(), 1);
        let d = &directives[0];
        assert_eq!(d["Namespace"], "Argus");
        assert_eq!(d["Dimensions"], json!([["Stage"]]));
        // Every dimension is a top-level string member.
        for dimension in d["Dimensions"][0].as_array().unwrap() {
            assert!(v[dimension.as_str().unwrap()].is_string());
        }
        assert_eq!(v["Stage"], "beta");
        let names: Vec<&str> = d["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                assert_eq!(m["Unit"], "Count");
                m["Name"].as_str().unwrap()
            })
            .collect();
        for required in [
            "ImagesProcessed",
            "ImagesRejected",
            "AlertsRaised",
            "RekognitionThrottles",
        ] {
            assert!(names.contains(&required), "{required}");
        }
        // Every metric is a top-level number member.
        for name in &names {
            assert!(v[name].is_u64(), "{name}");
        }
        assert_eq!(v["ImagesProcessed"], 3);
        assert_eq!(v["RekognitionThrottles"], 2);
        assert!(
            names.len() <= 100,
            "EMF allows at most 100 metrics per directive"
        );
    }

    #[test]
    fn counters_add_up() {
        let mut a = Counters {
            images_processed: 1,
            ..Counters::default()
        };
        a.add(&Counters {
            images_processed: 2,
            alerts_raised: 1,
            ..Counters::default()
        });
        assert_eq!(a.images_processed, 3);
        assert_eq!(a.alerts_raised, 1);
    }
}
