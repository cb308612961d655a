//! cfn-lint and checkov over every synthesized template: zero findings, and every checkov skip is
//! a written suppression with a reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

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
    crate::common::judges::assert_cfn_lint_clean(&templates);
}

#[test]
fn checkov_fails_nothing_and_every_skip_has_a_reason() {
    let out = tempfile::tempdir().unwrap();
    crate::common::synth_all(out.path());
    let result = Command::new(crate::common::lint_bin("checkov"))
        .args([
            "--directory",
            &out.path().to_string_lossy(),
            "--framework",
            "cloudformation",
            "--output",
            "json",
        ])
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
    let mut passed = 0;
    let mut skipped = 0;
    let mut resources = 0;
    for report in &reports {
        let results = &report["results"];
        let failed = results["failed_checks"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let failures: Vec<String> = failed
            .iter()
            .map(|c| format!("{} {} in {}", c["check_id"], c["resource"], c["file_path"]))
            .collect();
        assert!(
            failures.is_empty(),
            "checkov failed checks:\n{}",
            failures.join("\n")
        );
        assert_eq!(
            report["summary"]["parsing_errors"], 0,
            "checkov could not parse a template"
        );
        resources += report["summary"]["resource_count"]
            .as_u64()
            .unwrap_or_default();
        passed += results["passed_checks"].as_array().map_or(0, Vec::len);
        for skip in results["skipped_checks"].as_array().into_iter().flatten() {
            skipped += 1;
            let comment = skip["check_result"]["suppress_comment"]
                .as_str()
                .unwrap_or_default();
            assert!(
                comment.trim().len() >= 10,
                "{} on {} is skipped without a reason",
                skip["check_id"],
                skip["resource"]
            );
        }
    }
    assert!(
        passed > 100,
        "checkov ran only {passed} passing checks: did it scan the templates?"
    );
    assert!(
        skipped > 0,
        "the written suppressions should show up as checkov skips"
    );
    assert!(resources > 50, "checkov saw only {resources} resources");
}
