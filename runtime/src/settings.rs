//! The processor's settings, read from the environment the `argus-<stage>` stack sets
//! (`ARGUS_*` variables; see `processor_environment` in `stacks/src/pipeline.rs`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use argus_contract::env;
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

pub use argus_contract::{Feature, UnknownFeature};

/// The reference image CompareFaces matches uploaded faces against (seed 004).
#[derive(Clone, Debug, PartialEq)]
pub struct FaceReference {
    /// Bucket of the reference image (`ARGUS_FACE_REFERENCE_BUCKET`; the stage's input bucket).
    pub bucket: String,
    /// Object key of the reference image (`ARGUS_FACE_REFERENCE_KEY`).
    pub key: String,
    /// Similarity, percent 0–100, at or above which a face is AUTHORIZED
    /// (`ARGUS_FACE_SIMILARITY_THRESHOLD`).
    pub similarity_threshold: f32,
}

/// The processor's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Stage name (`ARGUS_STAGE`).
    pub stage: String,
    /// Results table name (`ARGUS_RESULTS_TABLE`).
    pub results_table: String,
    /// Decision log table name (`ARGUS_AUDIT_TABLE`).
    pub decision_log_table: String,
    /// Alert topic ARN (`ARGUS_ALERT_TOPIC_ARN`).
    pub alert_topic_arn: String,
    /// The stage's input bucket (`ARGUS_INPUT_BUCKET`): notifications of any other bucket are
    /// acknowledged and ignored.
    pub input_bucket: String,
    /// Key prefix of the uploads the processor handles, e.g. `incoming/` (`ARGUS_INPUT_PREFIX`).
    /// Records for other keys are acknowledged and ignored.
    pub input_prefix: String,
    /// Enabled analyses (`ARGUS_FEATURES`, comma-separated names; duplicates removed, order kept).
    pub features: Vec<Feature>,
    /// Rekognition MinConfidence, percent 0–100 (`ARGUS_MIN_CONFIDENCE`).
    pub min_confidence: f32,
    /// Rekognition MaxLabels, at least 1 (`ARGUS_MAX_LABELS`).
    pub max_labels: u32,
    /// Hours until a result expires, at least 1 (`ARGUS_TTL_HOURS`).
    pub ttl_hours: u32,
    /// Label names that raise an alert (`ARGUS_ALERT_LABELS`, comma-separated).
    pub alert_labels: Vec<String>,
    /// Alert confidence threshold, percent 0–100 (`ARGUS_ALERT_THRESHOLD`).
    pub alert_threshold: f32,
    /// Images of one invocation processed at the same time, at least 1
    /// (`ARGUS_IMAGE_CONCURRENCY`).
    pub image_concurrency: usize,
    /// The CompareFaces reference, when the stage configures one (all three
    /// `ARGUS_FACE_*` variables set together).
    pub face_reference: Option<FaceReference>,
}

impl Settings {
    /// Reads the settings from a variable lookup (`std::env::var` in the function).
    ///
    /// # Errors
    /// [`SettingsError`] naming the variable: missing, not a number, out of range (percentages
    /// 0–100, counts at least 1), an unknown feature, or a face reference given only in part.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let get = |name: &'static str| lookup(name).ok_or(SettingsError::Missing(name));
        let list = |v: String| -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let face_reference = match (
            lookup(env::FACE_REFERENCE_BUCKET),
            lookup(env::FACE_REFERENCE_KEY),
        ) {
            (None, None) => None,
            (Some(bucket), Some(key)) => Some(FaceReference {
                bucket,
                key,
                similarity_threshold: percent(
                    env::FACE_SIMILARITY_THRESHOLD,
                    get(env::FACE_SIMILARITY_THRESHOLD)?,
                )?,
            }),
            (Some(_), None) => return Err(SettingsError::Missing(env::FACE_REFERENCE_KEY)),
            (None, Some(_)) => return Err(SettingsError::Missing(env::FACE_REFERENCE_BUCKET)),
        };
        Ok(Settings {
            stage: get(env::STAGE)?,
            results_table: get(env::RESULTS_TABLE)?,
            decision_log_table: get(env::DECISION_LOG_TABLE)?,
            alert_topic_arn: get(env::ALERT_TOPIC_ARN)?,
            input_bucket: get(env::INPUT_BUCKET)?,
            input_prefix: get(env::INPUT_PREFIX)?,
            features: features(get(env::FEATURES)?)?,
            min_confidence: percent(env::MIN_CONFIDENCE, get(env::MIN_CONFIDENCE)?)?,
            max_labels: at_least_one(env::MAX_LABELS, get(env::MAX_LABELS)?)?,
            ttl_hours: at_least_one(env::TTL_HOURS, get(env::TTL_HOURS)?)?,
            alert_labels: list(get(env::ALERT_LABELS)?),
            alert_threshold: percent(env::ALERT_THRESHOLD, get(env::ALERT_THRESHOLD)?)?,
            image_concurrency: at_least_one(env::IMAGE_CONCURRENCY, get(env::IMAGE_CONCURRENCY)?)?,
            face_reference,
        })
    }

    /// Reads the settings from the process environment.
    ///
    /// # Errors
    /// As [`Settings::from_lookup`].
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings from a map (for tests and local runs).
    ///
    /// # Errors
    /// As [`Settings::from_lookup`].
    pub fn from_map(vars: &BTreeMap<String, String>) -> Result<Self, SettingsError> {
        Self::from_lookup(|name| vars.get(name).cloned())
    }

    /// Whether the stage enables `feature`.
    pub fn enabled(&self, feature: Feature) -> bool {
        self.features.contains(&feature)
    }
}

fn parse<T: FromStr>(name: &'static str, value: String) -> Result<T, SettingsError>
where
    T::Err: fmt::Display,
{
    value
        .trim()
        .parse::<T>()
        .map_err(|e| SettingsError::Invalid {
            name,
            reason: e.to_string(),
            value,
        })
}

fn percent(name: &'static str, value: String) -> Result<f32, SettingsError> {
    let parsed: f32 = parse(name, value.clone())?;
    if (0.0..=100.0).contains(&parsed) {
        Ok(parsed)
    } else {
        Err(SettingsError::Invalid {
            name,
            value,
            reason: "a percentage must be between 0 and 100".into(),
        })
    }
}

fn at_least_one<T: FromStr + PartialOrd + From<u8>>(
    name: &'static str,
    value: String,
) -> Result<T, SettingsError>
where
    T::Err: fmt::Display,
{
    let parsed: T = parse(name, value.clone())?;
    if parsed >= T::from(1) {
        Ok(parsed)
    } else {
        Err(SettingsError::Invalid {
            name,
            value,
            reason: "must be at least 1".into(),
        })
    }
}

fn features(value: String) -> Result<Vec<Feature>, SettingsError> {
    let mut out = Vec::new();
    for name in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let feature = name
            .parse::<Feature>()
            .map_err(|e| SettingsError::Invalid {
                name: env::FEATURES,
                value: value.clone(),
                reason: e.to_string(),
            })?;
        if !out.contains(&feature) {
            out.push(feature);
        }
    }
    Ok(out)
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
            ("ARGUS_INPUT_BUCKET", "argus-beta-input"),
            ("ARGUS_INPUT_PREFIX", "incoming/"),
            ("ARGUS_FEATURES", "labels,text"),
            ("ARGUS_MIN_CONFIDENCE", "70"),
            ("ARGUS_MAX_LABELS", "20"),
            ("ARGUS_TTL_HOURS", "168"),
            ("ARGUS_ALERT_LABELS", "Weapon,Weapon Violence"),
            ("ARGUS_ALERT_THRESHOLD", "80"),
            ("ARGUS_IMAGE_CONCURRENCY", "4"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn with(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut v = vars();
        for (k, value) in extra {
            v.insert((*k).to_owned(), (*value).to_owned());
        }
        v
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

    #[test]
    fn the_stack_variables_are_read() {
        let s = Settings::from_map(&vars()).unwrap();
        assert_eq!(s.input_prefix, "incoming/");
        assert_eq!(s.image_concurrency, 4);
        assert_eq!(s.ttl_hours, 168);
        assert_eq!(s.face_reference, None);
        let mut v = vars();
        v.remove("ARGUS_IMAGE_CONCURRENCY");
        assert_eq!(
            Settings::from_map(&v),
            Err(SettingsError::Missing("ARGUS_IMAGE_CONCURRENCY"))
        );
    }

    #[test]
    fn features_become_an_enum_and_unknown_names_are_rejected() {
        let s = Settings::from_map(&with(&[(
            "ARGUS_FEATURES",
            " Labels, text ,faces,moderation,labels",
        )]))
        .unwrap();
        assert_eq!(s.features, Feature::ALL.to_vec());
        assert!(s.enabled(Feature::Moderation));
        let err =
            Settings::from_map(&with(&[("ARGUS_FEATURES", "labels,celebrities")])).unwrap_err();
        assert!(matches!(
            &err,
            SettingsError::Invalid { name: "ARGUS_FEATURES", reason, .. } if reason.contains("celebrities")
        ));
        assert!(err.to_string().contains("ARGUS_FEATURES"));
        let none = Settings::from_map(&with(&[("ARGUS_FEATURES", "")])).unwrap();
        assert!(none.features.is_empty());
    }

    #[test]
    fn a_face_reference_needs_bucket_key_and_threshold() {
        let s = Settings::from_map(&with(&[
            ("ARGUS_FACE_REFERENCE_BUCKET", "input"),
            ("ARGUS_FACE_REFERENCE_KEY", "reference/authorized-face.jpg"),
            ("ARGUS_FACE_SIMILARITY_THRESHOLD", "90"),
        ]))
        .unwrap();
        assert_eq!(
            s.face_reference,
            Some(FaceReference {
                bucket: "input".into(),
                key: "reference/authorized-face.jpg".into(),
                similarity_threshold: 90.0,
            })
        );
        assert_eq!(
            Settings::from_map(&with(&[("ARGUS_FACE_REFERENCE_BUCKET", "input")])),
            Err(SettingsError::Missing("ARGUS_FACE_REFERENCE_KEY"))
        );
        assert_eq!(
            Settings::from_map(&with(&[
                ("ARGUS_FACE_REFERENCE_BUCKET", "input"),
                ("ARGUS_FACE_REFERENCE_KEY", "ref.jpg"),
            ])),
            Err(SettingsError::Missing("ARGUS_FACE_SIMILARITY_THRESHOLD"))
        );
    }

    #[test]
    fn out_of_range_numbers_are_rejected() {
        for (name, value) in [
            ("ARGUS_MIN_CONFIDENCE", "101"),
            ("ARGUS_ALERT_THRESHOLD", "-1"),
            ("ARGUS_MAX_LABELS", "0"),
            ("ARGUS_TTL_HOURS", "0"),
            ("ARGUS_IMAGE_CONCURRENCY", "0"),
        ] {
            let err = Settings::from_map(&with(&[(name, value)])).unwrap_err();
            assert!(
                matches!(&err, SettingsError::Invalid { name: n, .. } if *n == name),
                "{name}={value}: {err}"
            );
        }
    }
}
