//! `make bench`: argus-twin's model answers — per operation, median and p95 latency for a
//! 640×480 and a 1920×1080 image, start-up time with the models loaded, peak RSS.
//!
//! Starts argus-twin in-process with the models of `make models` and no fixtures, then sends
//! each operation `ARGUS_BENCH_MODEL_REQUESTS` times (default 20, after 2 warm-up calls)
//! through aws-sdk-rekognition with `Image.Bytes`. Every request carries a different JPEG (the
//! astronaut sample resized, one pixel changed), so each one hashes and decodes its image as a
//! new upload would. CompareFaces compares each such image (source) with one more copy of the
//! same size (target): two face detections and the embedding of every face found, per call.
//! Prints one line per figure.

use std::io::Cursor;
use std::time::{Duration, Instant};

use aws_sdk_rekognition::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_rekognition::primitives::Blob;
use aws_sdk_rekognition::types::Image;

const WARMUP: usize = 2;
const OPERATIONS: [&str; 5] = [
    "DetectFaces",
    "CompareFaces",
    "DetectLabels",
    "DetectText",
    "DetectModerationLabels",
];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `count` distinct JPEGs of `w × h`: the astronaut resized, pixel (0, 0) set to `i`.
fn variants(w: u32, h: u32, count: usize) -> anyhow::Result<Vec<Vec<u8>>> {
    let source = image::open(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/astronaut.png"),
    )?
    .to_rgb8();
    let base = image::imageops::resize(&source, w, h, image::imageops::FilterType::Triangle);
    (0..count)
        .map(|i| {
            let mut img = base.clone();
            img.put_pixel(0, 0, image::Rgb([(i % 256) as u8, (i / 256) as u8, 7]));
            let mut out = Cursor::new(Vec::new());
            image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Jpeg)?;
            Ok(out.into_inner())
        })
        .collect()
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

async fn call(
    client: &aws_sdk_rekognition::Client,
    op: &str,
    bytes: Vec<u8>,
    target: &[u8],
) -> anyhow::Result<()> {
    let image = Image::builder().bytes(Blob::new(bytes)).build();
    match op {
        "DetectFaces" => {
            client.detect_faces().image(image).send().await?;
        }
        "CompareFaces" => {
            let target = Image::builder().bytes(Blob::new(target.to_vec())).build();
            client
                .compare_faces()
                .source_image(image)
                .target_image(target)
                .send()
                .await?;
        }
        "DetectLabels" => {
            client.detect_labels().image(image).send().await?;
        }
        "DetectText" => {
            client.detect_text().image(image).send().await?;
        }
        _ => {
            client
                .detect_moderation_labels()
                .image(image)
                .send()
                .await?;
        }
    }
    Ok(())
}

async fn run() -> anyhow::Result<()> {
    let requests: usize = std::env::var("ARGUS_BENCH_MODEL_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
        .clamp(1, 1000);
    let started = Instant::now();
    let server = argus_twin::serve(argus_twin::Config {
        fixtures_dir: None,
        ..argus_twin::Config::default()
    })
    .await?;
    let startup = started.elapsed();
    println!(
        "argus-twin start-up with the models loaded: {:.0} ms",
        ms(startup)
    );
    let config = aws_sdk_rekognition::Config::builder()
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"))
        .endpoint_url(server.endpoint_url())
        .build();
    let client = aws_sdk_rekognition::Client::from_conf(config);
    for (w, h) in [(640u32, 480u32), (1920, 1080)] {
        for (k, op) in OPERATIONS.iter().enumerate() {
            // Distinct images per operation too, so no call finds its image decoded.
            let images = variants(w, h, (WARMUP + requests) * (k + 1) + 1)?;
            let (target, images) = images[(WARMUP + requests) * k..]
                .split_last()
                .ok_or_else(|| anyhow::anyhow!("no images"))?;
            for bytes in &images[..WARMUP] {
                call(&client, op, bytes.clone(), target).await?;
            }
            let mut times = Vec::with_capacity(requests);
            for bytes in &images[WARMUP..] {
                let t = Instant::now();
                call(&client, op, bytes.clone(), target).await?;
                times.push(t.elapsed());
            }
            times.sort();
            println!(
                "{op:<24} {w}x{h}: median {:.0} ms, p95 {:.0} ms ({requests} requests, JPEG {} KB)",
                ms(percentile(&times, 50.0)),
                ms(percentile(&times, 95.0)),
                images[0].len() / 1024
            );
        }
    }
    if let Some(rss) = peak_rss_mib() {
        println!(
            "peak RSS of the bench process (argus-twin in-process, models loaded): {rss:.0} MiB"
        );
    }
    server.shutdown().await?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}
