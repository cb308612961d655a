//! Tests that need no deployed stack: the CLI's errors and exit codes, cfn-lint and checkov over every
//! template, insta snapshots, the GitHub workflows, and `argus audit` (recorded CloudTrail data, and
//! one run against a bare MiniStack). One test binary (one link) for all.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod audit;
mod cli;
mod lint;
mod snapshots;
mod workflows;
