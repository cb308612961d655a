//! Stage configuration: `stacks/config/<stage>.toml`, validated on load.
//!
//! Every error names the file and the field (`stacks/config/beta.toml: analysis.max_labels: …`),
//! on one line. Unknown keys are errors, so a typo never silently falls back to a default.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

/// The stage names that have a config file.
pub const STAGES: &[&str] = &["beta", "prod", "local"];

/// The retention periods CloudWatch Logs accepts, in days.
pub use argus_cdk::constructs::log_group::RETENTION_DAYS;

/// A configuration that cannot be used, with the file and the field.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A field is missing, unknown, or of the wrong type or value.
    #[error("{file}{line}: {field}: {message}", line = line.map(|l| format!(":{l}")).unwrap_or_default())]
    Field {
        /// The file.
        file: String,
        /// The 1-based line, when known.
        line: Option<usize>,
        /// The dotted field path, e.g. `analysis.max_labels`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// Which Rekognition analyses the processor runs: the runtime's own type, so the stage config,
/// the function's `ARGUS_FEATURES` and its IAM actions cannot drift apart.
pub use argus_contract::Feature;

/// Whether stateful resources survive the stack.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Removal {
    /// Keep buckets, tables and logs (prod).
    Retain,
    /// Delete them with the stack (beta, local).
    Destroy,
}

/// The processor's instruction set.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum Arch {
    /// x86_64 (default).
    #[serde(rename = "x86_64")]
    X86_64,
    /// arm64 (Graviton).
    #[serde(rename = "arm64")]
    Arm64,
}

/// `[storage]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// Key prefix uploads go under and notifications are filtered by (`incoming/`).
    #[serde(default = "default_input_prefix")]
    pub input_prefix: String,
    /// Hours a result stays in the results table before TTL removes it (168).
    #[serde(default = "default_ttl_hours")]
    pub ttl_hours: u32,
    /// Days an uploaded object (current version, under `input_prefix`) is kept before S3's
    /// lifecycle expires it. Default: `ttl_hours` rounded up to whole days, so an image never
    /// outlives its record (the privacy default: faces are biometric data).
    #[serde(default)]
    pub input_expiration_days: Option<u32>,
    /// `retain` or `destroy`.
    pub removal_policy: Removal,
}

/// `[analysis]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Analysis {
    /// Analyses to run: `labels`, `text`, `faces`, `moderation`.
    pub features: Vec<Feature>,
    /// Rekognition `MinConfidence`, percent (0-100).
    pub min_confidence: f32,
    /// Rekognition `MaxLabels` (1-1,000).
    pub max_labels: u32,
    /// Rekognition endpoint override for the function (`AWS_ENDPOINT_URL_REKOGNITION`); the local
    /// stage points it at argus-twin.
    #[serde(default)]
    pub rekognition_endpoint: Option<String>,
}

/// `[alerts]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Alerts {
    /// Label or moderation-label names that raise a weapon alert.
    pub labels: Vec<String>,
    /// Confidence, percent, at which a listed label raises the alert.
    pub threshold: f32,
    /// E-mail addresses subscribed to the alert topic.
    #[serde(default)]
    pub emails: Vec<String>,
}

/// `[faces]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Faces {
    /// Key, in the input bucket, of the reference face for CompareFaces (outside the input
    /// prefix). Absent: no face decision.
    #[serde(default)]
    pub reference_key: Option<String>,
    /// CompareFaces similarity, percent, at which a face is AUTHORIZED.
    #[serde(default = "default_similarity")]
    pub similarity_threshold: f32,
}

/// `[processor]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Processor {
    /// Memory in MB (128-10,240).
    pub memory_mb: u32,
    /// Timeout in seconds (1-900).
    pub timeout_secs: u32,
    /// `x86_64` or `arm64`.
    #[serde(default = "default_arch")]
    pub architecture: Arch,
    /// SQS messages per invocation (1-10).
    pub batch_size: u32,
    /// Concurrent invocations at most (2-1,000).
    pub max_concurrency: u32,
    /// Receives before a message goes to the dead-letter queue (1-1,000).
    #[serde(default = "default_max_receive_count")]
    pub max_receive_count: u32,
    /// Images of one batch processed at once (1-64).
    #[serde(default = "default_image_concurrency")]
    pub image_concurrency: u32,
    /// How the functions' bundles are built: `lambda` (default: cargo-lambda, release,
    /// provided.al2023) or `host` (the CLI's dev build for this machine; the local stage only,
    /// whose twin runs the bootstrap as a local process).
    #[serde(default)]
    pub bundle: argus_cdk::asset::BundleTarget,
    /// Days logs are kept (a CloudWatch Logs retention value).
    pub log_retention_days: u32,
}

/// One stage's configuration (`stacks/config/<stage>.toml`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StageConfig {
    /// The stage name; must match the file name.
    pub stage: String,
    /// AWS Region, e.g. `eu-west-1`.
    pub region: String,
    /// CloudFormation stack name, e.g. `argus-beta`.
    pub stack_name: String,
    /// Refuse `destroy` without `--force`, and deploy with termination protection.
    #[serde(default)]
    pub protected: bool,
    /// `[storage]`.
    pub storage: Storage,
    /// `[analysis]`.
    pub analysis: Analysis,
    /// `[alerts]`.
    pub alerts: Alerts,
    /// `[faces]`.
    #[serde(default = "default_faces")]
    pub faces: Faces,
    /// `[processor]`.
    pub processor: Processor,
    /// The file it was read from (set by the loader).
    #[serde(skip)]
    pub file: PathBuf,
}

fn default_input_prefix() -> String {
    "incoming/".into()
}
fn default_ttl_hours() -> u32 {
    168
}
fn default_similarity() -> f32 {
    90.0
}
fn default_arch() -> Arch {
    Arch::X86_64
}
fn default_max_receive_count() -> u32 {
    3
}
fn default_image_concurrency() -> u32 {
    4
}
fn default_faces() -> Faces {
    Faces {
        reference_key: None,
        similarity_threshold: default_similarity(),
    }
}

impl StageConfig {
    /// Reads and validates `<dir>/<stage>.toml`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file and the field.
    pub fn load(dir: &Path, stage: &str) -> Result<Self, ConfigError> {
        let file = dir.join(format!("{stage}.toml"));
        let text = std::fs::read_to_string(&file).map_err(|source| ConfigError::Read {
            file: file.display().to_string(),
            source,
        })?;
        Self::parse(&text, &file, stage)
    }

    /// Parses and validates TOML text that came from `file` for `stage`.
    ///
    /// # Errors
    /// [`ConfigError::Field`] for syntax errors, unknown or missing keys, wrong types and values
    /// out of range.
    pub fn parse(text: &str, file: &Path, stage: &str) -> Result<Self, ConfigError> {
        let file_name = file.display().to_string();
        let deserializer = toml::Deserializer::parse(text).map_err(|e| ConfigError::Field {
            file: file_name.clone(),
            line: e.span().map(|s| line_of(text, s.start)),
            field: "(syntax)".into(),
            message: e.message().trim().to_owned(),
        })?;
        let mut config: StageConfig =
            serde_path_to_error::deserialize(deserializer).map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                ConfigError::Field {
                    file: file_name.clone(),
                    line: inner.span().map(|s| line_of(text, s.start)),
                    field: if path == "." {
                        "(top level)".into()
                    } else {
                        path
                    },
                    message: inner.message().trim().replace('\n', " "),
                }
            })?;
        config.file = file.to_path_buf();
        config.validate(stage)?;
        Ok(config)
    }

    fn invalid(&self, field: &str, message: impl fmt::Display) -> ConfigError {
        ConfigError::Field {
            file: self.file.display().to_string(),
            line: None,
            field: field.into(),
            message: message.to_string(),
        }
    }

    fn validate(&self, stage: &str) -> Result<(), ConfigError> {
        let check = |ok: bool, field: &str, message: &str| {
            if ok {
                Ok(())
            } else {
                Err(self.invalid(field, message))
            }
        };
        check(
            self.stage == stage,
            "stage",
            &format!("is `{}` but the file is for stage `{stage}`", self.stage),
        )?;
        check(
            is_region(&self.region),
            "region",
            &format!(
                "`{}` is not an AWS Region name such as eu-west-1",
                self.region
            ),
        )?;
        check(
            is_stack_name(&self.stack_name),
            "stack_name",
            "must be lowercase letters, digits and hyphens, start with a letter, and be at most 40 characters (it prefixes bucket names)",
        )?;
        let p = &self.storage.input_prefix;
        check(
            !p.is_empty() && p.ends_with('/') && !p.starts_with('/'),
            "storage.input_prefix",
            "must be a key prefix ending in `/`, e.g. incoming/",
        )?;
        check(
            self.storage.ttl_hours >= 1,
            "storage.ttl_hours",
            "must be at least 1",
        )?;
        check(
            self.storage.input_expiration_days != Some(0),
            "storage.input_expiration_days",
            "must be at least 1 (S3 lifecycle expiration counts whole days)",
        )?;
        check(
            !self.analysis.features.is_empty(),
            "analysis.features",
            "must list at least one of labels, text, faces, moderation",
        )?;
        let unique: BTreeSet<_> = self.analysis.features.iter().collect();
        check(
            unique.len() == self.analysis.features.len(),
            "analysis.features",
            "lists a feature twice",
        )?;
        check(
            percent(self.analysis.min_confidence),
            "analysis.min_confidence",
            "must be a percentage from 0 to 100",
        )?;
        check(
            (1..=1000).contains(&self.analysis.max_labels),
            "analysis.max_labels",
            "must be from 1 to 1000",
        )?;
        if let Some(url) = &self.analysis.rekognition_endpoint {
            check(
                url.starts_with("http://") || url.starts_with("https://"),
                "analysis.rekognition_endpoint",
                "must be an http:// or https:// URL",
            )?;
        }
        check(
            percent(self.alerts.threshold),
            "alerts.threshold",
            "must be a percentage from 0 to 100",
        )?;
        check(
            self.alerts.labels.iter().all(|l| !l.trim().is_empty()),
            "alerts.labels",
            "must not hold empty names",
        )?;
        for email in &self.alerts.emails {
            let ok = email
                .split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'));
            check(
                ok,
                "alerts.emails",
                &format!("`{email}` is not an e-mail address"),
            )?;
        }
        check(
            percent(self.faces.similarity_threshold),
            "faces.similarity_threshold",
            "must be a percentage from 0 to 100",
        )?;
        if let Some(key) = &self.faces.reference_key {
            check(
                !key.is_empty() && !key.starts_with('/'),
                "faces.reference_key",
                "must be an object key",
            )?;
            check(
                !key.starts_with(p.as_str()),
                "faces.reference_key",
                "must be outside storage.input_prefix, or it would be processed as an upload",
            )?;
        }
        let pr = &self.processor;
        check(
            (128..=10_240).contains(&pr.memory_mb),
            "processor.memory_mb",
            "must be from 128 to 10240",
        )?;
        check(
            (1..=900).contains(&pr.timeout_secs),
            "processor.timeout_secs",
            "must be from 1 to 900",
        )?;
        check(
            (1..=10).contains(&pr.batch_size),
            "processor.batch_size",
            "must be from 1 to 10",
        )?;
        check(
            (2..=1000).contains(&pr.max_concurrency),
            "processor.max_concurrency",
            "must be from 2 to 1000 (the SQS event source's MaximumConcurrency)",
        )?;
        check(
            (1..=1000).contains(&pr.max_receive_count),
            "processor.max_receive_count",
            "must be from 1 to 1000",
        )?;
        check(
            (1..=64).contains(&pr.image_concurrency),
            "processor.image_concurrency",
            "must be from 1 to 64",
        )?;
        check(
            RETENTION_DAYS.contains(&pr.log_retention_days),
            "processor.log_retention_days",
            &format!("must be one of {RETENTION_DAYS:?}"),
        )?;
        check(
            pr.bundle.is_lambda() || self.stage == "local",
            "processor.bundle",
            "`host` builds run only on the local twin; beta and prod need `lambda` (cargo-lambda, provided.al2023)",
        )?;
        Ok(())
    }

    /// Days an uploaded object is kept: `storage.input_expiration_days`, else `ttl_hours`
    /// rounded up to whole days.
    pub fn input_expiration_days(&self) -> u32 {
        self.storage
            .input_expiration_days
            .unwrap_or_else(|| self.storage.ttl_hours.div_ceil(24))
    }

    /// The input bucket's deterministic name, as an `Fn::Sub` template:
    /// `<stack_name>-input-${AWS::AccountId}-<region>`. The pipeline stack creates it under
    /// this name and the audit stack records its data events by it.
    pub fn input_bucket_name(&self) -> String {
        format!(
            "{}-input-${{AWS::AccountId}}-{}",
            self.stack_name, self.region
        )
    }
}

fn percent(v: f32) -> bool {
    (0.0..=100.0).contains(&v)
}

fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts
            .iter()
            .take(parts.len() - 1)
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

fn is_stack_name(name: &str) -> bool {
    name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn shipped(stage: &str) -> String {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("config")
                .join(format!("{stage}.toml")),
        )
        .unwrap()
    }

    fn parse(stage: &str, text: &str) -> Result<StageConfig, ConfigError> {
        StageConfig::parse(text, Path::new("stacks/config/x.toml"), stage)
    }

    fn field_error(stage: &str, text: &str) -> (String, String) {
        match parse(stage, text) {
            Err(ConfigError::Field { field, message, .. }) => (field, message),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn shipped_configs_load() {
        for stage in STAGES {
            let config = parse(stage, &shipped(stage)).unwrap();
            assert_eq!(&config.stage, stage);
            assert_eq!(config.stack_name, format!("argus-{stage}"));
        }
        let prod = parse("prod", &shipped("prod")).unwrap();
        assert_eq!(prod.storage.removal_policy, Removal::Retain);
        assert!(prod.protected);
    }

    #[test]
    fn an_unknown_key_is_named_with_its_table() {
        let (field, message) = field_error(
            "beta",
            &shipped("beta").replace("max_labels = 20", "max_label = 20"),
        );
        assert_eq!(field, "analysis.max_label");
        assert!(message.contains("unknown field"), "{message}");
    }

    #[test]
    fn a_wrong_type_is_named() {
        let (field, _) = field_error(
            "beta",
            &shipped("beta").replace("memory_mb = 512", "memory_mb = \"lots\""),
        );
        assert_eq!(field, "processor.memory_mb");
    }

    #[test]
    fn out_of_range_values_are_named() {
        let cases = [
            (
                "min_confidence = 70.0",
                "min_confidence = 170.0",
                "analysis.min_confidence",
            ),
            (
                "log_retention_days = 14",
                "log_retention_days = 10",
                "processor.log_retention_days",
            ),
            (
                "max_concurrency = 5",
                "max_concurrency = 1",
                "processor.max_concurrency",
            ),
            ("region = \"eu-west-1\"", "region = \"Europe\"", "region"),
            (
                "input_prefix = \"incoming/\"",
                "input_prefix = \"incoming\"",
                "storage.input_prefix",
            ),
            ("emails = []", "emails = [\"nobody\"]", "alerts.emails"),
            (
                "reference_key = \"reference/authorized-face.jpg\"",
                "reference_key = \"incoming/face.jpg\"",
                "faces.reference_key",
            ),
            (
                "features = [\"labels\", \"text\", \"faces\", \"moderation\"]",
                "features = [\"labels\", \"labels\"]",
                "analysis.features",
            ),
        ];
        for (from, to, expected) in cases {
            let text = shipped("beta");
            assert!(text.contains(from), "fixture drifted: {from}");
            let (field, _) = field_error("beta", &text.replace(from, to));
            assert_eq!(field, expected, "for {to}");
        }
    }

    #[test]
    fn an_unknown_feature_and_architecture_are_rejected() {
        let (field, _) = field_error(
            "beta",
            &shipped("beta").replace("\"moderation\"]", "\"celebrities\"]"),
        );
        assert_eq!(field, "analysis.features[3]");
        let (field, _) = field_error(
            "beta",
            &shipped("beta").replace("architecture = \"x86_64\"", "architecture = \"riscv\""),
        );
        assert_eq!(field, "processor.architecture");
    }

    #[test]
    fn host_bundles_are_for_the_local_stage_only() {
        let (field, message) = field_error(
            "beta",
            &shipped("beta").replace(
                "architecture = \"x86_64\"",
                "bundle = \"host\"\narchitecture = \"x86_64\"",
            ),
        );
        assert_eq!(field, "processor.bundle");
        assert!(message.contains("local twin"), "{message}");
        let local = parse("local", &shipped("local")).unwrap();
        assert_eq!(local.processor.bundle, argus_cdk::asset::BundleTarget::Host);
        for stage in ["beta", "prod"] {
            assert!(
                parse(stage, &shipped(stage))
                    .unwrap()
                    .processor
                    .bundle
                    .is_lambda()
            );
        }
    }

    #[test]
    fn the_stage_must_match_the_file() {
        let (field, _) = field_error("prod", &shipped("beta"));
        assert_eq!(field, "stage");
    }

    #[test]
    fn errors_render_on_one_line_with_file_and_field() {
        let err = parse(
            "beta",
            &shipped("beta").replace("batch_size = 5", "batch_size = 50"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("stacks/config/x.toml: processor.batch_size: "),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1);
        let err = parse("beta", "stage = ").unwrap_err().to_string();
        assert!(
            err.starts_with("stacks/config/x.toml:1: (syntax): "),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }

    #[test]
    fn defaults_fill_optional_settings() {
        let text = shipped("beta").replace("ttl_hours = 168            # results expire after 7 days (DynamoDB TTL on expires_at)\n", "");
        let config = parse("beta", &text).unwrap();
        assert_eq!(config.storage.ttl_hours, 168);
        assert_eq!(
            config.input_bucket_name(),
            "argus-beta-input-${AWS::AccountId}-eu-west-1"
        );
    }
}
