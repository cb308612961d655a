//! `argus local up|down|status`: the local twin — MiniStack (S3, SQS, DynamoDB, SNS, IAM, Logs,
//! Lambda, API Gateway v2, CloudFormation) and argus-twin (Rekognition) on 127.0.0.1, started
//! in the background, recorded by PID and port in a state folder, and stopped by exactly those
//! PIDs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use argus_twin::ministack::{MiniStack, MiniStackOptions, VENV_PYTHON, probe_health};
use argus_twin::process::{self, StopOutcome};
use serde::{Deserialize, Serialize};

use super::Context;
use crate::cli::Failure;
use argus_stacks::config::StageConfig;

/// The state file inside the state folder.
pub const STATE_FILE: &str = "twin.json";
/// MiniStack's default port (`GATEWAY_PORT`).
pub const DEFAULT_MINISTACK_PORT: u16 = 4566;
/// The hidden subcommand that runs argus-twin in its own process.
pub const SERVE_REKOGNITION: &str = "serve-rekognition";
/// The credentials the twin accepts (any work; these are the conventional ones).
pub const TWIN_ACCESS_KEY: &str = "test";

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
    /// Folder of Rekognition fixtures (`<sha256>.json`).
    #[arg(long, default_value = "samples/fixtures", value_name = "DIR")]
    pub fixtures: PathBuf,
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
    /// Fixtures folder.
    #[arg(long)]
    pub fixtures: PathBuf,
}

/// One background process of the twin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    /// Process ID (and process group ID).
    pub pid: u32,
    /// Port on 127.0.0.1.
    pub port: u16,
    /// Its log file.
    pub log: PathBuf,
}

impl Component {
    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// The state file: what `up` started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwinState {
    /// MiniStack.
    pub ministack: Component,
    /// argus-twin.
    pub rekognition: Component,
    /// The Region the twin's resources are created in (the local stage's).
    pub region: String,
}

impl TwinState {
    /// Reads the state file, if any.
    pub fn load(dir: &Path) -> Result<Option<Self>, Failure> {
        let path = dir.join(STATE_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                Failure::new(
                    1,
                    format!(
                        "{} is damaged ({e}); remove it after stopping the twin's processes",
                        path.display()
                    ),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Failure::new(
                1,
                format!("cannot read {}: {e}", path.display()),
            )),
        }
    }

    fn save(&self, dir: &Path) -> Result<(), Failure> {
        let path = dir.join(STATE_FILE);
        let text =
            serde_json::to_string_pretty(self).map_err(|e| Failure::new(1, e.to_string()))?;
        std::fs::write(&path, text + "\n")
            .map_err(|e| Failure::new(1, format!("cannot write {}: {e}", path.display())))
    }

    /// Whether both processes are alive and answer.
    pub fn healthy(&self) -> (bool, bool) {
        let ministack = process::is_alive(self.ministack.pid)
            && probe_health(self.ministack.port, Duration::from_secs(2));
        let rekognition =
            process::is_alive(self.rekognition.pid) && rekognition_healthy(self.rekognition.port);
        (ministack, rekognition)
    }

    /// The shell environment that points AWS SDKs and the argus CLI at the twin.
    pub fn environment(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".into(), self.ministack.endpoint()),
            (
                "AWS_ENDPOINT_URL_REKOGNITION".into(),
                self.rekognition.endpoint(),
            ),
            ("AWS_ACCESS_KEY_ID".into(), TWIN_ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY".into(), TWIN_ACCESS_KEY.into()),
            ("AWS_REGION".into(), self.region.clone()),
        ]
    }
}

/// Whether argus-twin answers its health route on `port`.
fn rekognition_healthy(port: u16) -> bool {
    process::answers_ok(
        port,
        argus_twin::server::HEALTH_PATH,
        Duration::from_secs(2),
    )
}

/// Runs `argus local …`.
pub fn run(context: &Context, args: &LocalArgs) -> Result<(), Failure> {
    match &args.action {
        LocalAction::Up(up_args) => up(context, &args.state_dir, up_args).map(|_| ()),
        LocalAction::Down => down(&args.state_dir),
        LocalAction::Status => status(&args.state_dir),
        LocalAction::ServeRekognition(serve) => super::block_on(serve_rekognition(serve)),
    }
}

/// Starts the twin (or finds it running) and returns its state.
pub fn up(context: &Context, state_dir: &Path, args: &UpArgs) -> Result<TwinState, Failure> {
    if let Some(state) = TwinState::load(state_dir)? {
        match state.healthy() {
            (true, true) => {
                println!(
                    "The local twin is already running (started earlier; nothing started now):"
                );
                print_state(&state);
                return Ok(state);
            }
            _ => {
                println!(
                    "The local twin's previous processes are gone or unhealthy; stopping what is left and starting afresh"
                );
                stop_components(&state)?;
                let _ = std::fs::remove_file(state_dir.join(STATE_FILE));
            }
        }
    }
    let local = StageConfig::load(&context.config_dir, "local")
        .map_err(argus_stacks::app::AppError::from)?;
    let rekognition_port = match args.rekognition_port {
        Some(port) => port,
        None => port_of(local.analysis.rekognition_endpoint.as_deref())
            .unwrap_or(argus_twin::server::DEFAULT_PORT),
    };
    for (name, port) in [
        ("MiniStack", args.ministack_port),
        ("argus-twin", rekognition_port),
    ] {
        process::ensure_port_free(port).map_err(|_| {
            Failure::new(1, format!("port {port} on 127.0.0.1 (for {name}) is in use by another program; stop it, or choose other ports with --ministack-port/--rekognition-port"))
        })?;
    }
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::new(1, format!("cannot read the current folder: {e}")))?;
    // Not canonicalized: the virtualenv's python is a symlink whose path selects the venv.
    let python = cwd.join(VENV_PYTHON);
    if !python.exists() {
        return Err(Failure::new(
            1,
            format!(
                "{VENV_PYTHON} is missing: run `make twin-tools` to install MiniStack (requirements/twin.txt)"
            ),
        ));
    }
    std::fs::create_dir_all(state_dir)
        .map_err(|e| Failure::new(1, format!("cannot create {}: {e}", state_dir.display())))?;
    let state_dir = std::fs::canonicalize(state_dir)
        .map_err(|e| Failure::new(1, format!("{}: {e}", state_dir.display())))?;

    println!("Starting MiniStack on 127.0.0.1:{} …", args.ministack_port);
    let mut options = MiniStackOptions::new(python, args.ministack_port);
    options.state_dir = Some(state_dir.join("ministack"));
    // Lambda functions run as MiniStack's child processes and inherit this: they call back here.
    options.env.push((
        "AWS_ENDPOINT_URL".into(),
        format!("http://127.0.0.1:{}", args.ministack_port),
    ));
    let ministack = MiniStack::start(options)
        .map_err(|e| Failure::new(1, format!("MiniStack did not start: {e}")))?;

    println!("Starting argus-twin (Rekognition) on 127.0.0.1:{rekognition_port} …");
    let log = state_dir.join("argus-twin.log");
    let fixtures = cwd.join(&args.fixtures);
    let rekognition =
        match spawn_rekognition(&log, rekognition_port, &ministack.endpoint_url(), &fixtures) {
            Ok(component) => component,
            Err(e) => {
                let _ = ministack.stop();
                return Err(e);
            }
        };
    let detached = ministack.detach();
    let state = TwinState {
        ministack: Component {
            pid: detached.pid,
            port: detached.port,
            log: detached.log,
        },
        rekognition,
        region: local.region,
    };
    state.save(&state_dir)?;
    println!("The local twin is up:");
    print_state(&state);
    Ok(state)
}

fn port_of(url: Option<&str>) -> Option<u16> {
    url?.rsplit(':').next()?.trim_end_matches('/').parse().ok()
}

fn spawn_rekognition(
    log: &Path,
    port: u16,
    s3_endpoint: &str,
    fixtures: &Path,
) -> Result<Component, Failure> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe()
        .map_err(|e| Failure::new(1, format!("cannot find the argus binary: {e}")))?;
    let file = std::fs::File::create(log)
        .map_err(|e| Failure::new(1, format!("cannot create {}: {e}", log.display())))?;
    let err = file
        .try_clone()
        .map_err(|e| Failure::new(1, e.to_string()))?;
    let child = Command::new(exe)
        .args([
            "local",
            SERVE_REKOGNITION,
            "--port",
            &port.to_string(),
            "--s3-endpoint",
            s3_endpoint,
            "--fixtures",
        ])
        .arg(fixtures)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(|e| Failure::new(1, format!("cannot start argus-twin: {e}")))?;
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if rekognition_healthy(port) {
            return Ok(Component {
                pid,
                port,
                log: log.to_path_buf(),
            });
        }
        if !process::is_alive(pid) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = process::stop_pid(pid, Duration::from_secs(5));
    let tail = std::fs::read_to_string(log).unwrap_or_default();
    Err(Failure::new(
        1,
        format!(
            "argus-twin did not answer on port {port}; its log ({}):\n{tail}",
            log.display()
        ),
    ))
}

fn print_state(state: &TwinState) {
    println!(
        "  MiniStack   (S3, SQS, DynamoDB, SNS, IAM, Logs, Lambda, CloudFormation)  {}  pid {}",
        state.ministack.endpoint(),
        state.ministack.pid
    );
    println!(
        "  argus-twin (Rekognition: fixtures keyed by image SHA-256)                {}  pid {}",
        state.rekognition.endpoint(),
        state.rekognition.pid
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

fn stop_components(state: &TwinState) -> Result<Vec<StopOutcome>, Failure> {
    let mut outcomes = Vec::new();
    for (name, component, marker) in [
        ("argus-twin", &state.rekognition, SERVE_REKOGNITION),
        ("MiniStack", &state.ministack, "ministack"),
    ] {
        // Never signal a recycled PID: the process must still be the one we started.
        let ours = process::command_line(component.pid).is_some_and(|c| c.contains(marker));
        if !ours {
            outcomes.push(StopOutcome::AlreadyGone);
            continue;
        }
        let outcome = process::stop_pid(component.pid, Duration::from_secs(10)).map_err(|e| {
            Failure::new(
                1,
                format!("cannot stop {name} (pid {}): {e}", component.pid),
            )
        })?;
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// Stops the twin.
pub fn down(state_dir: &Path) -> Result<(), Failure> {
    let Some(state) = TwinState::load(state_dir)? else {
        println!(
            "The local twin is not running (no {}).",
            state_dir.join(STATE_FILE).display()
        );
        return Ok(());
    };
    let outcomes = stop_components(&state)?;
    std::fs::remove_file(state_dir.join(STATE_FILE)).map_err(|e| {
        Failure::new(
            1,
            format!(
                "cannot remove {}: {e}",
                state_dir.join(STATE_FILE).display()
            ),
        )
    })?;
    println!(
        "Stopped argus-twin (pid {}, {:?}) and MiniStack (pid {}, {:?}).",
        state.rekognition.pid, outcomes[0], state.ministack.pid, outcomes[1]
    );
    Ok(())
}

/// Prints whether the twin runs.
pub fn status(state_dir: &Path) -> Result<(), Failure> {
    let Some(state) = TwinState::load(state_dir)? else {
        println!("The local twin is not running. Start it with: argus local up");
        return Ok(());
    };
    let (ministack, rekognition) = state.healthy();
    let word = |ok: bool| if ok { "running" } else { "NOT RUNNING" };
    println!(
        "MiniStack    {}  {}  pid {}",
        word(ministack),
        state.ministack.endpoint(),
        state.ministack.pid
    );
    println!(
        "argus-twin  {}  {}  pid {}",
        word(rekognition),
        state.rekognition.endpoint(),
        state.rekognition.pid
    );
    if ministack && rekognition {
        Ok(())
    } else {
        Err(Failure::new(
            1,
            "the local twin is partly down: run `argus local down` then `argus local up`",
        ))
    }
}

async fn serve_rekognition(args: &ServeArgs) -> Result<(), Failure> {
    let config = argus_twin::Config {
        port: args.port,
        fixtures_dir: Some(args.fixtures.clone()),
        s3: Some(argus_twin::S3Settings::local(&args.s3_endpoint)),
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
