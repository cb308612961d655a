//! `make eval`: argus-twin's models on the evaluation set (`twin/eval/`), one figure per line.
//!
//! - Labels: precision and recall of the top 5 label names (by confidence, after the
//!   default MinConfidence of 55) against `twin/eval/labels.tsv` (the samples, and the real
//!   photos `make models` unpacks into the models folder's `photos/`).
//! - OCR: character accuracy, `1 - edit distance / expected length`, of the lines read in each
//!   image of `twin/eval/text/` (rendered by `twin/eval/render_text.py`) against
//!   `expected.tsv`.
//! - Faces: detection recall on the samples with one face and copies the eval makes of them
//!   (mirrored, scaled to 50 % and 150 %, cropped, darkened).
//! - CompareFaces: same/different accuracy and the embedding distances. Same person: a
//!   portrait (each face of the photos below, cropped with its surroundings) against copies of
//!   it mirrored, scaled to 50 % and 150 %, rotated by 10° and −15°, brightened and darkened
//!   (the face nearest the centre of each). Different people: every pair of faces inside one photo, and the
//!   astronaut against every other face. The photos: `samples/astronaut.png` and the six group
//!   photos of the npm package `@vladmandic/face-api` 1.7.15 (`demo/sample1..6.jpg`, MIT,
//!   unpacked by `make models` into `<models>/eval/faces/` and pinned in the manifest). Faces of
//!   different photos are never paired: the same person may be in two of them.
//!
//! Run: `cargo run --release -p argus-twin --example eval` (models from `make models`).

use std::path::{Path, PathBuf};

use argus_twin::fixtures::FixtureFace;
use argus_twin::ops::DEFAULT_LABELS_MIN_CONFIDENCE;
use argus_twin::vision::embedding::{self, distance, similarity};
use argus_twin::vision::{Models, Task, models_dir, read_verified};
use image::RgbImage;
use image::imageops::{self, FilterType};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn load(path: &Path) -> anyhow::Result<RgbImage> {
    let bytes = std::fs::read(path)?;
    let sha = argus_twin::inspect::sha256_hex(&bytes);
    let (_, rgb) = argus_twin::inspect::decode_with_sha256(&bytes, sha)
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message))?;
    Ok(rgb)
}

fn rows(path: &Path) -> anyhow::Result<Vec<(String, Vec<String>)>> {
    Ok(std::fs::read_to_string(path)?
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once('\t'))
        .map(|(f, e)| {
            (
                f.to_owned(),
                e.split(" | ").map(|s| s.trim().to_owned()).collect(),
            )
        })
        .collect())
}

fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn face_variants(img: &RgbImage) -> Vec<(&'static str, RgbImage)> {
    let (w, h) = img.dimensions();
    let mut dark = img.clone();
    for p in dark.pixels_mut() {
        for c in p.0.iter_mut() {
            *c = (*c as f32 * 0.5) as u8;
        }
    }
    vec![
        ("original", img.clone()),
        ("mirrored", imageops::flip_horizontal(img)),
        (
            "scaled 50%",
            imageops::resize(img, w / 2, h / 2, FilterType::Triangle),
        ),
        (
            "scaled 150%",
            imageops::resize(img, w * 3 / 2, h * 3 / 2, FilterType::Triangle),
        ),
        (
            "cropped",
            imageops::crop_imm(img, w / 8, 0, w * 3 / 4, h * 3 / 4).to_image(),
        ),
        ("darkened", dark),
    ]
}

fn main() -> anyhow::Result<()> {
    let models = Models::load(&models_dir())?;
    let samples = root().join("../samples");

    // Labels.
    let (mut hits, mut recalled, mut predicted, mut expected_total, mut images) =
        (0usize, 0usize, 0usize, 0usize, 0usize);
    for (file, expected) in rows(&root().join("eval/labels.tsv"))? {
        // `photos/…` are in the models folder (`make models`), the rest in samples/.
        let path = if file.starts_with("photos/") {
            models.dir.join(&file)
        } else {
            samples.join(&file)
        };
        let seen = models.see(&load(&path)?, Task::Labels)?;
        let top: Vec<String> = seen
            .labels
            .iter()
            .filter(|l| f64::from(l.confidence) >= DEFAULT_LABELS_MIN_CONFIDENCE)
            .take(5)
            .map(|l| l.name.clone())
            .collect();
        let found = expected.iter().filter(|e| top.contains(e)).count();
        let relevant = top.iter().filter(|t| expected.contains(t)).count();
        println!(
            "labels  {file:<24} top 5 {top:?}; expected found {found}/{}",
            expected.len()
        );
        hits += relevant;
        recalled += found;
        predicted += top.len();
        expected_total += expected.len();
        images += 1;
    }
    println!(
        "DetectLabels  top-5 precision {:.2}, recall {:.2} ({images} images)",
        hits as f64 / predicted.max(1) as f64,
        recalled as f64 / expected_total.max(1) as f64,
    );

    // OCR.
    let (mut errors, mut chars) = (0usize, 0usize);
    let text_dir = root().join("eval/text");
    for (file, lines) in rows(&text_dir.join("expected.tsv"))? {
        let seen = models.see(&load(&text_dir.join(&file))?, Task::Text)?;
        let got: Vec<String> = seen
            .text_lines
            .iter()
            .map(|l| l.detected_text.clone())
            .collect();
        let want: Vec<char> = lines.join("\n").chars().collect();
        let have: Vec<char> = got.join("\n").chars().collect();
        let d = edit_distance(&want, &have);
        println!(
            "text    {file:<24} accuracy {:.3}  read {got:?}",
            1.0 - d as f64 / want.len().max(1) as f64
        );
        errors += d;
        chars += want.len();
    }
    println!(
        "DetectText    character accuracy {:.3} ({chars} characters)",
        1.0 - errors as f64 / chars.max(1) as f64
    );

    // Faces.
    let (mut found, mut wanted) = (0usize, 0usize);
    for file in ["astronaut.png"] {
        for (name, img) in face_variants(&load(&samples.join(file))?) {
            let seen = models.see(&img, Task::Faces)?;
            wanted += 1;
            found += usize::from(!seen.faces.is_empty());
            println!("faces   {file} {name:<12} {} face(s)", seen.faces.len());
        }
    }
    println!(
        "DetectFaces   recall {:.2} ({found}/{wanted} faces)",
        found as f64 / wanted.max(1) as f64
    );
    compare_faces(&models, &samples)
}

/// The face with an embedding nearest the image's centre (a portrait is centred on its face,
/// and every copy keeps the centre; a neighbour's face may be larger).
fn central(faces: &[FixtureFace]) -> Option<&FixtureFace> {
    let off_centre = |f: &FixtureFace| {
        let b = f.detail.bounding_box;
        (b.left + b.width / 2.0 - 0.5).powi(2) + (b.top + b.height / 2.0 - 0.5).powi(2)
    };
    faces
        .iter()
        .filter(|f| f.embedding.is_some())
        .min_by(|a, b| off_centre(a).total_cmp(&off_centre(b)))
}

/// `img` rotated by `degrees` about its centre (same size, black corners).
fn rotated(img: &RgbImage, degrees: f32) -> RgbImage {
    let (w, h) = img.dimensions();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (b, a) = degrees.to_radians().sin_cos();
    embedding::warp(
        img,
        [a, b, cx - a * cx + b * cy, cy - b * cx - a * cy],
        w,
        h,
    )
}

/// The same-person copies of a portrait.
fn portrait_variants(img: &RgbImage) -> Vec<(&'static str, RgbImage)> {
    let (w, h) = img.dimensions();
    let tone = |f: f32| {
        let mut out = img.clone();
        for p in out.pixels_mut() {
            for c in p.0.iter_mut() {
                *c = (f32::from(*c) * f).clamp(0.0, 255.0) as u8;
            }
        }
        out
    };
    vec![
        ("mirrored", imageops::flip_horizontal(img)),
        (
            "scaled 50%",
            imageops::resize(img, w / 2, h / 2, FilterType::Triangle),
        ),
        (
            "scaled 150%",
            imageops::resize(img, w * 3 / 2, h * 3 / 2, FilterType::Triangle),
        ),
        ("rotated 10°", rotated(img, 10.0)),
        ("rotated -15°", rotated(img, -15.0)),
        ("brightened", tone(1.4)),
        ("darkened", tone(0.5)),
    ]
}

/// The face's box grown to twice its size (clipped to the image), as a portrait.
fn portrait(img: &RgbImage, face: &FixtureFace) -> RgbImage {
    let b = face.detail.bounding_box;
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (cx, cy) = ((b.left + b.width / 2.0) * w, (b.top + b.height / 2.0) * h);
    // Half the portrait's side: the face's longer side (the portrait is twice the face).
    let side = (b.width * w).max(b.height * h);
    let x0 = (cx - side).max(0.0) as u32;
    let y0 = (cy - side).max(0.0) as u32;
    let x1 = ((cx + side).min(w) as u32).max(x0 + 1);
    let y1 = ((cy + side).min(h) as u32).max(y0 + 1);
    imageops::crop_imm(img, x0, y0, x1 - x0, y1 - y0).to_image()
}

fn summary(name: &str, d: &mut [f32]) -> String {
    d.sort_by(f32::total_cmp);
    if d.is_empty() {
        return format!("{name}: none");
    }
    let q = |p: f32| d[((d.len() - 1) as f32 * p).round() as usize];
    format!(
        "{name} distance min {:.3}, p10 {:.3}, median {:.3}, p90 {:.3}, max {:.3}",
        q(0.0),
        q(0.1),
        q(0.5),
        q(0.9),
        q(1.0)
    )
}

fn compare_faces(models: &Models, samples: &Path) -> anyhow::Result<()> {
    let mut photos = vec![(
        "astronaut.png".to_owned(),
        load(&samples.join("astronaut.png"))?,
    )];
    for i in 1..=6 {
        let file = format!("eval/faces/face-api-sample{i}.jpg");
        // Pinned in the manifest like the models (make models unpacks it).
        let bytes = read_verified(&models.dir, &file)?;
        let sha = argus_twin::inspect::sha256_hex(&bytes);
        let (_, rgb) = argus_twin::inspect::decode_with_sha256(&bytes, sha)
            .map_err(|e| anyhow::anyhow!("{file}: {}", e.message))?;
        photos.push((file, rgb));
    }
    let (mut same, mut different) = (Vec::new(), Vec::new());
    let mut astronaut: Option<Vec<f32>> = None;
    let mut others: Vec<Vec<f32>> = Vec::new();
    let mut lost = 0usize;
    for (file, img) in &photos {
        let faces = models.faces_with_embeddings(img)?;
        let embeddings: Vec<&Vec<f32>> =
            faces.iter().filter_map(|f| f.embedding.as_ref()).collect();
        println!("compare {file:<36} {} face(s)", embeddings.len());
        for (i, a) in embeddings.iter().enumerate() {
            for b in &embeddings[i + 1..] {
                different.push(distance(a, b));
            }
        }
        if file == "astronaut.png" {
            astronaut = embeddings.first().map(|e| (*e).clone());
        } else {
            others.extend(embeddings.iter().map(|e| (*e).clone()));
        }
        for face in faces.iter().filter(|f| f.embedding.is_some()) {
            let portrait = portrait(img, face);
            let seen = models.faces_with_embeddings(&portrait)?;
            let Some(source) = central(&seen).and_then(|f| f.embedding.clone()) else {
                lost += 1;
                continue;
            };
            for (name, copy) in portrait_variants(&portrait) {
                let seen = models.faces_with_embeddings(&copy)?;
                match central(&seen).and_then(|f| f.embedding.as_ref()) {
                    Some(e) => {
                        let d = distance(&source, e);
                        if similarity(d) < 90.0 {
                            println!(
                                "compare {file} {name}: same person at distance {d:.3} (similarity {:.1})",
                                similarity(d)
                            );
                        }
                        same.push(d);
                    }
                    None => lost += 1,
                }
            }
        }
    }
    if let Some(a) = &astronaut {
        different.extend(others.iter().map(|o| distance(a, o)));
    }
    let same_ok = same.iter().filter(|&&d| similarity(d) >= 90.0).count();
    let different_ok = different.iter().filter(|&&d| similarity(d) < 50.0).count();
    println!("{}", summary("compare same person     ", &mut same));
    println!("{}", summary("compare different people", &mut different));
    println!(
        "CompareFaces  same person >= 90: {:.3} ({same_ok}/{} pairs; {lost} copies without a face), \
         different people < 50: {:.3} ({different_ok}/{} pairs), accuracy {:.3}",
        same_ok as f64 / same.len().max(1) as f64,
        same.len(),
        different_ok as f64 / different.len().max(1) as f64,
        different.len(),
        (same_ok + different_ok) as f64 / (same.len() + different.len()).max(1) as f64,
    );
    Ok(())
}
