//! argus-cli: the `argus` command line.
//!
//! - [`cli`]: the clap definitions, the dispatch, and [`cli::Failure`] (every typed error maps to
//!   its exit code there, in one place);
//! - [`commands`]: one thin module per subcommand — parse, call an operation, print;
//! - [`ops`]: the operations (bundle, bootstrap, deploy, analyze, the audit trail reader, the
//!   demo), which report through the toolkit's `Reporter`;
//! - [`terminal`]: the toolkit's `Reporter` on a terminal (progress bars, prompts).
pub mod cli;
pub mod commands;
pub mod ops;
pub mod terminal;
