//! argus-cdk: a CDK-style construct library for CloudFormation, in Rust.
//!
//! - [`template`]: the template model (resources with every attribute, parameters, conditions,
//!   outputs, property overrides, JSON/YAML rendering).
//! - [`intrinsic`]: intrinsic functions and pseudo parameters.
//! - [`iam`]: the IAM policy language.
//! - [`resources`]: typed L1 property sets per resource type.
//! - [`constructs`]: L2 constructs with secure defaults and least-privilege grants.
//! - [`stack`]: construct paths → logical IDs, policy gathering, suppressions, synth.
//! - [`registry`]: the actions CloudFormation's handlers need per resource type.
//! - [`rules`]: the built-in rule pack run on every synthesized stack.
//! - [`assembly`]: the `cdk.out/` folder (templates, manifest, rule report).
//! - [`asset`]: file assets (Lambda bundles) referenced through template parameters.
//! - [`bootstrap`]: the toolkit stack (assets bucket) deployed once per account and Region.
//!
//! Nothing here is specific to the Argus app (the app lives in `argus-stacks`), and nothing here
//! reaches AWS: no AWS SDK, no async runtime, no network. Deploying is `argus-toolkit`'s job.

pub mod assembly;
pub mod asset;
pub mod bootstrap;
pub mod constructs;
pub mod error;
pub mod iam;
pub mod intrinsic;
pub mod registry;
pub mod resources;
pub mod rules;
pub mod stack;
pub mod template;

#[cfg(test)]
pub(crate) mod test_support;

pub use error::SynthError;
pub use intrinsic::{Cond, Expr, Pseudo};
pub use stack::Stack;
pub use template::{Output, Parameter, Template};
