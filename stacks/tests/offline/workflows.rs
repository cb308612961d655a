//! The GitHub workflows: actionlint passes, and each deploys what it should, with OIDC
//! credentials and a concurrency group per stage.

use std::process::Command;

use serde_json::Value;

fn workflow(name: &str) -> Value {
    let text = std::fs::read_to_string(crate::common::root().join(".github/workflows").join(name))
        .unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

#[test]
fn actionlint_passes_on_every_workflow() {
    let dir = crate::common::root().join(".github/workflows");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 3, "ci.yml, pr.yml, main.yml");
    let out = Command::new(crate::common::lint_bin("actionlint"))
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn steps_run(workflow: &Value) -> Vec<String> {
    workflow["jobs"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|job| job["steps"].as_array().unwrap().clone())
        .filter_map(|step| step["run"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn pull_requests_deploy_beta_and_merges_deploy_prod_with_oidc() {
    for (file, trigger, command, group, environment) in [
        (
            "pr.yml",
            "pull_request",
            "make deploy-beta",
            "deploy-beta",
            Some("beta"),
        ),
        (
            "main.yml",
            "push",
            "make deploy-prod",
            "deploy-prod",
            Some("production"),
        ),
    ] {
        let w = workflow(file);
        assert!(w["on"].get(trigger).is_some(), "{file} runs on {trigger}");
        assert_eq!(steps_run(&w), vec![command.to_owned()], "{file}");
        assert_eq!(w["permissions"]["id-token"], "write", "{file} uses OIDC");
        assert_eq!(w["concurrency"]["group"], group, "{file}");
        assert_eq!(
            w["concurrency"]["cancel-in-progress"], false,
            "{file}: a deploy is never cut off"
        );
        let job = w["jobs"]["deploy"].clone();
        // Each deploy job runs in its stage's environment: the OIDC subject
        // `…:environment:<name>` is the only one its deploy role trusts.
        assert_eq!(job["environment"].as_str(), environment, "{file}");
        let step = job["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["run"] == command)
            .unwrap();
        assert!(
            step["env"]["ARGUS_EXECUTION_ROLE_ARN"]
                .as_str()
                .is_some_and(|v| v.contains("EXECUTION_ROLE_ARN")),
            "{file}"
        );
        let creds = job["steps"].as_array().unwrap().iter().find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("aws-actions/configure-aws-credentials"))
        });
        let creds = creds.unwrap_or_else(|| panic!("{file} configures AWS credentials"));
        assert!(creds["with"]["role-to-assume"].is_string());
        for step in job["steps"].as_array().unwrap() {
            if step["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/checkout"))
            {
                assert_eq!(
                    step["with"]["persist-credentials"], false,
                    "{file}: the checkout leaves no token in .git/config"
                );
            }
        }
        assert!(
            creds["with"].get("aws-access-key-id").is_none(),
            "{file} holds no long-lived keys"
        );
    }
    let main = workflow("main.yml");
    assert_eq!(main["on"]["push"]["branches"], serde_json::json!(["main"]));
}

#[test]
fn ci_runs_fmt_clippy_and_the_readme_test_command() {
    let runs = steps_run(&workflow("ci.yml"));
    assert!(
        runs.iter()
            .any(|r| r.contains("cargo fmt --all -- --check"))
    );
    assert!(runs.iter().any(|r| r == "make clippy"));
    assert!(runs.iter().any(|r| r == "make test"));
}
