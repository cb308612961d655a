//! [`Topic`]: an SNS topic encrypted with KMS, with a TLS-only topic policy.

use crate::constructs::role::Role;
use crate::constructs::sid;
use crate::error::SynthError;
use crate::iam::{PolicyDocument, Principal, Statement};
use crate::intrinsic::{Expr, Pseudo};
use crate::resources::sns::{CfnSubscription, CfnTopic, CfnTopicPolicy};
use crate::stack::{PolicySlot, Stack};

/// The KMS key that encrypts a topic.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum TopicKey {
    /// The AWS managed key `alias/aws/sns`. Publishers inside the account need no key grant;
    /// CloudWatch alarms cannot publish to such a topic (use [`TopicKey::Key`] for alarm topics).
    #[default]
    AwsManaged,
    /// A customer managed key (ID or ARN).
    Key(Expr),
}

/// Topic settings; `Default` is the secure configuration.
#[derive(Clone, Debug, Default)]
pub struct TopicProps {
    /// Name shown in e-mail notifications.
    pub display_name: Option<String>,
    /// The KMS key (`alias/aws/sns`).
    pub key: TopicKey,
}

/// An SNS topic in a stack.
#[derive(Clone, Debug, PartialEq)]
pub struct Topic {
    /// The topic's logical ID.
    pub logical_id: String,
    /// The topic policy's logical ID.
    pub policy_id: String,
    path: String,
}

impl Topic {
    /// Adds an `AWS::SNS::Topic` at `path` and its topic policy (TLS-only publishing) at
    /// `path/Policy`.
    ///
    /// # Errors
    /// As [`Stack::add`].
    pub fn new(stack: &mut Stack, path: &str, props: TopicProps) -> Result<Self, SynthError> {
        let key = match props.key {
            TopicKey::AwsManaged => Expr::str("alias/aws/sns"),
            TopicKey::Key(key) => key,
        };
        let logical_id =
            stack.add(path, &CfnTopic { topic_name: None, display_name: props.display_name, kms_master_key_id: Some(key) })?;
        let policy_id = stack.add(
            &format!("{path}/Policy"),
            &CfnTopicPolicy { topics: vec![Expr::reference(&logical_id)], policy_document: PolicyDocument::new(Vec::new()) },
        )?;
        stack.register_policy(&policy_id, PolicySlot::Property("PolicyDocument"));
        let topic = Topic { logical_id, policy_id, path: path.to_owned() };
        stack.add_statement(&topic.policy_id, Statement::deny_insecure_transport(&["sns:Publish"], vec![topic.arn()]))?;
        Ok(topic)
    }

    /// `{"Ref": topic}`: the topic ARN.
    pub fn arn(&self) -> Expr {
        Expr::reference(&self.logical_id)
    }

    /// Grants `sns:Publish` on this topic.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn grant_publish(&self, stack: &mut Stack, role: &Role) -> Result<(), SynthError> {
        role.add_to_policy(stack, Statement::allow(["sns:Publish"], vec![self.arn()]).with_sid(sid(&[&self.logical_id, "Publish"])))
    }

    /// Lets CloudWatch alarms of this account publish to the topic.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn allow_cloudwatch_alarms(&self, stack: &mut Stack) -> Result<(), SynthError> {
        let statement = Statement::allow(["sns:Publish"], vec![self.arn()])
            .with_sid("AllowCloudWatchAlarms")
            .with_principal(Principal::Service("cloudwatch.amazonaws.com".into()))
            .with_condition("StringEquals", "aws:SourceAccount", Expr::pseudo(Pseudo::AccountId));
        stack.add_statement(&self.policy_id, statement)
    }

    /// Subscribes an e-mail address (the owner confirms it from the message SNS sends).
    /// `index` numbers the subscription's construct path.
    ///
    /// # Errors
    /// As [`Stack::add`]; [`SynthError::InvalidConstruct`] for an address without `@`.
    pub fn add_email_subscription(&self, stack: &mut Stack, index: usize, email: &str) -> Result<String, SynthError> {
        if !email.contains('@') {
            return Err(SynthError::InvalidConstruct { construct: self.path.clone(), reason: format!("`{email}` is not an e-mail address") });
        }
        stack.add(
            &format!("{}/EmailSubscription{}", self.path, index + 1),
            &CfnSubscription { topic_arn: self.arn(), protocol: "email".into(), endpoint: email.into() },
        )
    }
}
