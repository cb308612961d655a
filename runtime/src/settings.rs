//! The processor's settings, read from the environment the `argus-<stage>` stack sets
//! (`ARGUS_*` variables; see `stacks/src/pipeline.rs`).

use std::collections::BTreeMap;

use thiserror::Error;

/// A missing or malformed environment variable.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SettingsError {
    /// A required variable is not set.
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    /// A variable that does not parse.
    #[error("environment variable {name}={value:?}: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// Why it is rejected.
        reason: String,
    },
}

/// The processor's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Stage name (`ARGUS_STAGE`).
    pub stage: String,
    /// Results table name (`ARGUS_RESULTS_TABLE`).
    pub results_table: String,
    /// Audit table name (`ARGUS_AUDIT_TABLE`).
    pub audit_table: String,
    /// Alert topic ARN (`ARGUS_ALERT_TOPIC_ARN`).
    pub alert_topic_arn: String,
    /// Enabled analyses (`ARGUS_FEATURES`, comma-separated).
    pub features: Vec<String>,
    /// Rekognition MinConfidence, percent (`ARGUS_MIN_CONFIDENCE`).
    pub min_confidence: f32,
    /// Rekognition MaxLabels (`ARGUS_MAX_LABELS`).
    pub max_labels: u32,
    /// Hours until a result expires (`ARGUS_TTL_HOURS`).
    pub ttl_hours: u32,
    /// Label names that raise an alert (`ARGUS_ALERT_LABELS`, comma-separated).
    pub alert_labels: Vec<String>,
    /// Alert confidence threshold, percent (`ARGUS_ALERT_THRESHOLD`).
    pub alert_threshold: f32,
}

impl Settings {
    /// Reads the settings from a variable lookup (`std::env::var` in the function).
    ///
    /// # Errors
    /// [`SettingsError`] naming the variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let get = |name: &'static str| lookup(name).ok_or(SettingsError::Missing(name));
        fn parse<T: std::str::FromStr>(
            name: &'static str,
            value: String,
        ) -> Result<T, SettingsError>
        where
            T::Err: std::fmt::Display,
        {
            value.parse::<T>().map_err(|e| SettingsError::Invalid {
                name,
                reason: e.to_string(),
                value,
            })
        }
        let list = |v: String| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        Ok(Settings {
            stage: get("ARGUS_STAGE")?,
            results_table: get("ARGUS_RESULTS_TABLE")?,
            audit_table: get("ARGUS_AUDIT_TABLE")?,
            alert_topic_arn: get("ARGUS_ALERT_TOPIC_ARN")?,
            features: list(get("ARGUS_FEATURES")?),
            min_confidence: parse("ARGUS_MIN_CONFIDENCE", get("ARGUS_MIN_CONFIDENCE")?)?,
            max_labels: parse("ARGUS_MAX_LABELS", get("ARGUS_MAX_LABELS")?)?,
            ttl_hours: parse("ARGUS_TTL_HOURS", get("ARGUS_TTL_HOURS")?)?,
            alert_labels: list(get("ARGUS_ALERT_LABELS")?),
            alert_threshold: parse("ARGUS_ALERT_THRESHOLD", get("ARGUS_ALERT_THRESHOLD")?)?,
        })
    }

    /// Reads the settings from a map (for tests and local runs).
    ///
    /// # Errors
    /// As [`Settings::from_lookup`].
    pub fn from_map(vars: &BTreeMap<String, String>) -> Result<Self, SettingsError> {
        Self::from_lookup(|name| vars.get(name).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        [
            ("ARGUS_STAGE", "beta"),
            ("ARGUS_RESULTS_TABLE", "results"),
            ("ARGUS_AUDIT_TABLE", "audit"),
            (
                "ARGUS_ALERT_TOPIC_ARN",
                "arn:aws:sns:eu-west-1:111111111111:alerts",
            ),
            ("ARGUS_FEATURES", "labels,text"),
            ("ARGUS_MIN_CONFIDENCE", "70"),
            ("ARGUS_MAX_LABELS", "20"),
            ("ARGUS_TTL_HOURS", "168"),
            ("ARGUS_ALERT_LABELS", "Weapon,Weapon Violence"),
            ("ARGUS_ALERT_THRESHOLD", "80"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn settings_parse_lists_and_numbers() {
        let s = Settings::from_map(&vars()).unwrap();
        assert_eq!(s.features, vec!["labels", "text"]);
        assert_eq!(s.alert_labels, vec!["Weapon", "Weapon Violence"]);
        assert_eq!(s.max_labels, 20);
        assert!((s.min_confidence - 70.0).abs() < f32::EPSILON);
    }

    #[test]
    fn missing_and_malformed_variables_are_named() {
        let mut v = vars();
        v.remove("ARGUS_STAGE");
        assert_eq!(
            Settings::from_map(&v),
            Err(SettingsError::Missing("ARGUS_STAGE"))
        );
        let mut v = vars();
        v.insert("ARGUS_MAX_LABELS".into(), "many".into());
        assert!(matches!(
            Settings::from_map(&v),
            Err(SettingsError::Invalid {
                name: "ARGUS_MAX_LABELS",
                ..
            })
        ));
    }
}
