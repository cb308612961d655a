//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use argus_cdk::assembly::{Assembly, TemplateFormat};
use argus_stacks::app::{self, Selection};

#[path = "../../../infra/cdk/tests/judges/mod.rs"]
pub mod judges;

pub use judges::{lint_bin, repo_root as root};

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

/// Every Region the shipped stage configs name (`region` of each stage's `.toml`), sorted and
/// without repeats: the Regions the templates are deployed to.
pub fn stage_regions() -> Vec<String> {
    let mut regions: Vec<String> = argus_stacks::config::STAGES
        .iter()
        .map(|stage| {
            argus_stacks::config::StageConfig::load(&config_dir(), stage)
                .unwrap()
                .region
        })
        .collect();
    regions.sort();
    regions.dedup();
    regions
}
