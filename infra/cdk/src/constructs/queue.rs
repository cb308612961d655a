//! [`Queue`]: an SQS queue with SSE, a TLS-only queue policy and a dead-letter queue.

use crate::constructs::grant::{Grantee, add_grants, arn_resource, imported_error};
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
            dead_letter: Some(DeadLetter {
                max_receive_count: 3,
            }),
            enforce_tls: true,
            encrypted: true,
        }
    }
}

/// An SQS queue in a stack, or an existing queue imported with [`Queue::from_arn`].
#[derive(Clone, Debug, PartialEq)]
pub struct Queue {
    /// The queue's logical ID (for an imported queue: the ID its path gives, used only to name
    /// grant statements).
    pub logical_id: String,
    /// The queue policy's logical ID (empty for an imported queue, whose policy this stack does
    /// not manage).
    pub policy_id: String,
    /// The dead-letter queue, when the construct made one.
    pub dead_letter_queue: Option<Box<Queue>>,
    /// Seconds a received message stays invisible (for an imported queue: SQS's default, 30,
    /// unless set).
    pub visibility_timeout_secs: u32,
    imported_arn: Option<String>,
    path: String,
}

impl Queue {
    /// Adds an `AWS::SQS::Queue` at `path`, its queue policy at `path/Policy` and, by default,
    /// a dead-letter queue at `path/DeadLetterQueue`.
    ///
    /// # Errors
    /// As [`Stack::add`]; [`SynthError::InvalidConstruct`] for values SQS rejects.
    pub fn new(stack: &mut Stack, path: &str, props: QueueProps) -> Result<Self, SynthError> {
        let invalid = |reason: String| SynthError::InvalidConstruct {
            construct: path.to_owned(),
            reason,
        };
        if props.visibility_timeout_secs > 43_200 {
            return Err(invalid(
                "visibility timeout is at most 43,200 seconds".into(),
            ));
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
                let dlq = Queue::new(stack, &format!("{path}/DeadLetterQueue"), dlq_props)?;
                stack.suppress(
                    &dlq.logical_id,
                    "SQS-DLQ",
                    "this is the dead-letter queue: failed messages end here, watched by a depth alarm; a queue behind it would hide them",
                )?;
                Some(Box::new(dlq))
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
                (Some(dlq), Some(dl)) => Some(RedrivePolicy {
                    dead_letter_target_arn: dlq.arn(),
                    max_receive_count: dl.max_receive_count,
                }),
                _ => None,
            },
        };
        let logical_id = stack.add(path, &cfn)?;
        let policy_id = stack.add(
            &format!("{path}/Policy"),
            &CfnQueuePolicy {
                queues: vec![Expr::reference(&logical_id)],
                policy_document: PolicyDocument::new(Vec::new()),
            },
        )?;
        stack.register_policy(&policy_id, PolicySlot::Property("PolicyDocument"));
        let queue = Queue {
            logical_id,
            policy_id,
            dead_letter_queue,
            visibility_timeout_secs: props.visibility_timeout_secs,
            imported_arn: None,
            path: path.to_owned(),
        };
        if props.enforce_tls {
            queue.add_to_resource_policy(
                stack,
                Statement::deny_insecure_transport(&["sqs:*"], vec![queue.arn()]),
            )?;
        }
        Ok(queue)
    }

    /// An existing queue, by ARN (as aws-cdk-lib's `Queue.fromQueueArn`), e.g.
    /// `arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:jobs`: it adds nothing to the
    /// template, and grants on it name the ARN as given (a template is written with `Fn::Sub`).
    /// Its visibility timeout is taken to be SQS's default (30 s); set
    /// [`Queue::visibility_timeout_secs`] when it differs.
    ///
    /// # Errors
    /// [`SynthError::EmptyLogicalId`] for a path that gives no logical ID;
    /// [`SynthError::InvalidConstruct`] for an ARN not of the form
    /// `arn:<partition>:sqs:<region>:<account>:<name>`.
    pub fn from_arn(path: &str, arn: &str) -> Result<Self, SynthError> {
        arn_resource(path, arn, ":sqs:", "an SQS queue")?;
        Ok(Queue {
            logical_id: Stack::logical_id(path)?,
            policy_id: String::new(),
            dead_letter_queue: None,
            visibility_timeout_secs: 30,
            imported_arn: Some(arn.to_owned()),
            path: path.to_owned(),
        })
    }

    /// Whether the queue was imported with [`Queue::from_arn`].
    pub fn is_imported(&self) -> bool {
        self.imported_arn.is_some()
    }

    /// `{"Fn::GetAtt": [queue, "Arn"]}`, or the ARN an imported queue was imported by.
    pub fn arn(&self) -> Expr {
        match &self.imported_arn {
            Some(arn) => Expr::interpolate(arn),
            None => Expr::get_att(&self.logical_id, "Arn"),
        }
    }

    /// The queue URL: `{"Ref": queue}`, or for an imported queue
    /// `https://sqs.<region>.<URL suffix>/<account>/<name>` from the ARN's fields
    /// (`Fn::Select` over `Fn::Split`).
    pub fn url(&self) -> Expr {
        match &self.imported_arn {
            Some(arn) => {
                let field = |i| Expr::select(i, Expr::split(":", Expr::interpolate(arn)));
                Expr::join(
                    "",
                    vec![
                        "https://sqs.".into(),
                        field(3),
                        ".".into(),
                        Expr::pseudo(crate::intrinsic::Pseudo::UrlSuffix),
                        "/".into(),
                        field(4),
                        "/".into(),
                        field(5),
                    ],
                )
            }
            None => Expr::reference(&self.logical_id),
        }
    }

    /// `{"Fn::GetAtt": [queue, "QueueName"]}`, or for an imported queue the last field of its ARN.
    pub fn name(&self) -> Expr {
        match &self.imported_arn {
            Some(arn) => Expr::select(5, Expr::split(":", Expr::interpolate(arn))),
            None => Expr::get_att(&self.logical_id, "QueueName"),
        }
    }

    /// Adds a statement to the queue policy.
    ///
    /// # Errors
    /// As [`Stack::add_statement`]; [`SynthError::InvalidConstruct`] for an imported queue,
    /// whose policy this stack does not manage.
    pub fn add_to_resource_policy(
        &self,
        stack: &mut Stack,
        statement: Statement,
    ) -> Result<(), SynthError> {
        if self.is_imported() {
            return Err(imported_error(&self.path, "queue policy"));
        }
        stack.add_statement(&self.policy_id, statement)
    }

    /// Grants what a Lambda event source mapping needs to poll the queue:
    /// `sqs:ReceiveMessage`, `sqs:DeleteMessage`, `sqs:ChangeMessageVisibility`,
    /// `sqs:GetQueueAttributes` (<https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html>),
    /// and returns the statement added.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn grant_consume(
        &self,
        stack: &mut Stack,
        grantee: &dyn Grantee,
    ) -> Result<Statement, SynthError> {
        let actions = [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueAttributes",
        ];
        self.grant_one(stack, grantee, "Consume", &actions)
    }

    /// Grants `sqs:SendMessage` (the least a producer needs) and returns the statement added.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn grant_send(
        &self,
        stack: &mut Stack,
        grantee: &dyn Grantee,
    ) -> Result<Statement, SynthError> {
        self.grant_one(stack, grantee, "Send", &["sqs:SendMessage"])
    }

    fn grant_one(
        &self,
        stack: &mut Stack,
        grantee: &dyn Grantee,
        verb: &str,
        actions: &[&str],
    ) -> Result<Statement, SynthError> {
        let statement = Statement::allow(actions.iter().copied(), vec![self.arn()])
            .with_sid(sid(&[&self.logical_id, verb]));
        add_grants(stack, grantee, vec![statement.clone()])?;
        Ok(statement)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_support::{
        assert_stable, first_finding, inline_policy_statements, is_invalid_construct, pair, stack,
        statements, synthesized, unsuppressed, with_worker, worker,
    };

    fn without_dead_letter() -> QueueProps {
        QueueProps {
            dead_letter: None,
            ..QueueProps::default()
        }
    }

    #[test]
    fn defaults_encrypt_with_sse_sqs_and_long_poll() {
        let mut stack = stack();
        let queue = Queue::new(&mut stack, "Ingest", QueueProps::default()).unwrap();
        let r = synthesized(&stack, &queue.logical_id);
        assert_eq!(r.resource_type, "AWS::SQS::Queue");
        assert_eq!(r.property("SqsManagedSseEnabled"), Some(&json!(true)));
        assert_eq!(r.property("VisibilityTimeout"), Some(&json!(30)));
        assert_eq!(r.property("MessageRetentionPeriod"), Some(&json!(345_600)));
        assert_eq!(
            r.property("ReceiveMessageWaitTimeSeconds"),
            Some(&json!(20))
        );
        assert_eq!(queue.visibility_timeout_secs, 30);
    }

    #[test]
    fn default_creates_a_dead_letter_queue_beside_the_queue() {
        let mut stack = stack();
        let queue = Queue::new(&mut stack, "Ingest", QueueProps::default()).unwrap();
        let dlq = queue.dead_letter_queue.as_deref().unwrap();
        assert_eq!(dlq.logical_id, "IngestDeadLetterQueue");
        assert!(dlq.dead_letter_queue.is_none());
        let synth = stack.synth().unwrap();
        let dlq_resource = &synth.template.resources[&dlq.logical_id];
        assert_eq!(
            dlq_resource.metadata["argus:path"],
            "test-stack/Ingest/DeadLetterQueue"
        );
        assert_eq!(
            dlq_resource.property("MessageRetentionPeriod"),
            Some(&json!(MAX_RETENTION_SECS))
        );
        assert_eq!(
            dlq_resource.property("SqsManagedSseEnabled"),
            Some(&json!(true))
        );
        assert_eq!(dlq_resource.property("RedrivePolicy"), None);
        assert_eq!(
            synth.template.resources[&queue.logical_id].property("RedrivePolicy"),
            Some(
                &json!({"deadLetterTargetArn": {"Fn::GetAtt": ["IngestDeadLetterQueue", "Arn"]}, "maxReceiveCount": 3})
            )
        );
    }

    #[test]
    fn max_receive_count_is_passed_to_the_redrive_policy() {
        let mut stack = stack();
        let props = QueueProps {
            dead_letter: Some(DeadLetter {
                max_receive_count: 5,
            }),
            ..QueueProps::default()
        };
        let queue = Queue::new(&mut stack, "Ingest", props).unwrap();
        let r = stack.resource(&queue.logical_id).unwrap();
        assert_eq!(r.property("RedrivePolicy.maxReceiveCount"), Some(&json!(5)));
    }

    #[test]
    fn queue_and_dead_letter_queue_policies_deny_requests_without_tls() {
        let mut stack = stack();
        let queue = Queue::new(&mut stack, "Ingest", QueueProps::default()).unwrap();
        let dlq = queue.dead_letter_queue.clone().unwrap();
        let synth = stack.synth().unwrap();
        for q in [&queue, dlq.as_ref()] {
            let policy = &synth.template.resources[&q.policy_id];
            assert_eq!(policy.resource_type, "AWS::SQS::QueuePolicy");
            assert_eq!(
                policy.property("Queues"),
                Some(&json!([{"Ref": q.logical_id}]))
            );
            assert_eq!(
                policy.property("PolicyDocument.Statement"),
                Some(&json!([{
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": ["sqs:*"],
                    "Resource": [{"Fn::GetAtt": [q.logical_id, "Arn"]}],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}}
                }]))
            );
        }
    }

    #[test]
    fn default_queue_passes_every_error_rule() {
        let mut stack = stack();
        Queue::new(&mut stack, "Ingest", QueueProps::default()).unwrap();
        let synth = stack.synth().unwrap();
        assert_eq!(unsuppressed(&synth), Vec::<(String, String)>::new());
    }

    #[test]
    fn no_dead_letter_queue_is_reported_as_sqs_dlq() {
        let mut stack = stack();
        let queue = Queue::new(&mut stack, "Ingest", without_dead_letter()).unwrap();
        assert!(queue.dead_letter_queue.is_none());
        let synth = stack.synth().unwrap();
        assert!(
            !synth
                .template
                .resources
                .contains_key("IngestDeadLetterQueue")
        );
        assert_eq!(
            synth.template.resources[&queue.logical_id].property("RedrivePolicy"),
            None
        );
        assert_eq!(unsuppressed(&synth), vec![pair("Ingest", "SQS-DLQ")]);
    }

    #[test]
    fn suppressing_sqs_dlq_writes_argus_metadata_but_no_checkov_skip() {
        let mut stack = stack();
        let queue = Queue::new(&mut stack, "Ingest", without_dead_letter()).unwrap();
        let reason = "messages are replayed from the bucket instead";
        stack
            .suppress(&queue.logical_id, "SQS-DLQ", reason)
            .unwrap();
        let synth = stack.synth().unwrap();
        assert_eq!(unsuppressed(&synth), Vec::<(String, String)>::new());
        let finding = first_finding(&synth, "SQS-DLQ");
        assert_eq!(finding.suppressed.as_deref(), Some(reason));
        let meta = &synth.template.resources[&queue.logical_id].metadata;
        assert_eq!(
            meta["argus"],
            json!({"suppressions": [{"id": "SQS-DLQ", "reason": reason}]})
        );
        assert!(
            !meta.contains_key("checkov"),
            "SQS-DLQ mirrors no checkov check"
        );
    }

    #[test]
    fn tls_opt_out_is_reported_for_the_queue_and_its_dead_letter_queue() {
        let mut stack = stack();
        let queue = Queue::new(
            &mut stack,
            "Ingest",
            QueueProps {
                enforce_tls: false,
                ..QueueProps::default()
            },
        )
        .unwrap();
        assert!(stack.statements(&queue.policy_id).is_empty());
        let synth = stack.synth().unwrap();
        assert_eq!(
            unsuppressed(&synth),
            vec![
                pair("Ingest", "SQS-TLS"),
                pair("IngestDeadLetterQueue", "SQS-TLS")
            ]
        );
    }

    #[test]
    fn encryption_opt_out_is_reported() {
        let mut stack = stack();
        let queue = Queue::new(
            &mut stack,
            "Ingest",
            QueueProps {
                encrypted: false,
                dead_letter: None,
                ..QueueProps::default()
            },
        )
        .unwrap();
        let synth = stack.synth().unwrap();
        assert_eq!(
            synth.template.resources[&queue.logical_id].property("SqsManagedSseEnabled"),
            None
        );
        assert!(unsuppressed(&synth).contains(&pair("Ingest", "SQS-ENCRYPTION")));
    }

    #[test]
    fn grant_consume_allows_the_four_polling_actions_on_the_queue_only() {
        let (mut stack, queue, role) =
            with_worker(|stack| Queue::new(stack, "Ingest", QueueProps::default()).unwrap());
        queue.grant_consume(&mut stack, &role).unwrap();
        assert_eq!(
            statements(&stack, &role),
            vec![json!({
                "Sid": "IngestConsume",
                "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
                "Resource": [{"Fn::GetAtt": ["Ingest", "Arn"]}]
            })]
        );
        assert_eq!(
            stack.statements(&queue.policy_id).len(),
            1,
            "grants do not touch the queue policy"
        );
    }

    #[test]
    fn grant_send_allows_only_send_message() {
        let (mut stack, queue, role) =
            with_worker(|stack| Queue::new(stack, "Ingest", QueueProps::default()).unwrap());
        queue.grant_send(&mut stack, &role).unwrap();
        let synth = stack.synth().unwrap();
        assert_eq!(
            inline_policy_statements(&synth, &role),
            Some(&json!([{
                "Sid": "IngestSend",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage"],
                "Resource": [{"Fn::GetAtt": ["Ingest", "Arn"]}]
            }]))
        );
    }

    #[test]
    fn attribute_helpers_refer_to_the_queue() {
        let mut stack = stack();
        let queue = Queue::new(&mut stack, "Ingest", QueueProps::default()).unwrap();
        assert_eq!(queue.url().to_json(), json!({"Ref": "Ingest"}));
        assert_eq!(
            queue.name().to_json(),
            json!({"Fn::GetAtt": ["Ingest", "QueueName"]})
        );
        assert_eq!(
            queue.arn().to_json(),
            json!({"Fn::GetAtt": ["Ingest", "Arn"]})
        );
    }

    #[test]
    fn values_sqs_rejects_are_refused_before_anything_is_added() {
        let cases = [
            QueueProps {
                visibility_timeout_secs: 43_201,
                ..QueueProps::default()
            },
            QueueProps {
                retention_secs: 59,
                ..QueueProps::default()
            },
            QueueProps {
                retention_secs: MAX_RETENTION_SECS + 1,
                ..QueueProps::default()
            },
            QueueProps {
                dead_letter: Some(DeadLetter {
                    max_receive_count: 0,
                }),
                ..QueueProps::default()
            },
            QueueProps {
                dead_letter: Some(DeadLetter {
                    max_receive_count: 1001,
                }),
                ..QueueProps::default()
            },
        ];
        for props in cases {
            let mut stack = stack();
            let err = Queue::new(&mut stack, "Ingest", props).unwrap_err();
            assert!(is_invalid_construct(&err, "Ingest"), "{err}");
            assert!(stack.synth().unwrap().template.resources.is_empty());
        }
        let mut stack = stack();
        let edge = QueueProps {
            visibility_timeout_secs: 43_200,
            retention_secs: 60,
            dead_letter: Some(DeadLetter {
                max_receive_count: 1000,
            }),
            ..QueueProps::default()
        };
        assert!(Queue::new(&mut stack, "Ingest", edge).is_ok());
    }

    #[test]
    fn logical_ids_and_template_bytes_are_stable_across_stacks() {
        let (queue, _) = assert_stable(|stack| {
            let queue = Queue::new(stack, "ingest-queue", QueueProps::default()).unwrap();
            let role = worker(stack);
            queue.grant_consume(stack, &role).unwrap();
            queue
        });
        assert_eq!(queue.logical_id, "IngestQueue");
        assert_eq!(queue.policy_id, "IngestQueuePolicy");
    }

    #[test]
    fn grants_on_an_imported_queue_name_its_arn() {
        let (mut stack, (), role) = with_worker(|_| ());
        let arn = "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:jobs";
        let jobs = Queue::from_arn("Jobs", arn).unwrap();
        assert!(jobs.is_imported());
        let send = jobs.grant_send(&mut stack, &role).unwrap();
        let consume = jobs.grant_consume(&mut stack, &role).unwrap();
        assert_eq!(send.resource, vec![Expr::sub(arn)]);
        assert_eq!(send.sid.as_deref(), Some("JobsSend"));
        assert_eq!(consume.action.len(), 4);
        assert_eq!(stack.statements(&role.logical_id), [send, consume]);
        assert_eq!(
            jobs.name().to_json(),
            json!({"Fn::Select": ["5", {"Fn::Split": [":", {"Fn::Sub": arn}]}]})
        );
        let synth = stack.synth().unwrap();
        assert!(!synth.template.resources.contains_key("Jobs"));
        assert!(
            jobs.add_to_resource_policy(
                &mut stack,
                Statement::allow(["sqs:SendMessage"], vec![jobs.arn()])
            )
            .is_err()
        );
        assert!(Queue::from_arn("Jobs", "arn:${AWS::Partition}:sns:r:a:t").is_err());
    }
}
