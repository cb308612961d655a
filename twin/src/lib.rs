//! argus-twin: the local twin — its Amazon Rekognition endpoint, the MiniStack launcher, and the
//! twin's lifecycle and state.
//!
//! A Rekognition-compatible HTTP server speaking the AWS JSON 1.1 protocol
//! (`X-Amz-Target: RekognitionService.<Operation>`) for DetectLabels, DetectText,
//! DetectFaces, CompareFaces and DetectModerationLabels, so the unmodified AWS SDKs work
//! against it through `AWS_ENDPOINT_URL_REKOGNITION` (or `endpoint_url`), with any static
//! credentials. It:
//!
//! - reads `Image.Bytes` or `Image.S3Object` from the twin's S3 ([`source`]) and answers bad
//!   input with Rekognition's own errors ([`error`]);
//! - computes what needs no model from the pixels: dimensions, `ImageProperties` ([`inspect`]);
//! - answers the model outputs from fixture files keyed by the image's SHA-256 ([`fixtures`]),
//!   filtered like the service does ([`ops`]);
//! - injects faults and logs calls for tests ([`faults`], admin routes in [`server`]).
//!
//! [`lambda`] runs a bundled function's `bootstrap` outside MiniStack against a Lambda Runtime
//! API of its own (benches, memory tests); [`corpus`] generates hostile images for them.
//!
//! [`ministack`] and [`process`] start and stop MiniStack (the rest of the twin) by PID;
//! [`lifecycle`] is the whole twin's `up`, `down` and `status` with its state file.
//!
//! ```no_run
//! # async fn demo() -> Result<(), argus_twin::server::ServeError> {
//! let server = argus_twin::serve(argus_twin::Config::default()).await?;
//! println!("AWS_ENDPOINT_URL_REKOGNITION={}", server.endpoint_url());
//! server.shutdown().await
//! # }
//! ```
//!
//! API reference followed: <https://docs.aws.amazon.com/rekognition/latest/APIReference/Welcome.html>.

pub mod colors;
pub mod corpus;
pub mod error;
pub mod faults;
pub mod fixtures;
pub mod inspect;
pub mod lambda;
pub mod lifecycle;
pub mod ministack;
pub mod model;
pub mod ops;
pub mod process;
pub mod server;
pub mod source;
pub mod trail;
pub mod vision;

pub use error::{ApiError, ErrorCode};
pub use faults::{CallLog, CallRecord, Faults, FaultsUpdate, Operation, ThrottleKind};
pub use fixtures::{Fixture, FixtureStore};
pub use ministack::{MiniStack, MiniStackError, MiniStackOptions};
pub use server::{Config, ServeError, ServerHandle, serve};
pub use source::S3Settings;
