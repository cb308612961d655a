//! Building a stack's Lambda assets with cargo-lambda into deterministic zips.

use std::path::{Path, PathBuf};

use argus_cdk::asset::Asset;
use argus_cdk::stack::SynthesizedStack;
use argus_toolkit::bundle::{self, Bundle, BundleRequest};
use argus_toolkit::report::Reporter;

use crate::cli::Failure;

/// The virtualenv holding cargo-lambda and ziglang (`make bundle-tools`).
pub const BUNDLE_VENV_BIN: &str = ".venv/bundle/bin";

/// Where the bundle of an asset is written: `<out>/assets/<binary>-<architecture>.zip`.
pub fn bundle_path(out: &Path, asset: &Asset) -> PathBuf {
    let binary = asset.source.rsplit('/').next().unwrap_or(&asset.source);
    out.join("assets")
        .join(format!("{binary}-{}.zip", asset.architecture))
}

/// Builds every asset of a synthesized stack into `<out>/assets/`, reporting one line per bundle
/// (path, SHA-256, size, glibc needed).
///
/// # Errors
/// A [`Failure`] when the current folder cannot be read or a build fails.
pub fn bundle_stack(
    out: &Path,
    synthesized: &SynthesizedStack,
    report: &dyn Reporter,
) -> Result<Vec<Bundle>, Failure> {
    if synthesized.assets.is_empty() {
        report.info(&format!("{}: no assets to bundle", synthesized.name));
    }
    let workspace = std::env::current_dir()
        .map_err(|e| Failure::new(1, format!("cannot read the current folder: {e}")))?;
    let mut bundles = Vec::new();
    for asset in &synthesized.assets {
        let bundle = build(&workspace, out, asset)?;
        report.info(&format!(
            "{}: {} ({}, {}) -> {}  sha256 {}  {} bytes  glibc {}",
            synthesized.name,
            asset.id,
            asset.architecture,
            asset.bundle.as_str(),
            bundle.zip_path.display(),
            bundle.sha256,
            bundle.size,
            bundle
                .glibc
                .map_or_else(|| "none (static)".to_owned(), |(a, b)| format!("{a}.{b}"))
        ));
        bundles.push(bundle);
    }
    Ok(bundles)
}

/// Builds one asset (cargo-lambda, or the host's dev build for [`argus_cdk::asset::BundleTarget::Host`])
/// and packages it at [`bundle_path`].
///
/// # Errors
/// A [`Failure`] when the asset's source is not `<package>/<binary>` or the build fails.
pub fn build(workspace: &Path, out: &Path, asset: &Asset) -> Result<Bundle, Failure> {
    let (package, binary) = asset.source.split_once('/').ok_or_else(|| {
        Failure::new(
            1,
            format!(
                "asset {} has source `{}`, expected <package>/<binary>",
                asset.id, asset.source
            ),
        )
    })?;
    let request = BundleRequest {
        workspace: workspace.to_path_buf(),
        package: package.to_owned(),
        binary: binary.to_owned(),
        architecture: asset.architecture.clone(),
        out_dir: out.join("assets"),
        tool_paths: vec![workspace.join(BUNDLE_VENV_BIN)],
        target: asset.bundle,
    };
    Ok(bundle::build(&request)?)
}
