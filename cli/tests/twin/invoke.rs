//! `argus invoke` and `argus logs` on the local twin (the stage deployed once by
//! [`crate::pipeline`]): the processor invoked with an SQS-wrapped S3 notification really
//! records the image, the api invoked with an HTTP API request answers, `--print-event` prints
//! events that parse as the aws_lambda_events types, and `argus logs` finds a processed image's
//! lines by its image ID.

use std::process::Output;
use std::time::Duration;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use aws_lambda_events::s3::S3Event;
use aws_lambda_events::sqs::SqsEvent;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

use crate::pipeline::{Twin, sample, turn};

fn argus(twin: &Twin, args: &[&str]) -> Output {
    crate::common::argus_on(&twin.endpoint)
        .args(args)
        .arg("--config-dir")
        .arg(twin.config.path())
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what} failed ({:?}):\n{}{}",
        o.status,
        stdout(o),
        stderr(o)
    );
}

fn delete_record(twin: &Twin, image_id: &str) {
    let table = twin.outputs["ResultsTableName"].as_str().unwrap();
    twin.runtime
        .block_on(
            twin.dynamodb
                .delete_item()
                .table_name(table)
                .key("imageId", AttributeValue::S(image_id.to_owned()))
                .send(),
        )
        .unwrap();
}

/// Uploads a sample under the input prefix and waits for the pipeline's record; its image ID.
fn processed(twin: &Twin, name: &str, key: &str) -> String {
    twin.upload(key, sample(name));
    let record = twin.wait_record(key, Duration::from_secs(120));
    assert_eq!(record["status"], "PROCESSED", "{record}");
    record["imageId"].as_str().unwrap().to_owned()
}

#[test]
fn invoking_the_processor_with_an_sqs_s3_event_records_the_image_and_shows_its_log() {
    let t = turn();
    let twin = t.twin;
    let key = "incoming/invoke-test/chelsea.png";
    let image_id = processed(twin, "chelsea.png", key);
    // Only the invocation below can bring the record back.
    delete_record(twin, &image_id);
    assert!(twin.records(key).is_empty());

    let o = argus(
        twin,
        &[
            "invoke",
            "processor",
            "--stage",
            "local",
            "--event",
            "sqs-s3",
            "--key",
            key,
        ],
    );
    ok(&o, "argus invoke processor");
    let payload: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        payload["batchItemFailures"],
        serde_json::json!([]),
        "{payload}"
    );
    let log = stderr(&o);
    assert!(log.contains("invoked argus-local-processor"), "{log}");
    let recorded = log
        .lines()
        .find(|l| l.contains("image recorded"))
        .unwrap_or_else(|| panic!("no `image recorded` line in the log tail:\n{log}"));
    assert!(recorded.contains(&image_id), "{recorded}");
    assert!(recorded.contains(" INFO "), "{recorded}");

    let records = twin.records(key);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["imageId"], image_id.as_str());
    assert_eq!(records[0]["status"], "PROCESSED");
}

#[test]
fn invoking_the_api_with_an_http_request_returns_its_answer() {
    let t = turn();
    let twin = t.twin;
    let key = "incoming/invoke-test/coffee.png";
    let image_id = processed(twin, "coffee.png", key);

    let path = format!("/images/{image_id}");
    let o = argus(
        twin,
        &["invoke", "api", "--stage", "local", "--path", &path],
    );
    ok(&o, "argus invoke api");
    let payload: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(payload["statusCode"], 200, "{payload}");
    let body: Value = serde_json::from_str(payload["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["imageId"], image_id.as_str(), "{body}");
    assert_eq!(body["objectKey"], key, "{body}");
    assert_eq!(body["status"], "PROCESSED", "{body}");

    let o = argus(
        twin,
        &[
            "invoke",
            "api",
            "--stage",
            "local",
            "--event",
            "apigw-v2",
            "--path",
            "/images/00000000000000000000000000000000",
        ],
    );
    ok(&o, "argus invoke api (unknown image)");
    let payload: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(payload["statusCode"], 404, "{payload}");
    assert!(
        payload["body"].as_str().unwrap().contains("NotFound"),
        "{payload}"
    );
}

#[test]
fn print_event_prints_aws_lambda_events_types_and_bad_input_is_named() {
    let t = turn();
    let twin = t.twin;
    let key = "incoming/invoke-test/print me+1.png";
    let bytes = sample("horse.png");
    let size = bytes.len();
    let version = twin.upload(key, bytes);

    let o = argus(
        twin,
        &[
            "invoke",
            "processor",
            "--stage",
            "local",
            "--event",
            "s3-put",
            "--key",
            key,
            "--print-event",
        ],
    );
    ok(&o, "argus invoke --event s3-put --print-event");
    let event: S3Event = serde_json::from_str(&stdout(&o)).unwrap();
    let object = &event.records[0].s3.object;
    assert_eq!(
        object.key.as_deref(),
        Some("incoming/invoke-test/print+me%2B1.png")
    );
    assert_eq!(object.size, Some(i64::try_from(size).unwrap()));
    assert_eq!(object.version_id, version);
    assert!(object.e_tag.as_deref().is_some_and(|e| !e.contains('"')));
    assert_eq!(
        event.records[0].s3.bucket.name.as_deref(),
        Some(twin.bucket())
    );
    assert_eq!(
        event.records[0].event_name.as_deref(),
        Some("ObjectCreated:Put")
    );
    // Milliseconds, as S3 writes eventTime.
    assert_eq!(
        event.records[0].event_time.timestamp_subsec_nanos() % 1_000_000,
        0
    );

    let o = argus(
        twin,
        &[
            "invoke",
            "processor",
            "--stage",
            "local",
            "--key",
            key,
            "--print-event",
        ],
    );
    ok(&o, "argus invoke --print-event (sqs-s3 by default)");
    let event: SqsEvent = serde_json::from_str(&stdout(&o)).unwrap();
    let message = &event.records[0];
    assert!(
        message
            .event_source_arn
            .as_deref()
            .is_some_and(|arn| arn.starts_with("arn:aws:sqs:us-east-1:")),
        "{message:?}"
    );
    let inner: S3Event = serde_json::from_str(message.body.as_deref().unwrap()).unwrap();
    assert_eq!(inner.records[0].s3.object.size, object.size);

    let o = argus(
        twin,
        &[
            "invoke",
            "api",
            "--stage",
            "local",
            "--method",
            "POST",
            "--path",
            "/uploads",
            "--body",
            r#"{"filename":"cat.jpg"}"#,
            "--print-event",
        ],
    );
    ok(&o, "argus invoke api --print-event");
    let request: ApiGatewayV2httpRequest = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(request.request_context.http.method.as_str(), "POST");
    assert_eq!(request.raw_path.as_deref(), Some("/uploads"));
    assert_eq!(request.body.as_deref(), Some(r#"{"filename":"cat.jpg"}"#));

    // An object that is not there: the bucket and the key are named, nothing is invoked.
    let missing = "incoming/invoke-test/missing.png";
    let o = argus(
        twin,
        &["invoke", "processor", "--stage", "local", "--key", missing],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("s3://{}/{missing} does not exist", twin.bucket())),
        "{}",
        stderr(&o)
    );
    // An unknown function: the known ones are named.
    let o = argus(twin, &["invoke", "resizer", "--stage", "local"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("processor, api"), "{}", stderr(&o));
}

#[test]
fn logs_find_the_lines_of_a_processed_image_by_its_image_id() {
    let t = turn();
    let twin = t.twin;
    let key = "incoming/logs-test/rocket.jpg";
    let image_id = processed(twin, "rocket.jpg", key);

    let o = argus(
        twin,
        &[
            "logs",
            "--stage",
            "local",
            "processor",
            "--since",
            "10m",
            "--filter",
            &image_id,
        ],
    );
    ok(&o, "argus logs --filter");
    let text = stdout(&o);
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("TIME"), "{text}");
    let image_column = header.find("IMAGE").unwrap();
    let rows: Vec<&str> = lines.collect();
    assert!(!rows.is_empty(), "no lines for {image_id}:\n{text}");
    for row in &rows {
        assert_eq!(
            row.get(image_column..image_column + 32),
            Some(image_id.as_str()),
            "{row}"
        );
    }
    assert!(
        rows.iter()
            .any(|r| r.contains("image recorded") && r.contains("status=PROCESSED")),
        "{text}"
    );

    let o = argus(
        twin,
        &["logs", "--stage", "local", "--filter", &image_id, "--json"],
    );
    ok(&o, "argus logs --json");
    let raw = stdout(&o);
    let lines: Vec<Value> = raw
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(lines.len(), rows.len(), "{raw}");
    assert!(
        lines
            .iter()
            .all(|l| l["span"]["image_id"] == image_id.as_str()),
        "{raw}"
    );
}
