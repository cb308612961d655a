//! The analyses of one image: the stage's Rekognition calls and the policies, shared by the
//! processor (after its claim and inspection) and `argus analyze` (directly, no claim, no SQS).
//!
//! [`analyze_image`] is the public entry point. The processor uses the two halves, [`run`] and
//! [`apply`], so that its own identity fields (the image ID from the ETag of an unversioned
//! object), the decision event and the alert stay where they are.
//!
//! What runs, for an image passed as an S3Object
//! (<https://docs.aws.amazon.com/rekognition/latest/APIReference/API_S3Object.html>):
//!
//! 1. the enabled analyses ([`Settings::features`]) concurrently: DetectLabels (MaxLabels,
//!    MinConfidence), DetectText, DetectFaces, DetectModerationLabels (MinConfidence);
//! 2. CompareFaces of the reference against the image when a reference is configured and the
//!    image has faces (or DetectFaces is disabled);
//! 3. the policies ([`crate::policy`]): the weapon alert over labels and moderation labels, and
//!    the face decision over the comparison.

use chrono::{DateTime, Utc};
use futures_util::future::OptionFuture;
use thiserror::Error;

use crate::inspect::Inspection;
use crate::policy;
use crate::processor::timed;
use crate::record::{
    self, AlertRecord, AlertState, Face, Faces, ImageRecord, Label, ModelVersions, ModerationLabel,
    Status,
};
use crate::services::{
    Clock, Detected, FaceComparison, Rekognition, RekognitionError, S3Object, TextLine,
};
use crate::settings::{Feature, Settings};

/// Why the analyses of an image did not complete.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum AnalyzeError {
    /// Rekognition refused the image, which retrying does not fix: `InvalidImageFormatException`,
    /// `ImageTooLargeException` and `InvalidParameterException` give [`Status::Rejected`],
    /// `InvalidS3ObjectException` (the object is not readable) gives [`Status::Failed`]. The
    /// processor records `status` with `reason` (`<error code>: <message>`).
    #[error("{reason}")]
    Unusable {
        /// REJECTED or FAILED.
        status: Status,
        /// `<error code>: <message>` of the first refusal.
        reason: String,
    },
    /// A failure a retry may fix (throttling, 5xx, timeouts after the SDK's retries) or that
    /// needs an operator (e.g. `AccessDeniedException`): the first such error.
    #[error("Rekognition: {error}")]
    Retryable {
        /// The error.
        error: RekognitionError,
        /// How many of the failed calls were throttled (the `RekognitionThrottles` metric).
        throttles: u64,
    },
}

impl AnalyzeError {
    /// Throttled calls among the failures (0 for [`AnalyzeError::Unusable`]).
    pub fn throttles(&self) -> u64 {
        match self {
            AnalyzeError::Unusable { .. } => 0,
            AnalyzeError::Retryable { throttles, .. } => *throttles,
        }
    }
}

/// What the Rekognition calls of one image returned; `None` for an analysis that did not run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Analysis {
    /// DetectLabels.
    pub labels: Option<Vec<Label>>,
    /// DetectText lines.
    pub text: Option<Vec<TextLine>>,
    /// DetectFaces.
    pub faces: Option<Vec<Face>>,
    /// DetectModerationLabels.
    pub moderation: Option<Vec<ModerationLabel>>,
    /// CompareFaces against the reference.
    pub comparison: Option<FaceComparison>,
    /// CompareFaces refused the reference or the image (`CompareFaces: <code>: <message>`): the
    /// analysis stands, without a face decision.
    pub comparison_error: Option<String>,
    /// The model versions DetectLabels, DetectText and DetectModerationLabels reported.
    pub model_versions: ModelVersions,
}

/// Runs the analyses `settings` enables on `image`, then CompareFaces when a reference is
/// configured and the image has faces. Each call is logged with its duration.
///
/// # Errors
/// [`AnalyzeError::Retryable`] when any call failed retryably (all calls are awaited first, so
/// every throttle is counted); otherwise [`AnalyzeError::Unusable`] for the first refusal. A
/// CompareFaces refusal (`InvalidImage…`) is not an error: it is kept in
/// [`Analysis::comparison_error`].
pub async fn run(
    rekognition: &dyn Rekognition,
    settings: &Settings,
    image: &S3Object,
) -> Result<Analysis, AnalyzeError> {
    let s = settings;
    // Each enabled analysis is one call; the enabled ones run concurrently.
    let labels: OptionFuture<_> = s
        .enabled(Feature::Labels)
        .then(|| {
            timed(
                "DetectLabels",
                rekognition.detect_labels(image, s.max_labels, s.min_confidence),
            )
        })
        .into();
    let text: OptionFuture<_> = s
        .enabled(Feature::Text)
        .then(|| timed("DetectText", rekognition.detect_text(image)))
        .into();
    let faces: OptionFuture<_> = s
        .enabled(Feature::Faces)
        .then(|| timed("DetectFaces", rekognition.detect_faces(image)))
        .into();
    let moderation: OptionFuture<_> = s
        .enabled(Feature::Moderation)
        .then(|| {
            timed(
                "DetectModerationLabels",
                rekognition.detect_moderation_labels(image, s.min_confidence),
            )
        })
        .into();
    let (labels, text, faces, moderation) = futures_util::join!(labels, text, faces, moderation);
    let mut errors: Vec<RekognitionError> = Vec::new();
    let mut versions = ModelVersions::default();
    let mut analysis = Analysis {
        labels: take(labels, &mut errors).map(|d| detected(d, &mut versions.labels)),
        text: take(text, &mut errors).map(|d| detected(d, &mut versions.text)),
        faces: take(faces, &mut errors),
        moderation: take(moderation, &mut errors).map(|d| detected(d, &mut versions.moderation)),
        ..Analysis::default()
    };
    analysis.model_versions = versions;
    if !errors.is_empty() {
        return Err(stop(errors));
    }
    let has_faces = analysis.faces.as_ref().is_none_or(|f| !f.is_empty());
    if let (Some(reference), true) = (&s.face_reference, has_faces) {
        let source = S3Object {
            bucket: reference.bucket.clone(),
            key: reference.key.clone(),
            version_id: None,
        };
        match timed("CompareFaces", rekognition.compare_faces(&source, image)).await {
            Ok(comparison) => analysis.comparison = Some(comparison),
            // The reference (or the comparison) is unusable: the image's own analysis still
            // stands, with no decision.
            Err(RekognitionError::InvalidImage { code, message }) => {
                tracing::error!(code = %code, message = %message, "CompareFaces rejected the images; no face decision");
                analysis.comparison_error =
                    Some(format!("CompareFaces: {}", join_reason(&code, &message)));
            }
            Err(e) => return Err(stop(vec![e])),
        }
    }
    Ok(analysis)
}

/// Fills a PROCESSED record from an analysis, as of `processed_at`: `processedAt` and
/// `expires_at`, labels, OCR fields, faces, moderation labels, the CompareFaces similarity and
/// face decision (when a reference is configured), the weapon alert (state PENDING, detected at
/// `processed_at`) and `reason` (a CompareFaces refusal). Returns the comparison, which the
/// processor's decision event needs.
pub fn apply(
    record: &mut ImageRecord,
    analysis: Analysis,
    settings: &Settings,
    processed_at: DateTime<Utc>,
) -> Option<FaceComparison> {
    record.processed_at = processed_at;
    record.expires_at = record::expires_at(processed_at, settings.ttl_hours);
    if let Some(lines) = &analysis.text {
        record.set_text(lines.iter().map(|l| (l.text.as_str(), l.confidence)));
        record.text_lines = Some(lines.clone());
    }
    record.faces = analysis.faces.map(Faces::new);
    let alert = policy::weapon_alert(
        analysis.labels.as_deref().unwrap_or_default(),
        analysis.moderation.as_deref().unwrap_or_default(),
        &settings.alert_labels,
        settings.alert_threshold,
    );
    record.labels = analysis.labels;
    record.moderation_labels = analysis.moderation;
    record.model_versions =
        (!analysis.model_versions.is_empty()).then_some(analysis.model_versions);
    record.reason = analysis.comparison_error;
    if let (Some(comparison), Some(reference)) = (analysis.comparison, &settings.face_reference) {
        record.face_similarity = comparison.best_similarity;
        record.decision = policy::face_decision(
            comparison.faces_in_target,
            comparison.best_similarity,
            reference.similarity_threshold,
        );
    }
    record.alert = alert.map(|a| AlertRecord {
        state: AlertState::Pending,
        labels: a.matched,
        detected_at: processed_at,
        message_id: None,
        sent_at: None,
    });
    analysis.comparison
}

/// Analyses one image that passed [`crate::inspect::inspect`] and returns its PROCESSED record,
/// without claiming it, writing anything or publishing: what `argus analyze` runs.
///
/// - `image`: the object as Rekognition reads it; pass its `version_id` to pin the analyses to
///   the version that was inspected.
/// - `inspection`: the object's SHA-256, size, content type and dimensions (copied into the
///   record).
/// - `clock`: `processedAt` is its time when the analyses finish; `expires_at` is that plus
///   [`Settings::ttl_hours`].
///
/// The record's `imageId` is [`record::image_id`] of the bucket, key and version (no ETag: for an
/// unversioned bucket the processor, which has the ETag, derives another ID). `stage` is
/// [`Settings::stage`]. An alert, when the policy fires, is in state PENDING: nothing is sent.
///
/// # Errors
/// [`AnalyzeError`], as [`run`].
pub async fn analyze_image(
    rekognition: &dyn Rekognition,
    settings: &Settings,
    image: &S3Object,
    inspection: &Inspection,
    clock: &dyn Clock,
) -> Result<ImageRecord, AnalyzeError> {
    let mut record = ImageRecord::new(
        record::image_id(&image.bucket, &image.key, image.version_id.as_deref(), None),
        &image.bucket,
        &image.key,
        &settings.stage,
        Status::Processed,
        clock.now(),
        settings.ttl_hours,
    );
    record.version_id.clone_from(&image.version_id);
    record.set_inspection(inspection);
    let analysis = run(rekognition, settings, image).await?;
    apply(&mut record, analysis, settings, clock.now());
    Ok(record)
}

/// The error for failed Rekognition calls: retryable when any failure is retryable (counting
/// the throttles), else the refusal of the first.
fn stop(errors: Vec<RekognitionError>) -> AnalyzeError {
    let throttles = errors
        .iter()
        .filter(|e| matches!(e, RekognitionError::Throttled { .. }))
        .count() as u64;
    if let Some(retryable) = errors
        .iter()
        .find(|e| !matches!(e, RekognitionError::InvalidImage { .. }))
    {
        return AnalyzeError::Retryable {
            error: retryable.clone(),
            throttles,
        };
    }
    match errors.into_iter().next() {
        Some(RekognitionError::InvalidImage { code, message }) => {
            let status = if code == "InvalidS3ObjectException" {
                Status::Failed
            } else {
                Status::Rejected
            };
            AnalyzeError::Unusable {
                status,
                reason: join_reason(&code, &message),
            }
        }
        Some(other) => AnalyzeError::Retryable {
            error: other,
            throttles,
        },
        None => AnalyzeError::Retryable {
            error: RekognitionError::Other {
                code: "NoResult".into(),
                message: "no result".into(),
            },
            throttles,
        },
    }
}

/// The value of an analysis that ran and succeeded; a failure goes to `errors`.
fn take<T>(
    result: Option<Result<T, RekognitionError>>,
    errors: &mut Vec<RekognitionError>,
) -> Option<T> {
    match result? {
        Ok(value) => Some(value),
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

/// The detections of a call, its model version kept in `version`.
fn detected<T>(d: Detected<T>, version: &mut Option<String>) -> T {
    *version = d.model_version;
    d.found
}

/// `<code>: <message>`, or the code alone when the message is empty.
pub(crate) fn join_reason(code: &str, message: &str) -> String {
    if message.is_empty() {
        code.to_owned()
    } else {
        format!("{code}: {message}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use chrono::TimeZone;

    use crate::inspect::{inspect, samples};
    use crate::record::{Decision, LabelScore};
    use crate::settings::FaceReference;

    struct Fixed;

    impl Clock for Fixed {
        fn now(&self) -> DateTime<Utc> {
            Utc.with_ymd_and_hms(2026, 11, 21, 6, 0, 0).unwrap()
        }
    }

    /// Answers every call; DetectText fails with `text_error` when set.
    struct Canned {
        text_error: Option<RekognitionError>,
    }

    #[async_trait]
    impl Rekognition for Canned {
        async fn detect_labels(
            &self,
            _: &S3Object,
            _: u32,
            _: f32,
        ) -> Result<Detected<Vec<Label>>, RekognitionError> {
            Ok(Detected {
                found: vec![Label {
                    name: "Knife".into(),
                    confidence: 93.5,
                    parents: vec!["Weapon".into()],
                    instances: vec![],
                }],
                model_version: Some("efficientnet-lite0+mtcnn".into()),
            })
        }
        async fn detect_text(
            &self,
            _: &S3Object,
        ) -> Result<Detected<Vec<TextLine>>, RekognitionError> {
            match &self.text_error {
                Some(e) => Err(e.clone()),
                None => Ok(vec![
                    TextLine {
                        text: "STOP".into(),
                        confidence: 99.0,
                        bounding_box: None,
                    },
                    TextLine {
                        text: "AHEAD".into(),
                        confidence: 97.0,
                        bounding_box: None,
                    },
                ]
                .into()),
            }
        }
        async fn detect_faces(&self, _: &S3Object) -> Result<Vec<Face>, RekognitionError> {
            Ok(vec![Face {
                confidence: 99.9,
                bounding_box: record::BoundingBox {
                    width: 0.2,
                    height: 0.3,
                    left: 0.1,
                    top: 0.1,
                },
                landmarks: vec![],
            }])
        }
        async fn detect_moderation_labels(
            &self,
            _: &S3Object,
            _: f32,
        ) -> Result<Detected<Vec<ModerationLabel>>, RekognitionError> {
            Ok(Detected {
                found: vec![],
                model_version: Some("open_nsfw".into()),
            })
        }
        async fn compare_faces(
            &self,
            _: &S3Object,
            _: &S3Object,
        ) -> Result<FaceComparison, RekognitionError> {
            Ok(FaceComparison {
                faces_in_target: 1,
                best_similarity: Some(95.0),
            })
        }
    }

    fn settings() -> Settings {
        Settings {
            stage: "beta".into(),
            results_table: "results".into(),
            decision_log_table: "audit".into(),
            alert_topic_arn: "arn:aws:sns:eu-west-1:111111111111:alerts".into(),
            input_bucket: "input".into(),
            input_prefix: "incoming/".into(),
            features: Feature::ALL.to_vec(),
            min_confidence: 70.0,
            max_labels: 20,
            ttl_hours: 24,
            alert_labels: vec!["Knife".into()],
            alert_threshold: 80.0,
            image_concurrency: 1,
            face_reference: Some(FaceReference {
                bucket: "input".into(),
                key: "reference/face.png".into(),
                similarity_threshold: 90.0,
            }),
        }
    }

    fn image() -> S3Object {
        S3Object {
            bucket: "input".into(),
            key: "incoming/a.png".into(),
            version_id: Some("v1".into()),
        }
    }

    #[tokio::test]
    async fn analyze_image_returns_the_processed_record_with_policies() {
        let inspection = inspect(&samples::png(100, 90)).unwrap();
        let record = analyze_image(
            &Canned { text_error: None },
            &settings(),
            &image(),
            &inspection,
            &Fixed,
        )
        .await
        .unwrap();
        assert_eq!(record.status, Status::Processed);
        assert_eq!(
            record.image_id,
            record::image_id("input", "incoming/a.png", Some("v1"), None)
        );
        assert_eq!(record.version_id.as_deref(), Some("v1"));
        assert_eq!(record.sha256.as_deref(), Some(inspection.sha256.as_str()));
        assert_eq!(record.content_type.as_deref(), Some("image/png"));
        assert_eq!((record.width, record.height), (Some(100), Some(90)));
        assert_eq!(record.ocr_text.as_deref(), Some("STOP\nAHEAD"));
        assert_eq!(record.ocr_line_count, Some(2));
        assert_eq!(record.faces.as_ref().map(|f| f.count), Some(1));
        assert_eq!(record.decision, Some(Decision::Authorized));
        assert_eq!(record.face_similarity, Some(95.0));
        let alert = record.alert.unwrap();
        assert_eq!(alert.state, AlertState::Pending);
        assert_eq!(
            alert.labels,
            vec![LabelScore {
                name: "Knife".into(),
                confidence: 93.5
            }]
        );
        assert_eq!(record.stage, "beta");
        assert_eq!(record.expires_at, Fixed.now().timestamp() + 24 * 3600);
        // The versions the responses reported; DetectText reported none.
        assert_eq!(
            record.model_versions,
            Some(ModelVersions {
                labels: Some("efficientnet-lite0+mtcnn".into()),
                text: None,
                moderation: Some("open_nsfw".into()),
            })
        );
    }

    #[tokio::test]
    async fn refusals_and_retryable_failures_are_told_apart() {
        let inspection = inspect(&samples::png(100, 90)).unwrap();
        let refused = Canned {
            text_error: Some(RekognitionError::InvalidImage {
                code: "InvalidImageFormatException".into(),
                message: "bad".into(),
            }),
        };
        let err = analyze_image(&refused, &settings(), &image(), &inspection, &Fixed)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            AnalyzeError::Unusable {
                status: Status::Rejected,
                reason: "InvalidImageFormatException: bad".into()
            }
        );
        assert_eq!(err.throttles(), 0);
        let throttled = Canned {
            text_error: Some(RekognitionError::Throttled {
                code: "ThrottlingException".into(),
                message: "slow down".into(),
            }),
        };
        let err = analyze_image(&throttled, &settings(), &image(), &inspection, &Fixed)
            .await
            .unwrap_err();
        assert!(matches!(err, AnalyzeError::Retryable { throttles: 1, .. }));
        assert!(err.to_string().contains("ThrottlingException"));
    }
}
