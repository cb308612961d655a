//! Rekognition's errors as the service sends them over AWS JSON 1.1.
//!
//! An error answer has the HTTP status of its code (400 unless noted), the header
//! `x-amzn-ErrorType: <Code>` and the body `{"__type": "<Code>", "Message": "..."}`. The AWS
//! SDKs read the code from `__type` (or the header) and turn it into their typed error
//! variant, e.g. `DetectLabelsError::InvalidImageFormatException` in `aws-sdk-rekognition`.
//!
//! Protocol: <https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html#operation-error-serialization>;
//! codes: the "Errors" section of each operation, e.g.
//! <https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectLabels.html#API_DetectLabels_Errors>.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// The `Content-Type` of every AWS JSON 1.1 answer.
pub const AMZ_JSON_1_1: &str = "application/x-amz-json-1.1";

/// The error codes argus-twin answers with (the `__type` value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorCode {
    /// 400: the S3 object or bucket does not exist or cannot be read.
    InvalidS3ObjectException,
    /// 400: not a JPEG or PNG by content, or the file cannot be decoded.
    InvalidImageFormatException,
    /// 400: over 5 MiB as `Bytes`, over 15 MiB from S3.
    ImageTooLargeException,
    /// 400: a parameter is missing or out of range (also: image under 80x80 px).
    InvalidParameterException,
    /// 400: request rate too high (retryable; the SDKs retry it).
    ThrottlingException,
    /// 400: provisioned rate exceeded (retryable; the SDKs retry it).
    ProvisionedThroughputExceededException,
    /// 500: service fault (retryable).
    InternalServerError,
    /// 400: the `X-Amz-Target` header names no operation argus-twin knows.
    UnknownOperationException,
    /// 400: the body is not valid JSON for the operation.
    SerializationException,
}

impl ErrorCode {
    /// The code as sent in `__type`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidS3ObjectException => "InvalidS3ObjectException",
            ErrorCode::InvalidImageFormatException => "InvalidImageFormatException",
            ErrorCode::ImageTooLargeException => "ImageTooLargeException",
            ErrorCode::InvalidParameterException => "InvalidParameterException",
            ErrorCode::ThrottlingException => "ThrottlingException",
            ErrorCode::ProvisionedThroughputExceededException => {
                "ProvisionedThroughputExceededException"
            }
            ErrorCode::InternalServerError => "InternalServerError",
            ErrorCode::UnknownOperationException => "UnknownOperationException",
            ErrorCode::SerializationException => "SerializationException",
        }
    }

    /// The HTTP status the real service uses for the code.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Rekognition error answer: a code and a human message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// The `__type`.
    pub code: ErrorCode,
    /// The `Message`.
    pub message: String,
}

impl ApiError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// `InvalidParameterException` with `message`.
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::InvalidParameterException, message)
    }

    /// `InvalidImageFormatException` with `message`.
    pub fn invalid_image_format(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::InvalidImageFormatException, message)
    }

    /// `InvalidS3ObjectException` with `message`.
    pub fn invalid_s3_object(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::InvalidS3ObjectException, message)
    }

    /// `ImageTooLargeException` with `message`.
    pub fn image_too_large(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::ImageTooLargeException, message)
    }

    /// `InternalServerError` with `message`.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::InternalServerError, message)
    }

    /// The JSON body: `{"__type": "<Code>", "Message": "..."}`.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "__type": self.code.as_str(), "Message": self.message })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.code.status(), self.body().to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(AMZ_JSON_1_1));
        headers.insert(
            "x-amzn-ErrorType",
            HeaderValue::from_static(self.code.as_str()),
        );
        response
    }
}
