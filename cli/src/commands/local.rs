//! `argus local up|down|status`: the local twin (argus-twin's [`lifecycle`]) — MiniStack and the
//! Rekognition endpoint on 127.0.0.1, started in the background, recorded by PID and port in a
//! state folder, and stopped by exactly those PIDs. The Rekognition endpoint runs as this binary's
//! hidden `local serve-rekognition`.

use std::path::{Path, PathBuf};

use argus_stacks::config::StageConfig;
use argus_twin::lifecycle::{self, DEFAULT_MINISTACK_PORT, STATE_FILE, TwinState, UpOptions};

use crate::cli::Failure;
use crate::ops::Context;

pub use argus_twin::lifecycle::TWIN_ACCESS_KEY;

/// The hidden subcommand that runs argus-twin in its own process.
pub const SERVE_REKOGNITION: &str = "serve-rekognition";

/// `argus local` options.
#[derive(Debug, clap::Args)]
pub struct LocalArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: LocalAction,
    /// Where PIDs, ports, MiniStack's state and the logs are kept.
    #[arg(
        long,
        global = true,
        default_value = ".argus/local",
        value_name = "DIR"
    )]
    pub state_dir: PathBuf,
}

/// `argus local` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum LocalAction {
    /// Start MiniStack and argus-twin on 127.0.0.1 in the background, wait until both answer,
    /// and print the environment to use. Already running: says so and starts nothing.
    Up(UpArgs),
    /// Stop exactly the processes `up` started (by PID), and their children.
    Down,
    /// Show whether the twin is running and healthy.
    Status,
    /// Run argus-twin in this process until SIGTERM (used by `up`).
    #[command(name = SERVE_REKOGNITION, hide = true)]
    ServeRekognition(ServeArgs),
}

/// `argus local up` options.
#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// MiniStack's port on 127.0.0.1.
    #[arg(long, default_value_t = DEFAULT_MINISTACK_PORT)]
    pub ministack_port: u16,
    /// argus-twin's port on 127.0.0.1 (default: the port of `analysis.rekognition_endpoint` in
    /// the local stage config, so the deployed processor finds it).
    #[arg(long)]
    pub rekognition_port: Option<u16>,
    /// Folder of Rekognition fixtures (`<sha256>.json`, e.g. `samples/fixtures`), an override
    /// for tests: an image that has one is answered from it instead of the models. Without it
    /// every answer comes from argus-twin's models.
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
}

/// `serve-rekognition` options.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1.
    #[arg(long)]
    pub port: u16,
    /// S3 endpoint for Image.S3Object (MiniStack).
    #[arg(long)]
    pub s3_endpoint: String,
    /// Fixtures folder (an override; none: every answer from the models).
    #[arg(long)]
    pub fixtures: Option<PathBuf>,
    /// Region of the S3 signing and of the CloudTrail records.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Deliver the CloudTrail records as gzipped log files into this bucket on the S3 endpoint.
    #[arg(long, value_name = "BUCKET")]
    pub trail_bucket: Option<String>,
    /// Seconds between two trail log file deliveries.
    #[arg(long, default_value_t = 5, value_name = "SECONDS")]
    pub trail_delivery_seconds: u64,
}

/// Runs `argus local …`.
pub fn run(context: &Context, args: &LocalArgs) -> Result<(), Failure> {
    match &args.action {
        LocalAction::Up(up_args) => up(context, &args.state_dir, up_args).map(|_| ()),
        LocalAction::Down => down(&args.state_dir),
        LocalAction::Status => status(&args.state_dir),
        LocalAction::ServeRekognition(serve) => crate::ops::block_on(serve_rekognition(serve)),
    }
}

/// How this binary runs the Rekognition endpoint in the foreground.
fn rekognition_command() -> Result<Vec<String>, Failure> {
    let exe = std::env::current_exe()
        .map_err(|e| Failure::new(1, format!("cannot find the argus binary: {e}")))?;
    Ok(vec![
        exe.display().to_string(),
        "local".into(),
        SERVE_REKOGNITION.into(),
    ])
}

/// Starts the twin (or finds it running) and returns its state.
pub fn up(context: &Context, state_dir: &Path, args: &UpArgs) -> Result<TwinState, Failure> {
    let local = StageConfig::load(&context.config_dir, "local")?;
    let options = UpOptions {
        state_dir: state_dir.to_path_buf(),
        ministack_port: args.ministack_port,
        rekognition_port: args.rekognition_port.unwrap_or_else(|| {
            port_of(local.analysis.rekognition_endpoint.as_deref())
                .unwrap_or(argus_twin::server::DEFAULT_PORT)
        }),
        fixtures: args.fixtures.clone(),
        region: local.region,
        project_dir: std::env::current_dir()
            .map_err(|e| Failure::new(1, format!("cannot read the current folder: {e}")))?,
        rekognition_command: rekognition_command()?,
    };
    let outcome = lifecycle::up(&options, &|line| println!("{line}"))?;
    if outcome.already_running {
        println!("The local twin is already running (started earlier; nothing started now):");
    } else {
        println!("The local twin is up:");
    }
    print_state(&outcome.state);
    Ok(outcome.state)
}

fn port_of(url: Option<&str>) -> Option<u16> {
    url?.rsplit(':').next()?.trim_end_matches('/').parse().ok()
}

/// The models argus-twin loaded and the time it took, from its health route.
fn print_models(port: u16) {
    let Some(health) = argus_twin::process::get_json(
        port,
        argus_twin::server::HEALTH_PATH,
        std::time::Duration::from_secs(2),
    ) else {
        return;
    };
    let names: Vec<&str> = health["models"]
        .as_array()
        .map(|m| m.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    if names.is_empty() {
        println!("    models: none (answers only from fixtures)");
        return;
    }
    match health["models_load_ms"].as_u64() {
        Some(ms) => println!("    models loaded in {:.1} s:", ms as f64 / 1000.0),
        None => println!("    models loaded:"),
    }
    for name in names {
        println!("      {name}");
    }
}

fn print_state(state: &TwinState) {
    println!(
        "  MiniStack   (S3, SQS, DynamoDB, SNS, IAM, Logs, Lambda, CloudFormation)  {}  pid {}",
        state.ministack.endpoint(),
        state.ministack.pid
    );
    println!(
        "  argus-twin (Rekognition: models, fixtures override by image SHA-256)   {}  pid {}",
        state.rekognition.endpoint(),
        state.rekognition.pid
    );
    print_models(state.rekognition.port);
    println!(
        "  CloudTrail: argus-twin records every Rekognition call (LookupEvents at {}) and delivers the log files to s3://{}/AWSLogs/ every 5 s",
        state.rekognition.endpoint(),
        argus_twin::lifecycle::TRAIL_BUCKET
    );
    println!("Use it from a shell:");
    let env: Vec<String> = state
        .environment()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    println!("  export {}", env.join(" "));
    println!(
        "Logs: {} and {}",
        state.ministack.log.display(),
        state.rekognition.log.display()
    );
    println!("Stop it with: argus local down");
}

/// Stops the twin.
pub fn down(state_dir: &Path) -> Result<(), Failure> {
    match lifecycle::down(state_dir, &rekognition_command()?)? {
        None => println!(
            "The local twin is not running (no {}).",
            state_dir.join(STATE_FILE).display()
        ),
        Some((state, [rekognition, ministack])) => println!(
            "Stopped argus-twin (pid {}, {rekognition:?}) and MiniStack (pid {}, {ministack:?}).",
            state.rekognition.pid, state.ministack.pid
        ),
    }
    Ok(())
}

/// Prints whether the twin runs.
pub fn status(state_dir: &Path) -> Result<(), Failure> {
    let Some((state, health)) = lifecycle::status(state_dir)? else {
        println!("The local twin is not running. Start it with: argus local up");
        return Ok(());
    };
    let word = |ok: bool| if ok { "running" } else { "NOT RUNNING" };
    println!(
        "MiniStack    {}  {}  pid {}",
        word(health.ministack),
        state.ministack.endpoint(),
        state.ministack.pid
    );
    println!(
        "argus-twin  {}  {}  pid {}",
        word(health.rekognition),
        state.rekognition.endpoint(),
        state.rekognition.pid
    );
    if health.all() {
        Ok(())
    } else {
        Err(Failure::new(
            1,
            "the local twin is partly down: run `argus local down` then `argus local up`",
        ))
    }
}

async fn serve_rekognition(args: &ServeArgs) -> Result<(), Failure> {
    let mut s3 = argus_twin::S3Settings::local(&args.s3_endpoint);
    s3.region = args.region.clone();
    let config = argus_twin::Config {
        port: args.port,
        fixtures_dir: args.fixtures.clone(),
        s3: Some(s3),
        trail: argus_twin::trail::TrailSettings {
            region: args.region.clone(),
            bucket: args.trail_bucket.clone(),
            delivery_interval: std::time::Duration::from_secs(args.trail_delivery_seconds),
            ..argus_twin::trail::TrailSettings::default()
        },
        ..argus_twin::Config::default()
    };
    let server = argus_twin::serve(config)
        .await
        .map_err(|e| Failure::new(1, e.to_string()))?;
    println!("argus-twin listening on {}", server.endpoint_url());
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Failure::new(1, format!("cannot watch SIGTERM: {e}")))?;
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    server
        .shutdown()
        .await
        .map_err(|e| Failure::new(1, e.to_string()))
}
