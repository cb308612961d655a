//! `argus watch`: the inner loop of `cdk watch` and `sam sync --watch`. Watches the crates the
//! stage's bundles build from (found with `cargo metadata`: the function's package and its path
//! dependencies) and the stage's config file with `notify` (debounced); on a change it rebuilds
//! the bundles (sources only: a config change needs no build), deploys with `--hotswap`, and
//! meanwhile tails the functions' CloudWatch Logs (FilterLogEvents polling), until Ctrl-C or
//! SIGTERM. A failed build or deploy is printed and the watch goes on.
//!
//! The log tail is this module's own small poller; `argus logs` has the full reader.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use argus_toolkit::aws::AwsContext;
use argus_toolkit::report::Reporter;
use notify_debouncer_mini::notify::RecursiveMode;
use notify_debouncer_mini::{DebounceEventResult, new_debouncer};
use serde_json::Value;

use super::bundle::{bundle_path, bundle_stack};
use super::deploy::{DeployOptions, deploy_stack};
use super::{ACCOUNT_STACK_REGION_STAGE, Context, aws_for, synth_target};
use crate::cli::{Failure, TargetArgs};

/// How often the functions' logs are polled.
const LOG_POLL: Duration = Duration::from_secs(1);

/// How to watch.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// How each change is deployed (with `hotswap` set).
    pub deploy: DeployOptions,
    /// Quiet time after a change before acting.
    pub debounce: Duration,
    /// Tail the functions' logs.
    pub tail_logs: bool,
}

/// What a batch of changed files asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reaction {
    /// A function source changed: rebuild the bundles, then deploy.
    pub rebuild: bool,
    /// The stage config changed: deploy (the template may differ).
    pub deploy: bool,
}

/// Decides what `changed` paths ask for: a file inside one of the `sources` folders (outside
/// `target/`, not an editor's hidden or backup file) means a rebuild; `config_file` a deploy.
pub fn react(changed: &[PathBuf], sources: &[PathBuf], config_file: &Path) -> Reaction {
    let mut reaction = Reaction::default();
    for path in changed {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp") {
            continue;
        }
        if path == config_file {
            reaction.deploy = true;
            continue;
        }
        let in_source = sources.iter().any(|source| {
            path.strip_prefix(source).is_ok_and(|inside| {
                !inside
                    .components()
                    .any(|c| c.as_os_str() == "target" || c.as_os_str() == ".git")
            })
        });
        if in_source {
            reaction.rebuild = true;
            reaction.deploy = true;
        }
    }
    reaction
}

/// The folders of `package` and of every workspace package it depends on by path (normal and
/// build dependencies), from `cargo metadata --no-deps --format-version 1` output.
///
/// # Errors
/// A message naming the package when the metadata does not list it.
pub fn source_dirs(metadata: &Value, package: &str) -> Result<Vec<PathBuf>, String> {
    let packages: BTreeMap<&str, &Value> = metadata
        .get("packages")
        .and_then(Value::as_array)
        .map(|p| {
            p.iter()
                .filter_map(|p| Some((p.get("name")?.as_str()?, p)))
                .collect()
        })
        .unwrap_or_default();
    let mut dirs = BTreeSet::new();
    let mut pending = vec![package.to_owned()];
    let mut seen = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let found = packages
            .get(name.as_str())
            .ok_or_else(|| format!("cargo metadata lists no package {name}"))?;
        if let Some(dir) = found
            .get("manifest_path")
            .and_then(Value::as_str)
            .and_then(|m| Path::new(m).parent())
        {
            dirs.insert(dir.to_path_buf());
        }
        for dependency in found
            .get("dependencies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let is_dev = dependency.get("kind").and_then(Value::as_str) == Some("dev");
            if let Some(dep) = dependency.get("name").and_then(Value::as_str)
                && dependency.get("path").is_some()
                && !is_dev
            {
                pending.push(dep.to_owned());
            }
        }
    }
    Ok(dirs.into_iter().collect())
}

/// Runs `cargo metadata` in `workspace` and returns the source folders of `packages`.
fn workspace_sources(
    workspace: &Path,
    packages: &BTreeSet<String>,
) -> Result<Vec<PathBuf>, Failure> {
    let output = std::process::Command::new("cargo")
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(workspace)
        .output()
        .map_err(|e| Failure::new(1, format!("cannot run `cargo metadata`: {e}")))?;
    if !output.status.success() {
        return Err(Failure::new(
            1,
            format!(
                "`cargo metadata` in {} failed: {}",
                workspace.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        ));
    }
    let metadata: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| Failure::new(1, format!("`cargo metadata` printed no JSON: {e}")))?;
    let mut dirs = BTreeSet::new();
    for package in packages {
        dirs.extend(source_dirs(&metadata, package).map_err(|e| Failure::new(1, e))?);
    }
    Ok(dirs.into_iter().collect())
}

/// Watches the stage `target` names until Ctrl-C or SIGTERM (then returns `Ok`).
///
/// # Errors
/// A [`Failure`] only for what stops the watch from starting: an unknown stage, a protected stage
/// without `force`, `cargo metadata` failing, a folder that cannot be watched.
pub async fn watch(
    context: &Context,
    target: &TargetArgs,
    options: &WatchOptions,
    report: &dyn Reporter,
) -> Result<(), Failure> {
    let (target_stack, synthesized, _) = synth_target(context, target, ACCOUNT_STACK_REGION_STAGE)?;
    let name = synthesized.name.clone();
    if target_stack.protected && !options.deploy.force {
        return Err(Failure::new(
            1,
            format!(
                "{name} is a protected stage (`protected = true` in its config): watching it hotswaps it on every save; pass --force if you mean it"
            ),
        ));
    }
    let workspace = std::env::current_dir()
        .map_err(|e| Failure::new(1, format!("cannot read the current folder: {e}")))?;
    let packages: BTreeSet<String> = synthesized
        .assets
        .iter()
        .filter_map(|a| a.source.split_once('/').map(|(p, _)| p.to_owned()))
        .collect();
    let sources = workspace_sources(&workspace, &packages)?;
    let stage = target.stage.clone().unwrap_or_default();
    let config_file = absolute(&context.config_dir.join(format!("{stage}.toml")));

    let (sender, mut changes) = tokio::sync::mpsc::unbounded_channel();
    let mut debouncer = new_debouncer(options.debounce, move |result: DebounceEventResult| {
        let _ = sender.send(result);
    })
    .map_err(|e| Failure::new(1, format!("cannot start watching files: {e}")))?;
    let mut watched = Vec::new();
    for dir in &sources {
        debouncer
            .watcher()
            .watch(dir, RecursiveMode::Recursive)
            .map_err(|e| Failure::new(1, format!("cannot watch {}: {e}", dir.display())))?;
        watched.push(dir.display().to_string());
    }
    if let Some(config_dir) = config_file.parent() {
        debouncer
            .watcher()
            .watch(config_dir, RecursiveMode::NonRecursive)
            .map_err(|e| Failure::new(1, format!("cannot watch {}: {e}", config_dir.display())))?;
        watched.push(config_file.display().to_string());
    }

    // First round: build what is missing, then hotswap (or deploy) what differs.
    let missing = synthesized
        .assets
        .iter()
        .any(|asset| !bundle_path(&context.out, asset).exists());
    let initial = Reaction {
        rebuild: missing,
        deploy: true,
    };
    react_to(context, target, options, initial, report).await;

    let mut tail = if options.tail_logs {
        let aws = aws_for(context, &target_stack).await?;
        Some(LogTail::new(aws, &name, report).await)
    } else {
        None
    };
    report.info(&format!(
        "{name}: watching {} (Ctrl-C to stop)",
        watched.join(", ")
    ));
    let mut interrupt = signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut terminate = signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut tick = tokio::time::interval(LOG_POLL);
    loop {
        tokio::select! {
            _ = interrupt.recv() => break,
            _ = terminate.recv() => break,
            Some(result) = changes.recv() => {
                let paths: Vec<PathBuf> = match result {
                    Ok(events) => events.into_iter().map(|e| absolute(&e.path)).collect(),
                    Err(error) => {
                        report.info(&format!("{name}: watch error: {error}"));
                        continue;
                    }
                };
                let reaction = react(&paths, &sources, &config_file);
                if reaction == Reaction::default() {
                    continue;
                }
                let shown: BTreeSet<String> = paths.iter().map(|p| p.display().to_string()).collect();
                report.info(&format!(
                    "{name}: changed: {}",
                    shown.into_iter().collect::<Vec<_>>().join(", ")
                ));
                // Ctrl-C stops the watch at once, even in the middle of a build or a hotswap.
                let interrupted = tokio::select! {
                    () = react_to(context, target, options, reaction, report) => false,
                    _ = interrupt.recv() => true,
                    _ = terminate.recv() => true,
                };
                if interrupted {
                    report.info(&format!(
                        "{name}: interrupted during a rebuild or hotswap: a function may still run its previous code or configuration"
                    ));
                    break;
                }
                if let Some(tail) = &mut tail {
                    tail.refresh(&name).await;
                }
                report.info(&format!("{name}: watching for the next change"));
            }
            _ = tick.tick(), if tail.is_some() => {
                if let Some(tail) = &mut tail {
                    tail.poll(report).await;
                }
            }
        }
    }
    report.info(&format!("{name}: watch stopped"));
    Ok(())
}

fn signal(kind: tokio::signal::unix::SignalKind) -> Result<tokio::signal::unix::Signal, Failure> {
    tokio::signal::unix::signal(kind)
        .map_err(|e| Failure::new(1, format!("cannot listen for signals: {e}")))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Rebuilds (when asked) and deploys with hotswap; failures are printed, never returned.
async fn react_to(
    context: &Context,
    target: &TargetArgs,
    options: &WatchOptions,
    reaction: Reaction,
    report: &dyn Reporter,
) {
    if reaction.rebuild {
        report.info("rebuilding the bundles");
        let built = tokio::task::block_in_place(|| {
            let (_, synthesized, _) = synth_target(context, target, ACCOUNT_STACK_REGION_STAGE)?;
            bundle_stack(&context.out, &synthesized, report)
        });
        if let Err(failure) = built {
            report.info(&format!(
                "build failed: {}; fix it and save again (the deployed functions are unchanged)",
                failure.message
            ));
            return;
        }
    }
    if reaction.deploy
        && let Err(failure) = deploy_stack(context, target, &options.deploy, report).await
    {
        report.info(&format!(
            "deploy failed: {}; watching for the next change",
            failure.message
        ));
    }
}

/// A small CloudWatch Logs tail: FilterLogEvents on each function's log group, from the time
/// the watch started, printing each new event once as `<function> | <message>`.
struct LogTail {
    aws: AwsContext,
    logs: aws_sdk_cloudwatchlogs::Client,
    /// (function name, log group).
    groups: Vec<(String, String)>,
    /// Milliseconds since the epoch: events from here on are shown.
    since: i64,
    /// Event IDs already shown at `since` (FilterLogEvents' start time is inclusive).
    shown: BTreeSet<String>,
}

impl LogTail {
    async fn new(aws: AwsContext, stack: &str, report: &dyn Reporter) -> Self {
        let logs = aws_sdk_cloudwatchlogs::Client::new(&aws.config);
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let mut tail = LogTail {
            aws,
            logs,
            groups: Vec::new(),
            since,
            shown: BTreeSet::new(),
        };
        tail.refresh(stack).await;
        if !tail.groups.is_empty() {
            report.info(&format!(
                "{stack}: tailing {}",
                tail.groups
                    .iter()
                    .map(|(_, g)| g.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        tail
    }

    /// Finds the stack's functions and their log groups (after a deploy may have added some).
    async fn refresh(&mut self, stack: &str) {
        let mut groups = Vec::new();
        let mut pages = self
            .aws
            .cloudformation
            .list_stack_resources()
            .stack_name(stack)
            .into_paginator()
            .send();
        while let Some(Ok(page)) = pages.next().await {
            for resource in page.stack_resource_summaries() {
                if resource.resource_type() != Some(argus_toolkit::hotswap::LAMBDA_FUNCTION) {
                    continue;
                }
                let Some(function) = resource.physical_resource_id() else {
                    continue;
                };
                let group = match self
                    .aws
                    .lambda
                    .get_function_configuration()
                    .function_name(function)
                    .send()
                    .await
                {
                    Ok(c) => c
                        .logging_config()
                        .and_then(|l| l.log_group())
                        .map_or_else(|| format!("/aws/lambda/{function}"), str::to_owned),
                    Err(_) => format!("/aws/lambda/{function}"),
                };
                groups.push((function.to_owned(), group));
            }
        }
        if !groups.is_empty() {
            self.groups = groups;
        }
    }

    /// Prints the events newer than the last ones shown; errors (a group not created yet) are
    /// skipped until the next poll.
    async fn poll(&mut self, report: &dyn Reporter) {
        let mut events = Vec::new();
        for (function, group) in &self.groups {
            let mut pages = self
                .logs
                .filter_log_events()
                .log_group_name(group)
                .start_time(self.since)
                .into_paginator()
                .send();
            while let Some(Ok(page)) = pages.next().await {
                for event in page.events() {
                    let id = event.event_id().unwrap_or_default().to_owned();
                    let time = event.timestamp().unwrap_or(self.since);
                    if time < self.since || (time == self.since && self.shown.contains(&id)) {
                        continue;
                    }
                    events.push((
                        time,
                        id,
                        function.clone(),
                        event.message().unwrap_or_default().trim_end().to_owned(),
                    ));
                }
            }
        }
        events.sort();
        for (time, id, function, message) in events {
            if time > self.since {
                self.since = time;
                self.shown.clear();
            }
            if self.shown.insert(id) {
                report.info(&format!("{function} | {message}"));
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn metadata() -> Value {
        json!({"packages": [
            {"name": "argus-runtime", "manifest_path": "/ws/runtime/Cargo.toml", "dependencies": [
                {"name": "argus-contract", "path": "/ws/contract", "kind": null},
                {"name": "tokio", "kind": null},
                {"name": "argus-testkit", "path": "/ws/testkit", "kind": "dev"}
            ]},
            {"name": "argus-contract", "manifest_path": "/ws/contract/Cargo.toml", "dependencies": []},
            {"name": "argus-testkit", "manifest_path": "/ws/testkit/Cargo.toml", "dependencies": []},
            {"name": "argus-cli", "manifest_path": "/ws/cli/Cargo.toml", "dependencies": []}
        ]})
    }

    #[test]
    fn the_sources_are_the_package_and_its_path_dependencies_without_dev_ones() {
        assert_eq!(
            source_dirs(&metadata(), "argus-runtime").unwrap(),
            [PathBuf::from("/ws/contract"), PathBuf::from("/ws/runtime")]
        );
        assert!(
            source_dirs(&metadata(), "argus-nothing")
                .unwrap_err()
                .contains("argus-nothing")
        );
    }

    #[test]
    fn a_source_change_rebuilds_a_config_change_only_deploys_and_the_rest_is_ignored() {
        let sources = [PathBuf::from("/ws/runtime"), PathBuf::from("/ws/contract")];
        let config = Path::new("/ws/stacks/config/local.toml");
        let react = |paths: &[&str]| {
            let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
            react(&paths, &sources, config)
        };
        assert_eq!(
            react(&["/ws/runtime/src/processor.rs"]),
            Reaction {
                rebuild: true,
                deploy: true
            }
        );
        assert_eq!(
            react(&["/ws/stacks/config/local.toml"]),
            Reaction {
                rebuild: false,
                deploy: true
            }
        );
        assert_eq!(
            react(&[
                "/ws/stacks/config/beta.toml",
                "/ws/runtime/target/debug/x",
                "/ws/runtime/src/.processor.rs.swp",
                "/ws/cli/src/main.rs"
            ]),
            Reaction::default()
        );
    }
}
