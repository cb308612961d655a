//! The outside world of the processor as small async traits: the object store (S3), Rekognition,
//! the results table, the decision log (DynamoDB), the alert topic (SNS) and the clock.
//!
//! [`crate::aws`] implements them with the AWS SDK for Rust; the processor's tests implement them
//! in memory. Errors are classified the way the processor acts on them: retryable errors send the
//! SQS message back (batchItemFailures), the others end as a FAILED or REJECTED record.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use thiserror::Error;

use crate::record::{Face, ImageRecord, Label, ModerationLabel, Status};

/// An S3 object as Rekognition takes it
/// (<https://docs.aws.amazon.com/rekognition/latest/APIReference/API_S3Object.html>).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Object {
    /// Bucket name.
    pub bucket: String,
    /// Object key (decoded).
    pub key: String,
    /// Version ID; `None` reads the current version.
    pub version_id: Option<String>,
}

/// An object read from the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredObject {
    /// Size in bytes (`Content-Length`).
    pub content_length: u64,
    /// The version read (versioned buckets).
    pub version_id: Option<String>,
    /// The ETag, quotes included as S3 returns it.
    pub e_tag: Option<String>,
    /// The bytes; `None` when `content_length` exceeds the `max_bytes` the caller passed (the
    /// body is then not downloaded).
    pub body: Option<Vec<u8>>,
}

/// An object store failure.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum StoreError {
    /// The object (or version) does not exist: `NoSuchKey`, `NoSuchVersion`, `NotFound`, or
    /// `NoSuchBucket`. Not retried; the image ends FAILED with the code.
    #[error("{code}: {message}")]
    NotFound {
        /// The error code.
        code: String,
        /// The service's message.
        message: String,
    },
    /// Throttling (`SlowDown`), 5xx, timeouts, connection failures, after the SDK's retries.
    #[error("{code}: {message}")]
    Retryable {
        /// The error code.
        code: String,
        /// The service's message.
        message: String,
    },
    /// Anything else (e.g. `AccessDenied`, which S3 also returns for a missing key when the
    /// caller may not list the bucket).
    #[error("{code}: {message}")]
    Other {
        /// The error code.
        code: String,
        /// The service's message.
        message: String,
    },
}

/// Reads uploaded objects (S3 GetObject,
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html>) and deletes the
/// rejected ones.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// Reads an object; the body only when `content_length <= max_bytes`.
    ///
    /// # Errors
    /// [`StoreError`], classified.
    async fn get_object(
        &self,
        object: &S3Object,
        max_bytes: u64,
    ) -> Result<StoredObject, StoreError>;

    /// Deletes one version of an object for good (S3 DeleteObject with `versionId`,
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html>; needs
    /// `s3:DeleteObjectVersion`). Deleting a version that is already gone succeeds.
    ///
    /// # Errors
    /// [`StoreError`], classified.
    async fn delete_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<(), StoreError>;
}

pub use crate::record::TextLine;

/// What a Detect* call found, with the model version Rekognition reported beside it
/// (`LabelModelVersion`, `TextModelVersion`, `ModerationModelVersion`; e.g. `3.0` on AWS,
/// the model's name on argus-twin, such as `efficientnet-lite0+mtcnn`, or `fixture`).
#[derive(Clone, Debug, PartialEq)]
pub struct Detected<T> {
    /// The detections (labels, text lines, moderation labels).
    pub found: T,
    /// The response's model version; `None` when the response had none.
    pub model_version: Option<String>,
}

impl<T> From<T> for Detected<T> {
    /// Detections without a model version.
    fn from(found: T) -> Self {
        Detected {
            found,
            model_version: None,
        }
    }
}

/// What CompareFaces found in the target (uploaded) image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaceComparison {
    /// Faces in the target image: matched plus unmatched.
    pub faces_in_target: usize,
    /// Highest similarity of a match, percent 0–100; `None` when no face matched.
    pub best_similarity: Option<f32>,
}

/// A Rekognition failure, classified from the error code
/// (<https://docs.aws.amazon.com/rekognition/latest/dg/error-handling.html>).
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum RekognitionError {
    /// `ThrottlingException`, `ProvisionedThroughputExceededException`, still failing after the
    /// SDK's retries. The message is retried; counted in `RekognitionThrottles`.
    #[error("{code}: {message}")]
    Throttled {
        /// The error code.
        code: String,
        /// The service's message.
        message: String,
    },
    /// 5xx (`InternalServerError`), timeouts and connection failures after the SDK's retries.
    #[error("{code}: {message}")]
    Retryable {
        /// The error code.
        code: String,
        /// The service's message.
        message: String,
    },
    /// The image is unusable: `InvalidImageFormatException`, `ImageTooLargeException`,
    /// `InvalidParameterException`, `InvalidS3ObjectException`. Not retried.
    #[error("{code}: {message}")]
    InvalidImage {
        /// The error code.
        code: String,
        /// The service's message.
        message: String,
    },
    /// Anything else (e.g. `AccessDeniedException`). The message is retried, so a
    /// misconfiguration ends in the DLQ (and its alarm), not in records.
    #[error("{code}: {message}")]
    Other {
        /// The error code.
        code: String,
        /// The service's message.
        message: String,
    },
}

/// The Rekognition image operations the processor calls, each with the image as an S3Object
/// (<https://docs.aws.amazon.com/rekognition/latest/APIReference/Welcome.html>).
#[async_trait]
pub trait Rekognition: Send + Sync {
    /// DetectLabels with MaxLabels and MinConfidence (percent), with `LabelModelVersion`.
    ///
    /// # Errors
    /// [`RekognitionError`], classified.
    async fn detect_labels(
        &self,
        image: &S3Object,
        max_labels: u32,
        min_confidence: f32,
    ) -> Result<Detected<Vec<Label>>, RekognitionError>;

    /// DetectText; only the LINE detections, in Rekognition's order, with `TextModelVersion`.
    ///
    /// # Errors
    /// [`RekognitionError`], classified.
    async fn detect_text(
        &self,
        image: &S3Object,
    ) -> Result<Detected<Vec<TextLine>>, RekognitionError>;

    /// DetectFaces with the default attributes (bounding box, confidence).
    ///
    /// # Errors
    /// [`RekognitionError`], classified.
    async fn detect_faces(&self, image: &S3Object) -> Result<Vec<Face>, RekognitionError>;

    /// DetectModerationLabels with MinConfidence (percent), with `ModerationModelVersion`.
    ///
    /// # Errors
    /// [`RekognitionError`], classified.
    async fn detect_moderation_labels(
        &self,
        image: &S3Object,
        min_confidence: f32,
    ) -> Result<Detected<Vec<ModerationLabel>>, RekognitionError>;

    /// CompareFaces of the largest face of `source` (the reference) against every face of
    /// `target`, with SimilarityThreshold 0 so the best similarity is known whatever the
    /// configured threshold.
    ///
    /// # Errors
    /// [`RekognitionError`], classified.
    async fn compare_faces(
        &self,
        source: &S3Object,
        target: &S3Object,
    ) -> Result<FaceComparison, RekognitionError>;
}

/// A DynamoDB failure other than a failed condition (which the operations report as outcomes).
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum TableError {
    /// `ProvisionedThroughputExceededException`, `ThrottlingException`,
    /// `RequestLimitExceeded` after the SDK's retries.
    #[error("{code}: {message}")]
    Throttled {
        /// The error code.
        code: String,
        /// The service's message.
        message: String,
    },
    /// 5xx, timeouts and connection failures after the SDK's retries.
    #[error("{code}: {message}")]
    Retryable {
        /// The error code.
        code: String,
        /// The service's message.
        message: String,
    },
    /// Anything else (access denied, validation, an item that does not read).
    #[error("{code}: {message}")]
    Other {
        /// The error code.
        code: String,
        /// The service's message.
        message: String,
    },
}

/// The `status` value of a claim item.
pub const CLAIMED: &str = "CLAIMED";

/// A claim on an image: the results-table item that marks it as being processed.
///
/// Item shape (PutItem): `{"imageId", "status": "CLAIMED", "claimToken", "claimExpiresAt":
/// epoch seconds (N), "bucket", "objectKey", "versionId"?, "expires_at": epoch seconds (N)}`.
/// It has no `stage`/`processedAt`, so it never appears in the `ByProcessedAt` index, and its
/// `expires_at` lets DynamoDB TTL remove a claim nobody finished.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    /// The image ID (the item key).
    pub image_id: String,
    /// Always [`CLAIMED`].
    pub status: &'static str,
    /// Who holds it: `<Lambda request ID>/<SQS message ID>`, unique per attempt.
    pub claim_token: String,
    /// Epoch seconds after which another run may take the claim over.
    pub claim_expires_at: i64,
    /// Input bucket.
    pub bucket: String,
    /// Object key.
    pub object_key: String,
    /// Object version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// DynamoDB TTL, epoch seconds.
    #[serde(rename = "expires_at")]
    pub expires_at: i64,
}

/// The result of a claim attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The claim item was written: this run owns the image.
    Claimed,
    /// The item exists and is not an expired claim (the condition failed).
    Held,
}

/// The status attribute of a results-table item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemStatus {
    /// Being processed (a claim item).
    Claimed,
    /// A final record.
    Done(Status),
}

/// What the results table holds for an image (a consistent read).
#[derive(Clone, Debug, PartialEq)]
pub struct ItemState {
    /// Claimed or done.
    pub status: ItemStatus,
    /// The token of the run that last wrote the item.
    pub claim_token: Option<String>,
    /// That run's lease, epoch seconds.
    pub claim_expires_at: Option<i64>,
    /// The record, for final items.
    pub record: Option<ImageRecord>,
}

/// The result of a conditional result write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutOutcome {
    /// Written.
    Written,
    /// The item no longer carries this run's claim token (another run took it over).
    LostClaim,
}

/// The results table (key `imageId`), with the conditional writes that make processing
/// idempotent (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html>).
#[async_trait]
pub trait ResultsTable: Send + Sync {
    /// PutItem of the claim item with the condition
    /// `attribute_not_exists(imageId) OR (#status = :claimed AND claimExpiresAt < :now)`
    /// (`now`: epoch seconds).
    ///
    /// # Errors
    /// [`TableError`], classified.
    async fn claim(&self, claim: &Claim, now: i64) -> Result<ClaimOutcome, TableError>;

    /// GetItem with a consistent read.
    ///
    /// # Errors
    /// [`TableError`], classified.
    async fn get_state(&self, image_id: &str) -> Result<Option<ItemState>, TableError>;

    /// Takes over a final item whose alert is still pending and whose lease has expired:
    /// UpdateItem `SET claimToken = :token, claimExpiresAt = :expires` with the condition
    /// `claimToken = :seen AND claimExpiresAt < :now`. `false` when the condition fails.
    ///
    /// # Errors
    /// [`TableError`], classified.
    async fn take_over(
        &self,
        claim: &Claim,
        seen_token: &str,
        now: i64,
    ) -> Result<bool, TableError>;

    /// PutItem of the final record plus this run's `claimToken` and `claimExpiresAt` (the lease
    /// that guards a pending alert), with the condition `claimToken = :token`: the item must
    /// still be this run's claim.
    ///
    /// # Errors
    /// [`TableError`], classified.
    async fn put_result(
        &self,
        record: &ImageRecord,
        claim: &Claim,
    ) -> Result<PutOutcome, TableError>;

    /// Ends this run's lease early so a retry need not wait for it to expire: UpdateItem
    /// `SET claimExpiresAt = :zero` with the condition `claimToken = :token` (a failed condition
    /// is not an error).
    ///
    /// # Errors
    /// [`TableError`], classified.
    async fn release(&self, claim: &Claim) -> Result<(), TableError>;
}

/// A decision event (append-only): the face decision of an image.
///
/// Item shape: `{"imageId", "eventKey": "decision#<processedAt>", "eventType": "FACE_DECISION",
/// "decision", "similarity"?, "similarityThreshold", "facesInImage", "referenceBucket",
/// "referenceKey", "bucket", "objectKey", "versionId"?, "sha256", "stage", "recordedAt"}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionEvent {
    /// The image ID (partition key).
    pub image_id: String,
    /// Sort key: `decision#<processedAt ISO 8601>`.
    pub event_key: String,
    /// `FACE_DECISION`.
    pub event_type: String,
    /// `AUTHORIZED` or `UNAUTHORIZED`.
    pub decision: String,
    /// Best CompareFaces similarity, percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f32>,
    /// The configured threshold, percent.
    pub similarity_threshold: f32,
    /// Faces found in the image.
    pub faces_in_image: u32,
    /// Reference image bucket.
    pub reference_bucket: String,
    /// Reference image key.
    pub reference_key: String,
    /// Input bucket.
    pub bucket: String,
    /// Object key.
    pub object_key: String,
    /// Object version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// SHA-256 of the image bytes.
    pub sha256: String,
    /// Stage name.
    pub stage: String,
    /// When, ISO 8601 UTC.
    pub recorded_at: String,
}

/// The result of a decision log write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecisionLogOutcome {
    /// Written.
    Written,
    /// An event with this key exists already (the condition failed); nothing changed.
    AlreadyRecorded,
}

/// The append-only decision log table (key `imageId` + `eventKey`); the role may only PutItem.
#[async_trait]
pub trait DecisionLog: Send + Sync {
    /// PutItem with the condition `attribute_not_exists(imageId) AND
    /// attribute_not_exists(eventKey)`.
    ///
    /// # Errors
    /// [`TableError`], classified.
    async fn put_event(&self, event: &DecisionEvent) -> Result<DecisionLogOutcome, TableError>;
}

/// An alert publication failure.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PublishError {
    /// Throttling, 5xx, timeouts after the SDK's retries.
    #[error("{code}: {message}")]
    Retryable {
        /// The error code.
        code: String,
        /// The service's message.
        message: String,
    },
    /// Anything else (authorization, a missing topic, KMS access).
    #[error("{code}: {message}")]
    Other {
        /// The error code.
        code: String,
        /// The service's message.
        message: String,
    },
}

/// The alert topic (SNS Publish, <https://docs.aws.amazon.com/sns/latest/api/API_Publish.html>).
#[async_trait]
pub trait AlertTopic: Send + Sync {
    /// Publishes a message; returns the SNS message ID.
    ///
    /// # Errors
    /// [`PublishError`], classified.
    async fn publish(&self, subject: &str, message: &str) -> Result<String, PublishError>;
}

/// The time source (UTC).
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
