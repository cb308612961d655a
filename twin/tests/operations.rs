//! The five operations through the unmodified aws-sdk-rekognition, with `Image.Bytes`,
//! against an in-process argus-twin using the project's fixtures.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use aws_sdk_rekognition::types::{
    Attribute, DetectLabelsFeatureName, DetectLabelsImagePropertiesSettings, DetectLabelsSettings,
    DetectTextFilters, DetectionFilter, GenderType, GeneralLabelsSettings, LandmarkType, TextTypes,
};
use common::*;

fn names(labels: &[aws_sdk_rekognition::types::Label]) -> Vec<&str> {
    labels.iter().filter_map(|l| l.name()).collect()
}

fn label<'a>(
    labels: &'a [aws_sdk_rekognition::types::Label],
    name: &str,
) -> &'a aws_sdk_rekognition::types::Label {
    labels
        .iter()
        .find(|l| l.name() == Some(name))
        .unwrap_or_else(|| panic!("no label {name} in {:?}", names(labels)))
}

fn parents(l: &aws_sdk_rekognition::types::Label) -> Vec<&str> {
    l.parents().iter().filter_map(|p| p.name()).collect()
}

fn in_unit(v: Option<f32>) -> bool {
    v.is_some_and(|v| (0.0..=1.0).contains(&v))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detect_labels_matches_what_each_sample_shows() {
    let server = start().await;
    let client = rekognition(&server.endpoint_url());
    let expected: [(&str, &[&str]); 9] = [
        ("chelsea.png", &["Cat", "Animal", "Mammal", "Pet"]),
        ("astronaut.png", &["Person", "Astronaut", "Woman", "Flag"]),
        ("coffee.png", &["Coffee Cup", "Cup", "Beverage", "Coffee"]),
        ("rocket.jpg", &["Rocket", "Launch", "Tower", "Night"]),
        (
            "hubble_deep_field.jpg",
            &["Outer Space", "Astronomy", "Galaxy"],
        ),
        ("retina.jpg", &["Sphere"]),
        ("horse.png", &["Horse", "Silhouette"]),
        ("knife.png", &["Knife", "Weapon", "Blade"]),
        ("text.png", &["Text", "Handwriting"]),
    ];
    for (image, wanted) in expected {
        let out = client
            .detect_labels()
            .image(sample_image(image))
            .send()
            .await
            .unwrap();
        assert_eq!(out.label_model_version(), Some("fixture"));
        let got = names(out.labels());
        for name in wanted {
            assert!(got.contains(name), "{image}: {name} missing from {got:?}");
        }
        // Highest confidence first, all at or above the default MinConfidence (55).
        let confidences: Vec<f32> = out.labels().iter().filter_map(|l| l.confidence()).collect();
        assert!(
            confidences.windows(2).all(|w| w[0] >= w[1]),
            "{image}: {confidences:?}"
        );
        assert!(
            confidences.iter().all(|c| (55.0..=100.0).contains(c)),
            "{image}"
        );
        for l in out.labels() {
            for i in l.instances() {
                let b = i.bounding_box().unwrap();
                assert!(
                    in_unit(b.width())
                        && in_unit(b.height())
                        && in_unit(b.left())
                        && in_unit(b.top())
                );
            }
        }
        assert!(out.image_properties().is_none());
    }

    let cat = client
        .detect_labels()
        .image(sample_image("chelsea.png"))
        .send()
        .await
        .unwrap();
    let cat_label = label(cat.labels(), "Cat");
    assert!(cat_label.confidence().unwrap() > 95.0);
    assert_eq!(parents(cat_label), ["Animal", "Mammal", "Pet"]);
    assert_eq!(cat_label.instances().len(), 1);
    assert!(!names(cat.labels()).contains(&"Person"));

    let astronaut = client
        .detect_labels()
        .image(sample_image("astronaut.png"))
        .send()
        .await
        .unwrap();
    let person = label(astronaut.labels(), "Person");
    let aliases: Vec<_> = person.aliases().iter().filter_map(|a| a.name()).collect();
    assert_eq!(aliases, ["Human"]);
    let categories: Vec<_> = person
        .categories()
        .iter()
        .filter_map(|c| c.name())
        .collect();
    assert_eq!(categories, ["Person Description"]);

    let knife = client
        .detect_labels()
        .image(sample_image("knife.png"))
        .send()
        .await
        .unwrap();
    assert!(parents(label(knife.labels(), "Knife")).contains(&"Weapon"));
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detect_labels_applies_min_confidence_max_labels_and_filters() {
    let server = start().await;
    let client = rekognition(&server.endpoint_url());
    let call = |min: Option<f32>, max: Option<i32>| {
        client
            .detect_labels()
            .image(sample_image("chelsea.png"))
            .set_min_confidence(min)
            .set_max_labels(max)
            .send()
    };
    // Fixture: Cat/Animal/Mammal/Pet 99.32, Kitten 62.18, Abyssinian 57.4, Whiskers 51.9.
    let default = call(None, None).await.unwrap();
    assert_eq!(default.labels().len(), 6, "{:?}", names(default.labels()));
    assert!(!names(default.labels()).contains(&"Whiskers"));
    let strict = call(Some(60.0), None).await.unwrap();
    assert_eq!(
        names(strict.labels()),
        ["Cat", "Animal", "Mammal", "Pet", "Kitten"]
    );
    let all = call(Some(0.0), None).await.unwrap();
    assert_eq!(all.labels().len(), 7);
    let two = call(Some(0.0), Some(2)).await.unwrap();
    assert_eq!(names(two.labels()), ["Cat", "Animal"]);
    let none = call(None, Some(0)).await.unwrap();
    assert!(none.labels().is_empty());

    let filtered = client
        .detect_labels()
        .image(sample_image("chelsea.png"))
        .settings(
            DetectLabelsSettings::builder()
                .general_labels(
                    GeneralLabelsSettings::builder()
                        .label_inclusion_filters("Cat")
                        .label_inclusion_filters("Kitten")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(names(filtered.labels()), ["Cat", "Kitten"]);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detect_labels_image_properties_come_from_the_pixels() {
    let server = start().await;
    let client = rekognition(&server.endpoint_url());
    let out = client
        .detect_labels()
        .image(sample_image("horse.png"))
        .features(DetectLabelsFeatureName::GeneralLabels)
        .features(DetectLabelsFeatureName::ImageProperties)
        .send()
        .await
        .unwrap();
    assert!(names(out.labels()).contains(&"Horse"));
    let props = out.image_properties().unwrap();
    let quality = props.quality().unwrap();
    for v in [
        quality.brightness(),
        quality.sharpness(),
        quality.contrast(),
    ] {
        assert!(v.is_some_and(|v| (0.0..=100.0).contains(&v)), "{quality:?}");
    }
    // A black silhouette on white: high contrast, two dominant colours white then black.
    assert!(quality.contrast().unwrap() > 80.0, "{quality:?}");
    let colors = props.dominant_colors();
    assert!(!colors.is_empty() && colors.len() <= 10);
    assert_eq!(colors[0].simplified_color(), Some("white"));
    assert_eq!(colors[1].simplified_color(), Some("black"));
    assert_eq!(colors[1].hex_code(), Some("#000000"));
    let total: f32 = colors.iter().filter_map(|c| c.pixel_percent()).sum();
    assert!(total <= 100.01 && total > 95.0, "{total}");

    let only_props = client
        .detect_labels()
        .image(sample_image("coffee.png"))
        .features(DetectLabelsFeatureName::ImageProperties)
        .settings(
            DetectLabelsSettings::builder()
                .image_properties(
                    DetectLabelsImagePropertiesSettings::builder()
                        .max_dominant_colors(3)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(only_props.labels().is_empty());
    let colors = only_props.image_properties().unwrap().dominant_colors();
    assert_eq!(colors.len(), 3);
    for c in colors {
        let hex = c.hex_code().unwrap();
        assert_eq!(
            hex,
            format!(
                "#{:02x}{:02x}{:02x}",
                c.red().unwrap(),
                c.green().unwrap(),
                c.blue().unwrap()
            )
        );
        assert!(c.css_color().is_some_and(|s| !s.is_empty()));
    }
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detect_text_reads_the_handwriting_as_lines_and_words() {
    let server = start().await;
    let client = rekognition(&server.endpoint_url());
    let out = client
        .detect_text()
        .image(sample_image("text.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.text_model_version(), Some("fixture"));
    let detections = out.text_detections();
    let (lines, words) = lines_and_words(detections);
    let line_texts: Vec<_> = lines.iter().filter_map(|l| l.detected_text()).collect();
    assert_eq!(line_texts, ["(s) = 1", "(t-x) ps", "(s) =", "-1 t n", "s"]);
    assert_eq!(words.len(), 11);
    for line in &lines {
        assert!(line.parent_id().is_none());
        let id = line.id();
        let text: Vec<_> = words
            .iter()
            .filter(|w| w.parent_id() == id)
            .filter_map(|w| w.detected_text())
            .collect();
        assert_eq!(text.join(" "), line.detected_text().unwrap());
        let geometry = line.geometry().unwrap();
        assert_eq!(geometry.polygon().len(), 4);
        assert!(in_unit(geometry.bounding_box().unwrap().width()));
    }
    let ids: Vec<i32> = detections.iter().filter_map(|d| d.id()).collect();
    assert_eq!(ids, (0..16).collect::<Vec<_>>());

    let filtered = client
        .detect_text()
        .image(sample_image("text.png"))
        .filters(
            DetectTextFilters::builder()
                .word_filter(DetectionFilter::builder().min_confidence(85.0).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let words: Vec<_> = filtered
        .text_detections()
        .iter()
        .filter(|d| d.r#type() == Some(&TextTypes::Word))
        .filter_map(|d| d.detected_text())
        .collect();
    assert_eq!(words, ["=", "(s)", "="]);

    let none = client
        .detect_text()
        .image(sample_image("chelsea.png"))
        .send()
        .await
        .unwrap();
    assert!(none.text_detections().is_empty());
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detect_faces_finds_one_face_on_the_astronaut_and_none_on_the_cat() {
    let server = start().await;
    let client = rekognition(&server.endpoint_url());
    let out = client
        .detect_faces()
        .image(sample_image("astronaut.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.face_details().len(), 1);
    let face = &out.face_details()[0];
    assert!(face.confidence().unwrap() > 99.0);
    // DEFAULT attributes only.
    assert!(face.pose().is_some() && face.quality().is_some());
    assert_eq!(face.landmarks().len(), 30);
    assert!(face.age_range().is_none() && face.gender().is_none() && face.emotions().is_empty());
    // The box holds both eyes and the nose.
    let b = face.bounding_box().unwrap();
    let (l, t, w, h) = (
        b.left().unwrap(),
        b.top().unwrap(),
        b.width().unwrap(),
        b.height().unwrap(),
    );
    assert!(l > 0.3 && l + w < 0.6 && t > 0.1 && t + h < 0.45, "{b:?}");
    for lm in face.landmarks() {
        if matches!(
            lm.r#type(),
            Some(LandmarkType::EyeLeft | LandmarkType::EyeRight | LandmarkType::Nose)
        ) {
            let (x, y) = (lm.x().unwrap(), lm.y().unwrap());
            assert!(
                x > l && x < l + w && y > t && y < t + h,
                "{lm:?} outside {b:?}"
            );
        }
    }

    let all = client
        .detect_faces()
        .image(sample_image("astronaut.png"))
        .attributes(Attribute::All)
        .send()
        .await
        .unwrap();
    let face = &all.face_details()[0];
    assert_eq!(
        face.gender().and_then(|g| g.value()),
        Some(&GenderType::Female)
    );
    assert!(face.smile().unwrap().value());
    assert!(face.age_range().is_some() && !face.emotions().is_empty());

    let some = client
        .detect_faces()
        .image(sample_image("astronaut.png"))
        .attributes(Attribute::AgeRange)
        .send()
        .await
        .unwrap();
    let face = &some.face_details()[0];
    assert!(face.age_range().is_some() && face.gender().is_none());

    for image in ["chelsea.png", "horse.png", "coffee.png"] {
        let none = client
            .detect_faces()
            .image(sample_image(image))
            .attributes(Attribute::All)
            .send()
            .await
            .unwrap();
        assert!(none.face_details().is_empty(), "{image}");
    }
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_faces_matches_the_reference_face_with_itself_only() {
    let server = start().await;
    let client = rekognition(&server.endpoint_url());
    let same = client
        .compare_faces()
        .source_image(sample_image("astronaut.png"))
        .target_image(sample_image("astronaut.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(same.face_matches().len(), 1);
    assert!(same.face_matches()[0].similarity().unwrap() > 99.0);
    assert!(same.unmatched_faces().is_empty());
    let source = same.source_image_face().unwrap();
    let matched = same.face_matches()[0].face().unwrap();
    assert_eq!(source.bounding_box(), matched.bounding_box());

    let other = client
        .compare_faces()
        .source_image(sample_image("astronaut.png"))
        .target_image(sample_image("chelsea.png"))
        .send()
        .await
        .unwrap();
    assert!(other.face_matches().is_empty());
    assert!(other.unmatched_faces().is_empty());
    assert!(other.source_image_face().is_some());

    // Above the similarity of the match: the face is reported unmatched.
    let strict = client
        .compare_faces()
        .source_image(sample_image("astronaut.png"))
        .target_image(sample_image("astronaut.png"))
        .similarity_threshold(99.999)
        .send()
        .await
        .unwrap();
    assert!(strict.face_matches().is_empty());
    assert_eq!(strict.unmatched_faces().len(), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detect_moderation_labels_flags_the_knife_only() {
    let server = start().await;
    let client = rekognition(&server.endpoint_url());
    let out = client
        .detect_moderation_labels()
        .image(sample_image("knife.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.moderation_model_version(), Some("fixture"));
    let weapons = out
        .moderation_labels()
        .iter()
        .find(|l| l.name() == Some("Weapons"))
        .unwrap();
    assert_eq!(weapons.parent_name(), Some("Violence"));
    assert_eq!(weapons.taxonomy_level(), Some(2));
    assert!(weapons.confidence().unwrap() > 90.0);
    assert!(
        out.moderation_labels()
            .iter()
            .any(|l| l.name() == Some("Violence") && l.taxonomy_level() == Some(1))
    );
    let strict = client
        .detect_moderation_labels()
        .image(sample_image("knife.png"))
        .min_confidence(99.0)
        .send()
        .await
        .unwrap();
    assert!(strict.moderation_labels().is_empty());
    for image in ["chelsea.png", "astronaut.png", "coffee.png"] {
        let clean = client
            .detect_moderation_labels()
            .image(sample_image(image))
            .send()
            .await
            .unwrap();
        assert!(clean.moderation_labels().is_empty(), "{image}");
    }
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_without_fixture_gets_empty_valid_answers() {
    let server = start().await;
    let client = rekognition(&server.endpoint_url());
    let bytes = png(120, 90, [10, 200, 30]);
    let sha = sha256(&bytes);
    let labels = client
        .detect_labels()
        .image(bytes_image(bytes.clone()))
        .features(DetectLabelsFeatureName::ImageProperties)
        .send()
        .await
        .unwrap();
    assert!(labels.labels().is_empty());
    // No fixture: the models answered (only IMAGE_PROPERTIES was asked for: no labels).
    assert_eq!(
        labels.label_model_version(),
        Some("efficientnet-lite0+mtcnn")
    );
    let colors = labels.image_properties().unwrap().dominant_colors();
    assert_eq!(colors.len(), 1);
    assert_eq!(colors[0].simplified_color(), Some("green"));
    let text = client
        .detect_text()
        .image(bytes_image(bytes.clone()))
        .send()
        .await
        .unwrap();
    assert!(text.text_detections().is_empty());
    let faces = client
        .detect_faces()
        .image(bytes_image(bytes.clone()))
        .send()
        .await
        .unwrap();
    assert!(faces.face_details().is_empty());
    let moderation = client
        .detect_moderation_labels()
        .image(bytes_image(bytes.clone()))
        .send()
        .await
        .unwrap();
    assert!(moderation.moderation_labels().is_empty());
    let compare = client
        .compare_faces()
        .source_image(sample_image("astronaut.png"))
        .target_image(bytes_image(bytes))
        .send()
        .await
        .unwrap();
    assert!(compare.face_matches().is_empty() && compare.unmatched_faces().is_empty());

    let calls = server.calls();
    assert_eq!(calls.total, 5);
    assert!(calls.calls.iter().all(|c| c.outcome == "OK"));
    assert!(
        calls.calls[..4]
            .iter()
            .all(|c| c.image_sha256 == [sha.clone()])
    );
    assert_eq!(
        calls.calls[4].image_sha256,
        [sha256(&sample("astronaut.png")), sha]
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixture_added_at_run_time_is_used() {
    let server = start().await;
    let client = rekognition(&server.endpoint_url());
    let bytes = png(100, 100, [1, 2, 3]);
    let fixture: argus_twin::Fixture = serde_json::from_value(serde_json::json!({
        "image": "synthetic.png",
        "labels": [{"Name": "Square", "Confidence": 88.0}]
    }))
    .unwrap();
    server.insert_fixture(&sha256(&bytes), fixture).unwrap();
    let out = client
        .detect_labels()
        .image(bytes_image(bytes))
        .send()
        .await
        .unwrap();
    assert_eq!(names(out.labels()), ["Square"]);
    server.shutdown().await.unwrap();
}
