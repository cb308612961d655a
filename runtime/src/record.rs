//! The result record: one item per image in the results table, and the seed's JSON file.
//!
//! Field names are DESIGN.md's (camelCase, plus `expires_at`, the table's TTL attribute).
//! Times are ISO 8601 UTC with second precision (`2026-11-21T06:00:00Z`); `processedAt` is the
//! sort key of the `ByProcessedAt` index, so these strings sort by time. Confidences and
//! similarities are percentages 0–100 as Rekognition returns them; bounding boxes are ratios of
//! the image's width and height
//! (<https://docs.aws.amazon.com/rekognition/latest/APIReference/API_BoundingBox.html>).
//!
//! The item is written with `serde_dynamo`, so numbers are DynamoDB Numbers (`N`), lists are
//! `L`, objects are `M`, and absent optional fields are not written
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html>).

use std::collections::HashMap;
use std::path::Path;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A DynamoDB item as the AWS SDK takes it.
pub type Item = HashMap<String, AttributeValue>;

/// A record that does not convert.
#[derive(Debug, Error)]
pub enum RecordError {
    /// serde_dynamo rejected the value (to or from an item).
    #[error("DynamoDB item conversion: {0}")]
    Item(#[from] serde_dynamo::Error),
    /// serde_json rejected the value.
    #[error("JSON conversion: {0}")]
    Json(#[from] serde_json::Error),
}

/// The outcome of one image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Analysed by Rekognition.
    Processed,
    /// Not an image Rekognition accepts (size, format, dimensions, or Rekognition said so);
    /// `reason` says why.
    Rejected,
    /// Could not be processed for a reason retrying does not fix (e.g. the object is gone);
    /// `reason` holds the error code.
    Failed,
}

impl Status {
    /// `PROCESSED`, `REJECTED` or `FAILED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Processed => "PROCESSED",
            Status::Rejected => "REJECTED",
            Status::Failed => "FAILED",
        }
    }
}

/// The face decision (seed 004).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Decision {
    /// A face in the image matches the reference at or above the similarity threshold.
    Authorized,
    /// The image has faces and none matches the reference at the threshold.
    Unauthorized,
}

impl Decision {
    /// `AUTHORIZED` or `UNAUTHORIZED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Authorized => "AUTHORIZED",
            Decision::Unauthorized => "UNAUTHORIZED",
        }
    }
}

/// A DetectLabels label.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Label {
    /// e.g. `Knife`.
    pub name: String,
    /// Percent 0–100.
    pub confidence: f32,
    /// Names of the label's ancestors in Rekognition's taxonomy, e.g. `["Weapon"]`.
    #[serde(default)]
    pub parents: Vec<String>,
    /// Where the label's objects are (DetectLabels `Instances`), for labels of common objects;
    /// empty (and not written) otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instances: Vec<LabelInstance>,
}

/// One object of a label (DetectLabels `Instance`,
/// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_Instance.html>).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelInstance {
    /// Percent 0–100.
    pub confidence: f32,
    /// Where it is.
    pub bounding_box: BoundingBox,
}

/// A DetectText line (`Type` LINE,
/// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_TextDetection.html>).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextLine {
    /// The detected text of the line.
    pub text: String,
    /// Percent 0–100.
    pub confidence: f32,
    /// Where it is (`Geometry.BoundingBox`); absent when Rekognition gave no geometry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounding_box: Option<BoundingBox>,
}

/// A DetectModerationLabels label.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModerationLabel {
    /// e.g. `Weapon Violence`.
    pub name: String,
    /// Percent 0–100.
    pub confidence: f32,
    /// The parent category; absent for top-level categories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_name: Option<String>,
}

/// Where a face, text line or object is, as ratios (0–1) of the image's width and height.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BoundingBox {
    /// Box width / image width.
    pub width: f32,
    /// Box height / image height.
    pub height: f32,
    /// Left edge / image width.
    pub left: f32,
    /// Top edge / image height.
    pub top: f32,
}

/// A DetectFaces face
/// (<https://docs.aws.amazon.com/rekognition/latest/APIReference/API_FaceDetail.html>).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Face {
    /// Confidence that this is a face, percent 0–100.
    pub confidence: f32,
    /// Where it is.
    pub bounding_box: BoundingBox,
    /// The face's landmarks as DetectFaces gave them (eyes, nose, mouth corners, …); absent
    /// when it gave none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub landmarks: Vec<Landmark>,
}

/// A facial landmark
/// (<https://docs.aws.amazon.com/rekognition/latest/APIReference/API_Landmark.html>): its type
/// as Rekognition names it (`eyeLeft`, `eyeRight`, `nose`, `mouthLeft`, `mouthRight`, …) and its
/// position as ratios (0–1) of the image's width (`x`) and height (`y`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Landmark {
    /// `Type`, e.g. `eyeLeft`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `X`: distance from the image's left edge / image width.
    pub x: f32,
    /// `Y`: distance from the image's top edge / image height.
    pub y: f32,
}

/// The record's `faces`: `{"count": 2, "details": [{"confidence": …, "boundingBox": {…},
/// "landmarks": [{"type": "eyeLeft", "x": …, "y": …}, …]}]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Faces {
    /// Number of faces detected.
    pub count: u32,
    /// Each face.
    pub details: Vec<Face>,
}

impl Faces {
    /// The `faces` value for a DetectFaces result.
    pub fn new(details: Vec<Face>) -> Self {
        Faces {
            count: u32::try_from(details.len()).unwrap_or(u32::MAX),
            details,
        }
    }
}

/// A label name with its confidence (percent 0–100).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelScore {
    /// Label name.
    pub name: String,
    /// Percent 0–100.
    pub confidence: f32,
}

/// The model version each analysis reported: `LabelModelVersion`, `TextModelVersion`,
/// `ModerationModelVersion` of the responses
/// (<https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectLabels.html>).
/// On AWS a version number such as `3.0`; on argus-twin the name of the model that answered
/// (`efficientnet-lite0+mtcnn`, `pp-ocrv4`, `open_nsfw`) or `fixture`. DetectFaces and
/// CompareFaces report no model version in Rekognition's API, so faces have none here.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelVersions {
    /// `LabelModelVersion` of DetectLabels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<String>,
    /// `TextModelVersion` of DetectText.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `ModerationModelVersion` of DetectModerationLabels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderation: Option<String>,
}

impl ModelVersions {
    /// Whether no analysis reported a version.
    pub fn is_empty(&self) -> bool {
        self.labels.is_none() && self.text.is_none() && self.moderation.is_none()
    }
}

/// Where an alert is in its delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlertState {
    /// Recorded, not yet published (or the publication is not confirmed).
    Pending,
    /// Published to the alert topic.
    Sent,
}

/// The record's `alert`: an object, present only when the weapon policy fired (absent means no
/// alert). Shape: `{"state": "PENDING"|"SENT", "labels": [{"name", "confidence"}],
/// "detectedAt": ISO 8601, "messageId": SNS message ID, "sentAt": ISO 8601}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertRecord {
    /// Delivery state.
    pub state: AlertState,
    /// The labels that matched the alert set, highest confidence first.
    pub labels: Vec<LabelScore>,
    /// When the labels were detected.
    #[serde(with = "iso8601")]
    pub detected_at: DateTime<Utc>,
    /// The SNS message ID, once sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// When it was published.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "iso8601_opt")]
    pub sent_at: Option<DateTime<Utc>>,
}

/// One image's result: the results table item (key `imageId`) and the seed's JSON file body.
///
/// Analysis fields are absent when the analysis did not run (disabled, or the image was
/// rejected), and present but empty when it ran and found nothing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageRecord {
    /// See [`image_id`].
    pub image_id: String,
    /// Input bucket.
    pub bucket: String,
    /// Object key, decoded.
    pub object_key: String,
    /// Object version, in versioned buckets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// SHA-256 of the object bytes, lowercase hex (absent when the object was not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Object size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// MIME type from the magic bytes (`image/jpeg`, `image/png`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Width in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Stage name (partition key of the `ByProcessedAt` index).
    pub stage: String,
    /// When the result was recorded, ISO 8601 UTC (sort key of `ByProcessedAt`).
    #[serde(with = "iso8601")]
    pub processed_at: DateTime<Utc>,
    /// PROCESSED, REJECTED or FAILED.
    pub status: Status,
    /// DetectLabels labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Label>>,
    /// DetectText lines joined with `\n`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_text: Option<String>,
    /// DetectText lines with their boxes, in Rekognition's order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_lines: Option<Vec<TextLine>>,
    /// Number of DetectText lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_line_count: Option<u32>,
    /// Mean confidence of the lines, percent 0–100 (absent when there are no lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_avg_confidence_pct: Option<f32>,
    /// DetectFaces faces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faces: Option<Faces>,
    /// DetectModerationLabels labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderation_labels: Option<Vec<ModerationLabel>>,
    /// Best CompareFaces similarity against the reference, percent (absent when not compared
    /// or no face matched at all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_similarity: Option<f32>,
    /// The model versions Rekognition reported for the analyses (absent when none reported one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_versions: Option<ModelVersions>,
    /// The weapon alert, when the policy fired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<AlertRecord>,
    /// The face decision, when a reference is configured and the image has faces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// For REJECTED and FAILED: the reason or the error code (`InvalidImageFormatException: …`).
    /// For PROCESSED, set only when the face decision could not be made (CompareFaces rejected
    /// the reference or the image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// DynamoDB TTL: epoch seconds (Number) = `processedAt` + TTL hours × 3600.
    #[serde(rename = "expires_at")]
    pub expires_at: i64,
}

impl ImageRecord {
    /// A record with the identity fields set and no analysis: `processed_at` and
    /// `expires_at = processed_at + ttl_hours × 3600`.
    pub fn new(
        image_id: impl Into<String>,
        bucket: impl Into<String>,
        object_key: impl Into<String>,
        stage: impl Into<String>,
        status: Status,
        processed_at: DateTime<Utc>,
        ttl_hours: u32,
    ) -> Self {
        ImageRecord {
            image_id: image_id.into(),
            bucket: bucket.into(),
            object_key: object_key.into(),
            version_id: None,
            sha256: None,
            size_bytes: None,
            content_type: None,
            width: None,
            height: None,
            stage: stage.into(),
            processed_at,
            status,
            labels: None,
            ocr_text: None,
            text_lines: None,
            ocr_line_count: None,
            ocr_avg_confidence_pct: None,
            faces: None,
            moderation_labels: None,
            face_similarity: None,
            model_versions: None,
            alert: None,
            decision: None,
            reason: None,
            expires_at: expires_at(processed_at, ttl_hours),
        }
    }

    /// Sets the OCR fields from DetectText lines `(text, confidence)`: the text joined with
    /// `\n`, the line count and the mean confidence rounded to 2 decimals (absent for no lines).
    pub fn set_text<'a>(&mut self, lines: impl IntoIterator<Item = (&'a str, f32)>) {
        let (texts, confidences): (Vec<&str>, Vec<f32>) = lines.into_iter().unzip();
        self.ocr_text = Some(texts.join("\n"));
        self.ocr_line_count = Some(u32::try_from(texts.len()).unwrap_or(u32::MAX));
        self.ocr_avg_confidence_pct = (!confidences.is_empty()).then(|| {
            let mean =
                confidences.iter().map(|c| f64::from(*c)).sum::<f64>() / confidences.len() as f64;
            ((mean * 100.0).round() / 100.0) as f32
        });
    }

    /// Copies what [`crate::inspect::inspect`] found: `sha256`, `sizeBytes`, `contentType`
    /// (from the magic bytes), `width` and `height`.
    pub fn set_inspection(&mut self, inspection: &crate::inspect::Inspection) {
        self.sha256 = Some(inspection.sha256.clone());
        self.size_bytes = Some(inspection.size_bytes);
        self.content_type = Some(inspection.content_type.to_owned());
        self.width = Some(inspection.width);
        self.height = Some(inspection.height);
    }

    /// The DynamoDB item.
    ///
    /// # Errors
    /// [`RecordError::Item`] when serde_dynamo rejects a value (not expected for this type).
    pub fn to_item(&self) -> Result<Item, RecordError> {
        Ok(serde_dynamo::aws_sdk_dynamodb_1::to_item(self)?)
    }

    /// Reads a record back from an item (unknown attributes, such as the claim's, are ignored).
    ///
    /// # Errors
    /// [`RecordError::Item`] when a required attribute is missing or has another type.
    pub fn from_item(item: Item) -> Result<Self, RecordError> {
        Ok(serde_dynamo::aws_sdk_dynamodb_1::from_item(item)?)
    }

    /// The seed's JSON file body: the record as pretty-printed JSON (same field names as the item).
    ///
    /// # Errors
    /// [`RecordError::Json`] (not expected for this type).
    pub fn to_pretty_json(&self) -> Result<String, RecordError> {
        Ok(serde_json::to_string_pretty(self)?)
    }
}

/// The image ID: the first 32 hex characters (128 bits) of the SHA-256 of
/// `"{bucket}\n{key}\n{version}"`, where `version` is the S3 version ID, or when the bucket is
/// unversioned the ETag without quotes, or the empty string when neither is known.
///
/// The same upload (and any duplicate delivery of its notification) always gives the same ID,
/// so it keys the claim; a new upload of the same key is a new version and a new image.
pub fn image_id(bucket: &str, key: &str, version_id: Option<&str>, e_tag: Option<&str>) -> String {
    let version = version_id
        .filter(|v| !v.is_empty())
        .or(e_tag.map(|e| e.trim_matches('"')))
        .unwrap_or("");
    let mut hex = crate::inspect::sha256_hex(format!("{bucket}\n{key}\n{version}").as_bytes());
    hex.truncate(32);
    hex
}

/// ISO 8601 UTC with second precision: `2026-11-21T06:00:00Z`.
pub fn iso8601_string(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The TTL value: epoch seconds of `processed_at + ttl_hours × 3600`.
pub fn expires_at(processed_at: DateTime<Utc>, ttl_hours: u32) -> i64 {
    processed_at.timestamp() + i64::from(ttl_hours) * 3600
}

/// The seed file name `<image>_labels_<YYYYMMDD_HHMMSS>.json` (UTC), where `<image>` is
/// `image_name` without its directory and extension: `file_name("incoming/cat.jpg", t)` →
/// `cat_labels_20261121_060000.json`.
pub fn file_name(image_name: &str, processed_at: DateTime<Utc>) -> String {
    let base = image_name.rsplit('/').next().unwrap_or(image_name);
    let stem = Path::new(base)
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .unwrap_or(base);
    format!(
        "{stem}_labels_{}.json",
        processed_at.format("%Y%m%d_%H%M%S")
    )
}

/// serde for `DateTime<Utc>` as ISO 8601 UTC strings with second precision.
mod iso8601 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::iso8601_string(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

/// As [`iso8601`], for optional fields.
mod iso8601_opt {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::iso8601::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| {
                DateTime::parse_from_rfc3339(&s)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 6, 0, 0).unwrap()
    }

    fn processed() -> ImageRecord {
        let mut r = ImageRecord::new(
            image_id("argus-beta-input", "incoming/knife.png", Some("v1"), None),
            "argus-beta-input",
            "incoming/knife.png",
            "beta",
            Status::Processed,
            at(),
            168,
        );
        r.version_id = Some("v1".into());
        r.sha256 = Some("ab".repeat(32));
        r.size_bytes = Some(12345);
        r.content_type = Some("image/png".into());
        r.width = Some(640);
        r.height = Some(480);
        r.labels = Some(vec![Label {
            name: "Knife".into(),
            confidence: 97.5,
            parents: vec!["Weapon".into()],
            instances: vec![],
        }]);
        r.set_text([("HELLO", 99.0), ("WORLD", 98.0)]);
        r.faces = Some(Faces::new(vec![Face {
            confidence: 99.9,
            bounding_box: BoundingBox {
                width: 0.25,
                height: 0.5,
                left: 0.125,
                top: 0.0625,
            },
            landmarks: vec![],
        }]));
        r.moderation_labels = Some(vec![ModerationLabel {
            name: "Weapon Violence".into(),
            confidence: 88.0,
            parent_name: Some("Violence".into()),
        }]);
        r.face_similarity = Some(95.5);
        r.decision = Some(Decision::Authorized);
        r.alert = Some(AlertRecord {
            state: AlertState::Sent,
            labels: vec![LabelScore {
                name: "Knife".into(),
                confidence: 97.5,
            }],
            detected_at: at(),
            message_id: Some("m-1".into()),
            sent_at: Some(at()),
        });
        r
    }

    #[test]
    fn fields_have_the_design_names() {
        let v = serde_json::to_value(processed()).unwrap();
        for field in [
            "imageId",
            "bucket",
            "objectKey",
            "versionId",
            "sha256",
            "sizeBytes",
            "contentType",
            "stage",
            "processedAt",
            "status",
            "labels",
            "ocrText",
            "ocrLineCount",
            "ocrAvgConfidencePct",
            "faces",
            "moderationLabels",
            "alert",
            "decision",
            "expires_at",
        ] {
            assert!(v.get(field).is_some(), "{field} missing in {v}");
        }
        assert_eq!(v["status"], "PROCESSED");
        assert_eq!(v["decision"], "AUTHORIZED");
        assert_eq!(v["processedAt"], "2026-11-21T06:00:00Z");
        assert_eq!(
            v["labels"],
            json!([{"name": "Knife", "confidence": 97.5, "parents": ["Weapon"]}])
        );
        assert_eq!(v["moderationLabels"][0]["parentName"], json!("Violence"));
        assert_eq!(v["faces"]["count"], 1);
        assert_eq!(v["faces"]["details"][0]["boundingBox"]["left"], 0.125);
        assert_eq!(v["ocrText"], "HELLO\nWORLD");
        assert_eq!(v["ocrLineCount"], 2);
        assert_eq!(v["ocrAvgConfidencePct"], 98.5);
        assert_eq!(v["alert"]["state"], "SENT");
        assert_eq!(v["alert"]["detectedAt"], "2026-11-21T06:00:00Z");
        assert!(v.get("reason").is_none());
    }

    #[test]
    fn rejected_records_have_a_reason_and_no_analysis_fields() {
        let mut r = ImageRecord::new(
            "id",
            "b",
            "incoming/x.gif",
            "beta",
            Status::Rejected,
            at(),
            1,
        );
        r.reason = Some("unsupported format gif".into());
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["status"], "REJECTED");
        assert_eq!(v["reason"], "unsupported format gif");
        for absent in [
            "labels",
            "ocrText",
            "faces",
            "moderationLabels",
            "alert",
            "decision",
        ] {
            assert!(v.get(absent).is_none(), "{absent}");
        }
    }

    #[test]
    fn expires_at_is_processed_at_plus_ttl_hours_in_epoch_seconds() {
        assert_eq!(at().timestamp(), 1_795_240_800);
        assert_eq!(expires_at(at(), 168), 1_795_240_800 + 168 * 3600);
        assert_eq!(processed().expires_at, 1_795_845_600);
    }

    #[test]
    fn text_without_lines_has_no_average() {
        let mut r = processed();
        r.set_text([]);
        assert_eq!(r.ocr_text.as_deref(), Some(""));
        assert_eq!(r.ocr_line_count, Some(0));
        assert_eq!(r.ocr_avg_confidence_pct, None);
    }

    #[test]
    fn the_item_round_trips_and_numbers_are_dynamodb_numbers() {
        let r = processed();
        let item = r.to_item().unwrap();
        assert_eq!(item["expires_at"], AttributeValue::N("1795845600".into()));
        assert_eq!(item["sizeBytes"], AttributeValue::N("12345".into()));
        assert_eq!(item["ocrLineCount"], AttributeValue::N("2".into()));
        assert_eq!(item["imageId"], AttributeValue::S(r.image_id.clone()));
        assert_eq!(item["status"], AttributeValue::S("PROCESSED".into()));
        assert_eq!(
            item["processedAt"],
            AttributeValue::S("2026-11-21T06:00:00Z".into())
        );
        let AttributeValue::L(labels) = &item["labels"] else {
            panic!("labels is not a list: {:?}", item["labels"])
        };
        let AttributeValue::M(label) = &labels[0] else {
            panic!("a label is not a map")
        };
        assert_eq!(label["confidence"], AttributeValue::N("97.5".into()));
        assert!(!item.contains_key("reason"));
        assert_eq!(ImageRecord::from_item(item).unwrap(), r);
    }

    #[test]
    fn items_with_extra_attributes_still_read() {
        let mut item = processed().to_item().unwrap();
        item.insert("claimToken".into(), AttributeValue::S("t".into()));
        item.insert("claimExpiresAt".into(), AttributeValue::N("1".into()));
        assert_eq!(ImageRecord::from_item(item).unwrap(), processed());
    }

    #[test]
    fn image_ids_are_deterministic_and_distinguish_versions() {
        let a = image_id("b", "incoming/a.jpg", Some("v1"), Some("\"e\""));
        assert_eq!(a.len(), 32);
        assert_eq!(a, image_id("b", "incoming/a.jpg", Some("v1"), None));
        assert_ne!(a, image_id("b", "incoming/a.jpg", Some("v2"), None));
        assert_ne!(a, image_id("c", "incoming/a.jpg", Some("v1"), None));
        assert_eq!(
            image_id("b", "k", None, Some("\"etag\"")),
            image_id("b", "k", Some(""), Some("etag"))
        );
        assert_eq!(
            a,
            crate::inspect::sha256_hex(b"b\nincoming/a.jpg\nv1")[..32]
        );
    }

    #[test]
    fn seed_file_names_use_the_image_stem_and_utc_time() {
        assert_eq!(
            file_name("incoming/cat photo.jpg", at()),
            "cat photo_labels_20261121_060000.json"
        );
        assert_eq!(file_name("dog", at()), "dog_labels_20261121_060000.json");
        let body = processed().to_pretty_json().unwrap();
        assert!(body.contains("\n  \"imageId\""));
        let back: ImageRecord = serde_json::from_str(&body).unwrap();
        assert_eq!(back, processed());
    }
}
