//! The AWS SDK for Rust implementations of [`crate::services`]: S3, Rekognition, DynamoDB and
//! SNS clients built once from one `aws-config` load.
//!
//! Retries are the SDK's standard retry strategy
//! (<https://docs.aws.amazon.com/sdk-for-rust/latest/dg/retries.html>) with
//! [`MAX_ATTEMPTS`] attempts; what still fails is classified here from the error code and HTTP
//! status (<https://docs.aws.amazon.com/sdk-for-rust/latest/dg/error-handling.html>).
//! Endpoints come from the default chain, so `AWS_ENDPOINT_URL` and the service-specific
//! `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_REKOGNITION`, … point the clients at the local twin.
//!
//! The api function's services are here too: [`S3Presigner`] (the SDK's presigner) and
//! [`DynamoImageIndex`] (GetItem and the `ByProcessedAt` query), assembled by [`build_api`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_rekognition::types::{Image, TextTypes};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;

use crate::api::{
    self, Api, ApiSettings, ImageIndex, Lookup, Page, PageKey, Presigned, Presigner, ServiceError,
};
use crate::processor::Deps;
use crate::record::{
    BoundingBox, Face, ImageRecord, Label, LabelInstance, Landmark, ModerationLabel, Status,
};
use crate::services::{
    AlertTopic, CLAIMED, Claim, ClaimOutcome, DecisionEvent, DecisionLog, DecisionLogOutcome,
    Detected, FaceComparison, ItemState, ItemStatus, ObjectStore, PublishError, PutOutcome,
    Rekognition, RekognitionError, ResultsTable, S3Object, StoreError, StoredObject, SystemClock,
    TableError, TextLine,
};
use crate::settings::Settings;

/// Attempts per call, the first included (the SDK's standard retry mode, exponential backoff
/// with jitter, retrying throttling, 5xx, timeouts and connection errors).
pub const MAX_ATTEMPTS: u32 = 3;
/// Time to establish a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Time for one attempt of one call (Rekognition on a 15 MB image takes a few seconds).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);

/// Error codes that mean throttling, across S3, Rekognition, DynamoDB and SNS.
const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "LimitExceededException",
    "TooManyRequestsException",
    "SlowDown",
    "KMSThrottlingException",
];

/// Rekognition codes that say the image cannot be analysed.
const INVALID_IMAGE_CODES: &[&str] = &[
    "InvalidImageFormatException",
    "ImageTooLargeException",
    "InvalidParameterException",
    "InvalidS3ObjectException",
];

/// S3 codes that say the object is not there.
const NOT_FOUND_CODES: &[&str] = &["NoSuchKey", "NoSuchVersion", "NotFound", "NoSuchBucket"];

/// How a failed SDK call is to be treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// Throttling after the SDK's retries.
    Throttled,
    /// 5xx, timeouts, dispatch (connection) and response-parsing failures after the SDK's retries.
    Retryable,
    /// A service error that retrying does not fix; the caller maps its code.
    Other,
}

/// A classified SDK failure: class, error code (or the failure kind, e.g. `TimeoutError`) and
/// message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classified {
    /// The class.
    pub class: ErrorClass,
    /// The service's error code, or `TimeoutError`, `DispatchFailure`, `ResponseError`,
    /// `ConstructionFailure`.
    pub code: String,
    /// The service's message, or the error chain.
    pub message: String,
}

/// Classifies an SDK error: throttling codes (and HTTP 429) → Throttled; 5xx, timeouts, dispatch
/// and response failures → Retryable; other service errors and construction failures → Other.
pub fn classify<E>(err: &SdkError<E, HttpResponse>) -> Classified
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let context = || DisplayErrorContext(err).to_string();
    let (class, code, message) = match err {
        SdkError::TimeoutError(_) => (ErrorClass::Retryable, "TimeoutError".to_owned(), context()),
        SdkError::DispatchFailure(_) => (
            ErrorClass::Retryable,
            "DispatchFailure".to_owned(),
            context(),
        ),
        SdkError::ResponseError(_) => {
            (ErrorClass::Retryable, "ResponseError".to_owned(), context())
        }
        SdkError::ServiceError(service) => {
            let status = service.raw().status();
            let code = err
                .code()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("HTTP{}", status.as_u16()));
            let message = err.message().map(str::to_owned).unwrap_or_default();
            let class = if THROTTLING_CODES.contains(&code.as_str()) || status.as_u16() == 429 {
                ErrorClass::Throttled
            } else if status.is_server_error() {
                ErrorClass::Retryable
            } else {
                ErrorClass::Other
            };
            (class, code, message)
        }
        _ => (
            ErrorClass::Other,
            "ConstructionFailure".to_owned(),
            context(),
        ),
    };
    Classified {
        class,
        code,
        message,
    }
}

fn rekognition_error<E>(err: &SdkError<E, HttpResponse>) -> RekognitionError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let Classified {
        class,
        code,
        message,
    } = classify(err);
    match class {
        ErrorClass::Throttled => RekognitionError::Throttled { code, message },
        ErrorClass::Retryable => RekognitionError::Retryable { code, message },
        ErrorClass::Other if INVALID_IMAGE_CODES.contains(&code.as_str()) => {
            RekognitionError::InvalidImage { code, message }
        }
        ErrorClass::Other => RekognitionError::Other { code, message },
    }
}

fn table_error<E>(err: &SdkError<E, HttpResponse>) -> TableError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let Classified {
        class,
        code,
        message,
    } = classify(err);
    match class {
        ErrorClass::Throttled => TableError::Throttled { code, message },
        ErrorClass::Retryable => TableError::Retryable { code, message },
        ErrorClass::Other => TableError::Other { code, message },
    }
}

fn is_condition_failure<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    matches!(err, SdkError::ServiceError(_))
        && err.code() == Some("ConditionalCheckFailedException")
}

/// Whether the S3 client must use path-style addressing: when an endpoint override is set
/// (`AWS_ENDPOINT_URL` or `AWS_ENDPOINT_URL_S3`), as emulators serve `http://host/bucket/key`.
pub fn use_path_style(lookup: impl Fn(&str) -> Option<String>) -> bool {
    ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
        .iter()
        .any(|name| lookup(name).is_some_and(|v| !v.trim().is_empty()))
}

/// The HTTP client every AWS SDK client of the functions uses: hyper 1 with rustls and the
/// `ring` crypto provider, trusting the system's root certificates (plain `http://` endpoints,
/// such as the local twin's, work too). The SDK's default client would bring aws-lc-sys, a large
/// C build, into every Lambda bundle; the workspace turns the SDK's default features off instead.
/// See <https://docs.aws.amazon.com/sdk-for-rust/latest/dg/http.html>.
pub fn https_client() -> aws_sdk_s3::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// Loads the shared configuration once: the default credential/region/endpoint chain,
/// [`BehaviorVersion::latest`], standard retries with [`MAX_ATTEMPTS`], the timeouts above and
/// [`https_client`].
pub async fn load_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .build(),
        )
        .load()
        .await
}

/// The four clients, built once.
#[derive(Clone, Debug)]
pub struct Clients {
    /// S3 (path-style when an endpoint override is set).
    pub s3: aws_sdk_s3::Client,
    /// Rekognition.
    pub rekognition: aws_sdk_rekognition::Client,
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// SNS.
    pub sns: aws_sdk_sns::Client,
}

/// The S3 client of one loaded configuration, path-style when `path_style` (see
/// [`use_path_style`]); presigned URLs then have the form `<endpoint>/<bucket>/<key>?X-Amz-…`.
pub fn s3_client(config: &SdkConfig, path_style: bool) -> aws_sdk_s3::Client {
    let s3_config = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(path_style)
        .build();
    aws_sdk_s3::Client::from_conf(s3_config)
}

impl Clients {
    /// Builds the clients from one loaded configuration; `path_style` as [`use_path_style`].
    pub fn new(config: &SdkConfig, path_style: bool) -> Self {
        Clients {
            s3: s3_client(config, path_style),
            rekognition: aws_sdk_rekognition::Client::new(config),
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            sns: aws_sdk_sns::Client::new(config),
        }
    }

    /// The processor's dependencies backed by these clients and the system clock.
    pub fn deps(&self, settings: Settings) -> Deps {
        Deps {
            objects: Arc::new(S3Store {
                client: self.s3.clone(),
            }),
            rekognition: Arc::new(RekognitionService {
                client: self.rekognition.clone(),
            }),
            results: Arc::new(DynamoResults {
                client: self.dynamodb.clone(),
                table: settings.results_table.clone(),
            }),
            decision_log: Arc::new(DynamoDecisionLog {
                client: self.dynamodb.clone(),
                table: settings.decision_log_table.clone(),
            }),
            alerts: Arc::new(SnsTopic {
                client: self.sns.clone(),
                topic_arn: settings.alert_topic_arn.clone(),
            }),
            clock: Arc::new(SystemClock),
            settings,
        }
    }
}

/// [`ObjectStore`] on S3 GetObject.
#[derive(Clone, Debug)]
pub struct S3Store {
    /// The client.
    pub client: aws_sdk_s3::Client,
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn get_object(
        &self,
        object: &S3Object,
        max_bytes: u64,
    ) -> Result<StoredObject, StoreError> {
        let output = self
            .client
            .get_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .set_version_id(object.version_id.clone())
            .send()
            .await
            .map_err(|err| store_error(&err))?;
        let content_length =
            u64::try_from(output.content_length().unwrap_or_default()).unwrap_or(0);
        let version_id = output.version_id().map(str::to_owned);
        let e_tag = output.e_tag().map(str::to_owned);
        let too_large = |read: u64| StoredObject {
            content_length: read.max(content_length),
            version_id: version_id.clone(),
            e_tag: e_tag.clone(),
            body: None,
        };
        if content_length > max_bytes {
            return Ok(too_large(content_length));
        }
        // Read chunk by chunk into one buffer and stop past `max_bytes` whatever Content-Length
        // said (it may be missing or wrong): memory stays bounded by the limit, with one copy.
        let capacity = usize::try_from(content_length.min(max_bytes)).unwrap_or(0);
        let mut body = Vec::with_capacity(capacity);
        let mut stream = output.body;
        while let Some(chunk) = stream.try_next().await.map_err(|e| StoreError::Retryable {
            code: "BodyReadError".into(),
            message: DisplayErrorContext(&e).to_string(),
        })? {
            let read = (body.len() + chunk.len()) as u64;
            if read > max_bytes {
                return Ok(too_large(read));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(StoredObject {
            content_length: body.len() as u64,
            version_id,
            e_tag,
            body: Some(body),
        })
    }

    async fn delete_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(bucket)
            .key(key)
            .version_id(version_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|err| store_error(&err))
    }
}

/// An S3 failure as a [`StoreError`]: throttling and retryable failures are
/// [`StoreError::Retryable`], a 404 or a not-found code [`StoreError::NotFound`], the rest
/// [`StoreError::Other`].
fn store_error<E>(err: &SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let Classified {
        class,
        code,
        message,
    } = classify(err);
    let not_found = matches!(err, SdkError::ServiceError(s) if s.raw().status().as_u16() == 404)
        || NOT_FOUND_CODES.contains(&code.as_str());
    match class {
        ErrorClass::Throttled | ErrorClass::Retryable => StoreError::Retryable { code, message },
        ErrorClass::Other if not_found => StoreError::NotFound { code, message },
        ErrorClass::Other => StoreError::Other { code, message },
    }
}

/// [`Rekognition`] on the Rekognition image APIs.
#[derive(Clone, Debug)]
pub struct RekognitionService {
    /// The client.
    pub client: aws_sdk_rekognition::Client,
}

/// Rekognition's box (every side optional in the SDK) as the record's, missing sides 0.
fn bounding_box(b: &aws_sdk_rekognition::types::BoundingBox) -> BoundingBox {
    BoundingBox {
        width: b.width().unwrap_or_default(),
        height: b.height().unwrap_or_default(),
        left: b.left().unwrap_or_default(),
        top: b.top().unwrap_or_default(),
    }
}

fn image(object: &S3Object) -> Image {
    Image::builder()
        .s3_object(
            aws_sdk_rekognition::types::S3Object::builder()
                .bucket(&object.bucket)
                .name(&object.key)
                .set_version(object.version_id.clone())
                .build(),
        )
        .build()
}

#[async_trait]
impl Rekognition for RekognitionService {
    async fn detect_labels(
        &self,
        image_ref: &S3Object,
        max_labels: u32,
        min_confidence: f32,
    ) -> Result<Detected<Vec<Label>>, RekognitionError> {
        let output = self
            .client
            .detect_labels()
            .image(image(image_ref))
            .max_labels(i32::try_from(max_labels).unwrap_or(i32::MAX))
            .min_confidence(min_confidence)
            .send()
            .await
            .map_err(|e| rekognition_error(&e))?;
        let found = output
            .labels()
            .iter()
            .map(|l| Label {
                name: l.name().unwrap_or_default().to_owned(),
                confidence: l.confidence().unwrap_or_default(),
                parents: l
                    .parents()
                    .iter()
                    .filter_map(|p| p.name().map(str::to_owned))
                    .collect(),
                instances: l
                    .instances()
                    .iter()
                    .filter_map(|i| {
                        Some(LabelInstance {
                            confidence: i.confidence().unwrap_or_default(),
                            bounding_box: bounding_box(i.bounding_box()?),
                        })
                    })
                    .collect(),
            })
            .collect();
        Ok(Detected {
            found,
            model_version: output.label_model_version().map(str::to_owned),
        })
    }

    async fn detect_text(
        &self,
        image_ref: &S3Object,
    ) -> Result<Detected<Vec<TextLine>>, RekognitionError> {
        let output = self
            .client
            .detect_text()
            .image(image(image_ref))
            .send()
            .await
            .map_err(|e| rekognition_error(&e))?;
        let found = output
            .text_detections()
            .iter()
            .filter(|t| t.r#type() == Some(&TextTypes::Line))
            .map(|t| TextLine {
                text: t.detected_text().unwrap_or_default().to_owned(),
                confidence: t.confidence().unwrap_or_default(),
                bounding_box: t
                    .geometry()
                    .and_then(|g| g.bounding_box())
                    .map(bounding_box),
            })
            .collect();
        Ok(Detected {
            found,
            model_version: output.text_model_version().map(str::to_owned),
        })
    }

    async fn detect_faces(&self, image_ref: &S3Object) -> Result<Vec<Face>, RekognitionError> {
        let output = self
            .client
            .detect_faces()
            .image(image(image_ref))
            .send()
            .await
            .map_err(|e| rekognition_error(&e))?;
        Ok(output
            .face_details()
            .iter()
            .map(|f| Face {
                confidence: f.confidence().unwrap_or_default(),
                bounding_box: f.bounding_box().map(bounding_box).unwrap_or(BoundingBox {
                    width: 0.0,
                    height: 0.0,
                    left: 0.0,
                    top: 0.0,
                }),
                landmarks: f
                    .landmarks()
                    .iter()
                    .filter_map(|l| {
                        Some(Landmark {
                            kind: l.r#type()?.as_str().to_owned(),
                            x: l.x()?,
                            y: l.y()?,
                        })
                    })
                    .collect(),
            })
            .collect())
    }

    async fn detect_moderation_labels(
        &self,
        image_ref: &S3Object,
        min_confidence: f32,
    ) -> Result<Detected<Vec<ModerationLabel>>, RekognitionError> {
        let output = self
            .client
            .detect_moderation_labels()
            .image(image(image_ref))
            .min_confidence(min_confidence)
            .send()
            .await
            .map_err(|e| rekognition_error(&e))?;
        let found = output
            .moderation_labels()
            .iter()
            .map(|m| ModerationLabel {
                name: m.name().unwrap_or_default().to_owned(),
                confidence: m.confidence().unwrap_or_default(),
                parent_name: m.parent_name().filter(|p| !p.is_empty()).map(str::to_owned),
            })
            .collect();
        Ok(Detected {
            found,
            model_version: output.moderation_model_version().map(str::to_owned),
        })
    }

    async fn compare_faces(
        &self,
        source: &S3Object,
        target: &S3Object,
    ) -> Result<FaceComparison, RekognitionError> {
        let output = self
            .client
            .compare_faces()
            .source_image(image(source))
            .target_image(image(target))
            .similarity_threshold(0.0)
            .send()
            .await
            .map_err(|e| rekognition_error(&e))?;
        let matches = output.face_matches();
        Ok(FaceComparison {
            faces_in_target: matches.len() + output.unmatched_faces().len(),
            best_similarity: matches
                .iter()
                .filter_map(|m| m.similarity())
                .max_by(f32::total_cmp),
        })
    }
}

/// The results table's key attribute.
pub const RESULTS_KEY: &str = argus_contract::results::PARTITION_KEY;
/// Condition of [`ResultsTable::claim`].
pub const CLAIM_CONDITION: &str =
    "attribute_not_exists(imageId) OR (#status = :claimed AND claimExpiresAt < :now)";
/// Condition of [`ResultsTable::put_result`] and [`ResultsTable::release`].
pub const HOLDER_CONDITION: &str = "claimToken = :token";
/// Condition of [`ResultsTable::take_over`].
pub const TAKE_OVER_CONDITION: &str = "claimToken = :seen AND claimExpiresAt < :now";
/// Condition of [`DecisionLog::put_event`].
pub const DECISION_LOG_CONDITION: &str =
    "attribute_not_exists(imageId) AND attribute_not_exists(eventKey)";

/// [`ResultsTable`] on a DynamoDB table.
#[derive(Clone, Debug)]
pub struct DynamoResults {
    /// The client.
    pub client: aws_sdk_dynamodb::Client,
    /// The table name.
    pub table: String,
}

fn conversion_error(e: impl std::fmt::Display) -> TableError {
    TableError::Other {
        code: "ItemConversion".into(),
        message: e.to_string(),
    }
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

/// Reads the claim and record state of a results-table item.
///
/// # Errors
/// [`TableError::Other`] for an item without a known `status`, or a final item that does not
/// read as an [`ImageRecord`].
pub fn item_state(item: HashMap<String, AttributeValue>) -> Result<ItemState, TableError> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let claim_token = text("claimToken");
    let claim_expires_at = item
        .get("claimExpiresAt")
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let status = match text("status").as_deref() {
        Some(CLAIMED) => ItemStatus::Claimed,
        Some("PROCESSED") => ItemStatus::Done(Status::Processed),
        Some("REJECTED") => ItemStatus::Done(Status::Rejected),
        Some("FAILED") => ItemStatus::Done(Status::Failed),
        other => {
            return Err(conversion_error(format!(
                "results item has an unknown status {other:?}"
            )));
        }
    };
    let record = match status {
        ItemStatus::Claimed => None,
        ItemStatus::Done(_) => Some(ImageRecord::from_item(item).map_err(conversion_error)?),
    };
    Ok(ItemState {
        status,
        claim_token,
        claim_expires_at,
        record,
    })
}

#[async_trait]
impl ResultsTable for DynamoResults {
    async fn claim(&self, claim: &Claim, now: i64) -> Result<ClaimOutcome, TableError> {
        let item = serde_dynamo::aws_sdk_dynamodb_1::to_item(claim).map_err(conversion_error)?;
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(CLAIM_CONDITION)
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":claimed", s(CLAIMED))
            .expression_attribute_values(":now", n(now))
            .send()
            .await
        {
            Ok(_) => Ok(ClaimOutcome::Claimed),
            Err(e) if is_condition_failure(&e) => Ok(ClaimOutcome::Held),
            Err(e) => Err(table_error(&e)),
        }
    }

    async fn get_state(&self, image_id: &str) -> Result<Option<ItemState>, TableError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(RESULTS_KEY, s(image_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| table_error(&e))?;
        output.item.map(item_state).transpose()
    }

    async fn take_over(
        &self,
        claim: &Claim,
        seen_token: &str,
        now: i64,
    ) -> Result<bool, TableError> {
        match self
            .client
            .update_item()
            .table_name(&self.table)
            .key(RESULTS_KEY, s(&claim.image_id))
            .update_expression("SET claimToken = :token, claimExpiresAt = :expires")
            .condition_expression(TAKE_OVER_CONDITION)
            .expression_attribute_values(":token", s(&claim.claim_token))
            .expression_attribute_values(":expires", n(claim.claim_expires_at))
            .expression_attribute_values(":seen", s(seen_token))
            .expression_attribute_values(":now", n(now))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(table_error(&e)),
        }
    }

    async fn put_result(
        &self,
        record: &ImageRecord,
        claim: &Claim,
    ) -> Result<PutOutcome, TableError> {
        let mut item = record.to_item().map_err(conversion_error)?;
        item.insert("claimToken".into(), s(&claim.claim_token));
        item.insert("claimExpiresAt".into(), n(claim.claim_expires_at));
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(HOLDER_CONDITION)
            .expression_attribute_values(":token", s(&claim.claim_token))
            .send()
            .await
        {
            Ok(_) => Ok(PutOutcome::Written),
            Err(e) if is_condition_failure(&e) => Ok(PutOutcome::LostClaim),
            Err(e) => Err(table_error(&e)),
        }
    }

    async fn release(&self, claim: &Claim) -> Result<(), TableError> {
        match self
            .client
            .update_item()
            .table_name(&self.table)
            .key(RESULTS_KEY, s(&claim.image_id))
            .update_expression("SET claimExpiresAt = :zero")
            .condition_expression(HOLDER_CONDITION)
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":token", s(&claim.claim_token))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(table_error(&e)),
        }
    }
}

/// [`DecisionLog`] on a DynamoDB table (PutItem only).
#[derive(Clone, Debug)]
pub struct DynamoDecisionLog {
    /// The client.
    pub client: aws_sdk_dynamodb::Client,
    /// The table name.
    pub table: String,
}

#[async_trait]
impl DecisionLog for DynamoDecisionLog {
    async fn put_event(&self, event: &DecisionEvent) -> Result<DecisionLogOutcome, TableError> {
        let item = serde_dynamo::aws_sdk_dynamodb_1::to_item(event).map_err(conversion_error)?;
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(DECISION_LOG_CONDITION)
            .send()
            .await
        {
            Ok(_) => Ok(DecisionLogOutcome::Written),
            Err(e) if is_condition_failure(&e) => Ok(DecisionLogOutcome::AlreadyRecorded),
            Err(e) => Err(table_error(&e)),
        }
    }
}

/// [`AlertTopic`] on an SNS topic.
#[derive(Clone, Debug)]
pub struct SnsTopic {
    /// The client.
    pub client: aws_sdk_sns::Client,
    /// The topic ARN.
    pub topic_arn: String,
}

#[async_trait]
impl AlertTopic for SnsTopic {
    async fn publish(&self, subject: &str, message: &str) -> Result<String, PublishError> {
        let output = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject)
            .message(message)
            .send()
            .await
            .map_err(|e| {
                let Classified {
                    class,
                    code,
                    message,
                } = classify(&e);
                match class {
                    ErrorClass::Throttled | ErrorClass::Retryable => {
                        PublishError::Retryable { code, message }
                    }
                    ErrorClass::Other => PublishError::Other { code, message },
                }
            })?;
        Ok(output.message_id().unwrap_or_default().to_owned())
    }
}

/// A classified SDK failure as the API's [`ServiceError`]: throttling and retryable failures
/// are [`ServiceError::Unavailable`], the rest [`ServiceError::Failed`].
fn service_error<E>(err: &SdkError<E, HttpResponse>) -> ServiceError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let Classified {
        class,
        code,
        message,
    } = classify(err);
    match class {
        ErrorClass::Throttled | ErrorClass::Retryable => {
            ServiceError::Unavailable { code, message }
        }
        ErrorClass::Other => ServiceError::Failed { code, message },
    }
}

/// [`Presigner`] on the AWS SDK presigner (`aws_sdk_s3::presigning`,
/// <https://docs.aws.amazon.com/sdk-for-rust/latest/dg/presigned-urls.html>): SigV4 query-string
/// signatures made locally with the client's credentials, no network call.
#[derive(Clone, Debug)]
pub struct S3Presigner {
    /// The client (path-style against an endpoint override).
    pub client: aws_sdk_s3::Client,
}

fn presigned(request: &aws_sdk_s3::presigning::PresignedRequest) -> Presigned {
    Presigned {
        url: request.uri().to_owned(),
        method: request.method().to_owned(),
        headers: request
            .headers()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
            .collect(),
    }
}

fn presigning_config(expires_in: Duration) -> Result<PresigningConfig, ServiceError> {
    PresigningConfig::expires_in(expires_in).map_err(|e| ServiceError::Failed {
        code: "PresigningConfig".into(),
        message: e.to_string(),
    })
}

#[async_trait]
impl Presigner for S3Presigner {
    async fn presign_put(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<Presigned, ServiceError> {
        let length = i64::try_from(content_length).map_err(|_| ServiceError::Failed {
            code: "InvalidContentLength".into(),
            message: format!("content length {content_length} does not fit S3's Long"),
        })?;
        let request = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .if_none_match("*")
            .presigned(presigning_config(expires_in)?)
            .await
            .map_err(|e| service_error(&e))?;
        Ok(presigned(&request))
    }

    async fn presign_get(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        download: &api::Download,
        expires_in: Duration,
    ) -> Result<Presigned, ServiceError> {
        let request = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_owned))
            .response_content_type(&download.content_type)
            .response_content_disposition(&download.content_disposition)
            .presigned(presigning_config(expires_in)?)
            .await
            .map_err(|e| service_error(&e))?;
        Ok(presigned(&request))
    }
}

/// [`ImageIndex`] on the results table: GetItem (eventually consistent) and Query on the
/// `ByProcessedAt` index.
#[derive(Clone, Debug)]
pub struct DynamoImageIndex {
    /// The client.
    pub client: aws_sdk_dynamodb::Client,
    /// The results table name.
    pub table: String,
    /// The listing index, [`api::BY_PROCESSED_AT_INDEX`].
    pub index: String,
}

#[async_trait]
impl ImageIndex for DynamoImageIndex {
    async fn list(
        &self,
        stage: &str,
        limit: u32,
        start: Option<&PageKey>,
    ) -> Result<Page, ServiceError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(&self.index)
            .key_condition_expression("#stage = :stage")
            .expression_attribute_names("#stage", "stage")
            .expression_attribute_values(":stage", s(stage))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start.map(api::page_key_to_item))
            .send()
            .await
            .map_err(|e| match service_error(&e) {
                ServiceError::Failed { code, message }
                    if start.is_some() && code == "ValidationException" =>
                {
                    ServiceError::InvalidStartKey { code, message }
                }
                other => other,
            })?;
        let mut items = Vec::with_capacity(output.items().len());
        for item in output.items() {
            match api::summary_from_item(item.clone()) {
                Ok(summary) => items.push(summary),
                // One malformed item must not hide the others.
                Err(e) => tracing::error!(error = %e, "listing item skipped: it does not read"),
            }
        }
        let next = output
            .last_evaluated_key()
            .map(api::page_key_from_item)
            .transpose()?;
        Ok(Page { items, next })
    }

    async fn get(&self, image_id: &str) -> Result<Option<Lookup>, ServiceError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(RESULTS_KEY, s(image_id))
            .send()
            .await
            .map_err(|e| service_error(&e))?;
        output.item.map(api::lookup_from_item).transpose()
    }
}

/// The api function on the given clients (built once in `main` from one `aws-config` load):
/// the S3 client presigns, the DynamoDB client reads the results table named in `settings`.
pub fn build_api(
    settings: ApiSettings,
    s3: &aws_sdk_s3::Client,
    dynamodb: &aws_sdk_dynamodb::Client,
) -> Api {
    Api {
        index: Arc::new(DynamoImageIndex {
            client: dynamodb.clone(),
            table: settings.results_table.clone(),
            index: api::BY_PROCESSED_AT_INDEX.to_owned(),
        }),
        presigner: Arc::new(S3Presigner { client: s3.clone() }),
        settings,
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_rekognition::operation::detect_labels::DetectLabelsError;
    use aws_sdk_s3::error::ErrorMetadata;
    use aws_sdk_s3::primitives::SdkBody;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    fn service_error(code: &str, status: u16) -> SdkError<DetectLabelsError, HttpResponse> {
        let err = DetectLabelsError::generic(
            ErrorMetadata::builder()
                .code(code)
                .message("the message")
                .build(),
        );
        let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        SdkError::service_error(err, raw)
    }

    #[test]
    fn throttling_codes_are_throttled() {
        for code in [
            "ThrottlingException",
            "ProvisionedThroughputExceededException",
        ] {
            assert_eq!(
                rekognition_error(&service_error(code, 400)),
                RekognitionError::Throttled {
                    code: code.into(),
                    message: "the message".into()
                }
            );
        }
        assert!(matches!(
            rekognition_error(&service_error("Whatever", 429)),
            RekognitionError::Throttled { .. }
        ));
    }

    #[test]
    fn server_errors_and_timeouts_are_retryable() {
        assert!(matches!(
            rekognition_error(&service_error("InternalServerError", 500)),
            RekognitionError::Retryable { .. }
        ));
        let timeout: SdkError<DetectLabelsError, HttpResponse> =
            SdkError::timeout_error("attempt timed out");
        assert_eq!(classify(&timeout).class, ErrorClass::Retryable);
        assert_eq!(classify(&timeout).code, "TimeoutError");
    }

    #[test]
    fn bad_images_are_invalid_images_and_the_rest_is_other() {
        for code in INVALID_IMAGE_CODES {
            assert!(matches!(
                rekognition_error(&service_error(code, 400)),
                RekognitionError::InvalidImage { code: c, .. } if c == *code
            ));
        }
        assert!(matches!(
            rekognition_error(&service_error("AccessDeniedException", 403)),
            RekognitionError::Other { .. }
        ));
    }

    #[test]
    fn conditional_check_failures_are_recognised() {
        assert!(is_condition_failure(&service_error(
            "ConditionalCheckFailedException",
            400
        )));
        assert!(!is_condition_failure(&service_error(
            "ValidationException",
            400
        )));
    }

    #[test]
    fn path_style_follows_endpoint_overrides() {
        assert!(!use_path_style(|_| None));
        assert!(use_path_style(
            |n| (n == "AWS_ENDPOINT_URL").then(|| "http://127.0.0.1:4566".to_owned())
        ));
        assert!(use_path_style(
            |n| (n == "AWS_ENDPOINT_URL_S3").then(|| "http://127.0.0.1:4566".to_owned())
        ));
        assert!(!use_path_style(
            |n| (n == "AWS_ENDPOINT_URL").then(String::new)
        ));
    }

    #[test]
    fn claim_items_have_the_claim_shape() {
        let claim = Claim {
            image_id: "id".into(),
            status: CLAIMED,
            claim_token: "req/msg".into(),
            claim_expires_at: 1_795_240_865,
            bucket: "b".into(),
            object_key: "incoming/a.png".into(),
            version_id: None,
            expires_at: 1_795_845_600,
        };
        let item: HashMap<String, AttributeValue> =
            serde_dynamo::aws_sdk_dynamodb_1::to_item(&claim).unwrap();
        assert_eq!(item["imageId"], s("id"));
        assert_eq!(item["status"], s("CLAIMED"));
        assert_eq!(item["claimToken"], s("req/msg"));
        assert_eq!(item["claimExpiresAt"], n(1_795_240_865));
        assert_eq!(item["expires_at"], n(1_795_845_600));
        assert!(!item.contains_key("versionId"));
        let state = item_state(item).unwrap();
        assert_eq!(state.status, ItemStatus::Claimed);
        assert_eq!(state.claim_expires_at, Some(1_795_240_865));
        assert_eq!(state.record, None);
    }

    #[test]
    fn final_items_read_back_with_their_lease() {
        let record = ImageRecord::new(
            "id",
            "b",
            "incoming/a.png",
            "beta",
            Status::Rejected,
            chrono::DateTime::from_timestamp(1_795_240_800, 0).unwrap(),
            168,
        );
        let mut item = record.to_item().unwrap();
        item.insert("claimToken".into(), s("t"));
        item.insert("claimExpiresAt".into(), n(0));
        let state = item_state(item).unwrap();
        assert_eq!(state.status, ItemStatus::Done(Status::Rejected));
        assert_eq!(state.claim_token.as_deref(), Some("t"));
        assert_eq!(state.claim_expires_at, Some(0));
        assert_eq!(state.record, Some(record));
        assert!(item_state(HashMap::from([("imageId".into(), s("x"))])).is_err());
    }

    /// An S3 endpoint on loopback that answers every GetObject with `chunks` chunks of 1 MiB and
    /// no Content-Length (chunked transfer encoding); returns its URL.
    async fn chunked_s3(chunks: usize) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buf).await.unwrap();
                request.extend_from_slice(&buf[..n]);
            }
            let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nx-amz-version-id: v1\r\nContent-Type: image/png\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![0u8; 1024 * 1024];
            for _ in 0..chunks {
                let framed =
                    [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
                if socket.write_all(&framed).await.is_err() {
                    return; // the client stopped reading: what the limit is for
                }
            }
            let _ = socket.write_all(b"0\r\n\r\n").await;
        });
        url
    }

    fn store_at(url: &str) -> S3Store {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .http_client(super::https_client())
            .endpoint_url(url)
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .force_path_style(true)
            .build();
        S3Store {
            client: aws_sdk_s3::Client::from_conf(config),
        }
    }

    #[tokio::test]
    async fn the_s3_read_stops_past_the_limit_when_no_content_length_is_given() {
        let object = S3Object {
            bucket: "input".into(),
            key: "incoming/big.png".into(),
            version_id: None,
        };
        let limit = 3 * 1024 * 1024;
        let url = chunked_s3(40).await;
        let stored = store_at(&url).get_object(&object, limit).await.unwrap();
        assert!(stored.body.is_none(), "over the limit: no body kept");
        assert!(
            stored.content_length > limit && stored.content_length <= limit + 1024 * 1024,
            "stopped at the first chunk past the limit, not after 40 MiB: {}",
            stored.content_length
        );
        let url = chunked_s3(2).await;
        let stored = store_at(&url).get_object(&object, limit).await.unwrap();
        assert_eq!(stored.body.map(|b| b.len()), Some(2 * 1024 * 1024));
        assert_eq!(stored.version_id.as_deref(), Some("v1"));
    }
}
