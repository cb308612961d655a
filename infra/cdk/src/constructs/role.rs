//! [`Role`]: an IAM role with one inline least-privilege policy that grants are gathered into.

use crate::error::SynthError;
use crate::iam::{PolicyDocument, Principal, Statement};
use crate::intrinsic::Expr;
use crate::resources::iam::CfnRole;
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

/// An IAM role in a stack. Grants from other constructs (`bucket.grant_read(stack, &role, …)`;
/// a role is a [`crate::constructs::Grantee`]) add statements to its single inline policy, named
/// by [`crate::stack::StackSettings::inline_policy_name`] (`least-privilege` by default).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    /// The role's logical ID.
    pub logical_id: String,
}

impl Role {
    /// Adds an `AWS::IAM::Role` at `path`, with the stack's role path and permissions boundary
    /// ([`Stack::set_role_defaults`]). No managed policies are ever attached.
    ///
    /// # Errors
    /// As [`Stack::add`].
    pub fn new(stack: &mut Stack, path: &str, props: RoleProps) -> Result<Self, SynthError> {
        let mut trust = Statement::allow([props.assume_action.clone()], Vec::new())
            .with_principal(props.assumed_by);
        for (operator, key, value) in props.trust_conditions {
            trust = trust.with_condition(&operator, &key, value);
        }
        let defaults = stack.settings().roles.clone();
        let logical_id = stack.add(
            path,
            &CfnRole {
                role_name: None,
                description: Some(props.description),
                assume_role_policy_document: PolicyDocument::new(vec![trust]),
                policies: Vec::new(),
                max_session_duration: props.max_session_duration,
                path: defaults.path,
                permissions_boundary: defaults.permissions_boundary,
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
    /// `CompareFaces` actions, and whatever the stack's rule set lists:
    /// [`Stack::add_resourceless_actions`]), in a statement of their own with `Resource: "*"`,
    /// and returns that statement.
    ///
    /// # Errors
    /// [`SynthError::InvalidConstruct`] if an action does support resources: those must be
    /// granted on exact ARNs through the owning construct.
    pub fn grant_resourceless(
        &self,
        stack: &mut Stack,
        sid: &str,
        actions: &[&str],
    ) -> Result<Statement, SynthError> {
        if actions.is_empty() {
            return Err(SynthError::InvalidConstruct {
                construct: self.logical_id.clone(),
                reason: format!("statement `{sid}` grants no action"),
            });
        }
        if let Some(action) = actions.iter().find(|a| !stack.rules().is_resourceless(a)) {
            return Err(SynthError::InvalidConstruct {
                construct: self.logical_id.clone(),
                reason: format!(
                    "`{action}` supports resource-level permissions; grant it on exact ARNs"
                ),
            });
        }
        let statement = Statement::allow(actions.iter().copied(), vec!["*".into()]).with_sid(sid);
        stack.add_statement(&self.logical_id, statement.clone())?;
        Ok(statement)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_support::{
        any_finding, assert_no_unsuppressed_errors, is_invalid_construct, stack, statements,
        synth_resource, unsuppressed_rules, worker,
    };

    #[test]
    fn role_trusts_only_the_given_service_and_has_no_managed_policies() {
        let mut stack = stack();
        let role = worker(&mut stack);
        let (synth, r) = synth_resource(&stack, &role.logical_id);
        assert_eq!(r.resource_type, "AWS::IAM::Role");
        assert_eq!(
            r.property("AssumeRolePolicyDocument"),
            Some(&json!({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": ["sts:AssumeRole"]}]
            }))
        );
        assert_eq!(r.property("Description"), Some(&json!("test worker")));
        assert_eq!(r.property("ManagedPolicyArns"), None);
        assert_eq!(r.property("Policies"), None, "no grants, no inline policy");
        assert_no_unsuppressed_errors(&synth);
    }

    #[test]
    fn trust_conditions_and_web_identity_are_written_to_the_trust_statement() {
        let mut stack = stack();
        let props = RoleProps {
            assumed_by: Principal::Federated(Expr::sub(
                "arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/token.actions.githubusercontent.com",
            )),
            trust_conditions: vec![(
                "StringEquals".into(),
                "token.actions.githubusercontent.com:aud".into(),
                "sts.amazonaws.com".into(),
            )],
            assume_action: "sts:AssumeRoleWithWebIdentity".into(),
            description: "deploy".into(),
            max_session_duration: Some(3600),
        };
        let role = Role::new(&mut stack, "Deploy", props).unwrap();
        let r = stack.resource(&role.logical_id).unwrap();
        assert_eq!(
            r.property("AssumeRolePolicyDocument.Statement.0"),
            Some(&json!({
                "Effect": "Allow",
                "Principal": {"Federated": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/token.actions.githubusercontent.com"}},
                "Action": ["sts:AssumeRoleWithWebIdentity"],
                "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}
            }))
        );
        assert_eq!(r.property("MaxSessionDuration"), Some(&json!(3600)));
    }

    #[test]
    fn grant_resourceless_accepts_detect_labels_in_a_statement_of_its_own() {
        let mut stack = stack();
        let role = worker(&mut stack);
        role.add_to_policy(
            &mut stack,
            Statement::allow(["s3:GetObject"], vec![Expr::sub("${Input.Arn}/*")])
                .with_sid("InputRead"),
        )
        .unwrap();
        role.grant_resourceless(&mut stack, "Rekognition", &["rekognition:DetectLabels"])
            .unwrap();
        let granted = statements(&stack, &role);
        assert_eq!(granted.len(), 2);
        assert_eq!(
            granted[1],
            json!({"Sid": "Rekognition", "Effect": "Allow", "Action": ["rekognition:DetectLabels"], "Resource": ["*"]})
        );
        assert_eq!(
            granted[0]["Resource"],
            json!([{"Fn::Sub": "${Input.Arn}/*"}]),
            "other grants keep their ARNs"
        );
        let synth = stack.synth().unwrap();
        assert_eq!(
            synth.template.resources[&role.logical_id]
                .property("Policies.0.PolicyDocument.Statement.1.Resource"),
            Some(&json!(["*"]))
        );
        assert!(
            !any_finding(&synth, |f| f.rule.starts_with("IAM-")),
            "{:?}",
            synth.report.findings
        );
    }

    #[test]
    fn grant_resourceless_rejects_actions_that_support_resources() {
        let mut stack = stack();
        let role = worker(&mut stack);
        for actions in [
            &["s3:GetObject"][..],
            &["rekognition:DetectLabels", "s3:GetObject"][..],
            &["rekognition:*"][..],
        ] {
            let err = role
                .grant_resourceless(&mut stack, "Bad", actions)
                .unwrap_err();
            assert!(is_invalid_construct(&err, "Worker"), "{err}");
        }
        assert!(
            stack.statements(&role.logical_id).is_empty(),
            "nothing is granted when an action is refused"
        );
    }

    #[test]
    fn a_wildcard_resource_added_by_hand_is_reported_and_suppressible() {
        let mut stack = stack();
        let role = worker(&mut stack);
        role.add_to_policy(
            &mut stack,
            Statement::allow(["s3:GetObject"], vec!["*".into()]).with_sid("Everything"),
        )
        .unwrap();
        let synth = stack.synth().unwrap();
        assert_eq!(unsuppressed_rules(&synth), vec!["IAM-WILDCARD-RESOURCE"]);

        let reason = "a temporary grant while the bucket is migrated";
        stack
            .suppress(&role.logical_id, "IAM-WILDCARD-RESOURCE", reason)
            .unwrap();
        let synth = stack.synth().unwrap();
        assert_no_unsuppressed_errors(&synth);
        assert_eq!(
            synth.template.resources[&role.logical_id].metadata["checkov"],
            json!({"skip": [{"id": "CKV_AWS_111", "comment": reason}, {"id": "CKV_AWS_355", "comment": reason}]})
        );
    }

    #[test]
    fn arn_refers_to_the_role() {
        let mut stack = stack();
        let role = worker(&mut stack);
        assert_eq!(
            role.arn().to_json(),
            json!({"Fn::GetAtt": ["Worker", "Arn"]})
        );
    }

    #[test]
    fn resourceless_actions_added_to_the_stack_are_accepted_and_not_reported() {
        let mut stack = stack();
        let role = worker(&mut stack);
        assert!(
            role.grant_resourceless(&mut stack, "Describe", &["ec2:DescribeInstances"])
                .is_err()
        );
        stack.add_resourceless_actions(["ec2:DescribeInstances"]);
        let statement = role
            .grant_resourceless(&mut stack, "Describe", &["ec2:DescribeInstances"])
            .unwrap();
        assert_eq!(statement.resource, vec![Expr::from("*")]);
        assert_eq!(stack.statements(&role.logical_id), [statement]);
        let synth = stack.synth().unwrap();
        assert!(!any_finding(&synth, |f| f.rule == "IAM-WILDCARD-RESOURCE"));
    }
}
