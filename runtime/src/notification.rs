//! What an SQS message from the ingest queue holds: an S3 event notification (one or more
//! records) or the `s3:TestEvent` S3 sends when a notification is configured.
//!
//! Message format: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html>.

use aws_lambda_events::event::s3::S3Event;
use serde::Deserialize;
use thiserror::Error;

/// One uploaded object named by a notification record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRef {
    /// The bucket name.
    pub bucket: String,
    /// The object key, decoded (see [`decode_key`]).
    pub key: String,
    /// The version ID (versioned buckets).
    pub version_id: Option<String>,
    /// The ETag.
    pub e_tag: Option<String>,
    /// Size in bytes as the notification reports it.
    pub size: Option<i64>,
    /// e.g. `ObjectCreated:Put`.
    pub event_name: String,
}

/// What one SQS message body holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notification {
    /// `s3:TestEvent`: acknowledge and ignore.
    Test,
    /// Object records.
    Objects(Vec<ObjectRef>),
}

/// A message body that is neither.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum NotificationError {
    /// Not JSON, or JSON of another shape.
    #[error("not an S3 event notification: {0}")]
    Unrecognized(String),
    /// A key whose percent-decoding is not UTF-8.
    #[error("object key `{0}` does not decode to UTF-8")]
    BadKey(String),
    /// A record without bucket or key.
    #[error("a record has no {0}")]
    Missing(&'static str),
}

#[derive(Deserialize)]
struct TestEvent {
    #[serde(rename = "Event")]
    event: String,
}

/// Parses an SQS message body.
///
/// # Errors
/// [`NotificationError`] for bodies that are not S3 notifications, or records without a bucket
/// or key, or keys that do not decode.
pub fn parse(body: &str) -> Result<Notification, NotificationError> {
    if let Ok(test) = serde_json::from_str::<TestEvent>(body)
        && test.event == "s3:TestEvent"
    {
        return Ok(Notification::Test);
    }
    let event: S3Event =
        serde_json::from_str(body).map_err(|e| NotificationError::Unrecognized(e.to_string()))?;
    let mut objects = Vec::with_capacity(event.records.len());
    for record in event.records {
        let bucket = record
            .s3
            .bucket
            .name
            .ok_or(NotificationError::Missing("bucket"))?;
        let raw_key = record
            .s3
            .object
            .key
            .ok_or(NotificationError::Missing("key"))?;
        objects.push(ObjectRef {
            bucket,
            key: decode_key(&raw_key)?,
            version_id: record.s3.object.version_id.filter(|v| !v.is_empty()),
            e_tag: record.s3.object.e_tag,
            size: record.s3.object.size,
            event_name: record.event_name.unwrap_or_default(),
        });
    }
    Ok(Notification::Objects(objects))
}

/// Decodes an object key as S3 writes it into notifications: `+` is a space, then
/// percent-decoding, then UTF-8 (`my+photo%C3%A9.jpg` → `my photoé.jpg`).
///
/// # Errors
/// [`NotificationError::BadKey`] when the bytes are not UTF-8.
pub fn decode_key(raw: &str) -> Result<String, NotificationError> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| NotificationError::BadKey(raw.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_decode_plus_then_percent_then_utf8() {
        assert_eq!(
            decode_key("incoming/my+photo%C3%A9.jpg").unwrap(),
            "incoming/my photoé.jpg"
        );
        assert_eq!(
            decode_key("incoming/a%2Bb.JPG").unwrap(),
            "incoming/a+b.JPG"
        );
        assert_eq!(
            decode_key("incoming/IMG_0001.JPG").unwrap(),
            "incoming/IMG_0001.JPG"
        );
        assert!(matches!(
            decode_key("incoming/%FF.jpg"),
            Err(NotificationError::BadKey(_))
        ));
    }

    #[test]
    fn test_events_are_recognised() {
        let body = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-21T06:00:00.000Z","Bucket":"b","RequestId":"r","HostId":"h"}"#;
        assert_eq!(parse(body).unwrap(), Notification::Test);
    }

    #[test]
    fn object_records_are_parsed_with_decoded_keys() {
        let body = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-1",
            "eventTime":"2026-11-21T06:00:00.000Z","eventName":"ObjectCreated:Put",
            "userIdentity":{"principalId":"p"},"requestParameters":{"sourceIPAddress":"127.0.0.1"},
            "responseElements":{},"s3":{"s3SchemaVersion":"1.0","configurationId":"c",
            "bucket":{"name":"argus-beta-input","ownerIdentity":{"principalId":"p"},"arn":"arn:aws:s3:::argus-beta-input"},
            "object":{"key":"incoming/cat+photo.png","size":1024,"eTag":"abc","versionId":"v1","sequencer":"01"}}}]}"#;
        let Notification::Objects(objects) = parse(body).unwrap() else {
            panic!("expected objects")
        };
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0].key, "incoming/cat photo.png");
        assert_eq!(objects[0].bucket, "argus-beta-input");
        assert_eq!(objects[0].version_id.as_deref(), Some("v1"));
        assert_eq!(objects[0].size, Some(1024));
    }

    #[test]
    fn other_bodies_are_rejected() {
        assert!(matches!(
            parse("hello"),
            Err(NotificationError::Unrecognized(_))
        ));
        assert!(matches!(
            parse(r#"{"Event":"s3:Other"}"#),
            Err(NotificationError::Unrecognized(_))
        ));
    }
}
