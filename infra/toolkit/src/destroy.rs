//! `destroy`: empty the stack's deletable buckets (every object version and delete marker), then
//! delete the stack. Protected stacks are refused unless forced, and termination protection must
//! be turned off first.

use std::time::Duration;

use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use serde_json::Value;

use super::ToolkitError;
use super::aws::AwsContext;
use super::deploy::{StackState, delete_and_wait, deployed_template, describe_stack};
use super::report::Reporter;

/// What to destroy.
#[derive(Clone, Debug)]
pub struct DestroyRequest {
    /// The stack.
    pub stack_name: String,
    /// The stage is protected (prod): refuse unless `force`.
    pub protected: bool,
    /// `--force`.
    pub force: bool,
    /// How long the deletion may take.
    pub timeout: Duration,
    /// The role CloudFormation assumes to delete the resources (`None`: the caller's credentials).
    pub role_arn: Option<String>,
}

/// How a destroy ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DestroyOutcome {
    /// There was no such stack.
    NotFound,
    /// The stack is gone; the buckets emptied and how many object versions were deleted.
    Destroyed {
        /// (bucket name, versions and delete markers removed).
        emptied: Vec<(String, usize)>,
    },
}

/// Destroys a stack. See the module documentation.
///
/// # Errors
/// [`ToolkitError::Refused`] for a protected stack without `force` or with termination protection
/// on; [`ToolkitError::StackFailed`] when CloudFormation cannot delete a resource;
/// [`ToolkitError::Aws`].
pub async fn destroy(
    aws: &AwsContext,
    request: &DestroyRequest,
    report: &dyn Reporter,
) -> Result<DestroyOutcome, ToolkitError> {
    let name = request.stack_name.as_str();
    let Some(state) = describe_stack(aws, name).await? else {
        report.info(&format!("{name}: no such stack; nothing to destroy"));
        return Ok(DestroyOutcome::NotFound);
    };
    ensure_destroyable(request, &state)?;
    let template = deployed_template(aws, name).await?.unwrap_or(Value::Null);
    let deletable: Vec<String> = template
        .get("Resources")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some("AWS::S3::Bucket"))
        .filter(|(_, r)| {
            r.get("DeletionPolicy")
                .and_then(Value::as_str)
                .is_none_or(|p| p == "Delete")
        })
        .map(|(id, _)| id.clone())
        .collect();
    let mut emptied = Vec::new();
    if !deletable.is_empty() {
        let resources = aws
            .cloudformation
            .list_stack_resources()
            .stack_name(name)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| aws.error("cloudformation:ListStackResources", e))?;
        for resource in resources {
            let (Some(logical), Some(bucket)) = (
                resource.logical_resource_id(),
                resource.physical_resource_id(),
            ) else {
                continue;
            };
            if deletable.iter().any(|d| d == logical) {
                let count = empty_bucket(aws, bucket).await?;
                report.info(&format!(
                    "{name}: emptied {bucket} ({count} object versions and delete markers)"
                ));
                emptied.push((bucket.to_owned(), count));
            }
        }
    }
    report.info(&format!("{name}: deleting the stack"));
    delete_and_wait(
        aws,
        name,
        request.timeout,
        request.role_arn.as_deref(),
        report,
    )
    .await?;
    report.info(&format!("{name}: DELETE_COMPLETE"));
    Ok(DestroyOutcome::Destroyed { emptied })
}

/// Decides whether the existing stack `state` may be destroyed as `request` asks: a protected
/// stage needs `force`, and a stack with termination protection on is refused even with
/// `force`. Pure: no AWS call, so [`destroy`] checks it before touching anything.
///
/// # Errors
/// [`ToolkitError::Refused`] naming the stack and what to do.
pub fn ensure_destroyable(
    request: &DestroyRequest,
    state: &StackState,
) -> Result<(), ToolkitError> {
    let name = request.stack_name.as_str();
    if request.protected && !request.force {
        return Err(ToolkitError::Refused(format!(
            "{name} is a protected stage (`protected = true` in its config); destroying it deletes retained data's stack: pass --force if you mean it"
        )));
    }
    if state.termination_protection {
        return Err(ToolkitError::Refused(format!(
            "{name} has termination protection on; turn it off first (aws cloudformation update-termination-protection --stack-name {name} --no-enable-termination-protection), then run destroy --force"
        )));
    }
    Ok(())
}

/// Deletes every object version and delete marker of a bucket (batches of 1,000, the
/// DeleteObjects limit). A bucket that no longer exists counts as empty. Returns the count.
///
/// # Errors
/// [`ToolkitError::Aws`]; [`ToolkitError::Refused`] when S3 reports keys it could not delete.
pub async fn empty_bucket(aws: &AwsContext, bucket: &str) -> Result<usize, ToolkitError> {
    let mut removed = 0;
    loop {
        let page = match aws
            .s3
            .list_object_versions()
            .bucket(bucket)
            .max_keys(1000)
            .send()
            .await
        {
            Ok(page) => page,
            Err(e)
                if e.as_service_error()
                    .and_then(|s| aws_sdk_s3::error::ProvideErrorMetadata::code(s))
                    == Some("NoSuchBucket") =>
            {
                return Ok(removed);
            }
            Err(e) => return Err(aws.error("s3:ListObjectVersions", e)),
        };
        let mut objects: Vec<ObjectIdentifier> = Vec::new();
        for v in page.versions() {
            if let Some(key) = v.key() {
                objects.push(identifier(key, v.version_id())?);
            }
        }
        for m in page.delete_markers() {
            if let Some(key) = m.key() {
                objects.push(identifier(key, m.version_id())?);
            }
        }
        if objects.is_empty() {
            return Ok(removed);
        }
        let count = objects.len();
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|e| ToolkitError::Refused(format!("cannot build the delete request: {e}")))?;
        let result = aws
            .s3
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| aws.error("s3:DeleteObjects", e))?;
        if let Some(error) = result.errors().first() {
            return Err(ToolkitError::Refused(format!(
                "could not delete {} from {bucket}: {}",
                error.key().unwrap_or_default(),
                error.message().unwrap_or_default()
            )));
        }
        removed += count;
    }
}

fn identifier(key: &str, version: Option<&str>) -> Result<ObjectIdentifier, ToolkitError> {
    ObjectIdentifier::builder()
        .key(key)
        .set_version_id(version.map(str::to_owned))
        .build()
        .map_err(|e| ToolkitError::Refused(format!("cannot build the delete request: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(protected: bool, force: bool) -> DestroyRequest {
        DestroyRequest {
            stack_name: "argus-prod".into(),
            protected,
            force,
            timeout: Duration::from_secs(60),
            role_arn: None,
        }
    }

    fn state(termination_protection: bool) -> StackState {
        StackState {
            parameters: Default::default(),
            status: "UPDATE_COMPLETE".into(),
            termination_protection,
            outputs: std::collections::BTreeMap::new(),
        }
    }

    fn refusal(request: &DestroyRequest, state: &StackState) -> String {
        match ensure_destroyable(request, state) {
            Err(ToolkitError::Refused(reason)) => reason,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_protected_stage_without_force_is_refused() {
        let reason = refusal(&request(true, false), &state(false));
        assert!(
            reason.contains("argus-prod is a protected stage"),
            "{reason}"
        );
        assert!(reason.contains("--force"), "{reason}");
    }

    #[test]
    fn termination_protection_is_refused_even_with_force() {
        for (protected, force) in [(true, true), (false, true), (false, false)] {
            let reason = refusal(&request(protected, force), &state(true));
            assert!(
                reason.contains("argus-prod has termination protection on"),
                "{reason}"
            );
            assert!(
                reason.contains("--no-enable-termination-protection"),
                "{reason}"
            );
        }
    }

    #[test]
    fn a_forced_protected_stage_or_an_unprotected_one_goes_ahead() {
        ensure_destroyable(&request(true, true), &state(false)).unwrap();
        ensure_destroyable(&request(false, false), &state(false)).unwrap();
    }
}
