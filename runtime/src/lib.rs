//! argus-runtime: the Lambda functions (processor, api) and their domain logic.
//!
//! This crate does not depend on argus-cdk: the runtime never links CloudFormation code, and
//! synthesizing never compiles the runtime.
//!
//! # Features
//!
//! - `lambda` (default): links the Lambda runtime (`lambda_runtime`) and builds the two
//!   functions, `processor` and `api` (`src/bin/`), and `processor::handle`. The `argus` CLI
//!   depends on this crate with `default-features = false`: the domain logic below without the
//!   Lambda runtime.
//!
//! # Modules
//!
//! - [`settings`]: the `ARGUS_*` environment the pipeline stack sets for the processor;
//! - [`notification`]: SQS message bodies (S3 event notifications, `s3:TestEvent`), key decoding;
//! - [`inspect`]: size, format, dimensions and SHA-256 before paying for Rekognition;
//! - [`record`]: the result record, its DynamoDB item and the seed's JSON file;
//! - [`analysis`]: the stage's Rekognition analyses and the policies on one image
//!   ([`analysis::analyze_image`], what `argus analyze` runs);
//! - [`policy`]: the weapon alert, the face decision and the alert message;
//! - [`metrics`]: CloudWatch Embedded Metric Format;
//! - [`services`]: the outside world as traits (S3, Rekognition, DynamoDB, SNS, clock);
//! - [`processor`]: the per-image pipeline and the SQS batch handling;
//! - [`api`]: the HTTP API function (uploads, listing, one image), its settings and services;
//! - [`aws`]: the AWS SDK implementations of [`services`] and of the API's services.

pub mod analysis;
pub mod api;
pub mod aws;
pub mod inspect;
#[cfg(feature = "lambda")]
pub mod logging;
pub mod metrics;
pub mod notification;
pub mod policy;
pub mod processor;
pub mod record;
pub mod services;
pub mod settings;
