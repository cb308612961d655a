//! The Argus app: which stacks a `--stage` selection synthesizes.

use std::path::Path;

use argus_cdk::bootstrap::{TOOLKIT_STACK_NAME, toolkit_stack};
use argus_cdk::stack::SynthesizedStack;
use argus_cdk::{Stack, SynthError};
use thiserror::Error;

use crate::ci::{CI_STACK_NAME, CiConfig, ci_stack};
use crate::config::{ConfigError, STAGES, StageConfig};
use crate::pipeline::pipeline_stack;
use crate::trail::{TRAIL_STACK_NAME, trail_stack};

/// The qualifier of the toolkit stack's resources (`argus-assets-<account>-<region>`).
pub const QUALIFIER: &str = "argus";

/// Stages deployed to AWS: their input buckets are what the audit trail records (the local twin
/// has no CloudTrail), and each has CI deploy roles.
pub const AUDITED_STAGES: &[&str] = &["beta", "prod"];

/// Every `--stage` value: the stages, then `all` (every stack, for `synth`).
pub const STAGE_VALUES: &[&str] = &["beta", "prod", "local", "all"];

/// The account-level stacks: one per account and Region, not per stage, named with `--stack`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountStack {
    /// `argus-audit`: the audit trail (CloudTrail) and its bucket.
    Trail,
    /// `argus-toolkit`: the assets bucket that deployments publish to.
    Toolkit,
    /// `argus-ci`: the GitHub OIDC provider and the deploy and execution roles.
    Ci,
}

impl AccountStack {
    /// Every account-level stack, in the order `synth --stage all` writes them.
    pub const ALL: [AccountStack; 3] =
        [AccountStack::Toolkit, AccountStack::Trail, AccountStack::Ci];

    /// The stack's name.
    pub fn stack_name(self) -> &'static str {
        match self {
            AccountStack::Trail => TRAIL_STACK_NAME,
            AccountStack::Toolkit => TOOLKIT_STACK_NAME,
            AccountStack::Ci => CI_STACK_NAME,
        }
    }
}

/// What a `--stage` or `--stack` value selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// One stage's pipeline stack (`argus-<stage>`).
    Stage(String),
    /// One account-level stack.
    Account(AccountStack),
    /// Every stack.
    All,
}

/// Why the app could not be built.
#[derive(Debug, Error)]
pub enum AppError {
    /// A `--stage` value that is not a stage.
    #[error("unknown stage `{0}`: choose one of {list}{hint}", list = STAGE_VALUES.join(", "), hint = stack_hint(.0))]
    UnknownStage(String),
    /// A `--stack` value that names no stack of the app.
    #[error("unknown stack `{0}`: choose one of {1}")]
    UnknownStack(String, String),
    /// A command that takes one stack was given `all`.
    #[error("this command takes one stack: --stage beta|prod|local, or --stack {0}")]
    NotOneStack(String),
    /// A stage config file is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A construct or the rule pack refused.
    #[error(transparent)]
    Synth(#[from] SynthError),
}

/// The hint for an account-level stack given as a stage (`--stage audit`).
fn stack_hint(value: &str) -> String {
    AccountStack::ALL
        .iter()
        .find(|s| s.stack_name().strip_prefix("argus-") == Some(value))
        .map(|s| {
            format!(
                " (`{value}` is a stack, not a stage: use --stack {})",
                s.stack_name()
            )
        })
        .unwrap_or_default()
}

/// The account-level stacks' names, comma-separated (for messages).
pub fn account_stack_names() -> String {
    AccountStack::ALL.map(AccountStack::stack_name).join(", ")
}

impl Selection {
    /// Parses a `--stage` value: a stage name, or `all`.
    ///
    /// # Errors
    /// [`AppError::UnknownStage`], with a hint when the value names an account-level stack.
    pub fn stage(value: &str) -> Result<Self, AppError> {
        match value {
            "all" => Ok(Selection::All),
            stage if STAGES.contains(&stage) => Ok(Selection::Stage(stage.to_owned())),
            other => Err(AppError::UnknownStage(other.to_owned())),
        }
    }

    /// Parses a `--stack` value: an account-level stack's name, or the stack name of a stage in
    /// `config_dir` (`argus-beta`).
    ///
    /// # Errors
    /// [`AppError::UnknownStack`] listing the names; [`AppError::Config`] when a stage config
    /// cannot be read to compare its stack name.
    pub fn stack(config_dir: &Path, name: &str) -> Result<Self, AppError> {
        if let Some(stack) = AccountStack::ALL
            .into_iter()
            .find(|s| s.stack_name() == name)
        {
            return Ok(Selection::Account(stack));
        }
        let mut stage_stacks = Vec::new();
        for stage in STAGES {
            let config = StageConfig::load(config_dir, stage)?;
            if config.stack_name == name {
                return Ok(Selection::Stage((*stage).to_owned()));
            }
            stage_stacks.push(config.stack_name);
        }
        Err(AppError::UnknownStack(
            name.to_owned(),
            format!("{}, {}", stage_stacks.join(", "), account_stack_names()),
        ))
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
    let account = |stack: AccountStack| -> Result<Stack, AppError> {
        Ok(match stack {
            AccountStack::Trail => trail_stack(&deployed()?)?,
            AccountStack::Toolkit => toolkit_stack(QUALIFIER)?,
            AccountStack::Ci => ci_stack(&CiConfig::load(config_dir)?, &deployed()?)?,
        })
    };
    Ok(match selection {
        Selection::Stage(stage) => vec![pipeline_stack(&StageConfig::load(config_dir, stage)?)?],
        Selection::Account(stack) => vec![account(*stack)?],
        Selection::All => {
            let mut stacks = AccountStack::ALL
                .into_iter()
                .map(account)
                .collect::<Result<Vec<_>, _>>()?;
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
    /// Whether the local twin can deploy it (the audit trail needs CloudTrail, which it lacks).
    pub deployable_on_twin: bool,
}

/// Resolves a selection that names one stack. Account-level stacks go to the Region of
/// `region_stage`'s config (the stage a command was told about, or prod).
///
/// # Errors
/// [`AppError::NotOneStack`] for `all`; [`AppError::Config`]; [`AppError::Synth`].
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
        Selection::Account(account) => {
            let region = StageConfig::load(config_dir, region_stage)?.region;
            let stack = build(config_dir, selection)?
                .pop()
                .ok_or_else(|| AppError::NotOneStack(account_stack_names()))?;
            Ok(Target {
                stack,
                region,
                protected: true,
                // The twin has no CloudTrail for the audit trail.
                deployable_on_twin: *account != AccountStack::Trail,
            })
        }
        Selection::All => Err(AppError::NotOneStack(account_stack_names())),
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
