//! `argus audit` on the twin after the demo's uploads: argus-twin recorded every Rekognition call
//! the processor made as a CloudTrail event; `argus audit --stage local --json` reads them with
//! LookupEvents and `--from-bucket` reads the same calls back from the gzipped log files argus-twin
//! delivered to its trail bucket. Called by the demo test while its twin still runs
//! ([`collect`]); the checks ([`check`]) run after the twin is stopped.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use argus_twin::lifecycle::TwinState;
use serde_json::Value;

/// What the audit commands printed, and who the processor is.
pub struct Audit {
    /// `argus audit --stage local --json` (LookupEvents).
    pub lookup: Output,
    /// `argus audit --stage local --from-bucket --json` (the trail bucket's log files), the first
    /// answer that held `expected` DetectLabels calls, or the last one after 60 s.
    pub from_bucket: Output,
    /// `assumed-role/<role>/<function>` of the processor as Lambda describes it.
    pub processor_caller: String,
    /// How many processed images `from_bucket` was read again for.
    pub expected: usize,
}

fn argus(twin: &TwinState, config_dir: &Path, extra: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_argus"))
        .current_dir(crate::common::root())
        .args(["audit", "--stage", "local", "--json", "--since", "1h"])
        .args(extra)
        .arg("--config-dir")
        .arg(config_dir)
        .envs(twin.environment())
        .output()
        .unwrap()
}

fn detect_labels_calls(output: &Output) -> usize {
    serde_json::from_slice::<Value>(&output.stdout)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .map_or(0, |calls| {
            calls
                .iter()
                .filter(|c| c["event"] == "DetectLabels")
                .count()
        })
}

/// Runs the audit commands against the running twin. `expected`: how many images the processor
/// analysed (argus-twin delivers its log files every 5 s, so `--from-bucket` is read again until
/// it holds that many DetectLabels calls). Panics only when the twin's Lambda cannot be read.
pub fn collect(twin: &TwinState, config_dir: &Path, expected: usize) -> Audit {
    let environment: std::collections::HashMap<String, String> =
        twin.environment().into_iter().collect();
    let context = argus_toolkit::aws::AwsContext::for_endpoint(
        &environment["AWS_ENDPOINT_URL"],
        "us-east-1",
        &environment["AWS_ACCESS_KEY_ID"],
        &environment["AWS_SECRET_ACCESS_KEY"],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let function = "argus-local-processor";
    let configuration = runtime
        .block_on(
            context
                .lambda
                .get_function_configuration()
                .function_name(function)
                .send(),
        )
        .unwrap();
    let role_arn = configuration.role().unwrap_or_default();
    let role = role_arn.rsplit('/').next().unwrap_or_default();
    let lookup = argus(twin, config_dir, &[]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let from_bucket = loop {
        let output = argus(twin, config_dir, &["--from-bucket"]);
        if detect_labels_calls(&output) >= expected || Instant::now() > deadline {
            break output;
        }
        std::thread::sleep(Duration::from_secs(2));
    };
    Audit {
        lookup,
        from_bucket,
        processor_caller: format!("assumed-role/{role}/{function}"),
        expected,
    }
}

/// Every processed record in `records` has exactly one DetectLabels call in both listings: its
/// S3 object and version, the processor's role session as caller, result OK; both listings name the same
/// calls (by CloudTrail event ID).
pub fn check(audit: &Audit, records: &[Value]) {
    assert!(
        audit.processor_caller.starts_with("assumed-role/")
            && !audit.processor_caller.contains("assumed-role//"),
        "the processor has a role: {}",
        audit.processor_caller
    );
    let mut event_ids = Vec::new();
    for (name, output) in [
        ("LookupEvents", &audit.lookup),
        ("--from-bucket", &audit.from_bucket),
    ] {
        assert!(
            output.status.success(),
            "argus audit ({name}) failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let calls: Vec<Value> = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("argus audit ({name}) --json: {e}"));
        let labels: Vec<&Value> = calls
            .iter()
            .filter(|c| c["event"] == "DetectLabels")
            .collect();
        let processed: Vec<&Value> = records
            .iter()
            .filter(|r| r["status"] == "PROCESSED")
            .collect();
        assert!(!processed.is_empty());
        assert_eq!(
            processed.len(),
            audit.expected,
            "the trail bucket was read until it held a call per processed image"
        );
        for record in &processed {
            let (bucket, key) = (
                record["bucket"].as_str().unwrap(),
                record["objectKey"].as_str().unwrap(),
            );
            let matching: Vec<&&Value> = labels
                .iter()
                .filter(|c| c["images"][0]["bucket"] == bucket && c["images"][0]["key"] == key)
                .collect();
            assert_eq!(
                matching.len(),
                1,
                "{name}: one DetectLabels call on s3://{bucket}/{key} in {calls:#?}"
            );
            let call = matching[0];
            // The processor names the object version it was notified of.
            let version = record["versionId"].as_str().unwrap();
            assert_eq!(call["images"][0]["versionId"], version, "{name}");
            assert_eq!(
                call["image"],
                format!("s3://{bucket}/{key}?versionId={version}"),
                "{name}"
            );
            assert_eq!(call["result"], "OK", "{name}: {call}");
            assert_eq!(call["caller"], audit.processor_caller.as_str(), "{name}");
            assert_eq!(call["callerType"], "AssumedRole", "{name}");
            assert_eq!(call["account"], "000000000000", "{name}");
        }
        // Every call the listing holds names a Rekognition operation the processor makes.
        for call in &calls {
            let event = call["event"].as_str().unwrap();
            assert!(
                [
                    "DetectLabels",
                    "DetectText",
                    "DetectFaces",
                    "DetectModerationLabels",
                    "CompareFaces"
                ]
                .contains(&event),
                "{name}: {event}"
            );
        }
        let mut ids: Vec<String> = labels
            .iter()
            .map(|c| c["eventId"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        event_ids.push(ids);
    }
    assert_eq!(
        event_ids[0], event_ids[1],
        "LookupEvents and the trail bucket's log files hold the same DetectLabels calls"
    );
}
