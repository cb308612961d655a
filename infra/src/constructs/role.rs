//! [`Role`]: an IAM role with one inline least-privilege policy that grants are gathered into.

use crate::error::SynthError;
use crate::iam::{PolicyDocument, Principal, Statement};
use crate::intrinsic::Expr;
use crate::resources::iam::CfnRole;
use crate::rules::RESOURCELESS_ACTIONS;
use crate::stack::{PolicySlot, Stack};

/// Who may assume the role.
#[derive(Clone, Debug)]
pub struct RoleProps {
    /// The trusted principal, e.g. `Principal::Service("lambda.amazonaws.com")`.
    pub assumed_by: Principal,
    /// Extra conditions on the trust statement: (operator, key, value).
    pub trust_conditions: Vec<(String, String, Expr)>,
    /// `sts:AssumeRole` or `sts:AssumeRoleWithWebIdentity`.
    pub assume_action: String,
    /// What the role is for.
    pub description: String,
    /// Session length in seconds (3,600-43,200).
    pub max_session_duration: Option<u32>,
}

impl RoleProps {
    /// A role a service assumes (`sts:AssumeRole`).
    pub fn for_service(service: &str, description: impl Into<String>) -> Self {
        RoleProps {
            assumed_by: Principal::Service(service.to_owned()),
            trust_conditions: Vec::new(),
            assume_action: "sts:AssumeRole".into(),
            description: description.into(),
            max_session_duration: None,
        }
    }
}

/// An IAM role in a stack. Grants from other constructs (`bucket.grant_read(stack, &role, …)`)
/// add statements to its single inline policy, [`crate::stack::INLINE_POLICY_NAME`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    /// The role's logical ID.
    pub logical_id: String,
}

impl Role {
    /// Adds an `AWS::IAM::Role` at `path`. No managed policies are ever attached.
    ///
    /// # Errors
    /// As [`Stack::add`].
    pub fn new(stack: &mut Stack, path: &str, props: RoleProps) -> Result<Self, SynthError> {
        let mut trust = Statement::allow([props.assume_action.clone()], Vec::new()).with_principal(props.assumed_by);
        for (operator, key, value) in props.trust_conditions {
            trust = trust.with_condition(&operator, &key, value);
        }
        let logical_id = stack.add(
            path,
            &CfnRole {
                role_name: None,
                description: Some(props.description),
                assume_role_policy_document: PolicyDocument::new(vec![trust]),
                policies: Vec::new(),
                max_session_duration: props.max_session_duration,
            },
        )?;
        stack.register_policy(&logical_id, PolicySlot::RoleInline);
        Ok(Role { logical_id })
    }

    /// `{"Fn::GetAtt": [role, "Arn"]}`.
    pub fn arn(&self) -> Expr {
        Expr::get_att(&self.logical_id, "Arn")
    }

    /// Adds a statement to the role's inline policy.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn add_to_policy(&self, stack: &mut Stack, statement: Statement) -> Result<(), SynthError> {
        stack.add_statement(&self.logical_id, statement)
    }

    /// Grants actions that support no resource-level permission (the Rekognition `Detect*` and
    /// `CompareFaces` actions), in a statement of their own with `Resource: "*"`.
    ///
    /// # Errors
    /// [`SynthError::InvalidConstruct`] if an action does support resources: those must be
    /// granted on exact ARNs through the owning construct.
    pub fn grant_resourceless(&self, stack: &mut Stack, sid: &str, actions: &[&str]) -> Result<(), SynthError> {
        if let Some(action) = actions.iter().find(|a| !RESOURCELESS_ACTIONS.contains(a)) {
            return Err(SynthError::InvalidConstruct {
                construct: self.logical_id.clone(),
                reason: format!("`{action}` supports resource-level permissions; grant it on exact ARNs"),
            });
        }
        stack.add_statement(&self.logical_id, Statement::allow(actions.iter().copied(), vec!["*".into()]).with_sid(sid))
    }
}
