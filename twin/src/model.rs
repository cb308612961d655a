//! The Amazon Rekognition shapes argus-twin reads and writes, field by field.
//!
//! Every struct here serializes with the exact PascalCase member names of the Rekognition
//! service model (`rekognition-2016-06-27`), so the unmodified `aws-sdk-rekognition` and boto3
//! can parse the answers. The same structs are read from fixture files (see
//! [`crate::fixtures`]), where unknown fields are refused to catch typos.
//!
//! Units: every `BoundingBox` member and every `Point`/`Landmark` coordinate is a ratio
//! (0..1) of the image width (`Left`, `Width`, `X`) or height (`Top`, `Height`, `Y`);
//! every `Confidence`, `Similarity` and `PixelPercent` is a percentage (0..100); `Pose`
//! angles are degrees (-180..180).
//!
//! Reference: <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_Types.html>.

use serde::{Deserialize, Serialize};

/// Where an input image comes from: `Bytes` (base64 in JSON) or `S3Object`, exactly one.
///
/// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_Image.html>
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Image {
    /// Base64 of the image file (JPEG or PNG), at most 5 MiB once decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<String>,
    /// An object in S3 (for argus-twin: the twin's S3), at most 15 MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_object: Option<S3Object>,
}

/// An S3 object reference. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_S3Object.html>
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3Object {
    /// Bucket name.
    #[serde(default)]
    pub bucket: Option<String>,
    /// Object key.
    #[serde(default)]
    pub name: Option<String>,
    /// Object version ID, for versioned buckets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// A box as ratios (0..1) of the image width (`Left`, `Width`) and height (`Top`, `Height`).
///
/// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_BoundingBox.html>
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct BoundingBox {
    /// Width as a ratio of the image width.
    pub width: f32,
    /// Height as a ratio of the image height.
    pub height: f32,
    /// Left edge as a ratio of the image width.
    pub left: f32,
    /// Top edge as a ratio of the image height.
    pub top: f32,
}

impl BoundingBox {
    /// Area as a ratio of the image area.
    pub fn area(&self) -> f32 {
        self.width.max(0.0) * self.height.max(0.0)
    }

    /// The area shared with `other`, as a ratio of the image area.
    pub fn intersection_area(&self, other: &BoundingBox) -> f32 {
        let w = (self.left + self.width).min(other.left + other.width) - self.left.max(other.left);
        let h = (self.top + self.height).min(other.top + other.height) - self.top.max(other.top);
        w.max(0.0) * h.max(0.0)
    }

    /// The four corners clockwise from top-left, as Rekognition's `Geometry.Polygon` gives them.
    pub fn polygon(&self) -> Vec<Point> {
        vec![
            Point {
                x: self.left,
                y: self.top,
            },
            Point {
                x: self.left + self.width,
                y: self.top,
            },
            Point {
                x: self.left + self.width,
                y: self.top + self.height,
            },
            Point {
                x: self.left,
                y: self.top + self.height,
            },
        ]
    }

    /// Whether every member lies in 0..=1 (and the box inside the image, with a small tolerance).
    pub fn is_valid(&self) -> bool {
        let in_unit = |v: f32| (0.0..=1.0).contains(&v);
        in_unit(self.width)
            && in_unit(self.height)
            && in_unit(self.left)
            && in_unit(self.top)
            && self.left + self.width <= 1.001
            && self.top + self.height <= 1.001
    }
}

/// A point as ratios of the image width (`X`) and height (`Y`).
/// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_Point.html>
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Point {
    /// Ratio of the image width.
    pub x: f32,
    /// Ratio of the image height.
    pub y: f32,
}

/// `{"Name": ...}`: the shape of `Parent`, `LabelAlias` and `LabelCategory`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Named {
    /// The name.
    pub name: String,
}

/// One detected label. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_Label.html>
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Label {
    /// Label name, e.g. `Cat`.
    pub name: String,
    /// 0..100.
    pub confidence: f32,
    /// Boxes of the label's occurrences (common objects only).
    #[serde(default)]
    pub instances: Vec<Instance>,
    /// Ancestors in the label hierarchy, e.g. `Animal`, `Mammal`, `Pet` for `Cat`.
    #[serde(default)]
    pub parents: Vec<Named>,
    /// Other names of the label, e.g. `Human` for `Person`.
    #[serde(default)]
    pub aliases: Vec<Named>,
    /// Categories, e.g. `Animals and Pets`.
    #[serde(default)]
    pub categories: Vec<Named>,
}

/// One occurrence of a label. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_Instance.html>
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Instance {
    /// Where it is.
    pub bounding_box: BoundingBox,
    /// 0..100.
    pub confidence: f32,
    /// Dominant colours inside the box (only with `IMAGE_PROPERTIES`; fixtures may give them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dominant_colors: Option<Vec<DominantColor>>,
}

/// A dominant colour. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DominantColor.html>
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DominantColor {
    /// 0..255.
    #[serde(rename = "Red")]
    pub red: u8,
    /// 0..255.
    #[serde(rename = "Blue")]
    pub blue: u8,
    /// 0..255.
    #[serde(rename = "Green")]
    pub green: u8,
    /// `#rrggbb`.
    #[serde(rename = "HexCode")]
    pub hex_code: String,
    /// Nearest CSS named colour, e.g. `sienna`.
    #[serde(rename = "CSSColor")]
    pub css_color: String,
    /// One of 12 simplified names, e.g. `brown`.
    #[serde(rename = "SimplifiedColor")]
    pub simplified_color: String,
    /// Share of the image's pixels, 0..100.
    #[serde(rename = "PixelPercent")]
    pub pixel_percent: f32,
}

/// `Brightness`, `Sharpness`, `Contrast`, each 0..100.
/// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectLabelsImageQuality.html>
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DetectLabelsImageQuality {
    /// Mean luminance, 0 (black) ..100 (white).
    pub brightness: f32,
    /// Edge strength, 0 (blurred) ..100 (sharp).
    pub sharpness: f32,
    /// Spread of luminance, 0 (flat) ..100.
    pub contrast: f32,
}

/// `ImageProperties` of a DetectLabels answer.
/// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectLabelsImageProperties.html>
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DetectLabelsImageProperties {
    /// Whole-image quality.
    pub quality: DetectLabelsImageQuality,
    /// Most common colours, most common first.
    pub dominant_colors: Vec<DominantColor>,
}

/// `Settings` of a DetectLabels request.
/// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectLabelsSettings.html>
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DetectLabelsSettings {
    /// Inclusion/exclusion filters by label name and category.
    #[serde(default)]
    pub general_labels: Option<GeneralLabelsSettings>,
    /// `MaxDominantColors` (0..20, default 10).
    #[serde(default)]
    pub image_properties: Option<ImagePropertiesSettings>,
}

/// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_GeneralLabelsSettings.html>
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GeneralLabelsSettings {
    /// Only these label names.
    #[serde(default)]
    pub label_inclusion_filters: Option<Vec<String>>,
    /// Never these label names.
    #[serde(default)]
    pub label_exclusion_filters: Option<Vec<String>>,
    /// Only labels in these categories.
    #[serde(default)]
    pub label_category_inclusion_filters: Option<Vec<String>>,
    /// Never labels in these categories.
    #[serde(default)]
    pub label_category_exclusion_filters: Option<Vec<String>>,
}

/// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectLabelsImagePropertiesSettings.html>
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImagePropertiesSettings {
    /// 0..20; default 10.
    #[serde(default)]
    pub max_dominant_colors: Option<i64>,
}

/// DetectLabels request. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectLabels.html>
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DetectLabelsRequest {
    /// Required.
    #[serde(default)]
    pub image: Option<Image>,
    /// At least 0; default and upper limit 1000.
    #[serde(default)]
    pub max_labels: Option<i64>,
    /// 0..100; default 55.
    #[serde(default)]
    pub min_confidence: Option<f64>,
    /// `GENERAL_LABELS` and/or `IMAGE_PROPERTIES`; default `GENERAL_LABELS`.
    #[serde(default)]
    pub features: Option<Vec<String>>,
    /// Filters and image-properties settings.
    #[serde(default)]
    pub settings: Option<DetectLabelsSettings>,
}

/// DetectLabels answer. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectLabels.html#API_DetectLabels_ResponseSyntax>
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DetectLabelsResponse {
    /// Highest confidence first.
    pub labels: Vec<Label>,
    /// E.g. `3.0`.
    pub label_model_version: String,
    /// Only when `Features` includes `IMAGE_PROPERTIES`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_properties: Option<DetectLabelsImageProperties>,
}

/// `LINE` or `WORD`. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_TextDetection.html>
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TextType {
    /// A line of words.
    Line,
    /// One word of a line.
    Word,
}

/// `BoundingBox` and `Polygon` of a detection.
/// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_Geometry.html>
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Geometry {
    /// Axis-aligned box.
    pub bounding_box: BoundingBox,
    /// Corners, clockwise from top-left.
    pub polygon: Vec<Point>,
}

/// One LINE or WORD. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_TextDetection.html>
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TextDetection {
    /// The text.
    pub detected_text: String,
    /// `LINE` or `WORD`.
    #[serde(rename = "Type")]
    pub kind: TextType,
    /// Unique in the answer; lines first.
    pub id: u32,
    /// For a WORD, the `Id` of its LINE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<u32>,
    /// 0..100.
    pub confidence: f32,
    /// Where it is.
    pub geometry: Geometry,
}

/// `Filters` of a DetectText request.
/// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectTextFilters.html>
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DetectTextFilters {
    /// Minimum confidence and box size of words.
    #[serde(default)]
    pub word_filter: Option<DetectionFilter>,
    /// Up to 10 regions; a word counts when more than half of it lies in one.
    #[serde(default)]
    pub regions_of_interest: Option<Vec<RegionOfInterest>>,
}

/// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectionFilter.html>
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DetectionFilter {
    /// 0..100.
    #[serde(default)]
    pub min_confidence: Option<f64>,
    /// 0..1 of the image height.
    #[serde(default)]
    pub min_bounding_box_height: Option<f64>,
    /// 0..1 of the image width.
    #[serde(default)]
    pub min_bounding_box_width: Option<f64>,
}

/// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_RegionOfInterest.html>
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RegionOfInterest {
    /// The region as a box.
    #[serde(default)]
    pub bounding_box: Option<BoundingBox>,
    /// The region as a polygon (argus-twin uses its bounding box).
    #[serde(default)]
    pub polygon: Option<Vec<Point>>,
}

/// DetectText request. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectText.html>
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DetectTextRequest {
    /// Required.
    #[serde(default)]
    pub image: Option<Image>,
    /// Word filter and regions of interest.
    #[serde(default)]
    pub filters: Option<DetectTextFilters>,
}

/// DetectText answer. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectText.html#API_DetectText_ResponseSyntax>
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DetectTextResponse {
    /// LINEs then WORDs.
    pub text_detections: Vec<TextDetection>,
    /// E.g. `3.0`.
    pub text_model_version: String,
}

/// `{Value: bool, Confidence}`: the shape of `Smile`, `Eyeglasses`, `Sunglasses`, `Beard`,
/// `Mustache`, `EyesOpen`, `MouthOpen`, `FaceOccluded`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct BoolAttribute {
    /// Whether the attribute is present.
    pub value: bool,
    /// 0..100.
    pub confidence: f32,
}

/// Estimated age range in years. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_AgeRange.html>
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AgeRange {
    /// Years.
    pub low: u32,
    /// Years.
    pub high: u32,
}

/// `Male` or `Female`. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_Gender.html>
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GenderType {
    /// Male.
    Male,
    /// Female.
    Female,
}

/// Predicted gender presentation. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_Gender.html>
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Gender {
    /// `Male` or `Female`.
    pub value: GenderType,
    /// 0..100.
    pub confidence: f32,
}

/// Emotion names. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_Emotion.html>
// Each variant is the API value of the same name.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EmotionName {
    Happy,
    Sad,
    Angry,
    Confused,
    Disgusted,
    Surprised,
    Calm,
    Unknown,
    Fear,
}

/// One emotion. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_Emotion.html>
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Emotion {
    /// E.g. `HAPPY`.
    #[serde(rename = "Type")]
    pub kind: EmotionName,
    /// 0..100.
    pub confidence: f32,
}

/// Facial landmark types. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_Landmark.html>
// Each variant is the API value of the same name.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LandmarkType {
    EyeLeft,
    EyeRight,
    Nose,
    MouthLeft,
    MouthRight,
    LeftEyeBrowLeft,
    LeftEyeBrowRight,
    LeftEyeBrowUp,
    RightEyeBrowLeft,
    RightEyeBrowRight,
    RightEyeBrowUp,
    LeftEyeLeft,
    LeftEyeRight,
    LeftEyeUp,
    LeftEyeDown,
    RightEyeLeft,
    RightEyeRight,
    RightEyeUp,
    RightEyeDown,
    NoseLeft,
    NoseRight,
    MouthUp,
    MouthDown,
    LeftPupil,
    RightPupil,
    UpperJawlineLeft,
    MidJawlineLeft,
    ChinBottom,
    MidJawlineRight,
    UpperJawlineRight,
}

/// A facial landmark as ratios of the image size.
/// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_Landmark.html>
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Landmark {
    /// Which landmark.
    #[serde(rename = "Type")]
    pub kind: LandmarkType,
    /// Ratio of the image width.
    pub x: f32,
    /// Ratio of the image height.
    pub y: f32,
}

/// Head pose in degrees (-180..180). <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_Pose.html>
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Pose {
    /// Degrees.
    pub roll: f32,
    /// Degrees.
    pub yaw: f32,
    /// Degrees.
    pub pitch: f32,
}

/// Face image quality, 0..100 each. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_ImageQuality.html>
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ImageQuality {
    /// 0..100.
    pub brightness: f32,
    /// 0..100.
    pub sharpness: f32,
}

/// Gaze direction in degrees. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_EyeDirection.html>
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct EyeDirection {
    /// Degrees.
    pub yaw: f32,
    /// Degrees.
    pub pitch: f32,
    /// 0..100.
    pub confidence: f32,
}

/// One detected face. `BoundingBox`, `Confidence`, `Landmarks`, `Pose` and `Quality` are the
/// DEFAULT attributes; the others are returned only when requested (`ALL` or by name).
///
/// <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_FaceDetail.html>
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct FaceDetail {
    /// Where the face is (DEFAULT).
    pub bounding_box: BoundingBox,
    /// 0..100: confidence that the box holds a face.
    pub confidence: f32,
    /// Estimated age range in years (`AGE_RANGE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_range: Option<AgeRange>,
    /// Smiling (`SMILE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smile: Option<BoolAttribute>,
    /// Wearing eyeglasses (`EYEGLASSES`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eyeglasses: Option<BoolAttribute>,
    /// Wearing sunglasses (`SUNGLASSES`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sunglasses: Option<BoolAttribute>,
    /// Predicted gender presentation (`GENDER`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    /// Has a beard (`BEARD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beard: Option<BoolAttribute>,
    /// Has a mustache (`MUSTACHE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mustache: Option<BoolAttribute>,
    /// Eyes open (`EYES_OPEN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eyes_open: Option<BoolAttribute>,
    /// Mouth open (`MOUTH_OPEN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mouth_open: Option<BoolAttribute>,
    /// Emotions with confidences (`EMOTIONS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emotions: Option<Vec<Emotion>>,
    /// Facial landmarks (DEFAULT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landmarks: Option<Vec<Landmark>>,
    /// Head pose in degrees (DEFAULT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pose: Option<Pose>,
    /// Brightness and sharpness of the face, 0..100 (DEFAULT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<ImageQuality>,
    /// Face partly hidden (`FACE_OCCLUDED`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_occluded: Option<BoolAttribute>,
    /// Gaze direction (`EYE_DIRECTION`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eye_direction: Option<EyeDirection>,
}

/// DetectFaces request. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectFaces.html>
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DetectFacesRequest {
    /// Required.
    #[serde(default)]
    pub image: Option<Image>,
    /// `DEFAULT`, `ALL`, or attribute names such as `AGE_RANGE`, `EMOTIONS`.
    #[serde(default)]
    pub attributes: Option<Vec<String>>,
}

/// DetectFaces answer. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectFaces.html#API_DetectFaces_ResponseSyntax>
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DetectFacesResponse {
    /// Up to 100 faces, largest first.
    pub face_details: Vec<FaceDetail>,
}

/// CompareFaces request. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_CompareFaces.html>
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompareFacesRequest {
    /// Required; its largest face is compared.
    #[serde(default)]
    pub source_image: Option<Image>,
    /// Required; up to 100 of its largest faces are compared.
    #[serde(default)]
    pub target_image: Option<Image>,
    /// 0..100; default 80.
    #[serde(default)]
    pub similarity_threshold: Option<f64>,
    /// `NONE`, `AUTO`, `LOW`, `MEDIUM`, `HIGH` (accepted, not applied).
    #[serde(default)]
    pub quality_filter: Option<String>,
}

/// The source face of CompareFaces. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_ComparedSourceImageFace.html>
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ComparedSourceImageFace {
    /// Where it is in the source image.
    pub bounding_box: BoundingBox,
    /// 0..100.
    pub confidence: f32,
}

/// A target face of CompareFaces. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_ComparedFace.html>
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ComparedFace {
    /// Where the face is in the target image.
    pub bounding_box: BoundingBox,
    /// 0..100: confidence that the box holds a face.
    pub confidence: f32,
    /// Facial landmarks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landmarks: Option<Vec<Landmark>>,
    /// Head pose in degrees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pose: Option<Pose>,
    /// Brightness and sharpness, 0..100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<ImageQuality>,
    /// Emotions with confidences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emotions: Option<Vec<Emotion>>,
    /// Smiling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smile: Option<BoolAttribute>,
}

impl From<&FaceDetail> for ComparedFace {
    fn from(face: &FaceDetail) -> Self {
        ComparedFace {
            bounding_box: face.bounding_box,
            confidence: face.confidence,
            landmarks: face.landmarks.clone(),
            pose: face.pose,
            quality: face.quality,
            emotions: face.emotions.clone(),
            smile: face.smile,
        }
    }
}

/// A matched target face. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_CompareFacesMatch.html>
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompareFacesMatch {
    /// 0..100.
    pub similarity: f32,
    /// The target face.
    pub face: ComparedFace,
}

/// CompareFaces answer. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_CompareFaces.html#API_CompareFaces_ResponseSyntax>
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompareFacesResponse {
    /// The largest face of the source image.
    pub source_image_face: ComparedSourceImageFace,
    /// Target faces at or above `SimilarityThreshold`, most similar first.
    pub face_matches: Vec<CompareFacesMatch>,
    /// The other target faces.
    pub unmatched_faces: Vec<ComparedFace>,
}

/// One moderation label. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_ModerationLabel.html>
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ModerationLabel {
    /// 0..100.
    pub confidence: f32,
    /// E.g. `Weapons`.
    pub name: String,
    /// E.g. `Violence`; empty for a top-level label.
    pub parent_name: String,
    /// 1, 2 or 3 in the moderation taxonomy.
    pub taxonomy_level: u32,
}

/// DetectModerationLabels request. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectModerationLabels.html>
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DetectModerationLabelsRequest {
    /// Required.
    #[serde(default)]
    pub image: Option<Image>,
    /// 0..100; default 50.
    #[serde(default)]
    pub min_confidence: Option<f64>,
}

/// DetectModerationLabels answer. <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectModerationLabels.html#API_DetectModerationLabels_ResponseSyntax>
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DetectModerationLabelsResponse {
    /// Highest confidence first.
    pub moderation_labels: Vec<ModerationLabel>,
    /// E.g. `7.0`.
    pub moderation_model_version: String,
}
