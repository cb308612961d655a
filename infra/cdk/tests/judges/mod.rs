//! The external judges of synthesized templates, shared by the test suites of argus-cdk (its
//! example stack) and argus-stacks (the app's stacks; included there by path): where the pinned
//! linters are, cfn-lint run over templates with zero findings as the verdict, and cfn-guard with
//! AWS Control Tower's proactive rules, where every failure must be a written suppression.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root: the nearest folder above the crate under test that holds `Cargo.lock`.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").exists())
        .expect("the crate lives inside the workspace")
        .to_path_buf()
}

/// The lint virtualenv's `bin/<tool>` (`make lint-tools` creates it); `ARGUS_LINT_VENV` overrides.
pub fn lint_bin(tool: &str) -> PathBuf {
    let venv = std::env::var_os("ARGUS_LINT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/lint"));
    let bin = venv.join("bin").join(tool);
    assert!(
        bin.exists(),
        "{} is missing: run `make lint-tools` (make test does) to install the pinned linters",
        bin.display()
    );
    bin
}

/// Runs cfn-lint (which validates against the CloudFormation resource schemas) over `templates`
/// in each of `regions` (`--regions`: resource types and properties must exist in every one;
/// empty: cfn-lint's default, us-east-1) and fails with its findings unless there are none.
pub fn assert_cfn_lint_clean<P: AsRef<Path>>(templates: &[P], regions: &[&str]) {
    let mut command = Command::new(lint_bin("cfn-lint"));
    // `--regions` takes every following argument, so the templates come first.
    command.args(templates.iter().map(AsRef::as_ref));
    if !regions.is_empty() {
        command.arg("--regions").args(regions);
    }
    let result = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success() && stdout.trim().is_empty(),
        "cfn-lint findings (regions {regions:?}):\n{stdout}{}",
        String::from_utf8_lossy(&result.stderr)
    );
}

/// A file of the guard virtualenv (`make guard-tools` creates it; `ARGUS_GUARD_VENV`
/// overrides): `bin/cfn-guard`, `bin/zizmor`, `control-tower/` (the rules).
pub fn guard_path(relative: &str) -> PathBuf {
    let venv = std::env::var_os("ARGUS_GUARD_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/guard"));
    let path = venv.join(relative);
    assert!(
        path.exists(),
        "{} is missing: run `make guard-tools` (make test does) to install cfn-guard and zizmor",
        path.display()
    );
    path
}

/// One AWS Control Tower rule that cfn-guard found failing in one template.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GuardFailure {
    /// The template's file name.
    pub template: String,
    /// The Guard rule name, e.g. `sqs_dlq_check`.
    pub rule: String,
    /// The control, e.g. `CT.SQS.PR.1`.
    pub control: String,
    /// The logical IDs of the resources that fail it.
    pub logical_ids: std::collections::BTreeSet<String>,
}

/// Every `"/Resources/<id>…"` path in a cfn-guard report fragment.
fn resource_ids(value: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
    match value {
        serde_json::Value::String(s) => {
            if let Some(id) = s
                .strip_prefix("/Resources/")
                .and_then(|rest| rest.split('/').next())
                .filter(|id| !id.is_empty())
            {
                out.insert(id.split('[').next().unwrap_or(id).to_owned());
            }
        }
        serde_json::Value::Array(list) => list.iter().for_each(|v| resource_ids(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| resource_ids(v, out)),
        _ => {}
    }
}

/// Runs cfn-guard 3 with AWS Control Tower's proactive rules (from the pinned
/// `cdklabs-cdk-validator-cfnguard` wheel) over each template, and returns every failing rule with
/// the resources it names.
pub fn guard_failures<P: AsRef<Path>>(templates: &[P]) -> Vec<GuardFailure> {
    let guard = guard_path("bin/cfn-guard");
    let rules = guard_path("control-tower");
    let mut failures = Vec::new();
    for template in templates {
        let template = template.as_ref();
        let out = Command::new(&guard)
            .args([
                "validate",
                "--output-format",
                "json",
                "--show-summary",
                "none",
            ])
            .arg("--rules")
            .arg(&rules)
            .arg("--data")
            .arg(template)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let documents: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&stdout)
            .into_iter()
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("cfn-guard output is not JSON ({e}):\n{stdout}"));
        assert!(
            documents.len() > 100,
            "cfn-guard ran {} rule files over {}: are the rules there?\n{}",
            documents.len(),
            template.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let name = template
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for document in documents.iter().filter(|d| d["status"] == "FAIL") {
            for entry in document["not_compliant"].as_array().into_iter().flatten() {
                let text = entry.to_string();
                let control = text
                    .split("[CT.")
                    .nth(1)
                    .and_then(|rest| rest.split(']').next())
                    .map(|c| format!("CT.{c}"))
                    .unwrap_or_default();
                let mut logical_ids = std::collections::BTreeSet::new();
                resource_ids(entry, &mut logical_ids);
                failures.push(GuardFailure {
                    template: name.clone(),
                    rule: entry["Rule"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    control,
                    logical_ids,
                });
            }
        }
    }
    failures.sort();
    failures.dedup();
    failures
}

/// cfn-guard with the Control Tower rules passes on every template: each failing resource
/// suppresses the rule in `Metadata.guard.SuppressedRules`, and carries the reason (10+
/// characters) under `Metadata.argus.suppressions`, written by the same `stack.suppress` call.
/// Returns the suppressed (rule, resource) pairs.
pub fn assert_guard_clean<P: AsRef<Path>>(templates: &[P]) -> Vec<(String, String)> {
    let mut unsuppressed = Vec::new();
    let mut suppressed = Vec::new();
    for failure in guard_failures(templates) {
        let path = templates
            .iter()
            .map(AsRef::as_ref)
            .find(|t| {
                t.file_name()
                    .is_some_and(|n| n.to_string_lossy() == failure.template)
            })
            .unwrap();
        let template: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        if failure.logical_ids.is_empty() {
            unsuppressed.push(format!(
                "{} {} {} (no resource)",
                failure.template, failure.control, failure.rule
            ));
        }
        for id in &failure.logical_ids {
            let metadata = &template["Resources"][id]["Metadata"];
            let listed = metadata["guard"]["SuppressedRules"]
                .as_array()
                .is_some_and(|rules| rules.iter().any(|r| r == failure.rule.as_str()));
            // The reason of the rule-pack suppression that mirrors this Guard rule.
            let reasons: Vec<&str> = metadata["argus"]["suppressions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|s| {
                    s["id"]
                        .as_str()
                        .and_then(argus_cdk::rules::find)
                        .is_some_and(|rule| rule.guard.contains(&failure.rule.as_str()))
                })
                .filter_map(|s| s["reason"].as_str())
                .collect();
            if listed
                && !reasons.is_empty()
                && reasons.iter().all(|r| r.trim().chars().count() >= 10)
            {
                suppressed.push((failure.rule.clone(), format!("{}:{id}", failure.template)));
            } else {
                unsuppressed.push(format!(
                    "{} {} {} on {id}",
                    failure.template, failure.control, failure.rule
                ));
            }
        }
    }
    assert!(
        unsuppressed.is_empty(),
        "cfn-guard (AWS Control Tower rules) failures without a written suppression:\n{}",
        unsuppressed.join("\n")
    );
    suppressed
}
