//! argus-runtime: the Lambda functions (processor, api) and their domain logic.
//!
//! This crate does not depend on argus-infra: the runtime never links CloudFormation code, and
//! synthesizing never compiles the runtime.
//!
//! The processor, module by module:
//!
//! - [`settings`]: the `ARGUS_*` environment the pipeline stack sets;
//! - [`notification`]: SQS message bodies (S3 event notifications, `s3:TestEvent`), key decoding;
//! - [`inspect`]: size, format, dimensions and SHA-256 before paying for Rekognition;
//! - [`record`]: the result record, its DynamoDB item and the seed's JSON file;
//! - [`policy`]: the weapon alert, the face decision and the alert message;
//! - [`metrics`]: CloudWatch Embedded Metric Format;
//! - [`services`]: the outside world as traits (S3, Rekognition, DynamoDB, SNS, clock);
//! - [`processor`]: the per-image pipeline and the SQS batch handling;
//! - [`aws`]: the AWS SDK implementations of [`services`].

pub mod aws;
pub mod inspect;
pub mod metrics;
pub mod notification;
pub mod policy;
pub mod processor;
pub mod record;
pub mod services;
pub mod settings;
