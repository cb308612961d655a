//! `AWS::IAM::Role`.

use serde::Serialize;
use serde_with::skip_serializing_none;

use crate::iam::PolicyDocument;
use crate::intrinsic::Expr;
use crate::template::CfnResource;

/// `AWS::IAM::Role` properties. Argus roles carry inline policies only (no managed policies).
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnRole {
    /// Role name.
    pub role_name: Option<Expr>,
    /// What the role is for.
    pub description: Option<String>,
    /// Who may assume the role.
    pub assume_role_policy_document: PolicyDocument,
    /// Inline policies.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<InlinePolicy>,
    /// Seconds a session lasts (3,600-43,200).
    pub max_session_duration: Option<u32>,
    /// The role's path (`/` by default; `/<name>/` groups roles so policies can name
    /// `role/<name>/*`).
    pub path: Option<String>,
    /// The ARN of the managed policy that bounds the role's permissions
    /// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html>).
    pub permissions_boundary: Option<Expr>,
}

impl CfnResource for CfnRole {
    const TYPE: &'static str = "AWS::IAM::Role";
}

/// `Policy` (an inline policy of a role).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InlinePolicy {
    /// Name, unique within the role.
    pub policy_name: String,
    /// The document.
    pub policy_document: PolicyDocument,
}

/// `AWS::IAM::OIDCProvider` properties: an OpenID Connect identity provider such as GitHub
/// Actions' (<https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html>).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnOidcProvider {
    /// The issuer URL, e.g. `https://token.actions.githubusercontent.com`.
    pub url: String,
    /// Audiences (`aud` claims) accepted, e.g. `sts.amazonaws.com`.
    pub client_id_list: Vec<String>,
}

impl CfnResource for CfnOidcProvider {
    const TYPE: &'static str = "AWS::IAM::OIDCProvider";
}

/// `AWS::IAM::ManagedPolicy` properties: a customer managed policy, used by Argus only as a
/// permissions boundary (<https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-managedpolicy.html>).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnManagedPolicy {
    /// The policy name (its ARN is `arn:<partition>:iam::<account>:policy<path><name>`).
    pub managed_policy_name: String,
    /// What the policy is for.
    pub description: String,
    /// The policy document.
    pub policy_document: PolicyDocument,
    /// Roles the policy is attached to (names or `Ref`s).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Expr>,
}

impl CfnResource for CfnManagedPolicy {
    const TYPE: &'static str = "AWS::IAM::ManagedPolicy";
}
