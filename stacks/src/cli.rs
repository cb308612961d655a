//! The `argus` command line (clap).

use std::path::PathBuf;
use std::process::ExitCode;

use argus_infra::SynthError;
use argus_infra::assembly::{Assembly, TemplateFormat};
use clap::{Parser, Subcommand, ValueEnum};

use crate::app::{self, AppError, Selection};

/// Argus: infrastructure as code for an image-analysis pipeline on AWS.
///
/// Stages are configured in `stacks/config/<stage>.toml` (beta, prod, local). Account-level
/// stacks: `audit` (CloudTrail) and `toolkit` (assets bucket).
#[derive(Debug, Parser)]
#[command(name = "argus", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Folder holding the stage config files.
    #[arg(
        long,
        global = true,
        env = "ARGUS_CONFIG_DIR",
        default_value = "stacks/config",
        value_name = "DIR"
    )]
    pub config_dir: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Synthesize CloudFormation templates, manifest.json and the rule report into a cloud assembly.
    ///
    /// Runs the built-in rule pack on every stack; an unsuppressed error fails synth and
    /// nothing is written. The same code and config always give byte-identical files.
    Synth(SynthArgs),
}

/// `argus synth` options.
#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// What to synthesize: beta, prod, local, audit, toolkit or all.
    #[arg(long, default_value = "all", value_name = "STAGE")]
    pub stage: String,
    /// Output folder (the cloud assembly).
    #[arg(long, default_value = "cdk.out", value_name = "DIR")]
    pub out: PathBuf,
    /// Template format: json, or yaml (writes .template.yaml beside each .template.json).
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

/// Template formats.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// JSON only.
    Json,
    /// JSON and YAML.
    Yaml,
}

/// A failed command: the message and the exit code.
#[derive(Debug)]
pub struct Failure {
    /// One-line message (the rule report may add a table).
    pub message: String,
    /// 2 for usage and configuration errors, 1 for everything else.
    pub code: u8,
}

impl From<AppError> for Failure {
    fn from(error: AppError) -> Self {
        let code = match error {
            AppError::UnknownStage(_) | AppError::Config(_) => 2,
            AppError::Synth(_) => 1,
        };
        Failure {
            message: error.to_string(),
            code,
        }
    }
}

impl From<SynthError> for Failure {
    fn from(error: SynthError) -> Self {
        Failure {
            message: error.to_string(),
            code: 1,
        }
    }
}

impl Failure {
    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

/// Runs a parsed command line.
///
/// # Errors
/// [`Failure`] with the message to print and the exit code.
pub fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Synth(args) => synth(&cli.config_dir, &args),
    }
}

fn synth(config_dir: &std::path::Path, args: &SynthArgs) -> Result<(), Failure> {
    let selection = Selection::parse(&args.stage)?;
    let stacks = app::synth(config_dir, &selection)?;
    let format = match args.format {
        Format::Json => TemplateFormat::Json,
        Format::Yaml => TemplateFormat::Yaml,
    };
    let written = Assembly { stacks }.write(&args.out, format)?;
    let suppressed = written
        .report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_some())
        .count();
    let warnings = written.report.findings.len() - suppressed;
    println!(
        "Synthesized {} stack(s) into {} (rule pack: 0 errors, {warnings} warnings, {suppressed} suppressed with reasons)",
        written.manifest.stacks.len(),
        args.out.display()
    );
    for (name, stack) in &written.manifest.stacks {
        println!(
            "  {name:<15} {:>3} resources  {:>7} bytes  {}",
            stack.resources,
            stack.template_bytes,
            args.out.join(&stack.template_file).display()
        );
    }
    println!(
        "Rule report: {}",
        args.out.join("rules-report.txt").display()
    );
    Ok(())
}
