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
}
