//! The api function's handler in-process against MiniStack (started on a free loopback port and
//! stopped by PID when the test ends), with the real AWS SDK: the presigner signs real URLs that
//! are used over HTTP, and the results table is a DynamoDB table with the pipeline stack's key
//! schema and `ByProcessedAt` index.
//!
//! Upload → process → list → get: `POST /uploads` → HTTP PUT of a sample image to `uploadUrl` →
//! the processor's own `process_object` (real S3 and DynamoDB, a canned Rekognition) writes the
//! record → `GET /images` pages over five images two at a time → `GET /images/{id}` → HTTP GET of
//! `downloadUrl` returns the uploaded bytes. Then every bad request.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::{BehaviorVersion, Region};
use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use aws_lambda_events::encodings::Body;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use argus_runtime::api::{self, ApiSettings};
use argus_runtime::aws;
use argus_runtime::notification::ObjectRef;
use argus_runtime::processor::{self, Deps, Invocation, Outcome};
use argus_runtime::record::{self, Face, Label, ModerationLabel, Status};
use argus_runtime::services::{
    AlertTopic, Clock, DecisionEvent, DecisionLog, DecisionLogOutcome, Detected, FaceComparison,
    PublishError, Rekognition, RekognitionError, S3Object, TableError, TextLine,
};
use argus_runtime::settings::{Feature, Settings};
use argus_twin::ministack::{MiniStack, MiniStackOptions, default_python};

const STAGE: &str = "local";
const BUCKET: &str = "argus-local-input";
const TABLE: &str = "argus-local-results";
const PREFIX: &str = "incoming/";
/// The projection of `ByProcessedAt`, as the pipeline stack declares it.
const LISTING_ATTRIBUTES: [&str; 8] = argus_contract::results::LISTING_ATTRIBUTES;

// ---------------------------------------------------------------- the processor's other services

/// Rekognition as the fixtures would answer: one label, one line of text.
struct CannedRekognition;

#[async_trait]
impl Rekognition for CannedRekognition {
    async fn detect_labels(
        &self,
        _: &S3Object,
        _: u32,
        _: f32,
    ) -> Result<Detected<Vec<Label>>, RekognitionError> {
        Ok(vec![Label {
            name: "Rocket".into(),
            confidence: 97.25,
            parents: vec!["Vehicle".into()],
            instances: vec![],
        }]
        .into())
    }
    async fn detect_text(&self, _: &S3Object) -> Result<Detected<Vec<TextLine>>, RekognitionError> {
        Ok(vec![TextLine {
            text: "LAUNCH".into(),
            confidence: 99.5,
            bounding_box: None,
        }]
        .into())
    }
    async fn detect_faces(&self, _: &S3Object) -> Result<Vec<Face>, RekognitionError> {
        Ok(vec![])
    }
    async fn detect_moderation_labels(
        &self,
        _: &S3Object,
        _: f32,
    ) -> Result<Detected<Vec<ModerationLabel>>, RekognitionError> {
        Ok(vec![].into())
    }
    async fn compare_faces(
        &self,
        _: &S3Object,
        _: &S3Object,
    ) -> Result<FaceComparison, RekognitionError> {
        panic!("no face reference is configured")
    }
}

struct NoDecisionLog;

#[async_trait]
impl DecisionLog for NoDecisionLog {
    async fn put_event(&self, _: &DecisionEvent) -> Result<DecisionLogOutcome, TableError> {
        panic!("no face decision is expected")
    }
}

struct NoAlerts;

#[async_trait]
impl AlertTopic for NoAlerts {
    async fn publish(&self, _: &str, _: &str) -> Result<String, PublishError> {
        panic!("no alert is expected")
    }
}

/// A fixed time, so that each image gets its own `processedAt`.
struct At(DateTime<Utc>);

impl Clock for At {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

fn processor_settings() -> Settings {
    Settings {
        stage: STAGE.into(),
        results_table: TABLE.into(),
        decision_log_table: "unused".into(),
        alert_topic_arn: "unused".into(),
        input_bucket: BUCKET.into(),
        input_prefix: PREFIX.into(),
        features: vec![Feature::Labels, Feature::Text],
        min_confidence: 70.0,
        max_labels: 20,
        ttl_hours: 168,
        alert_labels: vec!["Weapon".into()],
        alert_threshold: 80.0,
        image_concurrency: 1,
        face_reference: None,
    }
}

// ---------------------------------------------------------------- the twin

struct Twin {
    _ministack: MiniStack,
    s3: aws_sdk_s3::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    api: api::Api,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

async fn twin() -> Twin {
    let python = default_python();
    assert!(
        python.exists(),
        "{} is missing: run `make twin-tools` (make test does)",
        python.display()
    );
    let ministack = MiniStack::start(MiniStackOptions::new(
        python,
        argus_twin::process::free_port().unwrap(),
    ))
    .unwrap();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(argus_runtime::aws::https_client())
        .endpoint_url(ministack.endpoint_url())
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .load()
        .await;
    // As `main` does with AWS_ENDPOINT_URL set.
    let s3 = aws::s3_client(&config, true);
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);

    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    s3.put_bucket_versioning()
        .bucket(BUCKET)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |name: &str, key_type: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .unwrap()
    };
    let mut projection = Projection::builder().projection_type(ProjectionType::Include);
    for attribute in LISTING_ATTRIBUTES {
        projection = projection.non_key_attributes(attribute);
    }
    dynamodb
        .create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("imageId"))
        .attribute_definitions(attribute("stage"))
        .attribute_definitions(attribute("processedAt"))
        .key_schema(key("imageId", KeyType::Hash))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(api::BY_PROCESSED_AT_INDEX)
                .key_schema(key("stage", KeyType::Hash))
                .key_schema(key("processedAt", KeyType::Range))
                .projection(projection.build())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let api = aws::build_api(
        ApiSettings {
            stage: STAGE.into(),
            results_table: TABLE.into(),
            input_bucket: BUCKET.into(),
            input_prefix: PREFIX.into(),
        },
        &s3,
        &dynamodb,
    );
    Twin {
        _ministack: ministack,
        s3,
        dynamodb,
        api,
    }
}

// ---------------------------------------------------------------- requests

/// An API Gateway HTTP API event (payload format 2.0).
fn event(
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> ApiGatewayV2httpRequest {
    let parameters: serde_json::Map<String, Value> = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String((*v).into())))
        .collect();
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String((*v).into())))
        .collect();
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": "apigw-1",
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": 0
        },
        "isBase64Encoded": false
    });
    if !parameters.is_empty() {
        event["queryStringParameters"] = Value::Object(parameters);
    }
    if let Some(body) = body {
        event["body"] = Value::String(body.into());
    }
    serde_json::from_value(event).unwrap()
}

async fn call(twin: &Twin, request: ApiGatewayV2httpRequest) -> (u16, Value) {
    let response = api::handle(&twin.api, &request, "test-request").await;
    let body = match response.body {
        Some(Body::Text(text)) => serde_json::from_str(&text).unwrap(),
        other => panic!("not a text body: {other:?}"),
    };
    (u16::try_from(response.status_code).unwrap(), body)
}

fn assert_error(answer: &(u16, Value), status: u16, code: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["error"], code, "{}", answer.1);
    assert!(answer.1["message"].is_string());
    assert_eq!(answer.1["requestId"], "test-request");
}

fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .proxy(None)
        .build()
        .into()
}

/// What the client's PUT got back.
struct Uploaded {
    object_key: String,
    version_id: String,
    e_tag: String,
}

/// `POST /uploads`, then the presigned PUT of `bytes`.
async fn upload(twin: &Twin, filename: &str, content_type: &str, bytes: &[u8]) -> Uploaded {
    let size = u64::try_from(bytes.len()).unwrap();
    let (status, answer) = post_upload(twin, filename, content_type, size).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["bucket"], BUCKET);
    assert_eq!(answer["expiresInSeconds"], 300);
    let object_key = answer["objectKey"].as_str().unwrap().to_owned();
    assert!(object_key.starts_with(PREFIX) && object_key.ends_with(&format!("/{filename}")));
    let url = answer["uploadUrl"].as_str().unwrap().to_owned();
    assert!(url.contains("X-Amz-Signature="), "{url}");
    assert!(url.contains("X-Amz-Expires=300"), "{url}");
    let headers = answer["uploadHeaders"].as_object().unwrap().clone();
    assert_eq!(headers["content-type"], content_type);
    assert_eq!(headers["content-length"], bytes.len().to_string());
    assert_eq!(headers["if-none-match"], "*");

    let bytes = bytes.to_vec();
    tokio::task::spawn_blocking(move || {
        let response = put(&url, &headers, &bytes);
        assert_eq!(response.status(), 200, "presigned PUT refused");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .unwrap_or_else(|| panic!("the PUT answer has no {name}"))
        };
        Uploaded {
            object_key,
            version_id: header("x-amz-version-id"),
            e_tag: header("etag"),
        }
    })
    .await
    .unwrap()
}

/// A PUT of `bytes` to a presigned `url` with the `uploadHeaders` (but `content-length`, which
/// the HTTP client sets from the body: a body of another length than the signed one then
/// sends another `content-length`, as any client would).
fn put(
    url: &str,
    headers: &serde_json::Map<String, Value>,
    bytes: &[u8],
) -> ureq::http::Response<ureq::Body> {
    let mut put = http().put(url);
    for (name, value) in headers {
        if name != "content-length" {
            put = put.header(name.as_str(), value.as_str().unwrap());
        }
    }
    put.send(bytes).unwrap()
}

/// `POST /uploads` of `filename` with `content_type` declaring `size`: the status and the answer.
async fn post_upload(twin: &Twin, filename: &str, content_type: &str, size: u64) -> (u16, Value) {
    let body = json!({"filename": filename, "contentType": content_type, "size": size}).to_string();
    call(
        twin,
        event(
            "POST",
            "/uploads",
            &[],
            &[("content-type", "application/json")],
            Some(&body),
        ),
    )
    .await
}

/// The processor's work on the uploaded object, as the S3 notification would start it.
async fn process(twin: &Twin, uploaded: &Uploaded, at: DateTime<Utc>) -> String {
    let deps = Deps {
        settings: processor_settings(),
        objects: Arc::new(aws::S3Store {
            client: twin.s3.clone(),
        }),
        rekognition: Arc::new(CannedRekognition),
        results: Arc::new(aws::DynamoResults {
            client: twin.dynamodb.clone(),
            table: TABLE.into(),
        }),
        decision_log: Arc::new(NoDecisionLog),
        alerts: Arc::new(NoAlerts),
        clock: Arc::new(At(at)),
    };
    let object = ObjectRef {
        bucket: BUCKET.into(),
        key: uploaded.object_key.clone(),
        version_id: Some(uploaded.version_id.clone()),
        e_tag: Some(uploaded.e_tag.clone()),
        size: None,
        event_name: "ObjectCreated:Put".into(),
    };
    let invocation = Invocation {
        request_id: "processor-request".into(),
        deadline: None,
    };
    let report = processor::process_object(&deps, &invocation, "message-1", &object).await;
    assert_eq!(
        report.outcome,
        Outcome::Recorded {
            status: Status::Processed,
            alert_published: false
        }
    );
    report.image_id
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(root().join("samples").join(name)).unwrap()
}

fn download(url: String) -> (u16, Vec<u8>) {
    let mut response = http().get(&url).call().unwrap();
    let status = response.status().as_u16();
    let bytes = response
        .body_mut()
        .with_config()
        .limit(20 * 1024 * 1024)
        .read_to_vec()
        .unwrap();
    (status, bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_process_list_and_get_through_the_handler_on_ministack() {
    let twin = twin().await;
    let base = Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap();

    // Five uploads, each processed a minute after the previous one.
    // (name given to POST /uploads, sample file, content type); spaces and parentheses must survive
    // the presigned URL's encoding.
    let files = [
        ("rocket launch (1).jpg", "rocket.jpg", "image/jpeg"),
        ("horse.png", "horse.png", "image/png"),
        ("Chelsea.PNG", "chelsea.png", "image/png"),
        ("text.png", "text.png", "image/png"),
        ("knife.png", "knife.png", "image/png"),
    ];
    let mut ids = Vec::new();
    for (n, (name, file, content_type)) in files.iter().enumerate() {
        let bytes = sample(file);
        let uploaded = upload(&twin, name, content_type, &bytes).await;
        // The documented way for a client to know its image ID: bucket, key and the PUT's
        // x-amz-version-id.
        let expected_id = record::image_id(
            BUCKET,
            &uploaded.object_key,
            Some(&uploaded.version_id),
            None,
        );
        // Before processing: nothing under that ID.
        let answer = call(
            &twin,
            event("GET", &format!("/images/{expected_id}"), &[], &[], None),
        )
        .await;
        assert_error(&answer, 404, "NotFound");
        let at = base + chrono::Duration::minutes(i64::try_from(n).unwrap());
        let id = process(&twin, &uploaded, at).await;
        assert_eq!(id, expected_id);
        ids.push((id, uploaded, bytes));
    }

    // The listing: newest first, two at a time, metadata only.
    let mut listed = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut query = vec![("limit", "2".to_owned())];
        if let Some(t) = &token {
            query.push(("nextToken", t.clone()));
        }
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, page) = call(&twin, event("GET", "/images", &query, &[], None)).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        let images = page["images"].as_array().unwrap();
        assert!(images.len() <= 2, "{page}");
        assert_eq!(page["count"], images.len());
        for image in images {
            for hidden in ["labels", "ocrText", "ocrLineCount", "width", "bucket"] {
                assert!(image.get(hidden).is_none(), "{hidden} listed: {image}");
            }
            assert_eq!(image["stage"], STAGE);
            assert_eq!(image["status"], "PROCESSED");
            assert!(image["sha256"].as_str().is_some_and(|s| s.len() == 64));
            listed.push((
                image["imageId"].as_str().unwrap().to_owned(),
                image["objectKey"].as_str().unwrap().to_owned(),
                image["processedAt"].as_str().unwrap().to_owned(),
            ));
        }
        match page.get("nextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
        assert!(pages < 10, "the listing does not end");
    }
    assert_eq!(pages, 3);
    let newest_first: Vec<(String, String, String)> = ids
        .iter()
        .enumerate()
        .rev()
        .map(|(n, (id, uploaded, _))| {
            let at = base + chrono::Duration::minutes(i64::try_from(n).unwrap());
            (
                id.clone(),
                uploaded.object_key.clone(),
                record::iso8601_string(at),
            )
        })
        .collect();
    assert_eq!(listed, newest_first);

    // One image: the full record and a download of the same bytes.
    for (id, uploaded, bytes) in &ids {
        let (status, image) = call(
            &twin,
            event("GET", &format!("/images/{id}"), &[], &[], None),
        )
        .await;
        assert_eq!(status, 200, "{image}");
        assert_eq!(image["imageId"], id.as_str());
        assert_eq!(image["objectKey"], uploaded.object_key.as_str());
        assert_eq!(image["versionId"], uploaded.version_id.as_str());
        assert_eq!(image["labels"][0]["name"], "Rocket");
        assert_eq!(image["ocrText"], "LAUNCH");
        assert_eq!(image["sizeBytes"], bytes.len());
        assert!(image["expires_at"].is_i64());
        assert_eq!(image["downloadExpiresInSeconds"], 300);
        let url = image["downloadUrl"].as_str().unwrap().to_owned();
        assert!(url.contains("X-Amz-Signature="), "{url}");
        let (status, downloaded) = tokio::task::spawn_blocking(move || download(url))
            .await
            .unwrap();
        assert_eq!(status, 200);
        assert!(downloaded == *bytes, "the download differs from the upload");
    }

    // The upload is bounded at the source: S3 refuses a body longer or shorter than the
    // declared size, one over 15 MiB, a PUT without the single-use condition, and a second PUT
    // of the same URL.
    let png = sample("chelsea.png");
    let declared = u64::try_from(png.len()).unwrap();
    let refused = |size: u64, body: Vec<u8>, strip: Option<&'static str>| {
        let twin = &twin;
        async move {
            let (status, answer) = post_upload(twin, "bounded.png", "image/png", size).await;
            assert_eq!(status, 201, "{answer}");
            let url = answer["uploadUrl"].as_str().unwrap().to_owned();
            let mut headers = answer["uploadHeaders"].as_object().unwrap().clone();
            if let Some(name) = strip {
                headers.remove(name);
            }
            tokio::task::spawn_blocking(move || put(&url, &headers, &body).status().as_u16())
                .await
                .unwrap()
        }
    };
    let mut longer = png.clone();
    longer.extend_from_slice(&[0; 4096]);
    assert_eq!(
        refused(declared, longer, None).await,
        403,
        "longer than declared"
    );
    assert_eq!(
        refused(declared, png[..png.len() / 2].to_vec(), None).await,
        403,
        "shorter than declared"
    );
    let max = api::MAX_UPLOAD_BYTES;
    let over = vec![0u8; usize::try_from(max + 1).unwrap()];
    assert_eq!(refused(max, over, None).await, 403, "over 15 MiB");
    assert_eq!(
        refused(declared, png.clone(), Some("if-none-match")).await,
        403,
        "without the signed If-None-Match"
    );
    let (status, answer) = post_upload(&twin, "once.png", "image/png", declared).await;
    assert_eq!(status, 201, "{answer}");
    let url = answer["uploadUrl"].as_str().unwrap().to_owned();
    let headers = answer["uploadHeaders"].as_object().unwrap().clone();
    let statuses = tokio::task::spawn_blocking(move || {
        [
            put(&url, &headers, &png).status().as_u16(),
            put(&url, &headers, &png).status().as_u16(),
        ]
    })
    .await
    .unwrap();
    assert_eq!(statuses, [200, 412], "the URL writes once");
    // The API refuses a size over the limit before any URL exists, and a name with a
    // right-to-left override.
    assert_error(
        &post_upload(&twin, "big.png", "image/png", max + 1).await,
        400,
        "InvalidRequest",
    );
    assert_error(
        &post_upload(&twin, "cod\u{202E}gnp.exe.png", "image/png", declared).await,
        400,
        "InvalidRequest",
    );

    // The signature covers the content type: a PUT with another one is refused.
    let (_, answer) = post_upload(&twin, "x.png", "image/png", 19).await;
    let url = answer["uploadUrl"].as_str().unwrap().to_owned();
    let status = tokio::task::spawn_blocking(move || {
        http()
            .put(&url)
            .header("content-type", "image/jpeg")
            .header("if-none-match", "*")
            .send(&b"not the signed type"[..])
            .unwrap()
            .status()
            .as_u16()
    })
    .await
    .unwrap();
    assert_eq!(
        status, 403,
        "a PUT with an unsigned content type was accepted"
    );

    // Every bad request: a JSON error, never a 5xx.
    let post = |body: &str, content_type: &str| {
        event(
            "POST",
            "/uploads",
            &[],
            &[("content-type", content_type)],
            Some(body),
        )
    };
    let bad = [
        (post("{oops", "application/json"), 400, "InvalidJson"),
        (
            post(r#"{"filename": "a.png"}"#, "application/json"),
            400,
            "InvalidRequest",
        ),
        (
            post(
                r#"{"filename": "a.gif", "contentType": "image/gif", "size": 9}"#,
                "application/json",
            ),
            400,
            "UnsupportedContentType",
        ),
        (
            post(
                r#"{"filename": "a.jpg", "contentType": "image/png", "size": 9}"#,
                "application/json",
            ),
            400,
            "UnsupportedContentType",
        ),
        (
            post(
                r#"{"filename": "a.png", "contentType": "image/png", "size": 9}"#,
                "text/plain",
            ),
            400,
            "UnsupportedContentType",
        ),
        (
            post(
                r#"{"filename": "../a.png", "contentType": "image/png", "size": 9}"#,
                "application/json",
            ),
            400,
            "InvalidRequest",
        ),
        (
            event("GET", "/images", &[("limit", "101")], &[], None),
            400,
            "InvalidLimit",
        ),
        (
            event("GET", "/images", &[("limit", "0")], &[], None),
            400,
            "InvalidLimit",
        ),
        (
            event("GET", "/images", &[("nextToken", "garbage!")], &[], None),
            400,
            "InvalidNextToken",
        ),
        (
            event(
                "GET",
                "/images/0123456789abcdef0123456789abcdef",
                &[],
                &[],
                None,
            ),
            404,
            "NotFound",
        ),
        (
            event("GET", "/images/not-an-id", &[], &[], None),
            404,
            "NotFound",
        ),
        (event("GET", "/nowhere", &[], &[], None), 404, "NotFound"),
        (
            event("PUT", "/images", &[], &[], None),
            405,
            "MethodNotAllowed",
        ),
        (
            event("GET", "/uploads", &[], &[], None),
            405,
            "MethodNotAllowed",
        ),
    ];
    for (request, status, code) in bad {
        let answer = call(&twin, request).await;
        assert_error(&answer, status, code);
    }
}
