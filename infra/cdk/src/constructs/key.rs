//! [`Key`]: a customer managed KMS key with rotation, for what AWS managed keys cannot do
//! (e.g. CloudWatch alarms publishing to an encrypted topic).

use crate::constructs::grant::{Grantee, add_grants, arn_resource, imported_error};
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

/// A symmetric KMS key in a stack, or an existing key imported with [`Key::from_arn`]. A key of
/// the stack has a key policy giving the account root full access (the default key policy, so IAM
/// policies can grant use and the key cannot become unmanageable:
/// <https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html>).
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    /// The key's logical ID (for an imported key: the ID its path gives, used only to name grant
    /// statements).
    pub logical_id: String,
    path: String,
    imported_arn: Option<String>,
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
        // Grants only for AWS services acting on AWS resources, never to a principal directly
        // (AWS Control Tower CT.KMS.PR.3).
        let grants = Statement::deny(["kms:CreateGrant"], vec!["*".into()])
            .with_sid("GrantsOnlyForAwsResources")
            .with_principal(Principal::Any)
            .with_condition("BoolIfExists", "kms:GrantIsForAWSResource", "false".into())
            .with_condition("BoolIfExists", "aws:PrincipalIsAWSService", "false".into());
        stack.add_statement(&logical_id, grants)?;
        Ok(Key {
            logical_id,
            path: path.to_owned(),
            imported_arn: None,
        })
    }

    /// An existing key, by ARN (as aws-cdk-lib's `Key.fromKeyArn`), e.g.
    /// `arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/<key id>`: it adds nothing
    /// to the template, and grants on it name the ARN as given. Its key policy must let IAM
    /// policies of the account grant use (the default key policy does).
    ///
    /// # Errors
    /// [`SynthError::EmptyLogicalId`] for a path that gives no logical ID;
    /// [`SynthError::InvalidConstruct`] for an ARN not of the form
    /// `arn:<partition>:kms:<region>:<account>:key/<id>`.
    pub fn from_arn(path: &str, arn: &str) -> Result<Self, SynthError> {
        let rest = arn_resource(path, arn, ":kms:", "a KMS key")?;
        if !rest.contains(":key/") {
            return Err(SynthError::InvalidConstruct {
                construct: path.to_owned(),
                reason: format!(
                    "`{arn}` is not a key ARN (`…:key/<id>`; aliases cannot be granted on)"
                ),
            });
        }
        Ok(Key {
            logical_id: Stack::logical_id(path)?,
            path: path.to_owned(),
            imported_arn: Some(arn.to_owned()),
        })
    }

    /// Whether the key was imported with [`Key::from_arn`].
    pub fn is_imported(&self) -> bool {
        self.imported_arn.is_some()
    }

    /// `{"Fn::GetAtt": [key, "Arn"]}`, or the ARN an imported key was imported by.
    pub fn arn(&self) -> Expr {
        match &self.imported_arn {
            Some(arn) => Expr::interpolate(arn),
            None => Expr::get_att(&self.logical_id, "Arn"),
        }
    }

    /// Grants exactly `actions` (e.g. `kms:Decrypt`) on this key, as one statement named
    /// `<Key><verb>`, and returns it. Actions:
    /// <https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html>.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn grant(
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

    /// Grants `kms:Decrypt` (as aws-cdk-lib's `grantDecrypt`) and returns the statement.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn grant_decrypt(
        &self,
        stack: &mut Stack,
        grantee: &dyn Grantee,
    ) -> Result<Statement, SynthError> {
        self.grant(stack, grantee, "Decrypt", &["kms:Decrypt"])
    }

    /// Grants `kms:Encrypt`, `kms:Decrypt` and `kms:GenerateDataKey` (envelope encryption, no
    /// wildcard actions) and returns the statement.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn grant_encrypt_decrypt(
        &self,
        stack: &mut Stack,
        grantee: &dyn Grantee,
    ) -> Result<Statement, SynthError> {
        self.grant(
            stack,
            grantee,
            "EncryptDecrypt",
            &["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
        )
    }

    /// Lets an AWS service principal of this account use the key for `actions`
    /// (e.g. `kms:Decrypt`, `kms:GenerateDataKey*`).
    ///
    /// # Errors
    /// As [`Stack::add_statement`]; [`SynthError::InvalidConstruct`] for an imported key, whose
    /// key policy this stack does not manage.
    pub fn allow_service(
        &self,
        stack: &mut Stack,
        service: &str,
        actions: &[&str],
    ) -> Result<(), SynthError> {
        if self.is_imported() {
            return Err(imported_error(&self.path, "key policy"));
        }
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
                }, {
                    "Sid": "GrantsOnlyForAwsResources",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": ["kms:CreateGrant"],
                    "Resource": ["*"],
                    "Condition": {"BoolIfExists": {
                        "aws:PrincipalIsAWSService": "false",
                        "kms:GrantIsForAWSResource": "false"
                    }}
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
            synth.template.resources[&key.logical_id].property("KeyPolicy.Statement.2"),
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

    #[test]
    fn grants_on_an_imported_key_name_its_arn() {
        let mut stack = stack();
        let role = crate::test_support::worker(&mut stack);
        let arn = "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/0000-1111";
        let key = Key::from_arn("Shared", arn).unwrap();
        let decrypt = key.grant_decrypt(&mut stack, &role).unwrap();
        assert_eq!(decrypt.action, vec!["kms:Decrypt"]);
        assert_eq!(decrypt.resource, vec![Expr::sub(arn)]);
        assert_eq!(decrypt.sid.as_deref(), Some("SharedDecrypt"));
        let both = key.grant_encrypt_decrypt(&mut stack, &role).unwrap();
        assert!(both.action.iter().all(|a| !a.contains('*')));
        assert!(
            key.allow_service(&mut stack, "logs.amazonaws.com", &["kms:Decrypt"])
                .is_err()
        );
        assert!(Key::from_arn("Shared", "arn:${AWS::Partition}:kms:r:a:alias/x").is_err());
        let synth = stack.synth().unwrap();
        assert!(!synth.template.resources.contains_key("Shared"));
        assert_eq!(unsuppressed_rules(&synth), Vec::<&str>::new());
    }
}
