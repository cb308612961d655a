//! Answers from the real models (no fixtures): MTCNN faces, the dlib face embedding (CompareFaces),
//! PP-OCR text. Needs `make models`.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use argus_twin::{Config, ServerHandle};
use aws_sdk_rekognition::types::LandmarkType;
use common::*;

/// argus-twin with the models and no fixtures: every answer comes from a model.
async fn start_models_only() -> ServerHandle {
    argus_twin::serve(Config {
        fixtures_dir: None,
        ..Config::default()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_astronaut_has_one_face_with_the_five_landmarks_inside_its_box() {
    let server = start_models_only().await;
    let client = rekognition(&server.endpoint_url());
    let out = client
        .detect_faces()
        .image(sample_image("astronaut.png"))
        .send()
        .await
        .unwrap();
    let faces = out.face_details();
    assert_eq!(faces.len(), 1, "{faces:#?}");
    let face = &faces[0];
    assert!(face.confidence().unwrap() > 90.0);
    let b = face.bounding_box().unwrap();
    let (l, t, w, h) = (
        b.left().unwrap(),
        b.top().unwrap(),
        b.width().unwrap(),
        b.height().unwrap(),
    );
    // Eileen Collins' face is in the upper middle of the picture.
    assert!(
        (0.3..0.7).contains(&(l + w / 2.0)) && (0.05..0.45).contains(&(t + h / 2.0)),
        "{b:?}"
    );
    let marks = face.landmarks();
    let kinds: Vec<_> = marks.iter().filter_map(|m| m.r#type().cloned()).collect();
    assert_eq!(
        kinds,
        [
            LandmarkType::EyeLeft,
            LandmarkType::EyeRight,
            LandmarkType::Nose,
            LandmarkType::MouthLeft,
            LandmarkType::MouthRight
        ]
    );
    for m in marks {
        let (x, y) = (m.x().unwrap(), m.y().unwrap());
        assert!(
            x > l && x < l + w && y > t && y < t + h,
            "{m:?} outside {b:?}"
        );
    }
    let eye_l = marks[0].x().unwrap();
    let eye_r = marks[1].x().unwrap();
    assert!(eye_l < eye_r, "eyeLeft is on the image's left");
    let pose = face.pose().unwrap();
    assert!(pose.roll().unwrap().abs() < 30.0, "{pose:?}");
    let quality = face.quality().unwrap();
    assert!(
        (10.0..=100.0).contains(&quality.brightness().unwrap()),
        "{quality:?}"
    );
    // No model here gives these: omitted, not invented.
    assert!(face.age_range().is_none() && face.emotions().is_empty() && face.gender().is_none());
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picture_without_people_has_no_face() {
    let server = start_models_only().await;
    let client = rekognition(&server.endpoint_url());
    for name in ["coffee.png", "knife.png"] {
        let out = client
            .detect_faces()
            .image(sample_image(name))
            .send()
            .await
            .unwrap();
        assert!(
            out.face_details().is_empty(),
            "{name}: {:#?}",
            out.face_details()
        );
    }
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printed_text_is_read_as_lines_and_words() {
    let server = start_models_only().await;
    let client = rekognition(&server.endpoint_url());
    let out = client
        .detect_text()
        .image(bytes_image(std::fs::read(text_sample()).unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.text_model_version(), Some("pp-ocrv4"));
    let detections = out.text_detections();
    let (lines, words) = lines_and_words(detections);
    let text: Vec<_> = lines.iter().filter_map(|l| l.detected_text()).collect();
    eprintln!("{text:?}");
    assert!(!lines.is_empty() && !words.is_empty(), "{detections:#?}");
    for w in &words {
        let parent = w.parent_id().unwrap();
        assert!(lines.iter().any(|l| l.id() == Some(parent)));
    }
    let all: Vec<&str> = words.iter().filter_map(|w| w.detected_text()).collect();
    for expected in ["Argus", "analyses", "images"] {
        assert!(all.contains(&expected), "{expected} not in {all:?}");
    }
    server.shutdown().await.unwrap();
}

fn text_sample() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("eval/text/printed-sans-32.png")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_four_analyses_of_one_image_arriving_together_decode_it_once() {
    let server = start_models_only().await;
    let client = rekognition(&server.endpoint_url());
    let bytes = sample("astronaut.png");
    let (labels, text, faces, moderation) = tokio::join!(
        client
            .detect_labels()
            .image(bytes_image(bytes.clone()))
            .send(),
        client
            .detect_text()
            .image(bytes_image(bytes.clone()))
            .send(),
        client
            .detect_faces()
            .image(bytes_image(bytes.clone()))
            .send(),
        client
            .detect_moderation_labels()
            .image(bytes_image(bytes.clone()))
            .send(),
    );
    labels.unwrap();
    text.unwrap();
    assert_eq!(faces.unwrap().face_details().len(), 1);
    moderation.unwrap();
    let health = raw(
        "GET",
        format!("{}/_argus/health", server.endpoint_url()),
        vec![],
        String::new(),
    )
    .await;
    assert_eq!(health.body["images_decoded"], 1, "{:?}", health.body);
    assert!(
        health.body["models"]
            .as_array()
            .is_some_and(|m| !m.is_empty())
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chelsea_is_a_cat_from_the_classifier_with_its_parents_and_category() {
    let server = start_models_only().await;
    let client = rekognition(&server.endpoint_url());
    let out = client
        .detect_labels()
        .image(sample_image("chelsea.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.label_model_version(), Some("efficientnet-lite0+mtcnn"));
    let names: Vec<_> = out.labels().iter().filter_map(|l| l.name()).collect();
    let cat = out
        .labels()
        .iter()
        .find(|l| l.name() == Some("Cat"))
        .unwrap_or_else(|| panic!("no Cat in {names:?}"));
    assert!(cat.confidence().unwrap() >= 80.0, "{cat:?}");
    let parents: Vec<_> = cat.parents().iter().filter_map(|p| p.name()).collect();
    for p in ["Animal", "Mammal", "Pet"] {
        assert!(parents.contains(&p), "{parents:?}");
    }
    assert!(
        cat.categories()
            .iter()
            .any(|c| c.name() == Some("Animals and Pets"))
    );
    assert!(!names.contains(&"Person"), "{names:?}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_astronaut_is_a_person_with_her_face_as_an_instance() {
    let server = start_models_only().await;
    let client = rekognition(&server.endpoint_url());
    let out = client
        .detect_labels()
        .image(sample_image("astronaut.png"))
        .send()
        .await
        .unwrap();
    let names: Vec<_> = out.labels().iter().filter_map(|l| l.name()).collect();
    assert!(names.contains(&"Person"), "{names:?}");
    let face = out
        .labels()
        .iter()
        .find(|l| l.name() == Some("Face"))
        .unwrap();
    assert_eq!(face.instances().len(), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyday_photos_are_not_explicit() {
    let server = start_models_only().await;
    let client = rekognition(&server.endpoint_url());
    for name in ["chelsea.png", "coffee.png", "astronaut.png"] {
        let out = client
            .detect_moderation_labels()
            .image(sample_image(name))
            .send()
            .await
            .unwrap();
        assert!(
            out.moderation_labels().is_empty(),
            "{name}: {:?}",
            out.moderation_labels()
        );
        assert_eq!(out.moderation_model_version(), Some("open_nsfw"));
    }
    server.shutdown().await.unwrap();
}

/// `img` encoded as a PNG.
fn png_bytes(img: &image::RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A group photo of four different people from `make models` (face-api's demo sample4, MIT).
fn group_photo() -> Vec<u8> {
    let dir = argus_twin::vision::models_dir();
    argus_twin::vision::read_verified(&dir, "eval/faces/face-api-sample4.jpg").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirrored_smaller_darker_copy_of_a_portrait_is_the_same_person() {
    let server = start_models_only().await;
    let client = rekognition(&server.endpoint_url());
    let original = image::load_from_memory(&sample("astronaut.png"))
        .unwrap()
        .to_rgb8();
    let (w, h) = original.dimensions();
    let mut copy = image::imageops::flip_horizontal(&image::imageops::resize(
        &original,
        w * 3 / 4,
        h * 3 / 4,
        image::imageops::FilterType::Triangle,
    ));
    for p in copy.pixels_mut() {
        p.0 = p.0.map(|v| (f32::from(v) * 0.7) as u8);
    }
    let out = client
        .compare_faces()
        .source_image(sample_image("astronaut.png"))
        .target_image(bytes_image(png_bytes(&copy)))
        .send()
        .await
        .unwrap();
    let matches = out.face_matches();
    assert_eq!(matches.len(), 1, "{out:#?}");
    let similarity = matches[0].similarity().unwrap();
    assert!(similarity >= 90.0, "same person at {similarity}");
    assert!(
        similarity < 99.99,
        "a copy is not the same face of the same image"
    );
    assert!(out.unmatched_faces().is_empty());
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn different_people_are_below_50_and_one_of_a_group_matches_only_herself() {
    let server = start_models_only().await;
    let client = rekognition(&server.endpoint_url());
    // The astronaut against four other people: every similarity under 50 (threshold 0 puts
    // every target face in FaceMatches with its similarity).
    let out = client
        .compare_faces()
        .source_image(sample_image("astronaut.png"))
        .target_image(bytes_image(group_photo()))
        .similarity_threshold(0.0)
        .send()
        .await
        .unwrap();
    let similarities: Vec<f32> = out
        .face_matches()
        .iter()
        .map(|m| m.similarity().unwrap())
        .collect();
    assert!(similarities.len() >= 4, "{out:#?}");
    assert!(similarities.iter().all(|&s| s < 50.0), "{similarities:?}");
    // With the default threshold (80) none of them matches.
    let out = client
        .compare_faces()
        .source_image(sample_image("astronaut.png"))
        .target_image(bytes_image(group_photo()))
        .send()
        .await
        .unwrap();
    assert!(out.face_matches().is_empty(), "{out:#?}");
    assert_eq!(out.unmatched_faces().len(), similarities.len());

    // One person cropped out of the group (a different image) matches herself only.
    let group = image::load_from_memory(&group_photo()).unwrap().to_rgb8();
    let first = out.unmatched_faces()[0].bounding_box().unwrap();
    let (gw, gh) = (group.width() as f32, group.height() as f32);
    let (fw, fh) = (first.width().unwrap() * gw, first.height().unwrap() * gh);
    let x = ((first.left().unwrap() * gw) - fw / 2.0).max(0.0) as u32;
    let y = ((first.top().unwrap() * gh) - fh / 2.0).max(0.0) as u32;
    let crop =
        image::imageops::crop_imm(&group, x, y, (fw * 2.0) as u32, (fh * 2.0) as u32).to_image();
    let out = client
        .compare_faces()
        .source_image(bytes_image(png_bytes(&crop)))
        .target_image(bytes_image(group_photo()))
        .similarity_threshold(0.0)
        .send()
        .await
        .unwrap();
    let mut similarities: Vec<f32> = out
        .face_matches()
        .iter()
        .map(|m| m.similarity().unwrap())
        .collect();
    similarities.sort_by(|a, b| b.total_cmp(a));
    assert!(similarities[0] >= 90.0, "{similarities:?}");
    assert!(
        similarities[1..].iter().all(|&s| s < 50.0),
        "{similarities:?}"
    );
    let best = out.face_matches()[0]
        .face()
        .unwrap()
        .bounding_box()
        .unwrap();
    assert!(
        (best.left().unwrap() - first.left().unwrap()).abs() < 0.01,
        "{best:?} vs {first:?}"
    );
    server.shutdown().await.unwrap();
}
