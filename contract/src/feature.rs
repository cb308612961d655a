//! [`Feature`]: one Rekognition analysis a stage can enable.

use std::fmt;
use std::str::FromStr;

/// One Rekognition analysis a stage can enable: `analysis.features` in the stage config
/// (deserialized from the lower-case names), [`crate::env::FEATURES`] (comma-separated) in the
/// processor's environment, and the IAM action the processor's role is granted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// `labels`: DetectLabels.
    Labels,
    /// `text`: DetectText (OCR).
    Text,
    /// `faces`: DetectFaces.
    Faces,
    /// `moderation`: DetectModerationLabels.
    Moderation,
}

impl Feature {
    /// Every feature, in the order the processor runs them.
    pub const ALL: [Feature; 4] = [
        Feature::Labels,
        Feature::Text,
        Feature::Faces,
        Feature::Moderation,
    ];

    /// The name used in the stage config and in [`crate::env::FEATURES`].
    pub fn as_str(self) -> &'static str {
        match self {
            Feature::Labels => "labels",
            Feature::Text => "text",
            Feature::Faces => "faces",
            Feature::Moderation => "moderation",
        }
    }

    /// The IAM action of the Rekognition operation the feature calls, for the processor's
    /// policy (<https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrekognition.html>).
    pub fn iam_action(self) -> &'static str {
        match self {
            Feature::Labels => "rekognition:DetectLabels",
            Feature::Text => "rekognition:DetectText",
            Feature::Faces => "rekognition:DetectFaces",
            Feature::Moderation => "rekognition:DetectModerationLabels",
        }
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`Feature::ALL`].
#[derive(Debug, PartialEq, Eq)]
pub struct UnknownFeature(pub String);

impl fmt::Display for UnknownFeature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown feature `{}`; expected labels, text, faces or moderation",
            self.0
        )
    }
}

impl std::error::Error for UnknownFeature {}

impl FromStr for Feature {
    type Err = UnknownFeature;

    /// Parses a feature name, case-insensitively (`labels`, `text`, `faces`, `moderation`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Feature::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownFeature(s.to_owned()))
    }
}

/// Compares with a feature name (`Feature::Labels == "labels"`).
impl PartialEq<&str> for Feature {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_round_trip_through_parse_and_serde() {
        for feature in Feature::ALL {
            assert_eq!(feature.as_str().parse::<Feature>().unwrap(), feature);
            let from_json: Feature =
                serde_json::from_value(serde_json::json!(feature.as_str())).unwrap();
            assert_eq!(from_json, feature);
        }
        assert_eq!("LABELS".parse::<Feature>().unwrap(), Feature::Labels);
        assert_eq!(
            "ocr".parse::<Feature>().unwrap_err().to_string(),
            "unknown feature `ocr`; expected labels, text, faces or moderation"
        );
    }
}
