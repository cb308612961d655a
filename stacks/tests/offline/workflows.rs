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

fn job_runs(job: &Value) -> Vec<String> {
    job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|step| step["run"].as_str().map(str::to_owned))
        .collect()
}

fn job_uses(job: &Value) -> Vec<String> {
    job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|step| step["uses"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn pull_requests_deploy_beta_and_merges_deploy_prod_with_oidc_from_a_build_without_credentials() {
    for (file, trigger, stage, environment) in [
        ("pr.yml", "pull_request", "beta", "beta"),
        ("main.yml", "push", "prod", "production"),
    ] {
        let w = workflow(file);
        assert!(w["on"].get(trigger).is_some(), "{file} runs on {trigger}");
        assert_eq!(
            w["permissions"],
            serde_json::json!({}),
            "{file}: no default permissions"
        );
        assert_eq!(
            w["concurrency"]["group"],
            format!("deploy-{stage}"),
            "{file}"
        );
        assert_eq!(
            w["concurrency"]["cancel-in-progress"], false,
            "{file}: a deploy is never cut off"
        );
        // The build job holds no id-token: cargo, pip and the bundles run without credentials.
        let build = &w["jobs"]["build"];
        assert_eq!(
            build["permissions"],
            serde_json::json!({"contents": "read"}),
            "{file}"
        );
        assert!(
            job_runs(build)
                .iter()
                .any(|r| r == &format!("make bundle STAGE={stage}")),
            "{file}"
        );
        // The deploy job takes the build as an artifact, checks its SHA-256 sums (passed as a job
        // output, apart from the artifact), then deploys with the stage's OIDC role in the
        // stage's environment, whose subject is the only one that role trusts.
        let deploy = &w["jobs"]["deploy"];
        assert_eq!(deploy["needs"], "build", "{file}");
        assert_eq!(deploy["environment"].as_str(), Some(environment), "{file}");
        assert_eq!(
            deploy["permissions"]["id-token"], "write",
            "{file} uses OIDC"
        );
        let runs = job_runs(deploy).join("\n");
        assert!(runs.contains("sha256sum --check"), "{file}");
        assert!(
            runs.contains(&format!(
                "argus deploy --stage {stage} --require-approval never"
            )),
            "{file}"
        );
        assert!(
            !runs.contains("make ") && !runs.contains("cargo ") && !runs.contains("pip "),
            "{file}: nothing is built with credentials"
        );
        for uses in job_uses(deploy) {
            assert!(
                [
                    "actions/checkout@",
                    "actions/download-artifact@",
                    "aws-actions/configure-aws-credentials@",
                    "actions/upload-artifact@"
                ]
                .iter()
                .any(|a| uses.starts_with(a)),
                "{file}: {uses} runs with credentials"
            );
        }
        let step = deploy["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| {
                s["run"]
                    .as_str()
                    .is_some_and(|r| r.contains("argus deploy"))
            })
            .unwrap();
        assert!(
            step["env"]["ARGUS_EXECUTION_ROLE_ARN"]
                .as_str()
                .is_some_and(|v| v.contains("EXECUTION_ROLE_ARN")),
            "{file}"
        );
        let creds = deploy["steps"].as_array().unwrap().iter().find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("aws-actions/configure-aws-credentials"))
        });
        let creds = creds.unwrap_or_else(|| panic!("{file} configures AWS credentials"));
        assert!(creds["with"]["role-to-assume"].is_string());
        assert!(
            creds["with"].get("aws-access-key-id").is_none(),
            "{file} holds no long-lived keys"
        );
    }
    let main = workflow("main.yml");
    assert_eq!(main["on"]["push"]["branches"], serde_json::json!(["main"]));
}

/// Every action is pinned by a full commit SHA with its version in a comment, and every checkout
/// leaves no token behind in `.git/config`.
#[test]
fn every_action_is_pinned_by_commit_sha_and_checkouts_keep_no_credentials() {
    let dir = crate::common::root().join(".github/workflows");
    let mut pinned = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().filter(|l| {
            l.trim_start().starts_with("- uses:") || l.trim_start().starts_with("uses:")
        }) {
            let spec = line.split("uses:").nth(1).unwrap().trim();
            let (action, rest) = spec.split_once('@').unwrap_or_else(|| panic!("{line}"));
            let (sha, comment) = rest
                .split_once(" # ")
                .unwrap_or_else(|| panic!("{}: {line} has no version comment", path.display()));
            assert!(
                sha.len() == 40
                    && sha
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
                "{}: {action} is not pinned by a commit SHA",
                path.display()
            );
            assert!(!comment.trim().is_empty());
            pinned += 1;
        }
        let w: Value = serde_yaml_ng::from_str(&text).unwrap();
        for job in w["jobs"].as_object().unwrap().values() {
            for step in job["steps"].as_array().unwrap() {
                if step["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("actions/checkout@"))
                {
                    assert_eq!(
                        step["with"]["persist-credentials"],
                        false,
                        "{}",
                        path.display()
                    );
                }
            }
        }
    }
    assert!(pinned >= 12, "{pinned} actions checked");
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

/// zizmor (pinned, from PyPI) finds nothing in the workflows, offline (the audits that need the
/// GitHub API are skipped); every `zizmor: ignore[...]` comment gives its reason.
#[test]
fn zizmor_finds_nothing_in_the_workflows() {
    let dir = crate::common::root().join(".github");
    let out = Command::new(crate::common::judges::guard_path("bin/zizmor"))
        .args(["--offline", "--format", "json", "--no-progress"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let findings: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "zizmor output is not JSON ({e}):\n{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let list = findings.as_array().cloned().unwrap_or_default();
    assert!(
        list.is_empty() && out.status.success(),
        "zizmor findings:\n{}",
        list.iter()
            .map(|f| format!("{} {}", f["ident"], f["desc"]))
            .collect::<Vec<_>>()
            .join("\n")
    );
    for entry in std::fs::read_dir(dir.join("workflows")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines().filter(|l| l.contains("zizmor: ignore[")) {
            let reason = line
                .split(']')
                .nth(1)
                .unwrap_or_default()
                .trim_start_matches([' ', '-', ':']);
            assert!(
                reason.trim().chars().count() >= 10,
                "a zizmor suppression without a reason: {line}"
            );
        }
    }
}
