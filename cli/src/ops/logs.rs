//! `argus logs`: the stage's function logs from CloudWatch Logs (FilterLogEvents over
//! `/aws/lambda/<physical name>`), and the rendering of log lines as columns — TIME, FUNCTION,
//! LEVEL, REQUEST ID, IMAGE, MESSAGE — shared with `argus invoke` for its log tail.
//!
//! The functions log JSON lines (`argus_runtime::logging`: tracing's JSON with the span's
//! `request_id`, `image_id`, `key` under `span`); the request ID is also read where Lambda's own
//! JSON log format puts it (`requestId`, `record.requestId` of `platform.*` events). Lines that
//! are not JSON objects (`START`, `END`, `REPORT`) are shown as they are.
//!
//! - FilterLogEvents: <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html>
//! - Filter pattern syntax (a quoted phrase matches exactly): <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html>
//! - Lambda JSON log format: <https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html>

use std::collections::HashSet;

use argus_stacks::config::StageConfig;
use argus_toolkit::aws::AwsContext;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use crate::cli::Failure;
use crate::ops::invoke::deployed_function;

/// One function's log group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionLogs {
    /// The function as `argus` names it (`processor`).
    pub function: String,
    /// Its log group, `/aws/lambda/<physical name>`.
    pub group: String,
}

/// One log event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEvent {
    /// The function that wrote it.
    pub function: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// The line, as the function wrote it (no trailing newline).
    pub message: String,
    /// The log stream.
    pub stream: String,
    /// CloudWatch's event ID (absent on some emulators).
    pub event_id: Option<String>,
}

impl LogEvent {
    /// What identifies the event across polls: its event ID, else stream, time and text.
    fn identity(&self) -> String {
        match &self.event_id {
            Some(id) => id.clone(),
            None => format!("{}\n{}\n{}", self.stream, self.timestamp_ms, self.message),
        }
    }
}

/// The log groups of `functions` (all the stage's functions when empty), resolved through the
/// stack.
///
/// # Errors
/// As [`deployed_function`].
pub async fn log_groups(
    aws: &AwsContext,
    config: &StageConfig,
    functions: &[&str],
) -> Result<Vec<FunctionLogs>, Failure> {
    let mut groups = Vec::new();
    for function in functions {
        let deployed = deployed_function(aws, config, function).await?;
        groups.push(FunctionLogs {
            function: deployed.name,
            group: format!("/aws/lambda/{}", deployed.physical_name),
        });
    }
    Ok(groups)
}

/// A FilterLogEvents pattern matching `text` exactly: the text as a quoted phrase.
pub fn filter_pattern(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Every event of `groups` from `start_ms` (inclusive) on, matching `filter` when given, oldest
/// first (FilterLogEvents, every page). A group that does not exist yet (no invocation so far)
/// has no events.
///
/// # Errors
/// [`Failure`] with code 3 when CloudWatch Logs cannot be reached or refuses the call.
pub async fn fetch(
    aws: &AwsContext,
    logs: &aws_sdk_cloudwatchlogs::Client,
    groups: &[FunctionLogs],
    start_ms: i64,
    filter: Option<&str>,
) -> Result<Vec<LogEvent>, Failure> {
    let mut events = Vec::new();
    for group in groups {
        let mut pages = logs
            .filter_log_events()
            .log_group_name(&group.group)
            .start_time(start_ms)
            .set_filter_pattern(filter.map(filter_pattern))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_not_found_exception()) =>
                {
                    break;
                }
                Err(e) => return Err(Failure::from(aws.error("logs:FilterLogEvents", e))),
            };
            for event in page.events() {
                events.push(LogEvent {
                    function: group.function.clone(),
                    timestamp_ms: event.timestamp().unwrap_or_default(),
                    message: event
                        .message()
                        .unwrap_or_default()
                        .trim_end_matches(['\n', '\r'])
                        .to_owned(),
                    stream: event.log_stream_name().unwrap_or_default().to_owned(),
                    event_id: event.event_id().map(str::to_owned),
                });
            }
        }
    }
    events.sort_by_key(|e| e.timestamp_ms);
    Ok(events)
}

/// What `--follow` has already shown, so each poll prints only new events.
#[derive(Debug, Default)]
pub struct Follow {
    /// The newest timestamp shown; the next poll starts there (inclusive).
    pub since_ms: i64,
    seen: HashSet<String>,
}

impl Follow {
    /// Starts following from `since_ms`.
    pub fn new(since_ms: i64) -> Self {
        Follow {
            since_ms,
            seen: HashSet::new(),
        }
    }

    /// The events of a poll not shown before; remembers them.
    pub fn new_events(&mut self, events: Vec<LogEvent>) -> Vec<LogEvent> {
        let newest = events
            .iter()
            .map(|e| e.timestamp_ms)
            .max()
            .unwrap_or(self.since_ms);
        let fresh: Vec<LogEvent> = events
            .into_iter()
            .filter(|e| !self.seen.contains(&e.identity()))
            .collect();
        if newest > self.since_ms {
            // Only events at the new starting millisecond can come back in the next poll.
            self.seen.clear();
            self.since_ms = newest;
        }
        for event in &fresh {
            if event.timestamp_ms == self.since_ms {
                self.seen.insert(event.identity());
            }
        }
        fresh
    }
}

/// The columns of one rendered line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    /// `INFO`, `WARN`, `ERROR`…; empty when the line has none.
    pub level: String,
    /// The Lambda request ID.
    pub request_id: String,
    /// The image ID (processor lines about one image).
    pub image_id: String,
    /// The message, then the other fields as `name=value`.
    pub message: String,
}

/// The header line of the table [`render`] writes rows of.
pub fn header() -> String {
    format!(
        "{:<24}  {:<9}  {:<5}  {:<36}  {:<32}  MESSAGE",
        "TIME", "FUNCTION", "LEVEL", "REQUEST ID", "IMAGE"
    )
}

/// One event as a row under [`header`]; a line that is not a JSON object is shown as it is
/// after the time and function.
pub fn render(event: &LogEvent) -> String {
    render_line(Some(event.timestamp_ms), &event.function, &event.message)
}

/// `line` of `function` as a row (time blank when unknown, as in a log tail).
pub fn render_line(timestamp_ms: Option<i64>, function: &str, line: &str) -> String {
    let time = timestamp_ms
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default();
    match columns(line) {
        Some(c) => format!(
            "{time:<24}  {function:<9}  {:<5}  {:<36}  {:<32}  {}",
            c.level, c.request_id, c.image_id, c.message
        )
        .trim_end()
        .to_owned(),
        None => format!("{time:<24}  {function:<9}  {line}")
            .trim_end()
            .to_owned(),
    }
}

/// The columns of a JSON log line; `None` for a line that is not a JSON object.
pub fn columns(line: &str) -> Option<Columns> {
    let Value::Object(object) = serde_json::from_str::<Value>(line.trim()).ok()? else {
        return None;
    };
    let span = object.get("span").and_then(Value::as_object);
    let record = object.get("record").and_then(Value::as_object);
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let request_id = text(object.get("request_id"))
        .or_else(|| text(object.get("requestId")))
        .or_else(|| text(object.get("AWSRequestId")))
        .or_else(|| text(span.and_then(|s| s.get("request_id"))))
        .or_else(|| text(record.and_then(|r| r.get("requestId"))))
        .unwrap_or_default();
    let image_id = text(object.get("image_id"))
        .or_else(|| text(span.and_then(|s| s.get("image_id"))))
        .unwrap_or_default();
    let level = text(object.get("level"))
        .map(|l| l.to_ascii_uppercase())
        .unwrap_or_default();

    const SHOWN: &[&str] = &[
        "level",
        "message",
        "request_id",
        "requestId",
        "AWSRequestId",
        "image_id",
        "span",
        "record",
        "type",
        "time",
        "timestamp",
        "target",
        "_aws",
    ];
    let mut message = text(object.get("message"))
        .or_else(|| text(object.get("type")))
        .unwrap_or_else(|| {
            if object.contains_key("_aws") {
                "metrics (EMF)".to_owned()
            } else {
                String::new()
            }
        });
    let mut fields = |map: &Map<String, Value>, skip: &[&str]| {
        for (name, value) in map {
            if skip.contains(&name.as_str()) {
                continue;
            }
            let value = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if !message.is_empty() {
                message.push(' ');
            }
            message.push_str(&format!("{name}={value}"));
        }
    };
    fields(&object, SHOWN);
    if let Some(record) = record {
        fields(record, &["requestId"]);
    }
    if let Some(span) = span {
        // lambda_runtime's own span repeats the request ID as `requestId`.
        fields(
            span,
            &["name", "request_id", "image_id", "requestId", "xrayTraceId"],
        );
    }
    Some(Columns {
        level,
        request_id,
        image_id,
        message,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const IMAGE_LINE: &str = r#"{"level":"INFO","message":"image recorded","outcome":"recorded","status":"PROCESSED","total_ms":41,"span":{"request_id":"8f0c4a6e-0d59-4d1b-9a7e-1c2f3a4b5c6d","message_id":"m-1","image_id":"0123456789abcdef0123456789abcdef","key":"incoming/cat.jpg","name":"image"}}"#;

    #[test]
    fn a_processor_line_gives_level_request_image_and_the_other_fields() {
        let c = columns(IMAGE_LINE).unwrap();
        assert_eq!(c.level, "INFO");
        assert_eq!(c.request_id, "8f0c4a6e-0d59-4d1b-9a7e-1c2f3a4b5c6d");
        assert_eq!(c.image_id, "0123456789abcdef0123456789abcdef");
        assert_eq!(
            c.message,
            "image recorded outcome=recorded status=PROCESSED total_ms=41 message_id=m-1 key=incoming/cat.jpg"
        );
    }

    #[test]
    fn request_ids_are_read_where_each_log_shape_puts_them() {
        let top =
            columns(r#"{"level":"INFO","message":"batch done","request_id":"r1","images":1,"span":{"requestId":"r1","xrayTraceId":"t","name":"Lambda runtime invoke"}}"#)
                .unwrap();
        assert_eq!((top.request_id.as_str(), top.image_id.as_str()), ("r1", ""));
        assert_eq!(top.message, "batch done images=1");
        let platform = columns(
            r#"{"time":"2026-12-02T04:00:00.000Z","type":"platform.start","record":{"requestId":"r2","version":"$LATEST"}}"#,
        )
        .unwrap();
        assert_eq!(platform.request_id, "r2");
        assert_eq!(platform.level, "");
        assert_eq!(platform.message, "platform.start version=$LATEST");
        let lambda =
            columns(r#"{"timestamp":"t","level":"warn","requestId":"r3","message":"m"}"#).unwrap();
        assert_eq!(
            (lambda.level.as_str(), lambda.request_id.as_str()),
            ("WARN", "r3")
        );
    }

    #[test]
    fn emf_lines_show_their_values_and_not_the_metadata() {
        let c = columns(r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"Stage":"local","ImagesProcessed":1}"#)
            .unwrap();
        assert_eq!(c.message, "metrics (EMF) Stage=local ImagesProcessed=1");
    }

    #[test]
    fn lines_that_are_not_json_objects_are_shown_as_they_are() {
        assert_eq!(columns("START RequestId: r Version: $LATEST"), None);
        assert_eq!(columns("[1,2]"), None);
        let row = render_line(Some(0), "processor", "END RequestId: r");
        assert_eq!(row, "1970-01-01T00:00:00.000Z  processor  END RequestId: r");
    }

    #[test]
    fn rows_line_up_under_the_header() {
        let row = render(&LogEvent {
            function: "processor".into(),
            timestamp_ms: 1_796_184_000_250,
            message: IMAGE_LINE.into(),
            stream: "s".into(),
            event_id: None,
        });
        let header = header();
        let column = |text: &str, name: &str| text.find(name).unwrap();
        assert_eq!(column(&header, "IMAGE"), column(&row, "0123456789abcdef"));
        assert_eq!(column(&header, "REQUEST ID"), column(&row, "8f0c4a6e"));
        assert_eq!(column(&header, "MESSAGE"), column(&row, "image recorded"));
        assert!(row.starts_with("2026-12-02T04:00:00.250Z  processor  INFO "));
    }

    #[test]
    fn the_filter_is_an_exact_phrase() {
        assert_eq!(filter_pattern("0123abcd"), "\"0123abcd\"");
        assert_eq!(filter_pattern(r#"say "hi""#), r#""say \"hi\"""#);
    }

    fn event(ts: i64, text: &str) -> LogEvent {
        LogEvent {
            function: "api".into(),
            timestamp_ms: ts,
            message: text.into(),
            stream: "s".into(),
            event_id: None,
        }
    }

    #[test]
    fn following_shows_each_event_once_even_when_a_poll_repeats_the_last_millisecond() {
        let mut follow = Follow::new(100);
        let first = follow.new_events(vec![event(100, "a"), event(105, "b"), event(105, "c")]);
        assert_eq!(first.len(), 3);
        assert_eq!(follow.since_ms, 105);
        // The next poll starts at 105 inclusive: b and c again, d new.
        let second = follow.new_events(vec![event(105, "b"), event(105, "c"), event(105, "d")]);
        assert_eq!(second, vec![event(105, "d")]);
        let third = follow.new_events(vec![event(105, "b"), event(105, "d"), event(110, "e")]);
        assert_eq!(third, vec![event(110, "e")]);
        assert_eq!(follow.new_events(vec![event(110, "e")]), vec![]);
    }
}
