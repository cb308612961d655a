//! `make bench`: DetectLabels throughput and latency on an in-process argus-twin.
//!
//! Starts argus-twin on a free 127.0.0.1 port with the project's fixtures, then sends a fixed
//! number of DetectLabels requests with `Image.Bytes` of `samples/chelsea.png` through the
//! unmodified aws-sdk-rekognition (SigV4 signing, JSON 1.1 serialization, loopback HTTP):
//! first one at a time (latency percentiles and requests per second), then 8 at a time
//! (requests per second). Prints one line per figure. `ARGUS_BENCH_REQUESTS` sets the number
//! of requests per run (default 1000, at most 100000).

use std::time::{Duration, Instant};

use aws_sdk_rekognition::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_rekognition::primitives::Blob;
use aws_sdk_rekognition::types::Image;

const SAMPLE: &str = "chelsea.png";
const WARMUP: usize = 50;
const CONCURRENCY: usize = 8;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run() -> anyhow::Result<()> {
    let requests: usize = std::env::var("ARGUS_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
        .clamp(1, 100_000);
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../samples")
            .join(SAMPLE),
    )?;
    let image_len = bytes.len();
    let image = Image::builder().bytes(Blob::new(bytes)).build();

    let server = argus_twin::serve(argus_twin::Config::default()).await?;
    let config = aws_sdk_rekognition::Config::builder()
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"))
        .endpoint_url(server.endpoint_url())
        .build();
    let client = aws_sdk_rekognition::Client::from_conf(config);
    let call = |client: aws_sdk_rekognition::Client, image: Image| async move {
        let out = client.detect_labels().image(image).send().await?;
        if out.labels().is_empty() {
            anyhow::bail!("DetectLabels answered no labels for the sample");
        }
        Ok::<(), anyhow::Error>(())
    };

    for _ in 0..WARMUP {
        call(client.clone(), image.clone()).await?;
    }

    let mut latencies = Vec::with_capacity(requests);
    let started = Instant::now();
    for _ in 0..requests {
        let t = Instant::now();
        call(client.clone(), image.clone()).await?;
        latencies.push(t.elapsed());
    }
    let sequential = started.elapsed();
    latencies.sort();

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..CONCURRENCY {
        let (client, image) = (client.clone(), image.clone());
        let share = requests / CONCURRENCY + usize::from(worker < requests % CONCURRENCY);
        tasks.spawn(async move {
            for _ in 0..share {
                call(client.clone(), image.clone()).await?;
            }
            Ok::<(), anyhow::Error>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let concurrent = started.elapsed();
    let errors = server
        .calls()
        .calls
        .iter()
        .filter(|c| c.outcome != "OK")
        .count();
    server.shutdown().await?;

    println!(
        "detect_labels setup: image={SAMPLE} ({image_len} bytes as Image.Bytes), requests={requests}, loopback, aws-sdk-rekognition"
    );
    println!(
        "detect_labels requests_per_second (1 in flight): {:.1}",
        requests as f64 / sequential.as_secs_f64()
    );
    println!(
        "detect_labels p50_latency_ms: {:.3}",
        ms(percentile(&latencies, 50.0))
    );
    println!(
        "detect_labels p99_latency_ms: {:.3}",
        ms(percentile(&latencies, 99.0))
    );
    println!(
        "detect_labels requests_per_second ({CONCURRENCY} in flight): {:.1}",
        requests as f64 / concurrent.as_secs_f64()
    );
    println!("detect_labels error_answers: {errors}");
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run())
}
