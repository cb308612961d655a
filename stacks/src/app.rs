//! The Argus app: which stacks a `--stage` selection synthesizes.

use std::path::Path;

use argus_infra::bootstrap::toolkit_stack;
use argus_infra::stack::SynthesizedStack;
use argus_infra::{Stack, SynthError};
use thiserror::Error;

use crate::audit::audit_stack;
use crate::ci::{CiConfig, ci_stack};
use crate::config::{ConfigError, STAGES, StageConfig};
use crate::pipeline::pipeline_stack;

/// The qualifier of the toolkit stack's resources (`argus-assets-<account>-<region>`).
pub const QUALIFIER: &str = "argus";

/// Stages deployed to AWS: their input buckets are what the audit trail records (the local twin
/// has no CloudTrail), and each has CI deploy roles.
pub const AUDITED_STAGES: &[&str] = &["beta", "prod"];

/// Every `--stage` value: the stages, then the account-level stacks, then `all`.
pub const SELECTIONS: &[&str] = &["beta", "prod", "local", "audit", "toolkit", "ci", "all"];

/// What a `--stage` value selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// One stage's pipeline stack (`argus-<stage>`).
    Stage(String),
    /// The `argus-audit` stack.
    Audit,
    /// The `argus-toolkit` stack.
    Toolkit,
    /// The `argus-ci` stack (GitHub OIDC deploy roles).
    Ci,
    /// Every stack.
    All,
}

/// Why the app could not be built.
#[derive(Debug, Error)]
pub enum AppError {
    /// A `--stage` value that names nothing.
    #[error("unknown stage `{0}`: choose one of {list}", list = SELECTIONS.join(", "))]
    UnknownStage(String),
    /// A toolkit operation (bundle, deploy, diff, destroy) failed.
    #[error(transparent)]
    Toolkit(#[from] argus_infra::toolkit::ToolkitError),
    /// A stage config file is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A construct or the rule pack refused.
    #[error(transparent)]
    Synth(#[from] SynthError),
}

impl Selection {
    /// Parses a `--stage` value.
    ///
    /// # Errors
    /// [`AppError::UnknownStage`].
    pub fn parse(value: &str) -> Result<Self, AppError> {
        match value {
            "audit" => Ok(Selection::Audit),
            "toolkit" => Ok(Selection::Toolkit),
            "ci" => Ok(Selection::Ci),
            "all" => Ok(Selection::All),
            stage if STAGES.contains(&stage) => Ok(Selection::Stage(stage.to_owned())),
            other => Err(AppError::UnknownStage(other.to_owned())),
        }
    }
}

/// Builds the stacks a selection names, reading stage configs from `config_dir`.
///
/// # Errors
/// [`AppError::Config`] for an invalid config file; [`AppError::Synth`] when a construct refuses.
pub fn build(config_dir: &Path, selection: &Selection) -> Result<Vec<Stack>, AppError> {
    let deployed = || -> Result<Vec<StageConfig>, AppError> {
        Ok(AUDITED_STAGES
            .iter()
            .map(|s| StageConfig::load(config_dir, s))
            .collect::<Result<Vec<_>, _>>()?)
    };
    let audit = || -> Result<Stack, AppError> { Ok(audit_stack(&deployed()?)?) };
    let ci =
        || -> Result<Stack, AppError> { Ok(ci_stack(&CiConfig::load(config_dir)?, &deployed()?)?) };
    Ok(match selection {
        Selection::Stage(stage) => vec![pipeline_stack(&StageConfig::load(config_dir, stage)?)?],
        Selection::Audit => vec![audit()?],
        Selection::Toolkit => vec![toolkit_stack(QUALIFIER)?],
        Selection::Ci => vec![ci()?],
        Selection::All => {
            let mut stacks = vec![toolkit_stack(QUALIFIER)?, audit()?, ci()?];
            for stage in STAGES {
                stacks.push(pipeline_stack(&StageConfig::load(config_dir, stage)?)?);
            }
            stacks
        }
    })
}

/// One stack to bundle, deploy, diff or destroy, with where it goes.
#[derive(Clone, Debug)]
pub struct Target {
    /// The stack, ready to synthesize.
    pub stack: Stack,
    /// The Region it is deployed to.
    pub region: String,
    /// Refuse `destroy` without `--force`.
    pub protected: bool,
    /// Whether the local twin can deploy it (the audit stack needs CloudTrail, which it lacks).
    pub deployable_on_twin: bool,
}

/// Resolves a `--stage` value that names one stack. Account-level stacks (`audit`, `toolkit`)
/// go to the Region of `region_stage`'s config (the stage a command was told about, or prod).
///
/// # Errors
/// [`AppError::UnknownStage`] for `all` or an unknown name; [`AppError::Config`]; [`AppError::Synth`].
pub fn target(
    config_dir: &Path,
    selection: &Selection,
    region_stage: &str,
) -> Result<Target, AppError> {
    match selection {
        Selection::Stage(stage) => {
            let config = StageConfig::load(config_dir, stage)?;
            Ok(Target {
                stack: pipeline_stack(&config)?,
                region: config.region.clone(),
                protected: config.protected,
                deployable_on_twin: true,
            })
        }
        Selection::Audit | Selection::Toolkit | Selection::Ci => {
            let region = StageConfig::load(config_dir, region_stage)?.region;
            let stack = build(config_dir, selection)?
                .pop()
                .ok_or_else(|| AppError::UnknownStage(format!("{selection:?}")))?;
            Ok(Target {
                stack,
                region,
                protected: true,
                // The twin has no CloudTrail for the audit stack.
                deployable_on_twin: *selection != Selection::Audit,
            })
        }
        Selection::All => Err(AppError::UnknownStage(
            "all (this command takes one stack: beta, prod, local, audit, toolkit or ci)".into(),
        )),
    }
}

/// Builds and synthesizes the stacks a selection names.
///
/// # Errors
/// As [`build`], and [`SynthError`] from synthesis.
pub fn synth(config_dir: &Path, selection: &Selection) -> Result<Vec<SynthesizedStack>, AppError> {
    build(config_dir, selection)?
        .iter()
        .map(|s| s.synth().map_err(AppError::from))
        .collect()
}
