//! Tests that need no emulator: the CLI's errors and exit codes, cfn-lint and checkov over every
//! template, insta snapshots, and the GitHub workflows. One test binary (one link) for all.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod lint;
mod snapshots;
mod workflows;
