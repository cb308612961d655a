//! Launching MiniStack, the local twin's AWS emulator (PyPI `ministack`, pinned in
//! `requirements/twin.txt`, installed into `.venv/twin`).
//!
//! [`MiniStack::start`] runs `<python> -m ministack` on 127.0.0.1 with
//! `BIND_HOST=127.0.0.1`, `GATEWAY_PORT=<port>`, `IOT_MTLS_ENABLED=0` (no MQTT listener on
//! 8883), and its `STATE_DIR`, `S3_DATA_DIR` and `TMPDIR` inside a state folder (a temporary
//! folder unless given), in a process group of its own, with stdout and stderr in
//! `<state folder>/ministack.log`. It returns once `GET /_ministack/health` answers 200
//! (MiniStack's own health route, `ministack/app.py`, `_HEALTH_PATHS`).
//!
//! The handle stops the process on [`MiniStack::stop`] and on drop (SIGTERM, SIGKILL after
//! the stop timeout, then the rest of its process group). [`MiniStack::detach`] leaves it
//! running for `argus local up`; stop it later with [`crate::process::stop_pid`].

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::process::{
    ProcessError, StopOutcome, Watcher, ensure_port_free, stop_pid_with, watch_parent,
};

/// MiniStack's health route.
pub const HEALTH_PATH: &str = "/_ministack/health";

/// The log file name inside the state folder.
pub const LOG_FILE: &str = "ministack.log";

/// The twin's Python, relative to the workspace root.
pub const VENV_PYTHON: &str = ".venv/twin/bin/python";

/// `<workspace>/.venv/twin/bin/python` of the workspace this crate was built in.
pub fn default_python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(VENV_PYTHON)
}

/// How to start MiniStack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiniStackOptions {
    /// The virtualenv Python with `ministack` installed.
    pub python: PathBuf,
    /// TCP port on 127.0.0.1 (`GATEWAY_PORT`).
    pub port: u16,
    /// Where state, S3 data, temporary files and the log go; `None`: a new temporary folder,
    /// removed when the handle is stopped or dropped (kept by [`MiniStack::detach`]).
    pub state_dir: Option<PathBuf>,
    /// How long to wait for the health route (default 60 s).
    pub startup_timeout: Duration,
    /// How long SIGTERM is given before SIGKILL (default 10 s).
    pub stop_timeout: Duration,
    /// Extra environment variables (e.g. `LOG_LEVEL`).
    pub env: Vec<(String, String)>,
    /// Stop MiniStack's process group when this process exits, however it exits (a panic that
    /// aborts, SIGKILL, a test harness that never drops the handle): a watcher
    /// ([`crate::process::watch_parent`]) is started next to it. For tests and benches; `false`
    /// by default, and [`MiniStack::detach`] keeps the watcher when it is on.
    pub stop_with_parent: bool,
}

impl MiniStackOptions {
    /// Options with the default timeouts, a temporary state folder and no extra environment.
    pub fn new(python: impl Into<PathBuf>, port: u16) -> Self {
        MiniStackOptions {
            python: python.into(),
            port,
            state_dir: None,
            startup_timeout: Duration::from_secs(60),
            stop_timeout: Duration::from_secs(10),
            env: Vec::new(),
            stop_with_parent: false,
        }
    }
}

/// Why MiniStack could not be started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum MiniStackError {
    /// The port on 127.0.0.1 is taken (nothing was started).
    #[error(
        "cannot start MiniStack: port {port} on 127.0.0.1 is already in use (another MiniStack, \
         or another program); stop it or choose another port"
    )]
    PortInUse {
        /// The port.
        port: u16,
    },
    /// The Python interpreter does not exist.
    #[error(
        "cannot start MiniStack: {} does not exist; install the twin's virtualenv \
         (python3 -m venv .venv/twin && .venv/twin/bin/pip install -r requirements/twin.txt)",
        .python.display()
    )]
    PythonNotFound {
        /// The path.
        python: PathBuf,
    },
    /// The state folder or log file could not be created.
    #[error("cannot prepare MiniStack's state folder {}: {source}", .path.display())]
    StateDir {
        /// The folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The process could not be spawned.
    #[error("cannot run {} -m ministack: {source}", .python.display())]
    Spawn {
        /// The interpreter.
        python: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The process exited before answering.
    #[error("MiniStack exited ({status}) before it answered on port {port}; log {}:\n{log_tail}", .log.display())]
    ExitedEarly {
        /// Its exit status.
        status: ExitStatus,
        /// The port.
        port: u16,
        /// The log file.
        log: PathBuf,
        /// The last lines of the log.
        log_tail: String,
    },
    /// The health route did not answer in time (the process was stopped).
    #[error("MiniStack did not answer {HEALTH_PATH} on port {port} within {timeout:?}; log {}:\n{log_tail}", .log.display())]
    NotHealthy {
        /// The port.
        port: u16,
        /// The wait.
        timeout: Duration,
        /// The log file.
        log: PathBuf,
        /// The last lines of the log.
        log_tail: String,
    },
    /// The watcher of [`MiniStackOptions::stop_with_parent`] could not be started (MiniStack
    /// was stopped).
    #[error("cannot watch MiniStack (PID {pid}) to stop it with this process: {source}")]
    Watch {
        /// MiniStack's PID.
        pid: u32,
        /// The cause.
        source: ProcessError,
    },
    /// Stopping failed.
    #[error("cannot stop MiniStack (PID {pid}): {source}")]
    Stop {
        /// The PID.
        pid: u32,
        /// The cause.
        source: ProcessError,
    },
}

enum StateDir {
    Temp(tempfile::TempDir),
    Given(PathBuf),
}

impl StateDir {
    fn path(&self) -> &Path {
        match self {
            StateDir::Temp(t) => t.path(),
            StateDir::Given(p) => p,
        }
    }
}

/// A running MiniStack started by this process.
pub struct MiniStack {
    child: Option<Child>,
    pid: u32,
    port: u16,
    state: Option<StateDir>,
    stop_timeout: Duration,
    watcher: Option<Watcher>,
}

impl std::fmt::Debug for MiniStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniStack")
            .field("pid", &self.pid)
            .field("port", &self.port)
            .field("state_dir", &self.state.as_ref().map(StateDir::path))
            .finish()
    }
}

/// What [`MiniStack::detach`] leaves behind: a running process to stop later by PID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetachedMiniStack {
    /// The process ID (also its process group ID).
    pub pid: u32,
    /// The port on 127.0.0.1.
    pub port: u16,
    /// The state folder (not removed).
    pub state_dir: PathBuf,
    /// The log file.
    pub log: PathBuf,
}

/// Whether `GET http://127.0.0.1:<port>/_ministack/health` answers 200 within `timeout`.
pub fn probe_health(port: u16, timeout: Duration) -> bool {
    crate::process::answers_ok(port, HEALTH_PATH, timeout)
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

impl MiniStack {
    /// Starts MiniStack and waits until its health route answers.
    ///
    /// Errors: [`MiniStackError::PortInUse`] (checked before spawning),
    /// [`MiniStackError::PythonNotFound`], [`MiniStackError::StateDir`],
    /// [`MiniStackError::Spawn`], [`MiniStackError::ExitedEarly`] and
    /// [`MiniStackError::NotHealthy`] (both with the end of the log; the process is stopped).
    pub fn start(options: MiniStackOptions) -> Result<MiniStack, MiniStackError> {
        let port = options.port;
        match ensure_port_free(port) {
            Ok(()) => {}
            Err(ProcessError::PortInUse { .. }) => return Err(MiniStackError::PortInUse { port }),
            Err(ProcessError::Io { source, .. }) => {
                return Err(MiniStackError::Spawn {
                    python: options.python,
                    source,
                });
            }
            Err(other) => {
                return Err(MiniStackError::Spawn {
                    python: options.python,
                    source: std::io::Error::other(other.to_string()),
                });
            }
        }
        if !options.python.exists() {
            return Err(MiniStackError::PythonNotFound {
                python: options.python,
            });
        }
        let state = match &options.state_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|source| MiniStackError::StateDir {
                    path: dir.clone(),
                    source,
                })?;
                StateDir::Given(dir.clone())
            }
            None => StateDir::Temp(
                tempfile::Builder::new()
                    .prefix("argus-ministack-")
                    .tempdir()
                    .map_err(|source| MiniStackError::StateDir {
                        path: std::env::temp_dir(),
                        source,
                    })?,
            ),
        };
        let root = state.path().to_path_buf();
        let state_err = |path: PathBuf| move |source| MiniStackError::StateDir { path, source };
        for sub in ["state", "s3", "tmp"] {
            std::fs::create_dir_all(root.join(sub)).map_err(state_err(root.join(sub)))?;
        }
        let log = root.join(LOG_FILE);
        let stdout = File::create(&log).map_err(state_err(log.clone()))?;
        let stderr = stdout.try_clone().map_err(state_err(log.clone()))?;

        let mut command = Command::new(&options.python);
        command
            .args(["-m", "ministack"])
            .current_dir(&root)
            .env("BIND_HOST", "127.0.0.1")
            .env("GATEWAY_PORT", port.to_string())
            .env("IOT_MTLS_ENABLED", "0")
            .env("STATE_DIR", root.join("state"))
            .env("S3_DATA_DIR", root.join("s3"))
            .env("TMPDIR", root.join("tmp"))
            .env("PYTHONUNBUFFERED", "1")
            .env_remove("PERSIST_STATE")
            .env_remove("S3_PERSIST")
            .env_remove("LOCALSTACK_PERSISTENCE")
            .envs(options.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .process_group(0);
        let child = command.spawn().map_err(|source| MiniStackError::Spawn {
            python: options.python.clone(),
            source,
        })?;
        let mut ministack = MiniStack {
            pid: child.id(),
            child: Some(child),
            port,
            state: Some(state),
            stop_timeout: options.stop_timeout,
            watcher: None,
        };
        if options.stop_with_parent {
            match watch_parent(ministack.pid, std::process::id()) {
                Ok(watcher) => ministack.watcher = Some(watcher),
                Err(source) => {
                    let pid = ministack.pid;
                    let _ = ministack.stop_inner();
                    return Err(MiniStackError::Watch { pid, source });
                }
            }
        }
        tracing::info!(pid = ministack.pid, port, state_dir = %root.display(), "MiniStack starting");

        let deadline = Instant::now() + options.startup_timeout;
        loop {
            if let Some(status) = ministack.try_exit_status() {
                return Err(MiniStackError::ExitedEarly {
                    status,
                    port,
                    log_tail: log_tail(&log),
                    log,
                });
            }
            if probe_health(port, Duration::from_secs(2)) {
                tracing::info!(pid = ministack.pid, port, "MiniStack healthy");
                return Ok(ministack);
            }
            if Instant::now() >= deadline {
                let tail = log_tail(&log);
                let _ = ministack.stop_inner();
                return Err(MiniStackError::NotHealthy {
                    port,
                    timeout: options.startup_timeout,
                    log,
                    log_tail: tail,
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn try_exit_status(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// The process ID (also its process group ID).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`: the value for `AWS_ENDPOINT_URL`.
    pub fn endpoint_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The state folder (state, S3 data, temporary files, log).
    pub fn state_dir(&self) -> Option<&Path> {
        self.state.as_ref().map(StateDir::path)
    }

    /// The log file (MiniStack's stdout and stderr).
    pub fn log_path(&self) -> Option<PathBuf> {
        self.state_dir().map(|d| d.join(LOG_FILE))
    }

    /// Whether the health route answers 200 now.
    pub fn is_healthy(&self) -> bool {
        probe_health(self.port, Duration::from_secs(2))
    }

    fn stop_inner(&mut self) -> Result<StopOutcome, MiniStackError> {
        if let Some(watcher) = self.watcher.take() {
            // Stopped here; the watcher is not needed any more.
            let _ = watcher.cancel();
        }
        let Some(mut child) = self.child.take() else {
            return Ok(StopOutcome::AlreadyGone);
        };
        let pid = self.pid;
        let result = stop_pid_with(pid, self.stop_timeout, || {
            matches!(child.try_wait(), Ok(Some(_)) | Err(_))
        });
        // Dropping the state removes a temporary folder.
        self.state = None;
        match &result {
            Ok(outcome) => tracing::info!(pid, ?outcome, "MiniStack stopped"),
            Err(e) => tracing::warn!(pid, error = %e, "MiniStack did not stop"),
        }
        result.map_err(|source| MiniStackError::Stop { pid, source })
    }

    /// Stops MiniStack (SIGTERM, SIGKILL after the stop timeout, then its process group) and
    /// removes a temporary state folder.
    ///
    /// Errors: [`MiniStackError::Stop`].
    pub fn stop(mut self) -> Result<StopOutcome, MiniStackError> {
        self.stop_inner()
    }

    /// Leaves MiniStack running and keeps its state folder, returning what is needed to stop
    /// it later with [`crate::process::stop_pid`]. A watcher
    /// ([`MiniStackOptions::stop_with_parent`]) keeps watching.
    pub fn detach(mut self) -> DetachedMiniStack {
        // Dropping a `Child` neither waits for nor kills the process.
        self.child = None;
        self.watcher = None;
        let state_dir = match self.state.take() {
            Some(StateDir::Temp(t)) => t.keep(),
            Some(StateDir::Given(p)) => p,
            None => PathBuf::new(),
        };
        DetachedMiniStack {
            pid: self.pid,
            port: self.port,
            log: state_dir.join(LOG_FILE),
            state_dir,
        }
    }
}

impl Drop for MiniStack {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.stop_inner();
        }
    }
}
