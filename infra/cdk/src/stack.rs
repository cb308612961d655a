//! [`Stack`]: the unit of deployment. Constructs add resources to a stack at a construct path;
//! the stack turns paths into logical IDs, gathers policy statements from grants, records rule
//! suppressions, and synthesizes the final [`Template`].

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt::Debug;

use heck::ToUpperCamelCase;
use serde_json::{Map, Value, json};

use crate::asset::Asset;
use crate::error::SynthError;
use crate::iam::{PolicyDocument, Statement};
use crate::intrinsic::{Cond, Expr};
use crate::rules::{Rule, RuleReport, RuleSet};
use crate::template::{CfnResource, Output, Parameter, Resource, Template};

/// The default metadata key that records a resource's construct path (CDK writes
/// `aws:cdk:path`); see [`StackSettings::path_metadata_key`].
pub const PATH_METADATA_KEY: &str = "argus:path";

/// The default metadata key under which suppressions are written (`{"argus": {"suppressions":
/// [...]}}`); see [`StackSettings::metadata_key`].
pub const METADATA_KEY: &str = "argus";

/// Where the statements gathered for a resource go when the stack is synthesized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PolicySlot {
    /// `Policies: [{PolicyName, PolicyDocument}]` of an `AWS::IAM::Role`.
    RoleInline,
    /// `PolicyDocument` of a bucket, queue or topic policy, or `KeyPolicy` of a KMS key.
    Property(&'static str),
}

/// The default inline policy name of every role: one inline policy per role holds all its grants
/// (see [`StackSettings::inline_policy_name`]).
pub const INLINE_POLICY_NAME: &str = "least-privilege";

/// The names a stack writes into its template and the rules it is checked with. `Default` is
/// Argus's: metadata keys `argus` and `argus:path`, inline policies named `least-privilege`, and
/// the built-in rule pack.
#[derive(Clone, Debug)]
pub struct StackSettings {
    /// The resource metadata key suppressions are written under, as
    /// `{"<key>": {"suppressions": [{"id", "reason"}]}}` ([`METADATA_KEY`]).
    pub metadata_key: String,
    /// The resource metadata key that records the construct path `<stack>/<path>`
    /// ([`PATH_METADATA_KEY`]).
    pub path_metadata_key: String,
    /// The name of each role's single inline policy ([`INLINE_POLICY_NAME`]; 1-128 characters of
    /// `[\w+=,.@-]`, <https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html>).
    pub inline_policy_name: String,
    /// The rules checked at synth and the actions allowed on `Resource: "*"`.
    pub rules: RuleSet,
    /// What every role added to the stack carries (as CDK's `PermissionsBoundary.of(stack)`).
    pub roles: RoleDefaults,
}

/// The path and permissions boundary given to every [`crate::constructs::Role`] of a stack, so
/// that a CloudFormation execution role allowed to manage only `role/<path>/*` with that boundary
/// can deploy it. `Default`: path `/`, no boundary.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoleDefaults {
    /// The IAM path, `/<name>/` (letters, digits and `-_.`); `None` is `/`.
    pub path: Option<String>,
    /// The ARN of the managed policy that bounds every role
    /// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html>).
    pub permissions_boundary: Option<Expr>,
}

impl Default for StackSettings {
    fn default() -> Self {
        StackSettings {
            metadata_key: METADATA_KEY.to_owned(),
            path_metadata_key: PATH_METADATA_KEY.to_owned(),
            inline_policy_name: INLINE_POLICY_NAME.to_owned(),
            rules: RuleSet::default(),
            roles: RoleDefaults::default(),
        }
    }
}

/// Typed L1 properties kept in the stack until synth (see [`Stack::add_typed`]).
trait TypedProps: Debug + Send + Sync {
    /// The `Properties` object.
    fn render(&self) -> Result<Map<String, Value>, SynthError>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn clone_box(&self) -> Box<dyn TypedProps>;
}

impl<R: CfnResource + Clone + Debug + Send + Sync + 'static> TypedProps for R {
    fn render(&self) -> Result<Map<String, Value>, SynthError> {
        Ok(Resource::from_props(self)?.properties)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn clone_box(&self) -> Box<dyn TypedProps> {
        Box::new(self.clone())
    }
}

impl Clone for Box<dyn TypedProps> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// A rule suppression: the decision not to follow a rule for one resource, with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// The rule ID (see [`crate::rules::RULES`]).
    pub rule: String,
    /// Why (10 characters or more).
    pub reason: String,
}

/// The minimum length of a suppression reason, in characters.
pub const MIN_REASON_CHARS: usize = 10;

impl Suppression {
    /// A validated suppression of `rule` on `target` (a logical ID, or `*` for the stack).
    ///
    /// # Errors
    /// [`SynthError::Suppression`] for a rule not in the built-in pack or a reason under
    /// [`MIN_REASON_CHARS`] characters.
    pub fn new(rule: &str, reason: &str, target: &str) -> Result<Self, SynthError> {
        Self::in_rule_set(&RuleSet::default(), rule, reason, target)
    }

    /// A validated suppression of `rule` (a rule of `rules`) on `target`.
    ///
    /// # Errors
    /// As [`Suppression::new`], for a rule not in `rules`.
    pub fn in_rule_set(
        rules: &RuleSet,
        rule: &str,
        reason: &str,
        target: &str,
    ) -> Result<Self, SynthError> {
        let fail = |why: String| SynthError::Suppression {
            rule: rule.to_owned(),
            logical_id: target.to_owned(),
            reason: why,
        };
        if rules.find(rule).is_none() {
            return Err(fail("no such rule in the rule pack".into()));
        }
        if reason.trim().chars().count() < MIN_REASON_CHARS {
            return Err(fail(format!(
                "the reason must have at least {MIN_REASON_CHARS} characters"
            )));
        }
        Ok(Suppression {
            rule: rule.to_owned(),
            reason: reason.trim().to_owned(),
        })
    }
}

/// One CloudFormation stack being built.
#[derive(Clone, Debug)]
pub struct Stack {
    name: String,
    template: Template,
    paths: BTreeMap<String, String>,
    policies: BTreeMap<String, (PolicySlot, Vec<Statement>)>,
    suppressions: BTreeMap<String, Vec<Suppression>>,
    stack_suppressions: Vec<Suppression>,
    assets: Vec<Asset>,
    termination_protection: bool,
    typed: BTreeMap<String, Box<dyn TypedProps>>,
    settings: StackSettings,
}

/// A synthesized stack: its template and what the rule pack found.
#[derive(Clone, Debug)]
pub struct SynthesizedStack {
    /// The stack name, e.g. `argus-beta`.
    pub name: String,
    /// The final template.
    pub template: Template,
    /// Rule findings, suppressed ones included.
    pub report: RuleReport,
    /// File assets the template's parameters refer to.
    pub assets: Vec<Asset>,
    /// Whether the stack is deployed with termination protection.
    pub termination_protection: bool,
}

impl Stack {
    /// An empty stack named `name` (CloudFormation stack names: letters, digits and hyphens,
    /// starting with a letter, at most 128 characters).
    ///
    /// # Errors
    /// [`SynthError::InvalidConstruct`] for a name CloudFormation would reject.
    pub fn new(name: &str, description: &str) -> Result<Self, SynthError> {
        Self::with_settings(name, description, StackSettings::default())
    }

    /// An empty stack as [`Stack::new`], writing metadata keys and policy names and checking the
    /// rules of `settings`.
    ///
    /// # Errors
    /// As [`Stack::new`].
    pub fn with_settings(
        name: &str,
        description: &str,
        settings: StackSettings,
    ) -> Result<Self, SynthError> {
        let valid = name.len() <= 128
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid {
            return Err(SynthError::InvalidConstruct {
                construct: name.to_owned(),
                reason: "a stack name has letters, digits and hyphens, starts with a letter, and is at most 128 characters".into(),
            });
        }
        let template = Template {
            description: Some(description.to_owned()),
            ..Template::default()
        };
        Ok(Stack {
            name: name.to_owned(),
            template,
            paths: BTreeMap::new(),
            policies: BTreeMap::new(),
            suppressions: BTreeMap::new(),
            stack_suppressions: Vec::new(),
            assets: Vec::new(),
            termination_protection: false,
            typed: BTreeMap::new(),
            settings,
        })
    }

    /// Gives every role added from now on `defaults`' path and permissions boundary.
    ///
    /// # Errors
    /// [`SynthError::InvalidConstruct`] for a path that is not `/<name>/`.
    pub fn set_role_defaults(&mut self, defaults: RoleDefaults) -> Result<(), SynthError> {
        if let Some(path) = &defaults.path {
            let inner = path.strip_prefix('/').and_then(|p| p.strip_suffix('/'));
            let valid = inner.is_some_and(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            });
            if !valid {
                return Err(SynthError::InvalidConstruct {
                    construct: self.name.clone(),
                    reason: format!("role path `{path}` must be `/<letters, digits, -_.>/`"),
                });
            }
        }
        self.settings.roles = defaults;
        Ok(())
    }

    /// The stack's settings (metadata keys, inline policy name, rules).
    pub fn settings(&self) -> &StackSettings {
        &self.settings
    }

    /// The rules the stack is checked with and its resourceless actions.
    pub fn rules(&self) -> &RuleSet {
        &self.settings.rules
    }

    /// Adds a rule checked at synth (after the built-in ones), e.g. a house rule on tags.
    ///
    /// # Errors
    /// As [`RuleSet::add_rule`].
    pub fn add_rule(&mut self, rule: Rule) -> Result<(), SynthError> {
        self.settings.rules.add_rule(rule)
    }

    /// Adds actions that support no resource-level permission, so
    /// [`crate::constructs::Role::grant_resourceless`] accepts them and the
    /// `IAM-WILDCARD-RESOURCE` rule lets them stand on `Resource: "*"`.
    pub fn add_resourceless_actions<A: Into<String>>(
        &mut self,
        actions: impl IntoIterator<Item = A>,
    ) {
        self.settings.rules.add_resourceless_actions(actions);
    }

    /// The stack name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Turns deletion of the deployed stack off (or on).
    pub fn set_termination_protection(&mut self, on: bool) {
        self.termination_protection = on;
    }

    /// The logical ID for a construct path: each `/`-separated segment in PascalCase, joined,
    /// keeping only ASCII letters and digits (`ingest-queue/dlq` → `IngestQueueDlq`).
    ///
    /// # Errors
    /// [`SynthError::EmptyLogicalId`] when nothing is left, or the ID does not start with a letter.
    pub fn logical_id(path: &str) -> Result<String, SynthError> {
        let id: String = path
            .split('/')
            .map(|segment| segment.to_upper_camel_case())
            .collect::<String>()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        if id.starts_with(|c: char| c.is_ascii_alphabetic()) && id.len() <= 255 {
            Ok(id)
        } else {
            Err(SynthError::EmptyLogicalId(path.to_owned()))
        }
    }

    /// Adds a resource at construct `path` and returns its logical ID.
    ///
    /// # Errors
    /// [`SynthError::LogicalIdCollision`] when another path already gave the same logical ID (or
    /// the same path is added twice); [`SynthError::Serialize`] for unserializable properties.
    pub fn add<R: CfnResource>(&mut self, path: &str, props: &R) -> Result<String, SynthError> {
        let logical_id = Self::logical_id(path)?;
        if let Some(first) = self.paths.get(&logical_id) {
            return Err(SynthError::LogicalIdCollision {
                stack: self.name.clone(),
                logical_id,
                first: first.clone(),
                second: path.to_owned(),
            });
        }
        let mut resource = Resource::from_props(props)?;
        resource.metadata.insert(
            self.settings.path_metadata_key.clone(),
            Value::String(format!("{}/{path}", self.name)),
        );
        self.paths.insert(logical_id.clone(), path.to_owned());
        self.template.resources.insert(logical_id.clone(), resource);
        Ok(logical_id)
    }

    /// Adds a resource at construct `path` as [`Stack::add`] does, and keeps its typed properties
    /// until synth: change them with [`Stack::update_props`], and synth renders the `Properties`
    /// from them (property overrides are replayed on top, so they still win).
    ///
    /// # Errors
    /// As [`Stack::add`].
    pub fn add_typed<R>(&mut self, path: &str, props: R) -> Result<String, SynthError>
    where
        R: CfnResource + Clone + Debug + Send + Sync + 'static,
    {
        let logical_id = self.add(path, &props)?;
        self.typed.insert(logical_id.clone(), Box::new(props));
        Ok(logical_id)
    }

    /// The typed properties of a resource added with [`Stack::add_typed`].
    pub fn props<R: 'static>(&self, logical_id: &str) -> Option<&R> {
        self.typed
            .get(logical_id)
            .and_then(|p| p.as_any().downcast_ref::<R>())
    }

    /// Changes the typed properties of a resource added with [`Stack::add_typed`] and renders its
    /// `Properties` again (overrides replayed), returning what `edit` returns.
    ///
    /// # Errors
    /// [`SynthError::UnknownResource`] when no resource of type `R` was added under `logical_id`
    /// with [`Stack::add_typed`]; [`SynthError::Serialize`] or [`SynthError::Override`] when the
    /// properties cannot be rendered again.
    pub fn update_props<R: 'static, T>(
        &mut self,
        logical_id: &str,
        edit: impl FnOnce(&mut R) -> T,
    ) -> Result<T, SynthError> {
        let stack = self.name.clone();
        let unknown = || SynthError::UnknownResource {
            stack: stack.clone(),
            logical_id: logical_id.to_owned(),
        };
        let typed = self.typed.get_mut(logical_id).ok_or_else(unknown)?;
        let props = typed.as_any_mut().downcast_mut::<R>().ok_or_else(unknown)?;
        let out = edit(props);
        let properties = typed.render()?;
        self.resource_mut(logical_id)?.rerender(properties)?;
        Ok(out)
    }

    /// The resource with this logical ID.
    pub fn resource(&self, logical_id: &str) -> Option<&Resource> {
        self.template.resources.get(logical_id)
    }

    /// The resource with this logical ID, to change attributes or add property overrides.
    ///
    /// # Errors
    /// [`SynthError::UnknownResource`].
    pub fn resource_mut(&mut self, logical_id: &str) -> Result<&mut Resource, SynthError> {
        let stack = &self.name;
        self.template
            .resources
            .get_mut(logical_id)
            .ok_or_else(|| SynthError::UnknownResource {
                stack: stack.clone(),
                logical_id: logical_id.to_owned(),
            })
    }

    /// Adds a parameter and returns `{"Ref": name}`.
    pub fn add_parameter(&mut self, name: &str, parameter: Parameter) -> Expr {
        self.template.parameters.insert(name.to_owned(), parameter);
        Expr::reference(name)
    }

    /// Adds a named condition.
    pub fn add_condition(&mut self, name: &str, condition: Cond) {
        self.template.conditions.insert(name.to_owned(), condition);
    }

    /// Adds an output.
    pub fn add_output(&mut self, logical_id: &str, output: Output) {
        self.template.outputs.insert(logical_id.to_owned(), output);
    }

    /// Records a file asset (a Lambda bundle) whose bucket and key the template takes as parameters.
    pub fn add_asset(&mut self, asset: Asset) {
        if !self.assets.contains(&asset) {
            self.assets.push(asset);
        }
    }

    /// Marks `logical_id` as holding a policy document filled from [`Stack::add_statement`].
    pub(crate) fn register_policy(&mut self, logical_id: &str, slot: PolicySlot) {
        self.policies
            .entry(logical_id.to_owned())
            .or_insert((slot, Vec::new()));
    }

    /// Adds a statement to the policy held by `logical_id` (a role's inline policy, or a bucket,
    /// queue, topic or key policy). Identical statements are kept once.
    ///
    /// # Errors
    /// [`SynthError::UnknownResource`] when `logical_id` holds no policy.
    pub fn add_statement(
        &mut self,
        logical_id: &str,
        statement: Statement,
    ) -> Result<(), SynthError> {
        match self.policies.get_mut(logical_id) {
            Some((_, statements)) => {
                statements.push(statement);
                Ok(())
            }
            None => Err(SynthError::UnknownResource {
                stack: self.name.clone(),
                logical_id: logical_id.to_owned(),
            }),
        }
    }

    /// The statements gathered so far for the policy held by `logical_id`.
    pub fn statements(&self, logical_id: &str) -> &[Statement] {
        self.policies
            .get(logical_id)
            .map(|(_, s)| s.as_slice())
            .unwrap_or_default()
    }

    /// Suppresses `rule` for one resource. The decision is written to the resource's `Metadata`
    /// (`<metadata_key>.suppressions`, `argus.suppressions` by default), and for rules that mirror checkov checks also as
    /// `checkov.skip` entries, so checkov honours the same decision, and for rules that mirror
    /// AWS Control Tower's cfn-guard rules as `guard.SuppressedRules`.
    ///
    /// # Errors
    /// [`SynthError::Suppression`] for an unknown rule, a reason under [`MIN_REASON_CHARS`]
    /// characters, or a resource not in the stack.
    pub fn suppress(
        &mut self,
        logical_id: &str,
        rule: &str,
        reason: &str,
    ) -> Result<(), SynthError> {
        let suppression = Suppression::in_rule_set(&self.settings.rules, rule, reason, logical_id)?;
        if !self.template.resources.contains_key(logical_id) {
            return Err(SynthError::Suppression {
                rule: rule.to_owned(),
                logical_id: logical_id.to_owned(),
                reason: "no such resource in the stack".into(),
            });
        }
        let list = self.suppressions.entry(logical_id.to_owned()).or_default();
        if !list.iter().any(|s| s.rule == rule) {
            list.push(suppression);
        }
        Ok(())
    }

    /// Suppresses `rule` for every resource of the stack it reports (a stack-wide decision,
    /// such as "no function runs in a VPC"). The suppression is written to the `Metadata` of each
    /// resource the rule reports, as with [`Stack::suppress`].
    ///
    /// # Errors
    /// [`SynthError::Suppression`] for an unknown rule or a reason under [`MIN_REASON_CHARS`].
    pub fn suppress_all(&mut self, rule: &str, reason: &str) -> Result<(), SynthError> {
        let suppression = Suppression::in_rule_set(&self.settings.rules, rule, reason, "*")?;
        if !self.stack_suppressions.iter().any(|s| s.rule == rule) {
            self.stack_suppressions.push(suppression);
        }
        Ok(())
    }

    /// The final template and the rule pack's report on it.
    ///
    /// Renders the properties of typed resources ([`Stack::add_typed`]) from their typed state,
    /// fills the gathered policy documents, runs every rule of the stack's [`RuleSet`] (by default
    /// [`crate::rules::RULES`]), then writes suppressions into `Metadata`. Unsuppressed errors do not fail here; the caller decides
    /// (see [`crate::assembly::Assembly::write`]).
    ///
    /// # Errors
    /// [`SynthError::Serialize`] when typed properties or a policy document cannot be rendered;
    /// [`SynthError::Override`] when a property override no longer applies to them.
    pub fn synth(&self) -> Result<SynthesizedStack, SynthError> {
        let mut template = self.template.clone();
        for (logical_id, typed) in &self.typed {
            if let Some(resource) = template.resources.get_mut(logical_id) {
                resource.rerender(typed.render()?)?;
            }
        }
        for (logical_id, (slot, statements)) in &self.policies {
            if statements.is_empty() {
                // A bucket, queue or topic policy with no statement is malformed: drop it (as CDK
                // creates such policies only when a statement is added). A role simply has no
                // inline policy.
                if matches!(slot, PolicySlot::Property(_)) {
                    template.resources.remove(logical_id);
                }
                continue;
            }
            let Some(resource) = template.resources.get_mut(logical_id) else {
                continue;
            };
            let document = serde_json::to_value(PolicyDocument::new(statements.clone()))?;
            match slot {
                PolicySlot::RoleInline => {
                    resource.properties.insert(
                        "Policies".into(),
                        json!([{"PolicyName": self.settings.inline_policy_name, "PolicyDocument": document}]),
                    );
                }
                PolicySlot::Property(name) => {
                    resource.properties.insert((*name).to_owned(), document);
                }
            }
        }
        let report = self.settings.rules.check(
            &self.name,
            &template,
            &self.suppressions,
            &self.stack_suppressions,
            &self.settings.path_metadata_key,
        );
        let mut written = self.suppressions.clone();
        for finding in report.findings.iter().filter(|f| f.suppressed.is_some()) {
            let list = written.entry(finding.logical_id.clone()).or_default();
            let stack_wide = self
                .stack_suppressions
                .iter()
                .find(|s| s.rule == finding.rule);
            if let (false, Some(s)) = (list.iter().any(|s| s.rule == finding.rule), stack_wide) {
                list.push(s.clone());
            }
        }
        for (logical_id, suppressions) in &written {
            let Some(resource) = template.resources.get_mut(logical_id) else {
                continue;
            };
            let argus: Vec<Value> = suppressions
                .iter()
                .map(|s| json!({"id": s.rule, "reason": s.reason}))
                .collect();
            let checkov: Vec<Value> = suppressions
                .iter()
                .filter_map(|s| self.settings.rules.find(&s.rule).map(|rule| (rule, s)))
                .flat_map(|(rule, s)| {
                    rule.checkov
                        .iter()
                        .map(move |id| json!({"id": id, "comment": s.reason}))
                })
                .collect();
            resource.metadata.insert(
                self.settings.metadata_key.clone(),
                json!({"suppressions": argus}),
            );
            if !checkov.is_empty() {
                resource
                    .metadata
                    .insert("checkov".into(), json!({"skip": checkov}));
            }
            let guard: Vec<&str> = suppressions
                .iter()
                .filter_map(|s| self.settings.rules.find(&s.rule))
                .flat_map(|rule| rule.guard.iter().copied())
                .collect();
            if !guard.is_empty() {
                // cfn-guard's suppression convention; the reasons are under `argus`.
                resource
                    .metadata
                    .insert("guard".into(), json!({"SuppressedRules": guard}));
            }
        }
        Ok(SynthesizedStack {
            name: self.name.clone(),
            template,
            report,
            assets: self.assets.clone(),
            termination_protection: self.termination_protection,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::sqs::CfnQueue;

    #[test]
    fn logical_ids_are_the_path_in_pascal_case() {
        assert_eq!(
            Stack::logical_id("ingest-queue/dlq").unwrap(),
            "IngestQueueDlq"
        );
        assert_eq!(
            Stack::logical_id("Input/Resource").unwrap(),
            "InputResource"
        );
        assert_eq!(Stack::logical_id("results_table").unwrap(), "ResultsTable");
        assert!(matches!(
            Stack::logical_id("--/9"),
            Err(SynthError::EmptyLogicalId(_))
        ));
    }

    #[test]
    fn two_paths_with_one_logical_id_are_a_synth_error() {
        let mut stack = Stack::new("s", "test").unwrap();
        stack.add("ingest-queue", &CfnQueue::default()).unwrap();
        let err = stack.add("IngestQueue", &CfnQueue::default()).unwrap_err();
        assert!(
            matches!(err, SynthError::LogicalIdCollision { ref first, .. } if first == "ingest-queue"),
            "{err}"
        );
    }

    #[test]
    fn resources_record_their_construct_path() {
        let mut stack = Stack::new("argus-beta", "test").unwrap();
        let id = stack.add("Ingest/Queue", &CfnQueue::default()).unwrap();
        assert_eq!(
            stack.resource(&id).unwrap().metadata[PATH_METADATA_KEY],
            "argus-beta/Ingest/Queue"
        );
    }

    #[test]
    fn suppressions_need_a_known_rule_and_a_real_reason() {
        let mut stack = Stack::new("s", "test").unwrap();
        let id = stack.add("Q", &CfnQueue::default()).unwrap();
        assert!(
            stack
                .suppress(&id, "NO-SUCH-RULE", "a long enough reason")
                .is_err()
        );
        assert!(stack.suppress(&id, "SQS-DLQ", "too short").is_err());
        assert!(
            stack
                .suppress("Missing", "SQS-DLQ", "a long enough reason")
                .is_err()
        );
        stack
            .suppress(&id, "SQS-DLQ", "this queue is a dead-letter queue")
            .unwrap();
        let synth = stack.synth().unwrap();
        let meta = &synth.template.resources[&id].metadata;
        assert_eq!(meta["argus"]["suppressions"][0]["id"], "SQS-DLQ");
    }

    #[test]
    fn invalid_stack_names_are_rejected() {
        assert!(Stack::new("argus_beta", "x").is_err());
        assert!(Stack::new("1argus", "x").is_err());
        assert!(Stack::new("argus-beta", "x").is_ok());
    }

    fn named_queues(_: &crate::rules::RuleContext<'_>, _: &str, r: &Resource) -> Option<String> {
        r.property("QueueName")
            .is_none()
            .then(|| "the queue has no name".into())
    }

    fn house_rule() -> Rule {
        Rule {
            id: "HOUSE-QUEUE-NAME",
            severity: crate::rules::Severity::Error,
            resource_type: "AWS::SQS::Queue",
            description: "Queues are named.",
            checkov: &[],
            guard: &[],
            check: named_queues,
        }
    }

    #[test]
    fn a_rule_added_to_the_stack_is_checked_and_suppressible() {
        let mut stack = Stack::new("s", "test").unwrap();
        let id = stack.add("Q", &CfnQueue::default()).unwrap();
        assert!(
            stack
                .suppress(&id, "HOUSE-QUEUE-NAME", "a long enough reason")
                .is_err()
        );
        stack.add_rule(house_rule()).unwrap();
        assert!(stack.add_rule(house_rule()).is_err(), "IDs are unique");
        assert!(stack.add_rule(crate::rules::RULES[0].clone()).is_err());
        let synth = stack.synth().unwrap();
        let errors: Vec<&str> = synth
            .report
            .unsuppressed_errors()
            .map(|f| f.rule.as_str())
            .collect();
        assert!(errors.contains(&"HOUSE-QUEUE-NAME"), "{errors:?}");
        stack
            .suppress(
                &id,
                "HOUSE-QUEUE-NAME",
                "names are generated for this queue",
            )
            .unwrap();
        let synth = stack.synth().unwrap();
        assert!(
            synth
                .report
                .unsuppressed_errors()
                .all(|f| f.rule != "HOUSE-QUEUE-NAME")
        );
    }

    #[test]
    fn default_settings_are_the_argus_names_and_the_built_in_pack() {
        let settings = StackSettings::default();
        assert_eq!(settings.metadata_key, "argus");
        assert_eq!(settings.path_metadata_key, "argus:path");
        assert_eq!(settings.inline_policy_name, "least-privilege");
        assert_eq!(settings.rules.rules().len(), crate::rules::RULES.len());
        assert_eq!(
            settings.rules.resourceless_actions(),
            crate::rules::RESOURCELESS_ACTIONS
        );
    }

    #[test]
    fn settings_name_the_metadata_keys_and_the_inline_policy() {
        let settings = StackSettings {
            metadata_key: "acme".into(),
            path_metadata_key: "acme:path".into(),
            inline_policy_name: "grants".into(),
            ..StackSettings::default()
        };
        let mut stack = Stack::with_settings("photo-archive", "test", settings).unwrap();
        let queue = stack.add("Q", &CfnQueue::default()).unwrap();
        stack
            .suppress(&queue, "SQS-DLQ", "this queue is a dead-letter queue")
            .unwrap();
        let role = crate::constructs::Role::new(
            &mut stack,
            "Worker",
            crate::constructs::RoleProps::for_service("lambda.amazonaws.com", "test"),
        )
        .unwrap();
        role.add_to_policy(
            &mut stack,
            Statement::allow(["sqs:SendMessage"], vec![Expr::get_att("Q", "Arn")]),
        )
        .unwrap();
        let synth = stack.synth().unwrap();
        let q = &synth.template.resources[&queue];
        assert_eq!(q.metadata["acme:path"], "photo-archive/Q");
        assert_eq!(q.metadata["acme"]["suppressions"][0]["id"], "SQS-DLQ");
        assert!(!q.metadata.contains_key("argus") && !q.metadata.contains_key("argus:path"));
        assert_eq!(
            synth.template.resources[&role.logical_id].property("Policies.0.PolicyName"),
            Some(&json!("grants"))
        );
        assert!(
            synth
                .report
                .findings
                .iter()
                .all(|f| f.path.starts_with("photo-archive/"))
        );
    }

    #[test]
    fn typed_props_are_rendered_at_synth_with_overrides_replayed() {
        let mut stack = Stack::new("s", "test").unwrap();
        let id = stack.add_typed("Q", CfnQueue::default()).unwrap();
        stack
            .resource_mut(&id)
            .unwrap()
            .add_property_override("DelaySeconds", 5)
            .unwrap();
        stack
            .update_props(&id, |q: &mut CfnQueue| q.visibility_timeout = Some(60))
            .unwrap();
        assert!(
            stack
                .update_props(&id, |_: &mut crate::resources::s3::CfnBucket| ())
                .is_err(),
            "the wrong type is refused"
        );
        assert!(
            stack
                .update_props("Missing", |_: &mut CfnQueue| ())
                .is_err()
        );
        let synth = stack.synth().unwrap();
        let r = &synth.template.resources[&id];
        assert_eq!(r.property("VisibilityTimeout"), Some(&json!(60)));
        assert_eq!(r.property("DelaySeconds"), Some(&json!(5)));
        assert_eq!(
            stack.resource(&id).unwrap().property("VisibilityTimeout"),
            Some(&json!(60)),
            "the view before synth is rendered again too"
        );
    }
}
