//! `argus audit`: parsing recorded CloudTrail data (a LookupEvents page and a gzipped trail log
//! file, `cli/tests/data/cloudtrail/`), the stage and time filters, `--since`, the table and
//! the JSON output, the CLI's exit codes — and, on MiniStack with CloudTrail recording on, the
//! real LookupEvents and S3 paths. (MiniStack serves no Rekognition, so its event history never
//! holds a Rekognition call; the recorded data covers those.)

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;

use argus_cli::ops::audit_trail::{
    AuditEvent, Filter, REKOGNITION_EVENT_SOURCE, Window, epoch_of, log_day_prefixes,
    log_file_in_window, lookup_events, no_calls_message, parse_log_file, parse_lookup_events_page,
    parse_since, select, summary, table, to_json,
};
use argus_stacks::config::StageConfig;
use serde_json::{Value, json};

const BETA_CALLER: &str =
    "assumed-role/argus-beta-ProcessorRole-7GhT2kLmN4pQ/argus-beta-Processor-pV6mQ3kT9xLb";
const BETA_BUCKET: &str = "argus-beta-input-123456789012-eu-west-1";
const VERSION: &str = "3HL4kqtJvjVBH40Nrjfkd8mA1uJz9Xq2";

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/cloudtrail")
        .join(name)
}

fn lookup_page() -> Vec<AuditEvent> {
    let body = std::fs::read_to_string(data("lookup-events-page.json")).unwrap();
    parse_lookup_events_page(&body).unwrap().events
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The hour before 2024-05-01T12:05:00Z, when the recorded calls were made.
fn recorded_window() -> Window {
    Window::last(3_600, epoch_of("2024-05-01T12:05:00Z").unwrap())
}

fn filter(stage: Option<&str>, event: Option<&str>) -> Filter {
    Filter {
        window: recorded_window(),
        event: event.map(str::to_owned),
        stage_bucket: stage.map(|s| {
            StageConfig::load(&crate::common::config_dir(), s)
                .unwrap()
                .input_bucket_name()
        }),
    }
}

#[test]
fn a_lookup_events_page_gives_who_called_what_on_which_image() {
    let body = std::fs::read_to_string(data("lookup-events-page.json")).unwrap();
    let page = parse_lookup_events_page(&body).unwrap();
    assert!(page.next_token.is_some(), "the page is one of several");
    let events = page.events;
    assert_eq!(events.len(), 6);

    let compare = &events[0];
    assert_eq!(compare.event, "CompareFaces");
    assert_eq!(compare.time, "2024-05-01T12:00:07Z");
    assert_eq!(compare.caller, BETA_CALLER);
    assert_eq!(compare.caller_type.as_deref(), Some("AssumedRole"));
    assert_eq!(compare.source.as_deref(), Some("52.214.83.17"));
    assert_eq!(compare.account.as_deref(), Some("123456789012"));
    assert_eq!(compare.region, "eu-west-1");
    assert_eq!(compare.result, "OK");
    assert_eq!(
        compare.request_id.as_deref(),
        Some("0b6c3f7e-3a51-4f0e-9c2d-6f1e2a7b8c91")
    );
    let params: Vec<&str> = compare
        .images
        .iter()
        .map(|i| i.parameter.as_str())
        .collect();
    assert_eq!(params, ["sourceImage", "targetImage"]);
    assert_eq!(
        compare.image,
        format!(
            "s3://{BETA_BUCKET}/reference/authorized-face.jpg -> s3://{BETA_BUCKET}/incoming/team photo.jpg?versionId={VERSION}"
        )
    );

    let failed = &events[3];
    assert_eq!(failed.event, "DetectLabels");
    assert_eq!(failed.result, "InvalidImageFormatException");
    assert_eq!(
        failed.error_message.as_deref(),
        Some("Request has invalid image format")
    );
    assert_eq!(failed.images[0].key.as_deref(), Some("incoming/scan.png"));

    let inline = &events[5];
    assert_eq!(inline.caller, "user/alice");
    assert_eq!(inline.caller_type.as_deref(), Some("IAMUser"));
    assert_eq!(inline.source.as_deref(), Some("203.0.113.24"));
    assert_eq!(inline.image, "(bytes)");
    assert!(inline.images[0].bytes && inline.images[0].bucket.is_none());
    assert!(
        inline
            .user_agent
            .as_deref()
            .unwrap()
            .starts_with("aws-cli/2")
    );
}

#[test]
fn the_table_lists_the_calls_newest_first() {
    let mut events = lookup_page();
    events.reverse(); // whatever order they come in
    let beta = select(events, &filter(Some("beta"), None));
    let image = format!("s3://{BETA_BUCKET}/incoming/team photo.jpg?versionId={VERSION}");
    let reference = format!("s3://{BETA_BUCKET}/reference/authorized-face.jpg");
    let scan =
        format!("s3://{BETA_BUCKET}/incoming/scan.png?versionId=Wq1eR2tY3uI4oP5aS6dF7gH8jK9lZ0xC");
    let compare = format!("{reference} -> {image}");
    let w = compare.len();
    let c = BETA_CALLER.len();
    let expected = [
        format!(
            "{:<20}  {:<12}  {:<c$}  {:<w$}  RESULT",
            "TIME", "EVENT", "CALLER", "IMAGE"
        ),
        format!("2024-05-01T12:00:07Z  CompareFaces  {BETA_CALLER}  {compare}  OK"),
        format!("2024-05-01T12:00:05Z  DetectFaces   {BETA_CALLER}  {image:<w$}  OK"),
        format!("2024-05-01T12:00:03Z  DetectLabels  {BETA_CALLER}  {image:<w$}  OK"),
        format!(
            "2024-05-01T11:58:41Z  DetectLabels  {BETA_CALLER}  {scan:<w$}  InvalidImageFormatException"
        ),
    ]
    .join("\n")
        + "\n";
    assert_eq!(table(&beta), expected);
    assert_eq!(
        summary(&beta, &recorded_window(), "the CloudTrail event history"),
        "4 Rekognition calls (1 failed) from 2024-05-01T11:05:00Z to 2024-05-01T12:05:00Z, from the CloudTrail event history"
    );
}

#[test]
fn the_json_output_has_stable_field_names() {
    let events = select(lookup_page(), &filter(None, None));
    let value: Value = serde_json::from_str(&to_json(&events).unwrap()).unwrap();
    let array = value.as_array().unwrap();
    assert_eq!(array.len(), 6);
    let keys: Vec<&str> = array[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "time",
            "event",
            "caller",
            "callerArn",
            "callerType",
            "source",
            "userAgent",
            "image",
            "images",
            "result",
            "errorCode",
            "errorMessage",
            "requestId",
            "eventId",
            "region",
            "account"
        ]
    );
    let failed = array
        .iter()
        .find(|e| e["result"] != "OK" && e["caller"] == BETA_CALLER)
        .unwrap();
    assert_eq!(
        failed,
        &json!({
            "time": "2024-05-01T11:58:41Z",
            "event": "DetectLabels",
            "caller": BETA_CALLER,
            "callerArn": format!("arn:aws:sts::123456789012:{BETA_CALLER}"),
            "callerType": "AssumedRole",
            "source": "52.214.83.17",
            "userAgent": "aws-sdk-rust/1.3.9 ua/2.1 api/rekognition/1.93.0 os/linux lang/rust/1.95.0 exec-env/AWS_Lambda_provided.al2023 m/E",
            "image": format!("s3://{BETA_BUCKET}/incoming/scan.png?versionId=Wq1eR2tY3uI4oP5aS6dF7gH8jK9lZ0xC"),
            "images": [{
                "parameter": "image",
                "bucket": BETA_BUCKET,
                "key": "incoming/scan.png",
                "versionId": "Wq1eR2tY3uI4oP5aS6dF7gH8jK9lZ0xC",
                "bytes": false
            }],
            "result": "InvalidImageFormatException",
            "errorCode": "InvalidImageFormatException",
            "errorMessage": "Request has invalid image format",
            "requestId": "d5e6f7a8-b9c0-4d1e-8f2a-3b4c5d6e7f81",
            "eventId": "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e81",
            "region": "eu-west-1",
            "account": "123456789012"
        })
    );
    let inline = array.iter().find(|e| e["caller"] == "user/alice").unwrap();
    assert_eq!(inline["images"][0]["bytes"], true);
    assert_eq!(inline["images"][0]["bucket"], Value::Null);
    assert_eq!(inline["errorCode"], Value::Null, "absent values are null");
    assert_eq!(to_json(&[]).unwrap(), "[]\n");
}

#[test]
fn the_stage_filter_keeps_calls_on_that_stages_input_bucket() {
    let events = lookup_page();
    let names = |stage: Option<&str>, event: Option<&str>| -> Vec<(String, String)> {
        select(events.clone(), &filter(stage, event))
            .into_iter()
            .map(|e| (e.time, e.event))
            .collect()
    };
    assert_eq!(
        names(Some("beta"), None),
        [
            ("2024-05-01T12:00:07Z".into(), "CompareFaces".into()),
            ("2024-05-01T12:00:05Z".into(), "DetectFaces".into()),
            ("2024-05-01T12:00:03Z".into(), "DetectLabels".into()),
            ("2024-05-01T11:58:41Z".into(), "DetectLabels".into()),
        ]
    );
    assert_eq!(
        names(Some("prod"), None),
        [("2024-05-01T11:45:12Z".to_owned(), "DetectLabels".to_owned())]
    );
    assert!(
        names(Some("local"), None).is_empty(),
        "no call named the local bucket"
    );
    assert_eq!(
        names(None, None).len(),
        6,
        "the account-level view keeps all"
    );
    assert_eq!(
        names(Some("beta"), Some("DetectLabels")).len(),
        2,
        "--event narrows further"
    );
    assert_eq!(names(None, Some("CompareFaces")).len(), 1);

    // The bucket name is resolved with each event's own account: another account's bucket of
    // the same stage name does not match.
    let mut other = events[0].clone();
    other.account = Some("210987654321".into());
    assert!(select(vec![other], &filter(Some("beta"), None)).is_empty());

    // Out of the window: a narrower window drops the older calls.
    let mut narrow = filter(Some("beta"), None);
    narrow.window = Window::last(120, epoch_of("2024-05-01T12:01:00Z").unwrap());
    assert_eq!(select(events, &narrow).len(), 3);
}

#[test]
fn since_accepts_minutes_hours_and_days_and_says_what_is_wrong() {
    assert_eq!(parse_since("30m").unwrap().seconds, 30 * 60);
    assert_eq!(parse_since("1h").unwrap().seconds, 3_600);
    assert_eq!(parse_since("2d").unwrap().seconds, 2 * 86_400);
    let err = parse_since("1week").unwrap_err();
    assert!(err.contains("30m") && err.contains("1h"), "{err}");
    assert!(parse_since("0h").unwrap_err().contains("above zero"));
    assert!(parse_since("120d").unwrap_err().contains("90d"));
    assert_eq!(
        no_calls_message(&parse_since("1h").unwrap(), None, None),
        "no Rekognition calls recorded in the last 1h"
    );
    assert_eq!(
        no_calls_message(
            &parse_since("2d").unwrap(),
            Some("DetectLabels"),
            Some("beta")
        ),
        "no Rekognition DetectLabels calls on images in the beta stage's input bucket recorded in the last 2d"
    );
}

#[test]
fn a_gzipped_trail_log_file_gives_its_rekognition_calls_in_the_window() {
    let json = std::fs::read(data("trail-log.json")).unwrap();
    let gz = gzip(&json);
    assert_eq!(&gz[..2], &[0x1f, 0x8b]);
    let key = "s3://argus-trail-123456789012-eu-west-1/AWSLogs/123456789012/CloudTrail/eu-west-1/2024/05/01/123456789012_CloudTrail_eu-west-1_20240501T1205Z_kJ9a7bCdEfGh1234.json.gz";
    let records = parse_log_file(key, &gz).unwrap();
    assert_eq!(records.len(), 6, "every record is parsed");
    let sources: Vec<&str> = records.iter().map(|r| r.event_source.as_str()).collect();
    assert!(sources.contains(&"s3.amazonaws.com") && sources.contains(&"sts.amazonaws.com"));
    // A decompressed body (as a proxy with Content-Encoding may hand it over) reads the same.
    assert_eq!(parse_log_file(key, &json).unwrap(), records);

    // Two files holding the same record count it once.
    let mut both = records.clone();
    both.extend(records.iter().filter(|r| r.event == "DetectText").cloned());
    let kept = select(both, &filter(Some("beta"), None));
    let rows: Vec<(&str, &str, &str)> = kept
        .iter()
        .map(|e| (e.time.as_str(), e.event.as_str(), e.result.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            (
                "2024-05-01T12:00:06Z",
                "DetectModerationLabels",
                "ThrottlingException"
            ),
            ("2024-05-01T12:00:04Z", "DetectText", "OK"),
            ("2024-05-01T12:00:03Z", "DetectLabels", "OK"),
        ],
        "S3 and STS records and the call from the day before are dropped"
    );
    assert!(
        kept.iter()
            .all(|e| e.event_source == REKOGNITION_EVENT_SOURCE && e.caller == BETA_CALLER)
    );

    // A corrupt file or another JSON document is an error naming the object.
    let mut corrupt = gz.clone();
    corrupt.truncate(gz.len() / 2);
    let err = parse_log_file(key, &corrupt).unwrap_err().to_string();
    assert!(err.contains(key) && err.contains("gzip"), "{err}");
    let err = parse_log_file(key, &gzip(br#"{"Events": []}"#))
        .unwrap_err()
        .to_string();
    assert!(err.contains("Records"), "{err}");
}

#[test]
fn the_log_folders_cover_each_day_of_the_window() {
    let window = Window::last(2 * 3_600, epoch_of("2024-05-01T01:00:00Z").unwrap());
    assert_eq!(
        log_day_prefixes("123456789012", "eu-west-1", &window),
        [
            "AWSLogs/123456789012/CloudTrail/eu-west-1/2024/04/30/",
            "AWSLogs/123456789012/CloudTrail/eu-west-1/2024/05/01/",
        ]
    );
    let one_day = Window::last(60, epoch_of("2024-02-29T12:00:00Z").unwrap());
    assert_eq!(
        log_day_prefixes("123456789012", "eu-west-1", &one_day),
        ["AWSLogs/123456789012/CloudTrail/eu-west-1/2024/02/29/"]
    );
    let prefix = "AWSLogs/123456789012/CloudTrail/eu-west-1/2024/05/01/";
    let name =
        |stamp: &str| format!("{prefix}123456789012_CloudTrail_eu-west-1_{stamp}_Ab12.json.gz");
    let window = recorded_window(); // 11:05 to 12:05
    assert!(log_file_in_window(&name("20240501T1110Z"), &window));
    assert!(
        !log_file_in_window(&name("20240501T1100Z"), &window),
        "delivered before the window: holds only older events"
    );
    assert!(!log_file_in_window(&format!("{prefix}notes.txt"), &window));
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn bad_options_exit_2_naming_the_option() {
    let argus = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_argus"))
            .current_dir(crate::common::root())
            .args(args)
            .output()
            .unwrap()
    };
    let o = argus(&["audit", "--since", "5x"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--since") && stderr(&o).contains("5x"),
        "{}",
        stderr(&o)
    );
    let o = argus(&["audit", "--stage", "all"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("beta, prod or local"), "{}", stderr(&o));
    let o = argus(&["audit", "--bucket", "b"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--from-bucket"), "{}", stderr(&o));
    let o = argus(&["audit", "--event", "Detect*"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--event"), "{}", stderr(&o));
}

#[test]
fn an_unreachable_cloudtrail_exits_3_saying_what_was_tried() {
    let port = crate::common::free_port(); // nothing listens there
    let o = crate::common::argus_on(&format!("http://127.0.0.1:{port}"))
        .args(["audit", "--stage", "beta"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("cloudtrail:LookupEvents failed") && err.contains("tried:"),
        "{err}"
    );
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
}

/// MiniStack from `.venv/twin` with CloudTrail recording on (`CLOUDTRAIL_RECORDING=1`): every
/// call it serves becomes an event that LookupEvents returns.
fn start_recording_twin() -> argus_twin::ministack::MiniStack {
    crate::common::start_twin_with(&[("CLOUDTRAIL_RECORDING", "1")])
}

#[test]
fn audit_reads_the_twins_cloudtrail_and_a_trail_bucket() {
    use argus_toolkit::aws::AwsContext;
    use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};

    let twin = start_recording_twin();
    let endpoint = twin.endpoint_url();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let now = aws_sdk_cloudtrail::primitives::DateTime::from(std::time::SystemTime::now()).secs();

    // The trail bucket lives in the audit stack's Region (the prod stage's, eu-west-1).
    let audit_region = AwsContext::for_endpoint(&endpoint, "eu-west-1", "test", "test");
    let trail_bucket = "argus-audit-test-trail";
    runtime.block_on(async {
        audit_region
            .s3
            .create_bucket()
            .bucket(trail_bucket)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    });
    // Calls MiniStack serves are recorded (per Region), and LookupEvents (the SDK's request,
    // MiniStack's answer) gives them back parsed.
    let source = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::EventSource)
        .attribute_value("s3.amazonaws.com")
        .build()
        .unwrap();
    let window = Window::last(600, now + 5);
    let s3_calls = runtime
        .block_on(lookup_events(&audit_region, source, &window))
        .unwrap();
    let create = s3_calls
        .iter()
        .find(|e| e.event == "CreateBucket")
        .unwrap_or_else(|| panic!("no CreateBucket in {s3_calls:?}"));
    assert_eq!(create.caller, "user/test");
    assert_eq!(create.account.as_deref(), Some("000000000000"));
    assert!(window.contains(create.epoch_seconds));

    // `argus audit`: the twin serves no Rekognition, so its history has no Rekognition call.
    let o = crate::common::argus_on(&endpoint)
        .args(["audit", "--stage", "local"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with(
            "no Rekognition calls on images in the local stage's input bucket recorded in the last 1h\n"
        ),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("argus-twin"), "{}", stdout(&o));

    // --from-bucket without --bucket on an emulator reads argus-twin's trail bucket
    // (`argus-twin-trail`), which this MiniStack alone (no argus-twin) does not have.
    let o = crate::common::argus_on(&endpoint)
        .args(["audit", "--from-bucket"])
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("NoSuchBucket"), "{}", stderr(&o));

    // --from-bucket --bucket: a log file delivered now, with the recorded calls moved to the
    // twin's account, the local stage's bucket and the last minutes, is listed, read and gunzipped.
    let text = std::fs::read_to_string(data("trail-log.json"))
        .unwrap()
        .replace("123456789012", "000000000000")
        .replace("eu-west-1", "us-east-1")
        .replace("argus-beta-input", "argus-local-input");
    let mut log: Value = serde_json::from_str(&text).unwrap();
    for (i, record) in log["Records"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        let time = epoch_of(record["eventTime"].as_str().unwrap()).unwrap();
        let age = if time < epoch_of("2024-05-01T00:00:00Z").unwrap() {
            2 * 86_400 // the call from the day before stays out of the window
        } else {
            60 + i64::try_from(i).unwrap()
        };
        record["eventTime"] = json!(argus_cli::ops::audit_trail::iso_of(now - age));
    }
    let stamp = argus_cli::ops::audit_trail::iso_of(now); // 2024-05-01T12:05:07Z
    let compact: String = stamp
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .take(13)
        .collect();
    let key = format!(
        "AWSLogs/000000000000/CloudTrail/us-east-1/{}/000000000000_CloudTrail_us-east-1_{compact}Z_Ab12Cd34.json.gz",
        stamp[..10].replace('-', "/")
    );
    let body = gzip(log.to_string().as_bytes());
    let other_region = format!(
        "AWSLogs/000000000000/CloudTrail/eu-west-2/{}/x.json.gz",
        stamp[..10].replace('-', "/")
    );
    // The local stage reads its trail bucket in its own Region (us-east-1), where argus-twin
    // delivers its log files.
    let local_region = AwsContext::for_endpoint(&endpoint, "us-east-1", "test", "test");
    let local_trail_bucket = "argus-local-test-trail";
    runtime.block_on(async {
        local_region
            .s3
            .create_bucket()
            .bucket(local_trail_bucket)
            .send()
            .await
            .unwrap();
        for (key, body) in [
            (key.as_str(), body.clone()),
            // The digest folder and another Region are not read.
            (
                "AWSLogs/000000000000/CloudTrail-Digest/us-east-1/x.json.gz",
                b"x".to_vec(),
            ),
            (other_region.as_str(), b"x".to_vec()),
        ] {
            local_region
                .s3
                .put_object()
                .bucket(local_trail_bucket)
                .key(key)
                .body(body.into())
                .send()
                .await
                .unwrap();
        }
    });
    let o = crate::common::argus_on(&endpoint)
        .args([
            "audit",
            "--stage",
            "local",
            "--from-bucket",
            "--bucket",
            local_trail_bucket,
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let calls: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rows: Vec<(&str, &str, &str)> = calls
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["event"].as_str().unwrap(),
                c["result"].as_str().unwrap(),
                c["images"][0]["bucket"].as_str().unwrap(),
            )
        })
        .collect();
    let bucket = "argus-local-input-000000000000-us-east-1";
    assert_eq!(
        rows,
        [
            ("DetectLabels", "OK", bucket),
            ("DetectText", "OK", bucket),
            ("DetectModerationLabels", "ThrottlingException", bucket),
        ],
        "newest first (the earlier records were given the smaller ages)"
    );

    // The table form of the same, with its summary line.
    let o = crate::common::argus_on(&endpoint)
        .args([
            "audit",
            "--stage",
            "local",
            "--from-bucket",
            "--bucket",
            local_trail_bucket,
            "--event",
            "DetectText",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[0].starts_with("TIME ") && lines[0].ends_with("RESULT"),
        "{out}"
    );
    assert!(
        lines[1].contains("DetectText") && lines[1].ends_with("OK"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("1 Rekognition call (0 failed)")
            && lines[2].contains(&format!("1 trail log file in s3://{local_trail_bucket}/")),
        "{out}"
    );
    twin.stop().unwrap();
}
