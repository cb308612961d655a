//! File assets: deployment packages (Lambda zips) that a template refers to by parameters.
//!
//! The template never holds the asset's hash: it takes the assets bucket and the object key as
//! parameters, and the toolkit fills them at deploy time with the content-addressed key
//! (`<sha256>.zip`). So synthesizing needs no build and templates stay byte-identical whatever the
//! bundle holds.

use serde::Serialize;

/// A file asset declared by a stack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Asset {
    /// Asset ID, unique in the stack, e.g. `processor`.
    pub id: String,
    /// `file` (uploaded as is; the toolkit builds the zip).
    pub packaging: String,
    /// What the toolkit bundles: `<cargo package>/<binary>`, e.g. `argus-runtime/processor`.
    pub source: String,
    /// The instruction set the binary is built for (`x86_64` or `arm64`).
    pub architecture: String,
    /// The template parameter that takes the assets bucket name.
    pub bucket_parameter: String,
    /// The template parameter that takes the object key.
    pub key_parameter: String,
    /// The template parameter that takes the object's S3 version ID (the toolkit fills it with
    /// the version it uploaded or verified), if the template pins versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_parameter: Option<String>,
    /// How the toolkit builds the binary (written to the manifest only when not
    /// [`BundleTarget::Lambda`]).
    #[serde(skip_serializing_if = "BundleTarget::is_lambda")]
    pub bundle: BundleTarget,
}

/// How the toolkit builds an asset's `bootstrap`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BundleTarget {
    /// `cargo lambda build --release` with zig for Lambda's `provided.al2023` (glibc ≤ 2.34
    /// checked): what runs on AWS.
    #[default]
    Lambda,
    /// `cargo build` with the workspace's dev profile and target folder, for this machine: only
    /// for an emulator that runs the bootstrap as a local process (the local twin's MiniStack).
    /// It reuses what building the CLI compiled, so the first local deploy needs no release
    /// build and no zig.
    Host,
}

impl BundleTarget {
    /// Whether this is [`BundleTarget::Lambda`].
    pub fn is_lambda(&self) -> bool {
        *self == BundleTarget::Lambda
    }

    /// `lambda` or `host`, as the stage configuration spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            BundleTarget::Lambda => "lambda",
            BundleTarget::Host => "host",
        }
    }
}
