//! The cloud assembly: the folder `synth` writes (`cdk.out/` by default) and `deploy` reads.
//!
//! ```text
//! cdk.out/
//!   manifest.json                 stacks, template files and hashes, parameters, assets
//!   <stack>.template.json         one per stack (and <stack>.template.yaml with --format yaml)
//!   rules-report.json             every rule-pack finding, suppressed ones with their reason
//!   rules-report.txt              the same as a table
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::asset::Asset;
use crate::error::SynthError;
use crate::rules::RuleReport;
use crate::stack::SynthesizedStack;
use crate::template::Parameter;

/// The manifest schema version.
pub const MANIFEST_VERSION: u32 = 1;

/// Which template renderings to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TemplateFormat {
    /// `<stack>.template.json` only.
    #[default]
    Json,
    /// `<stack>.template.json` and `<stack>.template.yaml`.
    Yaml,
}

/// `manifest.json`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// [`MANIFEST_VERSION`].
    pub version: u32,
    /// Stacks by name.
    pub stacks: BTreeMap<String, StackManifest>,
}

/// One stack's entry in the manifest.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StackManifest {
    /// The JSON template's file name, relative to the assembly folder.
    pub template_file: String,
    /// SHA-256 (hex) of the JSON template's bytes.
    pub template_sha256: String,
    /// Size of the JSON template in bytes (CloudFormation takes up to 51,200 inline).
    pub template_bytes: usize,
    /// Number of resources in the template.
    pub resources: usize,
    /// Whether the stack is deployed with termination protection.
    pub termination_protection: bool,
    /// The template's parameters.
    pub parameters: BTreeMap<String, Parameter>,
    /// File assets the parameters refer to.
    pub assets: Vec<Asset>,
    /// Rule-pack counts: unsuppressed errors, warnings, suppressed findings.
    pub findings: FindingCounts,
}

pub use crate::rules::FindingCounts;

/// Synthesized stacks, ready to write.
#[derive(Clone, Debug)]
pub struct Assembly {
    /// The stacks, in the order given.
    pub stacks: Vec<SynthesizedStack>,
}

/// What [`Assembly::write`] wrote.
#[derive(Clone, Debug)]
pub struct Written {
    /// Every file written, in order.
    pub files: Vec<PathBuf>,
    /// The combined rule report.
    pub report: RuleReport,
    /// The manifest.
    pub manifest: Manifest,
}

impl Assembly {
    /// The rule report over every stack.
    pub fn report(&self) -> RuleReport {
        let mut report = RuleReport::default();
        for stack in &self.stacks {
            report.extend(stack.report.clone());
        }
        report
    }

    /// Checks the rule report, then writes templates, manifest and report into `out`
    /// (created if missing). Output is byte-identical for identical stacks.
    ///
    /// # Errors
    /// [`SynthError::RuleViolations`] (nothing written) when an error-severity finding is not
    /// suppressed; [`SynthError::Io`] when a file cannot be written.
    pub fn write(&self, out: &Path, format: TemplateFormat) -> Result<Written, SynthError> {
        let report = self.report();
        let errors: Vec<_> = report.unsuppressed_errors().collect();
        if !errors.is_empty() {
            return Err(SynthError::RuleViolations {
                count: errors.len(),
                table: RuleReport::table(errors),
            });
        }
        fs::create_dir_all(out).map_err(|source| io_error(out, source))?;
        let mut files = Vec::new();
        let mut write = |name: &str, contents: &str| -> Result<(), SynthError> {
            let path = out.join(name);
            fs::write(&path, contents).map_err(|source| io_error(&path, source))?;
            files.push(path);
            Ok(())
        };
        let mut stacks = BTreeMap::new();
        for stack in &self.stacks {
            let json = stack.template.to_json()?;
            let template_file = format!("{}.template.json", stack.name);
            write(&template_file, &json)?;
            if format == TemplateFormat::Yaml {
                write(
                    &format!("{}.template.yaml", stack.name),
                    &stack.template.to_yaml()?,
                )?;
            }
            stacks.insert(
                stack.name.clone(),
                StackManifest {
                    template_file,
                    template_sha256: sha256_hex(json.as_bytes()),
                    template_bytes: json.len(),
                    resources: stack.template.resources.len(),
                    termination_protection: stack.termination_protection,
                    parameters: stack.template.parameters.clone(),
                    assets: stack.assets.clone(),
                    findings: stack.report.counts(),
                },
            );
        }
        let manifest = Manifest {
            version: MANIFEST_VERSION,
            stacks,
        };
        write("manifest.json", &to_pretty(&manifest)?)?;
        write("rules-report.json", &to_pretty(&report)?)?;
        write(
            "rules-report.txt",
            &format!("{}\n", RuleReport::table(&report.findings)),
        )?;
        Ok(Written {
            files,
            report,
            manifest,
        })
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Pretty JSON (two-space indent) with a trailing newline, as every file of the assembly is
/// written.
///
/// # Errors
/// [`SynthError::Serialize`].
pub(crate) fn to_pretty<T: Serialize>(value: &T) -> Result<String, SynthError> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    Ok(text)
}

fn io_error(path: &Path, source: std::io::Error) -> SynthError {
    SynthError::Io {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constructs::{Bucket, BucketProps};
    use crate::test_support;

    fn stack(versioned: bool, suppress: bool) -> SynthesizedStack {
        let mut stack = test_support::stack();
        let logs = Bucket::new(&mut stack, "Logs", BucketProps::default()).unwrap();
        stack
            .suppress(
                &logs.logical_id,
                "S3-ACCESS-LOGS",
                "this is the access-log bucket",
            )
            .unwrap();
        let props = BucketProps {
            versioned,
            server_access_logs: Some(crate::constructs::AccessLogs {
                bucket: logs,
                prefix: "data/".into(),
            }),
            ..BucketProps::default()
        };
        let data = Bucket::new(&mut stack, "Data", props).unwrap();
        if suppress {
            stack
                .suppress(
                    &data.logical_id,
                    "S3-VERSIONING",
                    "objects are rebuilt from source",
                )
                .unwrap();
        }
        stack.synth().unwrap()
    }

    #[test]
    fn an_unsuppressed_error_fails_synth_with_a_table_and_writes_nothing() {
        let out = tempfile::tempdir().unwrap();
        let err = Assembly {
            stacks: vec![stack(false, false)],
        }
        .write(out.path(), TemplateFormat::Json)
        .unwrap_err();
        match err {
            SynthError::RuleViolations { count, table } => {
                assert_eq!(count, 1);
                assert!(table.starts_with("SEVERITY"), "{table}");
                assert!(
                    table.contains("S3-VERSIONING") && table.contains("Data"),
                    "{table}"
                );
            }
            other => panic!("expected rule violations, got {other}"),
        }
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_suppressed_error_is_written_to_the_report_and_the_manifest_counts() {
        let out = tempfile::tempdir().unwrap();
        let written = Assembly {
            stacks: vec![stack(false, true)],
        }
        .write(out.path(), TemplateFormat::Yaml)
        .unwrap();
        let entry = &written.manifest.stacks["test-stack"];
        assert_eq!(entry.findings.errors, 0);
        assert!(entry.findings.suppressed >= 2);
        let json = std::fs::read(out.path().join("test-stack.template.json")).unwrap();
        assert_eq!(entry.template_sha256, sha256_hex(&json));
        assert_eq!(entry.template_bytes, json.len());
        assert!(out.path().join("test-stack.template.yaml").exists());
        let report = std::fs::read_to_string(out.path().join("rules-report.txt")).unwrap();
        assert!(
            report.contains("suppressed: objects are rebuilt from source"),
            "{report}"
        );
    }
}
