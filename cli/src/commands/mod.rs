//! One thin module per `argus` subcommand: parse the arguments, call an operation in
//! [`crate::ops`], print, and map the result to an exit code (through [`crate::cli::Failure`]).

pub mod analyze;
pub mod audit;
pub mod bootstrap;
pub mod bundle;
pub mod demo;
pub mod deploy;
pub mod destroy;
pub mod diagram;
pub mod diff;
pub mod invoke;
pub mod local;
pub mod logs;
pub mod report;
pub mod synth;
pub mod watch;
