//! Typed property sets for the CloudFormation resource types Argus uses (the "L1" layer).
//!
//! One module per service; each struct is the `Properties` object of one resource type, with the
//! property names of the AWS resource and property types reference
//! (<https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-template-resource-type-ref.html>).
//! Optional properties left `None` are omitted. The L2 constructs in [`crate::constructs`] fill
//! these with secure defaults.

pub mod apigatewayv2;
pub mod cloudtrail;
pub mod cloudwatch;
pub mod dynamodb;
pub mod iam;
pub mod kms;
pub mod lambda;
pub mod logs;
pub mod s3;
pub mod sns;
pub mod sqs;

use serde::Serialize;

use crate::intrinsic::Expr;

/// A resource tag (`{"Key": …, "Value": …}`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// Tag key.
    pub key: String,
    /// Tag value.
    pub value: Expr,
}
