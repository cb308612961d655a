//! The `argus` binary: exit codes and one-line errors for bad input, and what synth writes.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

fn argus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_argus"))
        .args(args)
        .current_dir(crate::common::root())
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn an_unknown_stage_is_a_one_line_error_with_exit_code_2() {
    let out = tempfile::tempdir().unwrap();
    let o = argus(&[
        "synth",
        "--stage",
        "nosuch",
        "--out",
        &out.path().to_string_lossy(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("nosuch") && err.contains("beta"), "{err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn a_config_typo_names_the_file_and_the_field_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    for stage in ["beta", "prod", "local"] {
        let text =
            std::fs::read_to_string(crate::common::config_dir().join(format!("{stage}.toml")))
                .unwrap();
        std::fs::write(dir.path().join(format!("{stage}.toml")), text).unwrap();
    }
    let beta = dir.path().join("beta.toml");
    let text = std::fs::read_to_string(&beta)
        .unwrap()
        .replace("max_labels = 20", "max_label = 20");
    std::fs::write(&beta, text).unwrap();
    let out = tempfile::tempdir().unwrap();
    let o = argus(&[
        "synth",
        "--stage",
        "beta",
        "--config-dir",
        &dir.path().to_string_lossy(),
        "--out",
        &out.path().to_string_lossy(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("beta.toml") && err.contains("analysis.max_label"),
        "{err}"
    );
    assert!(
        !out.path().join("argus-beta.template.json").exists(),
        "nothing is written on a config error"
    );
}

#[test]
fn synth_writes_templates_manifest_and_rule_report() {
    let out = tempfile::tempdir().unwrap();
    let o = argus(&[
        "synth",
        "--stage",
        "beta",
        "--format",
        "yaml",
        "--out",
        &out.path().to_string_lossy(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("argus-beta.template.json")).unwrap(),
    )
    .unwrap();
    let yaml: serde_json::Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(out.path().join("argus-beta.template.yaml")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        json, yaml,
        "the YAML template holds the same template as the JSON one"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("manifest.json")).unwrap())
            .unwrap();
    let stack = &manifest["stacks"]["argus-beta"];
    assert_eq!(stack["templateFile"], "argus-beta.template.json");
    assert_eq!(stack["assets"][0]["keyParameter"], "ProcessorCodeKey");
    assert_eq!(stack["parameters"]["AssetsBucket"]["Type"], "String");
    assert_eq!(stack["findings"]["errors"], 0);
    let report = std::fs::read_to_string(out.path().join("rules-report.txt")).unwrap();
    assert!(
        report.starts_with("SEVERITY") && report.contains("suppressed: "),
        "{report}"
    );
}

#[test]
fn help_explains_stages_and_options() {
    let o = argus(&["synth", "--help"]);
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    for word in [
        "--stage",
        "--stack",
        "--out",
        "--format",
        "a stage (beta, prod, local), or all",
        "argus-audit, argus-toolkit, argus-ci",
        "--config-dir",
    ] {
        assert!(help.contains(word), "`{word}` missing from help:\n{help}");
    }
}

#[test]
fn an_account_stack_given_as_a_stage_names_the_stack_flag() {
    let out = tempfile::tempdir().unwrap();
    let o = argus(&[
        "synth",
        "--stage",
        "audit",
        "--out",
        &out.path().to_string_lossy(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("`audit` is a stack, not a stage: use --stack argus-audit"),
        "{err}"
    );
}

#[test]
fn stack_selects_one_stack_by_name_and_refuses_unknown_names() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_string_lossy().into_owned();
    let o = argus(&["synth", "--stack", "argus-ci", "--out", &dir]);
    assert!(o.status.success(), "{}", stderr(&o));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("manifest.json")).unwrap())
            .unwrap();
    let names: Vec<&String> = manifest["stacks"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["argus-ci"]);

    let o = argus(&["synth", "--stack", "argus-beta", "--out", &dir]);
    assert!(
        o.status.success(),
        "a stage's stack by name: {}",
        stderr(&o)
    );
    assert!(out.path().join("argus-beta.template.json").exists());

    let o = argus(&["diff", "--stack", "argus-nosuch"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("unknown stack `argus-nosuch`") && err.contains("argus-toolkit"),
        "{err}"
    );
    let o = argus(&["diff"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a command on one stack needs --stage or --stack"
    );
}

#[test]
fn top_level_help_speaks_to_users_and_names_stages_and_stacks() {
    let o = argus(&["--help"]);
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(
        help.starts_with("Argus: infrastructure as code for an image-analysis pipeline on AWS"),
        "{help}"
    );
    assert!(
        help.contains("--stack") && help.contains("argus-audit"),
        "{help}"
    );
}

#[test]
fn invoke_and_logs_name_the_known_functions_and_a_missing_key_before_any_aws_call() {
    for args in [
        &["invoke", "resizer", "--stage", "local"][..],
        &["logs", "--stage", "local", "resizer"][..],
    ] {
        let o = argus(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("processor, api"), "{}", stderr(&o));
    }
    // The processor's event needs an object; said before AWS is asked anything (an endpoint
    // where nothing listens would give exit code 3).
    let o = Command::new(env!("CARGO_BIN_EXE_argus"))
        .args(["invoke", "processor", "--stage", "local"])
        .current_dir(crate::common::root())
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--event sqs-s3 needs --key"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn invoke_and_logs_help_explain_events_and_columns() {
    let o = argus(&["invoke", "--help"]);
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    for word in [
        "s3-put",
        "sqs-s3",
        "apigw-v2",
        "--print-event",
        "HeadObject",
        "processor or api",
        "LogType Tail",
    ] {
        assert!(help.contains(word), "`{word}` missing from help:\n{help}");
    }
    let o = argus(&["logs", "--help"]);
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    for word in [
        "--follow",
        "--filter",
        "--json",
        "--since",
        "REQUEST ID",
        "IMAGE",
    ] {
        assert!(help.contains(word), "`{word}` missing from help:\n{help}");
    }
}
