//! The `argus` command line (clap): argument definitions, dispatch, and exit codes.
//!
//! Exit codes: 0 success; 1 the operation failed (a stack ended in a failed state, the rule pack
//! found errors, a change was not approved or was refused); 2 bad usage or invalid configuration;
//! 3 AWS could not be reached or refused a call; 130 interrupted by Ctrl-C. `argus diff` exits 0
//! when there are no differences and 1 when there are.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use argus_cdk::SynthError;
use argus_toolkit::ToolkitError;
use clap::{Parser, Subcommand, ValueEnum};

use crate::commands;
use argus_stacks::app::{AppError, Selection};

/// The cloud assembly folder when `--out` is not given.
pub const DEFAULT_ASSEMBLY_DIR: &str = "cdk.out";

/// Argus: infrastructure as code for an image-analysis pipeline on AWS.
///
/// Stages are configured in `stacks/config/<stage>.toml` (beta, prod, local) and named with
/// `--stage`. The account-level stacks are named with `--stack`: argus-audit (the audit trail,
/// CloudTrail), argus-toolkit (the assets bucket) and argus-ci (deploy roles). AWS is reached
/// through the default credential chain: AWS_PROFILE, AWS_REGION and AWS_ENDPOINT_URL (the local
/// twin) all work.
#[derive(Debug, Parser)]
#[command(name = "argus", version, propagate_version = true)]
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
    /// Where the output goes: the cloud assembly folder (templates, manifest, bundles; default
    /// cdk.out); for `argus diagram`, the file to write (default: stdout); for `argus report`,
    /// the report folder (default cdk.out/report).
    #[arg(long, global = true, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Synthesize CloudFormation templates, manifest.json and the rule report into the cloud assembly.
    ///
    /// Runs the built-in rule pack on every stack; an unsuppressed error fails synth and
    /// nothing is written. The same code and config always give byte-identical files.
    Synth(SynthArgs),
    /// Build the stage's Lambda bundles with cargo-lambda into deterministic zips (<out>/assets/).
    ///
    /// The zip holds only `bootstrap` (mode 0755, fixed timestamp) and is named in S3 by its
    /// SHA-256. Needs cargo-lambda and zig (`make bundle-tools` installs them into .venv/bundle).
    Bundle(TargetArgs),
    /// Deploy the toolkit stack (argus-toolkit: the assets bucket) to the stage's account and
    /// Region, if it is missing or out of date.
    Bootstrap(BootstrapArgs),
    /// Deploy a stack through a change set, streaming its events until it finishes.
    ///
    /// Publishes the bundles (uploads only what the assets bucket lacks), creates a change set,
    /// shows the planned changes (replacements flagged), asks before IAM permissions broaden,
    /// executes, and prints the outputs. An empty change set means "no changes" (exit 0).
    Deploy(DeployArgs),
    /// Watch the stage's function sources and config: on each change rebuild the bundles,
    /// deploy with --hotswap, and tail the functions' logs, until Ctrl-C. A build error is shown
    /// and the watch goes on.
    Watch(WatchArgs),
    /// Compare the synthesized template with the deployed one: resources added, removed and
    /// modified (property paths) and IAM statements. Exit 0: no differences; 1: differences.
    Diff(TargetArgs),
    /// Analyse one image with the stage's analyses (DetectLabels, DetectText, DetectFaces,
    /// DetectModerationLabels, CompareFaces) directly: print the JSON record and write
    /// `<image>_labels_<YYYYMMDD_HHMMSS>.json`; `--store` also writes it to the results table.
    Analyze(commands::analyze::AnalyzeArgs),
    /// Run the whole pipeline on the sample images on the local twin (no AWS account): start the
    /// twin, deploy the local stage, upload every sample, wait for every result, print a table.
    Demo(commands::demo::DemoArgs),
    /// The local twin: MiniStack and argus-twin (Rekognition) on 127.0.0.1 — up, down, status.
    Local(commands::local::LocalArgs),
    /// Delete a stack. Beta and local buckets are emptied first (every object version); a
    /// protected stage (prod) is refused unless --force and its termination protection is off.
    Destroy(DestroyArgs),
    /// Who called which Rekognition API on which image, and when: CloudTrail event history
    /// (LookupEvents), or the audit trail's log files with --from-bucket. Newest first, as a
    /// table (TIME, EVENT, CALLER, IMAGE, RESULT) or a JSON array with --json.
    Audit(commands::audit::AuditArgs),
    /// Draw a stack's architecture from its synthesized template: one node per resource
    /// (logical ID and type) grouped by service; references, event source mappings and bucket
    /// notifications solid, IAM grants dashed. SVG (default), DOT or Mermaid, to stdout or --out.
    Diagram(commands::diagram::DiagramArgs),
    /// Invoke a stage's deployed function (processor or api) once with a realistic event, as
    /// `sam local invoke` and `cargo lambda invoke` do, but on the deployed function.
    ///
    /// The event is built with the aws_lambda_events types from what is deployed: an S3 Put
    /// notification of an existing object (HeadObject gives its size, ETag and version), that
    /// notification in an SQS message of the stage's ingest queue (the processor's event
    /// source), or an HTTP API v2 request (the api function's). Lambda Invoke (RequestResponse,
    /// LogType Tail) runs it; the response payload is printed to stdout as JSON and the log lines
    /// of that request to stderr. A function error exits 1. --print-event prints the event only.
    Invoke(commands::invoke::InvokeArgs),
    /// Show the stage's function logs (CloudWatch Logs, /aws/lambda/<function>) as columns:
    /// time, function, level, request ID, image ID, message.
    ///
    /// The functions log JSON lines; --json prints them as they are. --filter keeps the lines
    /// containing a text (an image ID, a request ID); --follow keeps polling until Ctrl-C.
    Logs(commands::logs::LogsArgs),
    /// Write a self-contained HTML report of a stage's results into `--out DIR` (default
    /// cdk.out/report): one card per image, newest first, with faces, text lines and objects
    /// boxed on the image, labels, text, face decision, moderation labels, alert, status,
    /// SHA-256 and the JSON result; filterable by status and alert.
    Report(commands::report::ReportArgs),
}

/// `argus synth` options.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("selection").args(["stage", "stack"]))]
pub struct SynthArgs {
    /// What to synthesize: a stage (beta, prod, local), or all for every stack (the default).
    #[arg(long, value_name = "STAGE")]
    pub stage: Option<String>,
    /// One stack by name: argus-audit, argus-toolkit, argus-ci, or a stage's (argus-beta).
    #[arg(long, value_name = "STACK")]
    pub stack: Option<String>,
    /// Template format: json, or yaml (writes .template.yaml beside each .template.json).
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

impl SynthArgs {
    /// The selection: `--stack`, else `--stage`, else all.
    ///
    /// # Errors
    /// [`AppError::UnknownStage`], [`AppError::UnknownStack`].
    pub fn selection(&self, config_dir: &Path) -> Result<Selection, AppError> {
        match (&self.stack, &self.stage) {
            (Some(stack), _) => Selection::stack(config_dir, stack),
            (None, Some(stage)) => Selection::stage(stage),
            (None, None) => Ok(Selection::All),
        }
    }
}

/// Options naming one stack: a stage's with `--stage`, or any with `--stack`.
#[derive(Clone, Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("target").required(true).args(["stage", "stack"]))]
pub struct TargetArgs {
    /// The stage: beta, prod or local (its pipeline stack, argus-<stage>).
    #[arg(long, value_name = "STAGE")]
    pub stage: Option<String>,
    /// The stack: argus-audit, argus-toolkit, argus-ci, or a stage's (argus-beta). Account-level
    /// stacks go to the Region of the prod stage.
    #[arg(long, value_name = "STACK")]
    pub stack: Option<String>,
}

impl TargetArgs {
    /// A stage's target.
    pub fn stage(stage: &str) -> Self {
        TargetArgs {
            stage: Some(stage.to_owned()),
            stack: None,
        }
    }

    /// The selection (one stack).
    ///
    /// # Errors
    /// [`AppError::UnknownStage`], [`AppError::UnknownStack`], [`AppError::NotOneStack`] for `all`.
    pub fn selection(&self, config_dir: &Path) -> Result<Selection, AppError> {
        let selection = match (&self.stack, &self.stage) {
            (Some(stack), _) => Selection::stack(config_dir, stack)?,
            (None, Some(stage)) => Selection::stage(stage)?,
            (None, None) => {
                return Err(AppError::NotOneStack(
                    argus_stacks::app::account_stack_names(),
                ));
            }
        };
        Ok(selection)
    }

    /// What a user typed, for messages: `--stage beta` or `--stack argus-ci`.
    pub fn flag(&self) -> String {
        match (&self.stack, &self.stage) {
            (Some(stack), _) => format!("--stack {stack}"),
            (None, Some(stage)) => format!("--stage {stage}"),
            (None, None) => String::new(),
        }
    }
}

/// `argus bootstrap` options.
#[derive(Debug, clap::Args)]
pub struct BootstrapArgs {
    /// The stage whose account and Region to bootstrap (default: prod's).
    #[arg(long, value_name = "STAGE", default_value = "prod")]
    pub stage: String,
}

/// `argus deploy` options.
#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    /// The stack to deploy.
    #[command(flatten)]
    pub target: TargetArgs,
    /// When to ask before IAM permissions broaden: `broadening` (ask; fails without a terminal)
    /// or `never` (CI).
    #[arg(long, value_enum, default_value_t = RequireApproval::Broadening)]
    pub require_approval: RequireApproval,
    /// Write the stack outputs as JSON ({"<stack>": {"<key>": "<value>"}}) to this file.
    #[arg(long, value_name = "FILE")]
    pub outputs_file: Option<PathBuf>,
    /// Create the change set and show it, but do not execute it.
    #[arg(long)]
    pub no_execute: bool,
    /// Minutes the stack operation may take before the command gives up waiting.
    #[arg(long, default_value_t = 30, value_name = "MINUTES")]
    pub timeout: u64,
    /// The role CloudFormation assumes to change the stack's resources (the argus-ci stack's
    /// execution role in CI). Default: your own credentials.
    #[arg(long, env = "ARGUS_EXECUTION_ROLE_ARN", value_name = "ARN")]
    pub execution_role: Option<String>,
    /// When only Lambda code (the bundle) or a function's Environment, MemorySize or Timeout
    /// changed, update the functions through the Lambda API instead of a change set; anything
    /// else falls back to a change set, saying which resource and property forced it. The stack
    /// then drifts from its template until the next full deploy. Refused for protected stages
    /// (prod) unless --force.
    #[arg(long)]
    pub hotswap: bool,
    /// Allow --hotswap on a protected stage (prod).
    #[arg(long, requires = "hotswap")]
    pub force: bool,
}

/// `argus watch` options.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// The stage to watch: beta or local (prod needs --force).
    #[arg(long, value_name = "STAGE")]
    pub stage: String,
    /// When to ask before IAM permissions broaden (a fallback to a change set may need it).
    #[arg(long, value_enum, default_value_t = RequireApproval::Broadening)]
    pub require_approval: RequireApproval,
    /// Watch (and hotswap) a protected stage (prod).
    #[arg(long)]
    pub force: bool,
    /// Milliseconds of quiet after a change before rebuilding (saves come in bursts).
    #[arg(long, default_value_t = 500, value_name = "MS")]
    pub debounce: u64,
    /// Do not tail the functions' logs.
    #[arg(long)]
    pub no_logs: bool,
}

/// `argus destroy` options.
#[derive(Debug, clap::Args)]
pub struct DestroyArgs {
    /// The stack to delete.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Destroy a protected stack (prod, account-level stacks). Termination protection must still
    /// be turned off first.
    #[arg(long)]
    pub force: bool,
    /// Minutes the deletion may take.
    #[arg(long, default_value_t = 30, value_name = "MINUTES")]
    pub timeout: u64,
    /// The role CloudFormation assumes to delete the resources. Default: your own credentials.
    #[arg(long, env = "ARGUS_EXECUTION_ROLE_ARN", value_name = "ARN")]
    pub execution_role: Option<String>,
}

/// Template formats.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// JSON only.
    Json,
    /// JSON and YAML.
    Yaml,
}

/// `--require-approval` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RequireApproval {
    /// Never ask.
    Never,
    /// Ask when IAM statements are added.
    Broadening,
}

/// A failed command: the message and the exit code.
#[derive(Debug)]
pub struct Failure {
    /// The message (one line for usage and config errors; failed resources follow on their own lines).
    pub message: String,
    /// The exit code (see the module documentation).
    pub code: u8,
}

impl Failure {
    /// A failure with an explicit code.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code,
        }
    }

    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

// Every typed error of the libraries maps to its exit code here, and only here.

impl From<AppError> for Failure {
    fn from(error: AppError) -> Self {
        let code = match &error {
            AppError::UnknownStage(_)
            | AppError::UnknownStack(..)
            | AppError::NotOneStack(_)
            | AppError::Config(_) => 2,
            AppError::Synth(_) => 1,
        };
        Failure::new(code, error.to_string())
    }
}

impl From<SynthError> for Failure {
    fn from(error: SynthError) -> Self {
        Failure::from(AppError::Synth(error))
    }
}

impl From<argus_stacks::config::ConfigError> for Failure {
    fn from(error: argus_stacks::config::ConfigError) -> Self {
        Failure::from(AppError::Config(error))
    }
}

impl From<crate::ops::audit_trail::AuditError> for Failure {
    fn from(error: crate::ops::audit_trail::AuditError) -> Self {
        use crate::ops::audit_trail::AuditError;
        match error {
            AuditError::Aws(error) => Failure::from(error),
            AuditError::Read { .. } => Failure::new(3, error.to_string()),
            _ => Failure::new(1, error.to_string()),
        }
    }
}

impl From<argus_twin::lifecycle::TwinError> for Failure {
    fn from(error: argus_twin::lifecycle::TwinError) -> Self {
        Failure::new(1, error.to_string())
    }
}

impl From<ToolkitError> for Failure {
    fn from(error: ToolkitError) -> Self {
        let code = match &error {
            ToolkitError::Aws { .. } => 3,
            ToolkitError::Interrupted(_) => 130,
            _ => 1,
        };
        Failure::new(code, error.to_string())
    }
}

/// Runs a parsed command line.
///
/// # Errors
/// [`Failure`] with the message to print and the exit code.
pub fn run(cli: Cli) -> Result<(), Failure> {
    let context = crate::ops::Context {
        config_dir: cli.config_dir,
        out: cli
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_ASSEMBLY_DIR)),
        aws: None,
    };
    match cli.command {
        Command::Synth(args) => commands::synth::run(&context, &args),
        Command::Bundle(args) => commands::bundle::run(&context, &args),
        Command::Bootstrap(args) => crate::ops::block_on(commands::bootstrap::run(&context, &args)),
        Command::Deploy(args) => crate::ops::block_on(commands::deploy::run(&context, &args)),
        Command::Watch(args) => crate::ops::block_on(commands::watch::run(&context, &args)),
        Command::Diff(args) => crate::ops::block_on(commands::diff::run(&context, &args)),
        Command::Destroy(args) => crate::ops::block_on(commands::destroy::run(&context, &args)),
        Command::Local(args) => commands::local::run(&context, &args),
        Command::Demo(args) => commands::demo::run(&context, &args),
        Command::Analyze(args) => commands::analyze::run(&context, &args),
        Command::Audit(args) => crate::ops::block_on(commands::audit::run(&context, &args)),
        Command::Diagram(args) => commands::diagram::run(&context, &args, cli.out.as_deref()),
        Command::Invoke(args) => commands::invoke::run(&context, &args),
        Command::Logs(args) => commands::logs::run(&context, &args),
        Command::Report(args) => {
            crate::ops::block_on(commands::report::run(&context, &args, cli.out.as_deref()))
        }
    }
}
