//! Text: PP-OCRv4 mobile detector (DB, differentiable binarisation) and recogniser (SVTR-LCNet
//! with CTC) from the PyPI package `rapidocr-onnxruntime` 1.4.4 (Apache-2.0).
//!
//! Pre- and post-processing follow that package (`ch_ppocr_det`, `ch_ppocr_rec`): BGR input
//! scaled to `(v / 255 - 0.5) / 0.5`, NCHW; the detector runs with the longer side brought
//! into 640..=960 px (multiples of 32); the probability map is thresholded at 0.3, its
//! connected regions scored (mean probability ≥ 0.5) and grown by the DB "unclip" distance
//! (area × 1.6 / perimeter). Boxes here are axis-aligned (upright text). Each line is read at
//! 48 px high; CTC greedy decoding over the 6,623-character dictionary stored in the model's
//! metadata (`character`), plus blank and space. Words are the line split at spaces, each
//! boxed by the CTC time steps of its characters. Lines under 50 % confidence are dropped.
//! <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectText.html>

use std::collections::VecDeque;
use std::path::Path;

use image::imageops;
use image::{Rgb, RgbImage};
use ort::environment::Environment;

use super::{Model, VisionError};
use crate::fixtures::{TextLine, TextWord};
use crate::model::BoundingBox;

/// `TextModelVersion` of a DetectText answer from the models.
pub const MODEL_VERSION: &str = "pp-ocrv4";

/// How the OCR models are named in reports.
pub const MODEL_NAME: &str = "PP-OCRv4 det + rec (text, rapidocr-onnxruntime 1.4.4)";

const DET: &str = "ocr/ch_PP-OCRv4_det_infer.onnx";
const REC: &str = "ocr/ch_PP-OCRv4_rec_infer.onnx";
const BINARY_THRESHOLD: f32 = 0.3;
const BOX_THRESHOLD: f32 = 0.5;
const UNCLIP_RATIO: f32 = 1.6;
const MIN_BOX_SIDE: f32 = 3.0;
const MAX_CANDIDATES: usize = 1000;
const REC_HEIGHT: u32 = 48;
const REC_MIN_WIDTH: u32 = 320;
const REC_MAX_WIDTH: u32 = 3200;
const LINE_MIN_CONFIDENCE: f32 = 0.5;

/// The PP-OCR detector and recogniser.
#[derive(Debug)]
pub struct PpOcr {
    det: Model,
    rec: Model,
    /// Index → character: blank, the dictionary, space.
    characters: Vec<String>,
}

/// A text box in pixels of the original image: `[x1, y1, x2, y2]`.
type PixelBox = [f32; 4];

fn to_chw_bgr(img: &RgbImage, width: u32) -> Vec<f32> {
    let (w, h) = img.dimensions();
    let plane = (width * h) as usize;
    // Zero after normalisation (grey) pads the right of narrower images.
    let mut out = vec![0.0f32; plane * 3];
    for y in 0..h {
        for x in 0..w.min(width) {
            let Rgb([r, g, b]) = *img.get_pixel(x, y);
            let i = (y * width + x) as usize;
            for (c, v) in [b, g, r].into_iter().enumerate() {
                out[c * plane + i] = (f32::from(v) / 255.0 - 0.5) / 0.5;
            }
        }
    }
    out
}

/// Connected regions (8-neighbour) of `mask` (`w × h`), each as its pixel indices.
fn regions(mask: &[bool], w: usize, h: usize) -> Vec<Vec<usize>> {
    let mut seen = vec![false; mask.len()];
    let mut out = Vec::new();
    let mut queue = VecDeque::new();
    for start in 0..mask.len() {
        if !mask[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        queue.push_back(start);
        let mut region = Vec::new();
        while let Some(p) = queue.pop_front() {
            region.push(p);
            let (x, y) = ((p % w) as i64, (p / w) as i64);
            for dy in -1..=1 {
                for dx in -1..=1 {
                    let (nx, ny) = (x + dx, y + dy);
                    if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                        continue;
                    }
                    let q = ny as usize * w + nx as usize;
                    if mask[q] && !seen[q] {
                        seen[q] = true;
                        queue.push_back(q);
                    }
                }
            }
        }
        out.push(region);
        if out.len() >= MAX_CANDIDATES {
            break;
        }
    }
    out
}

/// Text boxes from the detector's probability map (`w × h`), in map pixels.
fn boxes_from_map(prob: &[f32], w: usize, h: usize) -> Vec<(PixelBox, f32)> {
    let mask: Vec<bool> = prob.iter().map(|&p| p > BINARY_THRESHOLD).collect();
    let mut out = Vec::new();
    for region in regions(&mask, w, h) {
        let (mut x1, mut y1, mut x2, mut y2) = (usize::MAX, usize::MAX, 0, 0);
        for &p in &region {
            let (x, y) = (p % w, p / w);
            x1 = x1.min(x);
            y1 = y1.min(y);
            x2 = x2.max(x);
            y2 = y2.max(y);
        }
        let bw = (x2 - x1 + 1) as f32;
        let bh = (y2 - y1 + 1) as f32;
        if bw.min(bh) < MIN_BOX_SIDE {
            continue;
        }
        let mut sum = 0.0;
        for y in y1..=y2 {
            sum += prob[y * w + x1..=y * w + x2].iter().sum::<f32>();
        }
        let score = sum / (bw * bh);
        if score < BOX_THRESHOLD {
            continue;
        }
        let d = bw * bh * UNCLIP_RATIO / (2.0 * (bw + bh));
        out.push((
            [
                (x1 as f32 - d).max(0.0),
                (y1 as f32 - d).max(0.0),
                (x2 as f32 + 1.0 + d).min(w as f32),
                (y2 as f32 + 1.0 + d).min(h as f32),
            ],
            score,
        ));
    }
    out
}

/// The detector's input size for an image: the longer side into 640..=960, multiples of 32.
fn det_size(w: u32, h: u32) -> (u32, u32) {
    let long = w.max(h) as f32;
    let ratio = if long > 960.0 {
        960.0 / long
    } else if long < 640.0 {
        640.0 / long
    } else {
        1.0
    };
    let round32 = |v: f32| (((v * ratio) / 32.0).round() as u32).max(1) * 32;
    (round32(w as f32), round32(h as f32))
}

/// One decoded line: text, per-character confidence and time step.
struct Decoded {
    chars: Vec<(String, f32, usize)>,
    steps: usize,
}

impl PpOcr {
    /// Loads the detector and the recogniser (with its dictionary) from the models folder.
    ///
    /// Errors: as [`Model::load`]; [`VisionError::Runtime`] when the recogniser has no
    /// `character` metadata.
    pub fn load(env: &Environment, dir: &Path) -> Result<Self, VisionError> {
        let det = Model::load(env, dir, DET, "PP-OCRv4 detector")?;
        let rec = Model::load(env, dir, REC, "PP-OCRv4 recogniser")?;
        let dictionary = rec
            .metadata("character")
            .ok_or_else(|| VisionError::Runtime {
                path: dir.join(REC),
                message: "the model has no `character` metadata (its dictionary)".to_owned(),
            })?;
        let mut characters = vec![String::new()];
        characters.extend(dictionary.lines().map(str::to_owned));
        characters.push(" ".to_owned());
        Ok(PpOcr {
            det,
            rec,
            characters,
        })
    }

    /// Text boxes in image pixels, top to bottom then left to right.
    fn detect(&self, img: &RgbImage) -> Result<Vec<PixelBox>, VisionError> {
        let (w, h) = img.dimensions();
        let (dw, dh) = det_size(w, h);
        let resized = super::resize_triangle(img, dw, dh);
        let out = self
            .det
            .run(&[1, 3, dh as usize, dw as usize], to_chw_bgr(&resized, dw))?;
        let map = out.first().ok_or_else(|| VisionError::Inference {
            model: "PP-OCRv4 detector",
            message: "no output".to_owned(),
        })?;
        let (mh, mw) = match map.shape.as_slice() {
            [1, 1, mh, mw] => (*mh, *mw),
            _ => {
                return Err(VisionError::Inference {
                    model: "PP-OCRv4 detector",
                    message: format!("unexpected output shape {:?}", map.shape),
                });
            }
        };
        let (sx, sy) = (w as f32 / mw as f32, h as f32 / mh as f32);
        let mut boxes: Vec<PixelBox> = boxes_from_map(&map.data, mw, mh)
            .into_iter()
            .map(|(b, _)| [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy])
            .collect();
        boxes.sort_by(|a, b| a[1].total_cmp(&b[1]).then(a[0].total_cmp(&b[0])));
        // Same row (within 10 px): left to right, as the reference sorts.
        for i in 1..boxes.len() {
            let mut j = i;
            while j > 0
                && (boxes[j][1] - boxes[j - 1][1]).abs() < 10.0
                && boxes[j][0] < boxes[j - 1][0]
            {
                boxes.swap(j, j - 1);
                j -= 1;
            }
        }
        Ok(boxes)
    }

    fn recognise(&self, crop: &RgbImage) -> Result<(Decoded, u32, u32), VisionError> {
        let (cw, ch) = crop.dimensions();
        let ratio = cw as f32 / ch.max(1) as f32;
        let rw = ((REC_HEIGHT as f32 * ratio).ceil() as u32).clamp(1, REC_MAX_WIDTH);
        let input_w = rw.max(REC_MIN_WIDTH);
        let resized = super::resize_triangle(crop, rw, REC_HEIGHT);
        let out = self.rec.run(
            &[1, 3, REC_HEIGHT as usize, input_w as usize],
            to_chw_bgr(&resized, input_w),
        )?;
        let probs = out.first().ok_or_else(|| VisionError::Inference {
            model: "PP-OCRv4 recogniser",
            message: "no output".to_owned(),
        })?;
        let (steps, classes) = match probs.shape.as_slice() {
            [1, t, c] => (*t, *c),
            _ => {
                return Err(VisionError::Inference {
                    model: "PP-OCRv4 recogniser",
                    message: format!("unexpected output shape {:?}", probs.shape),
                });
            }
        };
        let mut chars = Vec::new();
        let mut previous = 0usize;
        for t in 0..steps {
            let row = &probs.data[t * classes..(t + 1) * classes];
            let (best, p) = row
                .iter()
                .enumerate()
                .fold(
                    (0usize, f32::MIN),
                    |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc },
                );
            if best != 0 && best != previous {
                let c = self.characters.get(best).cloned().unwrap_or_default();
                chars.push((c, p, t));
            }
            previous = best;
        }
        Ok((Decoded { chars, steps }, rw, input_w))
    }

    /// Lines of text with their words, top to bottom, as ratios of the image size.
    ///
    /// Errors: [`VisionError::Inference`].
    pub fn read(&self, img: &RgbImage) -> Result<Vec<TextLine>, VisionError> {
        let (w, h) = (img.width() as f32, img.height() as f32);
        let mut lines = Vec::new();
        for b in self.detect(img)? {
            let (x1, y1) = (b[0].floor().max(0.0), b[1].floor().max(0.0));
            let (x2, y2) = (b[2].ceil().min(w), b[3].ceil().min(h));
            let (cw, ch) = ((x2 - x1) as u32, (y2 - y1) as u32);
            if cw < 2 || ch < 2 {
                continue;
            }
            let crop = imageops::crop_imm(img, x1 as u32, y1 as u32, cw, ch).to_image();
            let (decoded, rw, input_w) = self.recognise(&crop)?;
            let text: String = decoded.chars.iter().map(|c| c.0.as_str()).collect();
            let text = text.trim().to_owned();
            if text.is_empty() || decoded.steps == 0 {
                continue;
            }
            let scores: Vec<f32> = decoded.chars.iter().map(|c| c.1).collect();
            let confidence = scores.iter().sum::<f32>() / scores.len() as f32;
            if confidence < LINE_MIN_CONFIDENCE {
                continue;
            }
            // Input pixels per CTC step, then back to crop pixels.
            let step = input_w as f32 / decoded.steps as f32;
            let to_crop = cw as f32 / rw as f32;
            let ratio_box = |left: f32, right: f32| BoundingBox {
                left: left / w,
                top: y1 / h,
                width: (right - left).max(0.0) / w,
                height: (y2 - y1) / h,
            };
            let mut words = Vec::new();
            let mut current: Vec<&(String, f32, usize)> = Vec::new();
            let flush = |current: &mut Vec<&(String, f32, usize)>, words: &mut Vec<TextWord>| {
                if let (Some(first), Some(last)) = (current.first(), current.last()) {
                    let left = (x1 + first.2 as f32 * step * to_crop).clamp(x1, x2);
                    let right = (x1 + (last.2 + 1) as f32 * step * to_crop).clamp(x1, x2);
                    let conf = current.iter().map(|c| c.1).sum::<f32>() / current.len() as f32;
                    words.push(TextWord {
                        detected_text: current.iter().map(|c| c.0.as_str()).collect(),
                        confidence: (conf * 100.0).clamp(0.0, 100.0),
                        bounding_box: ratio_box(left, right),
                        polygon: None,
                    });
                }
                current.clear();
            };
            for c in &decoded.chars {
                if c.0.trim().is_empty() {
                    flush(&mut current, &mut words);
                } else {
                    current.push(c);
                }
            }
            flush(&mut current, &mut words);
            lines.push(TextLine {
                detected_text: text,
                confidence: (confidence * 100.0).clamp(0.0, 100.0),
                bounding_box: ratio_box(x1, x2),
                polygon: None,
                words,
            });
        }
        Ok(lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn det_size_keeps_the_longer_side_in_640_to_960_in_multiples_of_32() {
        assert_eq!(det_size(448, 172), (640, 256));
        assert_eq!(det_size(1920, 1080), (960, 544));
        assert_eq!(det_size(800, 600), (800, 608));
    }

    #[test]
    fn a_bright_rectangle_in_the_map_becomes_one_grown_box() {
        let (w, h) = (40, 20);
        let mut prob = vec![0.0f32; w * h];
        for y in 5..10 {
            for x in 10..30 {
                prob[y * w + x] = 0.9;
            }
        }
        let boxes = boxes_from_map(&prob, w, h);
        assert_eq!(boxes.len(), 1);
        let ([x1, y1, x2, y2], score) = boxes[0];
        assert!(
            x1 < 10.0 && y1 < 5.0 && x2 > 30.0 && y2 > 10.0,
            "{:?}",
            boxes[0]
        );
        assert!((score - 0.9).abs() < 1e-4);
    }
}
