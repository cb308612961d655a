//! cfn-lint and checkov over every synthesized template: zero findings, and every checkov skip is
//! a written suppression with a reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

#[test]
fn cfn_lint_reports_nothing_on_any_template() {
    let out = tempfile::tempdir().unwrap();
    let written = crate::common::synth_all(out.path());
    let templates: Vec<_> = written
        .files
        .iter()
        .filter(|f| f.to_string_lossy().ends_with(".template.json"))
        .collect();
    assert_eq!(templates.len(), 6);
    let regions = crate::common::stage_regions();
    assert_eq!(
        regions,
        ["eu-west-1", "us-east-1"],
        "the stages' own Regions"
    );
    let regions: Vec<&str> = regions.iter().map(String::as_str).collect();
    crate::common::judges::assert_cfn_lint_clean(&templates, &regions);
}

/// What checkov reported about one template.
#[derive(Default)]
struct TemplateVerdict {
    passed: usize,
    failed: Vec<String>,
    skipped: Vec<(String, String)>,
    parse_failed: bool,
}

/// The verdict of the template checkov names `file`: `/<name>`, relative to its working
/// directory with a leading slash.
fn verdict_of<'a>(
    verdicts: &'a mut BTreeMap<String, TemplateVerdict>,
    file: &Value,
) -> &'a mut TemplateVerdict {
    let file = file.as_str().unwrap_or_default();
    let name = file.rsplit('/').next().unwrap_or(file);
    verdicts
        .get_mut(name)
        .unwrap_or_else(|| panic!("checkov reported on {file}, which is not a template"))
}

#[test]
fn checkov_fails_nothing_and_every_skip_has_a_reason() {
    let out = tempfile::tempdir().unwrap();
    let written = crate::common::synth_all(out.path());
    let templates: Vec<String> = written
        .files
        .iter()
        .filter_map(|f| f.file_name()?.to_str().map(str::to_owned))
        .filter(|name| name.ends_with(".template.json"))
        .collect();
    assert_eq!(templates.len(), 6);
    // One run over every template (checkov starts slowly); the results are told apart by file.
    let mut command = Command::new(crate::common::lint_bin("checkov"));
    command.current_dir(out.path());
    for template in &templates {
        command.args(["--file", template]);
    }
    let result = command
        .args(["--framework", "cloudformation", "--output", "json"])
        .env("BC_SKIP_MAPPING", "TRUE")
        .env("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    let parsed: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("checkov output is not JSON ({e}):\n{stdout}"));
    let reports = match parsed {
        Value::Array(list) => list,
        single => vec![single],
    };
    let mut verdicts: BTreeMap<String, TemplateVerdict> = templates
        .iter()
        .map(|t| (t.clone(), TemplateVerdict::default()))
        .collect();
    for report in &reports {
        let results = &report["results"];
        let list = |key: &str| results[key].as_array().cloned().unwrap_or_default();
        for check in list("passed_checks") {
            verdict_of(&mut verdicts, &check["file_path"]).passed += 1;
        }
        for check in list("failed_checks") {
            verdict_of(&mut verdicts, &check["file_path"])
                .failed
                .push(format!("{} {}", check["check_id"], check["resource"]));
        }
        for check in list("skipped_checks") {
            let reason = check["check_result"]["suppress_comment"]
                .as_str()
                .unwrap_or_default()
                .trim()
                .to_owned();
            verdict_of(&mut verdicts, &check["file_path"])
                .skipped
                .push((
                    format!("{} {}", check["check_id"], check["resource"]),
                    reason,
                ));
        }
        for file in list("parsing_errors") {
            verdict_of(&mut verdicts, &file).parse_failed = true;
        }
    }
    let mut skipped = 0;
    for (template, verdict) in &verdicts {
        assert!(
            verdict.failed.is_empty(),
            "checkov failed checks in {template}:\n{}",
            verdict.failed.join("\n")
        );
        assert!(!verdict.parse_failed, "checkov could not parse {template}");
        assert!(
            verdict.passed > 0,
            "checkov ran no passing check on {template}: did it scan it?"
        );
        for (check, reason) in &verdict.skipped {
            assert!(
                reason.len() >= 10,
                "{check} in {template} is skipped without a reason (`{reason}`)"
            );
        }
        skipped += verdict.skipped.len();
    }
    let passed: usize = verdicts.values().map(|v| v.passed).sum();
    assert!(
        passed > 100,
        "checkov ran only {passed} passing checks: did it scan the templates?"
    );
    assert!(
        skipped > 0,
        "the written suppressions should show up as checkov skips"
    );
}

/// AWS Control Tower's proactive controls (cfn-guard rules from the pinned
/// `cdklabs-cdk-validator-cfnguard` wheel) over every template: no failure without a written
/// suppression (the rule pack's `stack.suppress`, also written as `Metadata.guard.SuppressedRules`).
#[test]
fn cfn_guard_control_tower_rules_fail_nothing_unsuppressed() {
    let out = tempfile::tempdir().unwrap();
    let written = crate::common::synth_all(out.path());
    let templates: Vec<_> = written
        .files
        .iter()
        .filter(|f| f.to_string_lossy().ends_with(".template.json"))
        .collect();
    assert_eq!(templates.len(), 6);
    let suppressed = crate::common::judges::assert_guard_clean(&templates);
    let mut per_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for (rule, _) in &suppressed {
        *per_rule.entry(rule.as_str()).or_default() += 1;
    }
    eprintln!("cfn-guard: 0 unsuppressed; suppressed with reasons: {per_rule:?}");
    assert!(
        !suppressed.is_empty(),
        "the written suppressions should show up as cfn-guard failures they cover"
    );
    // Every Guard rule name the rule pack mirrors is a rule of the installed Control Tower set.
    let mut sources = String::new();
    let mut dirs = vec![crate::common::judges::guard_path("control-tower")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                sources.push_str(&std::fs::read_to_string(path).unwrap());
            }
        }
    }
    for rule in argus_cdk::rules::RULES {
        for name in rule.guard {
            assert!(
                sources.contains(&format!("rule {name} ")),
                "{}: no Guard rule {name}",
                rule.id
            );
        }
    }
}
