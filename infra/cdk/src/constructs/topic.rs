//! [`Topic`]: an SNS topic encrypted with KMS, with a TLS-only topic policy.

use crate::constructs::grant::{Grantee, add_grants, arn_resource, imported_error};
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

/// An SNS topic in a stack, or an existing topic imported with [`Topic::from_arn`].
#[derive(Clone, Debug, PartialEq)]
pub struct Topic {
    /// The topic's logical ID (for an imported topic: the ID its path gives, used only to name
    /// grant statements).
    pub logical_id: String,
    /// The topic policy's logical ID (empty for an imported topic, whose policy this stack does
    /// not manage).
    pub policy_id: String,
    path: String,
    imported_arn: Option<String>,
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
        let logical_id = stack.add(
            path,
            &CfnTopic {
                topic_name: None,
                display_name: props.display_name,
                kms_master_key_id: Some(key),
            },
        )?;
        let policy_id = stack.add(
            &format!("{path}/Policy"),
            &CfnTopicPolicy {
                topics: vec![Expr::reference(&logical_id)],
                policy_document: PolicyDocument::new(Vec::new()),
            },
        )?;
        stack.register_policy(&policy_id, PolicySlot::Property("PolicyDocument"));
        let topic = Topic {
            logical_id,
            policy_id,
            path: path.to_owned(),
            imported_arn: None,
        };
        stack.add_statement(
            &topic.policy_id,
            Statement::deny_insecure_transport(&["sns:Publish"], vec![topic.arn()]),
        )?;
        Ok(topic)
    }

    /// An existing topic, by ARN (as aws-cdk-lib's `Topic.fromTopicArn`), e.g.
    /// `arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:alerts`: it adds nothing to the
    /// template, and grants on it name the ARN as given (a template is written with `Fn::Sub`).
    ///
    /// # Errors
    /// [`SynthError::EmptyLogicalId`] for a path that gives no logical ID;
    /// [`SynthError::InvalidConstruct`] for an ARN not of the form
    /// `arn:<partition>:sns:<region>:<account>:<name>`.
    pub fn from_arn(path: &str, arn: &str) -> Result<Self, SynthError> {
        arn_resource(path, arn, ":sns:", "an SNS topic")?;
        Ok(Topic {
            logical_id: Stack::logical_id(path)?,
            policy_id: String::new(),
            path: path.to_owned(),
            imported_arn: Some(arn.to_owned()),
        })
    }

    /// Whether the topic was imported with [`Topic::from_arn`].
    pub fn is_imported(&self) -> bool {
        self.imported_arn.is_some()
    }

    /// `{"Ref": topic}`: the topic ARN (or the ARN an imported topic was imported by).
    pub fn arn(&self) -> Expr {
        match &self.imported_arn {
            Some(arn) => Expr::interpolate(arn),
            None => Expr::reference(&self.logical_id),
        }
    }

    /// Grants `sns:Publish` on this topic and returns the statement added.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn grant_publish(
        &self,
        stack: &mut Stack,
        grantee: &dyn Grantee,
    ) -> Result<Statement, SynthError> {
        let statement = Statement::allow(["sns:Publish"], vec![self.arn()])
            .with_sid(sid(&[&self.logical_id, "Publish"]));
        add_grants(stack, grantee, vec![statement.clone()])?;
        Ok(statement)
    }

    /// Lets CloudWatch alarms of this account publish to the topic.
    ///
    /// # Errors
    /// As [`Stack::add_statement`]; [`SynthError::InvalidConstruct`] for an imported topic.
    pub fn allow_cloudwatch_alarms(&self, stack: &mut Stack) -> Result<(), SynthError> {
        if self.is_imported() {
            return Err(imported_error(&self.path, "topic policy"));
        }
        let statement = Statement::allow(["sns:Publish"], vec![self.arn()])
            .with_sid("AllowCloudWatchAlarms")
            .with_principal(Principal::Service("cloudwatch.amazonaws.com".into()))
            .with_condition(
                "StringEquals",
                "aws:SourceAccount",
                Expr::pseudo(Pseudo::AccountId),
            );
        stack.add_statement(&self.policy_id, statement)
    }

    /// Subscribes an e-mail address (the owner confirms it from the message SNS sends).
    /// `index` numbers the subscription's construct path.
    ///
    /// Works on an imported topic too (the subscription is a resource of this stack).
    ///
    /// # Errors
    /// As [`Stack::add`]; [`SynthError::InvalidConstruct`] for an address without `@`.
    pub fn add_email_subscription(
        &self,
        stack: &mut Stack,
        index: usize,
        email: &str,
    ) -> Result<String, SynthError> {
        if !email.contains('@') {
            return Err(SynthError::InvalidConstruct {
                construct: self.path.clone(),
                reason: format!("`{email}` is not an e-mail address"),
            });
        }
        stack.add(
            &format!("{}/EmailSubscription{}", self.path, index + 1),
            &CfnSubscription {
                topic_arn: self.arn(),
                protocol: "email".into(),
                endpoint: email.into(),
            },
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_support::{
        any_finding, assert_no_unsuppressed_errors, assert_stable, is_invalid_construct,
        policy_statements, stack, statements, synthesized, unsuppressed_rules, with_worker,
    };

    #[test]
    fn topic_is_encrypted_with_the_aws_managed_sns_key() {
        let mut stack = stack();
        let topic = Topic::new(&mut stack, "Alerts", TopicProps::default()).unwrap();
        let r = synthesized(&stack, &topic.logical_id);
        assert_eq!(r.resource_type, "AWS::SNS::Topic");
        assert_eq!(r.property("KmsMasterKeyId"), Some(&json!("alias/aws/sns")));
    }

    #[test]
    fn a_customer_managed_key_replaces_the_aws_managed_one() {
        let mut stack = stack();
        let props = TopicProps {
            display_name: Some("Argus".into()),
            key: TopicKey::Key(Expr::get_att("AlarmKey", "Arn")),
        };
        let topic = Topic::new(&mut stack, "Alerts", props).unwrap();
        let r = stack.resource(&topic.logical_id).unwrap();
        assert_eq!(
            r.property("KmsMasterKeyId"),
            Some(&json!({"Fn::GetAtt": ["AlarmKey", "Arn"]}))
        );
        assert_eq!(r.property("DisplayName"), Some(&json!("Argus")));
    }

    #[test]
    fn topic_policy_denies_publishing_without_tls() {
        let mut stack = stack();
        let topic = Topic::new(&mut stack, "Alerts", TopicProps::default()).unwrap();
        assert_eq!(topic.policy_id, "AlertsPolicy");
        let synth = stack.synth().unwrap();
        let policy = &synth.template.resources[&topic.policy_id];
        assert_eq!(policy.resource_type, "AWS::SNS::TopicPolicy");
        assert_eq!(policy.property("Topics"), Some(&json!([{"Ref": "Alerts"}])));
        assert_eq!(
            policy.property("PolicyDocument.Statement"),
            Some(&json!([{
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["sns:Publish"],
                "Resource": [{"Ref": "Alerts"}],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }]))
        );
    }

    #[test]
    fn default_topic_passes_every_error_rule() {
        let mut stack = stack();
        Topic::new(&mut stack, "Alerts", TopicProps::default()).unwrap();
        let synth = stack.synth().unwrap();
        assert_no_unsuppressed_errors(&synth);
        assert!(!any_finding(&synth, |f| f.rule.starts_with("SNS-")));
    }

    #[test]
    fn removing_the_key_is_reported() {
        let mut stack = stack();
        let topic = Topic::new(&mut stack, "Alerts", TopicProps::default()).unwrap();
        assert!(
            stack
                .resource_mut(&topic.logical_id)
                .unwrap()
                .add_property_deletion_override("KmsMasterKeyId")
                .unwrap()
        );
        let synth = stack.synth().unwrap();
        assert_eq!(unsuppressed_rules(&synth), vec!["SNS-ENCRYPTION"]);
    }

    #[test]
    fn grant_publish_allows_sns_publish_on_the_topic_only() {
        let (mut stack, topic, role) =
            with_worker(|stack| Topic::new(stack, "Alerts", TopicProps::default()).unwrap());
        topic.grant_publish(&mut stack, &role).unwrap();
        assert_eq!(
            statements(&stack, &role),
            vec![json!({
                "Sid": "AlertsPublish",
                "Effect": "Allow",
                "Action": ["sns:Publish"],
                "Resource": [{"Ref": "Alerts"}]
            })]
        );
        assert_eq!(
            stack.statements(&topic.policy_id).len(),
            1,
            "grants do not touch the topic policy"
        );
    }

    #[test]
    fn cloudwatch_alarms_may_publish_only_from_this_account() {
        let mut stack = stack();
        let topic = Topic::new(&mut stack, "Alerts", TopicProps::default()).unwrap();
        topic.allow_cloudwatch_alarms(&mut stack).unwrap();
        let synth = stack.synth().unwrap();
        let statements = policy_statements(&synth, &topic.policy_id);
        assert_eq!(
            statements[1],
            json!({
                "Sid": "AllowCloudWatchAlarms",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["sns:Publish"],
                "Resource": [{"Ref": "Alerts"}],
                "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
            })
        );
    }

    #[test]
    fn email_subscriptions_are_numbered_and_need_an_address() {
        let mut stack = stack();
        let topic = Topic::new(&mut stack, "Alerts", TopicProps::default()).unwrap();
        let id = topic
            .add_email_subscription(&mut stack, 0, "ops@example.com")
            .unwrap();
        assert_eq!(id, "AlertsEmailSubscription1");
        let r = stack.resource(&id).unwrap();
        assert_eq!(r.resource_type, "AWS::SNS::Subscription");
        assert_eq!(r.property("TopicArn"), Some(&json!({"Ref": "Alerts"})));
        assert_eq!(r.property("Protocol"), Some(&json!("email")));
        assert_eq!(r.property("Endpoint"), Some(&json!("ops@example.com")));
        let err = topic
            .add_email_subscription(&mut stack, 1, "not-an-address")
            .unwrap_err();
        assert!(is_invalid_construct(&err, "Alerts"), "{err}");
        assert!(stack.resource("AlertsEmailSubscription2").is_none());
    }

    #[test]
    fn logical_ids_and_template_bytes_are_stable_across_stacks() {
        let (topic, _) = assert_stable(|stack| {
            let topic = Topic::new(stack, "alerts", TopicProps::default()).unwrap();
            topic.allow_cloudwatch_alarms(stack).unwrap();
            topic
        });
        assert_eq!(topic.logical_id, "Alerts");
    }

    #[test]
    fn grant_publish_on_an_imported_topic_names_its_arn() {
        let (mut stack, (), role) = with_worker(|_| ());
        let arn = "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:ops";
        let ops = Topic::from_arn("Ops", arn).unwrap();
        let statement = ops.grant_publish(&mut stack, &role).unwrap();
        assert_eq!(
            serde_json::to_value(&statement).unwrap(),
            json!({"Sid": "OpsPublish", "Effect": "Allow", "Action": ["sns:Publish"], "Resource": [{"Fn::Sub": arn}]})
        );
        assert_eq!(statements(&stack, &role).len(), 1);
        let err = ops.allow_cloudwatch_alarms(&mut stack).unwrap_err();
        assert!(is_invalid_construct(&err, "Ops"), "{err}");
        assert!(Topic::from_arn("Ops", "ops").is_err());
    }
}
