//! [`Key`]: a customer managed KMS key with rotation, for what AWS managed keys cannot do
//! (e.g. CloudWatch alarms publishing to an encrypted topic).

use crate::constructs::sid;
use crate::error::SynthError;
use crate::iam::{PolicyDocument, Principal, Statement};
use crate::intrinsic::{Expr, Pseudo};
use crate::resources::kms::CfnKey;
use crate::stack::{PolicySlot, Stack};

/// Key settings.
#[derive(Clone, Debug)]
pub struct KeyProps {
    /// What the key is for.
    pub description: String,
}

/// A symmetric KMS key in a stack. Its key policy gives the account root full access (the
/// default key policy, so IAM policies can grant use and the key cannot become unmanageable:
/// <https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html>).
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    /// The key's logical ID.
    pub logical_id: String,
}

impl Key {
    /// Adds an `AWS::KMS::Key` at `path` with yearly rotation.
    ///
    /// # Errors
    /// As [`Stack::add`].
    pub fn new(stack: &mut Stack, path: &str, props: KeyProps) -> Result<Self, SynthError> {
        let logical_id = stack.add(
            path,
            &CfnKey {
                description: Some(props.description),
                enable_key_rotation: true,
                key_policy: PolicyDocument::new(Vec::new()),
                pending_window_in_days: Some(30),
            },
        )?;
        stack.register_policy(&logical_id, PolicySlot::Property("KeyPolicy"));
        let root = Statement::allow(["kms:*"], vec!["*".into()])
            .with_sid("AccountAdministration")
            .with_principal(Principal::Aws(Expr::arn(
                "iam",
                "",
                "${AWS::AccountId}",
                "root",
            )));
        stack.add_statement(&logical_id, root)?;
        Ok(Key { logical_id })
    }

    /// `{"Fn::GetAtt": [key, "Arn"]}`.
    pub fn arn(&self) -> Expr {
        Expr::get_att(&self.logical_id, "Arn")
    }

    /// Lets an AWS service principal of this account use the key for `actions`
    /// (e.g. `kms:Decrypt`, `kms:GenerateDataKey*`).
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn allow_service(
        &self,
        stack: &mut Stack,
        service: &str,
        actions: &[&str],
    ) -> Result<(), SynthError> {
        let statement = Statement::allow(actions.iter().copied(), vec!["*".into()])
            .with_sid(sid(&["Allow", service]))
            .with_principal(Principal::Service(service.to_owned()))
            .with_condition(
                "StringEquals",
                "aws:SourceAccount",
                Expr::pseudo(Pseudo::AccountId),
            );
        stack.add_statement(&self.logical_id, statement)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_support::{any_finding, stack, synth_resource, unsuppressed_rules};

    fn key(stack: &mut Stack) -> Key {
        Key::new(
            stack,
            "AlarmKey",
            KeyProps {
                description: "encrypts the alarm topic".into(),
            },
        )
        .unwrap()
    }

    #[test]
    fn key_rotates_yearly() {
        let mut stack = stack();
        let key = key(&mut stack);
        let (synth, r) = synth_resource(&stack, &key.logical_id);
        assert_eq!(r.resource_type, "AWS::KMS::Key");
        assert_eq!(r.property("EnableKeyRotation"), Some(&json!(true)));
        assert_eq!(r.property("PendingWindowInDays"), Some(&json!(30)));
        assert_eq!(
            r.property("Description"),
            Some(&json!("encrypts the alarm topic"))
        );
        assert!(!any_finding(&synth, |f| f.rule == "KMS-ROTATION"));
    }

    #[test]
    fn rotation_turned_off_by_override_is_reported() {
        let mut stack = stack();
        let key = key(&mut stack);
        stack
            .resource_mut(&key.logical_id)
            .unwrap()
            .add_property_override("EnableKeyRotation", false)
            .unwrap();
        let synth = stack.synth().unwrap();
        assert_eq!(unsuppressed_rules(&synth), vec!["KMS-ROTATION"]);
    }

    #[test]
    fn key_policy_gives_the_account_root_administration() {
        let mut stack = stack();
        let key = key(&mut stack);
        let synth = stack.synth().unwrap();
        assert_eq!(
            synth.template.resources[&key.logical_id].property("KeyPolicy"),
            Some(&json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "AccountAdministration",
                    "Effect": "Allow",
                    "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                    "Action": ["kms:*"],
                    "Resource": ["*"]
                }]
            }))
        );
    }

    #[test]
    fn allow_service_limits_the_service_to_this_account() {
        let mut stack = stack();
        let key = key(&mut stack);
        key.allow_service(
            &mut stack,
            "cloudwatch.amazonaws.com",
            &["kms:Decrypt", "kms:GenerateDataKey*"],
        )
        .unwrap();
        let synth = stack.synth().unwrap();
        assert_eq!(
            synth.template.resources[&key.logical_id].property("KeyPolicy.Statement.1"),
            Some(&json!({
                "Sid": "Allowcloudwatchamazonawscom",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": ["*"],
                "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
            }))
        );
        assert_eq!(
            key.arn().to_json(),
            json!({"Fn::GetAtt": ["AlarmKey", "Arn"]})
        );
    }
}
