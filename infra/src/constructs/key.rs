//! [`Key`]: a customer managed KMS key with rotation, for what AWS managed keys cannot do
//! (e.g. CloudWatch alarms publishing to an encrypted topic).

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
            .with_principal(Principal::Aws(Expr::sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")));
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
    pub fn allow_service(&self, stack: &mut Stack, service: &str, actions: &[&str]) -> Result<(), SynthError> {
        let sid: String = format!("Allow{service}").chars().filter(char::is_ascii_alphanumeric).collect();
        let statement = Statement::allow(actions.iter().copied(), vec!["*".into()])
            .with_sid(sid)
            .with_principal(Principal::Service(service.to_owned()))
            .with_condition("StringEquals", "aws:SourceAccount", Expr::pseudo(Pseudo::AccountId));
        stack.add_statement(&self.logical_id, statement)
    }
}
