//! argus-contract: the names the stacks (`argus-stacks`, which write them into templates) and the
//! Lambda functions (`argus-runtime`, which read them at run time) must agree on. Each name is
//! written once, here, so the two sides cannot drift apart.
//!
//! - [`env`]: the functions' environment variable names;
//! - [`results`]: the results table's key, TTL attribute, listing index and its projection;
//! - [`decision_log`]: the append-only decision log table's keys;
//! - [`record`]: the result record's field names (the seeds' JSON and the DynamoDB item);
//! - [`Feature`]: the Rekognition analyses a stage can enable.
//!
//! No dependency beyond serde: depending on this crate never pulls the AWS SDK or CloudFormation
//! code into either side.

mod feature;

pub use feature::{Feature, UnknownFeature};

/// The environment variable names the pipeline stack sets on the functions.
///
/// Values are strings (Lambda environment); numbers are decimal, lists comma-separated.
pub mod env {
    /// Stage name, e.g. `beta` (both functions).
    pub const STAGE: &str = "ARGUS_STAGE";
    /// Results table name (both functions).
    pub const RESULTS_TABLE: &str = "ARGUS_RESULTS_TABLE";
    /// Decision log table name (processor). The variable keeps its first name (`AUDIT`) so
    /// deployed functions keep their configuration.
    pub const DECISION_LOG_TABLE: &str = "ARGUS_AUDIT_TABLE";
    /// Weapon-alert SNS topic ARN (processor).
    pub const ALERT_TOPIC_ARN: &str = "ARGUS_ALERT_TOPIC_ARN";
    /// Input bucket name (both functions: the api presigns for it, the processor ignores
    /// notifications of any other bucket).
    pub const INPUT_BUCKET: &str = "ARGUS_INPUT_BUCKET";
    /// Key prefix of uploads, e.g. `incoming/` (both functions).
    pub const INPUT_PREFIX: &str = "ARGUS_INPUT_PREFIX";
    /// Enabled analyses, comma-separated [`crate::Feature`] names (processor).
    pub const FEATURES: &str = "ARGUS_FEATURES";
    /// Rekognition MinConfidence, percent 0–100 (processor).
    pub const MIN_CONFIDENCE: &str = "ARGUS_MIN_CONFIDENCE";
    /// Rekognition MaxLabels, at least 1 (processor).
    pub const MAX_LABELS: &str = "ARGUS_MAX_LABELS";
    /// Hours until a result expires (TTL), at least 1 (processor).
    pub const TTL_HOURS: &str = "ARGUS_TTL_HOURS";
    /// Label names that raise an alert, comma-separated (processor).
    pub const ALERT_LABELS: &str = "ARGUS_ALERT_LABELS";
    /// Alert confidence threshold, percent 0–100 (processor).
    pub const ALERT_THRESHOLD: &str = "ARGUS_ALERT_THRESHOLD";
    /// Images of one invocation processed at the same time, at least 1 (processor).
    pub const IMAGE_CONCURRENCY: &str = "ARGUS_IMAGE_CONCURRENCY";
    /// Bucket of the CompareFaces reference image (processor; set with the next two).
    pub const FACE_REFERENCE_BUCKET: &str = "ARGUS_FACE_REFERENCE_BUCKET";
    /// Object key of the CompareFaces reference image (processor).
    pub const FACE_REFERENCE_KEY: &str = "ARGUS_FACE_REFERENCE_KEY";
    /// Similarity, percent 0–100, at or above which a face is AUTHORIZED (processor).
    pub const FACE_SIMILARITY_THRESHOLD: &str = "ARGUS_FACE_SIMILARITY_THRESHOLD";
}

/// The results table: one item per image.
pub mod results {
    /// Partition key (String): the image ID.
    pub const PARTITION_KEY: &str = crate::record::IMAGE_ID;
    /// TTL attribute (Number, epoch seconds).
    pub const TTL_ATTRIBUTE: &str = crate::record::EXPIRES_AT;
    /// The index for listing a stage's images newest first (`GET /images`).
    pub const BY_PROCESSED_AT_INDEX: &str = "ByProcessedAt";
    /// [`BY_PROCESSED_AT_INDEX`]'s partition key (String): the stage.
    pub const BY_PROCESSED_AT_PARTITION_KEY: &str = crate::record::STAGE;
    /// [`BY_PROCESSED_AT_INDEX`]'s sort key (String, ISO 8601 UTC).
    pub const BY_PROCESSED_AT_SORT_KEY: &str = crate::record::PROCESSED_AT;
    /// The non-key attributes projected into [`BY_PROCESSED_AT_INDEX`] (projection `INCLUDE`):
    /// the metadata a listing shows, no OCR text or labels.
    pub const LISTING_ATTRIBUTES: [&str; 8] = [
        crate::record::OBJECT_KEY,
        crate::record::STATUS,
        crate::record::SIZE_BYTES,
        crate::record::CONTENT_TYPE,
        crate::record::SHA256,
        crate::record::ALERT,
        crate::record::DECISION,
        crate::record::EXPIRES_AT,
    ];
}

/// The decision log: an append-only table of the face decisions and alerts (seed 004), written
/// only with `attribute_not_exists`.
pub mod decision_log {
    /// Partition key (String): the image ID.
    pub const PARTITION_KEY: &str = crate::record::IMAGE_ID;
    /// Sort key (String): `<kind>#<timestamp>`.
    pub const SORT_KEY: &str = "eventKey";
}

/// The result record's field names, as the seeds spell them (JSON file and DynamoDB item).
pub mod record {
    /// The image ID (String).
    pub const IMAGE_ID: &str = "imageId";
    /// The input bucket (String).
    pub const BUCKET: &str = "bucket";
    /// The object key (String).
    pub const OBJECT_KEY: &str = "objectKey";
    /// The object version (String, optional).
    pub const VERSION_ID: &str = "versionId";
    /// SHA-256 of the bytes, lower-case hex (String).
    pub const SHA256: &str = "sha256";
    /// Size in bytes (Number).
    pub const SIZE_BYTES: &str = "sizeBytes";
    /// MIME type from the magic bytes (String).
    pub const CONTENT_TYPE: &str = "contentType";
    /// The stage (String).
    pub const STAGE: &str = "stage";
    /// When the record was written, ISO 8601 UTC (String).
    pub const PROCESSED_AT: &str = "processedAt";
    /// `PROCESSED`, `REJECTED`, `FAILED` (String).
    pub const STATUS: &str = "status";
    /// Labels (List of `{name, confidence, parents}`).
    pub const LABELS: &str = "labels";
    /// OCR text (String).
    pub const OCR_TEXT: &str = "ocrText";
    /// OCR line count (Number).
    pub const OCR_LINE_COUNT: &str = "ocrLineCount";
    /// Mean OCR line confidence, percent (Number).
    pub const OCR_AVG_CONFIDENCE_PCT: &str = "ocrAvgConfidencePct";
    /// Faces (List).
    pub const FACES: &str = "faces";
    /// Moderation labels (List).
    pub const MODERATION_LABELS: &str = "moderationLabels";
    /// The model version each analysis reported (Map `{labels, text, moderation}`, optional).
    pub const MODEL_VERSIONS: &str = "modelVersions";
    /// The weapon alert (Map, optional).
    pub const ALERT: &str = "alert";
    /// The face decision (String, optional).
    pub const DECISION: &str = "decision";
    /// TTL, epoch seconds (Number).
    pub const EXPIRES_AT: &str = "expires_at";
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn the_listing_projection_holds_no_key_attribute() {
        for key in [
            super::results::PARTITION_KEY,
            super::results::BY_PROCESSED_AT_PARTITION_KEY,
            super::results::BY_PROCESSED_AT_SORT_KEY,
        ] {
            assert!(!super::results::LISTING_ATTRIBUTES.contains(&key), "{key}");
        }
    }

    #[test]
    fn environment_names_are_distinct_and_prefixed() {
        use super::env::*;
        let all = [
            STAGE,
            RESULTS_TABLE,
            DECISION_LOG_TABLE,
            ALERT_TOPIC_ARN,
            INPUT_BUCKET,
            INPUT_PREFIX,
            FEATURES,
            MIN_CONFIDENCE,
            MAX_LABELS,
            TTL_HOURS,
            ALERT_LABELS,
            ALERT_THRESHOLD,
            IMAGE_CONCURRENCY,
            FACE_REFERENCE_BUCKET,
            FACE_REFERENCE_KEY,
            FACE_SIMILARITY_THRESHOLD,
        ];
        let unique: std::collections::BTreeSet<_> = all.iter().collect();
        assert_eq!(unique.len(), all.len());
        assert!(all.iter().all(|n| n.starts_with("ARGUS_")));
    }
}
