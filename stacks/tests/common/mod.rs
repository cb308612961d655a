//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use argus_cdk::assembly::{Assembly, TemplateFormat};
use argus_stacks::app::{self, Selection};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The shipped stage configs.
pub fn config_dir() -> PathBuf {
    root().join("stacks/config")
}

/// Synthesizes every stack into `out`.
pub fn synth_all(out: &Path) -> argus_cdk::assembly::Written {
    let stacks = app::synth(&config_dir(), &Selection::All).unwrap();
    Assembly { stacks }
        .write(out, TemplateFormat::Json)
        .unwrap()
}

/// The lint virtualenv's `bin/` folder (`make lint-tools` creates it); `ARGUS_LINT_VENV` overrides.
pub fn lint_bin(tool: &str) -> PathBuf {
    let venv = std::env::var_os("ARGUS_LINT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/lint"));
    let bin = venv.join("bin").join(tool);
    assert!(
        bin.exists(),
        "{} is missing: run `make lint-tools` (make test does) to install the pinned linters",
        bin.display()
    );
    bin
}
