//! The twin's lifecycle: `up`, `down` and `status` of the two background processes — MiniStack
//! (S3, SQS, DynamoDB, SNS, IAM, Logs, Lambda, API Gateway v2, CloudFormation) and the
//! Rekognition endpoint — on 127.0.0.1, recorded by PID and port in a state folder
//! (`<state_dir>/twin.json`) and stopped by exactly those PIDs.
//!
//! Usable without the `argus` CLI: the Rekognition endpoint is started with whatever command
//! [`UpOptions::rekognition_command`] names (the `argus-twin` binary, or `argus local
//! serve-rekognition`), with `--port`, `--s3-endpoint`, `--region`, `--trail-bucket` and (when
//! set) `--fixtures` appended.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ministack::{MiniStack, MiniStackOptions, VENV_PYTHON, probe_health};
use crate::process::{self, StopOutcome};

/// The state file inside the state folder.
pub const STATE_FILE: &str = "twin.json";
/// MiniStack's default port (`GATEWAY_PORT`).
pub const DEFAULT_MINISTACK_PORT: u16 = 4566;
/// The credentials the twin accepts (any work; these are the conventional ones).
pub const TWIN_ACCESS_KEY: &str = "test";
/// The trail bucket argus-twin delivers the CloudTrail log files to on MiniStack's S3.
pub const TRAIL_BUCKET: &str = crate::trail::DEFAULT_TRAIL_BUCKET;
/// The Rekognition endpoint's log file inside the state folder.
pub const REKOGNITION_LOG: &str = "argus-twin.log";

/// What can go wrong starting, stopping or reading the twin.
#[derive(Debug, Error)]
pub enum TwinError {
    /// The state file exists but is not what `up` wrote.
    #[error("{path} is damaged ({reason}); remove it after stopping the twin's processes")]
    DamagedState {
        /// The state file.
        path: String,
        /// The parse error.
        reason: String,
    },
    /// A file or folder of the state could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A port the twin needs is taken.
    #[error(
        "port {port} on 127.0.0.1 (for {component}) is in use by another program; stop it, or choose other ports with --ministack-port/--rekognition-port"
    )]
    PortInUse {
        /// The component that needs it.
        component: &'static str,
        /// The port.
        port: u16,
    },
    /// The twin's virtualenv (MiniStack) is not installed.
    #[error("{0} is missing: run `make twin-tools` to install MiniStack (requirements/twin.txt)")]
    MissingVenv(String),
    /// MiniStack did not start.
    #[error("MiniStack did not start: {0}")]
    MiniStack(String),
    /// The Rekognition endpoint did not start or answer.
    #[error("argus-twin did not start: {0}")]
    Rekognition(String),
    /// A process could not be stopped.
    #[error("cannot stop {component} (pid {pid}): {reason}")]
    Stop {
        /// The component.
        component: &'static str,
        /// Its PID.
        pid: u32,
        /// Why.
        reason: String,
    },
}

impl TwinError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        TwinError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// One background process of the twin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    /// Process ID (and process group ID).
    pub pid: u32,
    /// When the process started, in clock ticks since boot ([`process::start_time`]; Linux
    /// `/proc/<pid>/stat` field 22). `down` signals the PID only while it still has this start
    /// time, so a PID recycled by another process is left alone. `None` in state files written
    /// before it was recorded (then only the command line is checked).
    #[serde(default)]
    pub start_time: Option<u64>,
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
    /// The Rekognition endpoint.
    pub rekognition: Component,
    /// The Region the twin's resources are created in (the local stage's).
    pub region: String,
}

/// Whether each process of a [`TwinState`] is alive and answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Health {
    /// MiniStack answers its health route.
    pub ministack: bool,
    /// The Rekognition endpoint answers its health route.
    pub rekognition: bool,
}

impl Health {
    /// Both answer.
    pub fn all(self) -> bool {
        self.ministack && self.rekognition
    }
}

impl TwinState {
    /// Reads the state file of `dir`, if any.
    ///
    /// # Errors
    /// [`TwinError::DamagedState`], [`TwinError::Io`].
    pub fn load(dir: &Path) -> Result<Option<Self>, TwinError> {
        let path = dir.join(STATE_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                serde_json::from_str(&text)
                    .map(Some)
                    .map_err(|e| TwinError::DamagedState {
                        path: path.display().to_string(),
                        reason: e.to_string(),
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(TwinError::io(&path, e)),
        }
    }

    fn save(&self, dir: &Path) -> Result<(), TwinError> {
        let path = dir.join(STATE_FILE);
        let text = serde_json::to_string_pretty(self).map_err(|e| TwinError::DamagedState {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        std::fs::write(&path, text + "\n").map_err(|e| TwinError::io(&path, e))
    }

    /// Whether both processes are alive and answer.
    pub fn health(&self) -> Health {
        Health {
            ministack: process::is_alive(self.ministack.pid)
                && probe_health(self.ministack.port, Duration::from_secs(2)),
            rekognition: process::is_alive(self.rekognition.pid)
                && rekognition_healthy(self.rekognition.port),
        }
    }

    /// The shell environment that points AWS SDKs and the argus CLI at the twin.
    pub fn environment(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".into(), self.ministack.endpoint()),
            (
                "AWS_ENDPOINT_URL_REKOGNITION".into(),
                self.rekognition.endpoint(),
            ),
            // argus-twin also answers CloudTrail's LookupEvents for the calls it answered.
            (
                "AWS_ENDPOINT_URL_CLOUDTRAIL".into(),
                self.rekognition.endpoint(),
            ),
            ("AWS_ACCESS_KEY_ID".into(), TWIN_ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY".into(), TWIN_ACCESS_KEY.into()),
            ("AWS_REGION".into(), self.region.clone()),
        ]
    }
}

/// Whether the Rekognition endpoint answers its health route on `port`.
fn rekognition_healthy(port: u16) -> bool {
    process::answers_ok(port, crate::server::HEALTH_PATH, Duration::from_secs(2))
}

/// How to start the twin.
#[derive(Clone, Debug)]
pub struct UpOptions {
    /// Where PIDs, ports, MiniStack's state and the logs are kept.
    pub state_dir: PathBuf,
    /// MiniStack's port on 127.0.0.1.
    pub ministack_port: u16,
    /// The Rekognition endpoint's port on 127.0.0.1.
    pub rekognition_port: u16,
    /// Folder of Rekognition fixtures (`<sha256>.json`), an override for images that have
    /// one; `None`: every answer from the models.
    pub fixtures: Option<PathBuf>,
    /// The Region the twin's resources are created in.
    pub region: String,
    /// The project folder holding `.venv/twin` (MiniStack's virtualenv).
    pub project_dir: PathBuf,
    /// The program and leading arguments that run the Rekognition endpoint in the foreground,
    /// e.g. `["argus-twin"]` or `["/path/to/argus", "local", "serve-rekognition"]`; `--port`,
    /// `--s3-endpoint` and `--fixtures` are appended. The last element marks the process as
    /// ours in its command line before `down` signals it.
    pub rekognition_command: Vec<String>,
}

/// What [`up`] did.
#[derive(Clone, Debug)]
pub struct UpOutcome {
    /// The running twin.
    pub state: TwinState,
    /// It was already running and healthy: nothing was started.
    pub already_running: bool,
}

/// Starts the twin in the background (or finds it running and healthy) and waits until both
/// processes answer. `say` receives a line before each slow step.
///
/// # Errors
/// [`TwinError`]: a port in use, MiniStack's virtualenv missing, a process that does not start
/// or answer (its log tail in the message), a state file that cannot be written.
pub fn up(options: &UpOptions, say: &dyn Fn(&str)) -> Result<UpOutcome, TwinError> {
    let state_dir = &options.state_dir;
    if let Some(state) = TwinState::load(state_dir)? {
        if state.health().all() {
            return Ok(UpOutcome {
                state,
                already_running: true,
            });
        }
        say(
            "The local twin's previous processes are gone or unhealthy; stopping what is left and starting afresh",
        );
        stop_components(&state, &options.rekognition_command)?;
        let _ = std::fs::remove_file(state_dir.join(STATE_FILE));
    }
    for (component, port) in [
        ("MiniStack", options.ministack_port),
        ("argus-twin", options.rekognition_port),
    ] {
        process::ensure_port_free(port).map_err(|_| TwinError::PortInUse { component, port })?;
    }
    // Not canonicalized: the virtualenv's python is a symlink whose path selects the venv.
    let python = options.project_dir.join(VENV_PYTHON);
    if !python.exists() {
        return Err(TwinError::MissingVenv(VENV_PYTHON.to_owned()));
    }
    std::fs::create_dir_all(state_dir).map_err(|e| TwinError::io(state_dir, e))?;
    let state_dir = std::fs::canonicalize(state_dir).map_err(|e| TwinError::io(state_dir, e))?;

    say(&format!(
        "Starting MiniStack on 127.0.0.1:{} …",
        options.ministack_port
    ));
    let mut ministack_options = MiniStackOptions::new(python, options.ministack_port);
    ministack_options.state_dir = Some(state_dir.join("ministack"));
    // Lambda functions run as MiniStack's child processes and inherit this: they call back here.
    ministack_options.env.push((
        "AWS_ENDPOINT_URL".into(),
        format!("http://127.0.0.1:{}", options.ministack_port),
    ));
    let ministack =
        MiniStack::start(ministack_options).map_err(|e| TwinError::MiniStack(e.to_string()))?;

    say(&format!(
        "Starting argus-twin (Rekognition) on 127.0.0.1:{} …",
        options.rekognition_port
    ));
    let log = state_dir.join(REKOGNITION_LOG);
    let fixtures = options
        .fixtures
        .as_ref()
        .map(|f| options.project_dir.join(f));
    let rekognition = match spawn_rekognition(
        &options.rekognition_command,
        &log,
        options.rekognition_port,
        &ministack.endpoint_url(),
        &options.region,
        fixtures.as_deref(),
    ) {
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
            start_time: process::start_time(detached.pid),
            port: detached.port,
            log: detached.log,
        },
        rekognition,
        region: options.region.clone(),
    };
    state.save(&state_dir)?;
    Ok(UpOutcome {
        state,
        already_running: false,
    })
}

fn spawn_rekognition(
    command: &[String],
    log: &Path,
    port: u16,
    s3_endpoint: &str,
    region: &str,
    fixtures: Option<&Path>,
) -> Result<Component, TwinError> {
    use std::os::unix::process::CommandExt;
    let Some((program, leading)) = command.split_first() else {
        return Err(TwinError::Rekognition(
            "no command to run the Rekognition endpoint".into(),
        ));
    };
    let file = std::fs::File::create(log).map_err(|e| TwinError::io(log, e))?;
    let err = file.try_clone().map_err(|e| TwinError::io(log, e))?;
    let mut command = Command::new(program);
    command
        .args(leading)
        .args(["--port", &port.to_string(), "--s3-endpoint", s3_endpoint])
        .args(["--region", region, "--trail-bucket", TRAIL_BUCKET]);
    if let Some(fixtures) = fixtures {
        command.arg("--fixtures").arg(fixtures);
    }
    let child = command
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(|e| TwinError::Rekognition(format!("{program}: {e}")))?;
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if rekognition_healthy(port) {
            return Ok(Component {
                pid,
                start_time: process::start_time(pid),
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
    Err(TwinError::Rekognition(format!(
        "it did not answer on port {port}; its log ({}):\n{tail}",
        log.display()
    )))
}

/// Whether the process `component` records still is the one `up` started: its command line
/// contains `marker`, and its start time is the recorded one (when one was recorded).
fn is_ours(component: &Component, marker: &str) -> bool {
    process::command_line(component.pid).is_some_and(|c| c.contains(marker))
        && component
            .start_time
            .is_none_or(|recorded| process::start_time(component.pid) == Some(recorded))
}

/// Stops both processes of `state` (the Rekognition endpoint first), each only if its command
/// line and start time still show it is the process `up` started (a recycled PID is never
/// signalled). A process that is a child of this one is reaped, and the members of its process
/// group are waited for, so neither a zombie nor a listening socket is left behind.
fn stop_components(
    state: &TwinState,
    rekognition_command: &[String],
) -> Result<[StopOutcome; 2], TwinError> {
    let marker = rekognition_command
        .last()
        .map_or("argus-twin", String::as_str);
    let mut outcomes = [StopOutcome::AlreadyGone; 2];
    for (slot, (component, process_state, marker)) in [
        ("argus-twin", &state.rekognition, marker),
        ("MiniStack", &state.ministack, "ministack"),
    ]
    .into_iter()
    .enumerate()
    {
        if !is_ours(process_state, marker) {
            continue;
        }
        outcomes[slot] =
            process::stop_pid(process_state.pid, Duration::from_secs(10)).map_err(|e| {
                TwinError::Stop {
                    component,
                    pid: process_state.pid,
                    reason: e.to_string(),
                }
            })?;
    }
    Ok(outcomes)
}

/// Stops the twin recorded in `state_dir` and removes its state file. `Ok(None)`: it was not
/// running. The outcomes are the Rekognition endpoint's, then MiniStack's.
///
/// # Errors
/// [`TwinError::Stop`], [`TwinError::Io`], [`TwinError::DamagedState`].
pub fn down(
    state_dir: &Path,
    rekognition_command: &[String],
) -> Result<Option<(TwinState, [StopOutcome; 2])>, TwinError> {
    let Some(state) = TwinState::load(state_dir)? else {
        return Ok(None);
    };
    let outcomes = stop_components(&state, rekognition_command)?;
    let path = state_dir.join(STATE_FILE);
    std::fs::remove_file(&path).map_err(|e| TwinError::io(&path, e))?;
    Ok(Some((state, outcomes)))
}

/// The twin recorded in `state_dir` and its health; `Ok(None)`: not running.
///
/// # Errors
/// [`TwinError::Io`], [`TwinError::DamagedState`].
pub fn status(state_dir: &Path) -> Result<Option<(TwinState, Health)>, TwinError> {
    Ok(TwinState::load(state_dir)?.map(|state| {
        let health = state.health();
        (state, health)
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_missing_state_file_means_not_running_and_a_damaged_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        assert!(status(dir.path()).unwrap().is_none());
        assert!(down(dir.path(), &[]).unwrap().is_none());
        std::fs::write(dir.path().join(STATE_FILE), "{not json").unwrap();
        let err = TwinState::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("twin.json is damaged"), "{err}");
    }

    /// A `sleep 60` under a shell whose command line says `ministack`, leading its own process
    /// group, standing in for MiniStack.
    fn fake_ministack() -> std::process::Child {
        use std::os::unix::process::CommandExt;
        Command::new("sh")
            .args(["-c", "sleep 60; : ministack"])
            .process_group(0)
            .spawn()
            .unwrap()
    }

    fn write_state(dir: &Path, ministack: Component) {
        let state = TwinState {
            ministack,
            rekognition: Component {
                pid: u32::try_from(i32::MAX).unwrap(),
                start_time: None,
                port: 1,
                log: PathBuf::from("argus-twin.log"),
            },
            region: "us-east-1".into(),
        };
        state.save(dir).unwrap();
    }

    #[test]
    fn a_start_time_is_read_for_a_live_process() {
        let mut child = Command::new("sleep").arg("60").spawn().unwrap();
        assert!(process::start_time(child.id()).is_some());
        assert!(process::start_time(std::process::id()).is_some());
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(process::start_time(child.id()), None);
    }

    #[test]
    fn down_leaves_alone_a_pid_whose_start_time_differs() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = fake_ministack();
        let pid = child.id();
        let started = process::start_time(pid).unwrap();
        write_state(
            dir.path(),
            Component {
                pid,
                start_time: Some(started + 1),
                port: 1,
                log: PathBuf::from("ministack.log"),
            },
        );
        let (_, outcomes) = down(dir.path(), &["argus-twin".into()]).unwrap().unwrap();
        assert_eq!(outcomes, [StopOutcome::AlreadyGone; 2]);
        assert!(
            process::is_alive(pid),
            "a PID of another start time was signalled"
        );
        assert!(child.try_wait().unwrap().is_none());
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn down_stops_reaps_and_frees_the_port_of_what_up_recorded() {
        let dir = tempfile::tempdir().unwrap();
        // The group leader's child holds a listening socket, as MiniStack's server does.
        let port = process::free_port().unwrap();
        let listener = format!(
            "import socket, time; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', {port})); s.listen(); time.sleep(60)"
        );
        let python = crate::ministack::default_python();
        let python = if python.exists() {
            python.to_string_lossy().into_owned()
        } else {
            "python3".to_owned()
        };
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new("sh")
                .args([
                    "-c",
                    "\"$1\" -c \"$2\" & wait; : ministack",
                    "sh",
                    &python,
                    &listener,
                ])
                .process_group(0)
                .spawn()
                .unwrap()
        };
        let pid = child.id();
        let deadline = Instant::now() + Duration::from_secs(10);
        while process::ensure_port_free(port).is_ok() {
            assert!(Instant::now() < deadline, "the listener did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        write_state(
            dir.path(),
            Component {
                pid,
                start_time: process::start_time(pid),
                port,
                log: PathBuf::from("ministack.log"),
            },
        );
        let (_, outcomes) = down(dir.path(), &["argus-twin".into()]).unwrap().unwrap();
        assert_eq!(outcomes[1], StopOutcome::Terminated);
        // Reaped: not even a zombie is left (`/proc/<pid>` is gone).
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "{pid} is left as a zombie"
        );
        assert_eq!(process::group_members(pid), Vec::<u32>::new());
        process::ensure_port_free(port).unwrap();
        assert!(!dir.path().join(STATE_FILE).exists());
        drop(child);
    }

    #[test]
    fn a_state_file_without_start_times_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(STATE_FILE),
            r#"{"ministack": {"pid": 10, "port": 4566, "log": "m.log"},
                "rekognition": {"pid": 11, "port": 4599, "log": "r.log"},
                "region": "us-east-1"}"#,
        )
        .unwrap();
        let state = TwinState::load(dir.path()).unwrap().unwrap();
        assert_eq!(state.ministack.start_time, None);
        assert_eq!(state.rekognition.pid, 11);
    }

    #[test]
    fn the_environment_points_sdks_at_both_endpoints() {
        let component = |port| Component {
            pid: 1,
            start_time: None,
            port,
            log: PathBuf::from("x.log"),
        };
        let state = TwinState {
            ministack: component(4566),
            rekognition: component(4599),
            region: "eu-west-1".into(),
        };
        let env = state.environment();
        assert!(env.contains(&("AWS_ENDPOINT_URL".into(), "http://127.0.0.1:4566".into())));
        assert!(env.contains(&(
            "AWS_ENDPOINT_URL_REKOGNITION".into(),
            "http://127.0.0.1:4599".into()
        )));
        assert!(env.contains(&("AWS_REGION".into(), "eu-west-1".into())));
        assert!(env.contains(&(
            "AWS_ENDPOINT_URL_CLOUDTRAIL".into(),
            "http://127.0.0.1:4599".into()
        )));
    }
}
