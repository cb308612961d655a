//! Tests of the synthesized stacks that need no deployed stack: insta snapshots, cfn-lint and
//! checkov over every template, and the GitHub workflows. One test binary (one link) for all.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod lint;
mod snapshots;
mod workflows;
