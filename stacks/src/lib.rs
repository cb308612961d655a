//! argus-stacks: the Argus app on argus-cdk — stage configuration ([`config`]), the stacks
//! ([`pipeline`]: `argus-<stage>`; [`trail`]: the audit trail `argus-audit`; [`ci`]: `argus-ci`;
//! and the toolkit stack from `argus_cdk::bootstrap`), and which stacks a `--stage` or `--stack`
//! selection builds ([`app`]).
//!
//! Depends on argus-cdk and argus-contract only: synthesizing never compiles the AWS SDK, the
//! functions or the twin.

pub mod app;
pub mod ci;
pub mod config;
pub mod pipeline;
pub mod trail;
