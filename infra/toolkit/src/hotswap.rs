//! `deploy --hotswap`: when the only differences between the deployed stack and the synthesized
//! one are Lambda code (the asset's S3 key and version) or a function's `Environment`,
//! `MemorySize` or `Timeout`, update the functions through the Lambda API instead of a change set,
//! as `cdk deploy --hotswap` does.
//!
//! [`plan`] compares the deployed template and parameter values (GetTemplate, DescribeStacks) with
//! the synthesized ones and either lists the function updates or names every resource/property
//! that forces a full deployment. [`apply`] runs the updates: `UpdateFunctionConfiguration`
//! (<https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html>) then
//! `UpdateFunctionCode` with `S3Bucket`/`S3Key`/`S3ObjectVersion`
//! (<https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html>), each followed by
//! the SDK's `FunctionUpdatedV2` waiter (GetFunction until `LastUpdateStatus: Successful`, polled
//! from 1 s; the older `FunctionUpdated` waiter starts at 5 s), functions in parallel.
//!
//! A hotswapped stack drifts from its template: CloudFormation still records the old code and
//! configuration until the next full (change-set) deployment.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::types::{Environment, LastUpdateStatus};
use serde_json::Value;

use super::ToolkitError;
use super::aws::AwsContext;
use super::deploy::{DeployOutcome, DeployRequest, deployed_template, describe_stack};
use super::diff::TemplateDiff;
use super::report::Reporter;

/// The CloudFormation type of the only resources a hotswap updates.
pub const LAMBDA_FUNCTION: &str = "AWS::Lambda::Function";

/// The function properties a hotswap can update (paths under `Properties`).
pub const HOTSWAPPABLE_PROPERTIES: [&str; 4] = ["Code", "Environment", "MemorySize", "Timeout"];

/// A Lambda deployment package in S3, resolved to literal values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeLocation {
    /// `S3Bucket`.
    pub bucket: String,
    /// `S3Key`.
    pub key: String,
    /// `S3ObjectVersion` (`None`: the template pins no version).
    pub version: Option<String>,
}

/// The environment variables a hotswap changes; the variables not named keep their deployed values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvironmentChange {
    /// Variables added or given a new (literal) value.
    pub set: BTreeMap<String, String>,
    /// Variables removed.
    pub removed: BTreeSet<String>,
}

/// The updates of one function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionHotswap {
    /// The function's logical ID.
    pub logical_id: String,
    /// New code, when the asset changed.
    pub code: Option<CodeLocation>,
    /// Environment variables to change.
    pub environment: Option<EnvironmentChange>,
    /// New memory size, MB.
    pub memory_size: Option<i32>,
    /// New timeout, seconds.
    pub timeout: Option<i32>,
}

impl FunctionHotswap {
    /// What changes, for messages: `code, Environment (ARGUS_MAX_LABELS), MemorySize`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(code) = &self.code {
            parts.push(format!("code s3://{}/{}", code.bucket, code.key));
        }
        if let Some(environment) = &self.environment {
            let names: Vec<&str> = environment
                .set
                .keys()
                .chain(&environment.removed)
                .map(String::as_str)
                .collect();
            parts.push(format!("Environment ({})", names.join(", ")));
        }
        if let Some(memory) = self.memory_size {
            parts.push(format!("MemorySize {memory} MB"));
        }
        if let Some(timeout) = self.timeout {
            parts.push(format!("Timeout {timeout} s"));
        }
        parts.join(", ")
    }

    fn changes_configuration(&self) -> bool {
        self.environment.is_some() || self.memory_size.is_some() || self.timeout.is_some()
    }
}

/// What a hotswap deployment will do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HotswapPlan {
    /// The deployed template and parameters are the synthesized ones.
    NoChanges,
    /// Only hotswappable properties of Lambda functions differ: these updates.
    Hotswap(Vec<FunctionHotswap>),
    /// Something else differs: a change-set deployment is needed, for these reasons (each names
    /// the resource or section and the property).
    FullDeploy(Vec<String>),
}

/// Compares the deployed stack (its template and the parameter values it was deployed with) with
/// the synthesized template and the parameter values this deploy would pass.
pub fn plan(
    deployed: &Value,
    deployed_parameters: &BTreeMap<String, String>,
    new: &Value,
    new_parameters: &BTreeMap<String, String>,
) -> HotswapPlan {
    let diff = TemplateDiff::between(Some(deployed), new);
    let mut reasons = Vec::new();
    for (id, ty) in &diff.added {
        reasons.push(format!("resource {id} ({ty}) is added"));
    }
    for (id, ty) in &diff.removed {
        reasons.push(format!("resource {id} ({ty}) is removed"));
    }
    for change in &diff.other {
        reasons.push(format!("template section {} changed", change.path));
    }
    for section in [
        "AWSTemplateFormatVersion",
        "Mappings",
        "Rules",
        "Transform",
        "Metadata",
    ] {
        if deployed.get(section) != new.get(section) {
            reasons.push(format!("template section {section} changed"));
        }
    }
    let mut functions: BTreeMap<String, FunctionHotswap> = BTreeMap::new();
    for modified in &diff.modified {
        let id = &modified.logical_id;
        let ty = &modified.resource_type;
        let old_type = resource(deployed, id)
            .and_then(|r| r.get("Type"))
            .and_then(Value::as_str);
        if ty != LAMBDA_FUNCTION || old_type != Some(LAMBDA_FUNCTION) {
            for change in &modified.changes {
                reasons.push(format!("{id} ({ty}): {} changed", change.path));
            }
            continue;
        }
        for change in &modified.changes {
            let hotswappable = HOTSWAPPABLE_PROPERTIES.iter().any(|p| {
                change.path == format!("Properties.{p}")
                    || change.path.starts_with(&format!("Properties.{p}."))
            });
            if !hotswappable {
                reasons.push(format!(
                    "{id} ({ty}): {} changed (a hotswap updates only {})",
                    change.path,
                    HOTSWAPPABLE_PROPERTIES.join(", ")
                ));
            }
        }
    }

    // Parameters whose value changes: allowed only where a function's Code uses them.
    let changed_parameters: BTreeSet<&String> = deployed_parameters
        .keys()
        .chain(new_parameters.keys())
        .filter(|k| deployed_parameters.get(*k) != new_parameters.get(*k))
        .collect();
    for parameter in &changed_parameters {
        for (place, path) in references(new, parameter) {
            let in_code = resource(new, &place)
                .and_then(|r| r.get("Type"))
                .and_then(Value::as_str)
                == Some(LAMBDA_FUNCTION)
                && (path == "Properties.Code" || path.starts_with("Properties.Code."));
            if !in_code {
                reasons.push(format!(
                    "parameter {parameter} changes and {place} uses it at {path}"
                ));
            }
        }
    }

    // Each function: resolve what its hotswappable properties become.
    let empty = serde_json::Map::new();
    let new_resources = new
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (id, definition) in new_resources {
        if definition.get("Type").and_then(Value::as_str) != Some(LAMBDA_FUNCTION) {
            continue;
        }
        let Some(before) = resource(deployed, id) else {
            continue;
        };
        let property =
            |r: &Value, name: &str| r.get("Properties").and_then(|p| p.get(name)).cloned();
        let mut update = FunctionHotswap {
            logical_id: id.clone(),
            code: None,
            environment: None,
            memory_size: None,
            timeout: None,
        };
        let old_code = property(before, "Code").map(|c| resolve_code(&c, deployed_parameters));
        let new_code = property(definition, "Code").map(|c| resolve_code(&c, new_parameters));
        match (old_code, new_code) {
            (Some(Ok(old)), Some(Ok(new))) if old == new => {}
            (_, Some(Ok(new))) => update.code = Some(new),
            (_, Some(Err(why))) => reasons.push(format!("{id} ({LAMBDA_FUNCTION}): {why}")),
            (_, None) => {}
        }
        let (old_env, new_env) = (variables(before), variables(definition));
        if old_env != new_env {
            let mut change = EnvironmentChange::default();
            for (name, value) in &new_env {
                if old_env.get(name) == Some(value) {
                    continue;
                }
                match value {
                    Value::String(s) => {
                        change.set.insert(name.clone(), s.clone());
                    }
                    Value::Number(n) => {
                        change.set.insert(name.clone(), n.to_string());
                    }
                    Value::Bool(b) => {
                        change.set.insert(name.clone(), b.to_string());
                    }
                    other => reasons.push(format!(
                        "{id} ({LAMBDA_FUNCTION}): Properties.Environment.Variables.{name} becomes {other}, which only CloudFormation can resolve"
                    )),
                }
            }
            change.removed = old_env
                .keys()
                .filter(|k| !new_env.contains_key(*k))
                .cloned()
                .collect();
            update.environment = Some(change);
        }
        for (name, slot) in [
            ("MemorySize", &mut update.memory_size),
            ("Timeout", &mut update.timeout),
        ] {
            let (old, new) = (property(before, name), property(definition, name));
            if old == new {
                continue;
            }
            match new.as_ref().and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok()) {
                Some(n) => *slot = Some(n),
                None => reasons.push(format!(
                    "{id} ({LAMBDA_FUNCTION}): Properties.{name} becomes {}, not a whole number a hotswap can set",
                    new.map_or_else(|| "unset".to_owned(), |v| v.to_string())
                )),
            }
        }
        if update.code.is_some() || update.changes_configuration() {
            functions.insert(id.clone(), update);
        }
    }
    if !reasons.is_empty() {
        reasons.sort();
        reasons.dedup();
        HotswapPlan::FullDeploy(reasons)
    } else if functions.is_empty() {
        HotswapPlan::NoChanges
    } else {
        HotswapPlan::Hotswap(functions.into_values().collect())
    }
}

fn resource<'a>(template: &'a Value, id: &str) -> Option<&'a Value> {
    template.get("Resources").and_then(|r| r.get(id))
}

fn variables(function: &Value) -> serde_json::Map<String, Value> {
    function
        .pointer("/Properties/Environment/Variables")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// Every place `{"Ref": parameter}` (or `${parameter}` in an `Fn::Sub`) appears: (the resource's
/// logical ID or the top-level section, the dot-separated path inside it).
fn references(template: &Value, parameter: &str) -> Vec<(String, String)> {
    fn walk(value: &Value, parameter: &str, path: &str, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                let is_ref = map.get("Ref").and_then(Value::as_str) == Some(parameter);
                let in_sub = map.get("Fn::Sub").is_some_and(|sub| {
                    let text = match sub {
                        Value::Array(items) => items.first().and_then(Value::as_str),
                        other => other.as_str(),
                    };
                    text.is_some_and(|t| t.contains(&format!("${{{parameter}}}")))
                });
                if is_ref || in_sub {
                    found.push(path.to_owned());
                    return;
                }
                for (key, child) in map {
                    let child_path = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    walk(child, parameter, &child_path, found);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, parameter, &format!("{path}.{i}"), found);
                }
            }
            _ => {}
        }
    }
    let mut places = Vec::new();
    let Some(sections) = template.as_object() else {
        return places;
    };
    for (section, content) in sections {
        let entries: Vec<(String, &Value)> = match (section.as_str(), content.as_object()) {
            ("Resources", Some(resources)) => {
                resources.iter().map(|(k, v)| (k.clone(), v)).collect()
            }
            ("Parameters", _) => continue,
            _ => vec![(section.clone(), content)],
        };
        for (place, value) in entries {
            let mut found = Vec::new();
            walk(value, parameter, "", &mut found);
            places.extend(found.into_iter().map(|path| (place.clone(), path)));
        }
    }
    places
}

/// Resolves a function's `Code` (literals or `Ref`s to parameters) with `parameters`.
fn resolve_code(
    code: &Value,
    parameters: &BTreeMap<String, String>,
) -> Result<CodeLocation, String> {
    let field = |name: &str| -> Result<Option<String>, String> {
        match code.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(value) => match value.get("Ref").and_then(Value::as_str) {
                Some(parameter) => parameters.get(parameter).cloned().map(Some).ok_or_else(|| {
                    format!(
                        "Properties.Code.{name} refers to parameter {parameter}, which has no value"
                    )
                }),
                None => Err(format!(
                    "Properties.Code.{name} is {value}, which only CloudFormation can resolve"
                )),
            },
        }
    };
    match (field("S3Bucket")?, field("S3Key")?) {
        (Some(bucket), Some(key)) => Ok(CodeLocation {
            bucket,
            key,
            version: field("S3ObjectVersion")?,
        }),
        _ => Err("Properties.Code has no S3Bucket and S3Key (inline or image code)".to_owned()),
    }
}

/// Deploys `request` by hotswap when it can: compares the deployed stack with the request
/// ([`plan`]), applies the function updates ([`apply`]) and reports each one, how long the
/// hotswap took, and that the stack now drifts from its template.
///
/// Returns `None` when a change-set deployment is needed (the stack does not exist or is busy,
/// or something other than function code and configuration differs); the reasons are reported.
///
/// # Errors
/// Those of [`apply`], and [`ToolkitError::Aws`] reading the deployed stack.
pub async fn try_hotswap(
    aws: &AwsContext,
    request: &DeployRequest,
    report: &dyn Reporter,
) -> Result<Option<DeployOutcome>, ToolkitError> {
    let name = request.stack_name.as_str();
    let fallback = |why: &str| {
        report.info(&format!(
            "{name}: cannot hotswap ({why}); deploying through a change set"
        ));
    };
    let state = match describe_stack(aws, name).await? {
        None => {
            fallback("the stack is not deployed yet");
            return Ok(None);
        }
        Some(state)
            if !state.status.ends_with("_COMPLETE") || state.status.contains("ROLLBACK") =>
        {
            fallback(&format!("the stack is {}", state.status));
            return Ok(None);
        }
        Some(state) => state,
    };
    let Some(deployed) = deployed_template(aws, name).await? else {
        fallback("the stack is not deployed yet");
        return Ok(None);
    };
    let new: Value = serde_json::from_str(&request.template_body)
        .map_err(|e| ToolkitError::Refused(format!("the template of {name} is not JSON: {e}")))?;
    let parameters: BTreeMap<String, String> = request.parameters.iter().cloned().collect();
    match plan(&deployed, &state.parameters, &new, &parameters) {
        HotswapPlan::NoChanges => {
            report.info(&format!("{name}: no changes"));
            Ok(Some(DeployOutcome::NoChanges))
        }
        HotswapPlan::FullDeploy(reasons) => {
            report.info(&format!(
                "{name}: cannot hotswap; deploying through a change set, because:"
            ));
            for reason in &reasons {
                report.info(&format!("  {reason}"));
            }
            Ok(None)
        }
        HotswapPlan::Hotswap(updates) => {
            let started = Instant::now();
            let functions = apply(aws, name, &updates, request.timeout, report).await?;
            for f in &functions {
                report.info(&format!(
                    "{name}: hotswapped {} ({}) in {:.1} s: {}{}",
                    f.logical_id,
                    f.function_name,
                    f.elapsed.as_secs_f64(),
                    f.summary,
                    f.code_sha256
                        .as_deref()
                        .map_or_else(String::new, |sha| format!(" (CodeSha256 {sha})"))
                ));
            }
            report.info(&format!(
                "{name}: hotswap done in {:.1} s, no change set",
                started.elapsed().as_secs_f64()
            ));
            report.info(&format!(
                "{name}: warning: the stack now drifts from its template (CloudFormation still records the previous code and configuration) until the next full deploy"
            ));
            Ok(Some(DeployOutcome::Hotswapped { functions }))
        }
    }
}

/// One function updated by [`apply`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hotswapped {
    /// Its logical ID.
    pub logical_id: String,
    /// Its name (the physical ID).
    pub function_name: String,
    /// What changed ([`FunctionHotswap::summary`]).
    pub summary: String,
    /// The deployed code's SHA-256 (base64, as Lambda reports `CodeSha256`).
    pub code_sha256: Option<String>,
    /// How long its updates took, waits included.
    pub elapsed: Duration,
}

/// Applies the updates of a [`HotswapPlan::Hotswap`] to the functions of `stack_name`, every
/// function in parallel, waiting up to `timeout` for each update to be `Successful`.
///
/// # Errors
/// [`ToolkitError::Refused`] when a logical ID is not a resource of the stack;
/// [`ToolkitError::HotswapFailed`] when Lambda reports `LastUpdateStatus: Failed` (with its
/// reason); [`ToolkitError::Timeout`]; [`ToolkitError::Aws`].
pub async fn apply(
    aws: &AwsContext,
    stack_name: &str,
    updates: &[FunctionHotswap],
    timeout: Duration,
    report: &dyn Reporter,
) -> Result<Vec<Hotswapped>, ToolkitError> {
    let mut physical = BTreeMap::new();
    let mut pages = aws
        .cloudformation
        .list_stack_resources()
        .stack_name(stack_name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws.error("cloudformation:ListStackResources", e))?;
        for summary in page.stack_resource_summaries() {
            if let (Some(logical), Some(physical_id)) = (
                summary.logical_resource_id(),
                summary.physical_resource_id(),
            ) {
                physical.insert(logical.to_owned(), physical_id.to_owned());
            }
        }
    }
    let mut jobs = Vec::new();
    for update in updates {
        let name = physical.get(&update.logical_id).ok_or_else(|| {
            ToolkitError::Refused(format!(
                "{stack_name} has no deployed resource {}; run a full deploy",
                update.logical_id
            ))
        })?;
        report.info(&format!(
            "{stack_name}: hotswapping {} ({name}): {}",
            update.logical_id,
            update.summary()
        ));
        jobs.push(update_function(aws, name.clone(), update, timeout, report));
    }
    futures_util::future::try_join_all(jobs).await
}

async fn update_function(
    aws: &AwsContext,
    name: String,
    update: &FunctionHotswap,
    timeout: Duration,
    report: &dyn Reporter,
) -> Result<Hotswapped, ToolkitError> {
    let started = Instant::now();
    if update.changes_configuration() {
        let mut request = aws
            .lambda
            .update_function_configuration()
            .function_name(&name)
            .set_memory_size(update.memory_size)
            .set_timeout(update.timeout);
        if let Some(change) = &update.environment {
            let current = aws
                .lambda
                .get_function_configuration()
                .function_name(&name)
                .send()
                .await
                .map_err(|e| aws.error("lambda:GetFunctionConfiguration", e))?;
            let mut variables: BTreeMap<String, String> = current
                .environment()
                .and_then(|e| e.variables())
                .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            for removed in &change.removed {
                variables.remove(removed);
            }
            variables.extend(change.set.clone());
            request = request.environment(
                Environment::builder()
                    .set_variables(Some(variables.into_iter().collect()))
                    .build(),
            );
        }
        request
            .send()
            .await
            .map_err(|e| aws.error("lambda:UpdateFunctionConfiguration", e))?;
        wait_until_updated(aws, &name, timeout, report).await?;
    }
    let mut code_sha256 = None;
    if let Some(code) = &update.code {
        let output = aws
            .lambda
            .update_function_code()
            .function_name(&name)
            .s3_bucket(&code.bucket)
            .s3_key(&code.key)
            .set_s3_object_version(code.version.clone())
            .send()
            .await
            .map_err(|e| aws.error("lambda:UpdateFunctionCode", e))?;
        code_sha256 = output.code_sha256().map(str::to_owned);
        wait_until_updated(aws, &name, timeout, report).await?;
    }
    Ok(Hotswapped {
        logical_id: update.logical_id.clone(),
        function_name: name,
        summary: update.summary(),
        code_sha256,
        elapsed: started.elapsed(),
    })
}

/// Waits with the SDK's `FunctionUpdatedV2` waiter (GetFunction until `LastUpdateStatus` is
/// `Successful`, first delay 1 s), then explains a failure or a timeout
/// (<https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html>).
async fn wait_until_updated(
    aws: &AwsContext,
    name: &str,
    timeout: Duration,
    report: &dyn Reporter,
) -> Result<(), ToolkitError> {
    report.info(&format!(
        "{name}: waiting for LastUpdateStatus Successful (up to {} s)",
        timeout.as_secs()
    ));
    let waited = aws
        .lambda
        .wait_until_function_updated_v2()
        .function_name(name)
        .wait(timeout)
        .await;
    if waited.is_ok() {
        return Ok(());
    }
    let current = aws
        .lambda
        .get_function_configuration()
        .function_name(name)
        .send()
        .await
        .map_err(|e| aws.error("lambda:GetFunctionConfiguration", e))?;
    let status = current
        .last_update_status()
        .map_or_else(|| "unknown".to_owned(), |s| s.as_str().to_owned());
    Err(match current.last_update_status() {
        Some(LastUpdateStatus::Failed) => ToolkitError::HotswapFailed {
            function: name.to_owned(),
            reason: current
                .last_update_status_reason()
                .unwrap_or("no reason given")
                .to_owned(),
        },
        Some(LastUpdateStatus::Successful) => return Ok(()),
        _ => ToolkitError::Timeout {
            what: format!("function {name} to finish updating"),
            status: format!("LastUpdateStatus {status}"),
            seconds: timeout.as_secs(),
        },
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A stack like a stage's: a queue and a function whose code comes from parameters.
    fn template() -> Value {
        json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Parameters": {
                "AssetsBucket": {"Type": "String"},
                "ProcessorCodeKey": {"Type": "String"},
                "ProcessorCodeVersion": {"Type": "String"}
            },
            "Resources": {
                "Ingest": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 360}},
                "Processor": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "FunctionName": "argus-beta-processor",
                        "Role": {"Fn::GetAtt": ["ProcessorServiceRole", "Arn"]},
                        "Code": {
                            "S3Bucket": {"Ref": "AssetsBucket"},
                            "S3Key": {"Ref": "ProcessorCodeKey"},
                            "S3ObjectVersion": {"Ref": "ProcessorCodeVersion"}
                        },
                        "MemorySize": 512,
                        "Timeout": 60,
                        "Environment": {"Variables": {
                            "ARGUS_MAX_LABELS": "20",
                            "ARGUS_RESULTS_TABLE": {"Ref": "Results"}
                        }}
                    }
                },
                "ProcessorServiceRole": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [
                        {"Effect": "Allow", "Action": "sqs:ReceiveMessage", "Resource": {"Fn::GetAtt": ["Ingest", "Arn"]}}
                    ]}}]}
                }
            },
            "Outputs": {"IngestQueue": {"Value": {"Ref": "Ingest"}}}
        })
    }

    fn parameters(key: &str, version: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("AssetsBucket".to_owned(), "assets".to_owned()),
            ("ProcessorCodeKey".to_owned(), key.to_owned()),
            ("ProcessorCodeVersion".to_owned(), version.to_owned()),
        ])
    }

    fn reasons(plan: HotswapPlan) -> Vec<String> {
        match plan {
            HotswapPlan::FullDeploy(reasons) => reasons,
            other => panic!("expected a full deploy, got {other:?}"),
        }
    }

    #[test]
    fn the_same_template_and_parameters_need_nothing() {
        let p = parameters("argus-beta/a.zip", "v1");
        assert_eq!(
            plan(&template(), &p, &template(), &p),
            HotswapPlan::NoChanges
        );
    }

    #[test]
    fn a_new_code_asset_alone_is_hotswapped_with_its_key_and_version() {
        let old = parameters("argus-beta/a.zip", "v1");
        let new = parameters("argus-beta/b.zip", "v2");
        let HotswapPlan::Hotswap(updates) = plan(&template(), &old, &template(), &new) else {
            panic!("expected a hotswap");
        };
        assert_eq!(
            updates,
            vec![FunctionHotswap {
                logical_id: "Processor".into(),
                code: Some(CodeLocation {
                    bucket: "assets".into(),
                    key: "argus-beta/b.zip".into(),
                    version: Some("v2".into()),
                }),
                environment: None,
                memory_size: None,
                timeout: None,
            }]
        );
    }

    #[test]
    fn an_environment_change_alone_is_hotswapped_naming_only_the_changed_variables() {
        let p = parameters("argus-beta/a.zip", "v1");
        let mut new = template();
        let variables = new
            .pointer_mut("/Resources/Processor/Properties/Environment/Variables")
            .unwrap();
        variables["ARGUS_MAX_LABELS"] = json!("1");
        variables["ARGUS_NEW"] = json!(3);
        let HotswapPlan::Hotswap(updates) = plan(&template(), &p, &new, &p) else {
            panic!("expected a hotswap");
        };
        let [update] = updates.as_slice() else {
            panic!("{updates:?}")
        };
        assert_eq!(update.code, None);
        assert_eq!(
            update.environment,
            Some(EnvironmentChange {
                set: BTreeMap::from([
                    ("ARGUS_MAX_LABELS".to_owned(), "1".to_owned()),
                    ("ARGUS_NEW".to_owned(), "3".to_owned())
                ]),
                removed: BTreeSet::new(),
            })
        );
    }

    #[test]
    fn memory_timeout_and_a_removed_variable_are_hotswapped_together_with_code() {
        let old = parameters("argus-beta/a.zip", "v1");
        let new_parameters = parameters("argus-beta/b.zip", "v2");
        let mut new = template();
        let properties = new.pointer_mut("/Resources/Processor/Properties").unwrap();
        properties["MemorySize"] = json!(1024);
        properties["Timeout"] = json!(90);
        properties["Environment"]["Variables"]
            .as_object_mut()
            .unwrap()
            .remove("ARGUS_MAX_LABELS");
        let HotswapPlan::Hotswap(updates) = plan(&template(), &old, &new, &new_parameters) else {
            panic!("expected a hotswap");
        };
        let update = &updates[0];
        assert_eq!(update.memory_size, Some(1024));
        assert_eq!(update.timeout, Some(90));
        assert!(update.code.is_some());
        let environment = update.environment.as_ref().unwrap();
        assert!(environment.set.is_empty());
        assert_eq!(
            environment.removed,
            BTreeSet::from(["ARGUS_MAX_LABELS".to_owned()])
        );
        assert_eq!(
            update.summary(),
            "code s3://assets/argus-beta/b.zip, Environment (ARGUS_MAX_LABELS), MemorySize 1024 MB, Timeout 90 s"
        );
    }

    #[test]
    fn a_new_resource_forces_a_full_deploy_naming_it() {
        let p = parameters("argus-beta/a.zip", "v1");
        let mut new = template();
        new["Resources"]["Extra"] = json!({"Type": "AWS::SNS::Topic", "Properties": {}});
        assert_eq!(
            reasons(plan(&template(), &p, &new, &p)),
            ["resource Extra (AWS::SNS::Topic) is added"]
        );
    }

    #[test]
    fn an_iam_change_forces_a_full_deploy_even_beside_a_code_change() {
        let old = parameters("argus-beta/a.zip", "v1");
        let new_parameters = parameters("argus-beta/b.zip", "v2");
        let mut new = template();
        new.pointer_mut(
            "/Resources/ProcessorServiceRole/Properties/Policies/0/PolicyDocument/Statement/0",
        )
        .unwrap()["Action"] = json!("sqs:*");
        let reasons = reasons(plan(&template(), &old, &new, &new_parameters));
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        // Named as a change of a resource no hotswap touches, with the statement's path.
        assert!(
            reasons[0].starts_with("ProcessorServiceRole (AWS::IAM::Role): Properties.Policies")
                && reasons[0].ends_with("Action changed"),
            "{reasons:?}"
        );
    }

    #[test]
    fn a_function_property_other_than_the_four_forces_a_full_deploy() {
        let p = parameters("argus-beta/a.zip", "v1");
        let mut new = template();
        new["Resources"]["Processor"]["Properties"]["Role"] = json!("arn:aws:iam::1:role/other");
        assert_eq!(
            reasons(plan(&template(), &p, &new, &p)),
            [
                "Processor (AWS::Lambda::Function): Properties.Role changed (a hotswap updates only Code, Environment, MemorySize, Timeout)"
            ]
        );
    }

    #[test]
    fn an_output_or_an_unresolvable_variable_forces_a_full_deploy() {
        let p = parameters("argus-beta/a.zip", "v1");
        let mut new = template();
        new["Outputs"]["Extra"] = json!({"Value": "x"});
        new["Resources"]["Processor"]["Properties"]["Environment"]["Variables"]["ARGUS_TOPIC"] =
            json!({"Ref": "Alerts"});
        let reasons = reasons(plan(&template(), &p, &new, &p));
        assert!(
            reasons.contains(&"template section Outputs.Extra changed".to_owned()),
            "{reasons:?}"
        );
        assert!(
            reasons
                .iter()
                .any(|r| r
                    .contains("Environment.Variables.ARGUS_TOPIC becomes {\"Ref\":\"Alerts\"}")),
            "{reasons:?}"
        );
    }

    #[test]
    fn a_changed_parameter_used_outside_code_forces_a_full_deploy() {
        let mut old_template = template();
        old_template["Resources"]["Ingest"]["Properties"]["QueueName"] =
            json!({"Fn::Sub": "${ProcessorCodeKey}-queue"});
        let reasons = reasons(plan(
            &old_template,
            &parameters("a.zip", "v1"),
            &old_template,
            &parameters("b.zip", "v2"),
        ));
        assert_eq!(
            reasons,
            ["parameter ProcessorCodeKey changes and Ingest uses it at Properties.QueueName"]
        );
    }
}
