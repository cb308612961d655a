//! Realistic Lambda events for `argus invoke`, built with the `aws_lambda_events` types: an S3
//! Put notification of an existing object, that notification delivered in an SQS message (the
//! processor's event source), and an HTTP API payload format 2.0 request (the api function's).
//!
//! Pure functions of what was looked up in AWS ([`ObjectFacts`], [`QueueFacts`], [`ApiFacts`]):
//! nothing here calls AWS.
//!
//! - S3 notification: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html>
//! - SQS event: <https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html>
//! - HTTP API payload 2.0: <https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html>

use std::collections::HashMap;

use aws_lambda_events::apigw::{
    ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext,
    ApiGatewayV2httpRequestContextHttpDescription,
};
use aws_lambda_events::http::{HeaderMap, HeaderValue, Method, header};
use aws_lambda_events::s3::{
    S3Bucket, S3Entity, S3Event, S3EventRecord, S3Object, S3RequestParameters, S3UserIdentity,
};
use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use chrono::{DateTime, SecondsFormat, Utc};
use md5::{Digest, Md5};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// The object an S3 notification is about, as HeadObject describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectFacts {
    /// The bucket name.
    pub bucket: String,
    /// The object key, as stored (not encoded).
    pub key: String,
    /// ContentLength in bytes.
    pub size: i64,
    /// ETag without its quotes.
    pub e_tag: Option<String>,
    /// The version ID (versioned buckets).
    pub version_id: Option<String>,
    /// The Region of the bucket.
    pub region: String,
}

/// The queue an SQS event comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueFacts {
    /// The queue ARN (`arn:<partition>:sqs:<region>:<account>:<name>`).
    pub arn: String,
    /// Its Region.
    pub region: String,
}

/// The HTTP API a request comes through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiFacts {
    /// The API ID (the first label of the execute-api host name).
    pub api_id: String,
    /// The host name the request was sent to.
    pub domain_name: String,
    /// The account ID that owns the API.
    pub account_id: String,
}

/// The request line and body of an HTTP API request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// An HTTP method, e.g. `GET`.
    pub method: String,
    /// The path, with an optional `?query` (e.g. `/images?limit=5`).
    pub path: String,
    /// A JSON body (sent as `application/json`).
    pub body: Option<String>,
}

/// What can be wrong with the input of an event.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    /// `--method` is not an HTTP method.
    #[error("--method `{0}` is not an HTTP method (e.g. GET, POST)")]
    Method(String),
    /// `--path` does not start with `/`.
    #[error("--path `{0}` must start with `/` (e.g. /images)")]
    Path(String),
    /// `--body` is not JSON.
    #[error("--body is not JSON: {0}")]
    Body(String),
}

/// The characters S3 leaves unencoded in notification keys besides letters and digits (the
/// `application/x-www-form-urlencoded` set, keeping `/`); a space becomes `+`.
const S3_KEY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'*')
    .remove(b'/')
    .remove(b' ');

/// A key as S3 writes it into notifications: URL-encoded, a space as `+`
/// (`incoming/my cat+1.jpg` → `incoming/my+cat%2B1.jpg`).
pub fn notification_key(key: &str) -> String {
    utf8_percent_encode(key, S3_KEY)
        .to_string()
        .replace(' ', "+")
}

/// The AWS partition of a Region (`aws`, `aws-cn`, `aws-us-gov`), for ARNs.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// An S3 `ObjectCreated:Put` notification (event version 2.1) of `object` at `time`.
pub fn s3_put(object: &ObjectFacts, time: DateTime<Utc>) -> S3Event {
    let mut bucket = S3Bucket::default();
    bucket.name = Some(object.bucket.clone());
    bucket.arn = Some(format!(
        "arn:{}:s3:::{}",
        partition(&object.region),
        object.bucket
    ));
    let mut owner = S3UserIdentity::default();
    owner.principal_id = Some("A3NL1KOZZKExample".into());
    bucket.owner_identity = Some(owner.clone());

    let mut s3_object = S3Object::default();
    s3_object.key = Some(notification_key(&object.key));
    s3_object.size = Some(object.size);
    s3_object.e_tag.clone_from(&object.e_tag);
    s3_object.version_id.clone_from(&object.version_id);
    // A hex string that grows with time, as S3's sequencer does for one key.
    s3_object.sequencer = Some(format!(
        "{:016X}",
        time.timestamp_nanos_opt().unwrap_or_default()
    ));

    let mut entity = S3Entity::default();
    entity.schema_version = Some("1.0".into());
    entity.configuration_id = Some("argus-invoke".into());
    entity.bucket = bucket;
    entity.object = s3_object;

    let mut parameters = S3RequestParameters::default();
    parameters.source_ip_address = Some("127.0.0.1".into());

    let mut record = S3EventRecord::default();
    record.event_version = Some("2.1".into());
    record.event_source = Some("aws:s3".into());
    record.aws_region = Some(object.region.clone());
    record.event_time = time;
    record.event_name = Some("ObjectCreated:Put".into());
    record.principal_id = owner;
    record.request_parameters = parameters;
    record.response_elements = HashMap::from([
        ("x-amz-request-id".to_owned(), request_id_like(time)),
        ("x-amz-id-2".to_owned(), "argus-invoke".to_owned()),
    ]);
    record.s3 = entity;

    let mut event = S3Event::default();
    event.records = vec![record];
    event
}

/// `body` in one SQS message of `queue`, as Lambda's SQS event source mapping delivers it
/// (first receive, sent at `time`).
///
/// # Errors
/// None today; `serde_json` cannot fail on these types, but the body is built by serializing.
pub fn sqs_message(
    body: &S3Event,
    queue: &QueueFacts,
    time: DateTime<Utc>,
) -> Result<SqsEvent, serde_json::Error> {
    let body = serde_json::to_string(body)?;
    let millis = time.timestamp_millis().to_string();
    let mut message = SqsMessage::default();
    message.message_id = Some(uuid::Uuid::new_v4().to_string());
    message.receipt_handle = Some(format!("argus-invoke-{}", uuid::Uuid::new_v4()));
    message.md5_of_body = Some(hex(&Md5::digest(body.as_bytes())));
    message.body = Some(body);
    message.attributes = HashMap::from([
        ("ApproximateReceiveCount".to_owned(), "1".to_owned()),
        ("SentTimestamp".to_owned(), millis.clone()),
        ("SenderId".to_owned(), "AIDAIENQZJOLO23YVJ4VO".to_owned()),
        ("ApproximateFirstReceiveTimestamp".to_owned(), millis),
    ]);
    message.event_source = Some("aws:sqs".into());
    message.event_source_arn = Some(queue.arn.clone());
    message.aws_region = Some(queue.region.clone());
    let mut event = SqsEvent::default();
    event.records = vec![message];
    Ok(event)
}

/// An HTTP API (payload format 2.0, `$default` stage) request for `request` at `time`.
///
/// # Errors
/// [`EventError`] for a method that is not one, a path without a leading `/`, a body that is not
/// JSON.
pub fn apigw_v2(
    request: &HttpRequest,
    api: &ApiFacts,
    time: DateTime<Utc>,
) -> Result<ApiGatewayV2httpRequest, EventError> {
    let method = Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| EventError::Method(request.method.clone()))?;
    if !request.path.starts_with('/') {
        return Err(EventError::Path(request.path.clone()));
    }
    if let Some(body) = &request.body {
        serde_json::from_str::<serde_json::Value>(body)
            .map_err(|e| EventError::Body(e.to_string()))?;
    }
    let (path, query) = match request.path.split_once('?') {
        Some((path, query)) => (path.to_owned(), query.to_owned()),
        None => (request.path.clone(), String::new()),
    };
    let mut parameters: HashMap<String, Vec<String>> = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        parameters
            .entry(name.to_owned())
            .or_default()
            .push(value.to_owned());
    }

    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    headers.insert(header::USER_AGENT, HeaderValue::from_static("argus-invoke"));
    if let Ok(host) = HeaderValue::from_str(&api.domain_name) {
        headers.insert(header::HOST, host);
    }
    if let Some(body) = &request.body {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    }

    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.method = method.clone();
    http.path = Some(path.clone());
    http.protocol = Some("HTTP/1.1".into());
    http.source_ip = Some("127.0.0.1".into());
    http.user_agent = Some("argus-invoke".into());

    let mut context = ApiGatewayV2httpRequestContext::default();
    context.route_key = Some("$default".into());
    context.account_id = Some(api.account_id.clone());
    context.stage = Some("$default".into());
    context.request_id = Some(request_id_like(time));
    context.apiid = Some(api.api_id.clone());
    context.domain_name = Some(api.domain_name.clone());
    context.domain_prefix = Some(api.api_id.clone());
    context.time = Some(time.format("%d/%b/%Y:%H:%M:%S %z").to_string());
    context.time_epoch = time.timestamp_millis();
    context.http = http;

    let mut event = ApiGatewayV2httpRequest::default();
    event.version = Some("2.0".into());
    event.route_key = Some("$default".into());
    event.raw_path = Some(path);
    event.raw_query_string = Some(query);
    event.headers = headers;
    event.query_string_parameters = parameters.into();
    event.request_context = context;
    event.body.clone_from(&request.body);
    event.is_base64_encoded = false;
    Ok(event)
}

/// A request ID of the shape S3 and API Gateway use (upper-case hex), derived from `time`.
fn request_id_like(time: DateTime<Utc>) -> String {
    format!(
        "{:016X}",
        time.timestamp_nanos_opt().unwrap_or_default() as u64 ^ 0x5A5A_5A5A_5A5A_5A5A
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `time` as ISO 8601 UTC with milliseconds, as event timestamps are written.
pub fn iso8601_millis(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn object() -> ObjectFacts {
        ObjectFacts {
            bucket: "argus-local-input".into(),
            key: "incoming/my cat+1.jpg".into(),
            size: 1234,
            e_tag: Some("0123abcd".into()),
            version_id: Some("v1".into()),
            region: "us-east-1".into(),
        }
    }

    fn time() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-02T04:00:00.250Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn keys_are_encoded_as_s3_writes_them_and_the_processor_decodes_them_back() {
        let encoded = notification_key("incoming/my cat+1 (2).jpg");
        assert_eq!(encoded, "incoming/my+cat%2B1+%282%29.jpg");
        let notification = serde_json::to_string(&s3_put(&object(), time())).unwrap();
        let parsed = argus_runtime::notification::parse(&notification).unwrap();
        let argus_runtime::notification::Notification::Objects(objects) = parsed else {
            panic!("not objects: {notification}");
        };
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0].key, "incoming/my cat+1.jpg");
        assert_eq!(objects[0].bucket, "argus-local-input");
        assert_eq!(objects[0].version_id.as_deref(), Some("v1"));
    }

    #[test]
    fn the_s3_put_record_has_the_fields_of_the_s3_documentation() {
        let value = serde_json::to_value(s3_put(&object(), time())).unwrap();
        let record = &value["Records"][0];
        assert_eq!(record["eventName"], "ObjectCreated:Put");
        assert_eq!(record["eventSource"], "aws:s3");
        assert_eq!(record["eventVersion"], "2.1");
        assert_eq!(record["awsRegion"], "us-east-1");
        assert_eq!(record["eventTime"], "2026-12-02T04:00:00.250Z");
        assert_eq!(record["s3"]["s3SchemaVersion"], "1.0");
        assert_eq!(
            record["s3"]["bucket"]["arn"],
            "arn:aws:s3:::argus-local-input"
        );
        assert_eq!(record["s3"]["object"]["size"], 1234);
        assert_eq!(record["s3"]["object"]["eTag"], "0123abcd");
        assert_eq!(record["s3"]["object"]["versionId"], "v1");
    }

    #[test]
    fn arns_carry_the_partition_of_the_region() {
        assert_eq!(partition("eu-west-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        let mut o = object();
        o.region = "cn-north-1".into();
        let value = serde_json::to_value(s3_put(&o, time())).unwrap();
        assert_eq!(
            value["Records"][0]["s3"]["bucket"]["arn"],
            "arn:aws-cn:s3:::argus-local-input"
        );
    }

    #[test]
    fn the_sqs_message_carries_the_notification_and_its_md5() {
        let queue = QueueFacts {
            arn: "arn:aws:sqs:us-east-1:000000000000:argus-local-ingest".into(),
            region: "us-east-1".into(),
        };
        let notification = s3_put(&object(), time());
        let event = sqs_message(&notification, &queue, time()).unwrap();
        let text = serde_json::to_string(&event).unwrap();
        let back: SqsEvent = serde_json::from_str(&text).unwrap();
        let message = &back.records[0];
        let body = message.body.as_deref().unwrap();
        assert_eq!(serde_json::from_str::<S3Event>(body).unwrap(), notification);
        // md5 of "" is d41d8cd98f00b204e9800998ecf8427e; this one must be the body's.
        assert_eq!(
            message.md5_of_body.as_deref(),
            Some(hex(&Md5::digest(body.as_bytes())).as_str())
        );
        assert_eq!(
            message.event_source_arn.as_deref(),
            Some(queue.arn.as_str())
        );
        assert_eq!(message.attributes["ApproximateReceiveCount"], "1");
        assert_eq!(message.attributes["SentTimestamp"], "1796184000250");
    }

    fn api() -> ApiFacts {
        ApiFacts {
            api_id: "abc123".into(),
            domain_name: "abc123.execute-api.us-east-1.amazonaws.com".into(),
            account_id: "111122223333".into(),
        }
    }

    #[test]
    fn the_http_request_splits_path_and_query_and_is_what_the_api_routes() {
        let request = HttpRequest {
            method: "get".into(),
            path: "/images?limit=5&limit=6&next=".into(),
            body: None,
        };
        let event = apigw_v2(&request, &api(), time()).unwrap();
        assert_eq!(event.request_context.http.method, Method::GET);
        assert_eq!(event.raw_path.as_deref(), Some("/images"));
        assert_eq!(
            event.raw_query_string.as_deref(),
            Some("limit=5&limit=6&next=")
        );
        assert_eq!(
            event.query_string_parameters.all("limit"),
            Some(vec!["5", "6"])
        );
        assert_eq!(argus_runtime::api::request_path(&event), "/images");
        let value = serde_json::to_value(&event).unwrap();
        assert_eq!(value["version"], "2.0");
        assert_eq!(value["requestContext"]["accountId"], "111122223333");
        assert_eq!(value["requestContext"]["timeEpoch"], 1796184000250_i64);
        assert_eq!(
            value["requestContext"]["time"],
            "02/Dec/2026:04:00:00 +0000"
        );
    }

    #[test]
    fn a_body_is_sent_as_json_with_its_length() {
        let request = HttpRequest {
            method: "POST".into(),
            path: "/uploads".into(),
            body: Some(r#"{"filename":"cat.jpg"}"#.into()),
        };
        let event = apigw_v2(&request, &api(), time()).unwrap();
        assert_eq!(event.headers["content-type"], "application/json");
        assert_eq!(event.headers["content-length"], "22");
        assert_eq!(event.body.as_deref(), Some(r#"{"filename":"cat.jpg"}"#));
    }

    #[test]
    fn bad_method_path_or_body_name_the_flag() {
        let mut request = HttpRequest {
            method: "G ET".into(),
            path: "/images".into(),
            body: None,
        };
        assert_eq!(
            apigw_v2(&request, &api(), time()).unwrap_err(),
            EventError::Method("G ET".into())
        );
        request.method = "GET".into();
        request.path = "images".into();
        assert_eq!(
            apigw_v2(&request, &api(), time()).unwrap_err(),
            EventError::Path("images".into())
        );
        request.path = "/uploads".into();
        request.body = Some("{nope".into());
        assert!(matches!(
            apigw_v2(&request, &api(), time()).unwrap_err(),
            EventError::Body(_)
        ));
    }
}
