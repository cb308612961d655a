//! argus-cli: the `argus` command line.
//!
//! - [`cli`]: the clap definitions, the dispatch, and [`cli::Failure`] (every typed error maps to
//!   its exit code there, in one place);
//! - [`commands`]: one thin module per subcommand — parse, call a library operation, report.
pub mod cli;
pub mod commands;
pub mod terminal;
