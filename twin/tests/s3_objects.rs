//! `Image.S3Object` read from the twin's S3: MiniStack started on a free port by the launcher,
//! samples uploaded with aws-sdk-s3, the five operations and the S3 errors through
//! aws-sdk-rekognition. MiniStack is stopped by PID at the end (and on drop if a check fails).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use argus_twin::process::is_alive;
use argus_twin::{Config, S3Settings};
use aws_sdk_rekognition::operation::compare_faces::CompareFacesError;
use aws_sdk_rekognition::operation::detect_faces::DetectFacesError;
use aws_sdk_rekognition::operation::detect_labels::DetectLabelsError;
use aws_sdk_rekognition::operation::detect_moderation_labels::DetectModerationLabelsError;
use aws_sdk_rekognition::operation::detect_text::DetectTextError;
use aws_sdk_rekognition::types::{Image, S3Object};
use aws_sdk_s3::primitives::ByteStream;
use common::*;

const BUCKET: &str = "argus-samples";

async fn put(s3: &aws_sdk_s3::Client, key: &str, bytes: Vec<u8>) -> Option<String> {
    s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .body(ByteStream::from(bytes))
        .send()
        .await
        .unwrap()
        .version_id()
        .map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_objects_are_read_from_the_twin() {
    let ministack = common::start_ministack().await;
    let (ministack_pid, port) = (ministack.pid(), ministack.port());
    let settings = S3Settings::local(ministack.endpoint_url());
    let s3 = settings.client();
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    for name in SAMPLES {
        put(&s3, &format!("incoming/{name}"), sample(name)).await;
    }

    let server = argus_twin::serve(Config {
        s3: Some(settings),
        ..Config::default()
    })
    .await
    .unwrap();
    let client = rekognition(&server.endpoint_url());

    // The five operations with S3Object.
    let labels = client
        .detect_labels()
        .image(s3_image(BUCKET, "incoming/chelsea.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(labels.labels()[0].name(), Some("Cat"));
    let text = client
        .detect_text()
        .image(s3_image(BUCKET, "incoming/text.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(lines_and_words(text.text_detections()).0.len(), 5);
    let faces = client
        .detect_faces()
        .image(s3_image(BUCKET, "incoming/astronaut.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(faces.face_details().len(), 1);
    let compare = client
        .compare_faces()
        .source_image(s3_image(BUCKET, "incoming/astronaut.png"))
        .target_image(sample_image("astronaut.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(compare.face_matches().len(), 1);
    let no_match = client
        .compare_faces()
        .source_image(s3_image(BUCKET, "incoming/astronaut.png"))
        .target_image(s3_image(BUCKET, "incoming/coffee.png"))
        .send()
        .await
        .unwrap();
    assert!(no_match.face_matches().is_empty());
    let moderation = client
        .detect_moderation_labels()
        .image(s3_image(BUCKET, "incoming/knife.png"))
        .send()
        .await
        .unwrap();
    assert!(
        moderation
            .moderation_labels()
            .iter()
            .any(|l| l.name() == Some("Weapons"))
    );
    // The bytes read from S3 are the sample's bytes.
    let calls = server.calls();
    assert_eq!(
        calls.calls[0].image_sha256,
        [sha256(&sample("chelsea.png"))]
    );
    assert!(calls.calls.iter().all(|c| c.outcome == "OK"));

    // Missing object and missing bucket.
    let err = client
        .detect_labels()
        .image(s3_image(BUCKET, "incoming/missing.png"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, DetectLabelsError::InvalidS3ObjectException(_)),
        "{err:?}"
    );
    let err = client
        .detect_text()
        .image(s3_image("no-such-bucket", "incoming/chelsea.png"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, DetectTextError::InvalidS3ObjectException(_)),
        "{err:?}"
    );
    let err = client
        .compare_faces()
        .source_image(sample_image("astronaut.png"))
        .target_image(s3_image(BUCKET, "incoming/missing.png"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, CompareFacesError::InvalidS3ObjectException(_)),
        "{err:?}"
    );

    // Over 15 MiB from S3 (a 6 MiB object is fine size-wise: the limit for S3 is 15 MiB).
    let mut big = sample("coffee.png");
    big.resize(15 * 1024 * 1024 + 1, 0);
    put(&s3, "incoming/huge.png", big).await;
    let err = client
        .detect_moderation_labels()
        .image(s3_image(BUCKET, "incoming/huge.png"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, DetectModerationLabelsError::ImageTooLargeException(_)),
        "{err:?}"
    );
    let mut six_mib = sample("coffee.png");
    six_mib.resize(6 * 1024 * 1024, 0);
    put(&s3, "incoming/padded.png", six_mib).await;
    let padded = client
        .detect_labels()
        .image(s3_image(BUCKET, "incoming/padded.png"))
        .send()
        .await
        .unwrap();
    // Another SHA-256, so no fixture: the classifier answers (the bytes after PNG's end are
    // ignored by the decoder).
    assert!(
        padded.labels().iter().any(|l| l.name() == Some("Coffee")),
        "{:?}",
        padded.labels()
    );

    // Not an image by content, whatever the key says.
    put(
        &s3,
        "incoming/fake.jpg",
        b"GIF89a not a jpeg at all".to_vec(),
    )
    .await;
    let err = client
        .detect_faces()
        .image(s3_image(BUCKET, "incoming/fake.jpg"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, DetectFacesError::InvalidImageFormatException(_)),
        "{err:?}"
    );

    // S3Object.Version: the version asked for is the one read.
    s3.put_bucket_versioning()
        .bucket(BUCKET)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let first = put(&s3, "incoming/versioned.png", sample("chelsea.png")).await;
    put(&s3, "incoming/versioned.png", sample("knife.png")).await;
    let first = first.expect("MiniStack returns a VersionId on a versioned bucket");
    {
        let old = client
            .detect_labels()
            .image(
                Image::builder()
                    .s3_object(
                        S3Object::builder()
                            .bucket(BUCKET)
                            .name("incoming/versioned.png")
                            .version(first)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(old.labels()[0].name(), Some("Cat"));
    }
    let latest = client
        .detect_labels()
        .image(s3_image(BUCKET, "incoming/versioned.png"))
        .send()
        .await
        .unwrap();
    assert!(labels_contain(latest.labels(), "Knife"));

    server.shutdown().await.unwrap();
    tokio::task::spawn_blocking(move || ministack.stop())
        .await
        .unwrap()
        .unwrap();
    assert!(
        !is_alive(ministack_pid),
        "MiniStack {ministack_pid} left running"
    );
    assert!(!argus_twin::ministack::probe_health(
        port,
        Duration::from_secs(1)
    ));
}

fn labels_contain(labels: &[aws_sdk_rekognition::types::Label], name: &str) -> bool {
    labels.iter().any(|l| l.name() == Some(name))
}
