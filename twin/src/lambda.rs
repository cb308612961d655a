//! A function's `bootstrap` run outside MiniStack, as Lambda runs it: a Lambda Runtime API on
//! 127.0.0.1 that hands out the events the caller chooses, and the function process with the
//! environment Lambda gives a `provided.al2023` function, optionally under a memory limit.
//!
//! Tests and benches use it to drive the real, bundled processor one invocation at a time and
//! to measure it (CPU time, peak RSS) without Lambda's own poller in the way.
//!
//! - Runtime API: <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>
//! - Environment: <https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime>
//! - Events: S3 notification records
//!   (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html>)
//!   delivered in SQS messages (<https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html>).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;

/// What can go wrong while running a function.
#[derive(Debug, thiserror::Error)]
pub enum FunctionError {
    /// A file, socket or process call failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The function process exited while something was awaited.
    #[error("bootstrap exited ({status}) while waiting for {what}; its log:\n{log}")]
    Exited {
        /// Exit status (a signal, e.g. SIGABRT on a failed allocation, shows here).
        status: ExitStatus,
        /// What was awaited.
        what: String,
        /// The last lines it logged.
        log: String,
    },
    /// Nothing arrived in time.
    #[error("no {what} within {limit:?}; the bootstrap's log:\n{log}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long it was awaited.
        limit: Duration,
        /// The last lines it logged.
        log: String,
    },
    /// The function did something else than what was awaited.
    #[error("expected {what}, got {got}; the bootstrap's log:\n{log}")]
    Unexpected {
        /// What was awaited.
        what: String,
        /// What happened instead.
        got: String,
        /// The last lines it logged.
        log: String,
    },
    /// The Runtime API was shut down.
    #[error("the Runtime API is shut down")]
    ApiStopped,
    /// `/proc/<pid>/…` did not hold what proc(5) describes.
    #[error("{path}: {what}")]
    Proc {
        /// The file read.
        path: String,
        /// What was missing.
        what: String,
    },
    /// A bundle without a `bootstrap`, or not a zip.
    #[error("{path}: {message}")]
    Bundle {
        /// The zip.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> FunctionError {
    let what = what.into();
    move |source| FunctionError::Io { what, source }
}

/// Milliseconds since the Unix epoch (Lambda's `Lambda-Runtime-Deadline-Ms` unit).
pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

// ---------------------------------------------------------------------------------------------
// Runtime API
// ---------------------------------------------------------------------------------------------

/// One event handed to the function on its next `GET /next`.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// The event, JSON.
    pub payload: String,
    /// `Lambda-Runtime-Deadline-Ms`: milliseconds since the Unix epoch.
    pub deadline_ms: u64,
}

/// What the function did on the Runtime API.
#[derive(Debug)]
pub enum Report {
    /// `GET /2018-06-01/runtime/invocation/next` arrived at this instant.
    Next(Instant),
    /// `POST /2018-06-01/runtime/invocation/<id>/response`.
    Response {
        /// The request ID.
        request_id: String,
        /// The response body.
        body: String,
    },
    /// `POST /2018-06-01/runtime/invocation/<id>/error`.
    Error {
        /// The request ID.
        request_id: String,
        /// The error document.
        body: String,
    },
    /// `POST /2018-06-01/runtime/init/error`.
    InitError {
        /// The error document.
        body: String,
    },
    /// A request the API does not know.
    Unknown {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
    },
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Report::Next(_) => write!(f, "GET /next"),
            Report::Response { request_id, body } => write!(f, "response of {request_id}: {body}"),
            Report::Error { request_id, body } => write!(f, "error of {request_id}: {body}"),
            Report::InitError { body } => write!(f, "init error: {body}"),
            Report::Unknown { method, path } => write!(f, "unknown request {method} {path}"),
        }
    }
}

struct HttpRequest {
    method: String,
    path: String,
    body: Vec<u8>,
}

/// The largest request body the Runtime API accepts (Lambda's response limit is 6 MB).
const MAX_BODY: usize = 16 << 20;

/// Reads one HTTP/1.1 request (Content-Length or chunked body); `None` at end of stream.
fn read_request(reader: &mut impl BufRead) -> std::io::Result<Option<HttpRequest>> {
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
        return Err(invalid("bad request line"));
    };
    let (method, path) = (method.to_owned(), path.to_owned());
    let (mut length, mut chunked) = (0usize, false);
    for _ in 0..200 {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(invalid("end of stream in the headers"));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().map_err(|_| invalid("bad Content-Length"))?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size_text = line.trim().split(';').next().unwrap_or_default();
            let size =
                usize::from_str_radix(size_text, 16).map_err(|_| invalid("bad chunk size"))?;
            if size == 0 {
                // Trailers, then the blank line.
                loop {
                    line.clear();
                    if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
                        break;
                    }
                }
                break;
            }
            if body.len() + size > MAX_BODY {
                return Err(invalid("body too large"));
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            line.clear();
            reader.read_line(&mut line)?; // CRLF after the chunk
        }
    } else {
        if length > MAX_BODY {
            return Err(invalid("body too large"));
        }
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    }
    Ok(Some(HttpRequest { method, path, body }))
}

fn write_response(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    stream.write_all(&out)?;
    stream.flush()
}

/// Serves one connection of the function until it closes.
fn serve_connection(
    stream: TcpStream,
    events: &Mutex<Receiver<Invocation>>,
    reports: &Sender<Report>,
    function_arn: &str,
) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(600)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    const PREFIX: &str = "/2018-06-01/runtime/";
    while let Some(request) = read_request(&mut reader)? {
        let at = Instant::now();
        let route = request.path.strip_prefix(PREFIX).unwrap_or_default();
        let text = || String::from_utf8_lossy(&request.body).into_owned();
        let accepted = br#"{"status":"OK"}"#;
        match (request.method.as_str(), route) {
            ("GET", "invocation/next") => {
                let _ = reports.send(Report::Next(at));
                // Blocks until the caller hands out an event; ends when the API shuts down.
                let next = match events.lock() {
                    Ok(receiver) => receiver.recv(),
                    Err(_) => return Ok(()),
                };
                let Ok(invocation) = next else {
                    return Ok(());
                };
                let deadline = invocation.deadline_ms.to_string();
                let trace = format!(
                    "Root=1-{:08x}-000000000000000000000000;Parent=0000000000000000;Sampled=0",
                    now_millis() / 1000
                );
                write_response(
                    &mut writer,
                    "200 OK",
                    &[
                        ("Lambda-Runtime-Aws-Request-Id", &invocation.request_id),
                        ("Lambda-Runtime-Deadline-Ms", &deadline),
                        ("Lambda-Runtime-Invoked-Function-Arn", function_arn),
                        ("Lambda-Runtime-Trace-Id", &trace),
                    ],
                    invocation.payload.as_bytes(),
                )?;
            }
            ("POST", "init/error") => {
                let _ = reports.send(Report::InitError { body: text() });
                write_response(&mut writer, "202 Accepted", &[], accepted)?;
            }
            ("POST", route) if route.starts_with("invocation/") => {
                let rest = route.trim_start_matches("invocation/");
                let report = if let Some(id) = rest.strip_suffix("/response") {
                    Report::Response {
                        request_id: id.to_owned(),
                        body: text(),
                    }
                } else if let Some(id) = rest.strip_suffix("/error") {
                    Report::Error {
                        request_id: id.to_owned(),
                        body: text(),
                    }
                } else {
                    Report::Unknown {
                        method: request.method.clone(),
                        path: request.path.clone(),
                    }
                };
                let _ = reports.send(report);
                write_response(&mut writer, "202 Accepted", &[], accepted)?;
            }
            _ => {
                let _ = reports.send(Report::Unknown {
                    method: request.method.clone(),
                    path: request.path.clone(),
                });
                write_response(&mut writer, "404 Not Found", &[], b"{}")?;
            }
        }
    }
    Ok(())
}

/// A Lambda Runtime API on 127.0.0.1: an accept thread, one thread per connection. Events are
/// handed out in the order [`RuntimeApi::invoke`] queues them; what the function answers comes
/// back through [`FunctionProcess::wait`]. Dropping it releases every waiting `/next`.
pub struct RuntimeApi {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    events: Option<Sender<Invocation>>,
    reports: Receiver<Report>,
    acceptor: Option<JoinHandle<()>>,
}

impl RuntimeApi {
    /// Starts the API on a port the kernel picks; `function_arn` is sent as
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    ///
    /// Errors: [`FunctionError::Io`] when the socket or thread cannot be made.
    pub fn start(function_arn: &str) -> Result<Self, FunctionError> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(io("bind the Runtime API"))?;
        let addr = listener
            .local_addr()
            .map_err(io("the Runtime API's address"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let (events_tx, events_rx) = mpsc::channel::<Invocation>();
        let events_rx = Arc::new(Mutex::new(events_rx));
        let (reports_tx, reports_rx) = mpsc::channel();
        let function_arn = Arc::new(function_arn.to_owned());
        let acceptor = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("runtime-api".into())
                .spawn(move || {
                    for stream in listener.incoming() {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let Ok(stream) = stream else { continue };
                        let (events, reports, arn) = (
                            Arc::clone(&events_rx),
                            reports_tx.clone(),
                            Arc::clone(&function_arn),
                        );
                        let _ = std::thread::Builder::new()
                            .name("runtime-api-conn".into())
                            .spawn(move || {
                                let _ = serve_connection(stream, &events, &reports, &arn);
                            });
                    }
                })
                .map_err(io("start the Runtime API thread"))?
        };
        Ok(RuntimeApi {
            addr,
            stop,
            events: Some(events_tx),
            reports: reports_rx,
            acceptor: Some(acceptor),
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    /// Queues `invocation` for the next `GET /next`.
    ///
    /// Errors: [`FunctionError::ApiStopped`].
    pub fn invoke(&self, invocation: Invocation) -> Result<(), FunctionError> {
        self.events
            .as_ref()
            .ok_or(FunctionError::ApiStopped)?
            .send(invocation)
            .map_err(|_| FunctionError::ApiStopped)
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Releases every connection thread waiting in `/next`.
        self.events = None;
        // Wakes the accept loop so it sees `stop`.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The function process
// ---------------------------------------------------------------------------------------------

/// A deployed function as Lambda's GetFunctionConfiguration describes it: what
/// [`FunctionProcess::spawn`] turns into the process's environment.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    /// `FunctionName`.
    pub name: String,
    /// `FunctionArn`.
    pub arn: String,
    /// `Version`, e.g. `$LATEST`.
    pub version: String,
    /// `MemorySize`, MiB.
    pub memory_mb: u32,
    /// `Timeout`, seconds.
    pub timeout_secs: u32,
    /// `LoggingConfig.LogGroup`.
    pub log_group: String,
    /// The function's Region.
    pub region: String,
    /// `Environment.Variables`.
    pub variables: BTreeMap<String, String>,
}

/// How to start a [`FunctionProcess`].
#[derive(Debug, Clone, Default)]
pub struct SpawnOptions {
    /// Variables set after Lambda's and the function's own (endpoints, overrides).
    pub overrides: Vec<(String, String)>,
    /// The process's address-space limit (`RLIMIT_AS`, setrlimit(2)) in bytes, set right after
    /// the start and before any event is handed out; `None` for no limit. Address space bounds
    /// resident memory from above, so a process that stays under it also stays under Lambda's
    /// `MemorySize` (which counts resident memory).
    pub address_space_limit: Option<u64>,
}

/// A running `bootstrap`, killed by its PID and reaped when dropped.
pub struct FunctionProcess {
    child: Child,
    log: PathBuf,
}

impl FunctionProcess {
    /// Starts `binary` with the environment Lambda gives a `provided.al2023` function, the
    /// function's own variables, then `options.overrides`; stdout and stderr go to `log`.
    /// Returns the process and the instant it was started.
    ///
    /// Errors: [`FunctionError::Io`] when the log cannot be created, the process cannot start
    /// or its limit cannot be set (the process is stopped then).
    pub fn spawn(
        binary: &Path,
        function: &FunctionConfig,
        runtime_api: &RuntimeApi,
        options: &SpawnOptions,
        log: PathBuf,
    ) -> Result<(Self, Instant), FunctionError> {
        let task_root = binary.parent().unwrap_or(Path::new("."));
        let mut command = Command::new(binary);
        command
            .env_clear()
            .current_dir(task_root)
            .env("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin")
            .env("LANG", "en_US.UTF-8")
            .env("TZ", ":UTC")
            .env("LAMBDA_TASK_ROOT", task_root)
            .env("LAMBDA_RUNTIME_DIR", task_root)
            .env("_HANDLER", "bootstrap")
            .env("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023")
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("AWS_LAMBDA_RUNTIME_API", runtime_api.host_port())
            .env("AWS_LAMBDA_FUNCTION_NAME", &function.name)
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                function.memory_mb.to_string(),
            )
            .env("AWS_LAMBDA_FUNCTION_VERSION", &function.version)
            .env("AWS_LAMBDA_LOG_GROUP_NAME", &function.log_group)
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                format!("2026/01/01/[$LATEST]argustwin{}", std::process::id()),
            )
            .env("AWS_REGION", &function.region)
            .env("AWS_DEFAULT_REGION", &function.region)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_SESSION_TOKEN", "test")
            .envs(&function.variables);
        for (name, value) in &options.overrides {
            command.env(name, value);
        }
        let out = std::fs::File::create(&log).map_err(io(format!("create {}", log.display())))?;
        let err = out.try_clone().map_err(io("clone the log file"))?;
        command.stdin(Stdio::null()).stdout(out).stderr(err);
        let started = Instant::now();
        let child = command
            .spawn()
            .map_err(io(format!("start {}", binary.display())))?;
        let process = FunctionProcess { child, log };
        if let Some(limit) = options.address_space_limit {
            process.set_address_space_limit(limit)?;
        }
        Ok((process, started))
    }

    fn set_address_space_limit(&self, bytes: u64) -> Result<(), FunctionError> {
        use rustix::process::{Pid, Resource, Rlimit, prlimit};
        let pid = i32::try_from(self.pid())
            .ok()
            .and_then(Pid::from_raw)
            .ok_or_else(|| FunctionError::Proc {
                path: format!("pid {}", self.pid()),
                what: "not a valid process ID".into(),
            })?;
        let limit = Rlimit {
            current: Some(bytes),
            maximum: Some(bytes),
        };
        prlimit(Some(pid), Resource::As, limit)
            .map(|_| ())
            .map_err(|e| FunctionError::Io {
                what: format!("set RLIMIT_AS of {pid:?} to {bytes} bytes"),
                source: e.into(),
            })
    }

    /// The process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last 20 lines the process logged.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// The exit status when the process has ended, `None` while it runs.
    ///
    /// Errors: [`FunctionError::Io`] from waitpid(2).
    pub fn exited(&mut self) -> Result<Option<ExitStatus>, FunctionError> {
        self.child.try_wait().map_err(io("wait for bootstrap"))
    }

    fn proc_file(&self, name: &str) -> Result<(String, String), FunctionError> {
        let path = format!("/proc/{}/{name}", self.pid());
        let text = std::fs::read_to_string(&path).map_err(io(format!("read {path}")))?;
        Ok((path, text))
    }

    /// utime + stime of the whole process (every thread, exited ones included), in clock ticks
    /// (`/proc/<pid>/stat` fields 14 and 15, proc(5); `getconf CLK_TCK` ticks a second).
    ///
    /// Errors: [`FunctionError::Io`], [`FunctionError::Proc`].
    pub fn cpu_ticks(&self) -> Result<u64, FunctionError> {
        let (path, stat) = self.proc_file("stat")?;
        let bad = |what: &str| FunctionError::Proc {
            path: path.clone(),
            what: what.to_owned(),
        };
        // Field 2 (comm) is in parentheses and may hold spaces; count from the last `)`.
        let rest = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .ok_or_else(|| bad("no `)` after the command name"))?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // fields[0] is field 3 (state).
        let field = |n: usize| -> Result<u64, FunctionError> {
            fields
                .get(n - 3)
                .and_then(|f| f.parse::<u64>().ok())
                .ok_or_else(|| bad(&format!("no numeric field {n}")))
        };
        Ok(field(14)? + field(15)?)
    }

    /// Peak resident set size in bytes since the start or the last
    /// [`FunctionProcess::reset_peak_rss`] (`VmHWM` in `/proc/<pid>/status`).
    ///
    /// Errors: [`FunctionError::Io`], [`FunctionError::Proc`].
    pub fn peak_rss_bytes(&self) -> Result<u64, FunctionError> {
        peak_rss_of(self.pid())
    }

    /// Resets the peak RSS to the current RSS (writes `5` to `/proc/<pid>/clear_refs`,
    /// proc(5), Linux 4.0+).
    ///
    /// Errors: [`FunctionError::Io`].
    pub fn reset_peak_rss(&self) -> Result<(), FunctionError> {
        let path = format!("/proc/{}/clear_refs", self.pid());
        std::fs::write(&path, "5").map_err(io(format!("write {path}")))
    }

    /// Waits for the next report of `api`.
    ///
    /// Errors: [`FunctionError::Exited`] when the process exits first, [`FunctionError::Timeout`]
    /// after `limit`, [`FunctionError::ApiStopped`].
    pub fn wait(
        &mut self,
        api: &RuntimeApi,
        limit: Duration,
        what: &str,
    ) -> Result<Report, FunctionError> {
        let deadline = Instant::now() + limit;
        loop {
            match api.reports.recv_timeout(Duration::from_millis(20)) {
                Ok(report) => return Ok(report),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err(FunctionError::ApiStopped),
            }
            if let Some(status) = self.exited()? {
                return Err(FunctionError::Exited {
                    status,
                    what: what.to_owned(),
                    log: self.log_tail(),
                });
            }
            if Instant::now() >= deadline {
                return Err(FunctionError::Timeout {
                    what: what.to_owned(),
                    limit,
                    log: self.log_tail(),
                });
            }
        }
    }

    /// Waits for the next `GET /next` and returns when it arrived.
    ///
    /// Errors: as [`FunctionProcess::wait`], and [`FunctionError::Unexpected`] for any other
    /// report.
    pub fn wait_next(
        &mut self,
        api: &RuntimeApi,
        limit: Duration,
    ) -> Result<Instant, FunctionError> {
        match self.wait(api, limit, "GET /next")? {
            Report::Next(at) => Ok(at),
            other => Err(FunctionError::Unexpected {
                what: "GET /next".into(),
                got: other.to_string(),
                log: self.log_tail(),
            }),
        }
    }

    /// Hands `invocation` to the function (which must be waiting in `/next`) and returns the
    /// body of its response.
    ///
    /// Errors: as [`FunctionProcess::wait`], and [`FunctionError::Unexpected`] when the function
    /// reports an error or answers another request.
    pub fn invoke(
        &mut self,
        api: &RuntimeApi,
        invocation: Invocation,
        limit: Duration,
    ) -> Result<String, FunctionError> {
        let request_id = invocation.request_id.clone();
        api.invoke(invocation)?;
        let what = format!("the response of {request_id}");
        match self.wait(api, limit, &what)? {
            Report::Response {
                request_id: id,
                body,
            } if id == request_id => Ok(body),
            other => Err(FunctionError::Unexpected {
                what,
                got: other.to_string(),
                log: self.log_tail(),
            }),
        }
    }
}

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Peak resident set size in bytes of process `pid` (`VmHWM` in `/proc/<pid>/status`, kB).
///
/// Errors: [`FunctionError::Io`] (no such process), [`FunctionError::Proc`].
pub fn peak_rss_of(pid: u32) -> Result<u64, FunctionError> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(io(format!("read {path}")))?;
    text.lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or(FunctionError::Proc {
            path,
            what: "no VmHWM line".into(),
        })
}

/// Extracts `bootstrap` from a function bundle (zip) into `dir` with mode 0755; returns its
/// path and size in bytes.
///
/// Errors: [`FunctionError::Bundle`] (not a zip, no `bootstrap`), [`FunctionError::Io`].
pub fn extract_bootstrap(zip_path: &Path, dir: &Path) -> Result<(PathBuf, u64), FunctionError> {
    use std::os::unix::fs::PermissionsExt;
    let bundle = |message: String| FunctionError::Bundle {
        path: zip_path.to_owned(),
        message,
    };
    let file = std::fs::File::open(zip_path).map_err(io(format!("open {}", zip_path.display())))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| bundle(e.to_string()))?;
    let mut entry = archive
        .by_name("bootstrap")
        .map_err(|e| bundle(format!("no bootstrap: {e}")))?;
    let mut bytes = Vec::new();
    entry
        .read_to_end(&mut bytes)
        .map_err(io(format!("read bootstrap from {}", zip_path.display())))?;
    let path = dir.join("bootstrap");
    std::fs::write(&path, &bytes).map_err(io(format!("write {}", path.display())))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .map_err(io(format!("chmod {}", path.display())))?;
    Ok((path, bytes.len() as u64))
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

/// One S3 object for an event: bucket, key, version ID (versioned buckets) and size in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// Bucket name.
    pub bucket: String,
    /// Object key (not URL-encoded; [`s3_notification`] encodes it as S3 does).
    pub key: String,
    /// The version S3 assigned, for a versioned bucket.
    pub version: Option<String>,
    /// Size in bytes.
    pub size: usize,
}

/// The S3 notification body (event version 2.1, `ObjectCreated:Put`) that a bucket sends to
/// an SQS queue for one upload. Keys are URL-encoded the way S3 encodes them (spaces as `+`).
pub fn s3_notification(region: &str, object: &ObjectRef) -> String {
    let key: String = url_encode_key(&object.key);
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": region,
        "eventTime": "2026-01-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "argus-twin"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"}, "responseElements": {},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "argus-twin",
            "bucket": {"name": object.bucket, "ownerIdentity": {"principalId": "argus-twin"},
                       "arn": format!("arn:aws:s3:::{}", object.bucket)},
            "object": {"key": key, "size": object.size, "versionId": object.version,
                       "sequencer": "01"}}
    }]})
    .to_string()
}

/// S3's form-encoding of a key in event notifications: unreserved characters and `/` as they
/// are, space as `+`, every other byte `%XX`.
fn url_encode_key(key: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const KEY: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'/')
        .remove(b' ');
    utf8_percent_encode(key, KEY).to_string().replace(' ', "+")
}

/// The SQS event an event source mapping delivers: one record per `(message ID, body)`, with
/// `ApproximateReceiveCount` 1.
pub fn sqs_event(region: &str, queue_arn: &str, messages: &[(String, String)]) -> String {
    let sent = now_millis().to_string();
    let records: Vec<serde_json::Value> = messages
        .iter()
        .map(|(message_id, body)| {
            json!({
                "messageId": message_id,
                "receiptHandle": format!("argus-twin-receipt-{message_id}"),
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1", "SentTimestamp": sent,
                    "SenderId": "000000000000", "ApproximateFirstReceiveTimestamp": sent
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region
            })
        })
        .collect();
    json!({ "Records": records }).to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_are_encoded_as_s3_encodes_them_in_notifications() {
        assert_eq!(
            url_encode_key("incoming/a b(1).png"),
            "incoming/a+b%281%29.png"
        );
        let body: serde_json::Value = serde_json::from_str(&s3_notification(
            "us-east-1",
            &ObjectRef {
                bucket: "b".into(),
                key: "k é".into(),
                version: Some("v1".into()),
                size: 3,
            },
        ))
        .unwrap();
        assert_eq!(body["Records"][0]["s3"]["object"]["key"], "k+%C3%A9");
        assert_eq!(body["Records"][0]["s3"]["object"]["versionId"], "v1");
    }

    #[test]
    fn an_sqs_event_holds_one_record_per_message() {
        let event: serde_json::Value = serde_json::from_str(&sqs_event(
            "us-east-1",
            "arn:aws:sqs:us-east-1:000000000000:q",
            &[("m1".into(), "a".into()), ("m2".into(), "b".into())],
        ))
        .unwrap();
        let records = event["Records"].as_array().unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1]["messageId"], "m2");
        assert_eq!(records[1]["body"], "b");
    }

    #[test]
    fn the_peak_rss_of_a_running_process_is_read_and_a_missing_one_is_an_error() {
        let pid = std::process::id();
        let peak = peak_rss_of(pid).unwrap();
        assert!(peak > 0);
        assert!(peak_rss_of(u32::MAX).is_err());
    }
}
