//! CloudFormation intrinsic functions and pseudo parameters.
//!
//! [`Expr`] is the one value type used for every property that can hold an intrinsic: literals,
//! `Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::If`, `Fn::ImportValue`, `Fn::Select` and
//! `Fn::Split`. [`Cond`] is the condition-function type (`Fn::Equals`, `Fn::Not`, `Fn::And`,
//! `Fn::Or`, `Condition`). Both serialize to the JSON form the CloudFormation intrinsic function
//! reference gives:
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html>.
//!
//! ARNs are never written with a literal `arn:aws:` prefix: [`Expr::arn`] uses `${AWS::Partition}`
//! so templates work in the China and GovCloud partitions too.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

/// A pseudo parameter, predefined by CloudFormation.
///
/// See <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html>.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pseudo {
    /// `AWS::AccountId`: the 12-digit account ID of the stack.
    AccountId,
    /// `AWS::Region`: the Region the stack is created in, e.g. `eu-west-1`.
    Region,
    /// `AWS::Partition`: `aws`, `aws-cn` or `aws-us-gov`.
    Partition,
    /// `AWS::StackName`: the stack's name.
    StackName,
    /// `AWS::StackId`: the stack's ARN.
    StackId,
    /// `AWS::URLSuffix`: `amazonaws.com` (or `amazonaws.com.cn`).
    UrlSuffix,
    /// `AWS::NoValue`: removes the property it is assigned to (used with `Fn::If`).
    NoValue,
}

impl Pseudo {
    /// The pseudo parameter's name as written in a `Ref`.
    pub fn name(self) -> &'static str {
        match self {
            Pseudo::AccountId => "AWS::AccountId",
            Pseudo::Region => "AWS::Region",
            Pseudo::Partition => "AWS::Partition",
            Pseudo::StackName => "AWS::StackName",
            Pseudo::StackId => "AWS::StackId",
            Pseudo::UrlSuffix => "AWS::URLSuffix",
            Pseudo::NoValue => "AWS::NoValue",
        }
    }
}

/// A CloudFormation value: a literal or an intrinsic function.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A string literal.
    Str(String),
    /// An integer literal (serialized as a JSON number).
    Int(i64),
    /// A boolean literal.
    Bool(bool),
    /// A list of values.
    List(Vec<Expr>),
    /// `{"Ref": name}`: a parameter, a resource's logical ID or a pseudo parameter.
    Ref(String),
    /// `{"Fn::GetAtt": [logical_id, attribute]}`.
    GetAtt {
        /// The resource's logical ID.
        logical_id: String,
        /// The attribute name, e.g. `Arn`.
        attribute: String,
    },
    /// `{"Fn::Sub": template}` or `{"Fn::Sub": [template, {vars}]}`.
    Sub {
        /// The string with `${Name}` placeholders.
        template: String,
        /// Values for placeholders that are not parameters, resources or pseudo parameters.
        vars: BTreeMap<String, Expr>,
    },
    /// `{"Fn::Join": [delimiter, [items]]}`.
    Join {
        /// Placed between the items.
        delimiter: String,
        /// The values joined.
        items: Vec<Expr>,
    },
    /// `{"Fn::If": [condition, then, otherwise]}`.
    If {
        /// The name of a condition in the template's `Conditions` section.
        condition: String,
        /// The value when the condition is true.
        then: Box<Expr>,
        /// The value when it is false.
        otherwise: Box<Expr>,
    },
    /// `{"Fn::ImportValue": export_name}`: an output exported by another stack.
    ImportValue(Box<Expr>),
    /// `{"Fn::Select": [index, list]}`.
    Select {
        /// Zero-based index.
        index: u32,
        /// The list selected from.
        list: Box<Expr>,
    },
    /// `{"Fn::Split": [delimiter, source]}`.
    Split {
        /// The delimiter.
        delimiter: String,
        /// The string split.
        source: Box<Expr>,
    },
}

impl Expr {
    /// A string literal.
    pub fn str(value: impl Into<String>) -> Self {
        Expr::Str(value.into())
    }

    /// `{"Ref": name}`.
    pub fn reference(name: impl Into<String>) -> Self {
        Expr::Ref(name.into())
    }

    /// `{"Ref": "AWS::…"}` for a pseudo parameter.
    pub fn pseudo(pseudo: Pseudo) -> Self {
        Expr::Ref(pseudo.name().to_owned())
    }

    /// `{"Fn::GetAtt": [logical_id, attribute]}`.
    pub fn get_att(logical_id: impl Into<String>, attribute: impl Into<String>) -> Self {
        Expr::GetAtt {
            logical_id: logical_id.into(),
            attribute: attribute.into(),
        }
    }

    /// `{"Fn::Sub": template}` without extra variables.
    pub fn sub(template: impl Into<String>) -> Self {
        Expr::Sub {
            template: template.into(),
            vars: BTreeMap::new(),
        }
    }

    /// A name or value that may hold `${…}` placeholders: `Fn::Sub` when it does, a plain string
    /// when it does not (cfn-lint W1020 flags a `Fn::Sub` with nothing to substitute).
    pub fn interpolate(template: impl Into<String>) -> Self {
        let template = template.into();
        if template.contains("${") {
            Expr::sub(template)
        } else {
            Expr::Str(template)
        }
    }

    /// `{"Fn::Sub": [template, vars]}`.
    pub fn sub_with(template: impl Into<String>, vars: BTreeMap<String, Expr>) -> Self {
        Expr::Sub {
            template: template.into(),
            vars,
        }
    }

    /// `{"Fn::Join": [delimiter, items]}`.
    pub fn join(delimiter: impl Into<String>, items: Vec<Expr>) -> Self {
        Expr::Join {
            delimiter: delimiter.into(),
            items,
        }
    }

    /// `{"Fn::If": [condition, then, otherwise]}`.
    pub fn if_(condition: impl Into<String>, then: Expr, otherwise: Expr) -> Self {
        Expr::If {
            condition: condition.into(),
            then: Box::new(then),
            otherwise: Box::new(otherwise),
        }
    }

    /// `{"Fn::ImportValue": export_name}`.
    pub fn import_value(export_name: Expr) -> Self {
        Expr::ImportValue(Box::new(export_name))
    }

    /// `{"Fn::Select": [index, list]}`.
    pub fn select(index: u32, list: Expr) -> Self {
        Expr::Select {
            index,
            list: Box::new(list),
        }
    }

    /// `{"Fn::Split": [delimiter, source]}`.
    pub fn split(delimiter: impl Into<String>, source: Expr) -> Self {
        Expr::Split {
            delimiter: delimiter.into(),
            source: Box::new(source),
        }
    }

    /// An ARN in the stack's partition:
    /// `{"Fn::Sub": "arn:${AWS::Partition}:<service>:<region>:<account>:<resource>"}`.
    ///
    /// `region` and `account` are placed as given; pass `"${AWS::Region}"` and
    /// `"${AWS::AccountId}"` for the stack's own, or `""` for global services such as S3 and IAM.
    /// `resource` may hold further `${…}` placeholders. Format:
    /// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html>.
    pub fn arn(service: &str, region: &str, account: &str, resource: &str) -> Self {
        Expr::sub(format!(
            "arn:${{AWS::Partition}}:{service}:{region}:{account}:{resource}"
        ))
    }

    /// The string literal, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Expr::Str(s) => Some(s),
            _ => None,
        }
    }

    /// This value as JSON, as it appears in a template.
    pub fn to_json(&self) -> serde_json::Value {
        // Serializing an Expr cannot fail: every variant maps to plain JSON.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

impl From<&str> for Expr {
    fn from(value: &str) -> Self {
        Expr::Str(value.to_owned())
    }
}

impl From<String> for Expr {
    fn from(value: String) -> Self {
        Expr::Str(value)
    }
}

impl From<&String> for Expr {
    fn from(value: &String) -> Self {
        Expr::Str(value.clone())
    }
}

impl From<i64> for Expr {
    fn from(value: i64) -> Self {
        Expr::Int(value)
    }
}

impl From<u32> for Expr {
    fn from(value: u32) -> Self {
        Expr::Int(i64::from(value))
    }
}

impl From<bool> for Expr {
    fn from(value: bool) -> Self {
        Expr::Bool(value)
    }
}

impl From<Pseudo> for Expr {
    fn from(value: Pseudo) -> Self {
        Expr::pseudo(value)
    }
}

impl<T: Into<Expr>> From<Vec<T>> for Expr {
    fn from(value: Vec<T>) -> Self {
        Expr::List(value.into_iter().map(Into::into).collect())
    }
}

fn single<S: Serializer, V: Serialize + ?Sized>(
    s: S,
    key: &str,
    value: &V,
) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(1))?;
    map.serialize_entry(key, value)?;
    map.end()
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Expr::Str(v) => s.serialize_str(v),
            Expr::Int(v) => s.serialize_i64(*v),
            Expr::Bool(v) => s.serialize_bool(*v),
            Expr::List(items) => items.serialize(s),
            Expr::Ref(name) => single(s, "Ref", name),
            Expr::GetAtt {
                logical_id,
                attribute,
            } => single(s, "Fn::GetAtt", &[logical_id, attribute]),
            Expr::Sub { template, vars } if vars.is_empty() => single(s, "Fn::Sub", template),
            Expr::Sub { template, vars } => single(s, "Fn::Sub", &(template, vars)),
            Expr::Join { delimiter, items } => single(s, "Fn::Join", &(delimiter, items)),
            Expr::If {
                condition,
                then,
                otherwise,
            } => single(s, "Fn::If", &(condition, then, otherwise)),
            Expr::ImportValue(name) => single(s, "Fn::ImportValue", name),
            Expr::Select { index, list } => single(s, "Fn::Select", &(index.to_string(), list)),
            Expr::Split { delimiter, source } => single(s, "Fn::Split", &(delimiter, source)),
        }
    }
}

/// A condition function, for the template's `Conditions` section and `Fn::If`.
///
/// See <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-conditions.html>.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    /// `{"Fn::Equals": [a, b]}`.
    Equals(Expr, Expr),
    /// `{"Fn::Not": [c]}`.
    Not(Box<Cond>),
    /// `{"Fn::And": [c…]}` (2 to 10 conditions).
    And(Vec<Cond>),
    /// `{"Fn::Or": [c…]}` (2 to 10 conditions).
    Or(Vec<Cond>),
    /// `{"Condition": name}`: another named condition.
    Condition(String),
}

impl Serialize for Cond {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cond::Equals(a, b) => single(s, "Fn::Equals", &(a, b)),
            Cond::Not(c) => single(s, "Fn::Not", &[c]),
            Cond::And(cs) => single(s, "Fn::And", cs),
            Cond::Or(cs) => single(s, "Fn::Or", cs),
            Cond::Condition(name) => single(s, "Condition", name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn intrinsics_serialize_to_the_documented_json_forms() {
        assert_eq!(Expr::reference("Queue").to_json(), json!({"Ref": "Queue"}));
        assert_eq!(
            Expr::pseudo(Pseudo::Partition).to_json(),
            json!({"Ref": "AWS::Partition"})
        );
        assert_eq!(
            Expr::get_att("Queue", "Arn").to_json(),
            json!({"Fn::GetAtt": ["Queue", "Arn"]})
        );
        assert_eq!(
            Expr::sub("${AWS::StackName}-x").to_json(),
            json!({"Fn::Sub": "${AWS::StackName}-x"})
        );
        let vars = BTreeMap::from([("Name".to_owned(), Expr::reference("P"))]);
        assert_eq!(
            Expr::sub_with("a-${Name}", vars).to_json(),
            json!({"Fn::Sub": ["a-${Name}", {"Name": {"Ref": "P"}}]})
        );
        assert_eq!(
            Expr::join(",", vec!["a".into(), Expr::reference("B")]).to_json(),
            json!({"Fn::Join": [",", ["a", {"Ref": "B"}]]})
        );
        assert_eq!(
            Expr::if_("IsProd", 1_i64.into(), Expr::pseudo(Pseudo::NoValue)).to_json(),
            json!({"Fn::If": ["IsProd", 1, {"Ref": "AWS::NoValue"}]})
        );
        assert_eq!(
            Expr::import_value("x-Out".into()).to_json(),
            json!({"Fn::ImportValue": "x-Out"})
        );
        assert_eq!(
            Expr::select(1, Expr::split("/", Expr::reference("P"))).to_json(),
            json!({"Fn::Select": ["1", {"Fn::Split": ["/", {"Ref": "P"}]}]})
        );
    }

    #[test]
    fn interpolate_substitutes_only_when_there_is_a_placeholder() {
        assert_eq!(
            Expr::interpolate("/aws/lambda/fixed").to_json(),
            json!("/aws/lambda/fixed")
        );
        assert_eq!(
            Expr::interpolate("${AWS::StackName}-x").to_json(),
            json!({"Fn::Sub": "${AWS::StackName}-x"})
        );
    }

    #[test]
    fn arns_use_the_partition_pseudo_parameter() {
        let arn = Expr::arn("s3", "", "", "my-bucket/*").to_json();
        assert_eq!(
            arn,
            json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::my-bucket/*"})
        );
        assert!(!arn.to_string().contains("arn:aws:"));
    }

    #[test]
    fn conditions_serialize_to_condition_functions() {
        let c = Cond::And(vec![
            Cond::Equals(Expr::reference("Stage"), "prod".into()),
            Cond::Not(Box::new(Cond::Condition("IsLocal".into()))),
        ]);
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            json!({"Fn::And": [{"Fn::Equals": [{"Ref": "Stage"}, "prod"]}, {"Fn::Not": [{"Condition": "IsLocal"}]}]})
        );
    }
}
