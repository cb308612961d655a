//! `AWS::Logs::LogGroup`.

use serde::Serialize;
use serde_with::skip_serializing_none;

use crate::intrinsic::Expr;
use crate::template::CfnResource;

/// `AWS::Logs::LogGroup` properties.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnLogGroup {
    /// Log group name.
    pub log_group_name: Option<Expr>,
    /// Days to keep events (one of the values CloudWatch Logs accepts).
    pub retention_in_days: Option<u32>,
    /// KMS key ARN.
    pub kms_key_id: Option<Expr>,
}

impl CfnResource for CfnLogGroup {
    const TYPE: &'static str = "AWS::Logs::LogGroup";
}
