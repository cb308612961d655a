//! `argus` tests that need no deployed stack: the CLI's errors and exit codes, and `argus audit`
//! (recorded CloudTrail data, and one run against a bare MiniStack), and `argus diagram`. One test binary (one link).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod audit;
mod cli;
mod diagram;
