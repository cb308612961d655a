//! The `api` Lambda function behind the stage's API Gateway HTTP API (payload format 2.0,
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html>):
//! presigned uploads into the input bucket, and the results table read back.
//!
//! # Routes
//!
//! | Route | Success | Body |
//! |---|---|---|
//! | `POST /uploads` | 201 | [`UploadResponse`] |
//! | `GET /images?limit=&nextToken=` | 200 | [`ImageList`] |
//! | `GET /images/{imageId}` | 200 | the full [`ImageRecord`] plus `downloadUrl`, `downloadExpiresInSeconds` |
//!
//! **`POST /uploads`**, `Content-Type: application/json` (or no content type),
//! body `{"filename": "cat.jpg", "contentType": "image/jpeg", "size": 52133}` (at most
//! [`MAX_BODY_BYTES`]); `size` is the file's length in bytes, 1..=[`MAX_UPLOAD_BYTES`].
//! `contentType` is `image/jpeg` with a `.jpg`/`.jpeg` filename or `image/png` with `.png`
//! (both compared case-insensitively); the filename has at most [`MAX_FILENAME_CHARS`]
//! characters, only letters, digits, spaces and `. _ - ( )` ([`is_filename_char`]), and no `..`.
//! The answer is a presigned S3 PutObject
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/PresignedUrlUploadObject.html>) valid
//! for [`URL_EXPIRES_SECS`] seconds that writes once and exactly `size` bytes: the client sends
//! `PUT uploadUrl` with exactly the `uploadHeaders` (`content-type`, `content-length`,
//! `if-none-match: *`, all signed) and the bytes. S3 refuses a body of another length
//! (403, the signature does not match) and a second PUT of the URL (412, the key exists); the
//! input bucket's policy refuses writes under the prefix without `If-None-Match`. The key is
//! `<ARGUS_INPUT_PREFIX><UUID v7>/<filename>`: time-sortable, unique, under the prefix the
//! processor watches.
//!
//! **The image ID is not in the upload answer**: a record's `imageId` ([`crate::record::image_id`]) is
//! derived from the bucket, the key and the object's *version ID*, which S3 assigns only when the
//! PUT succeeds (the input bucket is versioned). A client finds its image either
//! - by computing the ID from the PUT answer's `x-amz-version-id` header:
//!   `imageId = hex(SHA-256("{bucket}\n{objectKey}\n{versionId}"))[..32]` (for an unversioned
//!   bucket the ETag without quotes takes the version's place), then polling
//!   `GET /images/{imageId}` (404 `Processing`, then 200); or
//! - by looking for its `objectKey` in `GET /images` (newest first, so it is on the first page
//!   shortly after the upload).
//!
//! **`GET /images`**: newest first from the `ByProcessedAt` index (partition `stage`, sort
//! `processedAt`, `ScanIndexForward=false`,
//! <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html>), metadata
//! only ([`ImageSummary`]: never labels, OCR text or faces). `limit` is 1..=[`MAX_LIMIT`]
//! (default [`DEFAULT_LIMIT`]). `nextToken` is opaque: pass back the `nextToken` of the previous
//! page; its absence in an answer means the last page. As with any DynamoDB query, a page can
//! end exactly at the last item, in which case the next page is empty.
//!
//! **`GET /images/{imageId}`**: the record as stored (the field names of [`ImageRecord`], e.g.
//! `imageId`, `objectKey`, `labels`, `ocrText`, `expires_at`) plus `downloadUrl`, a presigned
//! GetObject of the analysed version valid for [`URL_EXPIRES_SECS`] seconds.
//!
//! # Errors
//!
//! Every error answer is JSON `{"error": "<Code>", "message": "<sentence>", "requestId":
//! "<Lambda request ID>"}` ([`ErrorBody`]):
//!
//! | Status | `error` | When |
//! |---|---|---|
//! | 400 | `InvalidJson` | the body is not JSON (or not UTF-8, or base64 that does not decode) |
//! | 400 | `InvalidRequest` | a field is missing or has the wrong type; a bad filename; body too large |
//! | 400 | `UnsupportedContentType` | `contentType` is not `image/jpeg`/`image/png`, or does not match the extension; the request's `Content-Type` header is not JSON |
//! | 400 | `InvalidLimit` | `limit` is not an integer in 1..=100 |
//! | 400 | `InvalidNextToken` | `nextToken` was not issued by this API for this stage |
//! | 404 | `NotFound` | unknown route, or no image with that ID |
//! | 404 | `Processing` | the image is claimed by the processor and has no record yet |
//! | 405 | `MethodNotAllowed` | a known path with another method (`Allow` header lists the one accepted) |
//! | 500 | `InternalError` | an AWS call failed for another reason (details in the log) |
//! | 503 | `ServiceUnavailable` | throttling, 5xx or timeouts from AWS after the SDK's retries |
//!
//! A client mistake is never a 5xx. Every answer carries `cache-control: no-store` (the
//! presigned URLs are credentials for 300 s).
//!
//! # Environment
//!
//! | Variable | Meaning |
//! |---|---|
//! | `ARGUS_STAGE` | Stage name: the `ByProcessedAt` partition listed, and checked in tokens |
//! | `ARGUS_RESULTS_TABLE` | Results table name (GetItem, Query on `ByProcessedAt`) |
//! | `ARGUS_INPUT_BUCKET` | Input bucket name (presigned PutObject and GetObject) |
//! | `ARGUS_INPUT_PREFIX` | Upload key prefix, e.g. `incoming/` (the processor's prefix) |
//!
//! The function's role needs `s3:PutObject` on `<bucket>/<prefix>*`, `s3:GetObject` and
//! `s3:GetObjectVersion` on `<bucket>/<prefix>*`, `dynamodb:GetItem` on the table and
//! `dynamodb:Query` on `<table>/index/ByProcessedAt`. A presigned URL is only as valid as the
//! credentials that signed it: the Lambda role's session lasts longer than 300 s.
//!
//! # Logs
//!
//! One JSON line per request (`request_id` = the Lambda request ID, `api_request_id` = API
//! Gateway's, method, path, status, error code, `duration_ms`); AWS failures are logged with
//! their code and message before the generic 5xx answer.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderMap, HeaderValue, Method, header};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use thiserror::Error;
use tracing::Instrument;

use crate::record::{AlertRecord, Decision, ImageRecord, Status};
use crate::settings::SettingsError;

/// Lifetime of every presigned URL the API hands out: 300 s.
pub const URL_EXPIRES_SECS: u64 = 300;
/// `limit` when the query has none.
pub const DEFAULT_LIMIT: u32 = 20;
/// Largest `limit`.
pub const MAX_LIMIT: u32 = 100;
/// Largest upload, in bytes: 15 MiB, the processor's limit ([`crate::inspect::MAX_BYTES`],
/// Rekognition's for an image in S3).
pub const MAX_UPLOAD_BYTES: u64 = crate::inspect::MAX_BYTES;
/// Longest accepted filename, in characters.
pub const MAX_FILENAME_CHARS: usize = 200;
/// Largest `POST /uploads` body, in bytes (after base64 decoding).
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Longest accepted `nextToken`, in characters.
pub const MAX_TOKEN_CHARS: usize = 2048;
/// The results table's listing index: partition `stage`, sort `processedAt` (named in
/// argus-contract, which the pipeline stack also reads).
pub use argus_contract::results::BY_PROCESSED_AT_INDEX;

// ------------------------------------------------------------------------------------ settings

/// The api function's settings, from the environment the `argus-<stage>` stack sets (see the
/// module documentation's table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiSettings {
    /// Stage name (`ARGUS_STAGE`).
    pub stage: String,
    /// Results table name (`ARGUS_RESULTS_TABLE`).
    pub results_table: String,
    /// Input bucket name (`ARGUS_INPUT_BUCKET`).
    pub input_bucket: String,
    /// Upload key prefix, e.g. `incoming/` (`ARGUS_INPUT_PREFIX`).
    pub input_prefix: String,
}

impl ApiSettings {
    /// Reads the settings from a variable lookup (`std::env::var` in the function).
    ///
    /// # Errors
    /// [`SettingsError::Missing`] naming the first variable that is unset or empty.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let get = |name: &'static str| {
            lookup(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(SettingsError::Missing(name))
        };
        Ok(ApiSettings {
            stage: get(argus_contract::env::STAGE)?,
            results_table: get(argus_contract::env::RESULTS_TABLE)?,
            input_bucket: get(argus_contract::env::INPUT_BUCKET)?,
            input_prefix: get(argus_contract::env::INPUT_PREFIX)?,
        })
    }

    /// Reads the settings from the process environment.
    ///
    /// # Errors
    /// As [`ApiSettings::from_lookup`].
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

// ------------------------------------------------------------------------------------ services

/// An AWS call that failed, classified for the HTTP status.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ServiceError {
    /// Throttling, 5xx, timeouts or connection failures after the SDK's retries → 503.
    #[error("{code}: {message}")]
    Unavailable {
        /// The error code (or `TimeoutError`, `DispatchFailure`).
        code: String,
        /// The service's message.
        message: String,
    },
    /// DynamoDB rejected the `ExclusiveStartKey` built from a client's token
    /// (`ValidationException`) → 400 `InvalidNextToken`.
    #[error("{code}: {message}")]
    InvalidStartKey {
        /// The error code.
        code: String,
        /// The service's message.
        message: String,
    },
    /// Anything else (access denied, a missing table, an item that does not read) → 500.
    #[error("{code}: {message}")]
    Failed {
        /// The error code.
        code: String,
        /// The service's message.
        message: String,
    },
}

/// A presigned HTTP request: what the client sends, with no AWS credentials of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Presigned {
    /// The URL, signature in the query string (SigV4,
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>).
    pub url: String,
    /// `PUT` or `GET`.
    pub method: String,
    /// Headers the client must send as they are (they are signed), lowercase names.
    pub headers: BTreeMap<String, String>,
}

/// Presigns S3 requests (the SDK presigner, no network call).
#[async_trait]
pub trait Presigner: Send + Sync {
    /// A PutObject of `bucket`/`key`, valid for `expires_in`, with these headers signed:
    /// `content-type: <content_type>`, `content-length: <content_length>` (S3 refuses a body of
    /// another length: the signature no longer matches) and `if-none-match: *` (a conditional
    /// write: S3 refuses it with 412 once the key exists, so the URL writes once,
    /// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html>).
    ///
    /// # Errors
    /// [`ServiceError::Failed`] when the request cannot be built or signed (e.g. no credentials).
    async fn presign_put(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<Presigned, ServiceError>;

    /// A GetObject of `bucket`/`key` (the given version, else the current one), valid for
    /// `expires_in`, whose response S3 serves with the headers `download` names
    /// (`response-content-type`, `response-content-disposition`, signed into the URL:
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html>).
    ///
    /// # Errors
    /// As [`Presigner::presign_put`].
    async fn presign_get(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        download: &Download,
        expires_in: Duration,
    ) -> Result<Presigned, ServiceError>;
}

/// How S3 serves a download: the stored content type, and as an attachment, never rendered
/// inline by a browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Download {
    /// `Content-Type` of the response: the type the magic bytes gave (`image/jpeg`, `image/png`).
    pub content_type: String,
    /// `Content-Disposition` of the response: `attachment; filename="…"; filename*=UTF-8''…`
    /// (RFC 6266), from [`Download::attachment`].
    pub content_disposition: String,
}

impl Download {
    /// An attachment named after the key's last segment: `filename` keeps only ASCII
    /// [`is_filename_char`] characters (others become `_`), `filename*` carries the name
    /// percent-encoded as UTF-8 (RFC 8187).
    pub fn attachment(key: &str, content_type: &str) -> Self {
        let name = key.rsplit('/').next().unwrap_or(key);
        let ascii: String = name
            .chars()
            .map(|c| {
                if c.is_ascii() && is_filename_char(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let encoded =
            percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
        Download {
            content_type: content_type.to_owned(),
            content_disposition: format!(
                "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
            ),
        }
    }
}

/// One listing entry: the attributes the `ByProcessedAt` index projects (its keys `imageId`,
/// `stage`, `processedAt`, and `objectKey`, `status`, `sizeBytes`, `contentType`, `sha256`,
/// `alert`, `decision`, `expires_at`). Any other attribute an item carries is dropped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageSummary {
    /// The image ID.
    pub image_id: String,
    /// Stage name.
    pub stage: String,
    /// ISO 8601 UTC, second precision.
    pub processed_at: String,
    /// Object key in the input bucket.
    pub object_key: String,
    /// PROCESSED, REJECTED or FAILED.
    pub status: Status,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// MIME type from the magic bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// SHA-256 of the bytes, lowercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The weapon alert, when the policy fired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<AlertRecord>,
    /// The face decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// DynamoDB TTL, epoch seconds.
    #[serde(
        rename = "expires_at",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_at: Option<i64>,
}

/// Where a page of the listing starts: the index's `LastEvaluatedKey` (the table key plus the
/// index key), also the JSON inside a `nextToken`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PageKey {
    /// `imageId` of the last item of the previous page.
    pub image_id: String,
    /// Its `stage`.
    pub stage: String,
    /// Its `processedAt`.
    pub processed_at: String,
}

/// A page of the listing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    /// Newest first.
    pub items: Vec<ImageSummary>,
    /// Where the next page starts; `None` after the last page.
    pub next: Option<PageKey>,
}

/// What the results table holds for an image ID.
#[derive(Clone, Debug, PartialEq)]
pub enum Lookup {
    /// A final record.
    Record(Box<ImageRecord>),
    /// A claim: the processor is working on it.
    Processing,
}

/// The results table as the API reads it.
#[async_trait]
pub trait ImageIndex: Send + Sync {
    /// One page of the stage's images, newest first, at most `limit` items, starting after
    /// `start` (Query on [`BY_PROCESSED_AT_INDEX`], `ScanIndexForward=false`).
    ///
    /// # Errors
    /// [`ServiceError`], classified.
    async fn list(
        &self,
        stage: &str,
        limit: u32,
        start: Option<&PageKey>,
    ) -> Result<Page, ServiceError>;

    /// The item of `image_id` (GetItem); `None` when there is none.
    ///
    /// # Errors
    /// [`ServiceError`], classified; [`ServiceError::Failed`] for an item that does not read.
    async fn get(&self, image_id: &str) -> Result<Option<Lookup>, ServiceError>;
}

/// The api function: settings and services, built once per execution environment.
#[derive(Clone)]
pub struct Api {
    /// Settings.
    pub settings: ApiSettings,
    /// The results table.
    pub index: Arc<dyn ImageIndex>,
    /// The S3 presigner.
    pub presigner: Arc<dyn Presigner>,
}

// ------------------------------------------------------------------------------------ errors

/// A request that gets an error answer (see the module documentation's table).
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ApiError {
    /// 400.
    #[error("{code}: {message}")]
    BadRequest {
        /// `InvalidJson`, `InvalidRequest`, `UnsupportedContentType`, `InvalidLimit`,
        /// `InvalidNextToken`.
        code: &'static str,
        /// What is wrong, for the caller.
        message: String,
    },
    /// 404.
    #[error("{code}: {message}")]
    NotFound {
        /// `NotFound` or `Processing`.
        code: &'static str,
        /// What was not found.
        message: String,
    },
    /// 405, with the `Allow` header.
    #[error("MethodNotAllowed: {method} {path}")]
    MethodNotAllowed {
        /// The method sent.
        method: String,
        /// The path.
        path: String,
        /// The method the path accepts.
        allow: &'static str,
    },
    /// 500 (details logged, not answered).
    #[error("InternalError: {0}")]
    Internal(String),
    /// 503 (details logged, not answered).
    #[error("ServiceUnavailable: {0}")]
    Unavailable(String),
}

impl ApiError {
    fn bad(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest { .. } => 400,
            ApiError::NotFound { .. } => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::Internal(_) => 500,
            ApiError::Unavailable(_) => 503,
        }
    }

    /// The `error` code of the body.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. } | ApiError::NotFound { code, .. } => code,
            ApiError::MethodNotAllowed { .. } => "MethodNotAllowed",
            ApiError::Internal(_) => "InternalError",
            ApiError::Unavailable(_) => "ServiceUnavailable",
        }
    }

    /// The `message` of the body: the reason for 4xx, a generic sentence for 5xx.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::BadRequest { message, .. } | ApiError::NotFound { message, .. } => {
                message.clone()
            }
            ApiError::MethodNotAllowed {
                method,
                path,
                allow,
            } => format!("{method} is not allowed on {path}; use {allow}"),
            ApiError::Internal(_) => {
                "the request could not be completed; quote the requestId when reporting it".into()
            }
            ApiError::Unavailable(_) => {
                "the service is busy or unavailable; retry in a few seconds".into()
            }
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Unavailable { .. } => ApiError::Unavailable(e.to_string()),
            ServiceError::InvalidStartKey { .. } => ApiError::bad(
                "InvalidNextToken",
                "nextToken is not valid for this listing; start again without it",
            ),
            ServiceError::Failed { .. } => ApiError::Internal(e.to_string()),
        }
    }
}

/// The body of every error answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// A code from the table in the module documentation.
    pub error: String,
    /// A sentence for humans.
    pub message: String,
    /// The Lambda request ID (the `request_id` of the function's log lines).
    pub request_id: String,
}

// ------------------------------------------------------------------------------------ routing

/// A request the API serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `POST /uploads`.
    CreateUpload,
    /// `GET /images`.
    ListImages,
    /// `GET /images/{imageId}`.
    GetImage(String),
}

/// Maps a method and path to a route. `path` is API Gateway's `rawPath`, without the stage
/// segment (see [`request_path`]); a trailing `/` is ignored.
///
/// # Errors
/// [`ApiError::NotFound`] for an unknown path, [`ApiError::MethodNotAllowed`] for a known path
/// with another method.
pub fn route(method: &Method, path: &str) -> Result<Route, ApiError> {
    let trimmed = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    let segments: Vec<&str> = trimmed
        .strip_prefix('/')
        .unwrap_or(trimmed)
        .split('/')
        .collect();
    let (wanted, route) = match segments.as_slice() {
        ["uploads"] => (Method::POST, Route::CreateUpload),
        ["images"] => (Method::GET, Route::ListImages),
        ["images", id] if !id.is_empty() => (Method::GET, Route::GetImage((*id).to_owned())),
        _ => {
            return Err(ApiError::NotFound {
                code: "NotFound",
                message: format!("no route for {method} {path}"),
            });
        }
    };
    if *method == wanted {
        Ok(route)
    } else {
        Err(ApiError::MethodNotAllowed {
            method: method.to_string(),
            path: path.to_owned(),
            allow: if wanted == Method::POST {
                "POST"
            } else {
                "GET"
            },
        })
    }
}

/// The request's path without the API Gateway stage: `rawPath` (or `requestContext.http.path`)
/// with a leading `/<stage>` removed when the request came through a named stage (not
/// `$default`).
pub fn request_path(request: &ApiGatewayV2httpRequest) -> String {
    let raw = request
        .raw_path
        .clone()
        .or_else(|| request.request_context.http.path.clone())
        .unwrap_or_else(|| "/".to_owned());
    match request.request_context.stage.as_deref() {
        Some(stage) if !stage.is_empty() && stage != "$default" => {
            let prefix = format!("/{stage}");
            match raw.strip_prefix(&prefix) {
                Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                    if rest.is_empty() {
                        "/".to_owned()
                    } else {
                        rest.to_owned()
                    }
                }
                _ => raw,
            }
        }
        _ => raw,
    }
}

// ------------------------------------------------------------------------------------ uploads

/// The `POST /uploads` body.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadRequest {
    /// The file's name, e.g. `cat.jpg` (becomes the last key segment).
    pub filename: String,
    /// `image/jpeg` or `image/png`.
    pub content_type: String,
    /// The file's size in bytes, 1..=[`MAX_UPLOAD_BYTES`]: the upload must be exactly this long
    /// (it is signed into the URL as `content-length`).
    pub size: u64,
}

/// The `POST /uploads` answer (201).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadResponse {
    /// The presigned PutObject URL.
    pub upload_url: String,
    /// Always `PUT`.
    pub upload_method: String,
    /// Headers to send with the PUT, exactly (signed): `content-type`, `content-length` (the
    /// declared size) and `if-none-match: *` (the URL writes once: a second PUT to the same key
    /// is refused with 412 Precondition Failed).
    pub upload_headers: BTreeMap<String, String>,
    /// The input bucket.
    pub bucket: String,
    /// The object key: `<input prefix><UUID v7>/<filename>`.
    pub object_key: String,
    /// Lifetime of `uploadUrl`: 300.
    pub expires_in_seconds: u64,
}

/// A validated upload: the filename and the normalized (lowercase) content type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidUpload {
    /// The filename, unchanged.
    pub filename: String,
    /// `image/jpeg` or `image/png`.
    pub content_type: &'static str,
    /// The declared size in bytes, 1..=[`MAX_UPLOAD_BYTES`].
    pub size: u64,
}

/// Checks an upload request (see the module documentation).
///
/// # Errors
/// [`ApiError::BadRequest`]: `InvalidRequest` for a bad filename or a size outside
/// 1..=[`MAX_UPLOAD_BYTES`], `UnsupportedContentType` for a content type other than JPEG/PNG or
/// one that does not match the extension.
pub fn validate_upload(request: &UploadRequest) -> Result<ValidUpload, ApiError> {
    let name = &request.filename;
    let invalid = |why: &str| ApiError::bad("InvalidRequest", format!("filename {why}"));
    if name.trim().is_empty() {
        return Err(invalid("is empty"));
    }
    if name.chars().count() > MAX_FILENAME_CHARS {
        return Err(invalid(&format!(
            "has more than {MAX_FILENAME_CHARS} characters"
        )));
    }
    if let Some(bad) = name.chars().find(|c| !is_filename_char(*c)) {
        return Err(invalid(&format!(
            "must hold only letters, digits, spaces and . _ - ( ), not {:?} (U+{:04X})",
            bad,
            u32::from(bad)
        )));
    }
    if name.contains("..") {
        return Err(invalid("must not contain .."));
    }
    let content_type: &'static str = match request.content_type.trim().to_ascii_lowercase().as_str()
    {
        "image/jpeg" => "image/jpeg",
        "image/png" => "image/png",
        _ => {
            return Err(ApiError::bad(
                "UnsupportedContentType",
                format!(
                    "contentType {:?} is not accepted; use image/jpeg or image/png",
                    request.content_type
                ),
            ));
        }
    };
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    let matches = match content_type {
        "image/jpeg" => extension == "jpg" || extension == "jpeg",
        _ => extension == "png",
    };
    if !matches {
        let wanted = if content_type == "image/jpeg" {
            ".jpg or .jpeg"
        } else {
            ".png"
        };
        return Err(ApiError::bad(
            "UnsupportedContentType",
            format!(
                "filename {name:?} does not match contentType {content_type}; it must end in {wanted}"
            ),
        ));
    }
    if !(1..=MAX_UPLOAD_BYTES).contains(&request.size) {
        return Err(ApiError::bad(
            "InvalidRequest",
            format!(
                "size {} is outside 1..={MAX_UPLOAD_BYTES} bytes (the processor's limit, Rekognition's for an S3 object)",
                request.size
            ),
        ));
    }
    Ok(ValidUpload {
        filename: name.clone(),
        content_type,
        size: request.size,
    })
}

/// Whether `c` may stand in an upload's filename: a letter or a digit (any script), a space, or
/// one of `. _ - ( )`. Everything else is refused, so no filename carries a path separator, a
/// control character, a bidirectional override (U+202A–U+202E, U+2066–U+2069), a zero-width
/// character (U+200B–U+200D, U+FEFF) or a line separator (U+2028, U+2029) into a key, a log line
/// or an alert.
pub fn is_filename_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-' | '(' | ')')
}

/// The key of a new upload: `<prefix><id>/<filename>`.
pub fn upload_key(prefix: &str, id: &str, filename: &str) -> String {
    format!("{prefix}{id}/{filename}")
}

// ------------------------------------------------------------------------------------ listing

/// The `GET /images` answer (200).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageList {
    /// Newest first.
    pub images: Vec<ImageSummary>,
    /// Number of `images`.
    pub count: usize,
    /// Pass as `nextToken` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// The `limit` query parameter: [`DEFAULT_LIMIT`] when absent.
///
/// # Errors
/// [`ApiError::BadRequest`] `InvalidLimit` unless an integer in 1..=[`MAX_LIMIT`].
pub fn parse_limit(value: Option<&str>) -> Result<u32, ApiError> {
    let Some(value) = value else {
        return Ok(DEFAULT_LIMIT);
    };
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or_else(|| {
            ApiError::bad(
                "InvalidLimit",
                format!("limit {value:?} must be an integer from 1 to {MAX_LIMIT}"),
            )
        })
}

/// A `nextToken`: base64url (no padding) of the [`PageKey`] as compact JSON.
pub fn encode_token(key: &PageKey) -> String {
    // A struct of three strings always serializes.
    let json = serde_json::to_vec(key).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// Reads a `nextToken` (padding tolerated) and checks it belongs to `stage`.
///
/// # Errors
/// [`ApiError::BadRequest`] `InvalidNextToken`: too long, not base64url, not the JSON of a
/// [`PageKey`], an empty field, or another stage.
pub fn decode_token(token: &str, stage: &str) -> Result<PageKey, ApiError> {
    let invalid = || {
        ApiError::bad(
            "InvalidNextToken",
            "nextToken is malformed; pass back the nextToken of the previous page unchanged",
        )
    };
    if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| invalid())?;
    let key: PageKey = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if key.image_id.is_empty() || key.processed_at.is_empty() || key.stage != stage {
        return Err(invalid());
    }
    Ok(key)
}

// ------------------------------------------------------------------------------------ handler

/// A successful answer: status and JSON body.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// 200 or 201.
    pub status: u16,
    /// The JSON body.
    pub body: Value,
}

/// Serves one HTTP API request (payload format 2.0) and always answers: a JSON body with
/// `content-type: application/json` and `cache-control: no-store`, the status from the route
/// or from the [`ApiError`]. `request_id` is the Lambda request ID (in logs and error bodies).
pub async fn handle(
    api: &Api,
    request: &ApiGatewayV2httpRequest,
    request_id: &str,
) -> ApiGatewayV2httpResponse {
    let method = request.request_context.http.method.clone();
    let path = request_path(request);
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        api_request_id = request.request_context.request_id.as_deref().unwrap_or_default(),
        method = %method,
        path = %path,
    );
    async {
        let started = Instant::now();
        let result = dispatch(api, request, &method, &path).await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(reply) => {
                tracing::info!(status = reply.status, duration_ms, "request served");
                response(reply.status, &reply.body, None)
            }
            Err(error) => {
                let status = error.status();
                if status >= 500 {
                    tracing::error!(status, error_code = error.code(), detail = %error, duration_ms, "request failed");
                } else {
                    tracing::info!(status, error_code = error.code(), detail = %error, duration_ms, "request refused");
                }
                let body = ErrorBody {
                    error: error.code().to_owned(),
                    message: error.public_message(),
                    request_id: request_id.to_owned(),
                };
                let allow = match &error {
                    ApiError::MethodNotAllowed { allow, .. } => Some(*allow),
                    _ => None,
                };
                response(status, &json!(body), allow)
            }
        }
    }
    .instrument(span)
    .await
}

async fn dispatch(
    api: &Api,
    request: &ApiGatewayV2httpRequest,
    method: &Method,
    path: &str,
) -> Result<Reply, ApiError> {
    match route(method, path)? {
        Route::CreateUpload => create_upload(api, request).await,
        Route::ListImages => list_images(api, request).await,
        Route::GetImage(id) => get_image(api, &id).await,
    }
}

fn response(status: u16, body: &Value, allow: Option<&'static str>) -> ApiGatewayV2httpResponse {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(allow) = allow {
        headers.insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    let mut out = ApiGatewayV2httpResponse::default();
    out.status_code = i64::from(status);
    out.headers = headers;
    out.body = Some(Body::Text(body.to_string()));
    out.is_base64_encoded = false;
    out
}

/// The request body as bytes (base64-decoded when API Gateway encoded it).
fn body_bytes(request: &ApiGatewayV2httpRequest) -> Result<Vec<u8>, ApiError> {
    let raw = request.body.as_deref().unwrap_or_default();
    let bytes = if request.is_base64_encoded {
        STANDARD
            .decode(raw)
            .map_err(|_| ApiError::bad("InvalidJson", "the body is not valid base64"))?
    } else {
        raw.as_bytes().to_vec()
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::bad(
            "InvalidRequest",
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        ));
    }
    Ok(bytes)
}

/// A `Content-Type` header, when present, must be JSON (`application/json`, `…+json`).
fn check_json_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" || essence.ends_with("+json") {
        Ok(())
    } else {
        Err(ApiError::bad(
            "UnsupportedContentType",
            format!("send the body as Content-Type: application/json, not {essence:?}"),
        ))
    }
}

/// Parses a JSON body into `T`: `InvalidJson` for a syntax error, `InvalidRequest` for a
/// value that is not an object, a missing field or a wrong type.
fn parse_json<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad(
            "InvalidJson",
            "the body is empty; send a JSON object",
        ));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad("InvalidJson", format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::bad(
            "InvalidRequest",
            "the body must be a JSON object",
        ));
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::bad("InvalidRequest", format!("invalid request: {e}")))
}

async fn create_upload(api: &Api, request: &ApiGatewayV2httpRequest) -> Result<Reply, ApiError> {
    check_json_content_type(&request.headers)?;
    let bytes = body_bytes(request)?;
    let upload: UploadRequest = parse_json(&bytes)?;
    let valid = validate_upload(&upload)?;
    let s = &api.settings;
    let key = upload_key(
        &s.input_prefix,
        &uuid::Uuid::now_v7().to_string(),
        &valid.filename,
    );
    let presigned = api
        .presigner
        .presign_put(
            &s.input_bucket,
            &key,
            valid.content_type,
            valid.size,
            Duration::from_secs(URL_EXPIRES_SECS),
        )
        .await?;
    tracing::info!(object_key = %key, content_type = valid.content_type, size = valid.size, "upload presigned");
    let body = UploadResponse {
        upload_url: presigned.url,
        upload_method: presigned.method,
        upload_headers: presigned.headers,
        bucket: s.input_bucket.clone(),
        object_key: key,
        expires_in_seconds: URL_EXPIRES_SECS,
    };
    Ok(Reply {
        status: 201,
        body: json!(body),
    })
}

/// The single value of a query parameter.
fn query_value<'a>(
    request: &'a ApiGatewayV2httpRequest,
    name: &str,
    code: &'static str,
) -> Result<Option<&'a str>, ApiError> {
    match request.query_string_parameters.all(name) {
        None => Ok(None),
        Some(values) if values.len() == 1 => Ok(values.first().copied()),
        Some(_) => Err(ApiError::bad(
            code,
            format!("{name} must be given once, as a single value"),
        )),
    }
}

async fn list_images(api: &Api, request: &ApiGatewayV2httpRequest) -> Result<Reply, ApiError> {
    let limit = parse_limit(query_value(request, "limit", "InvalidLimit")?)?;
    let stage = &api.settings.stage;
    let start = query_value(request, "nextToken", "InvalidNextToken")?
        .map(|t| decode_token(t, stage))
        .transpose()?;
    let page = api.index.list(stage, limit, start.as_ref()).await?;
    let body = ImageList {
        count: page.items.len(),
        images: page.items,
        next_token: page.next.as_ref().map(encode_token),
    };
    Ok(Reply {
        status: 200,
        body: json!(body),
    })
}

/// Whether `id` has the shape of [`crate::record::image_id`]: 32 lowercase hex characters.
pub fn is_image_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

async fn get_image(api: &Api, id: &str) -> Result<Reply, ApiError> {
    let not_found = || ApiError::NotFound {
        code: "NotFound",
        message: format!("no image with ID {id:?} (image IDs are 32 lowercase hex characters)"),
    };
    if !is_image_id(id) {
        return Err(not_found());
    }
    let record = match api.index.get(id).await? {
        None => return Err(not_found()),
        Some(Lookup::Processing) => {
            return Err(ApiError::NotFound {
                code: "Processing",
                message: format!("image {id} is being processed; try again in a few seconds"),
            });
        }
        Some(Lookup::Record(record)) => record,
    };
    let mut body = serde_json::to_value(&*record)
        .map_err(|e| ApiError::Internal(format!("record to JSON: {e}")))?;
    // Only content that passed inspection and analysis is handed out, as an attachment with
    // the type its magic bytes gave; a REJECTED or FAILED upload has no download.
    if let (Status::Processed, Some(content_type)) = (record.status, &record.content_type) {
        let download = api
            .presigner
            .presign_get(
                &record.bucket,
                &record.object_key,
                record.version_id.as_deref(),
                &Download::attachment(&record.object_key, content_type),
                Duration::from_secs(URL_EXPIRES_SECS),
            )
            .await?;
        if let Value::Object(fields) = &mut body {
            fields.insert("downloadUrl".into(), Value::String(download.url));
            fields.insert(
                "downloadExpiresInSeconds".into(),
                Value::from(URL_EXPIRES_SECS),
            );
        }
    }
    Ok(Reply { status: 200, body })
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Route::CreateUpload => f.write_str("POST /uploads"),
            Route::ListImages => f.write_str("GET /images"),
            Route::GetImage(id) => write!(f, "GET /images/{id}"),
        }
    }
}

/// Reads a listing entry from an index item (attributes outside [`ImageSummary`] are ignored).
///
/// # Errors
/// [`ServiceError::Failed`] when a required attribute is missing or has another type.
pub fn summary_from_item(
    item: HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) -> Result<ImageSummary, ServiceError> {
    serde_dynamo::aws_sdk_dynamodb_1::from_item(item).map_err(|e| ServiceError::Failed {
        code: "ItemConversion".into(),
        message: e.to_string(),
    })
}

/// Reads the `LastEvaluatedKey` of an index query.
///
/// # Errors
/// [`ServiceError::Failed`] when one of `imageId`, `stage`, `processedAt` is missing or not a
/// string.
pub fn page_key_from_item(
    item: &HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) -> Result<PageKey, ServiceError> {
    let text = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| ServiceError::Failed {
                code: "ItemConversion".into(),
                message: format!("LastEvaluatedKey has no string {name}"),
            })
    };
    Ok(PageKey {
        image_id: text("imageId")?,
        stage: text("stage")?,
        processed_at: text("processedAt")?,
    })
}

/// The `ExclusiveStartKey` of a [`PageKey`].
pub fn page_key_to_item(key: &PageKey) -> HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    use aws_sdk_dynamodb::types::AttributeValue;
    HashMap::from([
        (
            "imageId".to_owned(),
            AttributeValue::S(key.image_id.clone()),
        ),
        ("stage".to_owned(), AttributeValue::S(key.stage.clone())),
        (
            "processedAt".to_owned(),
            AttributeValue::S(key.processed_at.clone()),
        ),
    ])
}

/// Reads a results-table item: a claim is [`Lookup::Processing`], anything else a record.
///
/// # Errors
/// [`ServiceError::Failed`] when a final item does not read as an [`ImageRecord`].
pub fn lookup_from_item(
    item: HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) -> Result<Lookup, ServiceError> {
    let claimed = item
        .get("status")
        .and_then(|v| v.as_s().ok())
        .is_some_and(|s| s == crate::services::CLAIMED);
    if claimed {
        return Ok(Lookup::Processing);
    }
    ImageRecord::from_item(item)
        .map(|r| Lookup::Record(Box::new(r)))
        .map_err(|e| ServiceError::Failed {
            code: "ItemConversion".into(),
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests;
