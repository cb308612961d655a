//! The CloudFormation template model: [`Template`], [`Resource`] (with every resource attribute),
//! [`Parameter`], [`Output`], and the JSON and YAML renderings.
//!
//! Anatomy followed: <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-anatomy.html>.
//! Maps are ordered (logical IDs sorted, properties in declaration order) so the same input always
//! renders to the same bytes.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::SynthError;
use crate::intrinsic::{Cond, Expr};

/// The template format version every Argus template declares.
pub const FORMAT_VERSION: &str = "2010-09-09";

/// A typed property set for one CloudFormation resource type (an "L1" resource).
///
/// Implementors are plain structs whose serde form is the resource's `Properties` object
/// (PascalCase names, absent options omitted).
pub trait CfnResource: Serialize {
    /// The resource type, e.g. `AWS::S3::Bucket`.
    const TYPE: &'static str;
}

/// What CloudFormation does with a resource's physical resource when it is deleted from the stack
/// (`DeletionPolicy`) or replaced (`UpdateReplacePolicy`).
///
/// See <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html>.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum DeletionPolicy {
    /// Delete the physical resource.
    Delete,
    /// Keep the physical resource (data survives the stack).
    Retain,
    /// Keep a snapshot (for resource types that support it), then delete.
    Snapshot,
    /// Retain only when the stack operation did not succeed.
    RetainExceptOnCreate,
}

/// One entry of the template's `Resources` section.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    /// The resource type, e.g. `AWS::SQS::Queue`.
    #[serde(rename = "Type")]
    pub resource_type: String,
    /// The `Properties` object.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub properties: Map<String, Value>,
    /// Logical IDs this resource is created after.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub depends_on: BTreeSet<String>,
    /// The name of a condition that decides whether the resource is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// What happens to the physical resource when the resource leaves the stack.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,
    /// What happens to the old physical resource when an update replaces it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_replace_policy: Option<DeletionPolicy>,
    /// The `Metadata` object (construct path, rule suppressions, checkov skips).
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
    /// The property overrides applied so far, in order: replayed when the properties of a typed
    /// resource are rendered again from its typed state (see [`crate::stack::Stack::add_typed`]).
    #[serde(skip)]
    overrides: Vec<PropertyOverride>,
}

/// One property override, recorded to be replayed over re-rendered properties.
#[derive(Clone, Debug, PartialEq)]
enum PropertyOverride {
    /// `add_property_override(path, value)`.
    Set(String, Value),
    /// `add_property_deletion_override(path)`.
    Delete(String),
}

impl Resource {
    /// A resource from typed properties.
    ///
    /// # Errors
    /// [`SynthError::Serialize`] when the properties do not serialize to a JSON object.
    pub fn from_props<R: CfnResource>(props: &R) -> Result<Self, SynthError> {
        let properties = match serde_json::to_value(props)? {
            Value::Object(map) => map,
            other => {
                return Err(SynthError::Serialize(format!(
                    "{} properties must be an object, got {other}",
                    R::TYPE
                )));
            }
        };
        Ok(Resource {
            resource_type: R::TYPE.to_owned(),
            properties,
            depends_on: BTreeSet::new(),
            condition: None,
            deletion_policy: None,
            update_replace_policy: None,
            metadata: Map::new(),
            overrides: Vec::new(),
        })
    }

    /// Replaces the properties with `properties` (typed properties rendered again) and replays
    /// the property overrides applied so far, so an override always wins over the typed state.
    ///
    /// # Errors
    /// [`SynthError::Override`] when a recorded override no longer applies to the new properties.
    pub(crate) fn rerender(&mut self, properties: Map<String, Value>) -> Result<(), SynthError> {
        self.properties = properties;
        for o in self.overrides.clone() {
            match o {
                PropertyOverride::Set(path, value) => self.set_property(&path, value)?,
                PropertyOverride::Delete(path) => {
                    self.delete_property(&path)?;
                }
            }
        }
        Ok(())
    }

    /// Sets both `DeletionPolicy` and `UpdateReplacePolicy`.
    pub fn apply_removal_policy(&mut self, policy: DeletionPolicy) {
        self.deletion_policy = Some(policy);
        self.update_replace_policy = Some(policy);
    }

    /// Sets a property by a dot-separated path, as CDK's `addPropertyOverride` does: missing
    /// objects on the way are created, and a numeric segment indexes an existing list
    /// (`"BucketEncryption.ServerSideEncryptionConfiguration.0.BucketKeyEnabled"`).
    ///
    /// # Errors
    /// [`SynthError::Override`] when the path has an empty segment, or a segment runs into a value
    /// that is neither an object nor a list, or indexes past the end of a list. The properties are
    /// left as they were.
    pub fn add_property_override(
        &mut self,
        path: &str,
        value: impl Into<Value>,
    ) -> Result<(), SynthError> {
        let value = value.into();
        self.set_property(path, value.clone())?;
        self.overrides
            .push(PropertyOverride::Set(path.to_owned(), value));
        Ok(())
    }

    /// Removes a property by a dot-separated path (CDK's `addPropertyDeletionOverride`).
    /// Returns whether something was removed.
    ///
    /// # Errors
    /// As [`Resource::add_property_override`].
    pub fn add_property_deletion_override(&mut self, path: &str) -> Result<bool, SynthError> {
        let removed = self.delete_property(path)?;
        self.overrides
            .push(PropertyOverride::Delete(path.to_owned()));
        Ok(removed)
    }

    fn set_property(&mut self, path: &str, value: Value) -> Result<(), SynthError> {
        self.with_parent(path, |parent, last| match parent {
            Value::Object(map) => {
                map.insert(last.to_owned(), value);
                Ok(())
            }
            Value::Array(items) => {
                match last.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                    Some(slot) => {
                        *slot = value;
                        Ok(())
                    }
                    None => Err(format!("`{last}` is not an index of the list")),
                }
            }
            other => Err(format!("cannot set `{last}` on {other}")),
        })
    }

    fn delete_property(&mut self, path: &str) -> Result<bool, SynthError> {
        self.with_parent(path, |parent, last| {
            Ok(match parent {
                Value::Object(map) => map.shift_remove(last).is_some(),
                Value::Array(items) => match last.parse::<usize>() {
                    Ok(i) if i < items.len() => {
                        items.remove(i);
                        true
                    }
                    _ => false,
                },
                _ => false,
            })
        })
    }

    /// The property at a dot-separated path, if present.
    pub fn property(&self, path: &str) -> Option<&Value> {
        let mut segments = path.split('.');
        let mut value = self.properties.get(segments.next()?)?;
        for segment in segments {
            value = match value {
                Value::Object(map) => map.get(segment)?,
                Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(value)
    }

    /// Walks to the container of the last segment of `path` (creating objects on the way) and
    /// applies `edit` to it. On error the properties are restored.
    fn with_parent<T>(
        &mut self,
        path: &str,
        edit: impl FnOnce(&mut Value, &str) -> Result<T, String>,
    ) -> Result<T, SynthError> {
        let segments: Vec<&str> = path.split('.').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return Err(override_error(path, "the path has an empty segment".into()));
        }
        let Some((last, parents)) = segments.split_last() else {
            return Err(override_error(path, "the path is empty".into()));
        };
        let before = self.properties.clone();
        let mut root = Value::Object(std::mem::take(&mut self.properties));
        let result = walk(&mut root, parents).and_then(|parent| edit(parent, last));
        self.properties = match (root, &result) {
            (Value::Object(map), Ok(_)) => map,
            _ => before,
        };
        result.map_err(|reason| override_error(path, reason))
    }
}

fn override_error(path: &str, reason: String) -> SynthError {
    SynthError::Override {
        path: path.to_owned(),
        reason,
    }
}

/// Follows `segments` from `node`: missing object keys are created as empty objects, and a
/// number indexes a list.
fn walk<'v>(mut node: &'v mut Value, segments: &[&str]) -> Result<&'v mut Value, String> {
    for segment in segments {
        node = match node {
            Value::Object(map) => map
                .entry((*segment).to_owned())
                .or_insert_with(|| Value::Object(Map::new())),
            Value::Array(items) => {
                let len = items.len();
                segment
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get_mut(i))
                    .ok_or_else(|| format!("`{segment}` is not an index of a list of {len}"))?
            }
            other => return Err(format!("`{segment}` cannot be looked up in {other}")),
        };
    }
    Ok(node)
}

/// One entry of the template's `Parameters` section.
///
/// See <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html>.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    /// `String`, `Number`, `CommaDelimitedList`, an `AWS::SSM::Parameter::Value<…>` type, …
    #[serde(rename = "Type")]
    pub parameter_type: String,
    /// What the parameter is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The value used when none is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// The only values accepted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_values: Vec<String>,
    /// A regular expression the value must match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_pattern: Option<String>,
    /// Shown when the value does not match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint_description: Option<String>,
}

impl Parameter {
    /// A `String` parameter with a description.
    pub fn string(description: impl Into<String>) -> Self {
        Parameter {
            parameter_type: "String".into(),
            description: Some(description.into()),
            ..Default::default()
        }
    }
}

/// The `Export` of an output: the name other stacks pass to `Fn::ImportValue`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Export {
    /// The export name, unique per account and Region.
    pub name: Expr,
}

/// One entry of the template's `Outputs` section.
///
/// See <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/outputs-section-structure.html>.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    /// What the value is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The value.
    pub value: Expr,
    /// Export for cross-stack references.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export: Option<Export>,
    /// A condition deciding whether the output exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

impl Output {
    /// An output with a description and no export.
    pub fn new(description: impl Into<String>, value: Expr) -> Self {
        Output {
            description: Some(description.into()),
            value,
            export: None,
            condition: None,
        }
    }

    /// Exports the output as `${AWS::StackName}-<suffix>`.
    #[must_use]
    pub fn exported_as(mut self, suffix: &str) -> Self {
        self.export = Some(Export {
            name: Expr::sub(format!("${{AWS::StackName}}-{suffix}")),
        });
        self
    }
}

/// A whole CloudFormation template.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Template {
    /// Always [`FORMAT_VERSION`].
    #[serde(rename = "AWSTemplateFormatVersion")]
    pub format_version: String,
    /// The stack description shown by CloudFormation (at most 1,024 bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Template-level metadata.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
    /// Parameters by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, Parameter>,
    /// Conditions by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub conditions: BTreeMap<String, Cond>,
    /// Resources by logical ID.
    pub resources: BTreeMap<String, Resource>,
    /// Outputs by logical ID.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, Output>,
}

impl Default for Template {
    fn default() -> Self {
        Template {
            format_version: FORMAT_VERSION.to_owned(),
            description: None,
            metadata: Map::new(),
            parameters: BTreeMap::new(),
            conditions: BTreeMap::new(),
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
        }
    }
}

impl Template {
    /// The template as a JSON value.
    ///
    /// # Errors
    /// [`SynthError::Serialize`] if a value cannot be represented in JSON.
    pub fn to_value(&self) -> Result<Value, SynthError> {
        Ok(serde_json::to_value(self)?)
    }

    /// Pretty JSON (two-space indent) with a trailing newline: the `.template.json` file.
    ///
    /// # Errors
    /// [`SynthError::Serialize`].
    pub fn to_json(&self) -> Result<String, SynthError> {
        crate::assembly::to_pretty(self)
    }

    /// YAML (intrinsics in their long `Fn::` form): the `.template.yaml` file.
    ///
    /// # Errors
    /// [`SynthError::Serialize`].
    pub fn to_yaml(&self) -> Result<String, SynthError> {
        serde_yaml_ng::to_string(&self.to_value()?)
            .map_err(|e| SynthError::Serialize(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Thing {
        name: String,
        tags: Vec<Value>,
    }
    impl CfnResource for Thing {
        const TYPE: &'static str = "AWS::Test::Thing";
    }

    fn thing() -> Resource {
        Resource::from_props(&Thing {
            name: "a".into(),
            tags: vec![json!({"Key": "k", "Value": "v"})],
        })
        .unwrap()
    }

    #[test]
    fn property_override_creates_nested_objects_and_indexes_lists() {
        let mut r = thing();
        r.add_property_override("Config.Inner.Flag", true).unwrap();
        r.add_property_override("Tags.0.Value", "changed").unwrap();
        assert_eq!(r.property("Config.Inner.Flag"), Some(&json!(true)));
        assert_eq!(r.property("Tags.0.Value"), Some(&json!("changed")));
        assert_eq!(r.property("Name"), Some(&json!("a")));
    }

    #[test]
    fn property_override_rejects_paths_that_cannot_exist() {
        let mut r = thing();
        assert!(matches!(
            r.add_property_override("Name.Inner", 1),
            Err(SynthError::Override { .. })
        ));
        assert!(matches!(
            r.add_property_override("Tags.5.Value", 1),
            Err(SynthError::Override { .. })
        ));
        assert!(matches!(
            r.add_property_override("A..B", 1),
            Err(SynthError::Override { .. })
        ));
        // A failed override leaves the properties as they were.
        assert_eq!(r.property("Name"), Some(&json!("a")));
    }

    #[test]
    fn deletion_override_removes_a_property() {
        let mut r = thing();
        assert!(r.add_property_deletion_override("Tags.0.Key").unwrap());
        assert!(!r.add_property_deletion_override("Missing").unwrap());
        assert_eq!(r.property("Tags.0"), Some(&json!({"Value": "v"})));
    }

    #[test]
    fn every_resource_attribute_is_rendered() {
        let mut r = thing();
        r.depends_on.insert("Other".into());
        r.condition = Some("IsProd".into());
        r.apply_removal_policy(DeletionPolicy::Retain);
        r.metadata.insert("k".into(), json!("v"));
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["Type"], "AWS::Test::Thing");
        assert_eq!(v["DependsOn"], json!(["Other"]));
        assert_eq!(v["Condition"], "IsProd");
        assert_eq!(v["DeletionPolicy"], "Retain");
        assert_eq!(v["UpdateReplacePolicy"], "Retain");
        assert_eq!(v["Metadata"], json!({"k": "v"}));
    }

    #[test]
    fn yaml_and_json_renderings_hold_the_same_template() {
        let mut t = Template::default();
        t.resources.insert("Thing".into(), thing());
        t.outputs.insert(
            "Name".into(),
            Output::new("the name", Expr::reference("Thing")).exported_as("Name"),
        );
        let from_yaml: Value = serde_yaml_ng::from_str(&t.to_yaml().unwrap()).unwrap();
        let from_json: Value = serde_json::from_str(&t.to_json().unwrap()).unwrap();
        assert_eq!(from_yaml, from_json);
        assert_eq!(
            from_json["Outputs"]["Name"]["Export"]["Name"],
            json!({"Fn::Sub": "${AWS::StackName}-Name"})
        );
    }
}
