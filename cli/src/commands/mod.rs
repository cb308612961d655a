//! One thin module per `argus` subcommand: parse the arguments, call an operation in
//! [`crate::ops`], print, and map the result to an exit code (through [`crate::cli::Failure`]).

pub mod analyze;
pub mod audit;
pub mod bootstrap;
pub mod bundle;
pub mod demo;
pub mod deploy;
pub mod destroy;
pub mod diff;
pub mod local;
pub mod report;
pub mod synth;
