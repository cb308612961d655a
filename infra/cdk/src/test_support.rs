//! Helpers shared by the unit tests of the construct library, the rule pack and the toolkit
//! stack: a test stack and role, the statements granted to a role or written to a resource
//! policy, rule findings, and stability checks that build the same thing twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::fmt::Debug;

use serde_json::Value;

use crate::SynthError;
use crate::constructs::{Role, RoleProps};
use crate::rules::{Finding, RuleReport};
use crate::stack::{Stack, SynthesizedStack};
use crate::template::{DeletionPolicy, Resource};

/// A resource's `DeletionPolicy` and `UpdateReplacePolicy`.
pub(crate) type RemovalPolicies = (Option<DeletionPolicy>, Option<DeletionPolicy>);

/// Both policies `Retain`.
pub(crate) const RETAINED: RemovalPolicies =
    (Some(DeletionPolicy::Retain), Some(DeletionPolicy::Retain));

/// Both policies `Delete`.
pub(crate) const DELETED: RemovalPolicies =
    (Some(DeletionPolicy::Delete), Some(DeletionPolicy::Delete));

/// An empty stack named `test-stack`.
pub(crate) fn stack() -> Stack {
    Stack::new("test-stack", "test").unwrap()
}

/// A role named `Worker` that Lambda may assume.
pub(crate) fn worker(stack: &mut Stack) -> Role {
    Role::new(
        stack,
        "Worker",
        RoleProps::for_service("lambda.amazonaws.com", "test worker"),
    )
    .unwrap()
}

/// A test stack holding the construct `make` adds and then the `Worker` role, ready for grants.
pub(crate) fn with_worker<C>(make: impl FnOnce(&mut Stack) -> C) -> (Stack, C, Role) {
    let mut stack = stack();
    let construct = make(&mut stack);
    let role = worker(&mut stack);
    (stack, construct, role)
}

/// The statements granted to a role so far, as JSON.
pub(crate) fn statements(stack: &Stack, role: &Role) -> Vec<Value> {
    stack
        .statements(&role.logical_id)
        .iter()
        .map(|s| serde_json::to_value(s).unwrap())
        .collect()
}

/// The statements of a synthesized resource policy (`PolicyDocument.Statement`).
pub(crate) fn policy_statements(synth: &SynthesizedStack, policy_id: &str) -> Vec<Value> {
    synth.template.resources[policy_id]
        .property("PolicyDocument.Statement")
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The statements of a synthesized role's inline policy.
pub(crate) fn inline_policy_statements<'a>(
    synth: &'a SynthesizedStack,
    role: &Role,
) -> Option<&'a Value> {
    synth.template.resources[&role.logical_id].property("Policies.0.PolicyDocument.Statement")
}

/// Synthesizes the stack and returns one of its resources.
pub(crate) fn synthesized(stack: &Stack, logical_id: &str) -> Resource {
    synth_resource(stack, logical_id).1
}

/// Synthesizes the stack and returns it with one of its resources.
pub(crate) fn synth_resource(stack: &Stack, logical_id: &str) -> (SynthesizedStack, Resource) {
    let synth = stack.synth().unwrap();
    let resource = synth.template.resources[logical_id].clone();
    (synth, resource)
}

/// A resource's `DeletionPolicy` and `UpdateReplacePolicy`.
pub(crate) fn removal_policies(resource: &Resource) -> RemovalPolicies {
    (resource.deletion_policy, resource.update_replace_policy)
}

/// Whether the error is an invalid-construct error for the construct `construct`.
pub(crate) fn is_invalid_construct(err: &SynthError, construct: &str) -> bool {
    matches!(err, SynthError::InvalidConstruct { construct: c, .. } if c == construct)
}

/// A (logical ID, rule) pair as [`unsuppressed`] lists them.
pub(crate) fn pair(logical_id: &str, rule: &str) -> (String, String) {
    (logical_id.to_owned(), rule.to_owned())
}

/// The unsuppressed errors, as (logical ID, rule) pairs.
pub(crate) fn unsuppressed(synth: &SynthesizedStack) -> Vec<(String, String)> {
    synth
        .report
        .unsuppressed_errors()
        .map(|f| (f.logical_id.clone(), f.rule.clone()))
        .collect()
}

/// Whether `rule` is an unsuppressed error of `logical_id`.
pub(crate) fn has_unsuppressed(synth: &SynthesizedStack, logical_id: &str, rule: &str) -> bool {
    unsuppressed(synth).contains(&pair(logical_id, rule))
}

/// The rules of the unsuppressed errors.
pub(crate) fn unsuppressed_rules(synth: &SynthesizedStack) -> Vec<&str> {
    synth
        .report
        .unsuppressed_errors()
        .map(|f| f.rule.as_str())
        .collect()
}

/// Checks that no error is left unsuppressed, listing the findings if one is.
pub(crate) fn assert_no_unsuppressed_errors(synth: &SynthesizedStack) {
    assert_eq!(
        synth.report.unsuppressed_errors().count(),
        0,
        "{:?}",
        synth.report.findings
    );
}

/// Whether any finding, suppressed or not, matches.
pub(crate) fn any_finding(synth: &SynthesizedStack, matches: impl Fn(&Finding) -> bool) -> bool {
    synth.report.findings.iter().any(matches)
}

/// The first finding of `rule`, whichever resource it is on.
pub(crate) fn first_finding<'a>(synth: &'a SynthesizedStack, rule: &str) -> &'a Finding {
    synth
        .report
        .findings
        .iter()
        .find(|f| f.rule == rule)
        .unwrap()
}

/// The finding of `rule` on `logical_id`, if any.
pub(crate) fn finding<'a>(
    report: &'a RuleReport,
    logical_id: &str,
    rule: &str,
) -> Option<&'a Finding> {
    report
        .findings
        .iter()
        .find(|f| f.logical_id == logical_id && f.rule == rule)
}

/// The rules with a finding on `logical_id`.
pub(crate) fn rules_for(report: &RuleReport, logical_id: &str) -> BTreeSet<String> {
    report
        .findings
        .iter()
        .filter(|f| f.logical_id == logical_id)
        .map(|f| f.rule.clone())
        .collect()
}

/// Runs `build` in two fresh test stacks and checks that both builds return the same value and
/// synthesize to the same logical IDs and the same template bytes. Returns the first build's value
/// and synthesized stack.
pub(crate) fn assert_stable<T: PartialEq + Debug>(
    build: impl Fn(&mut Stack) -> T,
) -> (T, SynthesizedStack) {
    let (mut a, mut b) = (stack(), stack());
    let built = build(&mut a);
    assert_eq!(
        built,
        build(&mut b),
        "the two builds return different values"
    );
    let synth = a.synth().unwrap();
    assert_same_template(&synth, &b.synth().unwrap());
    (built, synth)
}

/// Makes the stack twice and checks that both synthesize to the same logical IDs and the same
/// template bytes. Returns the first synthesized stack.
pub(crate) fn assert_same_synth(make: impl Fn() -> Stack) -> SynthesizedStack {
    let synth = make().synth().unwrap();
    assert_same_template(&synth, &make().synth().unwrap());
    synth
}

fn assert_same_template(a: &SynthesizedStack, b: &SynthesizedStack) {
    assert_eq!(
        a.template.resources.keys().collect::<Vec<_>>(),
        b.template.resources.keys().collect::<Vec<_>>()
    );
    assert_eq!(a.template.to_json().unwrap(), b.template.to_json().unwrap());
}
