//! `argus report` rendered in headless Chromium (Debian package `chromium`, `make
//! browser-tools`): the page's DOM after its script ran is parsed with `scraper` and checked
//! against the result files. Called by the demo test, which has just processed every sample on
//! the twin (the knife with its alert, the astronaut portrait with a face, the text sample).

use std::path::{Path, PathBuf};
use std::process::Command;

use scraper::{ElementRef, Html, Selector};
use serde_json::Value;

/// The Chromium binary (`ARGUS_CHROMIUM` overrides).
fn chromium() -> PathBuf {
    let path = std::env::var_os("ARGUS_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        path.exists(),
        "{} is missing: run `make browser-tools` (Debian package chromium)",
        path.display()
    );
    path
}

/// Headless Chromium with no network activity of its own and a new empty profile.
fn headless(profile: &Path) -> Command {
    let mut command = Command::new(chromium());
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
    command
}

fn url(index: &Path) -> String {
    format!("file://{}", index.canonicalize().unwrap().display())
}

/// The DOM of `index` after its scripts ran.
pub fn dump_dom(index: &Path) -> Html {
    let profile = tempfile::tempdir().unwrap();
    let o = headless(profile.path())
        .arg("--dump-dom")
        .arg(url(index))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "chromium --dump-dom failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    Html::parse_document(&String::from_utf8_lossy(&o.stdout))
}

/// A PNG screenshot of `index` (1280 × 2000) written to `png`.
pub fn screenshot(index: &Path, png: &Path) {
    let profile = tempfile::tempdir().unwrap();
    let o = headless(profile.path())
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1280,2000")
        .arg("--hide-scrollbars")
        .arg(url(index))
        .output()
        .unwrap();
    assert!(
        o.status.success() && png.exists(),
        "chromium --screenshot failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn select<'a>(element: ElementRef<'a>, css: &str) -> Vec<ElementRef<'a>> {
    element
        .select(&Selector::parse(css).unwrap())
        .collect::<Vec<_>>()
}

fn number(element: &ElementRef<'_>, attribute: &str) -> f64 {
    element
        .value()
        .attr(attribute)
        .unwrap_or_else(|| panic!("no {attribute} on {}", element.html()))
        .parse()
        .unwrap()
}

/// Checks the report in `dir` (index.html, images/, results/) against `records` (the result
/// records of the images processed, by imageId): one card per record, newest first, each card's
/// image file present with alt text, every box inside its image's bounds and where the record
/// says, the alert card marked, the filters present and applied by the page's script.
pub fn check_report(dir: &Path, records: &[Value]) {
    let index = dir.join("index.html");
    let html = std::fs::read_to_string(&index).unwrap();
    // Self-contained: nothing fetched from elsewhere.
    for external in ["http://", "https://", "<link", "src=\"/", "@import", "url("] {
        assert!(!html.contains(external), "index.html holds `{external}`");
    }
    let dom = dump_dom(&index);
    let root = dom.root_element();
    let cards = select(root, "li.card");
    assert_eq!(cards.len(), records.len(), "one card per image");
    // Newest first.
    let times: Vec<&str> = cards
        .iter()
        .map(|c| {
            let id = c.value().attr("data-image-id").unwrap();
            records
                .iter()
                .find(|r| r["imageId"] == id)
                .unwrap_or_else(|| panic!("a card for an unknown image {id}"))["processedAt"]
                .as_str()
                .unwrap()
        })
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "cards are newest first");

    let mut boxes_seen = [0usize; 3];
    let mut landmarks_seen = 0;
    for card in &cards {
        let id = card.value().attr("data-image-id").unwrap();
        let record = records.iter().find(|r| r["imageId"] == id).unwrap();
        assert_eq!(card.value().attr("data-status"), record["status"].as_str());
        let alert = record["alert"].is_object();
        assert_eq!(
            card.value().attr("data-alert"),
            Some(if alert { "yes" } else { "no" })
        );
        assert_eq!(
            card.value()
                .has_class("alert", scraper::CaseSensitivity::CaseSensitive),
            alert
        );
        // The filters start at "all": every card is shown.
        assert!(card.value().attr("hidden").is_none(), "card {id} is hidden");
        let text = card.text().collect::<String>();
        assert!(
            text.contains(record["sha256"].as_str().unwrap()),
            "{id}: SHA-256"
        );
        if alert {
            assert!(text.contains("ALERT"), "the alert card says ALERT");
        }
        // The JSON result is beside the page and is the record.
        let link = select(*card, "a[href^=\"results/\"]");
        let file = dir.join(link[0].value().attr("href").unwrap());
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        assert_eq!(saved["imageId"], record["imageId"]);

        let img = select(*card, "figure img")[0];
        let src = img.value().attr("src").unwrap();
        assert!(dir.join(src).is_file(), "{src} is copied beside the page");
        assert!(!img.value().attr("alt").unwrap_or_default().is_empty());
        let (width, height) = (
            record["width"].as_f64().unwrap(),
            record["height"].as_f64().unwrap(),
        );
        let svg = select(*card, "figure svg")[0];
        assert_eq!(
            svg.value().attr("viewBox"),
            Some(format!("0 0 {width} {height}").as_str())
        );
        let rects = select(svg, "rect");
        let mut expected: Vec<(&str, &Value)> = Vec::new();
        for face in record["faces"]["details"].as_array().into_iter().flatten() {
            expected.push(("face", &face["boundingBox"]));
        }
        for line in record["textLines"].as_array().into_iter().flatten() {
            expected.push(("text", &line["boundingBox"]));
        }
        for label in record["labels"].as_array().into_iter().flatten() {
            for instance in label["instances"].as_array().into_iter().flatten() {
                expected.push(("label", &instance["boundingBox"]));
            }
        }
        assert_eq!(
            rects.len(),
            expected.len(),
            "{id}: one box per face, line, object"
        );
        for (rect, (kind, b)) in rects.iter().zip(&expected) {
            assert_eq!(rect.value().attr("data-kind"), Some(*kind));
            let (x, y, w, h) = (
                number(rect, "x"),
                number(rect, "y"),
                number(rect, "width"),
                number(rect, "height"),
            );
            assert!(
                x >= 0.0
                    && y >= 0.0
                    && w > 0.0
                    && h > 0.0
                    && x + w <= width + 0.05
                    && y + h <= height + 0.05,
                "{id}: {kind} box {x},{y} {w}x{h} outside {width}x{height}"
            );
            let left = b["left"].as_f64().unwrap().clamp(0.0, 1.0) * width;
            let top = b["top"].as_f64().unwrap().clamp(0.0, 1.0) * height;
            assert!(
                (x - left).abs() < 0.1 && (y - top).abs() < 0.1,
                "{id}: {kind} box at {x},{y}, the record says {left},{top}"
            );
            boxes_seen[match *kind {
                "face" => 0,
                "text" => 1,
                _ => 2,
            }] += 1;
        }
        // Each face's landmarks as dots inside its image, where the record puts them.
        let dots = select(svg, "circle[data-kind=\"landmark\"]");
        let landmarks: Vec<&Value> = record["faces"]["details"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|f| f["landmarks"].as_array().into_iter().flatten())
            .collect();
        assert_eq!(dots.len(), landmarks.len(), "{id}: one dot per landmark");
        for (dot, landmark) in dots.iter().zip(&landmarks) {
            let (cx, cy) = (number(dot, "cx"), number(dot, "cy"));
            assert!(
                (0.0..=width).contains(&cx) && (0.0..=height).contains(&cy),
                "{id}: landmark at {cx},{cy} outside {width}x{height}"
            );
            let x = landmark["x"].as_f64().unwrap().clamp(0.0, 1.0) * width;
            let y = landmark["y"].as_f64().unwrap().clamp(0.0, 1.0) * height;
            assert!(
                (cx - x).abs() < 0.1 && (cy - y).abs() < 0.1,
                "{id}: {landmark}"
            );
        }
        landmarks_seen += landmarks.len();
    }
    assert!(
        boxes_seen[0] > 0 && boxes_seen[1] > 0,
        "faces and text lines are boxed: {boxes_seen:?}"
    );
    assert!(
        landmarks_seen >= 5,
        "the astronaut's five landmarks are drawn"
    );
    assert_eq!(
        select(root, "li.card.alert").len(),
        records.iter().filter(|r| r["alert"].is_object()).count()
    );
    assert!(
        !select(root, "li.card.alert").is_empty(),
        "the knife's card is marked"
    );
    // Filters: radio groups for status and alert, keyboard-usable inputs in labelled fieldsets,
    // and the script ran (it wrote the count).
    for name in ["status", "alert"] {
        let radios = select(
            root,
            &format!("#filters fieldset input[type=radio][name={name}]"),
        );
        assert!(radios.len() >= 3, "{name} filter");
    }
    assert_eq!(select(root, "#filters fieldset legend").len(), 2);
    let shown = select(root, "#shown")[0].text().collect::<String>();
    assert_eq!(
        shown,
        format!("{} of {} images shown", records.len(), records.len())
    );
    // Landmarks and a legend naming the three colours.
    for landmark in ["header", "main", "h1"] {
        assert_eq!(select(root, landmark).len(), 1, "{landmark}");
    }
    assert_eq!(select(root, ".legend li").len(), 3);
}
