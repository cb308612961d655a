//! The IAM policy language: [`PolicyDocument`], [`Statement`], [`Principal`].
//!
//! Grammar followed: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html>.
//! `Action` and `Resource` are always written as lists, and condition blocks are ordered, so a
//! document renders the same every time.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::intrinsic::Expr;

/// The policy language version every document declares.
pub const POLICY_VERSION: &str = "2012-10-17";

/// `Allow` or `Deny`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Effect {
    /// Grants the actions.
    Allow,
    /// Denies the actions, whatever else allows them.
    Deny,
}

/// Who a resource-based or trust policy statement applies to.
#[derive(Clone, Debug, PartialEq)]
pub enum Principal {
    /// `"*"`: anyone (used only in `Deny` statements and with conditions).
    Any,
    /// `{"Service": "…"}`: an AWS service principal such as `s3.amazonaws.com`.
    Service(String),
    /// `{"AWS": …}`: an account or role ARN.
    Aws(Expr),
    /// `{"Federated": …}`: a web identity or SAML provider ARN.
    Federated(Expr),
}

impl Serialize for Principal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (key, value) = match self {
            Principal::Any => return s.serialize_str("*"),
            Principal::Service(name) => ("Service", Expr::Str(name.clone())),
            Principal::Aws(arn) => ("AWS", arn.clone()),
            Principal::Federated(arn) => ("Federated", arn.clone()),
        };
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry(key, &value)?;
        map.end()
    }
}

/// One policy statement.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    /// An identifier for the statement (letters and digits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Allow or Deny.
    pub effect: Effect,
    /// For resource-based and trust policies: who.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    /// Actions such as `s3:GetObject`.
    pub action: Vec<String>,
    /// Resource ARNs (`"*"` only for actions that support no resource). Empty in trust policies.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource: Vec<Expr>,
    /// Condition operator → condition key → value.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub condition: BTreeMap<String, BTreeMap<String, Expr>>,
}

impl Statement {
    /// An `Allow` statement of `actions` on `resources`.
    pub fn allow<A: Into<String>>(
        actions: impl IntoIterator<Item = A>,
        resources: Vec<Expr>,
    ) -> Self {
        Statement {
            sid: None,
            effect: Effect::Allow,
            principal: None,
            action: actions.into_iter().map(Into::into).collect(),
            resource: resources,
            condition: BTreeMap::new(),
        }
    }

    /// A `Deny` statement of `actions` on `resources`.
    pub fn deny<A: Into<String>>(
        actions: impl IntoIterator<Item = A>,
        resources: Vec<Expr>,
    ) -> Self {
        Statement {
            effect: Effect::Deny,
            ..Statement::allow(actions, resources)
        }
    }

    /// The statement every TLS-only resource policy carries: deny `actions` to anyone over plain
    /// HTTP (`aws:SecureTransport` is `false`).
    /// See <https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html>.
    pub fn deny_insecure_transport(actions: &[&str], resources: Vec<Expr>) -> Self {
        Statement::deny(actions.iter().copied(), resources)
            .with_sid("DenyInsecureTransport")
            .with_principal(Principal::Any)
            .with_condition("Bool", "aws:SecureTransport", "false".into())
    }

    /// Sets the statement ID.
    #[must_use]
    pub fn with_sid(mut self, sid: impl Into<String>) -> Self {
        self.sid = Some(sid.into());
        self
    }

    /// Sets the principal.
    #[must_use]
    pub fn with_principal(mut self, principal: Principal) -> Self {
        self.principal = Some(principal);
        self
    }

    /// Adds a condition `operator: {key: value}` (e.g. `ArnLike`, `aws:SourceArn`, an ARN).
    #[must_use]
    pub fn with_condition(mut self, operator: &str, key: &str, value: Expr) -> Self {
        self.condition
            .entry(operator.to_owned())
            .or_default()
            .insert(key.to_owned(), value);
        self
    }

    /// Whether any resource is the wildcard `"*"`.
    pub fn has_wildcard_resource(&self) -> bool {
        self.resource.iter().any(|r| r.as_str() == Some("*"))
    }
}

/// A policy document: version and statements.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    /// Always [`POLICY_VERSION`].
    pub version: String,
    /// The statements, in the order they were added.
    pub statement: Vec<Statement>,
}

impl PolicyDocument {
    /// A document holding `statements`. Identical statements are kept once; statements that
    /// differ only in their resources and share a `Sid` are merged into one (two grants of the same
    /// kind on one bucket); any other repeated `Sid` gets a number appended, since IAM requires
    /// statement IDs to be unique within a policy.
    pub fn new(statements: Vec<Statement>) -> Self {
        let mut merged: Vec<Statement> = Vec::with_capacity(statements.len());
        for s in statements {
            if merged.contains(&s) {
                continue;
            }
            let same_grant = merged.iter_mut().find(|m| {
                m.sid.is_some()
                    && m.sid == s.sid
                    && m.effect == s.effect
                    && m.principal == s.principal
                    && m.action == s.action
                    && m.condition == s.condition
            });
            match same_grant {
                Some(m) => {
                    for r in s.resource {
                        if !m.resource.contains(&r) {
                            m.resource.push(r);
                        }
                    }
                }
                None => merged.push(s),
            }
        }
        let mut seen = std::collections::BTreeMap::<String, usize>::new();
        for s in &mut merged {
            if let Some(sid) = &s.sid {
                let n = seen.entry(sid.clone()).or_insert(0);
                *n += 1;
                if *n > 1 {
                    s.sid = Some(format!("{sid}{n}"));
                }
            }
        }
        PolicyDocument {
            version: POLICY_VERSION.to_owned(),
            statement: merged,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tls_only_statement_denies_plain_http_to_anyone() {
        let s = Statement::deny_insecure_transport(&["sqs:*"], vec![Expr::get_att("Q", "Arn")]);
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["sqs:*"],
                "Resource": [{"Fn::GetAtt": ["Q", "Arn"]}],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            })
        );
    }

    #[test]
    fn documents_keep_identical_statements_once() {
        let s = Statement::allow(["s3:GetObject"], vec!["arn".into()]);
        let doc = PolicyDocument::new(vec![s.clone(), s]);
        assert_eq!(doc.statement.len(), 1);
        assert_eq!(doc.version, "2012-10-17");
    }

    #[test]
    fn grants_of_one_kind_merge_and_other_repeated_sids_are_numbered() {
        let a = Statement::allow(["s3:GetObject"], vec!["arn:a".into()]).with_sid("InputRead");
        let b = Statement::allow(["s3:GetObject"], vec!["arn:b".into()]).with_sid("InputRead");
        let c = Statement::allow(["s3:PutObject"], vec!["arn:c".into()]).with_sid("InputRead");
        let doc = PolicyDocument::new(vec![a, b, c]);
        assert_eq!(doc.statement.len(), 2);
        assert_eq!(
            doc.statement[0].resource,
            vec![Expr::from("arn:a"), Expr::from("arn:b")]
        );
        assert_eq!(doc.statement[1].sid.as_deref(), Some("InputRead2"));
    }

    #[test]
    fn principals_serialize_by_kind() {
        assert_eq!(serde_json::to_value(Principal::Any).unwrap(), json!("*"));
        assert_eq!(
            serde_json::to_value(Principal::Service("s3.amazonaws.com".into())).unwrap(),
            json!({"Service": "s3.amazonaws.com"})
        );
    }
}
