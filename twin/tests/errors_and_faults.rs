//! Rekognition's errors for bad input, fault injection and the admin routes, checked through
//! the SDK's typed error variants (which proves the `__type` on the wire) and over raw HTTP.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use argus_twin::{Config, Faults, Operation, ServeError, ThrottleKind};
use aws_sdk_rekognition::error::ProvideErrorMetadata;
use aws_sdk_rekognition::operation::compare_faces::CompareFacesError;
use aws_sdk_rekognition::operation::detect_faces::DetectFacesError;
use aws_sdk_rekognition::operation::detect_labels::DetectLabelsError;
use aws_sdk_rekognition::operation::detect_moderation_labels::DetectModerationLabelsError;
use aws_sdk_rekognition::operation::detect_text::DetectTextError;
use aws_sdk_rekognition::types::{DetectTextFilters, DetectionFilter};
use common::*;

fn gif() -> Vec<u8> {
    let mut bytes = b"GIF89a\x64\x00\x64\x00\x80\x00\x00".to_vec();
    bytes.resize(2048, 0);
    bytes
}

fn truncated_jpeg() -> Vec<u8> {
    let full = sample("rocket.jpg");
    full[..full.len() / 2].to_vec()
}

fn oversized_png() -> Vec<u8> {
    let mut bytes = png(100, 100, [0, 0, 0]);
    bytes.resize(5 * 1024 * 1024 + 1, 0);
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_images_get_rekognition_errors_as_typed_sdk_errors() {
    let server = start().await;
    let client = rekognition(&server.endpoint_url());

    let err = client
        .detect_labels()
        .image(bytes_image(gif()))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, DetectLabelsError::InvalidImageFormatException(_)),
        "{err:?}"
    );
    assert!(
        err.message()
            .is_some_and(|m| m.contains("invalid image format"))
    );

    let err = client
        .detect_text()
        .image(bytes_image(truncated_jpeg()))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, DetectTextError::InvalidImageFormatException(_)),
        "{err:?}"
    );

    let mut truncated_png = sample("chelsea.png");
    truncated_png.truncate(truncated_png.len() - 100);
    let err = client
        .detect_faces()
        .image(bytes_image(truncated_png))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, DetectFacesError::InvalidImageFormatException(_)),
        "{err:?}"
    );

    let err = client
        .detect_moderation_labels()
        .image(bytes_image(oversized_png()))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, DetectModerationLabelsError::ImageTooLargeException(_)),
        "{err:?}"
    );

    let err = client
        .detect_labels()
        .image(bytes_image(png(20, 20, [255, 0, 0])))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, DetectLabelsError::InvalidParameterException(_)),
        "{err:?}"
    );
    assert!(err.message().is_some_and(|m| m.contains("20x20")));

    // 80x80 is the smallest accepted size.
    client
        .detect_labels()
        .image(bytes_image(png(80, 80, [255, 0, 0])))
        .send()
        .await
        .unwrap();

    let err = client
        .compare_faces()
        .source_image(sample_image("astronaut.png"))
        .target_image(bytes_image(gif()))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, CompareFacesError::InvalidImageFormatException(_)),
        "{err:?}"
    );

    // A source image without a face is an invalid parameter, as in the service.
    let err = client
        .compare_faces()
        .source_image(sample_image("chelsea.png"))
        .target_image(sample_image("astronaut.png"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, CompareFacesError::InvalidParameterException(_)),
        "{err:?}"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_invalid_parameter_exceptions() {
    let server = start().await;
    let client = rekognition(&server.endpoint_url());
    for (min, max) in [(Some(101.0), None), (Some(-0.5), None), (None, Some(-1))] {
        let err = client
            .detect_labels()
            .image(sample_image("chelsea.png"))
            .set_min_confidence(min)
            .set_max_labels(max)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(
            matches!(err, DetectLabelsError::InvalidParameterException(_)),
            "{min:?} {max:?}: {err:?}"
        );
    }
    let err = client
        .detect_moderation_labels()
        .image(sample_image("knife.png"))
        .min_confidence(150.0)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(
            err,
            DetectModerationLabelsError::InvalidParameterException(_)
        ),
        "{err:?}"
    );
    let err = client
        .detect_text()
        .image(sample_image("text.png"))
        .filters(
            DetectTextFilters::builder()
                .word_filter(DetectionFilter::builder().min_confidence(-1.0).build())
                .build(),
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, DetectTextError::InvalidParameterException(_)),
        "{err:?}"
    );
    let err = client
        .compare_faces()
        .source_image(sample_image("astronaut.png"))
        .target_image(sample_image("astronaut.png"))
        .similarity_threshold(100.5)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, CompareFacesError::InvalidParameterException(_)),
        "{err:?}"
    );
    // The SDK does not enforce the required Image: the service does.
    let err = client
        .detect_labels()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, DetectLabelsError::InvalidParameterException(_)),
        "{err:?}"
    );
    // S3Object without an S3 endpoint configured.
    let err = client
        .detect_labels()
        .image(s3_image("bucket", "key.png"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, DetectLabelsError::InvalidParameterException(_)),
        "{err:?}"
    );
    // No Rekognition answer was a success.
    let calls = server.calls();
    assert_eq!(calls.total, 8);
    assert!(
        calls
            .calls
            .iter()
            .all(|c| c.outcome == "InvalidParameterException" && c.status == 400)
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_on_the_wire_have_status_type_header_and_message() {
    let server = start().await;
    let endpoint = server.endpoint_url();
    let gif_b64 = base64_encode(&gif());
    let answer = raw_call(
        &endpoint,
        "DetectLabels",
        serde_json::json!({"Image": {"Bytes": gif_b64}}),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.error_type.as_deref(),
        Some("InvalidImageFormatException")
    );
    assert_eq!(
        answer.content_type.as_deref(),
        Some("application/x-amz-json-1.1")
    );
    assert_eq!(answer.body["__type"], "InvalidImageFormatException");
    assert!(
        answer.body["Message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );

    let answer = raw_call(&endpoint, "DetectLabels", serde_json::json!({})).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["__type"], "InvalidParameterException");

    let answer = raw_call(
        &endpoint,
        "DetectLabels",
        serde_json::json!({"MinConfidence": "high"}),
    )
    .await;
    assert_eq!(answer.body["__type"], "SerializationException");

    let answer = raw_call(&endpoint, "IndexFaces", serde_json::json!({})).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["__type"], "UnknownOperationException");

    let ok = raw_call(
        &endpoint,
        "DetectLabels",
        serde_json::json!({"Image": {"Bytes": base64_encode(&sample("chelsea.png"))}, "MaxLabels": 1}),
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.content_type.as_deref(),
        Some("application/x-amz-json-1.1")
    );
    assert_eq!(ok.body["Labels"][0]["Name"], "Cat");
    assert_eq!(ok.body["Labels"][0]["Parents"][0]["Name"], "Animal");
    assert!(ok.body["Labels"][0]["Instances"][0]["BoundingBox"]["Width"].is_number());
    assert_eq!(ok.body["LabelModelVersion"], "fixture");
    server.shutdown().await.unwrap();
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_call_is_retried_by_the_sdk_and_succeeds() {
    let server = start().await;
    let endpoint = server.endpoint_url();
    let client = rekognition(&endpoint);

    // Through the admin route, as a test in another process would.
    let set = raw(
        "POST",
        format!("{endpoint}/_argus/faults"),
        vec![("Content-Type", "application/json".to_owned())],
        r#"{"throttle_next": 1, "throttle_kind": "ThrottlingException"}"#.to_owned(),
    )
    .await;
    assert_eq!(set.status, 200);
    assert_eq!(set.body["throttle_next"], 1);

    let out = client
        .detect_labels()
        .image(sample_image("chelsea.png"))
        .send()
        .await
        .unwrap();
    assert!(names_contain(out.labels(), "Cat"));
    let calls = server.calls();
    let outcomes: Vec<(&str, u16)> = calls
        .calls
        .iter()
        .map(|c| (c.outcome.as_str(), c.status))
        .collect();
    assert_eq!(outcomes, [("ThrottlingException", 400), ("OK", 200)]);
    assert_eq!(calls.count(Operation::DetectLabels), 2);
    assert_eq!(server.faults().throttle_next, 0);

    // ProvisionedThroughputExceededException is retried too.
    server.reset_calls();
    server.set_faults(Faults {
        throttle_next: 2,
        throttle_kind: ThrottleKind::ProvisionedThroughputExceededException,
        ..Faults::default()
    });
    let out = client
        .detect_text()
        .image(sample_image("text.png"))
        .send()
        .await
        .unwrap();
    assert!(!out.text_detections().is_empty());
    let outcomes: Vec<_> = server
        .calls()
        .calls
        .iter()
        .map(|c| c.outcome.clone())
        .collect();
    assert_eq!(
        outcomes,
        [
            "ProvisionedThroughputExceededException",
            "ProvisionedThroughputExceededException",
            "OK"
        ]
    );

    // More throttles than attempts: the SDK gives up with the typed error.
    server.set_faults(Faults {
        throttle_next: 5,
        ..Faults::default()
    });
    let err = client
        .detect_faces()
        .image(sample_image("astronaut.png"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, DetectFacesError::ThrottlingException(_)),
        "{err:?}"
    );
    assert_eq!(server.faults().throttle_next, 2);
    server.shutdown().await.unwrap();
}

fn names_contain(labels: &[aws_sdk_rekognition::types::Label], name: &str) -> bool {
    labels.iter().any(|l| l.name() == Some(name))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_set_at_start_apply_and_can_target_one_operation() {
    let server = argus_twin::serve(Config {
        faults: Faults {
            throttle_next: 1,
            throttle_kind: ThrottleKind::ProvisionedThroughputExceededException,
            operations: Some(vec![Operation::DetectModerationLabels]),
            ..Faults::default()
        },
        ..Config::default()
    })
    .await
    .unwrap();
    let client = rekognition(&server.endpoint_url());
    client
        .detect_labels()
        .image(sample_image("knife.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(server.calls().calls[0].outcome, "OK");
    let out = client
        .detect_moderation_labels()
        .image(sample_image("knife.png"))
        .send()
        .await
        .unwrap();
    assert!(!out.moderation_labels().is_empty());
    let outcomes: Vec<_> = server
        .calls()
        .calls
        .iter()
        .map(|c| c.outcome.clone())
        .collect();
    assert_eq!(
        outcomes,
        ["OK", "ProvisionedThroughputExceededException", "OK"]
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_all_gives_internal_server_error_after_the_sdk_retries() {
    let server = start().await;
    let endpoint = server.endpoint_url();
    let client = rekognition(&endpoint);
    raw(
        "POST",
        format!("{endpoint}/_argus/faults"),
        vec![("Content-Type", "application/json".to_owned())],
        r#"{"fail_all": true}"#.to_owned(),
    )
    .await;
    let err = client
        .detect_labels()
        .image(sample_image("chelsea.png"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, DetectLabelsError::InternalServerError(_)),
        "{err:?}"
    );
    let calls = server.calls();
    assert_eq!(calls.total, 3, "the SDK's standard retry makes 3 attempts");
    assert!(
        calls
            .calls
            .iter()
            .all(|c| c.outcome == "InternalServerError" && c.status == 500)
    );
    // Injected faults come before reading the image: no image was read.
    assert!(calls.calls.iter().all(|c| c.image_sha256.is_empty()));

    let wire = raw_call(&endpoint, "DetectText", serde_json::json!({})).await;
    assert_eq!(wire.status, 500);
    assert_eq!(wire.body["__type"], "InternalServerError");

    let reset = raw(
        "DELETE",
        format!("{endpoint}/_argus/faults"),
        vec![],
        String::new(),
    )
    .await;
    assert_eq!(reset.body["fail_all"], false);
    client
        .detect_labels()
        .image(sample_image("chelsea.png"))
        .send()
        .await
        .unwrap();
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_routes_report_health_faults_and_calls() {
    let server = start().await;
    let endpoint = server.endpoint_url();
    let health = raw(
        "GET",
        format!("{endpoint}/_argus/health"),
        vec![],
        String::new(),
    )
    .await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body["status"], "ok");
    assert_eq!(health.body["service"], "argus-twin");
    assert_eq!(health.body["fixtures"], 9);

    let faults = raw(
        "GET",
        format!("{endpoint}/_argus/faults"),
        vec![],
        String::new(),
    )
    .await;
    assert_eq!(faults.body["throttle_next"], 0);
    let bad = raw(
        "POST",
        format!("{endpoint}/_argus/faults"),
        vec![],
        r#"{"throttle_nxt": 1}"#.to_owned(),
    )
    .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body["error"].as_str().unwrap().contains("throttle_nxt"));
    let latency = raw(
        "POST",
        format!("{endpoint}/_argus/faults"),
        vec![],
        r#"{"latency_ms": 5, "operations": ["DetectText"]}"#.to_owned(),
    )
    .await;
    assert_eq!(latency.body["latency_ms"], 5);
    assert_eq!(latency.body["operations"][0], "DetectText");

    let before = raw(
        "GET",
        format!("{endpoint}/_argus/calls"),
        vec![],
        String::new(),
    )
    .await;
    assert_eq!(before.body["total"], 0, "no Rekognition call happened yet");
    let client = rekognition(&endpoint);
    client
        .detect_text()
        .image(sample_image("text.png"))
        .send()
        .await
        .unwrap();
    let after = raw(
        "GET",
        format!("{endpoint}/_argus/calls"),
        vec![],
        String::new(),
    )
    .await;
    assert_eq!(after.body["total"], 1);
    assert_eq!(after.body["by_operation"]["DetectText"], 1);
    assert_eq!(after.body["calls"][0]["operation"], "DetectText");
    assert_eq!(
        after.body["calls"][0]["image_sha256"][0],
        sha256(&sample("text.png"))
    );
    let cleared = raw(
        "DELETE",
        format!("{endpoint}/_argus/calls"),
        vec![],
        String::new(),
    )
    .await;
    assert_eq!(cleared.body["total"], 0);
    assert_eq!(server.calls().total, 0);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_loopback_binds_and_a_taken_port_is_a_clear_error() {
    for host in ["0.0.0.0", "192.168.1.10", "::1"] {
        let err = argus_twin::serve(Config {
            host: host.parse().unwrap(),
            ..Config::default()
        })
        .await
        .unwrap_err();
        assert!(matches!(err, ServeError::NonLoopbackBind(_)), "{err}");
        assert!(err.to_string().contains("127.0.0.1 only"), "{err}");
    }
    let first = start().await;
    let err = argus_twin::serve(Config {
        port: first.port(),
        ..Config::default()
    })
    .await
    .unwrap_err();
    assert!(
        matches!(err, ServeError::PortInUse { port } if port == first.port()),
        "{err}"
    );
    assert!(err.to_string().contains("already in use"));
    first.shutdown().await.unwrap();
}
