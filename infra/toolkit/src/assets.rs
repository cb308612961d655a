//! Publishing file assets to the assets bucket, verified: every upload carries the bytes'
//! SHA-256, which S3 checks before it stores the object
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>); a
//! key that already exists is reused only when its stored SHA-256 is the local bundle's, so an
//! object planted under a content-addressed key is refused, never deployed. The version ID of
//! the object published or verified is returned, for the template's `S3ObjectVersion`.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ChecksumMode;

use super::ToolkitError;
use super::aws::AwsContext;

/// What publishing did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Published {
    /// The object was already there, with the same SHA-256.
    AlreadyPresent,
    /// The file was uploaded.
    Uploaded,
}

/// An object published or verified in the assets bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedObject {
    /// Uploaded, or found with the same checksum.
    pub outcome: Published,
    /// The S3 version ID of the object (`None` in a bucket without versioning).
    pub version_id: Option<String>,
}

/// The SHA-256 of `bytes` as S3 writes it in `x-amz-checksum-sha256`: base64 of the 32 bytes.
pub fn sha256_base64(bytes: &[u8]) -> String {
    let hex = argus_cdk::assembly::sha256_hex(bytes);
    let raw: Vec<u8> = (0..hex.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    aws_smithy_types::base64::encode(raw)
}

/// Publishes `bytes` (a Lambda bundle, a large template) to `s3://bucket/key`, verified by
/// SHA-256, unless the key already holds the same bytes; returns what it did and the object's
/// version ID.
///
/// # Errors
/// [`ToolkitError::Refused`] when the key exists with another (or no) stored SHA-256: someone
/// else wrote it, and deploying it would run their bytes; [`ToolkitError::Aws`].
pub async fn publish_bytes(
    aws: &AwsContext,
    bucket: &str,
    key: &str,
    bytes: Vec<u8>,
) -> Result<PublishedObject, ToolkitError> {
    let checksum = sha256_base64(&bytes);
    match aws
        .s3
        .head_object()
        .bucket(bucket)
        .key(key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
    {
        Ok(head) => {
            return match head.checksum_sha256() {
                Some(stored) if stored == checksum => Ok(PublishedObject {
                    outcome: Published::AlreadyPresent,
                    version_id: head.version_id().map(str::to_owned),
                }),
                stored => Err(ToolkitError::Refused(format!(
                    "s3://{bucket}/{key} already exists with stored SHA-256 {}, but the local file's is {checksum}: refusing to deploy bytes this deploy did not build (delete the object, or find out who wrote it)",
                    stored.unwrap_or("(none)")
                ))),
            };
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {}
        Err(e) => return Err(aws.error("s3:HeadObject", e)),
    }
    let put = aws
        .s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .checksum_sha256(&checksum)
        .body(ByteStream::from(bytes))
        .send()
        .await
        .map_err(|e| aws.error("s3:PutObject", e))?;
    Ok(PublishedObject {
        outcome: Published::Uploaded,
        version_id: put.version_id().map(str::to_owned),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_base64_of_the_raw_digest() {
        // SHA-256("abc") = ba7816bf…15ad, in base64 as S3 writes it.
        assert_eq!(
            sha256_base64(b"abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }
}
