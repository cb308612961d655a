//! [`Queue`]: an SQS queue with SSE, a TLS-only queue policy and a dead-letter queue.

use crate::constructs::role::Role;
use crate::constructs::sid;
use crate::error::SynthError;
use crate::iam::{PolicyDocument, Statement};
use crate::intrinsic::Expr;
use crate::resources::sqs::{CfnQueue, CfnQueuePolicy, RedrivePolicy};
use crate::stack::{PolicySlot, Stack};

/// Seconds SQS keeps a message at most (14 days).
pub const MAX_RETENTION_SECS: u32 = 1_209_600;

/// The dead-letter queue a construct creates beside the queue.
#[derive(Clone, Debug)]
pub struct DeadLetter {
    /// Receives before a message moves to the dead-letter queue (1-1,000).
    pub max_receive_count: u32,
}

/// Queue settings; `Default` is the secure configuration.
#[derive(Clone, Debug)]
pub struct QueueProps {
    /// Seconds a received message stays invisible (30). Must be at least the consuming
    /// function's timeout; AWS recommends six times it.
    pub visibility_timeout_secs: u32,
    /// Seconds a message is kept (4 days).
    pub retention_secs: u32,
    /// A dead-letter queue at `<path>/DeadLetterQueue` with 14 days retention (3 receives).
    /// `None`: the rule pack reports `SQS-DLQ`.
    pub dead_letter: Option<DeadLetter>,
    /// A queue policy statement denying requests without TLS (on).
    pub enforce_tls: bool,
    /// SSE-SQS (on).
    pub encrypted: bool,
}

impl Default for QueueProps {
    fn default() -> Self {
        QueueProps {
            visibility_timeout_secs: 30,
            retention_secs: 345_600,
            dead_letter: Some(DeadLetter { max_receive_count: 3 }),
            enforce_tls: true,
            encrypted: true,
        }
    }
}

/// An SQS queue in a stack.
#[derive(Clone, Debug, PartialEq)]
pub struct Queue {
    /// The queue's logical ID.
    pub logical_id: String,
    /// The queue policy's logical ID.
    pub policy_id: String,
    /// The dead-letter queue, when the construct made one.
    pub dead_letter_queue: Option<Box<Queue>>,
    /// Seconds a received message stays invisible.
    pub visibility_timeout_secs: u32,
}

impl Queue {
    /// Adds an `AWS::SQS::Queue` at `path`, its queue policy at `path/Policy` and, by default,
    /// a dead-letter queue at `path/DeadLetterQueue`.
    ///
    /// # Errors
    /// As [`Stack::add`]; [`SynthError::InvalidConstruct`] for values SQS rejects.
    pub fn new(stack: &mut Stack, path: &str, props: QueueProps) -> Result<Self, SynthError> {
        let invalid = |reason: String| SynthError::InvalidConstruct { construct: path.to_owned(), reason };
        if props.visibility_timeout_secs > 43_200 {
            return Err(invalid("visibility timeout is at most 43,200 seconds".into()));
        }
        if !(60..=MAX_RETENTION_SECS).contains(&props.retention_secs) {
            return Err(invalid("retention is 60 to 1,209,600 seconds".into()));
        }
        let dead_letter_queue = match &props.dead_letter {
            Some(dl) if (1..=1000).contains(&dl.max_receive_count) => {
                let dlq_props = QueueProps {
                    retention_secs: MAX_RETENTION_SECS,
                    dead_letter: None,
                    ..props.clone()
                };
                Some(Box::new(Queue::new(stack, &format!("{path}/DeadLetterQueue"), dlq_props)?))
            }
            Some(_) => return Err(invalid("maxReceiveCount is 1 to 1,000".into())),
            None => None,
        };
        let cfn = CfnQueue {
            queue_name: None,
            sqs_managed_sse_enabled: props.encrypted.then_some(true),
            kms_master_key_id: None,
            visibility_timeout: Some(props.visibility_timeout_secs),
            message_retention_period: Some(props.retention_secs),
            receive_message_wait_time_seconds: Some(20),
            redrive_policy: match (&dead_letter_queue, &props.dead_letter) {
                (Some(dlq), Some(dl)) => {
                    Some(RedrivePolicy { dead_letter_target_arn: dlq.arn(), max_receive_count: dl.max_receive_count })
                }
                _ => None,
            },
        };
        let logical_id = stack.add(path, &cfn)?;
        let policy_id = stack.add(
            &format!("{path}/Policy"),
            &CfnQueuePolicy { queues: vec![Expr::reference(&logical_id)], policy_document: PolicyDocument::new(Vec::new()) },
        )?;
        stack.register_policy(&policy_id, PolicySlot::Property("PolicyDocument"));
        let queue =
            Queue { logical_id, policy_id, dead_letter_queue, visibility_timeout_secs: props.visibility_timeout_secs };
        if props.enforce_tls {
            queue.add_to_resource_policy(stack, Statement::deny_insecure_transport(&["sqs:*"], vec![queue.arn()]))?;
        }
        Ok(queue)
    }

    /// `{"Fn::GetAtt": [queue, "Arn"]}`.
    pub fn arn(&self) -> Expr {
        Expr::get_att(&self.logical_id, "Arn")
    }

    /// `{"Ref": queue}`: the queue URL.
    pub fn url(&self) -> Expr {
        Expr::reference(&self.logical_id)
    }

    /// `{"Fn::GetAtt": [queue, "QueueName"]}`.
    pub fn name(&self) -> Expr {
        Expr::get_att(&self.logical_id, "QueueName")
    }

    /// Adds a statement to the queue policy.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn add_to_resource_policy(&self, stack: &mut Stack, statement: Statement) -> Result<(), SynthError> {
        stack.add_statement(&self.policy_id, statement)
    }

    /// Grants what a Lambda event source mapping needs to poll the queue:
    /// `sqs:ReceiveMessage`, `sqs:DeleteMessage`, `sqs:ChangeMessageVisibility`,
    /// `sqs:GetQueueAttributes` (<https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html>).
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn grant_consume(&self, stack: &mut Stack, role: &Role) -> Result<(), SynthError> {
        let actions = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"];
        role.add_to_policy(stack, Statement::allow(actions, vec![self.arn()]).with_sid(sid(&[&self.logical_id, "Consume"])))
    }

    /// Grants `sqs:SendMessage`.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn grant_send(&self, stack: &mut Stack, role: &Role) -> Result<(), SynthError> {
        role.add_to_policy(stack, Statement::allow(["sqs:SendMessage"], vec![self.arn()]).with_sid(sid(&[&self.logical_id, "Send"])))
    }
}
