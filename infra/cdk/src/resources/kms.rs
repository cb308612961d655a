//! `AWS::KMS::Key` and `AWS::KMS::Alias`.

use serde::Serialize;
use serde_with::skip_serializing_none;

use crate::iam::PolicyDocument;
use crate::intrinsic::Expr;
use crate::template::CfnResource;

/// `AWS::KMS::Key` properties (symmetric encryption keys only).
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnKey {
    /// What the key is for.
    pub description: Option<String>,
    /// Yearly automatic rotation.
    pub enable_key_rotation: bool,
    /// The key policy.
    pub key_policy: PolicyDocument,
    /// Days (7-30) before a scheduled deletion happens.
    pub pending_window_in_days: Option<u32>,
}

impl CfnResource for CfnKey {
    const TYPE: &'static str = "AWS::KMS::Key";
}

/// `AWS::KMS::Alias` properties.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnAlias {
    /// `alias/…`.
    pub alias_name: Expr,
    /// The key ID or ARN.
    pub target_key_id: Expr,
}

impl CfnResource for CfnAlias {
    const TYPE: &'static str = "AWS::KMS::Alias";
}
