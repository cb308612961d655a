//! The sample fixtures describe the sample images: every fixture is named after the SHA-256 of
//! the image it names, and every sample image has a fixture.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use argus_twin::FixtureStore;
use argus_twin::server::DEFAULT_FIXTURES_DIR;
use common::*;

#[test]
fn every_fixture_is_keyed_by_its_images_sha256() {
    let dir = std::path::Path::new(DEFAULT_FIXTURES_DIR);
    let store = FixtureStore::load(dir).unwrap();
    assert_eq!(store.len(), SAMPLES.len());
    for key in store.keys() {
        let fixture = store.get(&key).unwrap();
        let bytes = sample(&fixture.image);
        assert_eq!(
            sha256(&bytes),
            key,
            "{} is not {key}.json's image",
            fixture.image
        );
        assert!(
            fixture
                .description
                .as_deref()
                .is_some_and(|d| !d.is_empty())
        );
    }
    for name in SAMPLES {
        let key = sha256(&sample(name));
        let fixture = store
            .get(&key)
            .unwrap_or_else(|| panic!("{name} has no fixture {key}.json"));
        assert_eq!(fixture.image, name);
    }
}

#[test]
fn fixtures_say_what_the_pictures_show() {
    let store = FixtureStore::load(std::path::Path::new(DEFAULT_FIXTURES_DIR)).unwrap();
    let get = |name: &str| store.get(&sha256(&sample(name))).unwrap();
    assert_eq!(get("astronaut.png").faces.len(), 1);
    for name in SAMPLES.iter().filter(|n| **n != "astronaut.png") {
        assert!(
            get(name).faces.is_empty(),
            "{name} should have no human face"
        );
    }
    assert!(!get("text.png").text_lines.is_empty());
    let text_labels: Vec<String> = get("text.png")
        .labels
        .iter()
        .map(|l| l.name.clone())
        .collect();
    assert_eq!(text_labels, vec!["Text", "Handwriting", "Paper"]);
    for name in SAMPLES.iter().filter(|n| **n != "knife.png") {
        assert!(get(name).moderation_labels.is_empty(), "{name}");
    }
    assert!(
        get("knife.png")
            .moderation_labels
            .iter()
            .any(|l| l.name == "Weapons")
    );
}

#[test]
fn a_broken_fixture_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{}.json", "a".repeat(64)));
    std::fs::write(&path, r#"{"image": "x.png", "labels": [{"Name": "Cat"}]}"#).unwrap();
    let err = FixtureStore::load(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains(&path.display().to_string()) && err.contains("Confidence"),
        "{err}"
    );

    std::fs::remove_file(&path).unwrap();
    std::fs::write(dir.path().join("cat.json"), r#"{"image": "x.png"}"#).unwrap();
    let err = FixtureStore::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("sha256"), "{err}");
}
