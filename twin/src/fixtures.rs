//! Fixture files: what the models "see" in an image, keyed by the image's SHA-256.
//!
//! A fixture is `<dir>/<sha256>.json` where `<sha256>` is the lowercase hex SHA-256 of the
//! image file's bytes (`sha256sum image.png`). The format is documented for humans in
//! `samples/fixtures/README.md`; in short:
//!
//! ```json
//! {
//!   "image": "astronaut.png",
//!   "description": "optional free text",
//!   "labels": [ /* Rekognition Label objects */ ],
//!   "text_lines": [ { "DetectedText": "...", "Confidence": 91.0, "BoundingBox": {...},
//!                     "Words": [ { "DetectedText": "...", "Confidence": 90.0, "BoundingBox": {...} } ] } ],
//!   "faces": [ { "identity": "eileen-collins", "detail": { /* Rekognition FaceDetail */ } } ],
//!   "moderation_labels": [ /* Rekognition ModerationLabel objects */ ]
//! }
//! ```
//!
//! Top-level keys are argus-twin's own (snake_case); everything inside uses the Rekognition
//! member names of [`crate::model`]. Unknown keys are refused so typos fail loudly at start.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::{BoundingBox, FaceDetail, Label, ModerationLabel, Point};

/// The contents of one fixture file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// File name of the image the fixture describes (for humans and consistency tests).
    pub image: String,
    /// Free text: what the picture shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// DetectLabels answer before filtering (any order; answers sort by confidence).
    #[serde(default)]
    pub labels: Vec<Label>,
    /// DetectText answer as lines of words; `Id`, `ParentId` and polygons are derived.
    #[serde(default)]
    pub text_lines: Vec<TextLine>,
    /// DetectFaces answer (largest first is not required; answers sort by box area).
    #[serde(default)]
    pub faces: Vec<FixtureFace>,
    /// DetectModerationLabels answer before filtering.
    #[serde(default)]
    pub moderation_labels: Vec<ModerationLabel>,
}

/// A line of text and its words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TextLine {
    /// The whole line.
    pub detected_text: String,
    /// 0..100.
    pub confidence: f32,
    /// Where the line is.
    pub bounding_box: BoundingBox,
    /// Corners clockwise from top-left; derived from the box when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polygon: Option<Vec<Point>>,
    /// The words of the line, left to right.
    #[serde(default)]
    pub words: Vec<TextWord>,
}

/// One word of a [`TextLine`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TextWord {
    /// The word.
    pub detected_text: String,
    /// 0..100.
    pub confidence: f32,
    /// Where the word is.
    pub bounding_box: BoundingBox,
    /// Corners clockwise from top-left; derived from the box when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polygon: Option<Vec<Point>>,
}

/// A face and who it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureFace {
    /// Who the face belongs to: CompareFaces matches faces with the same identity. Faces
    /// without an identity never match anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The Rekognition FaceDetail with every attribute (DetectFaces trims it to the request).
    pub detail: FaceDetail,
    /// The face embedding (128 numbers, [`crate::vision::embedding`]) when a model answered
    /// CompareFaces; never read from or written to fixture files.
    #[serde(skip)]
    pub embedding: Option<Vec<f32>>,
}

/// Why fixtures could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The folder cannot be listed.
    #[error("cannot list fixtures folder {path}: {source}")]
    ReadDir {
        /// The folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file cannot be read.
    #[error("cannot read fixture {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not a valid fixture (with the JSON line and column).
    #[error("fixture {path} is not valid: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// A file is named after something other than a SHA-256.
    #[error("fixture {path}: the file name must be <sha256 of the image, 64 lowercase hex>.json")]
    BadName {
        /// The file.
        path: PathBuf,
    },
    /// A value is out of range (confidence outside 0..100, box outside 0..1, ...).
    #[error("fixture {path}: {problem}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}

/// All fixtures of a folder, by SHA-256.
#[derive(Debug, Clone, Default)]
pub struct FixtureStore {
    by_sha256: HashMap<String, Arc<Fixture>>,
}

/// Whether `s` is 64 lowercase hex digits.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl FixtureStore {
    /// A store with no fixtures: every image gets an empty answer.
    pub fn empty() -> Self {
        FixtureStore::default()
    }

    /// Loads every `*.json` file of `dir` (other files, such as README.md, are skipped).
    ///
    /// Errors: [`FixtureError`] naming the first file that cannot be read, parsed or validated.
    pub fn load(dir: &Path) -> Result<Self, FixtureError> {
        let entries = std::fs::read_dir(dir).map_err(|source| FixtureError::ReadDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut store = FixtureStore::empty();
        for entry in entries {
            let entry = entry.map_err(|source| FixtureError::ReadDir {
                path: dir.to_path_buf(),
                source,
            })?;
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let sha256 = path
                .file_stem()
                .and_then(|s| s.to_str())
                .filter(|s| is_sha256_hex(s))
                .ok_or_else(|| FixtureError::BadName { path: path.clone() })?
                .to_owned();
            let text = std::fs::read_to_string(&path).map_err(|source| FixtureError::Read {
                path: path.clone(),
                source,
            })?;
            let fixture: Fixture =
                serde_json::from_str(&text).map_err(|source| FixtureError::Parse {
                    path: path.clone(),
                    source,
                })?;
            validate(&fixture).map_err(|problem| FixtureError::Invalid {
                path: path.clone(),
                problem,
            })?;
            store.by_sha256.insert(sha256, Arc::new(fixture));
        }
        Ok(store)
    }

    /// Adds or replaces the fixture of an image (tests use this for synthetic images).
    ///
    /// Errors: the problem, when `sha256` is not 64 lowercase hex or a value is out of range.
    pub fn insert(&mut self, sha256: &str, fixture: Fixture) -> Result<(), String> {
        if !is_sha256_hex(sha256) {
            return Err(format!("{sha256:?} is not a lowercase hex SHA-256"));
        }
        validate(&fixture)?;
        self.by_sha256.insert(sha256.to_owned(), Arc::new(fixture));
        Ok(())
    }

    /// The fixture of the image with this SHA-256 (lowercase hex), if any.
    pub fn get(&self, sha256: &str) -> Option<Arc<Fixture>> {
        self.by_sha256.get(sha256).cloned()
    }

    /// Number of fixtures.
    pub fn len(&self) -> usize {
        self.by_sha256.len()
    }

    /// Whether there are no fixtures.
    pub fn is_empty(&self) -> bool {
        self.by_sha256.is_empty()
    }

    /// The SHA-256 keys, sorted.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.by_sha256.keys().cloned().collect();
        keys.sort();
        keys
    }
}

fn check_confidence(what: &str, value: f32) -> Result<(), String> {
    if (0.0..=100.0).contains(&value) {
        Ok(())
    } else {
        Err(format!("{what}: Confidence {value} is outside 0..100"))
    }
}

fn check_box(what: &str, bbox: &BoundingBox) -> Result<(), String> {
    if bbox.is_valid() {
        Ok(())
    } else {
        Err(format!(
            "{what}: BoundingBox {bbox:?} is not inside the image (ratios 0..1)"
        ))
    }
}

/// Checks ranges: confidences 0..100, boxes inside 0..1, moderation levels 1..3.
fn validate(fixture: &Fixture) -> Result<(), String> {
    for label in &fixture.labels {
        let what = format!("label {:?}", label.name);
        check_confidence(&what, label.confidence)?;
        for instance in &label.instances {
            check_confidence(&what, instance.confidence)?;
            check_box(&what, &instance.bounding_box)?;
        }
    }
    for line in &fixture.text_lines {
        let what = format!("text line {:?}", line.detected_text);
        check_confidence(&what, line.confidence)?;
        check_box(&what, &line.bounding_box)?;
        for word in &line.words {
            let what = format!("word {:?}", word.detected_text);
            check_confidence(&what, word.confidence)?;
            check_box(&what, &word.bounding_box)?;
        }
    }
    for (i, face) in fixture.faces.iter().enumerate() {
        let what = format!("face {i}");
        check_confidence(&what, face.detail.confidence)?;
        check_box(&what, &face.detail.bounding_box)?;
    }
    for label in &fixture.moderation_labels {
        let what = format!("moderation label {:?}", label.name);
        check_confidence(&what, label.confidence)?;
        if !(1..=3).contains(&label.taxonomy_level) {
            return Err(format!(
                "{what}: TaxonomyLevel {} is not 1, 2 or 3",
                label.taxonomy_level
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_names_are_checked() {
        assert!(is_sha256_hex(&"a".repeat(64)));
        assert!(!is_sha256_hex(&"A".repeat(64)));
        assert!(!is_sha256_hex(&"a".repeat(63)));
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let fixture: Fixture = serde_json::from_value(serde_json::json!({
            "image": "x.png",
            "labels": [{"Name": "Cat", "Confidence": 120.0}]
        }))
        .unwrap();
        let mut store = FixtureStore::empty();
        let err = store.insert(&"0".repeat(64), fixture).unwrap_err();
        assert!(err.contains("outside 0..100"), "{err}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = serde_json::from_value::<Fixture>(serde_json::json!({
            "image": "x.png",
            "lables": []
        }))
        .unwrap_err();
        assert!(err.to_string().contains("lables"), "{err}");
    }
}
