//! The Argus app: which stacks a `--stage` selection synthesizes.

use std::path::Path;

use argus_infra::bootstrap::toolkit_stack;
use argus_infra::stack::SynthesizedStack;
use argus_infra::{Stack, SynthError};
use thiserror::Error;

use crate::audit::audit_stack;
use crate::config::{ConfigError, STAGES, StageConfig};
use crate::pipeline::pipeline_stack;

/// The qualifier of the toolkit stack's resources (`argus-assets-<account>-<region>`).
pub const QUALIFIER: &str = "argus";

/// Stages whose input buckets the audit trail records (the local twin has no CloudTrail).
pub const AUDITED_STAGES: &[&str] = &["beta", "prod"];

/// Every `--stage` value: the stages, then the account-level stacks, then `all`.
pub const SELECTIONS: &[&str] = &["beta", "prod", "local", "audit", "toolkit", "all"];

/// What a `--stage` value selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// One stage's pipeline stack (`argus-<stage>`).
    Stage(String),
    /// The `argus-audit` stack.
    Audit,
    /// The `argus-toolkit` stack.
    Toolkit,
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
    let audit = || -> Result<Stack, AppError> {
        let stages = AUDITED_STAGES
            .iter()
            .map(|s| StageConfig::load(config_dir, s))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(audit_stack(&stages)?)
    };
    Ok(match selection {
        Selection::Stage(stage) => vec![pipeline_stack(&StageConfig::load(config_dir, stage)?)?],
        Selection::Audit => vec![audit()?],
        Selection::Toolkit => vec![toolkit_stack(QUALIFIER)?],
        Selection::All => {
            let mut stacks = vec![toolkit_stack(QUALIFIER)?, audit()?];
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
        Selection::Audit => {
            let region = StageConfig::load(config_dir, region_stage)?.region;
            let mut stacks = build(config_dir, selection)?;
            let stack = stacks
                .pop()
                .ok_or_else(|| AppError::UnknownStage("audit".into()))?;
            Ok(Target {
                stack,
                region,
                protected: true,
                deployable_on_twin: false,
            })
        }
        Selection::Toolkit => {
            let region = StageConfig::load(config_dir, region_stage)?.region;
            Ok(Target {
                stack: toolkit_stack(QUALIFIER)?,
                region,
                protected: true,
                deployable_on_twin: true,
            })
        }
        Selection::All => Err(AppError::UnknownStage(
            "all (this command takes one stack: beta, prod, local, audit or toolkit)".into(),
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
