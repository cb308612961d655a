//! argus-runtime: the Lambda functions (processor, api) and their domain logic.
//!
//! This crate does not depend on argus-infra: the runtime never links CloudFormation code, and
//! synthesizing never compiles the runtime. The functions arrive with the "Processor" and "API"
//! issues; for now it holds the stage settings contract the pipeline stack passes in the function
//! environment.

pub mod notification;
pub mod settings;
