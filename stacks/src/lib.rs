//! argus-stacks: the Argus app on top of argus-infra — stage configuration
//! ([`config`]), the stacks ([`pipeline`], [`audit`], and the toolkit stack from
//! `argus_infra::bootstrap`), which stacks a selection builds ([`app`]), and the `argus` CLI ([`cli`]).

pub mod app;
pub mod audit;
pub mod ci;
pub mod cli;
pub mod commands;
pub mod config;
pub mod pipeline;
