//! `diff`: compare a deployed template with a new one: resources added, removed and modified
//! (with the property paths that change), and a table of IAM statements added and removed.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::{Map, Value};

/// One changed value at a path such as `Properties.Environment.Variables.ARGUS_MAX_LABELS`.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyChange {
    /// Dot-separated path inside the resource (`Properties.…`, `DeletionPolicy`, …).
    pub path: String,
    /// The deployed value (`None`: added).
    pub old: Option<Value>,
    /// The new value (`None`: removed).
    pub new: Option<Value>,
}

/// A resource present in both templates whose definition differs.
#[derive(Clone, Debug, PartialEq)]
pub struct ModifiedResource {
    /// Logical ID.
    pub logical_id: String,
    /// Resource type (the new one).
    pub resource_type: String,
    /// The changes.
    pub changes: Vec<PropertyChange>,
}

/// One IAM policy statement and where it lives.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct IamStatement {
    /// The logical ID of the role or policy resource holding it.
    pub holder: String,
    /// `Allow` or `Deny`.
    pub effect: String,
    /// Actions, comma-separated.
    pub actions: String,
    /// Resources, comma-separated (intrinsics as compact JSON).
    pub resources: String,
    /// Principal, for trust and resource policies.
    pub principal: String,
    /// Conditions as compact JSON.
    pub condition: String,
}

/// The difference between two templates.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TemplateDiff {
    /// Resources only in the new template: (logical ID, type).
    pub added: Vec<(String, String)>,
    /// Resources only in the deployed template: (logical ID, type).
    pub removed: Vec<(String, String)>,
    /// Resources in both that differ.
    pub modified: Vec<ModifiedResource>,
    /// Other top-level sections that differ (`Parameters`, `Outputs`, …) with their changes.
    pub other: Vec<PropertyChange>,
    /// IAM statements only in the new template.
    pub iam_added: Vec<IamStatement>,
    /// IAM statements only in the deployed template.
    pub iam_removed: Vec<IamStatement>,
}

impl TemplateDiff {
    /// The difference from `old` (the deployed template; `None` when there is no stack) to `new`.
    pub fn between(old: Option<&Value>, new: &Value) -> Self {
        let empty = Value::Object(Map::new());
        let old = old.unwrap_or(&empty);
        let resources = |t: &Value| {
            t.get("Resources")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let (old_resources, new_resources) = (resources(old), resources(new));
        let type_of = |r: &Value| {
            r.get("Type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let mut diff = TemplateDiff::default();
        for (id, r) in &new_resources {
            match old_resources.get(id) {
                None => diff.added.push((id.clone(), type_of(r))),
                Some(before) if before != r => {
                    let mut changes = Vec::new();
                    value_changes("", Some(before), Some(r), &mut changes);
                    diff.modified.push(ModifiedResource {
                        logical_id: id.clone(),
                        resource_type: type_of(r),
                        changes,
                    });
                }
                Some(_) => {}
            }
        }
        for (id, r) in &old_resources {
            if !new_resources.contains_key(id) {
                diff.removed.push((id.clone(), type_of(r)));
            }
        }
        for section in ["Parameters", "Conditions", "Outputs", "Description"] {
            value_changes(section, old.get(section), new.get(section), &mut diff.other);
        }
        let (old_iam, new_iam) = (iam_statements(old), iam_statements(new));
        diff.iam_added = new_iam.difference(&old_iam).cloned().collect();
        diff.iam_removed = old_iam.difference(&new_iam).cloned().collect();
        diff
    }

    /// Whether the templates differ at all.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.modified.is_empty()
            && self.other.is_empty()
    }

    /// Added `Allow` statements.
    pub fn iam_added(&self) -> impl Iterator<Item = &IamStatement> {
        self.iam_added.iter().filter(|s| s.effect == "Allow")
    }

    /// Whether the new template grants something the deployed one does not.
    pub fn broadens_iam(&self) -> bool {
        self.iam_added().next().is_some()
    }

    /// The IAM statement table: `+` added, `-` removed (only added ones with `added_only`).
    pub fn iam_table(&self, added_only: bool) -> String {
        let mut rows: Vec<[String; 6]> = Vec::new();
        let row = |sign: &str, s: &IamStatement| {
            [
                sign.to_owned(),
                s.holder.clone(),
                s.effect.clone(),
                s.actions.clone(),
                s.resources.clone(),
                s.principal.clone(),
            ]
        };
        rows.extend(self.iam_added.iter().map(|s| row("+", s)));
        if !added_only {
            rows.extend(self.iam_removed.iter().map(|s| row("-", s)));
        }
        let header = [
            "",
            "RESOURCE",
            "EFFECT",
            "ACTIONS",
            "RESOURCES",
            "PRINCIPAL",
        ]
        .map(str::to_owned);
        super::table::table(&header, &rows)
    }

    /// The whole diff as text for `argus diff`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if self.is_empty() {
            out.push_str("no differences\n");
            return out;
        }
        for (id, ty) in &self.added {
            let _ = writeln!(out, "[+] {ty} {id}");
        }
        for (id, ty) in &self.removed {
            let _ = writeln!(out, "[-] {ty} {id}");
        }
        for m in &self.modified {
            let _ = writeln!(out, "[~] {} {}", m.resource_type, m.logical_id);
            for c in &m.changes {
                let _ = writeln!(
                    out,
                    "      {}: {} -> {}",
                    c.path,
                    compact(c.old.as_ref()),
                    compact(c.new.as_ref())
                );
            }
        }
        for c in &self.other {
            let _ = writeln!(
                out,
                "[~] {}: {} -> {}",
                c.path,
                compact(c.old.as_ref()),
                compact(c.new.as_ref())
            );
        }
        if !self.iam_added.is_empty() || !self.iam_removed.is_empty() {
            out.push_str("\nIAM statement changes:\n");
            out.push_str(&self.iam_table(false));
            out.push('\n');
        }
        out
    }
}

fn compact(v: Option<&Value>) -> String {
    match v {
        None => "(none)".into(),
        Some(v) => {
            let text = v.to_string();
            if text.len() > 120 {
                format!(
                    "{}…",
                    &text[..text.char_indices().nth(117).map_or(text.len(), |(i, _)| i)]
                )
            } else {
                text
            }
        }
    }
}

/// Collects the changes between two JSON values, object keys and list indexes as path segments.
fn value_changes(
    path: &str,
    old: Option<&Value>,
    new: Option<&Value>,
    out: &mut Vec<PropertyChange>,
) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match (old, new) {
        (Some(a), Some(b)) if a == b => {}
        (None, None) => {}
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                value_changes(&join(key), a.get(key), b.get(key), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                value_changes(&join(&i.to_string()), Some(x), Some(y), out);
            }
        }
        (a, b) => out.push(PropertyChange {
            path: path.to_owned(),
            old: a.cloned(),
            new: b.cloned(),
        }),
    }
}

fn list_text(v: Option<&Value>) -> String {
    match v {
        None => String::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Every statement of every identity and resource policy in a template.
fn iam_statements(template: &Value) -> BTreeSet<IamStatement> {
    let mut out = BTreeSet::new();
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return out;
    };
    for (id, r) in resources {
        let props = r.get("Properties").cloned().unwrap_or(Value::Null);
        let mut documents: Vec<Value> = Vec::new();
        for key in ["AssumeRolePolicyDocument", "PolicyDocument", "KeyPolicy"] {
            if let Some(doc) = props.get(key) {
                documents.push(doc.clone());
            }
        }
        for policy in props
            .get("Policies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(doc) = policy.get("PolicyDocument") {
                documents.push(doc.clone());
            }
        }
        for doc in documents {
            for s in doc
                .get("Statement")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                out.insert(IamStatement {
                    holder: id.clone(),
                    effect: s
                        .get("Effect")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    actions: list_text(s.get("Action").or_else(|| s.get("NotAction"))),
                    resources: list_text(s.get("Resource").or_else(|| s.get("NotResource"))),
                    principal: s.get("Principal").map(Value::to_string).unwrap_or_default(),
                    condition: s.get("Condition").map(Value::to_string).unwrap_or_default(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn template(visibility: u32, actions: &[&str]) -> Value {
        json!({
            "Resources": {
                "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": visibility}},
                "Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument": {
                    "Statement": [{"Effect": "Allow", "Action": actions, "Resource": ["arn:x"]}]}}]}}
            }
        })
    }

    #[test]
    fn identical_templates_have_no_differences() {
        let t = template(30, &["s3:GetObject"]);
        let diff = TemplateDiff::between(Some(&t), &t);
        assert!(diff.is_empty());
        assert!(!diff.broadens_iam());
        assert_eq!(diff.render(), "no differences\n");
    }

    #[test]
    fn modified_properties_are_reported_by_path() {
        let diff = TemplateDiff::between(
            Some(&template(30, &["s3:GetObject"])),
            &template(60, &["s3:GetObject"]),
        );
        assert_eq!(diff.modified.len(), 1);
        assert_eq!(diff.modified[0].logical_id, "Queue");
        assert_eq!(
            diff.modified[0].changes,
            vec![PropertyChange {
                path: "Properties.VisibilityTimeout".into(),
                old: Some(json!(30)),
                new: Some(json!(60))
            }]
        );
        assert!(
            diff.render()
                .contains("Properties.VisibilityTimeout: 30 -> 60")
        );
    }

    #[test]
    fn added_and_removed_resources_are_listed() {
        let old = template(30, &[]);
        let mut new = old.clone();
        new["Resources"]["Topic"] = json!({"Type": "AWS::SNS::Topic"});
        new["Resources"].as_object_mut().unwrap().remove("Queue");
        let diff = TemplateDiff::between(Some(&old), &new);
        assert_eq!(
            diff.added,
            vec![("Topic".to_owned(), "AWS::SNS::Topic".to_owned())]
        );
        assert_eq!(
            diff.removed,
            vec![("Queue".to_owned(), "AWS::SQS::Queue".to_owned())]
        );
    }

    #[test]
    fn a_new_allow_statement_broadens_iam_and_shows_in_the_table() {
        let diff = TemplateDiff::between(
            Some(&template(30, &["s3:GetObject"])),
            &template(30, &["s3:GetObject", "s3:PutObject"]),
        );
        assert!(diff.broadens_iam());
        assert_eq!(diff.iam_added.len(), 1);
        assert_eq!(diff.iam_removed.len(), 1);
        let table = diff.iam_table(false);
        assert!(
            table.contains("+  Role") && table.contains("s3:GetObject, s3:PutObject"),
            "{table}"
        );
        assert!(table.lines().any(|l| l.starts_with('-')), "{table}");
    }

    #[test]
    fn only_removing_statements_does_not_broaden() {
        let only_removed = TemplateDiff::between(Some(&template(30, &["s3:GetObject"])), &{
            let mut t = template(30, &["s3:GetObject"]);
            t["Resources"]["Role"]["Properties"]["Policies"] = json!([]);
            t
        });
        assert!(!only_removed.broadens_iam());
        assert_eq!(only_removed.iam_removed.len(), 1);
    }

    #[test]
    fn a_first_deployment_adds_everything() {
        let diff = TemplateDiff::between(None, &template(30, &["s3:GetObject"]));
        assert_eq!(diff.added.len(), 2);
        assert!(diff.broadens_iam());
    }
}
