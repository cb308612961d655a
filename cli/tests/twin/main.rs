//! Tests against the local twin (MiniStack and argus-twin, started on loopback by the tests and
//! stopped by PID): the toolkit, `argus local`, the processor pipeline and the demo. One test
//! binary, so the processor bundle is built once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod audit;
mod demo;
mod hostile;
mod hotswap;
mod invoke;
mod local_twin;
mod pipeline;
mod report;
mod soak;
mod toolkit;
