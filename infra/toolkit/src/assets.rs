//! Publishing file assets to the assets bucket: HEAD first, upload only when the object is
//! missing (keys are content-addressed, so an existing key already holds the same bytes).

use aws_sdk_s3::primitives::ByteStream;

use super::ToolkitError;
use super::aws::AwsContext;

/// What publishing did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Published {
    /// The object was already there.
    AlreadyPresent,
    /// The file was uploaded.
    Uploaded,
}

/// Publishes `bytes` (a Lambda bundle, a large template) to `s3://bucket/key` unless the key
/// exists.
///
/// # Errors
/// [`ToolkitError::Aws`].
pub async fn publish_bytes(
    aws: &AwsContext,
    bucket: &str,
    key: &str,
    bytes: Vec<u8>,
) -> Result<Published, ToolkitError> {
    match aws.s3.head_object().bucket(bucket).key(key).send().await {
        Ok(_) => return Ok(Published::AlreadyPresent),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {}
        Err(e) => return Err(aws.error("s3:HeadObject", e)),
    }
    aws.s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(bytes))
        .send()
        .await
        .map_err(|e| aws.error("s3:PutObject", e))?;
    Ok(Published::Uploaded)
}
