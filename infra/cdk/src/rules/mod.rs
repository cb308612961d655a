//! The built-in rule pack (a "nag"): checks every synthesized stack for encryption, public
//! access, TLS, wildcards, log retention, point-in-time recovery and more.
//!
//! A rule with [`Severity::Error`] that is not suppressed fails synth. A suppression names the rule
//! and a reason (see [`crate::stack::Stack::suppress`]); rules that mirror checkov checks list their
//! checkov IDs, so the same decision is written as a `checkov: skip:` entry too. The rules read the
//! rendered template (after property overrides), as cfn-nag and checkov do.

mod pack;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;

use serde::Serialize;
use serde_json::Value;

use crate::error::SynthError;
use crate::stack::{PATH_METADATA_KEY, Suppression};
use crate::template::{Resource, Template};

pub use pack::{RESOURCELESS_ACTIONS, RULES};

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Severity {
    /// Fails synth unless suppressed.
    Error,
    /// Reported; does not fail synth.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// What a rule's check sees besides the resource: the whole rendered template (through `Deref`,
/// so a check passes it wherever a `&Template` is wanted) and the stack's list of actions that
/// support no resource-level permission.
#[derive(Clone, Copy, Debug)]
pub struct RuleContext<'a> {
    /// The rendered template.
    pub template: &'a Template,
    /// Actions for which `Resource: "*"` is the only form IAM accepts (see
    /// [`RuleSet::resourceless_actions`]).
    pub resourceless_actions: &'a [String],
}

impl RuleContext<'_> {
    /// Whether `action` (e.g. `rekognition:DetectLabels`) supports no resource-level permission.
    pub fn is_resourceless(&self, action: &str) -> bool {
        self.resourceless_actions.iter().any(|a| a == action)
    }
}

impl Deref for RuleContext<'_> {
    type Target = Template;

    fn deref(&self) -> &Template {
        self.template
    }
}

/// A check run over every resource of one type.
///
/// Add rules of your own to a stack with [`crate::stack::Stack::add_rule`]; `check` may be a
/// closure that captures nothing.
#[derive(Clone)]
pub struct Rule {
    /// The rule ID, e.g. `S3-ENCRYPTION`.
    pub id: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// The resource type checked, e.g. `AWS::S3::Bucket`.
    pub resource_type: &'static str,
    /// What the rule asks for, in one sentence.
    pub description: &'static str,
    /// The checkov check IDs that test the same thing.
    pub checkov: &'static [&'static str],
    /// The cfn-guard rule names (AWS Control Tower proactive controls, e.g.
    /// `sqs_dlq_check` for CT.SQS.PR.1) that test the same thing: a suppression of this rule is
    /// also written as `Metadata.guard.SuppressedRules`.
    pub guard: &'static [&'static str],
    /// Given the context (template and resourceless actions), the logical ID and the resource,
    /// returns what is wrong with the resource, or `None` when it passes.
    pub check: fn(&RuleContext<'_>, &str, &Resource) -> Option<String>,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .field("severity", &self.severity)
            .finish()
    }
}

/// The rule of the built-in pack with this ID.
pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|rule| rule.id == id)
}

/// The rules a stack is checked with and the actions its roles may be granted on `Resource: "*"`.
/// `Default` is the built-in pack ([`RULES`]) and [`RESOURCELESS_ACTIONS`]; both can be extended.
#[derive(Clone, Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    resourceless_actions: Vec<String>,
}

impl Default for RuleSet {
    fn default() -> Self {
        RuleSet {
            rules: RULES.to_vec(),
            resourceless_actions: RESOURCELESS_ACTIONS
                .iter()
                .map(|a| (*a).to_owned())
                .collect(),
        }
    }
}

impl RuleSet {
    /// No rules and no resourceless actions (build a pack of your own from nothing).
    pub fn empty() -> Self {
        RuleSet {
            rules: Vec::new(),
            resourceless_actions: Vec::new(),
        }
    }

    /// The rules, in the order they run (the built-in pack first, then added rules).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule with this ID.
    pub fn find(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|rule| rule.id == id)
    }

    /// Adds a rule, run after the ones already in the set.
    ///
    /// # Errors
    /// [`SynthError::InvalidConstruct`] when a rule with the same ID is already in the set.
    pub fn add_rule(&mut self, rule: Rule) -> Result<(), SynthError> {
        if self.find(rule.id).is_some() {
            return Err(SynthError::InvalidConstruct {
                construct: rule.id.to_owned(),
                reason: "a rule with this ID is already in the rule set".into(),
            });
        }
        self.rules.push(rule);
        Ok(())
    }

    /// Actions that support no resource-level permission (`Resource: "*"` is the only form IAM
    /// accepts, as the Service Authorization Reference lists them:
    /// <https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html>).
    pub fn resourceless_actions(&self) -> &[String] {
        &self.resourceless_actions
    }

    /// Whether `action` supports no resource-level permission.
    pub fn is_resourceless(&self, action: &str) -> bool {
        self.resourceless_actions.iter().any(|a| a == action)
    }

    /// Adds actions (e.g. `ec2:DescribeInstances`) to the resourceless list; ones already there
    /// are kept once.
    pub fn add_resourceless_actions<A: Into<String>>(
        &mut self,
        actions: impl IntoIterator<Item = A>,
    ) {
        for action in actions {
            let action = action.into();
            if !self.is_resourceless(&action) {
                self.resourceless_actions.push(action);
            }
        }
    }

    /// Runs every rule over every resource of `template`. A finding is suppressed by a
    /// suppression of its rule on its resource, or else by a stack-wide one (`stack_wide`); its
    /// path is read from the resource metadata key `path_key` (the logical ID when absent).
    pub fn check(
        &self,
        stack: &str,
        template: &Template,
        suppressions: &BTreeMap<String, Vec<Suppression>>,
        stack_wide: &[Suppression],
        path_key: &str,
    ) -> RuleReport {
        let context = RuleContext {
            template,
            resourceless_actions: &self.resourceless_actions,
        };
        let mut findings = Vec::new();
        for (logical_id, resource) in &template.resources {
            for rule in self
                .rules
                .iter()
                .filter(|r| r.resource_type == resource.resource_type)
            {
                let Some(message) = (rule.check)(&context, logical_id, resource) else {
                    continue;
                };
                let suppressed = suppressions
                    .get(logical_id)
                    .and_then(|list| list.iter().find(|s| s.rule == rule.id))
                    .or_else(|| stack_wide.iter().find(|s| s.rule == rule.id))
                    .map(|s| s.reason.clone());
                let path = resource
                    .metadata
                    .get(path_key)
                    .and_then(Value::as_str)
                    .unwrap_or(logical_id);
                findings.push(Finding {
                    rule: rule.id.to_owned(),
                    severity: rule.severity,
                    stack: stack.to_owned(),
                    logical_id: logical_id.clone(),
                    path: path.to_owned(),
                    message,
                    suppressed,
                });
            }
        }
        RuleReport { findings }
    }
}

/// One rule that one resource does not pass.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// The rule ID.
    pub rule: String,
    /// Error or warning.
    pub severity: Severity,
    /// The stack.
    pub stack: String,
    /// The resource's logical ID.
    pub logical_id: String,
    /// The resource's construct path.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// The suppression reason, when the finding is suppressed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
}

/// Everything the rule pack found in one or more stacks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RuleReport {
    /// Findings, ordered by stack, then logical ID, then the rule's place in [`RULES`].
    pub findings: Vec<Finding>,
}

/// Counts of rule-pack findings (a stack's entry in `manifest.json`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FindingCounts {
    /// Unsuppressed errors (always 0 in a written assembly).
    pub errors: usize,
    /// Unsuppressed warnings.
    pub warnings: usize,
    /// Suppressed findings.
    pub suppressed: usize,
}

impl RuleReport {
    /// Errors that are not suppressed: each one fails synth.
    pub fn unsuppressed_errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error && f.suppressed.is_none())
    }

    /// The findings counted by kind, in one pass.
    pub fn counts(&self) -> FindingCounts {
        let mut counts = FindingCounts::default();
        for finding in &self.findings {
            match (finding.severity, &finding.suppressed) {
                (_, Some(_)) => counts.suppressed += 1,
                (Severity::Error, None) => counts.errors += 1,
                (Severity::Warning, None) => counts.warnings += 1,
            }
        }
        counts
    }

    /// Adds the findings of another report.
    pub fn extend(&mut self, other: RuleReport) {
        self.findings.extend(other.findings);
    }

    /// A text table, one finding per line: severity, stack, logical ID, rule, message, and the
    /// suppression reason where there is one.
    pub fn table<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> String {
        let rows: Vec<[String; 5]> = findings
            .into_iter()
            .map(|f| {
                let status = match &f.suppressed {
                    Some(reason) => format!("suppressed: {reason}"),
                    None => f.message.clone(),
                };
                [
                    f.severity.to_string(),
                    f.stack.clone(),
                    f.logical_id.clone(),
                    f.rule.clone(),
                    status,
                ]
            })
            .collect();
        let header = ["SEVERITY", "STACK", "RESOURCE", "RULE", "DETAIL"].map(str::to_owned);
        let mut widths = header.clone().map(|h| h.len());
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.len());
            }
        }
        let line = |row: &[String; 5]| {
            let mut out = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    out.push_str(cell);
                } else {
                    out.push_str(&format!("{cell:<width$}  ", width = widths[i]));
                }
            }
            out.trim_end().to_owned()
        };
        let mut out = line(&header);
        for row in &rows {
            out.push('\n');
            out.push_str(&line(row));
        }
        out
    }
}

/// Runs every rule of the built-in pack over every resource of `template` (see
/// [`RuleSet::check`]; paths are read from [`PATH_METADATA_KEY`]).
///
/// A finding is suppressed by a suppression of its rule on its resource, or else by a stack-wide
/// one (`stack_wide`).
pub fn check(
    stack: &str,
    template: &Template,
    suppressions: &BTreeMap<String, Vec<Suppression>>,
    stack_wide: &[Suppression],
) -> RuleReport {
    RuleSet::default().check(stack, template, suppressions, stack_wide, PATH_METADATA_KEY)
}
