//! Reading the audit trail: who called which Amazon Rekognition API on which image, and when.
//!
//! Two sources, one output:
//!
//! - **CloudTrail event history** (the default): `LookupEvents` in the stage's Region (the prod
//!   stage's for the account-level view), filtered on the event source
//!   `rekognition.amazonaws.com`, or on the event name with `--event` (LookupEvents takes a
//!   single lookup attribute, so the source is then checked here), from now − `--since` to now,
//!   every page. It keeps 90 days and needs no trail.
//! - **The trail's log files** (`--from-bucket`): the `argus-audit` trail delivers gzipped
//!   `{"Records": [...]}` files to `AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/` in
//!   its bucket (the stack output `TrailBucketName`, or `--bucket`). Every day folder of the
//!   window is listed, every `.json.gz` delivered inside the window is read, and the Rekognition
//!   records in the window are kept.
//!
//! Both give CloudTrail records (record contents:
//! <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html>),
//! parsed by the pure functions here into [`AuditEvent`]s, filtered ([`Filter`]), sorted newest
//! first and printed as a table ([`table`]) or, with `--json`, as a JSON array ([`to_json`])
//! whose object fields are those of [`AuditEvent`].
//!
//! `--stage S` keeps the calls on images in S's input bucket: its name is the `Fn::Sub` template
//! of [`StageConfig::input_bucket_name`], resolved per event with the event's account
//! (`recipientAccountId`, else `userIdentity.accountId`) and Region.
//!
//! `argus audit` (`commands/audit.rs`) parses the options, calls [`lookup_events`] or
//! [`read_trail_logs`] and prints; its exit codes: 0 (also when nothing was recorded: a line says so); 1 a log file cannot be read
//! or parsed, or the audit stack is not deployed; 2 bad options; 3 AWS unreachable or refusing.

use std::fmt;
use std::io::Read;

use argus_stacks::trail::TRAIL_STACK_NAME;
use argus_toolkit::ToolkitError;
use argus_toolkit::aws::AwsContext;
use argus_toolkit::deploy::describe_stack;
use aws_sdk_cloudtrail::primitives::{DateTime, DateTimeFormat};
use aws_sdk_cloudtrail::types::LookupAttribute;
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

/// The CloudTrail event source of Amazon Rekognition.
pub const REKOGNITION_EVENT_SOURCE: &str = "rekognition.amazonaws.com";

/// The longest `--since`: CloudTrail event history keeps 90 days.
pub const MAX_SINCE_SECONDS: u64 = 90 * 86_400;

/// A `--since` duration: what was typed (for messages) and its length in seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Since {
    /// The text as given, e.g. `1h`.
    pub text: String,
    /// The length in seconds, 1 to [`MAX_SINCE_SECONDS`].
    pub seconds: u64,
}

impl fmt::Display for Since {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Parses a `--since` value: a whole number and a unit, `s`, `m`, `h` or `d` (`30m`, `1h`, `2d`).
///
/// # Errors
/// A message saying what is accepted, for a missing or unknown unit, a number that is not a whole
/// number, zero, or more than 90 days.
pub fn parse_since(text: &str) -> Result<Since, String> {
    let usage = "use a whole number and a unit: s, m, h or d (e.g. 30m, 1h, 2d)";
    let trimmed = text.trim();
    let Some(unit) = trimmed.chars().last() else {
        return Err(format!("empty duration: {usage}"));
    };
    let multiplier = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        c if c.is_ascii_digit() => return Err(format!("`{text}` has no unit: {usage}")),
        c => return Err(format!("`{text}` has an unknown unit `{c}`: {usage}")),
    };
    let number = &trimmed[..trimmed.len() - unit.len_utf8()];
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("`{text}` is not a duration: {usage}"));
    }
    let seconds = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .unwrap_or(u64::MAX);
    if seconds == 0 {
        return Err(format!("`{text}` is empty: give a duration above zero"));
    }
    if seconds > MAX_SINCE_SECONDS {
        return Err(format!(
            "`{text}` is longer than 90d, the CloudTrail event history's retention"
        ));
    }
    Ok(Since {
        text: trimmed.to_owned(),
        seconds,
    })
}

/// Checks an `--event` value: an API operation name (letters and digits, e.g. `DetectLabels`).
///
/// # Errors
/// A message when it is empty or holds other characters.
pub fn parse_event_name(text: &str) -> Result<String, String> {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "`{text}` is not an operation name: give one such as DetectLabels, DetectFaces or CompareFaces"
        ))
    }
}

/// One image a call named: a request parameter holding an `Image`
/// (<https://docs.aws.amazon.com/rekognition/latest/APIReference/API_Image.html>), either an S3
/// object or inline bytes (which CloudTrail does not record).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageRef {
    /// The request parameter: `image`, or `sourceImage`/`targetImage` for CompareFaces.
    pub parameter: String,
    /// The S3 bucket; `None` for inline bytes.
    pub bucket: Option<String>,
    /// The object key; `None` for inline bytes.
    pub key: Option<String>,
    /// The object version, when the caller named one.
    pub version_id: Option<String>,
    /// Whether the image was sent inline as bytes.
    pub bytes: bool,
}

impl ImageRef {
    /// `s3://bucket/key`, with `?versionId=<id>` when a version was named, or `(bytes)`.
    pub fn display(&self) -> String {
        match (&self.bucket, &self.key) {
            (Some(bucket), Some(key)) => match &self.version_id {
                Some(version) => format!("s3://{bucket}/{key}?versionId={version}"),
                None => format!("s3://{bucket}/{key}"),
            },
            (Some(bucket), None) => format!("s3://{bucket}/"),
            _ => "(bytes)".to_owned(),
        }
    }
}

/// One Rekognition call as `argus audit` shows it. Serialized (`--json`) with these camelCase
/// field names; absent values are `null`, never missing.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// When the call was made: ISO 8601 UTC, e.g. `2024-05-01T12:00:03Z` (`eventTime`).
    pub time: String,
    /// `time` in seconds since the Unix epoch (for sorting and windows; not serialized).
    #[serde(skip)]
    pub epoch_seconds: i64,
    /// The API operation, e.g. `DetectLabels` (`eventName`).
    pub event: String,
    /// Who called: the part of `userIdentity.arn` after the account, e.g.
    /// `assumed-role/<role>/<session>` (a Lambda function's session is its name),
    /// `user/alice` or `root`; the invoking service or the principal ID when there is no ARN.
    pub caller: String,
    /// `userIdentity.arn`, when there is one.
    pub caller_arn: Option<String>,
    /// `userIdentity.type`: `AssumedRole`, `IAMUser`, `Root`, `AWSService`, …
    pub caller_type: Option<String>,
    /// Where the call came from: `sourceIPAddress` (an IP address, or an AWS service name such as
    /// `lambda.amazonaws.com`), else `userIdentity.invokedBy`.
    pub source: Option<String>,
    /// `userAgent`: the SDK or tool, e.g. `aws-sdk-rust/… exec-env/AWS_Lambda_provided.al2023`.
    pub user_agent: Option<String>,
    /// The images as one string: [`ImageRef::display`] of each, `source -> target` for
    /// CompareFaces; `-` when the call named none.
    pub image: String,
    /// The images, one per request parameter.
    pub images: Vec<ImageRef>,
    /// `OK`, or the error code when the call failed.
    pub result: String,
    /// `errorCode`, e.g. `InvalidImageFormatException`.
    pub error_code: Option<String>,
    /// `errorMessage`.
    pub error_message: Option<String>,
    /// `requestID`: the Rekognition request ID.
    pub request_id: Option<String>,
    /// `eventID`: CloudTrail's ID of the record.
    pub event_id: Option<String>,
    /// `awsRegion`.
    pub region: String,
    /// The account that received the call: `recipientAccountId`, else `userIdentity.accountId`.
    pub account: Option<String>,
    /// `eventSource`, e.g. `rekognition.amazonaws.com` (filtering only; not serialized).
    #[serde(skip)]
    pub event_source: String,
}

/// Why recorded CloudTrail data could not be read.
#[derive(Debug, Error)]
pub enum AuditError {
    /// Not JSON, or not the expected shape.
    #[error("{what} is not valid CloudTrail JSON: {source}")]
    Json {
        /// What was being parsed.
        what: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// JSON of the wrong shape.
    #[error("{what}: {problem}")]
    Shape {
        /// What was being parsed.
        what: String,
        /// What is wrong.
        problem: String,
    },
    /// An AWS call failed (unreachable endpoint, missing credentials, refused call).
    #[error(transparent)]
    Aws(#[from] ToolkitError),
    /// An object's body could not be read to the end.
    #[error("s3:GetObject {object} failed while reading: {message}\n  tried: {target}")]
    Read {
        /// The object, `s3://bucket/key`.
        object: String,
        /// The error.
        message: String,
        /// Which endpoint, Region and credentials source was used.
        target: String,
    },
    /// The audit trail stack is not deployed, so there is no trail bucket.
    #[error(
        "{TRAIL_STACK_NAME} is not deployed in {region} (no TrailBucketName output), so there is no trail bucket to read; deploy it with `argus deploy --stack {TRAIL_STACK_NAME}`, pass --bucket NAME, or drop --from-bucket to use the CloudTrail event history"
    )]
    NoTrail {
        /// The Region looked in.
        region: String,
    },
    /// The gzip stream is corrupt.
    #[error("{what} is not a readable gzip file: {source}")]
    Gzip {
        /// What was being decompressed.
        what: String,
        /// The decoder's error.
        #[source]
        source: std::io::Error,
    },
}

fn text(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The first of `keys` (Rekognition's camelCase, then the API's PascalCase) that `value` has.
fn field<'a>(value: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter()
        .find_map(|k| value.get(*k))
        .filter(|v| !v.is_null())
}

fn image_ref(parameter: &str, image: &Value) -> ImageRef {
    let s3 = field(image, &["s3Object", "S3Object"]);
    let get = |keys: &[&str]| {
        s3.and_then(|o| field(o, keys))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let bucket = get(&["bucket", "Bucket"]);
    ImageRef {
        parameter: parameter.to_owned(),
        key: get(&["name", "Name"]),
        version_id: get(&["version", "Version"]),
        bytes: bucket.is_none(),
        bucket,
    }
}

/// The images in a Rekognition call's `requestParameters`: `image`, `sourceImage`, `targetImage`.
pub fn images_of(request_parameters: &Value) -> Vec<ImageRef> {
    [
        ("image", "Image"),
        ("sourceImage", "SourceImage"),
        ("targetImage", "TargetImage"),
    ]
    .iter()
    .filter_map(|(camel, pascal)| {
        field(request_parameters, &[camel, pascal]).map(|image| image_ref(camel, image))
    })
    .collect()
}

/// Who called, from a record's `userIdentity` (see [`AuditEvent::caller`]).
pub fn caller_of(identity: &Value) -> String {
    if let Some(arn) = text(identity, "arn") {
        // arn:partition:service:region:account:resource — the resource may hold colons.
        let resource: Vec<&str> = arn.splitn(6, ':').collect();
        return match resource.get(5) {
            Some(resource) if !resource.is_empty() => (*resource).to_owned(),
            _ => arn,
        };
    }
    text(identity, "invokedBy")
        .or_else(|| text(identity, "principalId"))
        .or_else(|| text(identity, "type"))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Parses an ISO 8601 UTC timestamp (`2024-05-01T12:00:03Z`) to epoch seconds.
pub fn epoch_of(time: &str) -> Option<i64> {
    DateTime::from_str(time, DateTimeFormat::DateTime)
        .ok()
        .map(|t| t.secs())
}

/// Formats epoch seconds as ISO 8601 UTC (`2024-05-01T12:00:03Z`).
pub fn iso_of(epoch_seconds: i64) -> String {
    DateTime::from_secs(epoch_seconds)
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_else(|_| epoch_seconds.to_string())
}

/// Parses one CloudTrail record (of any service). `None` when it is not an API call record this
/// command can place (no `eventTime`, `eventName` or `eventSource`).
pub fn parse_record(record: &Value) -> Option<AuditEvent> {
    let epoch_seconds = epoch_of(record.get("eventTime")?.as_str()?)?;
    let event = text(record, "eventName")?;
    let event_source = text(record, "eventSource")?;
    let identity = record.get("userIdentity").cloned().unwrap_or(Value::Null);
    let images = record
        .get("requestParameters")
        .map(images_of)
        .unwrap_or_default();
    let image = if images.is_empty() {
        "-".to_owned()
    } else {
        images
            .iter()
            .map(ImageRef::display)
            .collect::<Vec<_>>()
            .join(" -> ")
    };
    let error_code = text(record, "errorCode");
    Some(AuditEvent {
        time: iso_of(epoch_seconds),
        epoch_seconds,
        event,
        caller: caller_of(&identity),
        caller_arn: text(&identity, "arn"),
        caller_type: text(&identity, "type"),
        source: text(record, "sourceIPAddress").or_else(|| text(&identity, "invokedBy")),
        user_agent: text(record, "userAgent"),
        image,
        images,
        result: error_code.clone().unwrap_or_else(|| "OK".to_owned()),
        error_code,
        error_message: text(record, "errorMessage"),
        request_id: text(record, "requestID"),
        event_id: text(record, "eventID"),
        region: text(record, "awsRegion").unwrap_or_default(),
        account: text(record, "recipientAccountId").or_else(|| text(&identity, "accountId")),
        event_source,
    })
}

/// Parses a LookupEvents `Events[].CloudTrailEvent`: the record as a JSON string.
///
/// # Errors
/// [`AuditError::Json`] when the string is not JSON.
pub fn parse_cloudtrail_event(json: &str) -> Result<Option<AuditEvent>, AuditError> {
    let record: Value = serde_json::from_str(json).map_err(|source| AuditError::Json {
        what: "a LookupEvents CloudTrailEvent".into(),
        source,
    })?;
    Ok(parse_record(&record))
}

/// One page of a LookupEvents response, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct LookupPage {
    /// The events, in the order given (newest first).
    pub events: Vec<AuditEvent>,
    /// `NextToken`, when there are more pages.
    pub next_token: Option<String>,
}

/// Parses a LookupEvents response body (JSON 1.1:
/// `{"Events": [{"EventId", "EventName", "EventTime", "CloudTrailEvent", …}], "NextToken"}`,
/// <https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html>) — the
/// same records the SDK hands [`lookup_events`].
///
/// # Errors
/// [`AuditError`] when the body or an event's `CloudTrailEvent` is not JSON, or `Events` is not
/// an array.
pub fn parse_lookup_events_page(body: &str) -> Result<LookupPage, AuditError> {
    let page: Value = serde_json::from_str(body).map_err(|source| AuditError::Json {
        what: "the LookupEvents response".into(),
        source,
    })?;
    let events = page
        .get("Events")
        .and_then(Value::as_array)
        .ok_or_else(|| AuditError::Shape {
            what: "the LookupEvents response".into(),
            problem: "no `Events` array".into(),
        })?;
    let mut parsed = Vec::new();
    for event in events {
        if let Some(json) = event.get("CloudTrailEvent").and_then(Value::as_str)
            && let Some(e) = parse_cloudtrail_event(json)?
        {
            parsed.push(e);
        }
    }
    Ok(LookupPage {
        events: parsed,
        next_token: text(&page, "NextToken"),
    })
}

/// Parses a trail log file body: gzip (as delivered) or already decompressed JSON
/// `{"Records": [...]}`. Returns every record it can place, of every service.
///
/// # Errors
/// [`AuditError`] naming `what` (e.g. the object key) when the gzip stream or the JSON is bad.
pub fn parse_log_file(what: &str, body: &[u8]) -> Result<Vec<AuditEvent>, AuditError> {
    let json = if body.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(body)
            .read_to_end(&mut out)
            .map_err(|source| AuditError::Gzip {
                what: what.to_owned(),
                source,
            })?;
        out
    } else {
        body.to_vec()
    };
    let log: Value = serde_json::from_slice(&json).map_err(|source| AuditError::Json {
        what: what.to_owned(),
        source,
    })?;
    let records = log
        .get("Records")
        .and_then(Value::as_array)
        .ok_or_else(|| AuditError::Shape {
            what: what.to_owned(),
            problem: "no `Records` array: not a CloudTrail log file".into(),
        })?;
    Ok(records.iter().filter_map(parse_record).collect())
}

/// A time window in epoch seconds, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// The first second.
    pub start: i64,
    /// The last second.
    pub end: i64,
}

impl Window {
    /// The `seconds` before `now`, up to `now`.
    pub fn last(seconds: u64, now: i64) -> Self {
        Window {
            start: now.saturating_sub(i64::try_from(seconds).unwrap_or(i64::MAX)),
            end: now,
        }
    }

    /// Whether `epoch_seconds` falls in the window.
    pub fn contains(&self, epoch_seconds: i64) -> bool {
        (self.start..=self.end).contains(&epoch_seconds)
    }
}

/// Resolves the pseudo parameters of an `Fn::Sub` bucket-name template (`${AWS::AccountId}`,
/// `${AWS::Region}`) for one account and Region.
pub fn resolve_bucket_name(template: &str, account: &str, region: &str) -> String {
    template
        .replace("${AWS::AccountId}", account)
        .replace("${AWS::Region}", region)
}

/// What `argus audit` keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// The time window.
    pub window: Window,
    /// `--event`: only this operation.
    pub event: Option<String>,
    /// `--stage`: the stage's input bucket name template ([`StageConfig::input_bucket_name`]);
    /// only calls naming an image in it are kept.
    pub stage_bucket: Option<String>,
}

impl Filter {
    /// Whether a call is a Rekognition call that passes every condition.
    pub fn keep(&self, event: &AuditEvent) -> bool {
        event.event_source == REKOGNITION_EVENT_SOURCE
            && self.window.contains(event.epoch_seconds)
            && self.event.as_ref().is_none_or(|name| *name == event.event)
            && self.stage_bucket.as_ref().is_none_or(|template| {
                let name = resolve_bucket_name(
                    template,
                    event.account.as_deref().unwrap_or_default(),
                    &event.region,
                );
                event
                    .images
                    .iter()
                    .any(|i| i.bucket.as_deref() == Some(name.as_str()))
            })
    }
}

/// Keeps what `filter` keeps, drops repeated records (same `eventID`, as overlapping log files
/// can hold) and sorts newest first (ties by event ID, so the order is stable).
pub fn select(events: Vec<AuditEvent>, filter: &Filter) -> Vec<AuditEvent> {
    let mut seen = std::collections::HashSet::new();
    let mut kept: Vec<AuditEvent> = events
        .into_iter()
        .filter(|e| filter.keep(e))
        .filter(|e| e.event_id.as_ref().is_none_or(|id| seen.insert(id.clone())))
        .collect();
    kept.sort_by(|a, b| {
        b.epoch_seconds
            .cmp(&a.epoch_seconds)
            .then_with(|| a.event_id.cmp(&b.event_id))
    });
    kept
}

/// The table: TIME, EVENT, CALLER, IMAGE, RESULT, one call a line, in the given order; columns
/// padded to their widest cell, two spaces apart, no trailing spaces.
pub fn table(events: &[AuditEvent]) -> String {
    let header = ["TIME", "EVENT", "CALLER", "IMAGE", "RESULT"].map(str::to_owned);
    let rows: Vec<[String; 5]> = events
        .iter()
        .map(|e| {
            [
                e.time.clone(),
                e.event.clone(),
                e.caller.clone(),
                e.image.clone(),
                e.result.clone(),
            ]
        })
        .collect();
    argus_toolkit::table::table(&header, &rows)
}

/// The `--json` output: a pretty-printed JSON array of [`AuditEvent`]s, and a newline.
///
/// # Errors
/// Only if serialization fails, which plain strings and lists do not.
pub fn to_json(events: &[AuditEvent]) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(events).map(|s| s + "\n")
}

/// The line printed when nothing was found: `no Rekognition calls recorded in the last 1h`, with
/// the operation and the stage when they were given.
pub fn no_calls_message(since: &Since, event: Option<&str>, stage: Option<&str>) -> String {
    let what = match event {
        Some(event) => format!("no Rekognition {event} calls"),
        None => "no Rekognition calls".to_owned(),
    };
    let on = match stage {
        Some(stage) => format!(" on images in the {stage} stage's input bucket"),
        None => String::new(),
    };
    format!("{what}{on} recorded in the last {since}")
}

/// The summary under the table: how many calls, how many failed, the window and the source.
pub fn summary(events: &[AuditEvent], window: &Window, source: &str) -> String {
    let failed = events.iter().filter(|e| e.error_code.is_some()).count();
    format!(
        "{} Rekognition call{} ({failed} failed) from {} to {}, from {source}",
        events.len(),
        if events.len() == 1 { "" } else { "s" },
        iso_of(window.start),
        iso_of(window.end),
    )
}

/// The day folders of a trail's log files that cover `window`:
/// `AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/`, oldest first. (A file lands in the
/// folder of its delivery time, never before its events, so the window's days are enough.)
pub fn log_day_prefixes(account: &str, region: &str, window: &Window) -> Vec<String> {
    let day = 86_400;
    let first = window.start.div_euclid(day);
    let last = window.end.div_euclid(day);
    (first..=last)
        .map(|d| {
            let date = iso_of(d * day);
            let ymd = date.get(..10).unwrap_or_default().replace('-', "/");
            format!("AWSLogs/{account}/CloudTrail/{region}/{ymd}/")
        })
        .collect()
}

/// The delivery time in a log file's name
/// (`<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz`), in epoch seconds.
pub fn log_file_time(key: &str) -> Option<i64> {
    let name = key.rsplit('/').next()?;
    let stamp = name.split('_').nth(3)?;
    let b = stamp.as_bytes();
    if b.len() != 14 || b[8] != b'T' || b[13] != b'Z' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| {
        let s = stamp.get(r)?;
        s.chars().all(|c| c.is_ascii_digit()).then_some(s)
    };
    epoch_of(&format!(
        "{}-{}-{}T{}:{}:00Z",
        digits(0..4)?,
        digits(4..6)?,
        digits(6..8)?,
        digits(9..11)?,
        digits(11..13)?
    ))
}

/// Whether a log file named `key` may hold records of `window`: a `.json.gz` delivered at or
/// after the window's start (files hold only events from before their delivery). Files whose
/// name has no readable time are read.
pub fn log_file_in_window(key: &str, window: &Window) -> bool {
    key.ends_with(".json.gz") && log_file_time(key).is_none_or(|t| t >= window.start)
}

/// Every event LookupEvents returns for `attribute` in `window`, all pages, newest first.
///
/// # Errors
/// [`AuditError::Aws`] when CloudTrail cannot be reached or refuses; [`AuditError::Json`] when an
/// event is not JSON.
pub async fn lookup_events(
    aws: &AwsContext,
    attribute: LookupAttribute,
    window: &Window,
) -> Result<Vec<AuditEvent>, AuditError> {
    let client = aws_sdk_cloudtrail::Client::new(&aws.config);
    let mut pages = client
        .lookup_events()
        .lookup_attributes(attribute)
        .start_time(DateTime::from_secs(window.start))
        .end_time(DateTime::from_secs(window.end))
        .max_results(50)
        .into_paginator()
        .send();
    let mut events = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws.error("cloudtrail:LookupEvents", e))?;
        for event in page.events() {
            if let Some(json) = event.cloud_trail_event()
                && let Some(parsed) = parse_cloudtrail_event(json)?
            {
                events.push(parsed);
            }
        }
    }
    Ok(events)
}

/// Every record in the trail log files of `bucket` for `region` that may fall in `window` (all
/// accounts under `AWSLogs/`), and how many files were read.
///
/// # Errors
/// [`AuditError::Aws`] or [`AuditError::Read`] when S3 cannot be reached or refuses;
/// [`AuditError::Json`], [`AuditError::Shape`] or [`AuditError::Gzip`] when a file is not a
/// readable CloudTrail log file (naming its key).
pub async fn read_trail_logs(
    aws: &AwsContext,
    bucket: &str,
    region: &str,
    window: &Window,
) -> Result<(Vec<AuditEvent>, usize), AuditError> {
    let mut accounts = Vec::new();
    let mut listing = aws
        .s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix("AWSLogs/")
        .delimiter("/")
        .into_paginator()
        .send();
    while let Some(page) = listing.next().await {
        let page = page.map_err(|e| aws.error("s3:ListObjectsV2", e))?;
        for prefix in page.common_prefixes() {
            let account = prefix
                .prefix()
                .unwrap_or_default()
                .trim_start_matches("AWSLogs/")
                .trim_end_matches('/');
            if account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()) {
                accounts.push(account.to_owned());
            }
        }
    }
    let mut events = Vec::new();
    let mut files = 0;
    for account in &accounts {
        for prefix in log_day_prefixes(account, region, window) {
            let mut objects = aws
                .s3
                .list_objects_v2()
                .bucket(bucket)
                .prefix(&prefix)
                .into_paginator()
                .send();
            while let Some(page) = objects.next().await {
                let page = page.map_err(|e| aws.error("s3:ListObjectsV2", e))?;
                for object in page.contents() {
                    let Some(key) = object.key() else { continue };
                    if !log_file_in_window(key, window) {
                        continue;
                    }
                    let output = aws
                        .s3
                        .get_object()
                        .bucket(bucket)
                        .key(key)
                        .send()
                        .await
                        .map_err(|e| aws.error("s3:GetObject", e))?;
                    let body = output.body.collect().await.map_err(|e| AuditError::Read {
                        object: format!("s3://{bucket}/{key}"),
                        message: e.to_string(),
                        target: aws.target.clone(),
                    })?;
                    let what = format!("s3://{bucket}/{key}");
                    events.extend(parse_log_file(&what, &body.into_bytes())?);
                    files += 1;
                }
            }
        }
    }
    Ok((events, files))
}

/// The trail bucket: `bucket` when given, else the audit trail stack's `TrailBucketName` output.
///
/// # Errors
/// [`AuditError::NoTrail`] when the stack is not deployed; [`AuditError::Aws`].
pub async fn trail_bucket(aws: &AwsContext, bucket: Option<&str>) -> Result<String, AuditError> {
    if let Some(bucket) = bucket {
        return Ok(bucket.to_owned());
    }
    let state = describe_stack(aws, TRAIL_STACK_NAME).await?;
    match state.and_then(|s| s.outputs.get("TrailBucketName").cloned()) {
        Some(bucket) => Ok(bucket),
        None => Err(AuditError::NoTrail {
            region: aws.region().to_string(),
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn since_takes_seconds_minutes_hours_and_days() {
        assert_eq!(parse_since("30m").unwrap().seconds, 1_800);
        assert_eq!(parse_since("1h").unwrap().seconds, 3_600);
        assert_eq!(parse_since("2d").unwrap().seconds, 172_800);
        assert_eq!(parse_since("45s").unwrap().seconds, 45);
        assert_eq!(parse_since("90d").unwrap().seconds, MAX_SINCE_SECONDS);
        assert_eq!(parse_since("1h").unwrap().to_string(), "1h");
        for bad in [
            "",
            "h",
            "1",
            "1x",
            "1.5h",
            "-1h",
            "1 h",
            "0m",
            "91d",
            "1H",
            "99999999999999999999d",
        ] {
            assert!(parse_since(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn the_caller_is_the_arn_resource() {
        assert_eq!(
            caller_of(
                &json!({"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/r/s"})
            ),
            "assumed-role/r/s"
        );
        assert_eq!(
            caller_of(&json!({"arn": "arn:aws:iam::123456789012:root"})),
            "root"
        );
        assert_eq!(
            caller_of(&json!({"type": "AWSService", "invokedBy": "lambda.amazonaws.com"})),
            "lambda.amazonaws.com"
        );
        assert_eq!(caller_of(&Value::Null), "unknown");
    }

    #[test]
    fn log_file_names_carry_their_delivery_time() {
        let key = "AWSLogs/123456789012/CloudTrail/eu-west-1/2024/05/01/123456789012_CloudTrail_eu-west-1_20240501T1205Z_kJ9a7bCdEfGh1234.json.gz";
        assert_eq!(log_file_time(key), epoch_of("2024-05-01T12:05:00Z"));
        assert_eq!(log_file_time("AWSLogs/x/other.json.gz"), None);
        assert_eq!(
            log_file_time("a_CloudTrail_r_20240501X1205Z_u.json.gz"),
            None
        );
    }

    #[test]
    fn an_event_without_a_time_is_not_placed() {
        assert!(
            parse_record(
                &json!({"eventName": "DetectLabels", "eventSource": REKOGNITION_EVENT_SOURCE})
            )
            .is_none()
        );
        assert!(parse_cloudtrail_event("{not json").is_err());
    }
}
