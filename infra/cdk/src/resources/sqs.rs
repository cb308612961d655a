//! `AWS::SQS::Queue` and `AWS::SQS::QueuePolicy`.

use serde::Serialize;
use serde_with::skip_serializing_none;

use crate::iam::PolicyDocument;
use crate::intrinsic::Expr;
use crate::template::CfnResource;

/// `AWS::SQS::Queue` properties.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnQueue {
    /// Queue name.
    pub queue_name: Option<Expr>,
    /// SSE with SQS-owned keys (SSE-SQS).
    pub sqs_managed_sse_enabled: Option<bool>,
    /// KMS key for SSE-KMS (instead of SSE-SQS).
    pub kms_master_key_id: Option<Expr>,
    /// Seconds a received message stays invisible (0-43,200).
    pub visibility_timeout: Option<u32>,
    /// Seconds a message is kept (60-1,209,600).
    pub message_retention_period: Option<u32>,
    /// Long-poll wait in seconds (0-20).
    pub receive_message_wait_time_seconds: Option<u32>,
    /// Where messages go after `maxReceiveCount` receives.
    pub redrive_policy: Option<RedrivePolicy>,
}

impl CfnResource for CfnQueue {
    const TYPE: &'static str = "AWS::SQS::Queue";
}

/// The `RedrivePolicy` JSON object (camelCase keys, as SQS defines them).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RedrivePolicy {
    /// The dead-letter queue's ARN.
    pub dead_letter_target_arn: Expr,
    /// Receives before a message moves to the dead-letter queue (1-1,000).
    pub max_receive_count: u32,
}

/// `AWS::SQS::QueuePolicy` properties.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnQueuePolicy {
    /// Queue URLs.
    pub queues: Vec<Expr>,
    /// The policy.
    pub policy_document: PolicyDocument,
}

impl CfnResource for CfnQueuePolicy {
    const TYPE: &'static str = "AWS::SQS::QueuePolicy";
}
