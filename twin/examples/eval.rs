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
//! - CompareFaces: same-person accuracy on those copies (needs a face embedding: none yet).
//!
//! Run: `cargo run --release -p argus-twin --example eval` (models from `make models`).

use std::path::{Path, PathBuf};

use argus_twin::ops::DEFAULT_LABELS_MIN_CONFIDENCE;
use argus_twin::vision::{Models, Task, models_dir};
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
    println!(
        "CompareFaces  same-person accuracy: not measured (no face embedding model yet; a face matches only itself)"
    );
    Ok(())
}
