//! The five operations: request validation and answers built from a fixture and the image
//! facts, with the service's filtering (MinConfidence, MaxLabels, label filters, face
//! attributes, word filters, similarity threshold).
//!
//! These are pure functions; [`crate::server`] does the HTTP, faults and image reading.

use crate::error::ApiError;
use crate::fixtures::{Fixture, FixtureFace};
use crate::inspect::{ImageFacts, MAX_DOMINANT_COLORS};
use crate::model::{
    BoundingBox, CompareFacesMatch, CompareFacesRequest, CompareFacesResponse, ComparedFace,
    ComparedSourceImageFace, DetectFacesRequest, DetectFacesResponse, DetectLabelsImageProperties,
    DetectLabelsRequest, DetectLabelsResponse, DetectModerationLabelsRequest,
    DetectModerationLabelsResponse, DetectTextRequest, DetectTextResponse, FaceDetail,
    GeneralLabelsSettings, Geometry, Label, TextDetection, TextType,
};
use crate::vision::embedding;

/// The model version (`LabelModelVersion`, `TextModelVersion`, `ModerationModelVersion`) of an
/// answer taken from a fixture, the test override. An answer from the models carries the
/// model's name instead ([`crate::vision::Task::model_version`]).
pub const FIXTURE_MODEL_VERSION: &str = "fixture";
/// The model version of an empty answer: no fixture for the image and no models loaded.
pub const NO_MODEL_VERSION: &str = "none";
/// DetectLabels `MinConfidence` when not given (percent).
pub const DEFAULT_LABELS_MIN_CONFIDENCE: f64 = 55.0;
/// DetectModerationLabels `MinConfidence` when not given (percent).
pub const DEFAULT_MODERATION_MIN_CONFIDENCE: f64 = 50.0;
/// DetectLabels `MaxLabels` default and upper limit.
pub const MAX_LABELS_LIMIT: i64 = 1000;
/// DetectLabels `Settings.ImageProperties.MaxDominantColors` default.
pub const DEFAULT_MAX_DOMINANT_COLORS: i64 = 10;
/// CompareFaces `SimilarityThreshold` when not given (percent).
pub const DEFAULT_SIMILARITY_THRESHOLD: f64 = 80.0;
/// Similarity of a face with itself (same image, same face).
pub const SAME_FACE_SIMILARITY: f32 = 99.99;
/// Similarity of two faces with the same fixture `identity` in different images.
pub const SAME_IDENTITY_SIMILARITY: f32 = 97.5;
/// Most faces DetectFaces and CompareFaces consider.
pub const MAX_FACES: usize = 100;

/// Checks a percentage parameter (0..=100) and applies its default.
///
/// Errors: `InvalidParameterException` naming `name` when outside 0..100 or not finite.
pub fn percent_param(name: &str, value: Option<f64>, default: f64) -> Result<f32, ApiError> {
    let v = value.unwrap_or(default);
    if v.is_finite() && (0.0..=100.0).contains(&v) {
        Ok(v as f32)
    } else {
        Err(ApiError::invalid_parameter(format!(
            "Request has invalid parameters: {name} must be between 0 and 100, got {v}"
        )))
    }
}

/// Validated DetectLabels parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelsParams {
    /// Percent.
    pub min_confidence: f32,
    /// 0..=1000.
    pub max_labels: usize,
    /// `GENERAL_LABELS` requested (or no `Features`).
    pub general_labels: bool,
    /// `IMAGE_PROPERTIES` requested.
    pub image_properties: bool,
    /// 0..=20.
    pub max_dominant_colors: usize,
    /// Label and category filters.
    pub filters: GeneralLabelsSettings,
}

/// Validates a DetectLabels request (not its image).
///
/// Errors: `InvalidParameterException` for MinConfidence outside 0..100, MaxLabels < 0,
/// unknown Features, MaxDominantColors outside 0..20, more than 100 filter values.
/// MaxLabels over 1000 is capped at 1000 (the documented upper limit).
/// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectLabels.html>
pub fn labels_params(req: &DetectLabelsRequest) -> Result<LabelsParams, ApiError> {
    let min_confidence = percent_param(
        "MinConfidence",
        req.min_confidence,
        DEFAULT_LABELS_MIN_CONFIDENCE,
    )?;
    let max_labels = req.max_labels.unwrap_or(MAX_LABELS_LIMIT);
    if max_labels < 0 {
        return Err(ApiError::invalid_parameter(format!(
            "Request has invalid parameters: MaxLabels must be at least 0, got {max_labels}"
        )));
    }
    let max_labels = max_labels.min(MAX_LABELS_LIMIT) as usize;
    let features = req.features.clone().unwrap_or_default();
    if features.len() > 2 {
        return Err(ApiError::invalid_parameter(
            "Request has invalid parameters: Features has at most 2 members",
        ));
    }
    for f in &features {
        if f != "GENERAL_LABELS" && f != "IMAGE_PROPERTIES" {
            return Err(ApiError::invalid_parameter(format!(
                "Request has invalid parameters: unknown feature {f:?} \
                 (GENERAL_LABELS or IMAGE_PROPERTIES)"
            )));
        }
    }
    let general_labels = features.is_empty() || features.iter().any(|f| f == "GENERAL_LABELS");
    let image_properties = features.iter().any(|f| f == "IMAGE_PROPERTIES");
    let settings = req.settings.clone().unwrap_or_default();
    let max_colors = settings
        .image_properties
        .and_then(|p| p.max_dominant_colors)
        .unwrap_or(DEFAULT_MAX_DOMINANT_COLORS);
    if !(0..=MAX_DOMINANT_COLORS as i64).contains(&max_colors) {
        return Err(ApiError::invalid_parameter(format!(
            "Request has invalid parameters: MaxDominantColors must be between 0 and \
             {MAX_DOMINANT_COLORS}, got {max_colors}"
        )));
    }
    let filters = settings.general_labels.unwrap_or_default();
    for list in [
        &filters.label_inclusion_filters,
        &filters.label_exclusion_filters,
        &filters.label_category_inclusion_filters,
        &filters.label_category_exclusion_filters,
    ]
    .into_iter()
    .flatten()
    {
        if list.len() > 100 {
            return Err(ApiError::invalid_parameter(
                "Request has invalid parameters: a label filter has at most 100 values",
            ));
        }
    }
    Ok(LabelsParams {
        min_confidence,
        max_labels,
        general_labels,
        image_properties,
        max_dominant_colors: max_colors as usize,
        filters,
    })
}

fn name_in(name: &str, list: &Option<Vec<String>>) -> Option<bool> {
    list.as_ref()
        .filter(|l| !l.is_empty())
        .map(|l| l.iter().any(|n| n.eq_ignore_ascii_case(name)))
}

fn passes_filters(label: &Label, filters: &GeneralLabelsSettings) -> bool {
    if name_in(&label.name, &filters.label_inclusion_filters) == Some(false) {
        return false;
    }
    if name_in(&label.name, &filters.label_exclusion_filters) == Some(true) {
        return false;
    }
    let in_categories = |list: &Option<Vec<String>>| {
        list.as_ref().filter(|l| !l.is_empty()).map(|l| {
            label
                .categories
                .iter()
                .any(|c| l.iter().any(|n| n.eq_ignore_ascii_case(&c.name)))
        })
    };
    if in_categories(&filters.label_category_inclusion_filters) == Some(false) {
        return false;
    }
    if in_categories(&filters.label_category_exclusion_filters) == Some(true) {
        return false;
    }
    true
}

/// The DetectLabels answer: fixture labels at or above MinConfidence (instances too), after
/// the filters, highest confidence first, at most MaxLabels; plus `ImageProperties` from the
/// pixels when requested; `model_version` is the `LabelModelVersion` of the answer (who saw
/// the labels: [`FIXTURE_MODEL_VERSION`] or a model's name).
pub fn detect_labels(
    params: &LabelsParams,
    fixture: Option<&Fixture>,
    facts: &ImageFacts,
    model_version: &str,
) -> DetectLabelsResponse {
    let mut labels: Vec<Label> = if params.general_labels {
        fixture
            .map(|f| f.labels.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|l| l.confidence >= params.min_confidence)
            .filter(|l| passes_filters(l, &params.filters))
            .map(|l| {
                let mut label = l.clone();
                label
                    .instances
                    .retain(|i| i.confidence >= params.min_confidence);
                label
            })
            .collect()
    } else {
        Vec::new()
    };
    labels.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    labels.truncate(params.max_labels);
    let image_properties = params
        .image_properties
        .then(|| DetectLabelsImageProperties {
            quality: facts.quality,
            dominant_colors: facts
                .dominant_colors
                .iter()
                .take(params.max_dominant_colors)
                .cloned()
                .collect(),
        });
    DetectLabelsResponse {
        labels,
        label_model_version: model_version.to_owned(),
        image_properties,
    }
}

/// Validated DetectText word filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextParams {
    /// Percent; 0 when not given.
    pub min_confidence: f32,
    /// Ratio of the image height.
    pub min_height: f32,
    /// Ratio of the image width.
    pub min_width: f32,
    /// Regions of interest (empty: the whole image).
    pub regions: Vec<BoundingBox>,
}

/// Validates DetectText `Filters`.
///
/// Errors: `InvalidParameterException` for MinConfidence outside 0..100, box sizes outside
/// 0..1, more than 10 regions or a region with neither BoundingBox nor Polygon.
/// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectText.html>
pub fn text_params(req: &DetectTextRequest) -> Result<TextParams, ApiError> {
    let filters = req.filters.clone().unwrap_or_default();
    let word = filters.word_filter.unwrap_or_default();
    let min_confidence = percent_param("WordFilter.MinConfidence", word.min_confidence, 0.0)?;
    let ratio = |name: &str, v: Option<f64>| -> Result<f32, ApiError> {
        let v = v.unwrap_or(0.0);
        if v.is_finite() && (0.0..=1.0).contains(&v) {
            Ok(v as f32)
        } else {
            Err(ApiError::invalid_parameter(format!(
                "Request has invalid parameters: {name} must be between 0 and 1, got {v}"
            )))
        }
    };
    let min_height = ratio(
        "WordFilter.MinBoundingBoxHeight",
        word.min_bounding_box_height,
    )?;
    let min_width = ratio(
        "WordFilter.MinBoundingBoxWidth",
        word.min_bounding_box_width,
    )?;
    let regions_in = filters.regions_of_interest.unwrap_or_default();
    if regions_in.len() > 10 {
        return Err(ApiError::invalid_parameter(
            "Request has invalid parameters: at most 10 RegionsOfInterest",
        ));
    }
    let mut regions = Vec::with_capacity(regions_in.len());
    for region in regions_in {
        let bbox = match (region.bounding_box, region.polygon) {
            (Some(b), _) => b,
            (None, Some(points)) if !points.is_empty() => {
                let min_x = points.iter().map(|p| p.x).fold(f32::MAX, f32::min);
                let max_x = points.iter().map(|p| p.x).fold(f32::MIN, f32::max);
                let min_y = points.iter().map(|p| p.y).fold(f32::MAX, f32::min);
                let max_y = points.iter().map(|p| p.y).fold(f32::MIN, f32::max);
                BoundingBox {
                    left: min_x,
                    top: min_y,
                    width: max_x - min_x,
                    height: max_y - min_y,
                }
            }
            _ => {
                return Err(ApiError::invalid_parameter(
                    "Request has invalid parameters: a RegionOfInterest needs BoundingBox or Polygon",
                ));
            }
        };
        regions.push(bbox);
    }
    Ok(TextParams {
        min_confidence,
        min_height,
        min_width,
        regions,
    })
}

fn word_passes(params: &TextParams, confidence: f32, bbox: &BoundingBox) -> bool {
    confidence >= params.min_confidence
        && bbox.height >= params.min_height
        && bbox.width >= params.min_width
        && (params.regions.is_empty()
            || params
                .regions
                .iter()
                .any(|r| r.intersection_area(bbox) > 0.5 * bbox.area()))
}

/// The DetectText answer: the fixture's lines and words after the word filter, LINEs first
/// (Ids 0..), then WORDs with `ParentId` set to their line. A line is kept when one of its
/// words is (a line without words is filtered like a word).
///
/// `model_version` is the `TextModelVersion` of the answer (as for [`detect_labels`]).
pub fn detect_text(
    params: &TextParams,
    fixture: Option<&Fixture>,
    model_version: &str,
) -> DetectTextResponse {
    let lines = fixture.map(|f| f.text_lines.as_slice()).unwrap_or_default();
    let mut kept = Vec::new();
    for line in lines {
        let words: Vec<_> = line
            .words
            .iter()
            .filter(|w| word_passes(params, w.confidence, &w.bounding_box))
            .collect();
        let keep = if line.words.is_empty() {
            word_passes(params, line.confidence, &line.bounding_box)
        } else {
            !words.is_empty()
        };
        if keep {
            kept.push((line, words));
        }
    }
    let mut detections = Vec::new();
    let mut next_id = kept.len() as u32;
    let mut words_out = Vec::new();
    for (line_id, (line, words)) in kept.into_iter().enumerate() {
        let line_id = line_id as u32;
        detections.push(TextDetection {
            detected_text: line.detected_text.clone(),
            kind: TextType::Line,
            id: line_id,
            parent_id: None,
            confidence: line.confidence,
            geometry: Geometry {
                bounding_box: line.bounding_box,
                polygon: line
                    .polygon
                    .clone()
                    .unwrap_or_else(|| line.bounding_box.polygon()),
            },
        });
        for word in words {
            words_out.push(TextDetection {
                detected_text: word.detected_text.clone(),
                kind: TextType::Word,
                id: next_id,
                parent_id: Some(line_id),
                confidence: word.confidence,
                geometry: Geometry {
                    bounding_box: word.bounding_box,
                    polygon: word
                        .polygon
                        .clone()
                        .unwrap_or_else(|| word.bounding_box.polygon()),
                },
            });
            next_id += 1;
        }
    }
    detections.extend(words_out);
    DetectTextResponse {
        text_detections: detections,
        text_model_version: model_version.to_owned(),
    }
}

/// Which optional FaceDetail attributes a DetectFaces request asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaceAttributes {
    /// `ALL`.
    pub all: bool,
    /// Named attributes, e.g. `AGE_RANGE`.
    pub named: Vec<String>,
}

/// The attribute names DetectFaces accepts.
pub const FACE_ATTRIBUTE_NAMES: [&str; 14] = [
    "DEFAULT",
    "ALL",
    "AGE_RANGE",
    "BEARD",
    "EMOTIONS",
    "EYE_DIRECTION",
    "EYEGLASSES",
    "EYES_OPEN",
    "GENDER",
    "MOUTH_OPEN",
    "MUSTACHE",
    "FACE_OCCLUDED",
    "SMILE",
    "SUNGLASSES",
];

/// Validates DetectFaces `Attributes`.
///
/// Errors: `InvalidParameterException` for a name not in [`FACE_ATTRIBUTE_NAMES`].
/// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectFaces.html#rekognition-DetectFaces-request-Attributes>
pub fn face_attributes(req: &DetectFacesRequest) -> Result<FaceAttributes, ApiError> {
    let names = req.attributes.clone().unwrap_or_default();
    for name in &names {
        if !FACE_ATTRIBUTE_NAMES.contains(&name.as_str()) {
            return Err(ApiError::invalid_parameter(format!(
                "Request has invalid parameters: unknown face attribute {name:?}"
            )));
        }
    }
    Ok(FaceAttributes {
        all: names.iter().any(|n| n == "ALL"),
        named: names,
    })
}

fn trim_face(face: &FaceDetail, attrs: &FaceAttributes) -> FaceDetail {
    let wants = |name: &str| attrs.all || attrs.named.iter().any(|n| n == name);
    FaceDetail {
        bounding_box: face.bounding_box,
        confidence: face.confidence,
        landmarks: face.landmarks.clone(),
        pose: face.pose,
        quality: face.quality,
        age_range: face.age_range.filter(|_| wants("AGE_RANGE")),
        smile: face.smile.filter(|_| wants("SMILE")),
        eyeglasses: face.eyeglasses.filter(|_| wants("EYEGLASSES")),
        sunglasses: face.sunglasses.filter(|_| wants("SUNGLASSES")),
        gender: face.gender.filter(|_| wants("GENDER")),
        beard: face.beard.filter(|_| wants("BEARD")),
        mustache: face.mustache.filter(|_| wants("MUSTACHE")),
        eyes_open: face.eyes_open.filter(|_| wants("EYES_OPEN")),
        mouth_open: face.mouth_open.filter(|_| wants("MOUTH_OPEN")),
        emotions: face.emotions.clone().filter(|_| wants("EMOTIONS")),
        face_occluded: face.face_occluded.filter(|_| wants("FACE_OCCLUDED")),
        eye_direction: face.eye_direction.filter(|_| wants("EYE_DIRECTION")),
    }
}

fn faces_largest_first(fixture: Option<&Fixture>) -> Vec<&FixtureFace> {
    let mut faces: Vec<&FixtureFace> = fixture
        .map(|f| f.faces.iter().collect())
        .unwrap_or_default();
    faces.sort_by(|a, b| {
        b.detail
            .bounding_box
            .area()
            .total_cmp(&a.detail.bounding_box.area())
    });
    faces.truncate(MAX_FACES);
    faces
}

/// The DetectFaces answer: the fixture's faces, largest first, with the DEFAULT attributes
/// (BoundingBox, Confidence, Landmarks, Pose, Quality) plus those requested.
pub fn detect_faces(attrs: &FaceAttributes, fixture: Option<&Fixture>) -> DetectFacesResponse {
    DetectFacesResponse {
        face_details: faces_largest_first(fixture)
            .into_iter()
            .map(|f| trim_face(&f.detail, attrs))
            .collect(),
    }
}

/// Validated CompareFaces parameters: the similarity threshold in percent.
///
/// Errors: `InvalidParameterException` for SimilarityThreshold outside 0..100 or an
/// unknown QualityFilter.
pub fn similarity_threshold(req: &CompareFacesRequest) -> Result<f32, ApiError> {
    if let Some(q) = &req.quality_filter
        && !["NONE", "AUTO", "LOW", "MEDIUM", "HIGH"].contains(&q.as_str())
    {
        return Err(ApiError::invalid_parameter(format!(
            "Request has invalid parameters: unknown QualityFilter {q:?}"
        )));
    }
    percent_param(
        "SimilarityThreshold",
        req.similarity_threshold,
        DEFAULT_SIMILARITY_THRESHOLD,
    )
}

/// The CompareFaces answer. The source face is the largest face of the source fixture. A
/// target face's similarity is [`SAME_FACE_SIMILARITY`] when it is the same face of the same
/// image; else, when both faces have an embedding (model answers),
/// [`crate::vision::embedding::similarity`] of their embeddings' distance; else
/// [`SAME_IDENTITY_SIMILARITY`] when both have the same fixture `identity`; else 0. It matches
/// when its similarity is above 0 and at or above the threshold; the other target faces are
/// `UnmatchedFaces`.
///
/// Errors: `InvalidParameterException` when the source image has no face (as the service).
/// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_CompareFaces.html>
pub fn compare_faces(
    threshold: f32,
    source: (&ImageFacts, Option<&Fixture>),
    target: (&ImageFacts, Option<&Fixture>),
) -> Result<CompareFacesResponse, ApiError> {
    let source_faces = faces_largest_first(source.1);
    let Some(source_face) = source_faces.first() else {
        return Err(ApiError::invalid_parameter(
            "Request has invalid parameters: there are no faces in the source image",
        ));
    };
    let same_image = source.0.sha256 == target.0.sha256;
    let mut matches = Vec::new();
    let mut unmatched = Vec::new();
    for target_face in faces_largest_first(target.1) {
        let similarity = if same_image && target_face.detail == source_face.detail {
            SAME_FACE_SIMILARITY
        } else if let (Some(a), Some(b)) = (&source_face.embedding, &target_face.embedding) {
            embedding::similarity(embedding::distance(a, b))
        } else if source_face.identity.is_some() && target_face.identity == source_face.identity {
            SAME_IDENTITY_SIMILARITY
        } else {
            0.0
        };
        let face = ComparedFace::from(&target_face.detail);
        if similarity > 0.0 && similarity >= threshold {
            matches.push(CompareFacesMatch { similarity, face });
        } else {
            unmatched.push(face);
        }
    }
    matches.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
    Ok(CompareFacesResponse {
        source_image_face: ComparedSourceImageFace {
            bounding_box: source_face.detail.bounding_box,
            confidence: source_face.detail.confidence,
        },
        face_matches: matches,
        unmatched_faces: unmatched,
    })
}

/// Validates DetectModerationLabels `MinConfidence` (default 50).
///
/// Errors: `InvalidParameterException` outside 0..100.
pub fn moderation_min_confidence(req: &DetectModerationLabelsRequest) -> Result<f32, ApiError> {
    percent_param(
        "MinConfidence",
        req.min_confidence,
        DEFAULT_MODERATION_MIN_CONFIDENCE,
    )
}

/// The DetectModerationLabels answer: fixture labels at or above MinConfidence, highest first;
/// `model_version` is its `ModerationModelVersion` (as for [`detect_labels`]).
pub fn detect_moderation_labels(
    min_confidence: f32,
    fixture: Option<&Fixture>,
    model_version: &str,
) -> DetectModerationLabelsResponse {
    let mut labels: Vec<_> = fixture
        .map(|f| f.moderation_labels.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|l| l.confidence >= min_confidence)
        .cloned()
        .collect();
    labels.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    DetectModerationLabelsResponse {
        moderation_labels: labels,
        moderation_model_version: model_version.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Named, TextType};

    fn facts() -> ImageFacts {
        ImageFacts {
            sha256: "0".repeat(64),
            format: crate::inspect::ImageFormat::Png,
            width: 100,
            height: 100,
            quality: crate::model::DetectLabelsImageQuality {
                brightness: 50.0,
                sharpness: 50.0,
                contrast: 50.0,
            },
            dominant_colors: Vec::new(),
        }
    }

    fn label(name: &str, confidence: f32, category: &str) -> Label {
        Label {
            name: name.to_owned(),
            confidence,
            instances: Vec::new(),
            parents: Vec::new(),
            aliases: Vec::new(),
            categories: vec![Named {
                name: category.to_owned(),
            }],
        }
    }

    #[test]
    fn labels_are_filtered_sorted_and_capped() {
        let fixture = Fixture {
            image: "x.png".into(),
            labels: vec![
                label("Low", 40.0, "A"),
                label("Mid", 70.0, "A"),
                label("High", 95.0, "B"),
            ],
            ..Fixture::default()
        };
        let req = DetectLabelsRequest::default();
        let answer = detect_labels(
            &labels_params(&req).unwrap(),
            Some(&fixture),
            &facts(),
            FIXTURE_MODEL_VERSION,
        );
        let names: Vec<_> = answer.labels.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["High", "Mid"]);

        let req = DetectLabelsRequest {
            max_labels: Some(1),
            min_confidence: Some(0.0),
            ..DetectLabelsRequest::default()
        };
        let answer = detect_labels(
            &labels_params(&req).unwrap(),
            Some(&fixture),
            &facts(),
            FIXTURE_MODEL_VERSION,
        );
        assert_eq!(answer.labels.len(), 1);
        assert_eq!(answer.labels[0].name, "High");

        let req: DetectLabelsRequest = serde_json::from_value(serde_json::json!({
            "MinConfidence": 0,
            "Settings": {"GeneralLabels": {"LabelCategoryExclusionFilters": ["B"]}}
        }))
        .unwrap();
        let answer = detect_labels(
            &labels_params(&req).unwrap(),
            Some(&fixture),
            &facts(),
            FIXTURE_MODEL_VERSION,
        );
        let names: Vec<_> = answer.labels.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["Mid", "Low"]);
    }

    #[test]
    fn bad_label_parameters_are_refused() {
        for req in [
            DetectLabelsRequest {
                min_confidence: Some(101.0),
                ..Default::default()
            },
            DetectLabelsRequest {
                min_confidence: Some(-1.0),
                ..Default::default()
            },
            DetectLabelsRequest {
                max_labels: Some(-1),
                ..Default::default()
            },
            DetectLabelsRequest {
                features: Some(vec!["COLORS".into()]),
                ..Default::default()
            },
        ] {
            assert!(labels_params(&req).is_err(), "{req:?}");
        }
        let capped = labels_params(&DetectLabelsRequest {
            max_labels: Some(5000),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(capped.max_labels, 1000);
    }

    #[test]
    fn text_ids_put_lines_first_and_words_under_their_line() {
        let fixture: Fixture = serde_json::from_value(serde_json::json!({
            "image": "t.png",
            "text_lines": [
                {"DetectedText": "a b", "Confidence": 90.0,
                 "BoundingBox": {"Width": 0.5, "Height": 0.1, "Left": 0.1, "Top": 0.1},
                 "Words": [
                    {"DetectedText": "a", "Confidence": 90.0,
                     "BoundingBox": {"Width": 0.2, "Height": 0.1, "Left": 0.1, "Top": 0.1}},
                    {"DetectedText": "b", "Confidence": 30.0,
                     "BoundingBox": {"Width": 0.2, "Height": 0.1, "Left": 0.4, "Top": 0.1}}]},
                {"DetectedText": "c", "Confidence": 80.0,
                 "BoundingBox": {"Width": 0.2, "Height": 0.1, "Left": 0.1, "Top": 0.5},
                 "Words": [
                    {"DetectedText": "c", "Confidence": 80.0,
                     "BoundingBox": {"Width": 0.2, "Height": 0.1, "Left": 0.1, "Top": 0.5}}]}
            ]
        }))
        .unwrap();
        let all = detect_text(
            &TextParams::default(),
            Some(&fixture),
            FIXTURE_MODEL_VERSION,
        );
        let kinds: Vec<_> = all
            .text_detections
            .iter()
            .map(|d| (d.kind, d.id, d.parent_id))
            .collect();
        assert_eq!(
            kinds,
            [
                (TextType::Line, 0, None),
                (TextType::Line, 1, None),
                (TextType::Word, 2, Some(0)),
                (TextType::Word, 3, Some(0)),
                (TextType::Word, 4, Some(1)),
            ]
        );
        let confident = TextParams {
            min_confidence: 50.0,
            ..TextParams::default()
        };
        let filtered = detect_text(&confident, Some(&fixture), FIXTURE_MODEL_VERSION);
        let words: Vec<_> = filtered
            .text_detections
            .iter()
            .filter(|d| d.kind == TextType::Word)
            .map(|d| d.detected_text.as_str())
            .collect();
        assert_eq!(words, ["a", "c"]);
        let region = TextParams {
            regions: vec![BoundingBox {
                left: 0.0,
                top: 0.4,
                width: 1.0,
                height: 0.6,
            }],
            ..TextParams::default()
        };
        let lines: Vec<_> = detect_text(&region, Some(&fixture), FIXTURE_MODEL_VERSION)
            .text_detections
            .into_iter()
            .filter(|d| d.kind == TextType::Line)
            .map(|d| d.detected_text)
            .collect();
        assert_eq!(lines, ["c"]);
    }
}
