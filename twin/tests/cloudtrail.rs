//! CloudTrail on the twin: Rekognition calls on S3 objects (MiniStack started on a free port)
//! are read back through the unmodified aws-sdk-cloudtrail's LookupEvents against argus-twin
//! (attribute filters, MaxResults/NextToken pagination, StartTime/EndTime) and from the gzipped
//! log files argus-twin delivers into the trail bucket. MiniStack is stopped by PID at the end.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Read;
use std::time::Duration;

use argus_twin::trail::TrailSettings;
use argus_twin::{Config, S3Settings};
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_sdk_s3::primitives::ByteStream;
use common::*;
use serde_json::Value;

const BUCKET: &str = "argus-trail-samples";
const TRAIL_BUCKET: &str = "argus-twin-trail-test";

fn cloudtrail(endpoint: &str) -> aws_sdk_cloudtrail::Client {
    let config = aws_sdk_cloudtrail::Config::builder()
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .behavior_version(aws_sdk_cloudtrail::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudtrail::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_cloudtrail::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_cloudtrail::Client::from_conf(config)
}

fn attribute(key: LookupAttributeKey, value: &str) -> LookupAttribute {
    LookupAttribute::builder()
        .attribute_key(key)
        .attribute_value(value)
        .build()
        .unwrap()
}

/// Every event of a lookup, following NextToken with `max` per page; also the page sizes.
async fn all_pages(
    client: &aws_sdk_cloudtrail::Client,
    attr: LookupAttribute,
    max: i32,
    range: Option<(DateTime, DateTime)>,
) -> (Vec<Value>, Vec<usize>) {
    let mut token: Option<String> = None;
    let mut events = Vec::new();
    let mut sizes = Vec::new();
    loop {
        let mut request = client
            .lookup_events()
            .lookup_attributes(attr.clone())
            .max_results(max)
            .set_next_token(token.clone());
        if let Some((start, end)) = range {
            request = request.start_time(start).end_time(end);
        }
        let page = request.send().await.unwrap();
        sizes.push(page.events().len());
        for e in page.events() {
            events.push(serde_json::from_str(e.cloud_trail_event().unwrap()).unwrap());
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return (events, sizes);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rekognition_calls_are_looked_up_and_delivered_as_cloudtrail_records() {
    let ministack = common::start_ministack().await;
    let settings = S3Settings::local(ministack.endpoint_url());
    let s3 = settings.client();
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let names = [
        "chelsea.png",
        "coffee.png",
        "horse.png",
        "rocket.jpg",
        "text.png",
    ];
    for name in names {
        s3.put_object()
            .bucket(BUCKET)
            .key(format!("incoming/{name}"))
            .body(ByteStream::from(sample(name)))
            .send()
            .await
            .unwrap();
    }
    let server = argus_twin::serve(Config {
        s3: Some(settings),
        models_dir: None,
        trail: TrailSettings {
            bucket: Some(TRAIL_BUCKET.into()),
            delivery_interval: Duration::from_secs(3600),
            ..TrailSettings::default()
        },
        ..Config::default()
    })
    .await
    .unwrap();
    let rekognition = rekognition(&server.endpoint_url());

    // Two batches at least a second apart (CloudTrail times are whole seconds).
    for name in &names[..3] {
        rekognition
            .detect_labels()
            .image(s3_image(BUCKET, &format!("incoming/{name}")))
            .send()
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let between = DateTime::from(std::time::SystemTime::now());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for name in &names[3..] {
        rekognition
            .detect_labels()
            .image(s3_image(BUCKET, &format!("incoming/{name}")))
            .send()
            .await
            .unwrap();
    }
    rekognition
        .detect_text()
        .image(s3_image(BUCKET, "incoming/text.png"))
        .send()
        .await
        .unwrap();
    let missing = rekognition
        .detect_labels()
        .image(s3_image(BUCKET, "incoming/missing.png"))
        .send()
        .await;
    assert!(missing.is_err());

    let trail = cloudtrail(&server.endpoint_url());
    // DetectLabels: 5 OK + 1 failed, newest first, 2 per page.
    let (events, sizes) = all_pages(
        &trail,
        attribute(LookupAttributeKey::EventName, "DetectLabels"),
        2,
        None,
    )
    .await;
    assert_eq!(sizes, vec![2, 2, 2]);
    assert_eq!(events.len(), 6);
    let failed = &events[0];
    assert_eq!(failed["errorCode"], "InvalidS3ObjectException");
    assert!(
        failed["errorMessage"]
            .as_str()
            .unwrap()
            .contains("missing.png")
    );
    let keys: Vec<&str> = events[1..]
        .iter()
        .map(|e| {
            e["requestParameters"]["image"]["s3Object"]["name"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        keys,
        vec![
            "incoming/text.png",
            "incoming/rocket.jpg",
            "incoming/horse.png",
            "incoming/coffee.png",
            "incoming/chelsea.png"
        ]
    );
    for e in &events {
        assert_eq!(e["eventSource"], "rekognition.amazonaws.com");
        assert_eq!(e["eventType"], "AwsApiCall");
        assert_eq!(e["recipientAccountId"], "000000000000");
        assert_eq!(e["userIdentity"]["accessKeyId"], "test");
        assert_eq!(e["userIdentity"]["arn"], "arn:aws:iam::000000000000:root");
        assert!(e["responseElements"].is_null());
        assert_eq!(
            e["requestParameters"]["image"]["s3Object"]["bucket"],
            BUCKET
        );
    }
    let ids: std::collections::HashSet<&str> = events
        .iter()
        .map(|e| e["eventID"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 6, "every page holds new events");

    // Every Rekognition call by event source; one object by resource name.
    let (all, _) = all_pages(
        &trail,
        attribute(LookupAttributeKey::EventSource, "rekognition.amazonaws.com"),
        50,
        None,
    )
    .await;
    assert_eq!(all.len(), 7);
    let (text_png, _) = all_pages(
        &trail,
        attribute(
            LookupAttributeKey::ResourceName,
            &format!("arn:aws:s3:::{BUCKET}/incoming/text.png"),
        ),
        50,
        None,
    )
    .await;
    assert_eq!(text_png.len(), 2);

    // Time filters: the first batch ends before `between`, the second starts after it.
    let far_past = DateTime::from_secs(between.secs() - 3600);
    let far_future = DateTime::from_secs(between.secs() + 3600);
    let name = || attribute(LookupAttributeKey::EventName, "DetectLabels");
    let (before, _) = all_pages(&trail, name(), 50, Some((far_past, between))).await;
    let (after, _) = all_pages(&trail, name(), 50, Some((between, far_future))).await;
    assert_eq!(before.len(), 3);
    assert_eq!(after.len(), 3);
    // A bad page size is refused as CloudTrail does.
    let refused = trail.lookup_events().max_results(51).send().await;
    let refused = refused.unwrap_err().into_service_error();
    assert!(refused.is_invalid_max_results_exception(), "{refused:?}");

    // Delivery: one gzipped log file with every record, under CloudTrail's key layout.
    server.deliver_trail().await;
    let listed = s3
        .list_objects_v2()
        .bucket(TRAIL_BUCKET)
        .prefix("AWSLogs/000000000000/CloudTrail/us-east-1/")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let file = keys[0].rsplit('/').next().unwrap();
    assert!(
        file.starts_with("000000000000_CloudTrail_us-east-1_"),
        "{file}"
    );
    assert!(file.ends_with(".json.gz"), "{file}");
    let body = s3
        .get_object()
        .bucket(TRAIL_BUCKET)
        .key(keys[0])
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    let mut json = String::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_string(&mut json)
        .unwrap();
    let log: Value = serde_json::from_str(&json).unwrap();
    let records = log["Records"].as_array().unwrap();
    assert_eq!(records.len(), 7);
    let mut delivered: Vec<&str> = records
        .iter()
        .map(|r| r["eventID"].as_str().unwrap())
        .collect();
    let mut looked_up: Vec<&str> = all.iter().map(|r| r["eventID"].as_str().unwrap()).collect();
    delivered.sort_unstable();
    looked_up.sort_unstable();
    assert_eq!(delivered, looked_up);
    // Nothing new: no second file.
    server.deliver_trail().await;
    let again = s3
        .list_objects_v2()
        .bucket(TRAIL_BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(again.contents().len(), 1);

    server.shutdown().await.unwrap();
    tokio::task::spawn_blocking(move || ministack.stop())
        .await
        .unwrap()
        .unwrap();
}
