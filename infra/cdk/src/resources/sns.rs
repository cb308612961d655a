//! `AWS::SNS::Topic`, `AWS::SNS::TopicPolicy` and `AWS::SNS::Subscription`.

use serde::Serialize;
use serde_with::skip_serializing_none;

use crate::iam::PolicyDocument;
use crate::intrinsic::Expr;
use crate::template::CfnResource;

/// `AWS::SNS::Topic` properties.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnTopic {
    /// Topic name.
    pub topic_name: Option<Expr>,
    /// Name shown in e-mail notifications.
    pub display_name: Option<String>,
    /// KMS key ID, alias or ARN for server-side encryption.
    pub kms_master_key_id: Option<Expr>,
}

impl CfnResource for CfnTopic {
    const TYPE: &'static str = "AWS::SNS::Topic";
}

/// `AWS::SNS::TopicPolicy` properties.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnTopicPolicy {
    /// Topic ARNs.
    pub topics: Vec<Expr>,
    /// The policy.
    pub policy_document: PolicyDocument,
}

impl CfnResource for CfnTopicPolicy {
    const TYPE: &'static str = "AWS::SNS::TopicPolicy";
}

/// `AWS::SNS::Subscription` properties.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnSubscription {
    /// The topic ARN.
    pub topic_arn: Expr,
    /// `email`, `sqs`, `lambda`, `https`, …
    pub protocol: String,
    /// Address, queue ARN, … for the protocol.
    pub endpoint: Expr,
}

impl CfnResource for CfnSubscription {
    const TYPE: &'static str = "AWS::SNS::Subscription";
}
