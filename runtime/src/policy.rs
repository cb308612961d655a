//! The policies applied to an analysis: the weapon alert (seed 003) and the face decision
//! (seed 004), and the alert's SNS message.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::record::{self, Decision, Label, LabelScore, ModerationLabel};

/// A weapon alert: the labels that matched the alert set at or above the threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// `(name, confidence)` of each matching label, highest confidence first, one entry per
    /// name (the highest confidence when a name comes from both analyses).
    pub matched: Vec<LabelScore>,
}

/// The weapon policy. A DetectLabels label matches when its name or one of its parents
/// (`Knife` has the parent `Weapon`) is in `alert_labels`; a moderation label matches when its
/// name or its parent name is. Names compare case-insensitively (ASCII), surrounding spaces
/// ignored. A match counts when its confidence is at least `threshold` (percent 0–100).
///
/// Returns `None` when nothing matches (or `alert_labels` is empty).
pub fn weapon_alert(
    labels: &[Label],
    moderation_labels: &[ModerationLabel],
    alert_labels: &[String],
    threshold: f32,
) -> Option<Alert> {
    let in_set = |name: &str| {
        alert_labels
            .iter()
            .any(|a| a.trim().eq_ignore_ascii_case(name.trim()))
    };
    let from_labels = labels
        .iter()
        .filter(|l| in_set(&l.name) || l.parents.iter().any(|p| in_set(p)))
        .map(|l| (&l.name, l.confidence));
    let from_moderation = moderation_labels
        .iter()
        .filter(|m| in_set(&m.name) || m.parent_name.as_deref().is_some_and(in_set))
        .map(|m| (&m.name, m.confidence));
    let mut matched: Vec<LabelScore> = Vec::new();
    for (name, confidence) in from_labels.chain(from_moderation) {
        if confidence < threshold {
            continue;
        }
        match matched
            .iter_mut()
            .find(|m| m.name.eq_ignore_ascii_case(name))
        {
            Some(m) => m.confidence = m.confidence.max(confidence),
            None => matched.push(LabelScore {
                name: name.clone(),
                confidence,
            }),
        }
    }
    matched.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    (!matched.is_empty()).then_some(Alert { matched })
}

/// The face decision from CompareFaces against the reference image.
///
/// - `faces_in_image`: faces Rekognition found in the uploaded image (matched + unmatched);
/// - `best_similarity`: the highest similarity of a face match, percent 0–100 (`None` when no
///   face matched at all);
/// - `threshold`: similarity, percent, at or above which the face is the authorized person.
///
/// No face in the image → `None` (no decision: there is nobody to authorize, and an empty
/// picture is not an intruder). Otherwise AUTHORIZED when the best similarity reaches the
/// threshold, else UNAUTHORIZED.
pub fn face_decision(
    faces_in_image: usize,
    best_similarity: Option<f32>,
    threshold: f32,
) -> Option<Decision> {
    if faces_in_image == 0 {
        return None;
    }
    Some(match best_similarity {
        Some(s) if s >= threshold => Decision::Authorized,
        _ => Decision::Unauthorized,
    })
}

/// Where to find the record without the console.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordLocation {
    /// Results table name.
    pub table: String,
    /// The item's key: `{"imageId": "…"}`.
    pub key: RecordKey,
    /// The AWS CLI command that reads the item.
    pub get_item: String,
}

/// The results table key.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordKey {
    /// The image ID.
    pub image_id: String,
}

/// The alert's SNS message body (JSON):
/// `{"imageId", "stage", "bucket", "objectKey", "versionId"?, "labels": [{"name",
/// "confidence"}], "detectedAt": ISO 8601, "record": {"table", "key": {"imageId"}, "getItem"}}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertMessage {
    /// The image ID.
    pub image_id: String,
    /// Stage name.
    pub stage: String,
    /// Input bucket.
    pub bucket: String,
    /// Object key.
    pub object_key: String,
    /// Object version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// The matching labels, highest confidence first.
    pub labels: Vec<LabelScore>,
    /// When they were detected, ISO 8601 UTC.
    pub detected_at: String,
    /// The result record.
    pub record: RecordLocation,
}

/// A JSON formatter that escapes every character outside printable ASCII as `\uXXXX` (UTF-16
/// code units, surrogate pairs above U+FFFF).
struct AsciiFormatter;

impl serde_json::ser::Formatter for AsciiFormatter {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        for c in fragment.chars() {
            if c.is_ascii() && !c.is_ascii_control() {
                writer.write_all(&[c as u8])?;
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

/// SNS subjects are at most 100 ASCII characters with no control characters
/// (<https://docs.aws.amazon.com/sns/latest/api/API_Publish.html>).
pub const MAX_SUBJECT_CHARS: usize = 100;

impl AlertMessage {
    /// The message for an image's alert.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        image_id: &str,
        stage: &str,
        bucket: &str,
        object_key: &str,
        version_id: Option<&str>,
        labels: &[LabelScore],
        detected_at: DateTime<Utc>,
        table: &str,
    ) -> Self {
        AlertMessage {
            image_id: image_id.to_owned(),
            stage: stage.to_owned(),
            bucket: bucket.to_owned(),
            object_key: object_key.to_owned(),
            version_id: version_id.map(str::to_owned),
            labels: labels.to_vec(),
            detected_at: record::iso8601_string(detected_at),
            record: RecordLocation {
                table: table.to_owned(),
                key: RecordKey {
                    image_id: image_id.to_owned(),
                },
                get_item: format!(
                    "aws dynamodb get-item --table-name {table} --key '{{\"imageId\":{{\"S\":\"{image_id}\"}}}}'"
                ),
            },
        }
    }

    /// The JSON body, ASCII only: every character outside printable ASCII — in an object key,
    /// a right-to-left override or a line separator, say — is written as a `\uXXXX` escape, so
    /// what an e-mail client shows is exactly what is in the key (RFC 8259 section 7 escapes).
    ///
    /// # Errors
    /// [`serde_json::Error`] (not expected for this type).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut out = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, AsciiFormatter);
        self.serialize(&mut serializer)?;
        // The formatter writes only ASCII.
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// The subject line, e.g. `Argus beta: weapon detected (Knife 97%) in incoming/knife.png`:
    /// non-ASCII and control characters become `?`, and it is cut to [`MAX_SUBJECT_CHARS`].
    pub fn subject(&self) -> String {
        let top = self
            .labels
            .first()
            .map(|l| format!(" ({} {:.0}%)", l.name, l.confidence))
            .unwrap_or_default();
        let raw = format!(
            "Argus {}: weapon detected{top} in {}",
            self.stage, self.object_key
        );
        let mut subject: String = raw
            .chars()
            .map(|c| {
                if c.is_ascii() && !c.is_ascii_control() {
                    c
                } else {
                    '?'
                }
            })
            .collect();
        if subject.len() > MAX_SUBJECT_CHARS {
            subject.truncate(MAX_SUBJECT_CHARS - 3);
            subject.push_str("...");
        }
        subject
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn label(name: &str, confidence: f32, parents: &[&str]) -> Label {
        Label {
            name: name.into(),
            confidence,
            parents: parents.iter().map(|p| (*p).to_owned()).collect(),
            instances: vec![],
        }
    }

    fn set() -> Vec<String> {
        ["Weapon", "Gun", "Knife", "Weapon Violence"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn a_knife_over_the_threshold_raises_an_alert() {
        let alert = weapon_alert(&[label("Knife", 93.0, &["Weapon"])], &[], &set(), 80.0).unwrap();
        assert_eq!(
            alert.matched,
            vec![LabelScore {
                name: "Knife".into(),
                confidence: 93.0
            }]
        );
    }

    #[test]
    fn below_the_threshold_nothing_is_raised_and_the_threshold_itself_counts() {
        assert_eq!(
            weapon_alert(&[label("Knife", 79.9, &["Weapon"])], &[], &set(), 80.0),
            None
        );
        assert!(weapon_alert(&[label("Knife", 80.0, &[])], &[], &set(), 80.0).is_some());
    }

    #[test]
    fn names_match_case_insensitively_and_through_parents() {
        let alert = weapon_alert(
            &[
                label("Dagger", 90.0, &["weapon"]),
                label("Cat", 99.0, &["Animal"]),
            ],
            &[],
            &set(),
            80.0,
        )
        .unwrap();
        assert_eq!(alert.matched.len(), 1);
        assert_eq!(alert.matched[0].name, "Dagger");
        assert!(weapon_alert(&[label("KNIFE", 90.0, &[])], &[], &set(), 80.0).is_some());
    }

    #[test]
    fn moderation_labels_match_by_name_or_parent_and_names_are_merged() {
        let moderation = [
            ModerationLabel {
                name: "Weapons".into(),
                confidence: 85.0,
                parent_name: Some("Weapon Violence".into()),
            },
            ModerationLabel {
                name: "Knife".into(),
                confidence: 97.0,
                parent_name: None,
            },
            ModerationLabel {
                name: "Drugs".into(),
                confidence: 99.0,
                parent_name: None,
            },
        ];
        let alert = weapon_alert(&[label("Knife", 91.0, &[])], &moderation, &set(), 80.0).unwrap();
        assert_eq!(
            alert.matched,
            vec![
                LabelScore {
                    name: "Knife".into(),
                    confidence: 97.0
                },
                LabelScore {
                    name: "Weapons".into(),
                    confidence: 85.0
                },
            ]
        );
    }

    #[test]
    fn no_alert_labels_means_no_alert() {
        assert_eq!(
            weapon_alert(&[label("Knife", 99.0, &[])], &[], &[], 0.0),
            None
        );
    }

    #[test]
    fn face_decisions() {
        assert_eq!(face_decision(0, None, 90.0), None);
        assert_eq!(
            face_decision(1, Some(95.0), 90.0),
            Some(Decision::Authorized)
        );
        assert_eq!(
            face_decision(1, Some(90.0), 90.0),
            Some(Decision::Authorized)
        );
        assert_eq!(
            face_decision(2, Some(89.9), 90.0),
            Some(Decision::Unauthorized)
        );
        assert_eq!(face_decision(1, None, 90.0), Some(Decision::Unauthorized));
    }

    #[test]
    fn the_alert_message_is_structured_json_with_a_way_to_the_record() {
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 6, 0, 0).unwrap();
        let m = AlertMessage::new(
            "0123abcd",
            "beta",
            "argus-beta-input",
            "incoming/knife.png",
            Some("v1"),
            &[LabelScore {
                name: "Knife".into(),
                confidence: 97.5,
            }],
            at,
            "argus-beta-Results",
        );
        let v: serde_json::Value = serde_json::from_str(&m.to_json().unwrap()).unwrap();
        assert_eq!(
            v,
            json!({
                "imageId": "0123abcd",
                "stage": "beta",
                "bucket": "argus-beta-input",
                "objectKey": "incoming/knife.png",
                "versionId": "v1",
                "labels": [{"name": "Knife", "confidence": 97.5}],
                "detectedAt": "2026-11-21T06:00:00Z",
                "record": {
                    "table": "argus-beta-Results",
                    "key": {"imageId": "0123abcd"},
                    "getItem": "aws dynamodb get-item --table-name argus-beta-Results --key '{\"imageId\":{\"S\":\"0123abcd\"}}'"
                }
            })
        );
        assert_eq!(
            m.subject(),
            "Argus beta: weapon detected (Knife 98%) in incoming/knife.png"
        );
    }

    #[test]
    fn the_alert_body_escapes_every_character_outside_printable_ascii() {
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 6, 0, 0).unwrap();
        let key = "incoming/cod\u{202E}gnp.exe\u{2028}caf\u{e9} \u{1F52A}.png";
        let m = AlertMessage::new("id", "prod", "b", key, None, &[], at, "t");
        let body = m.to_json().unwrap();
        assert!(body.is_ascii(), "{body}");
        assert!(
            body.contains(r"cod\u202egnp.exe\u2028caf\u00e9 \ud83d\udd2a.png"),
            "{body}"
        );
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["objectKey"], key, "the escapes decode to the key itself");
    }

    #[test]
    fn subjects_are_ascii_and_at_most_100_characters() {
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 6, 0, 0).unwrap();
        let key = format!("incoming/caf\u{e9}\n{}", "x".repeat(200));
        let m = AlertMessage::new("id", "prod", "b", &key, None, &[], at, "t");
        let s = m.subject();
        assert_eq!(s.len(), MAX_SUBJECT_CHARS);
        assert!(s.chars().all(|c| c.is_ascii() && !c.is_ascii_control()));
        assert!(s.contains("caf?"));
    }
}
