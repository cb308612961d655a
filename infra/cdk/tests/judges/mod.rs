//! The external judges of synthesized templates, shared by the test suites of argus-cdk (its
//! example stack) and argus-stacks (the app's stacks; included there by path): where the pinned
//! linters are, and cfn-lint run over templates with zero findings as the verdict.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

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
