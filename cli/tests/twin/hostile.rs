//! The processor under its own memory limit over a hostile corpus
//! ([`argus_twin::corpus::hostile`]): metadata bombs, huge declared dimensions, a pixel bomb,
//! truncated and concatenated files, polyglots, an over-limit and an empty file.
//!
//! The real `bootstrap` of the local stage's bundle runs outside MiniStack against a Lambda
//! Runtime API of the test's own ([`argus_twin::lambda`]), with the deployed function's
//! environment, under an address-space limit (`RLIMIT_AS`) equal to the stage's `memory_mb`.
//! Address space bounds resident memory from above, so this is stricter than Lambda's limit.
//! glibc reserves 64 MiB of address space per malloc arena whether used or not, so the process
//! runs with `MALLOC_ARENA_MAX=2` (its resident use is unchanged; without it the reservations
//! alone would fill most of the limit on a many-threaded runtime).
//!
//! The images go to a bucket of the test's own (the function's `ARGUS_INPUT_BUCKET` points
//! there), so MiniStack's copy of the function never takes them: every record is claimed by
//! this process. Each SQS batch holds four hostile files and one good sample: every image must
//! end in a final record, the good one PROCESSED, the batch with no batchItemFailures, and the
//! process must still be running after the last batch.

use std::time::Duration;

use argus_twin::lambda::{self, FunctionProcess, Invocation, ObjectRef, RuntimeApi, SpawnOptions};
use serde_json::Value;

/// Request IDs of this test's invocations (the claim token starts with the request ID).
const REQUEST_PREFIX: &str = "argus-hostile-";

/// Files that no decoder may accept: each must end REJECTED.
const MUST_REJECT: &[&str] = &[
    "png-huge-dimensions",
    "jpeg-huge-dimensions",
    "jpeg-truncated",
    "png-truncated",
    "gif-jpeg-polyglot",
    "over-limit",
    "empty",
];

#[test]
fn every_hostile_image_ends_in_a_final_record_within_the_functions_memory_limit() {
    let t = crate::pipeline::turn();
    let twin = t.twin;
    let stage = argus_stacks::config::StageConfig::load(twin.config.path(), "local").unwrap();
    let memory_mb = stage.processor.memory_mb;

    // The deployed function's configuration, as Lambda describes it.
    let name = twin.outputs["ProcessorFunctionName"].as_str().unwrap();
    let lambda_client = aws_sdk_lambda::Client::new(&twin.sdk);
    let function = twin.runtime.block_on(crate::common::function_config(
        &lambda_client,
        name,
        &stage.region,
    ));
    assert_eq!(
        function.memory_mb, memory_mb,
        "the deployed MemorySize is the stage's memory_mb"
    );
    let prefix = format!(
        "{}hostile-{}/",
        function.variables["ARGUS_INPUT_PREFIX"],
        std::process::id()
    );

    // A bucket of the test's own, versioned like the input bucket.
    let bucket = format!("argus-hostile-{}", std::process::id());
    twin.runtime.block_on(async {
        twin.s3
            .create_bucket()
            .bucket(&bucket)
            .send()
            .await
            .unwrap();
        twin.s3
            .put_bucket_versioning()
            .bucket(&bucket)
            .versioning_configuration(
                aws_sdk_s3::types::VersioningConfiguration::builder()
                    .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    });
    let upload = |key: String, bytes: Vec<u8>| -> ObjectRef {
        let size = bytes.len();
        let version = twin.runtime.block_on(async {
            twin.s3
                .put_object()
                .bucket(&bucket)
                .key(&key)
                .body(bytes.into())
                .send()
                .await
                .unwrap()
                .version_id()
                .map(str::to_owned)
        });
        ObjectRef {
            bucket: bucket.clone(),
            key,
            version,
            size,
        }
    };

    let corpus = argus_twin::corpus::hostile().unwrap();
    let good = ["chelsea.png", "coffee.png", "text.png", "rocket.jpg"];
    // (kind, object); batches of four hostile files and one good sample.
    let mut batches: Vec<Vec<(String, ObjectRef)>> = Vec::new();
    for (n, files) in corpus.chunks(4).enumerate() {
        let mut batch: Vec<(String, ObjectRef)> = files
            .iter()
            .map(|f| {
                let key = format!("{prefix}{}.{}", f.kind, f.extension);
                (f.kind.to_owned(), upload(key, f.bytes.clone()))
            })
            .collect();
        let sample = good[n % good.len()];
        let key = format!("{prefix}good-{n}-{sample}");
        batch.push((format!("good:{sample}"), upload(key, sample_bytes(sample))));
        batches.push(batch);
    }

    // The bootstrap, limited to the function's memory.
    let work = tempfile::tempdir().unwrap();
    let (bootstrap, _) =
        lambda::extract_bootstrap(&crate::common::processor_bundle(), work.path()).unwrap();
    let api = RuntimeApi::start(&function.arn).unwrap();
    let limit = u64::from(memory_mb) * 1024 * 1024;
    let options = SpawnOptions {
        overrides: vec![
            ("AWS_ENDPOINT_URL".into(), twin.endpoint.clone()),
            (
                "AWS_ENDPOINT_URL_REKOGNITION".into(),
                twin.rekognition.clone(),
            ),
            ("ARGUS_INPUT_BUCKET".into(), bucket.clone()),
            ("MALLOC_ARENA_MAX".into(), "2".into()),
        ],
        address_space_limit: Some(limit),
    };
    let (mut process, _) = FunctionProcess::spawn(
        &bootstrap,
        &function,
        &api,
        &options,
        work.path().join("bootstrap.log"),
    )
    .unwrap();
    process.wait_next(&api, Duration::from_secs(15)).unwrap();
    let queue_arn = "arn:aws:sqs:us-east-1:000000000000:argus-hostile";
    for (n, batch) in batches.iter().enumerate() {
        let messages: Vec<(String, String)> = batch
            .iter()
            .enumerate()
            .map(|(i, (_, object))| {
                (
                    format!("hostile-{n}-{i}"),
                    lambda::s3_notification(&stage.region, object),
                )
            })
            .collect();
        let body = process
            .invoke(
                &api,
                Invocation {
                    request_id: format!("{REQUEST_PREFIX}{n}"),
                    payload: lambda::sqs_event(&stage.region, queue_arn, &messages),
                    deadline_ms: lambda::now_millis() + 60_000,
                },
                Duration::from_secs(120),
            )
            .unwrap_or_else(|e| panic!("batch {n} ({:?}): {e}", kinds(batch)));
        let response: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            response["batchItemFailures"],
            serde_json::json!([]),
            "batch {n} ({:?}): {body}\n{}",
            kinds(batch),
            process.log_tail()
        );
        process.wait_next(&api, Duration::from_secs(15)).unwrap();
    }
    assert!(
        process.exited().unwrap().is_none(),
        "the bootstrap is still running"
    );
    let peak = process.peak_rss_bytes().unwrap();
    drop(process);
    eprintln!(
        "hostile corpus: peak RSS {:.1} MiB under RLIMIT_AS {memory_mb} MiB",
        peak as f64 / 1048576.0
    );

    let mut problems = Vec::new();
    for (kind, object) in batches.iter().flatten() {
        let records = twin.records(&object.key);
        let Some(record) = records.first() else {
            problems.push(format!("{kind}: no record"));
            continue;
        };
        let status = record["status"].as_str().unwrap_or_default();
        let claimed_here = record["claimToken"]
            .as_str()
            .is_some_and(|t| t.starts_with(REQUEST_PREFIX));
        let expected_ok = if kind.starts_with("good:") {
            status == "PROCESSED"
        } else if MUST_REJECT.contains(&kind.as_str()) {
            status == "REJECTED"
        } else {
            status == "PROCESSED" || status == "REJECTED"
        };
        eprintln!(
            "  {kind:<22} {status:<9} {}",
            record["reason"].as_str().unwrap_or("")
        );
        if records.len() != 1 || !expected_ok || !claimed_here {
            problems.push(format!("{kind}: {} record(s), {record}", records.len()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn kinds(batch: &[(String, ObjectRef)]) -> Vec<&str> {
    batch.iter().map(|(k, _)| k.as_str()).collect()
}

fn sample_bytes(name: &str) -> Vec<u8> {
    std::fs::read(crate::common::root().join("samples").join(name)).unwrap()
}
