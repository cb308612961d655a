//! CloudTrail on the twin: every Rekognition call argus-twin answers becomes a CloudTrail event
//! record, served back by CloudTrail's `LookupEvents` and delivered as gzipped trail log files
//! into a trail bucket on the twin's S3 (MiniStack).
//!
//! - **Records** ([`EventRecord`]) follow CloudTrail's record contents
//!   (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html>):
//!   `eventVersion` 1.08, `eventSource` `rekognition.amazonaws.com`, `requestParameters` with the
//!   request's fields in camelCase (`Image.Bytes` left out, as CloudTrail does), `responseElements`
//!   null, `errorCode`/`errorMessage` on failures, `eventType` `AwsApiCall`, `readOnly` true,
//!   `managementEvent` true, `sourceIPAddress` 127.0.0.1 (the twin listens on loopback only).
//! - **Who called** ([`Identity`]) comes from the SigV4 `Authorization` header's access key id.
//!   MiniStack runs a Lambda function with its account id as access key id (without
//!   `MINISTACK_AUTH`) or with `ASIA` + the first 16 hex digits of
//!   SHA-256(`<function ARN>:<role ARN>`) (with it) — see MiniStack 1.5.33
//!   `core/lambda_runtime.py::execution_credentials`. For such a key the twin lists MiniStack's
//!   functions (Lambda `ListFunctions`) and takes the function whose environment points
//!   `AWS_ENDPOINT_URL_REKOGNITION` at a twin (the processor), inferring the assumed-role session
//!   `arn:aws:sts::<account>:assumed-role/<role>/<function name>` Lambda uses. Any other key is
//!   the account's root (what MiniStack's STS answers for `test`). This is inferred, not told.
//! - **LookupEvents** ([`lookup_events`], JSON 1.1,
//!   <https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html>): one
//!   `LookupAttributes` entry (EventName, EventSource, ResourceName, ReadOnly, Username,
//!   EventId, AccessKeyId, ResourceType), `StartTime`/`EndTime` (epoch seconds, both included),
//!   `MaxResults` 1–50 (default 50), `NextToken` (opaque: the `eventID` of the next event),
//!   newest first, `CloudTrailEvent` the record as a JSON string.
//! - **Delivery** ([`Trail::take_pending`], [`log_file_key`]): every few seconds the new records
//!   are written as one gzipped `{"Records": […]}` file to
//!   `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<id>.json.gz`.

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The `X-Amz-Target` prefixes of CloudTrail's JSON 1.1 operations: the documented one and the
/// one aws-sdk-cloudtrail (Smithy model) sends.
pub const CLOUDTRAIL_TARGET_PREFIXES: [&str; 2] = [
    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.",
    "CloudTrail_20131101.",
];

/// The CloudTrail operation named by an `X-Amz-Target`, e.g. `LookupEvents`.
pub fn cloudtrail_operation(target: &str) -> Option<&str> {
    CLOUDTRAIL_TARGET_PREFIXES
        .iter()
        .find_map(|p| target.strip_prefix(p))
}

/// The CloudTrail event source of Amazon Rekognition.
pub const REKOGNITION_EVENT_SOURCE: &str = "rekognition.amazonaws.com";

/// The trail bucket on the twin's S3 when none is configured.
pub const DEFAULT_TRAIL_BUCKET: &str = "argus-twin-trail";

/// MiniStack's default account id.
pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";

/// How often new records are delivered when not configured.
pub const DEFAULT_DELIVERY_INTERVAL: Duration = Duration::from_secs(5);

/// Records kept for LookupEvents (oldest dropped first).
pub const KEEP: usize = 100_000;

/// Largest `MaxResults` LookupEvents accepts.
pub const MAX_RESULTS: usize = 50;

/// Where and how the trail is kept and delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct TrailSettings {
    /// The account of the records (`recipientAccountId`) and of the log file keys.
    pub account_id: String,
    /// The Region of the records (`awsRegion`) and of the log file keys.
    pub region: String,
    /// The trail bucket on the twin's S3 (created when missing); `None`: no delivery.
    pub bucket: Option<String>,
    /// How often new records are delivered.
    pub delivery_interval: Duration,
}

impl Default for TrailSettings {
    /// Account 000000000000, us-east-1, no delivery, every 5 s.
    fn default() -> Self {
        TrailSettings {
            account_id: DEFAULT_ACCOUNT_ID.to_owned(),
            region: "us-east-1".to_owned(),
            bucket: None,
            delivery_interval: DEFAULT_DELIVERY_INTERVAL,
        }
    }
}

/// Who made a call, as CloudTrail's `userIdentity` shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Identity {
    /// A Lambda function's assumed-role session.
    AssumedRole {
        /// The access key id of the request.
        access_key_id: String,
        /// The account.
        account_id: String,
        /// The execution role's ARN (`arn:aws:iam::<account>:role/<name>`).
        role_arn: String,
        /// The session name (Lambda uses the function name).
        session_name: String,
    },
    /// The account's root user (any other access key on the twin).
    Root {
        /// The access key id of the request (empty when unsigned).
        access_key_id: String,
        /// The account.
        account_id: String,
    },
}

impl Identity {
    /// The `userIdentity` object.
    pub fn to_json(&self) -> Value {
        match self {
            Identity::AssumedRole {
                access_key_id,
                account_id,
                role_arn,
                session_name,
            } => {
                let role_name = role_arn.rsplit('/').next().unwrap_or(role_arn);
                let principal = format!("AROA{}", principal_suffix(role_arn));
                json!({
                    "type": "AssumedRole",
                    "principalId": format!("{principal}:{session_name}"),
                    "arn": format!("arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}"),
                    "accountId": account_id,
                    "accessKeyId": access_key_id,
                    "sessionContext": {
                        "sessionIssuer": {
                            "type": "Role",
                            "principalId": principal,
                            "arn": role_arn,
                            "accountId": account_id,
                            "userName": role_name,
                        },
                        "attributes": {"mfaAuthenticated": "false"},
                    },
                })
            }
            Identity::Root {
                access_key_id,
                account_id,
            } => json!({
                "type": "Root",
                "principalId": account_id,
                "arn": format!("arn:aws:iam::{account_id}:root"),
                "accountId": account_id,
                "accessKeyId": access_key_id,
            }),
        }
    }

    /// The `Username` LookupEvents shows: the session name, or `root`.
    pub fn username(&self) -> &str {
        match self {
            Identity::AssumedRole { session_name, .. } => session_name,
            Identity::Root { .. } => "root",
        }
    }
}

/// A stable 17-character upper-case id part derived from `text` (role ids are not known on the
/// twin).
fn principal_suffix(text: &str) -> String {
    let digest = crate::inspect::sha256_hex(text.as_bytes());
    digest.get(..17).unwrap_or(&digest).to_uppercase()
}

/// The access key id in a SigV4 `Authorization` header
/// (`AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, …`).
pub fn access_key_of(authorization: &str) -> Option<&str> {
    let credential = authorization.split("Credential=").nth(1)?;
    let key = credential.split('/').next()?;
    (!key.is_empty()).then_some(key)
}

/// A Lambda function as the twin needs it to name its callers.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// `FunctionName`.
    pub name: String,
    /// `FunctionArn`.
    pub arn: String,
    /// `Role`: the execution role's ARN.
    pub role: String,
    /// Whether its environment has `AWS_ENDPOINT_URL_REKOGNITION` (it calls a twin).
    pub calls_rekognition: bool,
}

/// The functions of a Lambda `ListFunctions` answer
/// (<https://docs.aws.amazon.com/lambda/latest/api/API_ListFunctions.html>).
///
/// Errors: the JSON error when the body is not a ListFunctions answer.
pub fn parse_functions(body: &str) -> Result<Vec<Function>, serde_json::Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Answer {
        #[serde(default)]
        functions: Vec<Value>,
    }
    let answer: Answer = serde_json::from_str(body)?;
    Ok(answer
        .functions
        .iter()
        .filter_map(|f| {
            Some(Function {
                name: f.get("FunctionName")?.as_str()?.to_owned(),
                arn: f.get("FunctionArn")?.as_str()?.to_owned(),
                role: f.get("Role")?.as_str()?.to_owned(),
                calls_rekognition: f
                    .pointer("/Environment/Variables/AWS_ENDPOINT_URL_REKOGNITION")
                    .is_some(),
            })
        })
        .collect())
}

/// The identity of `access_key_id` given MiniStack's functions (see the module docs): the
/// function whose MiniStack execution key it is, else (a 12-digit account id key) the one
/// function calling Rekognition, else the account's root.
pub fn identify(access_key_id: &str, account_id: &str, functions: &[Function]) -> Identity {
    let session = |f: &Function| Identity::AssumedRole {
        access_key_id: access_key_id.to_owned(),
        account_id: account_of_arn(&f.arn).unwrap_or(account_id).to_owned(),
        role_arn: f.role.clone(),
        session_name: f.name.clone(),
    };
    if access_key_id.starts_with("ASIA")
        && let Some(f) = functions.iter().find(|f| {
            let digest = crate::inspect::sha256_hex(format!("{}:{}", f.arn, f.role).as_bytes());
            digest
                .get(..16)
                .is_some_and(|d| access_key_id[4..].eq_ignore_ascii_case(d))
        })
    {
        return session(f);
    }
    let is_account = access_key_id.len() == 12 && access_key_id.bytes().all(|b| b.is_ascii_digit());
    if is_account {
        let callers: Vec<&Function> = functions
            .iter()
            .filter(|f| f.calls_rekognition && account_of_arn(&f.arn) == Some(access_key_id))
            .collect();
        if let [only] = callers.as_slice() {
            return session(only);
        }
    }
    Identity::Root {
        access_key_id: access_key_id.to_owned(),
        account_id: if is_account {
            access_key_id.to_owned()
        } else {
            account_id.to_owned()
        },
    }
}

fn account_of_arn(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// Converts a Rekognition request body to CloudTrail's `requestParameters`: the same fields with
/// camelCase names, `Bytes` left out (CloudTrail does not record image bytes).
pub fn request_parameters(body: &Value) -> Value {
    match body {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                if k == "Bytes" {
                    continue;
                }
                let mut chars = k.chars();
                let camel = match chars.next() {
                    Some(first) => first.to_lowercase().chain(chars).collect(),
                    None => String::new(),
                };
                out.insert(camel, request_parameters(v));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(request_parameters).collect()),
        other => other.clone(),
    }
}

/// The `arn:aws:s3:::bucket/key` of every `S3Object` named in `requestParameters`.
fn object_arns(parameters: &Value) -> Vec<String> {
    ["image", "sourceImage", "targetImage"]
        .iter()
        .filter_map(|p| {
            let o = parameters.get(*p)?.get("s3Object")?;
            Some(format!(
                "arn:aws:s3:::{}/{}",
                o.get("bucket")?.as_str()?,
                o.get("name")?.as_str()?
            ))
        })
        .collect()
}

/// Formats epoch milliseconds as ISO 8601 UTC with seconds (`2024-05-01T12:00:03Z`).
pub fn iso_seconds(epoch_ms: i64) -> String {
    let secs = epoch_ms.div_euclid(1000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// One recorded call: the CloudTrail record and what LookupEvents needs beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// When the call was made, epoch milliseconds.
    pub epoch_ms: i64,
    /// The record (the log files' `Records[]` entry, LookupEvents' `CloudTrailEvent`).
    pub record: Value,
    /// LookupEvents' `Username`.
    pub username: String,
}

impl EventRecord {
    fn text(&self, key: &str) -> &str {
        self.record.get(key).and_then(Value::as_str).unwrap_or("")
    }

    /// `eventID`.
    pub fn event_id(&self) -> &str {
        self.text("eventID")
    }
}

/// What one Rekognition call was, to be recorded.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    /// The operation, e.g. `DetectLabels`.
    pub operation: &'a str,
    /// The request body as sent (JSON), `Null` when it was not JSON.
    pub request: &'a Value,
    /// The caller.
    pub identity: &'a Identity,
    /// The `User-Agent` header.
    pub user_agent: &'a str,
    /// The Rekognition request id (`x-amzn-RequestId`).
    pub request_id: &'a str,
    /// The error code and message when the call failed.
    pub error: Option<(&'a str, &'a str)>,
}

/// The recorded events and the ones not yet delivered.
#[derive(Debug, Default)]
pub struct Trail {
    /// Every record, oldest first (at most [`KEEP`]).
    events: Vec<EventRecord>,
    /// Records not yet delivered to the bucket, oldest first.
    pending: Vec<Value>,
    next: u64,
    instance: u64,
}

impl Trail {
    /// An empty trail whose event ids start from `instance` (e.g. the start time).
    pub fn new(instance: u64) -> Self {
        Trail {
            instance,
            ..Trail::default()
        }
    }

    /// Records `call` made at `epoch_ms` in `settings`' account and Region.
    pub fn record(&mut self, settings: &TrailSettings, epoch_ms: i64, call: &Call<'_>) {
        self.next += 1;
        let event_id = crate::server::sequential_id(self.instance, self.next, 'b');
        let parameters = request_parameters(call.request);
        let resources: Vec<Value> = object_arns(&parameters)
            .into_iter()
            .map(|arn| json!({"type": "AWS::S3::Object", "ARN": arn}))
            .collect();
        let mut record = json!({
            "eventVersion": "1.08",
            "userIdentity": call.identity.to_json(),
            "eventTime": iso_seconds(epoch_ms),
            "eventSource": REKOGNITION_EVENT_SOURCE,
            "eventName": call.operation,
            "awsRegion": settings.region,
            "sourceIPAddress": "127.0.0.1",
            "userAgent": call.user_agent,
            "requestParameters": if parameters.is_object() { parameters } else { Value::Null },
            "responseElements": null,
            "requestID": call.request_id,
            "eventID": event_id,
            "readOnly": true,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": settings.account_id,
            "eventCategory": "Management",
        });
        if let Some((code, message)) = call.error
            && let Some(map) = record.as_object_mut()
        {
            map.insert("errorCode".into(), code.into());
            map.insert("errorMessage".into(), message.into());
        }
        if !resources.is_empty()
            && let Some(map) = record.as_object_mut()
        {
            map.insert("resources".into(), Value::Array(resources));
        }
        self.pending.push(record.clone());
        self.events.push(EventRecord {
            epoch_ms,
            record,
            username: call.identity.username().to_owned(),
        });
        if self.events.len() > KEEP {
            let extra = self.events.len() - KEEP;
            self.events.drain(..extra);
        }
    }

    /// Every record, oldest first.
    pub fn events(&self) -> &[EventRecord] {
        &self.events
    }

    /// Takes the records not yet delivered (oldest first).
    pub fn take_pending(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.pending)
    }

    /// Puts records whose delivery failed back in front of the pending ones.
    pub fn restore_pending(&mut self, mut records: Vec<Value>) {
        records.append(&mut self.pending);
        self.pending = records;
    }

    /// Forgets every record (delivered or not).
    pub fn clear(&mut self) {
        self.events.clear();
        self.pending.clear();
    }
}

/// A LookupEvents error: its `__type` and message (HTTP 400).
#[derive(Debug, Clone, PartialEq)]
pub struct LookupError {
    /// E.g. `InvalidLookupAttributesException`.
    pub code: &'static str,
    /// What is wrong, naming the field.
    pub message: String,
}

fn invalid(code: &'static str, message: impl Into<String>) -> LookupError {
    LookupError {
        code,
        message: message.into(),
    }
}

fn epoch_ms_of(value: &Value, field: &str) -> Result<Option<i64>, LookupError> {
    match value.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .map(|s| Some((s * 1000.0).round() as i64))
            .ok_or_else(|| {
                invalid(
                    "InvalidTimeRangeException",
                    format!("{field} must be a timestamp (epoch seconds)"),
                )
            }),
    }
}

/// Answers a LookupEvents request body from `events` (oldest first) — see the module docs.
///
/// Errors: [`LookupError`] `InvalidLookupAttributesException` (more than one attribute, an
/// unknown key, an empty value), `InvalidTimeRangeException` (start after end),
/// `InvalidMaxResultsException` (not 1–50), `InvalidNextTokenException` (not a token of this
/// twin's events), `SerializationException` (not JSON).
pub fn lookup_events(events: &[EventRecord], body: &[u8]) -> Result<Value, LookupError> {
    let body: &[u8] = if body.is_empty() { b"{}" } else { body };
    let request: Value = serde_json::from_slice(body)
        .map_err(|e| invalid("SerializationException", format!("invalid JSON: {e}")))?;
    let attributes = request
        .get("LookupAttributes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if attributes.len() > 1 {
        return Err(invalid(
            "InvalidLookupAttributesException",
            "LookupAttributes takes at most one attribute",
        ));
    }
    let attribute = match attributes.first() {
        None => None,
        Some(a) => {
            let key = a.get("AttributeKey").and_then(Value::as_str).unwrap_or("");
            let value = a
                .get("AttributeValue")
                .and_then(Value::as_str)
                .unwrap_or("");
            const KEYS: [&str; 8] = [
                "EventId",
                "EventName",
                "ReadOnly",
                "Username",
                "ResourceType",
                "ResourceName",
                "EventSource",
                "AccessKeyId",
            ];
            if !KEYS.contains(&key) {
                return Err(invalid(
                    "InvalidLookupAttributesException",
                    format!("LookupAttributes[0].AttributeKey {key:?} is not one of {KEYS:?}"),
                ));
            }
            if value.is_empty() {
                return Err(invalid(
                    "InvalidLookupAttributesException",
                    "LookupAttributes[0].AttributeValue must not be empty",
                ));
            }
            Some((key, value))
        }
    };
    let start = epoch_ms_of(&request, "StartTime")?;
    let end = epoch_ms_of(&request, "EndTime")?;
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        return Err(invalid(
            "InvalidTimeRangeException",
            "StartTime must be before EndTime",
        ));
    }
    let max = match request.get("MaxResults").and_then(Value::as_i64) {
        None => MAX_RESULTS,
        Some(n) if (1..=MAX_RESULTS as i64).contains(&n) => n as usize,
        Some(n) => {
            return Err(invalid(
                "InvalidMaxResultsException",
                format!("MaxResults must be from 1 to {MAX_RESULTS}, not {n}"),
            ));
        }
    };
    // Times compare at CloudTrail's precision: whole seconds.
    let second = |ms: i64| ms.div_euclid(1000);
    let matching: Vec<&EventRecord> = events
        .iter()
        .rev()
        .filter(|e| start.is_none_or(|s| second(e.epoch_ms) >= second(s)))
        .filter(|e| end.is_none_or(|t| second(e.epoch_ms) <= second(t)))
        .filter(|e| attribute.is_none_or(|(k, v)| matches(e, k, v)))
        .collect();
    let from = match request.get("NextToken").and_then(Value::as_str) {
        None | Some("") => 0,
        Some(token) => matching
            .iter()
            .position(|e| e.event_id() == token)
            .ok_or_else(|| {
                invalid(
                    "InvalidNextTokenException",
                    format!("NextToken {token:?} is not a token of this lookup"),
                )
            })?,
    };
    let page: Vec<Value> = matching
        .iter()
        .skip(from)
        .take(max)
        .map(|e| lookup_entry(e))
        .collect();
    let mut answer = json!({ "Events": page });
    if let Some(next) = matching.get(from + max)
        && let Some(map) = answer.as_object_mut()
    {
        map.insert("NextToken".into(), next.event_id().into());
    }
    Ok(answer)
}

fn resource_names(e: &EventRecord) -> Vec<&str> {
    e.record
        .get("resources")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(|r| r.get("ARN").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

fn matches(e: &EventRecord, key: &str, value: &str) -> bool {
    match key {
        "EventId" => e.event_id() == value,
        "EventName" => e.text("eventName") == value,
        "EventSource" => e.text("eventSource") == value,
        "ReadOnly" => value == "true",
        "Username" => e.username == value,
        "AccessKeyId" => {
            e.record
                .pointer("/userIdentity/accessKeyId")
                .and_then(Value::as_str)
                == Some(value)
        }
        "ResourceType" => value == "AWS::S3::Object" && !resource_names(e).is_empty(),
        "ResourceName" => resource_names(e).contains(&value),
        _ => false,
    }
}

fn lookup_entry(e: &EventRecord) -> Value {
    let resources: Vec<Value> = resource_names(e)
        .into_iter()
        .map(|name| json!({"ResourceType": "AWS::S3::Object", "ResourceName": name}))
        .collect();
    json!({
        "EventId": e.event_id(),
        "EventName": e.text("eventName"),
        "ReadOnly": "true",
        "AccessKeyId": e.record.pointer("/userIdentity/accessKeyId").and_then(Value::as_str).unwrap_or(""),
        "EventTime": e.epoch_ms.div_euclid(1000),
        "EventSource": e.text("eventSource"),
        "Username": e.username,
        "Resources": resources,
        "CloudTrailEvent": e.record.to_string(),
    })
}

/// The key of a log file delivered at `epoch_ms`:
/// `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<id>.json.gz`.
pub fn log_file_key(settings: &TrailSettings, epoch_ms: i64, id: &str) -> String {
    let iso = iso_seconds(epoch_ms);
    let (date, time) = (iso.get(..10).unwrap_or(""), iso.get(11..16).unwrap_or(""));
    format!(
        "AWSLogs/{a}/CloudTrail/{r}/{}/{a}_CloudTrail_{r}_{}T{}Z_{id}.json.gz",
        date.replace('-', "/"),
        date.replace('-', ""),
        time.replace(':', ""),
        a = settings.account_id,
        r = settings.region,
    )
}

/// A gzipped log file body: `{"Records": [...]}`.
///
/// Errors: the I/O error of the compressor.
pub fn log_file_body(records: &[Value]) -> std::io::Result<Vec<u8>> {
    let json = json!({ "Records": records }).to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json.as_bytes())?;
    gz.finish()
}

/// Milliseconds since the Unix epoch now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Caches the identity of each access key seen (the Lambda functions are listed once per new
/// key).
#[derive(Debug, Default)]
pub struct Identities {
    known: HashMap<String, Identity>,
}

impl Identities {
    /// The cached identity of `key`, if any.
    pub fn get(&self, key: &str) -> Option<Identity> {
        self.known.get(key).cloned()
    }

    /// Caches `identity` for `key`; a root identity is not cached (the function may appear
    /// later).
    pub fn remember(&mut self, key: &str, identity: &Identity) {
        if matches!(identity, Identity::AssumedRole { .. }) {
            self.known.insert(key.to_owned(), identity.clone());
        }
    }
}

/// Lists MiniStack's Lambda functions (`GET /2015-03-31/functions/` at `endpoint`, unsigned:
/// MiniStack does not check signatures unless `MINISTACK_AUTH` is set). Blocking.
///
/// Errors: a message naming the endpoint when it does not answer or answers something else.
pub fn list_functions(endpoint: &str) -> Result<Vec<Function>, String> {
    let url = format!("{}/2015-03-31/functions/", endpoint.trim_end_matches('/'));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .proxy(None)
        .build()
        .into();
    let body = agent
        .get(&url)
        .call()
        .map_err(|e| format!("Lambda ListFunctions at {url}: {e}"))?
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("Lambda ListFunctions at {url}: {e}"))?;
    parse_functions(&body).map_err(|e| format!("Lambda ListFunctions at {url}: {e}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn settings() -> TrailSettings {
        TrailSettings {
            region: "eu-west-1".into(),
            ..TrailSettings::default()
        }
    }

    fn trail_with(times_ms: &[i64]) -> Trail {
        let mut trail = Trail::new(7);
        let identity = Identity::Root {
            access_key_id: "test".into(),
            account_id: DEFAULT_ACCOUNT_ID.into(),
        };
        for (i, t) in times_ms.iter().enumerate() {
            let request =
                json!({"Image": {"S3Object": {"Bucket": "in", "Name": format!("k{i}.jpg")}}});
            trail.record(
                &settings(),
                *t,
                &Call {
                    operation: if i % 2 == 0 {
                        "DetectLabels"
                    } else {
                        "DetectText"
                    },
                    request: &request,
                    identity: &identity,
                    user_agent: "ua",
                    request_id: "r",
                    error: None,
                },
            );
        }
        trail
    }

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(iso_seconds(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_seconds(1_709_210_096_000), "2024-02-29T12:34:56Z");
        assert_eq!(iso_seconds(1_798_761_599_999), "2026-12-31T23:59:59Z");
    }

    #[test]
    fn log_file_keys_follow_cloudtrail_layout() {
        let key = log_file_key(&settings(), 1_709_210_096_000, "abc");
        assert_eq!(
            key,
            "AWSLogs/000000000000/CloudTrail/eu-west-1/2024/02/29/000000000000_CloudTrail_eu-west-1_20240229T1234Z_abc.json.gz"
        );
    }

    #[test]
    fn request_parameters_are_camel_case_without_bytes() {
        let p = request_parameters(
            &json!({"Image": {"Bytes": "AAAA", "S3Object": {"Bucket": "b", "Name": "n", "Version": "v"}}, "MaxLabels": 5}),
        );
        assert_eq!(
            p,
            json!({"image": {"s3Object": {"bucket": "b", "name": "n", "version": "v"}}, "maxLabels": 5})
        );
    }

    #[test]
    fn the_access_key_is_read_from_sigv4() {
        let h = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/rekognition/aws4_request, SignedHeaders=host, Signature=abc";
        assert_eq!(access_key_of(h), Some("AKIDEXAMPLE"));
        assert_eq!(access_key_of("Bearer x"), None);
    }

    #[test]
    fn a_lambda_key_is_the_processors_role_session() {
        let functions = vec![
            Function {
                name: "api".into(),
                arn: "arn:aws:lambda:eu-west-1:000000000000:function:api".into(),
                role: "arn:aws:iam::000000000000:role/api-role".into(),
                calls_rekognition: false,
            },
            Function {
                name: "proc".into(),
                arn: "arn:aws:lambda:eu-west-1:000000000000:function:proc".into(),
                role: "arn:aws:iam::000000000000:role/proc-role".into(),
                calls_rekognition: true,
            },
        ];
        let id = identify("000000000000", DEFAULT_ACCOUNT_ID, &functions);
        assert_eq!(
            id.to_json()["arn"],
            "arn:aws:sts::000000000000:assumed-role/proc-role/proc"
        );
        let digest = crate::inspect::sha256_hex(
            format!("{}:{}", functions[0].arn, functions[0].role).as_bytes(),
        );
        let auth_key = format!("ASIA{}", digest[..16].to_uppercase());
        assert_eq!(
            identify(&auth_key, DEFAULT_ACCOUNT_ID, &functions).username(),
            "api"
        );
        assert_eq!(
            identify("test", DEFAULT_ACCOUNT_ID, &functions).to_json()["arn"],
            "arn:aws:iam::000000000000:root"
        );
    }

    #[test]
    fn lookup_pages_newest_first_and_filters_by_time_and_name() {
        let trail = trail_with(&[1_000, 2_000, 3_000, 4_000, 5_000]);
        let page = |body: Value| lookup_events(trail.events(), body.to_string().as_bytes());
        let first = page(json!({"MaxResults": 2})).unwrap();
        assert_eq!(first["Events"].as_array().unwrap().len(), 2);
        assert_eq!(first["Events"][0]["EventTime"], 5);
        let token = first["NextToken"].as_str().unwrap().to_owned();
        let second = page(json!({"MaxResults": 2, "NextToken": token})).unwrap();
        assert_eq!(second["Events"][0]["EventTime"], 3);
        let ranged = page(json!({"StartTime": 2, "EndTime": 4})).unwrap();
        let times: Vec<i64> = ranged["Events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["EventTime"].as_i64().unwrap())
            .collect();
        assert_eq!(times, vec![4, 3, 2]);
        let named = page(json!({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "DetectText"}]})).unwrap();
        assert_eq!(named["Events"].as_array().unwrap().len(), 2);
        let by_object = page(json!({"LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": "arn:aws:s3:::in/k4.jpg"}]})).unwrap();
        assert_eq!(by_object["Events"].as_array().unwrap().len(), 1);
        assert_eq!(
            page(json!({"MaxResults": 51})).unwrap_err().code,
            "InvalidMaxResultsException"
        );
        assert_eq!(
            page(json!({"NextToken": "nope"})).unwrap_err().code,
            "InvalidNextTokenException"
        );
    }
}
