//! The API against in-memory fakes of the results table and the presigner: routing,
//! validation, tokens, error bodies.

use std::sync::Mutex;

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

use super::*;
use crate::record::{Label, LabelScore};

const STAGE: &str = "beta";
const BUCKET: &str = "argus-beta-input";

// ---------------------------------------------------------------- fakes

/// The results table in memory: final records and claims, listed like the index.
#[derive(Default)]
struct FakeIndex {
    records: Mutex<Vec<ImageRecord>>,
    claims: Mutex<Vec<String>>,
    fail: Mutex<Option<ServiceError>>,
    calls: Mutex<Vec<String>>,
}

impl FakeIndex {
    fn failing(&self) -> Result<(), ServiceError> {
        match self.fail.lock().unwrap().clone() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl ImageIndex for FakeIndex {
    async fn list(
        &self,
        stage: &str,
        limit: u32,
        start: Option<&PageKey>,
    ) -> Result<Page, ServiceError> {
        self.calls.lock().unwrap().push(format!("list {limit}"));
        self.failing()?;
        let mut records: Vec<ImageRecord> = self
            .records
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.stage == stage)
            .cloned()
            .collect();
        records.sort_by(|a, b| (b.processed_at, &b.image_id).cmp(&(a.processed_at, &a.image_id)));
        let position = match start {
            None => 0,
            Some(key) => {
                records
                    .iter()
                    .position(|r| r.image_id == key.image_id)
                    .ok_or_else(|| ServiceError::InvalidStartKey {
                        code: "ValidationException".into(),
                        message: "The provided starting key is invalid".into(),
                    })?
                    + 1
            }
        };
        let rest = &records[position..];
        let page: Vec<&ImageRecord> = rest.iter().take(limit as usize).collect();
        let next = (rest.len() > page.len()).then(|| {
            let last = page[page.len() - 1];
            PageKey {
                image_id: last.image_id.clone(),
                stage: last.stage.clone(),
                processed_at: crate::record::iso8601_string(last.processed_at),
            }
        });
        // Through the item conversion, as the SDK implementation does.
        let items = page
            .into_iter()
            .map(|r| summary_from_item(r.to_item().unwrap()).unwrap())
            .collect();
        Ok(Page { items, next })
    }

    async fn get(&self, image_id: &str) -> Result<Option<Lookup>, ServiceError> {
        self.calls.lock().unwrap().push(format!("get {image_id}"));
        self.failing()?;
        if self.claims.lock().unwrap().iter().any(|c| c == image_id) {
            return Ok(Some(Lookup::Processing));
        }
        Ok(self
            .records
            .lock()
            .unwrap()
            .iter()
            .find(|r| r.image_id == image_id)
            .map(|r| Lookup::Record(Box::new(r.clone()))))
    }
}

/// A presign request: method, bucket, key, content type (PUT) or version (GET), lifetime,
/// content length (PUT).
type PresignCall = (
    String,
    String,
    String,
    Option<String>,
    Duration,
    Option<u64>,
);

/// Presigns into `https://s3.test/…` and records each request.
#[derive(Default)]
struct FakePresigner {
    requests: Mutex<Vec<PresignCall>>,
    downloads: Mutex<Vec<Download>>,
    fail: Mutex<bool>,
}

#[async_trait]
impl Presigner for FakePresigner {
    async fn presign_put(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<Presigned, ServiceError> {
        if *self.fail.lock().unwrap() {
            return Err(ServiceError::Failed {
                code: "ConstructionFailure".into(),
                message: "no credentials".into(),
            });
        }
        self.requests.lock().unwrap().push((
            "PUT".into(),
            bucket.into(),
            key.into(),
            Some(content_type.into()),
            expires_in,
            Some(content_length),
        ));
        Ok(Presigned {
            url: format!("https://s3.test/{bucket}/{key}?X-Amz-Signature=put"),
            method: "PUT".into(),
            headers: BTreeMap::from([
                ("content-type".into(), content_type.into()),
                ("content-length".into(), content_length.to_string()),
                ("if-none-match".into(), "*".into()),
            ]),
        })
    }

    async fn presign_get(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        download: &Download,
        expires_in: Duration,
    ) -> Result<Presigned, ServiceError> {
        self.downloads.lock().unwrap().push(download.clone());
        self.requests.lock().unwrap().push((
            "GET".into(),
            bucket.into(),
            key.into(),
            version_id.map(str::to_owned),
            expires_in,
            None,
        ));
        Ok(Presigned {
            url: format!("https://s3.test/{bucket}/{key}?versionId={version_id:?}"),
            method: "GET".into(),
            headers: BTreeMap::new(),
        })
    }
}

struct Harness {
    api: Api,
    index: Arc<FakeIndex>,
    presigner: Arc<FakePresigner>,
}

impl Harness {
    fn new() -> Self {
        let index = Arc::new(FakeIndex::default());
        let presigner = Arc::new(FakePresigner::default());
        Harness {
            api: Api {
                settings: ApiSettings {
                    stage: STAGE.into(),
                    results_table: "results".into(),
                    input_bucket: BUCKET.into(),
                    input_prefix: "incoming/".into(),
                },
                index: index.clone(),
                presigner: presigner.clone(),
            },
            index,
            presigner,
        }
    }

    /// Adds a PROCESSED record `n` minutes after 06:00, with labels and OCR text.
    fn add(&self, n: u32) -> ImageRecord {
        self.add_with_status(n, Status::Processed)
    }

    /// [`Harness::add`] with another final status.
    fn add_with_status(&self, n: u32, status: Status) -> ImageRecord {
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 6, n, 0).unwrap();
        let key = format!("incoming/{n}/img{n}.jpg");
        let mut record = ImageRecord::new(
            crate::record::image_id(BUCKET, &key, Some("v1"), None),
            BUCKET,
            key,
            STAGE,
            status,
            at,
            168,
        );
        record.version_id = Some("v1".into());
        record.sha256 = Some("ab".repeat(32));
        record.size_bytes = Some(1234);
        record.content_type = Some("image/jpeg".into());
        record.labels = Some(vec![Label {
            name: "Cat".into(),
            confidence: 99.0,
            parents: vec!["Animal".into()],
            instances: vec![],
        }]);
        record.set_text([("SECRET TEXT", 98.0)]);
        record.alert = Some(AlertRecord {
            state: crate::record::AlertState::Sent,
            labels: vec![LabelScore {
                name: "Knife".into(),
                confidence: 91.0,
            }],
            detected_at: at,
            message_id: Some("m-1".into()),
            sent_at: Some(at),
        });
        self.index.records.lock().unwrap().push(record.clone());
        record
    }

    async fn send(&self, request: ApiGatewayV2httpRequest) -> (u16, HeaderMap, Value) {
        let response = handle(&self.api, &request, "lambda-req-1").await;
        let body = match response.body {
            Some(Body::Text(text)) => serde_json::from_str(&text).unwrap(),
            other => panic!("not a text body: {other:?}"),
        };
        assert_eq!(
            response.headers.get("content-type").unwrap(),
            "application/json"
        );
        assert_eq!(response.headers.get("cache-control").unwrap(), "no-store");
        (
            u16::try_from(response.status_code).unwrap(),
            response.headers,
            body,
        )
    }
}

/// An API Gateway HTTP API event (payload format 2.0) as Lambda receives it.
fn event(
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> ApiGatewayV2httpRequest {
    let mut parameters = serde_json::Map::new();
    for (k, v) in query {
        parameters.insert((*k).into(), Value::String((*v).into()));
    }
    let raw_query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String((*v).into())))
        .collect();
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query.join("&"),
        "headers": headers,
        "requestContext": {
            "accountId": "111111111111",
            "apiId": "api1",
            "domainName": "api1.execute-api.eu-west-1.amazonaws.com",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "test"},
            "requestId": "apigw-req-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "21/Nov/2026:06:00:00 +0000",
            "timeEpoch": 1_795_240_800_000_i64
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

fn post_upload(body: &str) -> ApiGatewayV2httpRequest {
    event(
        "POST",
        "/uploads",
        &[],
        &[("content-type", "application/json")],
        Some(body),
    )
}

fn get(path: &str, query: &[(&str, &str)]) -> ApiGatewayV2httpRequest {
    event("GET", path, query, &[], None)
}

fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"], want_code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(body["requestId"], "lambda-req-1");
    let fields: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["error", "message", "requestId"]);
}

// ---------------------------------------------------------------- routing

#[test]
fn routes_map_methods_and_paths() {
    assert_eq!(route(&Method::POST, "/uploads"), Ok(Route::CreateUpload));
    assert_eq!(route(&Method::GET, "/images"), Ok(Route::ListImages));
    assert_eq!(route(&Method::GET, "/images/"), Ok(Route::ListImages));
    assert_eq!(
        route(&Method::GET, "/images/abc"),
        Ok(Route::GetImage("abc".into()))
    );
    assert_eq!(Route::GetImage("abc".into()).to_string(), "GET /images/abc");
    for (method, path) in [
        (Method::GET, "/"),
        (Method::GET, ""),
        (Method::GET, "/images/a/b"),
        (Method::POST, "/uploads/x"),
        (Method::GET, "/imagesx"),
        (Method::GET, "//images"),
    ] {
        let err = route(&method, path).unwrap_err();
        assert_eq!((err.status(), err.code()), (404, "NotFound"), "{path}");
    }
    let err = route(&Method::GET, "/uploads").unwrap_err();
    assert_eq!((err.status(), err.code()), (405, "MethodNotAllowed"));
    assert!(err.public_message().contains("use POST"));
    let err = route(&Method::DELETE, "/images/abc").unwrap_err();
    assert!(matches!(
        err,
        ApiError::MethodNotAllowed { allow: "GET", .. }
    ));
}

#[test]
fn the_stage_segment_of_a_named_stage_is_not_part_of_the_path() {
    let mut request = get("/prod/images", &[]);
    request.request_context.stage = Some("prod".into());
    assert_eq!(request_path(&request), "/images");
    request.raw_path = Some("/prod".into());
    assert_eq!(request_path(&request), "/");
    request.raw_path = Some("/production/images".into());
    assert_eq!(request_path(&request), "/production/images");
    let request = get("/images", &[]);
    assert_eq!(request_path(&request), "/images");
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_404_and_405() {
    let h = Harness::new();
    let (status, _, body) = h.send(get("/nothing", &[])).await;
    assert_error(status, &body, 404, "NotFound");
    let (status, headers, body) = h.send(event("DELETE", "/images/abc", &[], &[], None)).await;
    assert_error(status, &body, 405, "MethodNotAllowed");
    assert_eq!(headers.get("allow").unwrap(), "GET");
    let (status, headers, body) = h.send(get("/uploads", &[])).await;
    assert_error(status, &body, 405, "MethodNotAllowed");
    assert_eq!(headers.get("allow").unwrap(), "POST");
    assert!(h.index.calls.lock().unwrap().is_empty());
}

// ---------------------------------------------------------------- uploads

fn upload(filename: &str, content_type: &str) -> UploadRequest {
    UploadRequest {
        filename: filename.into(),
        content_type: content_type.into(),
        size: 52_133,
    }
}

#[test]
fn jpeg_and_png_uploads_need_a_matching_extension() {
    for (name, ct, want) in [
        ("cat.jpg", "image/jpeg", "image/jpeg"),
        ("cat.JPEG", "image/jpeg", "image/jpeg"),
        ("my cat (1)_2-3.Jpg", "IMAGE/JPEG", "image/jpeg"),
        ("\u{e9}t\u{e9} \u{732b}.png", "image/png", "image/png"),
        ("shot.png", "image/png", "image/png"),
        ("SHOT.PNG", " image/png ", "image/png"),
        (
            &format!("{}.png", "a".repeat(196)),
            "image/png",
            "image/png",
        ),
    ] {
        let valid = validate_upload(&upload(name, ct)).unwrap();
        assert_eq!(valid.content_type, want);
        assert_eq!(valid.filename, name);
    }
    for (name, ct) in [
        ("cat.gif", "image/gif"),
        ("cat.jpg", "image/gif"),
        ("cat.jpg", "text/plain"),
        ("cat.jpg", ""),
        ("cat.png", "image/jpeg"),
        ("cat.jpg", "image/png"),
        ("cat", "image/jpeg"),
        ("cat.jpg.txt", "image/jpeg"),
        ("catjpg", "image/jpeg"),
    ] {
        let err = validate_upload(&upload(name, ct)).unwrap_err();
        assert_eq!(err.code(), "UnsupportedContentType", "{name} {ct}");
        assert_eq!(err.status(), 400);
    }
    for name in [
        "",
        "   ",
        "a/b.jpg",
        "../b.jpg",
        "a\\b.jpg",
        "a..b.jpg",
        "..",
        "tab\there.jpg",
        &format!("{}.png", "a".repeat(197)),
        // Bidirectional override, zero-width, line separators, and punctuation outside the set.
        "cod\u{202E}gnp.exe.png",
        "a\u{2066}b.png",
        "a\u{200B}b.png",
        "a\u{FEFF}b.png",
        "a\u{2028}b.png",
        "a\u{2029}b.png",
        "my cat+dog.jpg",
        "a;b.jpg",
        "a%2fb.jpg",
    ] {
        let err = validate_upload(&upload(name, "image/jpeg")).unwrap_err();
        assert_eq!(err.code(), "InvalidRequest", "{name:?}");
    }
}

#[test]
fn upload_keys_are_prefix_id_filename() {
    assert_eq!(
        upload_key("incoming/", "0190-abc", "cat.jpg"),
        "incoming/0190-abc/cat.jpg"
    );
}

#[tokio::test]
async fn an_upload_gets_a_presigned_put_under_the_input_prefix() {
    let h = Harness::new();
    let (status, _, body) = h
        .send(post_upload(
            r#"{"filename": "Cat Photo.JPG", "contentType": "image/jpeg", "size": 52133}"#,
        ))
        .await;
    assert_eq!(status, 201, "{body}");
    let response: UploadResponse = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(response.bucket, BUCKET);
    assert_eq!(response.expires_in_seconds, 300);
    assert_eq!(response.upload_method, "PUT");
    assert_eq!(response.upload_headers["content-type"], "image/jpeg");
    assert_eq!(response.upload_headers["content-length"], "52133");
    assert_eq!(response.upload_headers["if-none-match"], "*");
    let id = response
        .object_key
        .strip_prefix("incoming/")
        .and_then(|rest| rest.strip_suffix("/Cat Photo.JPG"))
        .unwrap();
    let uuid = uuid::Uuid::parse_str(id).unwrap();
    assert_eq!(uuid.get_version_num(), 7);
    assert!(response.upload_url.starts_with("https://s3.test/"));
    assert!(body.get("imageId").is_none());
    let requests = h.presigner.requests.lock().unwrap().clone();
    assert_eq!(
        requests,
        vec![(
            "PUT".to_owned(),
            BUCKET.to_owned(),
            response.object_key.clone(),
            Some("image/jpeg".to_owned()),
            Duration::from_secs(300),
            Some(52133)
        )]
    );
    // Two uploads of one filename get two keys, in time order.
    let (_, _, second) = h
        .send(post_upload(
            r#"{"filename": "Cat Photo.JPG", "contentType": "image/jpeg", "size": 52133}"#,
        ))
        .await;
    let second = second["objectKey"].as_str().unwrap();
    assert!(second > response.object_key.as_str(), "{second}");
}

#[tokio::test]
async fn a_base64_body_and_a_json_content_type_with_parameters_are_accepted() {
    let h = Harness::new();
    let mut request = event(
        "POST",
        "/uploads",
        &[],
        &[("Content-Type", "application/json; charset=utf-8")],
        Some(&STANDARD.encode(r#"{"filename":"a.png","contentType":"image/png", "size": 52133}"#)),
    );
    request.is_base64_encoded = true;
    let (status, _, body) = h.send(request).await;
    assert_eq!(status, 201, "{body}");
    // No content type at all is accepted too.
    let request = event(
        "POST",
        "/uploads",
        &[],
        &[],
        Some(r#"{"filename":"a.png","contentType":"image/png","size":52133,"extra":1}"#),
    );
    let (status, _, body) = h.send(request).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn bad_upload_requests_are_400_with_a_json_error() {
    let h = Harness::new();
    let cases: Vec<(ApiGatewayV2httpRequest, &str)> = vec![
        (post_upload("{not json"), "InvalidJson"),
        (post_upload(""), "InvalidJson"),
        (post_upload("[1, 2"), "InvalidJson"),
        (post_upload(r#"{"filename": "a.png"}"#), "InvalidRequest"),
        // The size: required, a whole number of bytes in 1..=15 MiB.
        (
            post_upload(r#"{"filename": "a.png", "contentType": "image/png"}"#),
            "InvalidRequest",
        ),
        (
            post_upload(r#"{"filename": "a.png", "contentType": "image/png", "size": 0}"#),
            "InvalidRequest",
        ),
        (
            post_upload(&format!(
                r#"{{"filename": "a.png", "contentType": "image/png", "size": {}}}"#,
                MAX_UPLOAD_BYTES + 1
            )),
            "InvalidRequest",
        ),
        (
            post_upload(r#"{"filename": "a.png", "contentType": "image/png", "size": -5}"#),
            "InvalidRequest",
        ),
        (
            post_upload(r#"{"filename": "a.png", "contentType": "image/png", "size": "12"}"#),
            "InvalidRequest",
        ),
        (
            post_upload(r#"{"filename": 7, "contentType": "image/png", "size": 52133}"#),
            "InvalidRequest",
        ),
        (post_upload(r#"["a.png", "image/png"]"#), "InvalidRequest"),
        (
            post_upload(r#"{"filename": "a.gif", "contentType": "image/gif", "size": 52133}"#),
            "UnsupportedContentType",
        ),
        (
            post_upload(r#"{"filename": "a.png", "contentType": "image/jpeg", "size": 52133}"#),
            "UnsupportedContentType",
        ),
        (
            post_upload(r#"{"filename": "../a.png", "contentType": "image/png", "size": 52133}"#),
            "InvalidRequest",
        ),
        (
            event(
                "POST",
                "/uploads",
                &[],
                &[("content-type", "text/plain")],
                Some(r#"{"filename": "a.png", "contentType": "image/png", "size": 52133}"#),
            ),
            "UnsupportedContentType",
        ),
        (
            post_upload(&format!(
                r#"{{"filename": "a.png", "contentType": "image/png", "size": 52133, "pad": "{}"}}"#,
                "x".repeat(MAX_BODY_BYTES)
            )),
            "InvalidRequest",
        ),
    ];
    for (i, (request, code)) in cases.into_iter().enumerate() {
        let (status, _, body) = h.send(request).await;
        assert_eq!(status, 400, "case {i}: {body}");
        assert_error(status, &body, 400, code);
    }
    let mut request = post_upload("!!not base64!!");
    request.is_base64_encoded = true;
    let (status, _, body) = h.send(request).await;
    assert_error(status, &body, 400, "InvalidJson");
    assert!(h.presigner.requests.lock().unwrap().is_empty());
}

// ---------------------------------------------------------------- tokens and limits

#[test]
fn limits_default_to_20_and_stay_within_1_to_100() {
    assert_eq!(parse_limit(None), Ok(20));
    assert_eq!(parse_limit(Some("1")), Ok(1));
    assert_eq!(parse_limit(Some("100")), Ok(100));
    for bad in ["0", "101", "-1", "abc", "", "2.5", "99999999999"] {
        let err = parse_limit(Some(bad)).unwrap_err();
        assert_eq!((err.status(), err.code()), (400, "InvalidLimit"), "{bad}");
    }
}

#[test]
fn tokens_round_trip_and_malformed_ones_are_rejected() {
    let key = PageKey {
        image_id: "0123456789abcdef0123456789abcdef".into(),
        stage: STAGE.into(),
        processed_at: "2026-11-21T06:00:00Z".into(),
    };
    let token = encode_token(&key);
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{token}"
    );
    assert_eq!(decode_token(&token, STAGE), Ok(key.clone()));
    assert_eq!(decode_token(&format!("{token}=="), STAGE), Ok(key.clone()));
    let json_token = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    for bad in [
        String::new(),
        "!!!".into(),
        "a".repeat(MAX_TOKEN_CHARS + 1),
        URL_SAFE_NO_PAD.encode("not json"),
        json_token(json!({"imageId": "x", "stage": STAGE})),
        json_token(json!({"imageId": "x", "stage": "prod", "processedAt": "t"})),
        json_token(json!({"imageId": "", "stage": STAGE, "processedAt": "t"})),
        json_token(json!({"imageId": "x", "stage": STAGE, "processedAt": "t", "more": 1})),
        json_token(json!({"imageId": 1, "stage": STAGE, "processedAt": "t"})),
        STANDARD.encode(serde_json::to_string(&key).unwrap()) + "+/",
    ] {
        let err = decode_token(&bad, STAGE).unwrap_err();
        assert_eq!(
            (err.status(), err.code()),
            (400, "InvalidNextToken"),
            "{bad}"
        );
    }
    // Another stage's token is refused.
    assert!(decode_token(&token, "prod").is_err());
}

#[test]
fn page_keys_convert_to_and_from_dynamodb_keys() {
    let key = PageKey {
        image_id: "id".into(),
        stage: STAGE.into(),
        processed_at: "2026-11-21T06:00:00Z".into(),
    };
    let item = page_key_to_item(&key);
    assert_eq!(page_key_from_item(&item), Ok(key));
    let mut partial = item.clone();
    partial.remove("processedAt");
    assert!(matches!(
        page_key_from_item(&partial),
        Err(ServiceError::Failed { .. })
    ));
}

// ---------------------------------------------------------------- listing

#[tokio::test]
async fn listing_pages_newest_first_with_metadata_only() {
    let h = Harness::new();
    let records: Vec<ImageRecord> = (0..5).map(|n| h.add(n)).collect();
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut query = vec![("limit", "2")];
        if let Some(t) = &token {
            query.push(("nextToken", t.as_str()));
        }
        let (status, _, body) = h.send(get("/images", &query)).await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        let list: ImageList = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(list.count, list.images.len());
        assert!(list.images.len() <= 2);
        for image in body["images"].as_array().unwrap() {
            for hidden in [
                "labels",
                "ocrText",
                "ocrLineCount",
                "faces",
                "bucket",
                "width",
            ] {
                assert!(image.get(hidden).is_none(), "{hidden} listed: {image}");
            }
            assert_eq!(image["status"], "PROCESSED");
            assert!(image["expires_at"].is_i64());
            assert_eq!(image["alert"]["state"], "SENT");
        }
        seen.extend(list.images.into_iter().map(|i| i.image_id));
        match list.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let newest_first: Vec<String> = records.iter().rev().map(|r| r.image_id.clone()).collect();
    assert_eq!(seen, newest_first);
    assert_eq!(
        h.index.calls.lock().unwrap().clone(),
        ["list 2", "list 2", "list 2"]
    );
    let (_, _, body) = h.send(get("/images", &[])).await;
    assert_eq!(body["count"], 5);
    assert!(body.get("nextToken").is_none());
    assert_eq!(h.index.calls.lock().unwrap().last().unwrap(), "list 20");
}

#[tokio::test]
async fn bad_listing_queries_are_400() {
    let h = Harness::new();
    h.add(1);
    for (query, code) in [
        (vec![("limit", "0")], "InvalidLimit"),
        (vec![("limit", "101")], "InvalidLimit"),
        (vec![("limit", "ten")], "InvalidLimit"),
        (vec![("limit", "1,2")], "InvalidLimit"),
        (vec![("nextToken", "%%%")], "InvalidNextToken"),
        (vec![("nextToken", "eyJ9")], "InvalidNextToken"),
    ] {
        let (status, _, body) = h.send(get("/images", &query)).await;
        assert_error(status, &body, 400, code);
    }
    assert!(h.index.calls.lock().unwrap().is_empty());
    // A well-formed token DynamoDB refuses is still the client's mistake.
    let token = encode_token(&PageKey {
        image_id: "gone".into(),
        stage: STAGE.into(),
        processed_at: "2026-11-21T06:00:00Z".into(),
    });
    let (status, _, body) = h
        .send(get("/images", &[("nextToken", token.as_str())]))
        .await;
    assert_error(status, &body, 400, "InvalidNextToken");
}

// ---------------------------------------------------------------- one image

#[tokio::test]
async fn an_image_is_the_full_record_with_a_presigned_download() {
    let h = Harness::new();
    let record = h.add(3);
    let (status, _, body) = h
        .send(get(&format!("/images/{}", record.image_id), &[]))
        .await;
    assert_eq!(status, 200, "{body}");
    let mut expected = serde_json::to_value(&record).unwrap();
    let url = body["downloadUrl"].as_str().unwrap().to_owned();
    expected["downloadUrl"] = Value::String(url.clone());
    expected["downloadExpiresInSeconds"] = json!(300);
    assert_eq!(body, expected);
    assert_eq!(body["ocrText"], "SECRET TEXT");
    assert_eq!(body["labels"][0]["name"], "Cat");
    assert!(url.starts_with(&format!("https://s3.test/{BUCKET}/{}", record.object_key)));
    assert_eq!(
        h.presigner.requests.lock().unwrap().clone(),
        vec![(
            "GET".to_owned(),
            BUCKET.to_owned(),
            record.object_key.clone(),
            Some("v1".to_owned()),
            Duration::from_secs(300),
            None
        )]
    );
    assert_eq!(
        h.presigner.downloads.lock().unwrap().clone(),
        vec![Download {
            content_type: "image/jpeg".into(),
            content_disposition: "attachment; filename=\"img3.jpg\"; filename*=UTF-8''img3%2Ejpg"
                .into(),
        }],
        "served as an attachment with the type the magic bytes gave"
    );
}

#[tokio::test]
async fn rejected_and_failed_images_get_no_download() {
    for status in [Status::Rejected, Status::Failed] {
        let h = Harness::new();
        let record = h.add_with_status(4, status);
        let (code, _, body) = h
            .send(get(&format!("/images/{}", record.image_id), &[]))
            .await;
        assert_eq!(code, 200, "{body}");
        assert_eq!(body["status"], status.as_str());
        assert!(body.get("downloadUrl").is_none(), "{body}");
        assert!(h.presigner.requests.lock().unwrap().is_empty());
    }
}

#[test]
fn attachment_names_are_ascii_with_the_utf8_name_encoded() {
    let d = Download::attachment("incoming/id/\u{e9}t\u{e9} (1).png", "image/png");
    assert_eq!(
        d.content_disposition,
        "attachment; filename=\"_t_ (1).png\"; filename*=UTF-8''%C3%A9t%C3%A9%20%281%29%2Epng"
    );
    let odd = Download::attachment("incoming/id/a\"b;c.png", "image/png");
    assert!(
        odd.content_disposition
            .starts_with("attachment; filename=\"a_b_c.png\"")
    );
}

#[tokio::test]
async fn unknown_malformed_and_unfinished_images_are_404() {
    let h = Harness::new();
    h.add(1);
    let unknown = "0123456789abcdef0123456789abcdef";
    let (status, _, body) = h.send(get(&format!("/images/{unknown}"), &[])).await;
    assert_error(status, &body, 404, "NotFound");
    for malformed in ["abc", "0123456789ABCDEF0123456789ABCDEF", &"a".repeat(3000)] {
        let (status, _, body) = h.send(get(&format!("/images/{malformed}"), &[])).await;
        assert_error(status, &body, 404, "NotFound");
    }
    assert_eq!(
        h.index.calls.lock().unwrap().clone(),
        [format!("get {unknown}")]
    );
    let claimed = "fedcba9876543210fedcba9876543210";
    h.index.claims.lock().unwrap().push(claimed.into());
    let (status, _, body) = h.send(get(&format!("/images/{claimed}"), &[])).await;
    assert_error(status, &body, 404, "Processing");
}

// ---------------------------------------------------------------- service failures

#[tokio::test]
async fn aws_failures_are_5xx_with_a_generic_message_and_the_request_id() {
    let h = Harness::new();
    let record = h.add(1);
    *h.index.fail.lock().unwrap() = Some(ServiceError::Unavailable {
        code: "ProvisionedThroughputExceededException".into(),
        message: "slow down".into(),
    });
    let (status, _, body) = h.send(get("/images", &[])).await;
    assert_error(status, &body, 503, "ServiceUnavailable");
    assert!(!body.to_string().contains("ProvisionedThroughput"));
    *h.index.fail.lock().unwrap() = Some(ServiceError::Failed {
        code: "AccessDeniedException".into(),
        message: "not authorized to perform dynamodb:GetItem on arn:aws:dynamodb:…".into(),
    });
    let (status, _, body) = h
        .send(get(&format!("/images/{}", record.image_id), &[]))
        .await;
    assert_error(status, &body, 500, "InternalError");
    assert!(!body.to_string().contains("AccessDenied"));
    assert!(body["message"].as_str().unwrap().contains("requestId"));
    *h.index.fail.lock().unwrap() = None;
    *h.presigner.fail.lock().unwrap() = true;
    let (status, _, body) = h
        .send(post_upload(
            r#"{"filename": "a.png", "contentType": "image/png", "size": 52133}"#,
        ))
        .await;
    assert_error(status, &body, 500, "InternalError");
}

// ---------------------------------------------------------------- items and settings

#[test]
fn items_read_as_records_claims_or_summaries() {
    let h = Harness::new();
    let record = h.add(2);
    let mut item = record.to_item().unwrap();
    item.insert(
        "claimToken".into(),
        aws_sdk_dynamodb::types::AttributeValue::S("t".into()),
    );
    assert_eq!(
        lookup_from_item(item.clone()),
        Ok(Lookup::Record(Box::new(record.clone())))
    );
    let summary = summary_from_item(item).unwrap();
    assert_eq!(summary.image_id, record.image_id);
    assert_eq!(summary.processed_at, "2026-11-21T06:02:00Z");
    assert_eq!(summary.sha256, record.sha256);
    let claim = HashMap::from([
        (
            "imageId".to_owned(),
            aws_sdk_dynamodb::types::AttributeValue::S("x".into()),
        ),
        (
            "status".to_owned(),
            aws_sdk_dynamodb::types::AttributeValue::S("CLAIMED".into()),
        ),
    ]);
    assert_eq!(lookup_from_item(claim.clone()), Ok(Lookup::Processing));
    assert!(summary_from_item(claim).is_err());
    let broken = HashMap::from([(
        "status".to_owned(),
        aws_sdk_dynamodb::types::AttributeValue::S("PROCESSED".into()),
    )]);
    assert!(matches!(
        lookup_from_item(broken),
        Err(ServiceError::Failed { .. })
    ));
}

#[test]
fn settings_need_the_four_variables() {
    let vars: HashMap<&str, &str> = HashMap::from([
        ("ARGUS_STAGE", "beta"),
        ("ARGUS_RESULTS_TABLE", "results"),
        ("ARGUS_INPUT_BUCKET", "input"),
        ("ARGUS_INPUT_PREFIX", "incoming/"),
    ]);
    let settings = ApiSettings::from_lookup(|n| vars.get(n).map(|v| (*v).to_owned())).unwrap();
    assert_eq!(settings.input_bucket, "input");
    assert_eq!(settings.input_prefix, "incoming/");
    for missing in vars.keys() {
        let err = ApiSettings::from_lookup(|n| {
            (n != *missing).then(|| vars.get(n).map(|v| (*v).to_owned()))?
        })
        .unwrap_err();
        assert_eq!(err, SettingsError::Missing(missing));
    }
    let err = ApiSettings::from_lookup(|n| {
        Some(if n == "ARGUS_INPUT_BUCKET" { " " } else { "x" }.to_owned())
    })
    .unwrap_err();
    assert_eq!(err, SettingsError::Missing("ARGUS_INPUT_BUCKET"));
}
