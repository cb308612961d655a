//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use argus_twin::{Config, ServerHandle};
use aws_sdk_rekognition::config::retry::RetryConfig;
use aws_sdk_rekognition::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_rekognition::primitives::Blob;
use aws_sdk_rekognition::types::{Image, S3Object};

/// MiniStack from `.venv/twin` on a free loopback port, started off the async runtime (its
/// launcher waits for the port). Stopped by PID when dropped.
pub async fn start_ministack() -> argus_twin::MiniStack {
    let port = argus_twin::process::free_port().unwrap();
    tokio::task::spawn_blocking(move || {
        argus_twin::MiniStack::start(argus_twin::MiniStackOptions::new(
            argus_twin::ministack::default_python(),
            port,
        ))
    })
    .await
    .unwrap()
    .unwrap()
}

/// Every sample image.
pub const SAMPLES: [&str; 9] = [
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "horse.png",
    "hubble_deep_field.jpg",
    "knife.png",
    "retina.jpg",
    "rocket.jpg",
    "text.png",
];

pub fn samples_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples")
}

pub fn sample(name: &str) -> Vec<u8> {
    std::fs::read(samples_dir().join(name)).unwrap()
}

pub fn sha256(bytes: &[u8]) -> String {
    argus_twin::inspect::sha256_hex(bytes)
}

pub fn bytes_image(bytes: Vec<u8>) -> Image {
    Image::builder().bytes(Blob::new(bytes)).build()
}

pub fn sample_image(name: &str) -> Image {
    bytes_image(sample(name))
}

pub fn s3_image(bucket: &str, key: &str) -> Image {
    Image::builder()
        .s3_object(S3Object::builder().bucket(bucket).name(key).build())
        .build()
}

/// A PNG of the given size filled with one colour.
pub fn png(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
    let img = image::DynamicImage::ImageRgb8(image::ImageBuffer::from_pixel(
        width,
        height,
        image::Rgb(rgb),
    ));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// argus-twin on a free port with the project's fixtures and no S3.
pub async fn start() -> ServerHandle {
    argus_twin::serve(Config::default()).await.unwrap()
}

/// An unmodified Rekognition client pointed at `endpoint`: static credentials, the SDK's
/// standard retry (3 attempts) with a short initial backoff so retried tests stay quick.
pub fn rekognition(endpoint: &str) -> aws_sdk_rekognition::Client {
    let config = aws_sdk_rekognition::Config::builder()
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(endpoint)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(20)),
        )
        .build();
    aws_sdk_rekognition::Client::from_conf(config)
}

/// A raw HTTP answer.
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    pub error_type: Option<String>,
    pub content_type: Option<String>,
    pub body: serde_json::Value,
}

/// Sends `body` to `url` with `method`, headers as given; never fails on HTTP status.
pub async fn raw(
    method: &str,
    url: String,
    headers: Vec<(&'static str, String)>,
    body: String,
) -> Raw {
    let method = method.to_owned();
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .build()
            .into();
        let mut response = match method.as_str() {
            "GET" => {
                let mut req = agent.get(&url);
                for (k, v) in &headers {
                    req = req.header(*k, v);
                }
                req.call().unwrap()
            }
            "DELETE" => agent.delete(&url).call().unwrap(),
            _ => {
                let mut req = agent.post(&url);
                for (k, v) in &headers {
                    req = req.header(*k, v);
                }
                req.send(body.as_str()).unwrap()
            }
        };
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let error_type = header("x-amzn-errortype");
        let content_type = header("content-type");
        let text = response.body_mut().read_to_string().unwrap();
        Raw {
            status: response.status().as_u16(),
            error_type,
            content_type,
            body: serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        }
    })
    .await
    .unwrap()
}

/// A Rekognition call over raw HTTP (AWS JSON 1.1), unsigned.
pub async fn raw_call(endpoint: &str, operation: &str, body: serde_json::Value) -> Raw {
    raw(
        "POST",
        format!("{endpoint}/"),
        vec![
            ("X-Amz-Target", format!("RekognitionService.{operation}")),
            ("Content-Type", "application/x-amz-json-1.1".to_owned()),
        ],
        body.to_string(),
    )
    .await
}

/// A DetectText answer's detections split by type: (LINEs, WORDs), in answer order.
pub fn lines_and_words(
    detections: &[aws_sdk_rekognition::types::TextDetection],
) -> (
    Vec<&aws_sdk_rekognition::types::TextDetection>,
    Vec<&aws_sdk_rekognition::types::TextDetection>,
) {
    use aws_sdk_rekognition::types::TextTypes;
    let of = |kind: TextTypes| {
        detections
            .iter()
            .filter(|d| d.r#type() == Some(&kind))
            .collect::<Vec<_>>()
    };
    (of(TextTypes::Line), of(TextTypes::Word))
}
