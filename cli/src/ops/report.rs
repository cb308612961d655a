//! The results report (`argus report`, the end of `make demo`): a self-contained HTML page of a
//! stage's results, one card per image with its faces, text lines and label instances boxed on
//! the image.
//!
//! `DIR/index.html` holds everything it needs inline (no external scripts, fonts or CSS); the
//! images are copied into `DIR/images/` and each record into `DIR/results/<imageId>.json`.
//! Boxes are Rekognition's bounding boxes, ratios of the image's width and height
//! (<https://docs.aws.amazon.com/rekognition/latest/APIReference/API_BoundingBox.html>), drawn
//! in an SVG whose view box is the image's size in pixels. Every string that comes from a
//! record (object keys, OCR text, labels, reasons) is HTML-escaped.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use argus_runtime::record::{BoundingBox, ImageRecord};
use argus_toolkit::aws::AwsContext;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use crate::cli::Failure;

/// What a box marks, with its colour in the overlay and the legend (Okabe–Ito colours, which
/// stay distinct under colour-vision deficiencies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoxKind {
    /// A DetectFaces face.
    Face,
    /// A DetectText line.
    Text,
    /// A DetectLabels label instance (an object).
    Label,
}

impl BoxKind {
    /// The CSS class and `data-kind` of its boxes: `face`, `text` or `label`.
    pub fn as_str(self) -> &'static str {
        match self {
            BoxKind::Face => "face",
            BoxKind::Text => "text",
            BoxKind::Label => "label",
        }
    }

    /// The stroke colour (hex RGB).
    pub fn colour(self) -> &'static str {
        match self {
            BoxKind::Face => "#0072B2",
            BoxKind::Text => "#D55E00",
            BoxKind::Label => "#009E73",
        }
    }

    fn legend(self) -> &'static str {
        match self {
            BoxKind::Face => "face (DetectFaces)",
            BoxKind::Text => "text line (DetectText)",
            BoxKind::Label => "object of a label (DetectLabels instance)",
        }
    }
}

/// One card of the report: a record and where its image is.
#[derive(Clone, Debug)]
pub struct Card {
    /// The result record.
    pub record: ImageRecord,
    /// The image file, relative to the report folder (`images/<imageId>.png`), or why there is
    /// none (e.g. the object expired from the input bucket).
    pub image: Result<String, String>,
    /// The record's JSON file, relative to the report folder (`results/<imageId>.json`).
    pub result_file: String,
}

/// What [`write_report`] wrote.
#[derive(Clone, Debug)]
pub struct Written {
    /// `DIR/index.html`.
    pub index: PathBuf,
    /// Number of cards (records).
    pub cards: usize,
    /// Cards whose image could not be read from the input bucket.
    pub missing_images: usize,
}

/// Reads the stage's records processed at or after `since` from the results table (newest
/// first, through the `ByProcessedAt` index, then each full item), downloads each image by key
/// and version from its bucket, and writes the report into `dir`.
///
/// # Errors
/// Exit code 3 when DynamoDB refuses a call; 1 when a record is unreadable or a file cannot be
/// written. An image that cannot be downloaded is not an error: its card says why.
pub async fn write_report(
    aws: &AwsContext,
    table: &str,
    stage: &str,
    since: DateTime<Utc>,
    dir: &Path,
) -> Result<Written, Failure> {
    let records = read_records(aws, table, stage, since).await?;
    for sub in ["images", "results"] {
        create_dir(&dir.join(sub))?;
    }
    let mut cards = Vec::new();
    for record in records {
        let id = file_stem(&record.image_id);
        let result_file = format!("results/{id}.json");
        let json = serde_json::to_string_pretty(&record)
            .map_err(|e| Failure::new(1, format!("record {}: {e}", record.image_id)))?;
        write_file(&dir.join(&result_file), (json + "\n").as_bytes())?;
        let image = match download(aws, &record).await {
            Ok(bytes) => {
                let name = format!("images/{id}.{}", extension(&record));
                write_file(&dir.join(&name), &bytes)?;
                Ok(name)
            }
            Err(reason) => Err(reason),
        };
        cards.push(Card {
            record,
            image,
            result_file,
        });
    }
    let html = render(stage, &cards, Utc::now());
    let index = dir.join("index.html");
    write_file(&index, html.as_bytes())?;
    Ok(Written {
        index,
        cards: cards.len(),
        missing_images: cards.iter().filter(|c| c.image.is_err()).count(),
    })
}

async fn read_records(
    aws: &AwsContext,
    table: &str,
    stage: &str,
    since: DateTime<Utc>,
) -> Result<Vec<ImageRecord>, Failure> {
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws.config);
    let refused = |operation: &str, e: &(dyn std::error::Error + 'static)| {
        Failure::new(
            3,
            format!(
                "dynamodb:{operation} on {table}: {}",
                argus_toolkit::aws::error_chain(e)
            ),
        )
    };
    let mut ids = Vec::new();
    let mut start = None;
    loop {
        let page = dynamodb
            .query()
            .table_name(table)
            .index_name(argus_contract::results::BY_PROCESSED_AT_INDEX)
            .key_condition_expression("#stage = :stage AND #at >= :since")
            .expression_attribute_names("#stage", argus_contract::record::STAGE)
            .expression_attribute_names("#at", argus_contract::record::PROCESSED_AT)
            .expression_attribute_values(":stage", AttributeValue::S(stage.to_owned()))
            .expression_attribute_values(
                ":since",
                AttributeValue::S(argus_runtime::record::iso8601_string(since)),
            )
            .scan_index_forward(false)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| refused("Query", &e))?;
        ids.extend(page.items().iter().filter_map(|item| {
            item.get(argus_contract::record::IMAGE_ID)
                .and_then(|v| v.as_s().ok())
                .cloned()
        }));
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    let mut records = Vec::new();
    for id in ids {
        let item = dynamodb
            .get_item()
            .table_name(table)
            .key(
                argus_contract::record::IMAGE_ID,
                AttributeValue::S(id.clone()),
            )
            .send()
            .await
            .map_err(|e| refused("GetItem", &e))?;
        // A claim without a final record yet has no status: not a result.
        let Some(item) = item.item().filter(|i| i.contains_key("status")) else {
            continue;
        };
        let record: ImageRecord = serde_dynamo::from_item(item.clone())
            .map_err(|e| Failure::new(1, format!("record {id} is not readable: {e}")))?;
        records.push(record);
    }
    records.sort_by_key(|r| std::cmp::Reverse(r.processed_at));
    Ok(records)
}

async fn download(aws: &AwsContext, record: &ImageRecord) -> Result<Vec<u8>, String> {
    let object = aws
        .s3
        .get_object()
        .bucket(&record.bucket)
        .key(&record.object_key)
        .set_version_id(record.version_id.clone())
        .send()
        .await
        .map_err(|e| {
            format!(
                "the image is no longer in s3://{}/{} ({})",
                record.bucket,
                record.object_key,
                argus_toolkit::aws::error_chain(&e)
            )
        })?;
    object
        .body
        .collect()
        .await
        .map(|b| b.into_bytes().to_vec())
        .map_err(|e| format!("reading s3://{}/{}: {e}", record.bucket, record.object_key))
}

/// The image ID as a file name: only ASCII letters, digits, `-` and `_` (image IDs are hex).
fn file_stem(image_id: &str) -> String {
    image_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn extension(record: &ImageRecord) -> &'static str {
    match record.content_type.as_deref() {
        Some("image/png") => "png",
        Some("image/jpeg") => "jpg",
        _ => "bin",
    }
}

fn create_dir(dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::new(1, format!("cannot create {}: {e}", dir.display())))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    std::fs::write(path, bytes)
        .map_err(|e| Failure::new(1, format!("cannot write {}: {e}", path.display())))
}

const STYLE: &str = r#"
:root { color-scheme: light; --ink: #1a1a1a; --muted: #4a4a4a; --line: #c8c8c8; --alert: #b00020; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--ink); background: #f4f4f4; }
header, main, footer { max-width: 1200px; margin: 0 auto; padding: 0.75rem 1rem; }
h1 { font-size: 1.5rem; margin: 0.25rem 0; }
h2 { font-size: 1.05rem; margin: 0 0 0.5rem; overflow-wrap: anywhere; }
h3 { font-size: 0.9rem; margin: 0.75rem 0 0.25rem; color: var(--muted); }
.legend, .filters { display: flex; flex-wrap: wrap; gap: 0.5rem 1.25rem; align-items: center; }
.swatch { display: inline-block; width: 1.1em; height: 0.8em; border: 3px solid; margin-right: 0.35em; vertical-align: -0.1em; }
fieldset { border: 1px solid var(--line); border-radius: 6px; padding: 0.25rem 0.75rem; background: #fff; }
legend { font-weight: 600; padding: 0 0.25rem; }
label { margin-right: 0.6rem; white-space: nowrap; }
input:focus-visible { outline: 3px solid #0072B2; outline-offset: 2px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 1rem; padding: 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 0.75rem; list-style: none; }
.card.alert { border: 3px solid var(--alert); }
.card[hidden] { display: none; }
.badge { display: inline-block; font-weight: 700; font-size: 0.8rem; padding: 0.1rem 0.45rem; border-radius: 4px; margin-right: 0.3rem; color: #fff; background: #3d3d3d; }
.badge.PROCESSED { background: #1b5e20; } .badge.REJECTED { background: #8a4b00; } .badge.FAILED { background: var(--alert); }
.badge.ALERT { background: var(--alert); }
figure { position: relative; margin: 0; background: #222; }
figure img { display: block; width: 100%; height: auto; }
figure svg { position: absolute; inset: 0; width: 100%; height: 100%; }
figure rect { fill: none; stroke-width: 3; vector-effect: non-scaling-stroke; }
.missing { padding: 2rem 1rem; color: #fff; }
ul.plain { margin: 0; padding-left: 1.1rem; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f4f4f4; padding: 0.4rem; margin: 0; font-size: 0.85rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 0.6rem; margin: 0.5rem 0 0; font-size: 0.85rem; }
dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
code { font-size: 0.8rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
a { color: #0b57d0; }
"#;

const SCRIPT: &str = r#"
(function () {
  var form = document.getElementById('filters');
  var cards = document.querySelectorAll('.card');
  function apply() {
    var status = form.elements['status'].value, alert = form.elements['alert'].value, shown = 0;
    cards.forEach(function (card) {
      var show = (status === 'all' || card.dataset.status === status) &&
                 (alert === 'all' || card.dataset.alert === alert);
      card.hidden = !show;
      if (show) { shown += 1; }
    });
    document.getElementById('shown').textContent = shown + ' of ' + cards.length + ' images shown';
  }
  form.addEventListener('change', apply);
  apply();
})();
"#;

/// The report page for `cards` (already in the order to show, newest first).
///
/// Each card is an `<li class="card">` with `data-status` (`PROCESSED`, `REJECTED`, `FAILED`)
/// and `data-alert` (`yes`, `no`), plus the class `alert` when the weapon alert fired; its
/// overlay is an `<svg viewBox="0 0 W H">` (the image's pixel size) holding one `<rect
/// data-kind="face|text|label">` per box, clipped to the image. `generated` is printed in the
/// header.
pub fn render(stage: &str, cards: &[Card], generated: DateTime<Utc>) -> String {
    let mut page = String::with_capacity(16 * 1024 + cards.len() * 4096);
    let alerts = cards.iter().filter(|c| c.record.alert.is_some()).count();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Argus results: {stage}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <header>\n<h1>Argus results: stage {stage}</h1>\n\
         <p>{count} images, {alerts} with an alert. Generated {generated}. Newest first.</p>\n",
        stage = text(stage),
        count = cards.len(),
        generated = argus_runtime::record::iso8601_string(generated),
    );
    page.push_str("<section aria-labelledby=\"legend-title\">\n<h2 id=\"legend-title\">Boxes on the images</h2>\n<ul class=\"legend plain\">\n");
    for kind in [BoxKind::Face, BoxKind::Text, BoxKind::Label] {
        let _ = writeln!(
            page,
            "<li data-kind=\"{}\"><span class=\"swatch\" style=\"border-color:{}\"></span>{}</li>",
            kind.as_str(),
            kind.colour(),
            kind.legend()
        );
    }
    page.push_str("</ul>\n</section>\n");
    page.push_str(
        "<form id=\"filters\" class=\"filters\" aria-label=\"Filter the images\">\n\
         <fieldset><legend>Status</legend>\n",
    );
    for (value, label) in [
        ("all", "all"),
        ("PROCESSED", "processed"),
        ("REJECTED", "rejected"),
        ("FAILED", "failed"),
    ] {
        let _ = writeln!(
            page,
            "<label><input type=\"radio\" name=\"status\" value=\"{value}\"{}> {label}</label>",
            if value == "all" { " checked" } else { "" }
        );
    }
    page.push_str("</fieldset>\n<fieldset><legend>Alert</legend>\n");
    for (value, label) in [("all", "all"), ("yes", "alert"), ("no", "no alert")] {
        let _ = writeln!(
            page,
            "<label><input type=\"radio\" name=\"alert\" value=\"{value}\"{}> {label}</label>",
            if value == "all" { " checked" } else { "" }
        );
    }
    page.push_str(
        "</fieldset>\n<p id=\"shown\" role=\"status\" aria-live=\"polite\"></p>\n</form>\n</header>\n\
         <main>\n<h2 class=\"visually-hidden\">Images</h2>\n<ul class=\"cards plain\">\n",
    );
    for card in cards {
        card_html(&mut page, card);
    }
    let _ = write!(
        page,
        "</ul>\n</main>\n<footer><p>Written by <code>argus report</code>. Boxes are Rekognition \
         bounding boxes (ratios of the image size) drawn on the image.</p></footer>\n\
         <script>{SCRIPT}</script>\n</body>\n</html>\n"
    );
    page
}

fn card_html(page: &mut String, card: &Card) {
    let r = &card.record;
    let status = r.status.as_str();
    let alert = r.alert.is_some();
    let name = r.object_key.rsplit('/').next().unwrap_or(&r.object_key);
    let _ = writeln!(
        page,
        "<li class=\"card{}\" data-status=\"{status}\" data-alert=\"{}\" data-image-id=\"{}\">\n<article aria-label=\"{}\">",
        if alert { " alert" } else { "" },
        if alert { "yes" } else { "no" },
        attr(&r.image_id),
        attr(name),
    );
    let _ = writeln!(
        page,
        "<h2>{}<span class=\"badge {status}\">{status}</span>{}</h2>",
        if alert {
            "<span class=\"badge ALERT\">ALERT</span>"
        } else {
            ""
        },
        text(name),
    );
    figure(page, card);
    if let Some(alert) = &r.alert {
        let names: Vec<String> = alert
            .labels
            .iter()
            .map(|l| format!("{} {:.1}%", l.name, l.confidence))
            .collect();
        let _ = writeln!(
            page,
            "<p class=\"alert-text\"><strong>Alert:</strong> {}</p>",
            text(&names.join(", "))
        );
    }
    if let Some(labels) = &r.labels {
        page.push_str("<h3>Labels</h3>\n<ul class=\"plain labels\">");
        for l in labels.iter().take(8) {
            let _ = write!(
                page,
                "<li>{} <span class=\"confidence\">{:.1}%</span></li>",
                text(&l.name),
                l.confidence
            );
        }
        if labels.is_empty() {
            page.push_str("<li>none</li>");
        }
        page.push_str("</ul>\n");
    }
    if let Some(ocr) = &r.ocr_text {
        let _ = writeln!(
            page,
            "<h3>Text</h3>\n<pre class=\"ocr\">{}</pre>",
            if ocr.is_empty() {
                "(none)".into()
            } else {
                text(ocr)
            }
        );
    }
    if let Some(faces) = &r.faces {
        let _ = write!(page, "<h3>Faces</h3>\n<p>{} face(s)", faces.count);
        if let Some(decision) = r.decision {
            let _ = write!(page, "; decision <strong>{}</strong>", decision.as_str());
        }
        if let Some(similarity) = r.face_similarity {
            let _ = write!(page, " (similarity {similarity:.1}%)");
        }
        page.push_str("</p>\n");
    }
    if let Some(moderation) = &r.moderation_labels {
        page.push_str("<h3>Moderation labels</h3>\n<ul class=\"plain moderation\">");
        for m in moderation {
            let _ = write!(page, "<li>{} {:.1}%</li>", text(&m.name), m.confidence);
        }
        if moderation.is_empty() {
            page.push_str("<li>none</li>");
        }
        page.push_str("</ul>\n");
    }
    page.push_str("<dl>\n");
    let mut row = |term: &str, value: &str| {
        let _ = writeln!(page, "<dt>{term}</dt><dd>{value}</dd>");
    };
    if let Some(reason) = &r.reason {
        row("Reason", &text(reason));
    }
    row(
        "Processed",
        &text(&argus_runtime::record::iso8601_string(r.processed_at)),
    );
    row(
        "Object",
        &format!(
            "<code>s3://{}/{}</code>",
            text(&r.bucket),
            text(&r.object_key)
        ),
    );
    if let Some(sha) = &r.sha256 {
        row(
            "SHA-256",
            &format!("<code class=\"sha256\">{}</code>", text(sha)),
        );
    }
    row(
        "Result",
        &format!("<a href=\"{}\">JSON result</a>", attr(&card.result_file)),
    );
    page.push_str("</dl>\n</article>\n</li>\n");
}

/// The image with its overlay, or the reason it is missing.
fn figure(page: &mut String, card: &Card) {
    let r = &card.record;
    let name = r.object_key.rsplit('/').next().unwrap_or(&r.object_key);
    let path = match &card.image {
        Ok(path) => path,
        Err(reason) => {
            let _ = writeln!(
                page,
                "<figure><p class=\"missing\" role=\"img\" aria-label=\"image unavailable\">{}</p></figure>",
                text(reason)
            );
            return;
        }
    };
    let (width, height) = match (r.width, r.height) {
        (Some(w), Some(h)) if w > 0 && h > 0 => (w, h),
        _ => (1000, 1000),
    };
    let boxes = boxes(r);
    let _ = writeln!(
        page,
        "<figure>\n<img src=\"{}\" width=\"{width}\" height=\"{height}\" alt=\"{}\">",
        attr(path),
        attr(&alt_text(name, &boxes)),
    );
    let _ = writeln!(
        page,
        "<svg viewBox=\"0 0 {width} {height}\" preserveAspectRatio=\"none\" aria-hidden=\"true\">"
    );
    for (kind, b, title) in &boxes {
        let (x, y, w, h) = pixels(b, width, height);
        let _ = writeln!(
            page,
            "<rect data-kind=\"{}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" stroke=\"{}\"><title>{}</title></rect>",
            kind.as_str(),
            kind.colour(),
            text(title)
        );
    }
    // The faces' landmarks (eyes, nose, mouth corners) as dots in the face colour.
    for landmark in r
        .faces
        .iter()
        .flat_map(|f| &f.details)
        .flat_map(|f| &f.landmarks)
    {
        let cx = f64::from(landmark.x).clamp(0.0, 1.0) * f64::from(width);
        let cy = f64::from(landmark.y).clamp(0.0, 1.0) * f64::from(height);
        let radius = (f64::from(width.min(height)) / 150.0).max(1.5);
        let _ = writeln!(
            page,
            "<circle data-kind=\"landmark\" cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"{radius:.1}\" fill=\"{}\"><title>{}</title></circle>",
            BoxKind::Face.colour(),
            text(&landmark.kind)
        );
    }
    page.push_str("</svg>\n</figure>\n");
}

/// Every box of the record: faces, text lines, label instances, with a title.
fn boxes(r: &ImageRecord) -> Vec<(BoxKind, BoundingBox, String)> {
    let mut out = Vec::new();
    for face in r.faces.iter().flat_map(|f| &f.details) {
        out.push((
            BoxKind::Face,
            face.bounding_box,
            format!("face {:.1}%", face.confidence),
        ));
    }
    for line in r.text_lines.iter().flatten() {
        if let Some(b) = line.bounding_box {
            out.push((BoxKind::Text, b, format!("text: {}", line.text)));
        }
    }
    for label in r.labels.iter().flatten() {
        for instance in &label.instances {
            out.push((
                BoxKind::Label,
                instance.bounding_box,
                format!("{} {:.1}%", label.name, instance.confidence),
            ));
        }
    }
    out
}

/// A box in the image's pixels (x, y, width, height), clipped to the image: Rekognition's
/// ratios may run past an edge (a face cut by the border has a negative `left`).
pub fn pixels(b: &BoundingBox, width: u32, height: u32) -> (f64, f64, f64, f64) {
    let clip = |v: f32| f64::from(v).clamp(0.0, 1.0);
    let (left, top) = (clip(b.left), clip(b.top));
    let (right, bottom) = (clip(b.left + b.width), clip(b.top + b.height));
    let (w, h) = (f64::from(width), f64::from(height));
    (left * w, top * h, (right - left) * w, (bottom - top) * h)
}

fn alt_text(name: &str, boxes: &[(BoxKind, BoundingBox, String)]) -> String {
    let count = |kind: BoxKind| boxes.iter().filter(|(k, ..)| *k == kind).count();
    format!(
        "{name}, with {} face(s), {} text line(s) and {} object(s) boxed",
        count(BoxKind::Face),
        count(BoxKind::Text),
        count(BoxKind::Label)
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use argus_runtime::record::{Faces, Label, LabelInstance, Status, TextLine};
    use chrono::TimeZone;

    use super::*;

    fn record(key: &str, ocr: &str) -> ImageRecord {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 6, 0, 0).unwrap();
        let mut r = ImageRecord::new(
            "0123abcd",
            "argus-local-input",
            key,
            "local",
            Status::Processed,
            at,
            1,
        );
        r.width = Some(200);
        r.height = Some(100);
        r.set_text([(ocr, 99.0)]);
        r.text_lines = Some(vec![TextLine {
            text: ocr.into(),
            confidence: 99.0,
            bounding_box: Some(BoundingBox {
                width: 0.5,
                height: 0.2,
                left: 0.1,
                top: 0.7,
            }),
        }]);
        r
    }

    #[test]
    fn hostile_strings_from_the_record_are_escaped() {
        let hostile = "<script>alert(1)</script>\"'&";
        let mut r = record(&format!("incoming/{hostile}.png"), hostile);
        r.reason = Some(hostile.into());
        r.labels = Some(vec![Label {
            name: hostile.into(),
            confidence: 90.0,
            parents: vec![],
            instances: vec![],
        }]);
        let card = Card {
            record: r,
            image: Ok("images/x.png".into()),
            result_file: "results/x.json".into(),
        };
        let html = render(hostile, &[card], Utc::now());
        // Parsed as a browser would: the strings are text and attribute values, never markup.
        let dom = scraper::Html::parse_document(&html);
        let all = |css: &str| {
            dom.select(&scraper::Selector::parse(css).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(all("script").len(), 1, "only the page's own script: {html}");
        assert_eq!(all("pre.ocr")[0].text().collect::<String>(), hostile);
        assert_eq!(
            all("ul.labels li")[0].text().collect::<String>(),
            format!("{hostile} 90.0%")
        );
        assert!(
            all("img")[0]
                .value()
                .attr("alt")
                .unwrap()
                .starts_with("script>\"'&.png, with")
        );
        assert_eq!(
            all("title")[0].text().collect::<String>(),
            format!("Argus results: {hostile}")
        );
    }

    #[test]
    fn boxes_are_drawn_in_pixels_and_clipped_to_the_image() {
        let mut r = record("incoming/a.png", "STOP");
        r.faces = Some(Faces::new(vec![argus_runtime::record::Face {
            confidence: 99.0,
            bounding_box: BoundingBox {
                width: 0.5,
                height: 0.5,
                left: -0.1,
                top: 0.8,
            },
            landmarks: vec![],
        }]));
        r.labels = Some(vec![Label {
            name: "Person".into(),
            confidence: 95.0,
            parents: vec![],
            instances: vec![LabelInstance {
                confidence: 95.0,
                bounding_box: BoundingBox {
                    width: 0.25,
                    height: 0.5,
                    left: 0.5,
                    top: 0.25,
                },
            }],
        }]);
        let card = Card {
            record: r,
            image: Ok("images/a.png".into()),
            result_file: "results/a.json".into(),
        };
        let html = render("local", &[card], Utc::now());
        assert!(html.contains("viewBox=\"0 0 200 100\""), "{html}");
        assert!(
            html.contains("data-kind=\"face\" x=\"0.0\" y=\"80.0\" width=\"80.0\" height=\"20.0\""),
            "{html}"
        );
        assert!(
            html.contains(
                "data-kind=\"text\" x=\"20.0\" y=\"70.0\" width=\"100.0\" height=\"20.0\""
            ),
            "{html}"
        );
        assert!(
            html.contains(
                "data-kind=\"label\" x=\"100.0\" y=\"25.0\" width=\"50.0\" height=\"50.0\""
            ),
            "{html}"
        );
    }

    #[test]
    fn a_missing_image_is_said_and_an_alert_card_is_marked() {
        let mut r = record("incoming/gone.png", "");
        r.alert = Some(argus_runtime::record::AlertRecord {
            state: argus_runtime::record::AlertState::Pending,
            labels: vec![argus_runtime::record::LabelScore {
                name: "Knife".into(),
                confidence: 97.0,
            }],
            detected_at: r.processed_at,
            message_id: None,
            sent_at: None,
        });
        let card = Card {
            record: r,
            image: Err("the image is no longer in s3://b/incoming/gone.png".into()),
            result_file: "results/g.json".into(),
        };
        let html = render("local", &[card], Utc::now());
        assert!(html.contains("class=\"card alert\" data-status=\"PROCESSED\" data-alert=\"yes\""));
        assert!(html.contains("the image is no longer in s3://b/incoming/gone.png"));
        assert!(!html.contains("<img"));
    }
}
