//! Getting the image bytes of a request: `Image.Bytes` (base64) or `Image.S3Object`, read
//! from the twin's S3 with `aws-sdk-s3`, with Rekognition's size limits and errors.
//!
//! <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_Image.html>;
//! limits: <https://docs.aws.amazon.com/rekognition/latest/dg/limits.html>.

use std::time::Duration;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use base64::Engine as _;

use crate::error::ApiError;
use crate::model::Image;

/// Largest image accepted as `Image.Bytes`: 5 MiB (the `ImageBlob` maximum, 5,242,880 bytes).
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// Largest image accepted from S3: 15 MiB.
pub const MAX_S3_IMAGE_BYTES: u64 = 15 * 1024 * 1024;

/// Where and how argus-twin reads `Image.S3Object`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// The S3 endpoint, e.g. MiniStack's `http://127.0.0.1:4566`. Path-style addressing is used.
    pub endpoint_url: String,
    /// Signing region, e.g. `us-east-1`.
    pub region: String,
    /// Access key ID (any value works with MiniStack).
    pub access_key_id: String,
    /// Secret access key (any value works with MiniStack).
    pub secret_access_key: String,
}

impl S3Settings {
    /// Settings for a local twin at `endpoint_url`: region `us-east-1`, credentials `test`/`test`.
    pub fn local(endpoint_url: impl Into<String>) -> Self {
        S3Settings {
            endpoint_url: endpoint_url.into(),
            region: "us-east-1".to_owned(),
            access_key_id: "test".to_owned(),
            secret_access_key: "test".to_owned(),
        }
    }

    /// A path-style S3 client for these settings (30 s operation timeout, standard retries).
    pub fn client(&self) -> aws_sdk_s3::Client {
        let credentials = Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.clone(),
            None,
            None,
            "argus-twin",
        );
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            // MiniStack on loopback speaks plain HTTP: no TLS stack needed.
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .region(Region::new(self.region.clone()))
            .credentials_provider(credentials)
            .endpoint_url(self.endpoint_url.clone())
            .force_path_style(true)
            .timeout_config(
                aws_sdk_s3::config::timeout::TimeoutConfig::builder()
                    .operation_timeout(Duration::from_secs(30))
                    .build(),
            )
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }
}

/// The bytes of `image` (which must hold exactly one of `Bytes`, `S3Object`).
///
/// Errors: `InvalidParameterException` (neither or both given, bad base64, empty bytes,
/// S3Object without Bucket/Name, S3 not configured); `ImageTooLargeException` (over
/// [`MAX_IMAGE_BYTES`] as bytes, over [`MAX_S3_IMAGE_BYTES`] from S3);
/// `InvalidS3ObjectException` (S3 answered with an error: no such bucket, key or version);
/// `InternalServerError` (S3 could not be reached).
pub async fn image_bytes(
    image: &Image,
    s3: Option<&aws_sdk_s3::Client>,
) -> Result<Vec<u8>, ApiError> {
    match (&image.bytes, &image.s3_object) {
        (Some(_), Some(_)) => Err(ApiError::invalid_parameter(
            "Request has invalid parameters: give either Image.Bytes or Image.S3Object, not both",
        )),
        (None, None) => Err(ApiError::invalid_parameter(
            "Request has invalid parameters: Image needs Bytes or S3Object",
        )),
        (Some(b64), None) => decode_bytes(b64),
        (None, Some(object)) => {
            let bucket = object.bucket.as_deref().filter(|b| !b.is_empty());
            let key = object.name.as_deref().filter(|k| !k.is_empty());
            let (Some(bucket), Some(key)) = (bucket, key) else {
                return Err(ApiError::invalid_parameter(
                    "Request has invalid parameters: Image.S3Object needs Bucket and Name",
                ));
            };
            let Some(client) = s3 else {
                return Err(ApiError::invalid_parameter(
                    "argus-twin has no S3 endpoint configured (--s3-endpoint)",
                ));
            };
            read_s3_object(client, bucket, key, object.version.as_deref()).await
        }
    }
}

fn decode_bytes(b64: &str) -> Result<Vec<u8>, ApiError> {
    // 4 base64 characters carry 3 bytes: refuse before decoding anything huge.
    if b64.len() / 4 * 3 > MAX_IMAGE_BYTES + 3 {
        return Err(too_large_bytes());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| {
            ApiError::invalid_parameter(format!(
                "Request has invalid parameters: Image.Bytes is not valid base64 ({e})"
            ))
        })?;
    if bytes.is_empty() {
        return Err(ApiError::invalid_parameter(
            "Request has invalid parameters: Image.Bytes is empty",
        ));
    }
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(too_large_bytes());
    }
    Ok(bytes)
}

fn too_large_bytes() -> ApiError {
    ApiError::image_too_large(format!(
        "Image size is too large: Image.Bytes may hold at most {MAX_IMAGE_BYTES} bytes"
    ))
}

async fn read_s3_object(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    version: Option<&str>,
) -> Result<Vec<u8>, ApiError> {
    let output = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .set_version_id(version.map(str::to_owned))
        .send()
        .await
        .map_err(|e| s3_error(bucket, key, &e))?;
    let length = output.content_length().and_then(|l| u64::try_from(l).ok());
    if length.is_some_and(|l| l > MAX_S3_IMAGE_BYTES) {
        return Err(too_large_s3());
    }
    let body = output.body.collect().await.map_err(|e| {
        ApiError::internal(format!(
            "argus-twin could not read s3://{bucket}/{key}: {e}"
        ))
    })?;
    let bytes = body.into_bytes().to_vec();
    if bytes.len() as u64 > MAX_S3_IMAGE_BYTES {
        return Err(too_large_s3());
    }
    Ok(bytes)
}

fn too_large_s3() -> ApiError {
    ApiError::image_too_large(format!(
        "Image size is too large: an S3 object may hold at most {MAX_S3_IMAGE_BYTES} bytes"
    ))
}

fn s3_error<E, R>(bucket: &str, key: &str, err: &SdkError<E, R>) -> ApiError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(_) => {
            tracing::info!(bucket, key, error = %DisplayErrorContext(err), "S3 object not readable");
            ApiError::invalid_s3_object(format!(
                "Unable to get object metadata from S3. Check object key, region and/or access \
                 permissions. (s3://{bucket}/{key}: {})",
                DisplayErrorContext(err)
            ))
        }
        _ => {
            tracing::warn!(bucket, key, error = %DisplayErrorContext(err), "S3 unreachable");
            ApiError::internal(format!(
                "argus-twin could not reach S3 for s3://{bucket}/{key}: {}",
                DisplayErrorContext(err)
            ))
        }
    }
}
