//! `deploy`: change set (CREATE or UPDATE) → show the changes → approval when IAM broadens →
//! execute → stream stack events with a progress display → outputs.
//!
//! Follows the change-set workflow of the CloudFormation User Guide
//! (<https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets.html>).

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::{
    Capability, ChangeAction, ChangeSetStatus, ChangeSetType, Parameter, Replacement, StackEvent,
};
use aws_smithy_types::DateTime;
use serde_json::Value;

use super::ToolkitError;
use super::assets::publish_bytes;
use super::aws::{AwsContext, error_code, error_message};
use super::diff::TemplateDiff;
use super::report::{Answer, Reporter};

/// Templates larger than this many bytes cannot be passed inline and go via S3.
pub const MAX_INLINE_TEMPLATE_BYTES: usize = 51_200;

/// How often stack and change-set status is polled.
const POLL: Duration = Duration::from_millis(1000);

/// When a deployment that broadens IAM permissions needs approval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Approval {
    /// Never ask (CI).
    Never,
    /// Ask when IAM statements are added (the default); without a terminal this is an error.
    #[default]
    Broadening,
}

/// What to deploy.
#[derive(Clone, Debug)]
pub struct DeployRequest {
    /// The stack name.
    pub stack_name: String,
    /// The template (JSON).
    pub template_body: String,
    /// Parameter values.
    pub parameters: Vec<(String, String)>,
    /// When to ask before broadening IAM.
    pub approval: Approval,
    /// `false`: create the change set and stop (`--no-execute`).
    pub execute: bool,
    /// Turn termination protection on for the stack.
    pub termination_protection: bool,
    /// The bucket large templates are uploaded to (the assets bucket).
    pub template_bucket: Option<String>,
    /// How long the stack operation may take.
    pub timeout: Duration,
    /// The role CloudFormation assumes to change the stack's resources (its "service role");
    /// `None`: the caller's own credentials.
    pub role_arn: Option<String>,
}

/// How a deployment ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeployOutcome {
    /// The change set was empty: nothing to do (it was deleted).
    NoChanges,
    /// The change set was created but not executed (`--no-execute`).
    ChangeSetCreated {
        /// The change set's name.
        name: String,
    },
    /// Only Lambda code and configuration changed, and the functions were updated through the
    /// Lambda API (`--hotswap`); the stack drifts from its template until the next full deploy.
    Hotswapped {
        /// The functions updated.
        functions: Vec<super::hotswap::Hotswapped>,
    },
    /// The stack reached `CREATE_COMPLETE` or `UPDATE_COMPLETE`.
    Deployed {
        /// Stack outputs by key.
        outputs: BTreeMap<String, String>,
    },
}

/// The deployed state of a stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackState {
    /// e.g. `UPDATE_COMPLETE`.
    pub status: String,
    /// Whether termination protection is on.
    pub termination_protection: bool,
    /// Outputs by key.
    pub outputs: BTreeMap<String, String>,
    /// The parameter values the stack was last deployed with, by key.
    pub parameters: BTreeMap<String, String>,
}

/// Describes a stack; `None` when it does not exist (or was deleted).
///
/// # Errors
/// [`ToolkitError::Aws`].
pub async fn describe_stack(
    aws: &AwsContext,
    stack_name: &str,
) -> Result<Option<StackState>, ToolkitError> {
    let result = aws
        .cloudformation
        .describe_stacks()
        .stack_name(stack_name)
        .send()
        .await;
    let output = match result {
        Ok(output) => output,
        Err(e)
            if error_code(&e).as_deref() == Some("ValidationError")
                && error_message(&e).is_some_and(|m| m.contains("does not exist")) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(aws.error("cloudformation:DescribeStacks", e)),
    };
    let Some(stack) = output.stacks().first() else {
        return Ok(None);
    };
    let status = stack
        .stack_status()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    if status == "DELETE_COMPLETE" {
        return Ok(None);
    }
    let outputs = stack
        .outputs()
        .iter()
        .filter_map(|o| {
            Some((
                o.output_key()?.to_owned(),
                o.output_value().unwrap_or_default().to_owned(),
            ))
        })
        .collect();
    let parameters = stack
        .parameters()
        .iter()
        .filter_map(|p| {
            Some((
                p.parameter_key()?.to_owned(),
                p.parameter_value().unwrap_or_default().to_owned(),
            ))
        })
        .collect();
    Ok(Some(StackState {
        status,
        termination_protection: stack.enable_termination_protection().unwrap_or(false),
        outputs,
        parameters,
    }))
}

/// The deployed template of a stack as JSON, or `None` when the stack does not exist.
///
/// # Errors
/// [`ToolkitError::Aws`]; [`ToolkitError::Refused`] when the deployed template is not JSON.
pub async fn deployed_template(
    aws: &AwsContext,
    stack_name: &str,
) -> Result<Option<Value>, ToolkitError> {
    if describe_stack(aws, stack_name).await?.is_none() {
        return Ok(None);
    }
    let output = aws
        .cloudformation
        .get_template()
        .stack_name(stack_name)
        .template_stage(aws_sdk_cloudformation::types::TemplateStage::Original)
        .send()
        .await
        .map_err(|e| aws.error("cloudformation:GetTemplate", e))?;
    let body = output.template_body().unwrap_or("{}");
    serde_json::from_str(body).map(Some).map_err(|e| {
        ToolkitError::Refused(format!(
            "the deployed template of {stack_name} is not JSON ({e}); was it deployed by argus?"
        ))
    })
}

/// Deploys a template through a change set. See the module documentation for the steps.
///
/// # Errors
/// [`ToolkitError::StackFailed`] with every failed resource and its reason,
/// [`ToolkitError::ChangeSetFailed`], [`ToolkitError::NotApproved`], [`ToolkitError::Timeout`],
/// [`ToolkitError::Interrupted`], [`ToolkitError::Aws`].
pub async fn deploy(
    aws: &AwsContext,
    request: &DeployRequest,
    report: &dyn Reporter,
) -> Result<DeployOutcome, ToolkitError> {
    let name = request.stack_name.as_str();
    let mut current = describe_stack(aws, name).await?;
    if let Some(state) = &current {
        if state.status == "ROLLBACK_COMPLETE" {
            report.info(&format!(
                "{name}: its first deployment failed (ROLLBACK_COMPLETE); deleting it before creating it again"
            ));
            delete_and_wait(
                aws,
                name,
                request.timeout,
                request.role_arn.as_deref(),
                report,
            )
            .await?;
            current = None;
        } else if state.status.ends_with("_IN_PROGRESS") && state.status != "REVIEW_IN_PROGRESS" {
            return Err(ToolkitError::Refused(format!(
                "{name} is {}; wait until it finishes, then deploy again",
                state.status
            )));
        }
    }
    let exists = current
        .as_ref()
        .is_some_and(|s| s.status != "REVIEW_IN_PROGRESS");
    let old_template = if exists {
        deployed_template(aws, name).await?
    } else {
        None
    };
    let new_template: Value = serde_json::from_str(&request.template_body)
        .map_err(|e| ToolkitError::Refused(format!("the template of {name} is not JSON: {e}")))?;
    let diff = TemplateDiff::between(old_template.as_ref(), &new_template);

    // Change set.
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let change_set_name = format!("argus-{millis}");
    let mut create = aws
        .cloudformation
        .create_change_set()
        .stack_name(name)
        .change_set_name(&change_set_name)
        .change_set_type(if exists {
            ChangeSetType::Update
        } else {
            ChangeSetType::Create
        })
        .capabilities(Capability::CapabilityIam)
        .capabilities(Capability::CapabilityNamedIam)
        .description("argus deploy")
        .set_role_arn(request.role_arn.clone())
        .set_parameters(Some(
            request
                .parameters
                .iter()
                .map(|(k, v)| {
                    Parameter::builder()
                        .parameter_key(k)
                        .parameter_value(v)
                        .build()
                })
                .collect(),
        ));
    if request.template_body.len() > MAX_INLINE_TEMPLATE_BYTES {
        let bucket = request.template_bucket.as_deref().ok_or_else(|| {
            ToolkitError::Refused(format!(
                "the template of {name} is {} bytes, over CloudFormation's inline limit of {MAX_INLINE_TEMPLATE_BYTES}, and no assets bucket is known; run `argus bootstrap` first",
                request.template_body.len()
            ))
        })?;
        let key = format!(
            "{name}/templates/{}.json",
            argus_cdk::assembly::sha256_hex(request.template_body.as_bytes())
        );
        publish_bytes(
            aws,
            bucket,
            &key,
            request.template_body.clone().into_bytes(),
        )
        .await?;
        create = create.template_url(template_url(aws, bucket, &key));
    } else {
        create = create.template_body(&request.template_body);
    }
    let created = create
        .send()
        .await
        .map_err(|e| aws.error("cloudformation:CreateChangeSet", e))?;
    let change_set_id = created.id().unwrap_or(&change_set_name).to_owned();
    report.info(&format!(
        "{name}: change set {change_set_name} ({})",
        if exists { "UPDATE" } else { "CREATE" }
    ));

    let changes = match wait_for_change_set(aws, name, &change_set_id).await? {
        ChangeSetResult::Empty => {
            discard_change_set(aws, name, &change_set_id).await;
            if !exists {
                // An unexecuted CREATE change set leaves a REVIEW_IN_PROGRESS stack behind.
                let _ = aws
                    .cloudformation
                    .delete_stack()
                    .stack_name(name)
                    .send()
                    .await;
            }
            report.info(&format!("{name}: no changes"));
            return Ok(DeployOutcome::NoChanges);
        }
        ChangeSetResult::Ready(changes) => changes,
    };
    print_changes(report, name, &changes, &diff);

    if !request.execute {
        report.info(&format!(
            "{name}: change set {change_set_name} created and not executed (--no-execute)"
        ));
        return Ok(DeployOutcome::ChangeSetCreated {
            name: change_set_name,
        });
    }
    iam_gate(request.approval, report, name, &diff, || {
        discard_change_set(aws, name, &change_set_id)
    })
    .await?;

    let started = DateTime::from(std::time::SystemTime::now());
    aws.cloudformation
        .execute_change_set()
        .change_set_name(&change_set_id)
        .stack_name(name)
        .send()
        .await
        .map_err(|e| aws.error("cloudformation:ExecuteChangeSet", e))?;
    let total = changes.len().max(1) as u64;
    let status =
        wait_for_stack(aws, name, started, total, request.timeout, "deploy", report).await?;
    if !(status == "CREATE_COMPLETE" || status == "UPDATE_COMPLETE") {
        let failed = failed_resources(aws, name, started).await?;
        return Err(ToolkitError::StackFailed {
            stack: name.to_owned(),
            status,
            failed,
        });
    }
    let state = describe_stack(aws, name).await?;
    if request.termination_protection && !state.as_ref().is_some_and(|s| s.termination_protection) {
        aws.cloudformation
            .update_termination_protection()
            .stack_name(name)
            .enable_termination_protection(true)
            .send()
            .await
            .map_err(|e| aws.error("cloudformation:UpdateTerminationProtection", e))?;
    }
    let outputs = state.map(|s| s.outputs).unwrap_or_default();
    report.info(&format!("{name}: {status}"));
    for (key, value) in &outputs {
        report.info(&format!("  {name}.{key} = {value}"));
    }
    Ok(DeployOutcome::Deployed { outputs })
}

fn template_url(aws: &AwsContext, bucket: &str, key: &str) -> String {
    match aws.config.endpoint_url() {
        Some(endpoint) => format!("{}/{bucket}/{key}", endpoint.trim_end_matches('/')),
        None => {
            let region = aws
                .config
                .region()
                .map(ToString::to_string)
                .unwrap_or_default();
            format!("https://{bucket}.s3.{region}.amazonaws.com/{key}")
        }
    }
}

/// One planned resource change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedChange {
    /// `Add`, `Modify`, `Remove`, …
    pub action: String,
    /// The logical ID.
    pub logical_id: String,
    /// The resource type.
    pub resource_type: String,
    /// `True`, `Conditional` or `False`/empty.
    pub replacement: String,
}

enum ChangeSetResult {
    Empty,
    Ready(Vec<PlannedChange>),
}

async fn wait_for_change_set(
    aws: &AwsContext,
    stack: &str,
    id: &str,
) -> Result<ChangeSetResult, ToolkitError> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let mut changes = Vec::new();
        let mut next: Option<String> = None;
        let mut status;
        let mut reason;
        loop {
            let out = aws
                .cloudformation
                .describe_change_set()
                .change_set_name(id)
                .stack_name(stack)
                .set_next_token(next.clone())
                .send()
                .await
                .map_err(|e| aws.error("cloudformation:DescribeChangeSet", e))?;
            status = out.status().cloned();
            reason = out.status_reason().unwrap_or_default().to_owned();
            for change in out.changes() {
                if let Some(rc) = change.resource_change() {
                    changes.push(PlannedChange {
                        action: rc
                            .action()
                            .map(ChangeAction::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        logical_id: rc.logical_resource_id().unwrap_or_default().to_owned(),
                        resource_type: rc.resource_type().unwrap_or_default().to_owned(),
                        replacement: rc
                            .replacement()
                            .map(Replacement::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                    });
                }
            }
            next = out.next_token().map(str::to_owned);
            if next.is_none() {
                break;
            }
        }
        match status {
            Some(ChangeSetStatus::CreateComplete) if changes.is_empty() => {
                return Ok(ChangeSetResult::Empty);
            }
            Some(ChangeSetStatus::CreateComplete) => return Ok(ChangeSetResult::Ready(changes)),
            Some(ChangeSetStatus::Failed) => {
                let empty = [
                    "didn't contain changes",
                    "No updates are to be performed",
                    "no changes",
                ];
                if empty.iter().any(|e| reason.contains(e)) {
                    return Ok(ChangeSetResult::Empty);
                }
                return Err(ToolkitError::ChangeSetFailed {
                    stack: stack.to_owned(),
                    reason,
                });
            }
            _ => {}
        }
        if Instant::now() > deadline {
            return Err(ToolkitError::Timeout {
                what: format!("change set {id}"),
                status: status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
                seconds: 300,
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Deletes a change set that will not be executed (best effort: a change set left behind is
/// harmless and the next deploy creates its own).
async fn discard_change_set(aws: &AwsContext, stack: &str, change_set_id: &str) {
    let _ = aws
        .cloudformation
        .delete_change_set()
        .change_set_name(change_set_id)
        .stack_name(stack)
        .send()
        .await;
}

fn print_changes(
    report: &dyn Reporter,
    stack: &str,
    changes: &[PlannedChange],
    diff: &TemplateDiff,
) {
    report.info(&format!("{stack}: {} planned change(s)", changes.len()));
    for c in changes {
        let replace = match c.replacement.as_str() {
            "True" => "  [REPLACEMENT: the resource is recreated]",
            "Conditional" => "  [may be replaced]",
            _ => "",
        };
        report.info(&format!(
            "  {:<8} {:<35} {}{replace}",
            c.action, c.resource_type, c.logical_id
        ));
    }
    if diff.broadens_iam() {
        report.info(&format!(
            "{stack}: IAM statements added (permissions broaden):"
        ));
        for line in diff.iam_table(true).lines() {
            report.info(&format!("  {line}"));
        }
    }
}

/// The IAM approval gate before a change set is executed: with [`Approval::Broadening`] and a
/// `diff` that adds `Allow` statements, asks through `report` ([`approve`]); on any refusal runs
/// `discard` (which deletes the change set) before returning the error. Any other case goes
/// ahead without asking.
///
/// # Errors
/// As [`approve`].
async fn iam_gate<D, F>(
    approval: Approval,
    report: &dyn Reporter,
    stack: &str,
    diff: &TemplateDiff,
    discard: D,
) -> Result<(), ToolkitError>
where
    D: FnOnce() -> F,
    F: std::future::Future<Output = ()>,
{
    if approval == Approval::Never || !diff.broadens_iam() {
        return Ok(());
    }
    match approve(report, stack, diff) {
        Ok(()) => Ok(()),
        Err(e) => {
            discard().await;
            Err(e)
        }
    }
}

/// Asks whether to deploy `stack` with the IAM statements `diff` adds.
///
/// # Errors
/// [`ToolkitError::NotApproved`] when the answer is no or nobody can be asked;
/// [`ToolkitError::Io`] when the answer cannot be read.
fn approve(report: &dyn Reporter, stack: &str, diff: &TemplateDiff) -> Result<(), ToolkitError> {
    let count = diff.iam_added().count();
    let answer = report
        .confirm(&format!("Deploy {stack} with these IAM changes?"))
        .map_err(|e| ToolkitError::Io {
            path: "stdin".into(),
            source: e,
        })?;
    match answer {
        Answer::Yes => Ok(()),
        Answer::No => Err(ToolkitError::NotApproved(format!(
            "{stack}: not deployed (IAM changes not approved); the change set was deleted"
        ))),
        Answer::NoOneToAsk => Err(ToolkitError::NotApproved(format!(
            "{stack}: this deployment adds {count} IAM statement(s) and needs approval, but there is no terminal to ask; review them above and rerun with --require-approval never"
        ))),
    }
}

fn is_terminal_status(status: &str) -> bool {
    status.ends_with("_COMPLETE") && !status.ends_with("CLEANUP_COMPLETE")
        || status.ends_with("_FAILED")
}

/// Streams stack events (one line per resource event, with a progress bar over `total`
/// resources) until the stack reaches a terminal status, and returns it.
///
/// # Errors
/// [`ToolkitError::Timeout`], [`ToolkitError::Interrupted`] (Ctrl-C: prints the stack's state and
/// how to continue), [`ToolkitError::Aws`].
pub async fn wait_for_stack(
    aws: &AwsContext,
    stack: &str,
    since: DateTime,
    total: u64,
    timeout: Duration,
    verb: &str,
    report: &dyn Reporter,
) -> Result<String, ToolkitError> {
    let progress = report.progress(total, stack);
    let mut seen: HashSet<String> = HashSet::new();
    let deadline = Instant::now() + timeout;
    loop {
        let step = async {
            let mut fresh: Vec<StackEvent> = events_since(aws, stack, since)
                .await?
                .into_iter()
                .filter(|e| seen.insert(e.event_id().unwrap_or_default().to_owned()))
                .collect();
            fresh.reverse(); // oldest first
            for e in &fresh {
                let status = e.resource_status().map(|s| s.as_str()).unwrap_or_default();
                let logical = e.logical_resource_id().unwrap_or_default();
                let reason = e
                    .resource_status_reason()
                    .map(|r| format!("  {r}"))
                    .unwrap_or_default();
                progress.line(&format!(
                    "  {:<20} {:<30} {logical}{reason}",
                    status,
                    e.resource_type().unwrap_or_default()
                ));
                if logical != stack
                    && (status.ends_with("_COMPLETE") || status.ends_with("_FAILED"))
                {
                    progress.inc();
                    progress.message(logical);
                }
            }
            let state = describe_stack(aws, stack).await?;
            Ok::<String, ToolkitError>(
                state.map_or_else(|| "DELETE_COMPLETE".to_owned(), |s| s.status),
            )
        };
        let status = tokio::select! {
            result = step => result?,
            _ = tokio::signal::ctrl_c() => {
                progress.finish();
                let now = describe_stack(aws, stack).await.ok().flatten().map_or_else(|| "not found".to_owned(), |s| s.status);
                return Err(ToolkitError::Interrupted(format!(
                    "{stack} is {now}; CloudFormation carries on with the {verb} without this command. Run the same command again to follow it to the end (a finished deploy then reports no changes), or check the stack's status with `argus diff`"
                )));
            }
        };
        if is_terminal_status(&status) {
            progress.finish();
            return Ok(status);
        }
        if Instant::now() > deadline {
            progress.finish();
            return Err(ToolkitError::Timeout {
                what: format!("{stack} to {verb}"),
                status,
                seconds: timeout.as_secs(),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The stack's events stamped at or after `since` (whole seconds), newest first.
///
/// DescribeStackEvents answers newest first, up to 100 events a page
/// (<https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackEvents.html>);
/// this follows `NextToken` with the SDK's paginator and stops at the first page that reaches
/// back past `since`, so a rollback's first failures are found however many events follow them.
///
/// # Errors
/// [`ToolkitError::Aws`].
async fn events_since(
    aws: &AwsContext,
    stack: &str,
    since: DateTime,
) -> Result<Vec<StackEvent>, ToolkitError> {
    let mut pages = aws
        .cloudformation
        .describe_stack_events()
        .stack_name(stack)
        .into_paginator()
        .send();
    let mut events = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws.error("cloudformation:DescribeStackEvents", e))?;
        let mut reached_older = false;
        for event in page.stack_events() {
            match event.timestamp() {
                Some(t) if t.secs() >= since.secs() => events.push(event.clone()),
                Some(_) => reached_older = true,
                None => {}
            }
        }
        if reached_older {
            break;
        }
    }
    Ok(events)
}

/// Every resource event with a `*_FAILED` status since `since`: (logical ID, type, reason).
///
/// # Errors
/// [`ToolkitError::Aws`].
pub async fn failed_resources(
    aws: &AwsContext,
    stack: &str,
    since: DateTime,
) -> Result<Vec<(String, String, String)>, ToolkitError> {
    let mut failed: Vec<_> = events_since(aws, stack, since)
        .await?
        .iter()
        .filter(|e| {
            e.resource_status()
                .is_some_and(|s| s.as_str().ends_with("_FAILED"))
        })
        .filter(|e| e.logical_resource_id() != Some(stack))
        .map(|e| {
            (
                e.logical_resource_id().unwrap_or_default().to_owned(),
                e.resource_type().unwrap_or_default().to_owned(),
                e.resource_status_reason()
                    .unwrap_or("no reason given")
                    .to_owned(),
            )
        })
        .collect();
    failed.reverse();
    failed.dedup();
    Ok(failed)
}

/// Deletes a stack and waits until it is gone.
///
/// # Errors
/// [`ToolkitError::StackFailed`] when the deletion fails, and as [`wait_for_stack`].
pub async fn delete_and_wait(
    aws: &AwsContext,
    stack: &str,
    timeout: Duration,
    role_arn: Option<&str>,
    report: &dyn Reporter,
) -> Result<(), ToolkitError> {
    let started = DateTime::from(std::time::SystemTime::now());
    let resources = aws
        .cloudformation
        .list_stack_resources()
        .stack_name(stack)
        .send()
        .await
        .map(|o| o.stack_resource_summaries().len() as u64)
        .unwrap_or(1);
    aws.cloudformation
        .delete_stack()
        .stack_name(stack)
        .set_role_arn(role_arn.map(str::to_owned))
        .send()
        .await
        .map_err(|e| aws.error("cloudformation:DeleteStack", e))?;
    let status = wait_for_stack(
        aws,
        stack,
        started,
        resources.max(1),
        timeout,
        "delete",
        report,
    )
    .await?;
    if status != "DELETE_COMPLETE" {
        let failed = failed_resources(aws, stack, started).await?;
        return Err(ToolkitError::StackFailed {
            stack: stack.to_owned(),
            status,
            failed,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use serde_json::json;

    use super::*;
    use crate::report::Recorder;

    /// A diff that adds one `Allow` statement (a new role with an inline policy).
    fn broadening() -> TemplateDiff {
        let new = json!({"Resources": {"Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
            ]}}]}
        }}});
        let diff = TemplateDiff::between(None, &new);
        assert!(diff.broadens_iam());
        diff
    }

    /// Runs the gate with a recorder answering `answer`; returns the result, the recorded
    /// lines and whether the change set was discarded.
    fn gate(
        approval: Approval,
        diff: &TemplateDiff,
        answer: Answer,
    ) -> (Result<(), ToolkitError>, Vec<String>, bool) {
        let recorder = Recorder::new(answer);
        let discarded = AtomicBool::new(false);
        let result = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(iam_gate(
                approval,
                &recorder,
                "argus-beta",
                diff,
                || async {
                    discarded.store(true, Ordering::SeqCst);
                },
            ));
        (result, recorder.lines(), discarded.load(Ordering::SeqCst))
    }

    const QUESTION: &str = "? Deploy argus-beta with these IAM changes?";

    #[test]
    fn broadening_iam_without_a_terminal_is_not_approved_and_discards_the_change_set() {
        let (result, lines, discarded) =
            gate(Approval::Broadening, &broadening(), Answer::NoOneToAsk);
        assert!(lines.iter().any(|l| l == QUESTION), "{lines:?}");
        let Err(ToolkitError::NotApproved(message)) = result else {
            panic!("expected NotApproved, got {result:?}");
        };
        assert!(
            message
                .contains("adds 1 IAM statement(s) and needs approval, but there is no terminal"),
            "{message}"
        );
        assert!(message.contains("--require-approval never"), "{message}");
        assert!(discarded, "the change set must be deleted");
    }

    #[test]
    fn broadening_iam_answered_no_is_not_approved_and_discards_the_change_set() {
        let (result, lines, discarded) = gate(Approval::Broadening, &broadening(), Answer::No);
        assert!(lines.iter().any(|l| l == QUESTION), "{lines:?}");
        let Err(ToolkitError::NotApproved(message)) = result else {
            panic!("expected NotApproved, got {result:?}");
        };
        assert!(
            message.contains("argus-beta: not deployed (IAM changes not approved)"),
            "{message}"
        );
        assert!(discarded, "the change set must be deleted");
    }

    #[test]
    fn broadening_iam_answered_yes_proceeds_and_keeps_the_change_set() {
        let (result, lines, discarded) = gate(Approval::Broadening, &broadening(), Answer::Yes);
        assert!(lines.iter().any(|l| l == QUESTION), "{lines:?}");
        result.unwrap();
        assert!(!discarded);
    }

    #[test]
    fn no_question_when_approval_is_never_or_nothing_broadens() {
        let (result, lines, discarded) = gate(Approval::Never, &broadening(), Answer::No);
        result.unwrap();
        assert!(lines.is_empty() && !discarded, "{lines:?}");
        let (result, lines, discarded) =
            gate(Approval::Broadening, &TemplateDiff::default(), Answer::No);
        result.unwrap();
        assert!(lines.is_empty() && !discarded, "{lines:?}");
    }

    #[test]
    fn terminal_statuses_end_the_wait() {
        for s in [
            "CREATE_COMPLETE",
            "UPDATE_COMPLETE",
            "ROLLBACK_COMPLETE",
            "UPDATE_ROLLBACK_COMPLETE",
            "DELETE_COMPLETE",
            "CREATE_FAILED",
            "DELETE_FAILED",
            "UPDATE_ROLLBACK_FAILED",
        ] {
            assert!(is_terminal_status(s), "{s}");
        }
        for s in [
            "CREATE_IN_PROGRESS",
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
            "REVIEW_IN_PROGRESS",
        ] {
            assert!(!is_terminal_status(s), "{s}");
        }
    }
}
