//! The soak: many uploads through the whole deployed pipeline on a twin of its own (S3
//! notification → SQS → the processor in MiniStack → argus-twin → DynamoDB and SNS) while
//! argus-twin throttles a share of the Rekognition calls and fails another share with HTTP 500,
//! and the ingest queue receives duplicate deliveries of some notifications.
//!
//! What must hold: every uploaded object ends in exactly one final record (PROCESSED: every
//! sample is a valid image), every weapon image raised exactly one alert and no other image
//! any, and nothing reached the dead-letter queue. The run reports images per second and the
//! p50/p99 latency from the end of an upload to its final record being readable (observed by
//! polling the results table every 500 ms).
//!
//! `make test` runs it small ([`soak_test_images`]); `make bench` runs 2,000 images
//! (`cli/benches/soak.rs`, `ARGUS_SOAK_IMAGES`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

use crate::pipeline::Twin;

/// The sample that raises an alert.
const WEAPON: &str = "knife.png";

/// How a soak runs.
#[derive(Debug, Clone)]
pub(crate) struct SoakOptions {
    /// Images uploaded.
    pub images: usize,
    /// Share of Rekognition calls throttled, percent.
    pub throttle_percent: u8,
    /// Share of Rekognition calls answered with HTTP 500, percent.
    pub error_percent: u8,
    /// Every n-th upload's notification is delivered a second time.
    pub duplicate_every: usize,
    /// Uploads in flight at once.
    pub upload_concurrency: usize,
}

impl SoakOptions {
    /// The figures: 20 % throttled, 5 % failed, one duplicate delivery in ten.
    pub(crate) fn with_images(images: usize) -> Self {
        SoakOptions {
            images,
            throttle_percent: 20,
            error_percent: 5,
            duplicate_every: 10,
            upload_concurrency: 8,
        }
    }
}

/// What a soak measured and found.
#[derive(Debug, Default)]
pub(crate) struct SoakReport {
    pub images: usize,
    pub duplicates_sent: usize,
    /// Uploads with no final record at the end.
    pub lost: Vec<String>,
    /// Uploads with more than one record, or a record that is not PROCESSED.
    pub wrong: Vec<String>,
    /// Weapon images without exactly one alert, and alerts of other images.
    pub alert_problems: Vec<String>,
    pub weapon_images: usize,
    pub dead_letters: u64,
    /// From the first upload to the last final record seen.
    pub elapsed: Duration,
    /// Upload end → final record readable, sorted.
    pub latencies: Vec<Duration>,
    /// Rekognition calls argus-twin answered, and how many with an injected fault.
    pub rekognition_calls: u64,
}

impl SoakReport {
    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * (self.latencies.len() - 1) as f64).round() as usize;
        self.latencies[rank.min(self.latencies.len() - 1)]
    }

    pub(crate) fn images_per_second(&self) -> f64 {
        self.images as f64 / self.elapsed.as_secs_f64().max(0.001)
    }

    /// One line per figure.
    pub(crate) fn summary(&self, options: &SoakOptions) -> String {
        format!(
            "soak images: {} ({} duplicate deliveries; {}% throttled, {}% HTTP 500 of {} Rekognition calls)\n\
             soak lost: {}\nsoak duplicated or not PROCESSED: {}\nsoak weapon images: {} (alert problems: {})\n\
             soak dead letters: {}\nsoak images_per_second: {:.2}\n\
             soak upload_to_record_p50_ms: {:.0}\nsoak upload_to_record_p99_ms: {:.0}\n\
             soak elapsed_s: {:.1}",
            self.images,
            self.duplicates_sent,
            options.throttle_percent,
            options.error_percent,
            self.rekognition_calls,
            self.lost.len(),
            self.wrong.len(),
            self.weapon_images,
            self.alert_problems.len(),
            self.dead_letters,
            self.images_per_second(),
            self.percentile(50.0).as_secs_f64() * 1000.0,
            self.percentile(99.0).as_secs_f64() * 1000.0,
            self.elapsed.as_secs_f64(),
        )
    }

    /// Everything that went wrong, empty when nothing did.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        problems.extend(self.lost.iter().map(|k| format!("lost: {k}")));
        problems.extend(self.wrong.iter().cloned());
        problems.extend(self.alert_problems.iter().cloned());
        if self.dead_letters > 0 {
            problems.push(format!("{} message(s) in the DLQ", self.dead_letters));
        }
        problems
    }
}

/// A twin for soaks: enough receives that a message is never dead-lettered by injected
/// faults alone (each receive retries every call three times; ten receives make a loss
/// vanishingly rare), and a timeout that leaves room for the SDK's backoff.
pub(crate) fn soak_twin() -> Twin {
    crate::pipeline::start_with(&[
        ("timeout_secs = 60", "timeout_secs = 10"),
        ("max_receive_count = 3", "max_receive_count = 10"),
    ])
}

/// Runs a soak on `twin` (whose faults it sets, and clears at the end).
pub(crate) fn run(twin: &Twin, options: &SoakOptions) -> SoakReport {
    // Every sample (each has a fixture; `knife.png` raises the weapon alert), in turn.
    let samples = crate::common::samples();
    assert!(samples.iter().any(|(name, _)| name == WEAPON));
    let prefix = format!("incoming/soak-{}/", std::process::id());
    let bucket = twin.bucket().to_owned();
    let queue = twin.outputs["IngestQueueUrl"].as_str().unwrap().to_owned();
    twin.set_faults(json!({
        "throttle_percent": options.throttle_percent,
        "error_percent": options.error_percent,
        "seed": 2026,
    }));
    let calls_before = twin.rekognition_calls();

    // Uploads, `upload_concurrency` at a time; every n-th notification delivered twice.
    let started = Instant::now();
    let uploads: Vec<(String, String, Instant)> = twin.runtime.block_on(async {
        let semaphore =
            std::sync::Arc::new(tokio::sync::Semaphore::new(options.upload_concurrency));
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..options.images {
            let (name, bytes) = &samples[n % samples.len()];
            let key = format!("{prefix}{n:05}-{name}");
            let (s3, sqs) = (twin.s3.clone(), twin.sqs.clone());
            let (bucket, queue, bytes, name) =
                (bucket.clone(), queue.clone(), bytes.clone(), name.clone());
            let duplicate =
                options.duplicate_every > 0 && n.is_multiple_of(options.duplicate_every);
            let permit = semaphore.clone().acquire_owned().await.unwrap();
            tasks.spawn(async move {
                let size = bytes.len();
                let out = s3
                    .put_object()
                    .bucket(&bucket)
                    .key(&key)
                    .body(bytes.into())
                    .send()
                    .await
                    .unwrap();
                let done = Instant::now();
                if duplicate {
                    let body = argus_twin::lambda::s3_notification(
                        "us-east-1",
                        &argus_twin::lambda::ObjectRef {
                            bucket,
                            key: key.clone(),
                            version: out.version_id().map(str::to_owned),
                            size,
                        },
                    );
                    sqs.send_message()
                        .queue_url(&queue)
                        .message_body(body)
                        .send()
                        .await
                        .unwrap();
                }
                drop(permit);
                (key, name, done)
            });
        }
        let mut uploads = Vec::new();
        while let Some(done) = tasks.join_next().await {
            uploads.push(done.unwrap());
        }
        uploads
    });
    let duplicates_sent = uploads
        .iter()
        .filter(|(key, _, _)| {
            let n: usize = key[prefix.len()..prefix.len() + 5].parse().unwrap();
            options.duplicate_every > 0 && n.is_multiple_of(options.duplicate_every)
        })
        .count();

    // Poll the results table until every upload has a final record, or the deadline.
    let deadline = Instant::now() + Duration::from_secs(180 + options.images as u64);
    let mut seen: BTreeMap<String, Instant> = BTreeMap::new();
    let mut last_seen = started;
    while seen.len() < uploads.len() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
        let now = Instant::now();
        for record in scan(twin, &prefix) {
            let key = record["objectKey"].as_str().unwrap_or_default().to_owned();
            let status = record["status"].as_str().unwrap_or_default();
            if ["PROCESSED", "REJECTED", "FAILED"].contains(&status) && !seen.contains_key(&key) {
                seen.insert(key, now);
                last_seen = now;
            }
        }
    }
    let elapsed = last_seen.duration_since(started);
    // Let duplicates and retries settle, then read everything once more.
    twin.wait_ingest_drained();
    twin.set_faults(json!({"throttle_percent": 0, "error_percent": 0}));
    let rekognition_calls = twin.rekognition_calls().saturating_sub(calls_before);
    let records = scan(twin, &prefix);

    let mut report = SoakReport {
        images: uploads.len(),
        duplicates_sent,
        elapsed,
        rekognition_calls,
        ..SoakReport::default()
    };
    let mut by_key: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for record in &records {
        by_key
            .entry(record["objectKey"].as_str().unwrap_or_default())
            .or_default()
            .push(record);
    }
    let mut weapon_ids = BTreeMap::new();
    for (key, name, uploaded) in &uploads {
        match by_key.get(key.as_str()).map(Vec::as_slice) {
            None | Some([]) => report.lost.push(key.clone()),
            Some([record]) => {
                if record["status"] != "PROCESSED" {
                    report.wrong.push(format!("{key}: {record}"));
                }
                if let Some(at) = seen.get(key) {
                    report
                        .latencies
                        .push(at.saturating_duration_since(*uploaded));
                }
                if *name == WEAPON {
                    weapon_ids.insert(record["imageId"].as_str().unwrap_or_default().to_owned(), 0);
                }
            }
            Some(many) => report.wrong.push(format!("{key}: {} records", many.len())),
        }
    }
    report.latencies.sort();
    report.weapon_images = weapon_ids.len();
    for alert in twin.alerts(Duration::from_secs(5)) {
        let id = alert["imageId"].as_str().unwrap_or_default().to_owned();
        match weapon_ids.get_mut(&id) {
            Some(count) => *count += 1,
            None if by_key
                .values()
                .flatten()
                .any(|r| r["imageId"] == id.as_str()) =>
            {
                report
                    .alert_problems
                    .push(format!("an alert for {id}, not a weapon image"));
            }
            None => {} // another test's image
        }
    }
    for (id, count) in &weapon_ids {
        if *count != 1 {
            report.alert_problems.push(format!("{id}: {count} alerts"));
        }
    }
    report.dead_letters = twin.dead_letters();
    report
}

/// Every results item whose objectKey starts with `prefix` (DynamoDB Scan, every page).
fn scan(twin: &Twin, prefix: &str) -> Vec<Value> {
    let table = twin.outputs["ResultsTableName"].as_str().unwrap();
    twin.runtime.block_on(async {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = twin
                .dynamodb
                .scan()
                .table_name(table)
                .filter_expression("begins_with(objectKey, :p)")
                .expression_attribute_values(":p", AttributeValue::S(prefix.to_owned()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap();
            for item in page.items() {
                items.push(serde_dynamo::from_item(item.clone()).unwrap());
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        items
    })
}

/// Images of the soak in `make test`: small enough for CI, large enough that the injected
/// faults hit many calls (about 5 calls an image).
pub(crate) fn soak_test_images() -> usize {
    45
}

#[test]
fn under_throttling_errors_and_duplicates_every_image_ends_in_exactly_one_record() {
    let twin = soak_twin();
    let options = SoakOptions::with_images(soak_test_images());
    let report = run(&twin, &options);
    eprintln!("{}", report.summary(&options));
    assert!(
        report.rekognition_calls > 4 * report.images as u64,
        "the pipeline called Rekognition: {} calls",
        report.rekognition_calls
    );
    assert_eq!(report.weapon_images, 5, "45 images hold five knives");
    assert!(report.duplicates_sent >= 4);
    assert_eq!(report.problems(), Vec::<String>::new());
}
