//! `make bench` (processor): the processor Lambda's bundle size, cold start and CPU time per image.
//!
//! 1. Builds the local stage's bundle with `argus bundle --stage local` (cargo-lambda, release
//!    profile; incremental when nothing changed) and prints the zip's size and the size of the
//!    `bootstrap` inside it.
//! 2. Starts the local twin (`argus local up` on free loopback ports, a config copy pointing
//!    `analysis.rekognition_endpoint` at the free argus-twin port, `argus bootstrap` and
//!    `argus deploy --stage local`), reads the deployed function's configuration (its environment
//!    is what the stack gives the function) and disables the stack's event source mapping, so the
//!    copy of the function inside MiniStack never touches the bench's images.
//! 3. Cold start: runs the real `bootstrap`, extracted from the zip, with the environment Lambda
//!    and the stack give it (every endpoint pointing at a closed loopback port) against a Lambda
//!    Runtime API that this bench serves on 127.0.0.1, and measures process start to its first
//!    `GET /2018-06-01/runtime/invocation/next`.
//! 4. CPU per image: uploads the sample images (several rounds) to the input bucket, runs the
//!    `bootstrap` on the twin (MiniStack for S3, DynamoDB and SNS; argus-twin for Rekognition)
//!    and hands it one SQS event per image through the bench's Runtime API, one at a time. Each
//!    response must have no batchItemFailures and each image must end as a PROCESSED record
//!    claimed by this bench's invocation. CPU is utime+stime of the process from
//!    `/proc/<pid>/stat`, read while it waits on `/next` after the first (cold) and after the
//!    last invocation.
//!
//! Prints one figure per line. `ARGUS_BENCH_ROUNDS` sets the rounds of sample uploads
//! (default 4, 1 to 20). The twin is stopped by `argus local down` and every process the bench
//! starts is stopped by its PID, on failure too.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, anyhow, bail, ensure};
use argus_stacks::config::StageConfig;
use serde_json::{Value, json};

/// Measured cold starts (after one warm-up run that is not counted).
const COLD_RUNS: usize = 21;
/// The stage the bench deploys on the twin.
const STAGE: &str = "local";
/// Request IDs of the bench's invocations start with this (the processor's claim token is
/// `<request id>/<message id>`).
const REQUEST_PREFIX: &str = "argus-bench-";
/// Longest wait for the bootstrap's first `/next` poll.
const INIT_LIMIT: Duration = Duration::from_secs(15);
/// Longest wait for one invocation's response.
const INVOKE_LIMIT: Duration = Duration::from_secs(90);

/// The repository root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

/// `argus` (the bench's own build of the CLI), run from the repository root.
fn argus() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_argus"));
    command.current_dir(root()).stdin(Stdio::null());
    command
}

/// A free TCP port on 127.0.0.1 (see [`argus_twin::process::free_port`]).
fn free_port() -> anyhow::Result<u16> {
    Ok(argus_twin::process::free_port()?)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

// ---------------------------------------------------------------------------------------------
// A minimal Lambda Runtime API (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html)
// ---------------------------------------------------------------------------------------------

/// One event handed to the function on its next `/next` poll.
struct Invocation {
    request_id: String,
    payload: String,
    deadline_ms: u64,
}

/// What the function did on the Runtime API, with the time it was seen.
enum Report {
    /// `GET /2018-06-01/runtime/invocation/next` arrived.
    Next(Instant),
    /// `POST /2018-06-01/runtime/invocation/<id>/response`.
    Response { request_id: String, body: String },
    /// `POST /2018-06-01/runtime/invocation/<id>/error`.
    Error { request_id: String, body: String },
    /// `POST /2018-06-01/runtime/init/error`.
    InitError { body: String },
    /// A request the API does not know.
    Unknown { method: String, path: String },
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

/// The largest request body the bench's Runtime API accepts (Lambda's response limit is 6 MB).
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
                // Blocks until the bench hands out an event; ends when the API shuts down.
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

/// The bench's Runtime API on 127.0.0.1: an accept thread, one thread per connection.
struct RuntimeApi {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    events: Option<Sender<Invocation>>,
    reports: Receiver<Report>,
    acceptor: Option<JoinHandle<()>>,
}

impl RuntimeApi {
    fn start(function_arn: &str) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
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
                })?
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
    fn host_port(&self) -> String {
        self.addr.to_string()
    }

    fn invoke(&self, invocation: Invocation) -> anyhow::Result<()> {
        self.events
            .as_ref()
            .ok_or_else(|| anyhow!("the Runtime API is shut down"))?
            .send(invocation)
            .map_err(|_| anyhow!("the Runtime API is shut down"))
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
// The bootstrap process
// ---------------------------------------------------------------------------------------------

/// The deployed function as Lambda describes it.
struct Function {
    name: String,
    arn: String,
    version: String,
    memory_mb: i32,
    timeout_secs: i32,
    log_group: String,
    region: String,
    /// `Environment.Variables`: what the stack sets (the `ARGUS_*` settings and the
    /// Rekognition endpoint of the local stage).
    variables: BTreeMap<String, String>,
}

/// A running `bootstrap`, killed by its PID when dropped.
struct Bootstrap {
    child: Child,
    log: PathBuf,
}

impl Bootstrap {
    /// Starts `binary` with the environment Lambda gives a `provided.al2023` function, the
    /// function's own variables, then `overrides`.
    fn spawn(
        binary: &Path,
        function: &Function,
        runtime_api: &str,
        overrides: &[(&str, String)],
        log: PathBuf,
    ) -> anyhow::Result<(Self, Instant)> {
        let task_root = binary
            .parent()
            .ok_or_else(|| anyhow!("{} has no folder", binary.display()))?;
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
            .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
            .env("AWS_LAMBDA_FUNCTION_NAME", &function.name)
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                function.memory_mb.to_string(),
            )
            .env("AWS_LAMBDA_FUNCTION_VERSION", &function.version)
            .env("AWS_LAMBDA_LOG_GROUP_NAME", &function.log_group)
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                format!("2026/01/01/[$LATEST]argusbench{}", std::process::id()),
            )
            .env("AWS_REGION", &function.region)
            .env("AWS_DEFAULT_REGION", &function.region)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_SESSION_TOKEN", "test")
            .envs(&function.variables);
        for (name, value) in overrides {
            command.env(name, value);
        }
        let out = std::fs::File::create(&log)?;
        command
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        let started = Instant::now();
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        Ok((Bootstrap { child, log }, started))
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last lines the process logged.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// utime + stime of the whole process (every thread, exited ones included), in clock ticks
    /// (`/proc/<pid>/stat` fields 14 and 15, proc(5)).
    fn cpu_ticks(&self) -> anyhow::Result<u64> {
        let path = format!("/proc/{}/stat", self.pid());
        let stat = std::fs::read_to_string(&path).with_context(|| format!("read {path}"))?;
        // Field 2 (comm) is in parentheses and may hold spaces; count from the last `)`.
        let rest = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .ok_or_else(|| anyhow!("{path}: unexpected content"))?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| -> anyhow::Result<u64> {
            // fields[0] is field 3 (state).
            fields
                .get(n - 3)
                .ok_or_else(|| anyhow!("{path}: no field {n}"))?
                .parse::<u64>()
                .with_context(|| format!("{path}: field {n}"))
        };
        Ok(field(14)? + field(15)?)
    }

    /// Waits for the next report of the Runtime API; fails when the process exits first or
    /// `limit` passes.
    fn wait(&mut self, api: &RuntimeApi, limit: Duration, what: &str) -> anyhow::Result<Report> {
        let deadline = Instant::now() + limit;
        loop {
            match api.reports.recv_timeout(Duration::from_millis(20)) {
                Ok(report) => return Ok(report),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => bail!("the Runtime API stopped"),
            }
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "bootstrap exited ({status}) while the bench waited for {what}; its log:\n{}",
                    self.log_tail()
                );
            }
            if Instant::now() >= deadline {
                bail!(
                    "no {what} within {limit:?}; the bootstrap's log:\n{}",
                    self.log_tail()
                );
            }
        }
    }

    /// Waits for the next `GET /next` poll.
    fn wait_next(&mut self, api: &RuntimeApi, limit: Duration) -> anyhow::Result<Instant> {
        match self.wait(api, limit, "GET /next")? {
            Report::Next(at) => Ok(at),
            other => bail!(
                "expected GET /next, got {other}; the bootstrap's log:\n{}",
                self.log_tail()
            ),
        }
    }
}

impl Drop for Bootstrap {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// The twin
// ---------------------------------------------------------------------------------------------

/// The local twin with the `local` stage deployed; `argus local down` when dropped.
struct Twin {
    state_dir: tempfile::TempDir,
    config_dir: tempfile::TempDir,
    out_dir: tempfile::TempDir,
    endpoint: String,
    rekognition: String,
}

impl Drop for Twin {
    fn drop(&mut self) {
        let result = argus()
            .args(["local", "down", "--state-dir"])
            .arg(self.state_dir.path())
            .output();
        match result {
            Ok(o) if o.status.success() => {}
            Ok(o) => eprintln!(
                "argus local down failed:\n{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => eprintln!("cannot run argus local down: {e}"),
        }
    }
}

impl Twin {
    /// Runs `argus <args> --config-dir <copy> --out <out>`, on the twin's endpoint when `on_twin`.
    fn argus(&self, args: &[&str], on_twin: bool) -> anyhow::Result<String> {
        let mut command = argus();
        if on_twin {
            // The twin's endpoint and test credentials; nothing from the user's AWS setup.
            command
                .env("AWS_ENDPOINT_URL", &self.endpoint)
                .env("AWS_ACCESS_KEY_ID", "test")
                .env("AWS_SECRET_ACCESS_KEY", "test")
                .env_remove("AWS_REGION")
                .env_remove("AWS_DEFAULT_REGION")
                .env_remove("AWS_PROFILE")
                .env("AWS_CONFIG_FILE", "/dev/null")
                .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
        }
        let o = command
            .args(args)
            .arg("--config-dir")
            .arg(self.config_dir.path())
            .arg("--out")
            .arg(self.out_dir.path())
            .output()
            .with_context(|| format!("cannot run argus {args:?}"))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        ensure!(o.status.success(), "argus {args:?} failed:\n{text}");
        Ok(text)
    }

    /// Starts the twin on free ports and deploys the local stage with the bundles in the folder
    /// of `bundle` (the processor's zip) as its assets; returns the twin and the stack outputs.
    fn start(bundle: &Path) -> anyhow::Result<(Self, Value)> {
        let (ministack_port, rekognition_port) = (free_port()?, free_port()?);
        let rekognition = format!("http://127.0.0.1:{rekognition_port}");
        let config_dir = tempfile::tempdir()?;
        for entry in std::fs::read_dir(root().join("stacks/config"))? {
            let path = entry?.path();
            if let Some(name) = path.file_name() {
                std::fs::copy(&path, config_dir.path().join(name))?;
            }
        }
        let local = config_dir.path().join(format!("{STAGE}.toml"));
        let mut table: toml::Table = std::fs::read_to_string(&local)?.parse()?;
        let analysis = table
            .get_mut("analysis")
            .and_then(toml::Value::as_table_mut)
            .ok_or_else(|| anyhow!("{}: no [analysis] table", local.display()))?;
        analysis.insert(
            "rekognition_endpoint".into(),
            toml::Value::String(rekognition.clone()),
        );
        std::fs::write(&local, toml::to_string(&table)?)?;

        let out_dir = tempfile::tempdir()?;
        let assets = out_dir.path().join("assets");
        std::fs::create_dir_all(&assets)?;
        // Every function's bundle (the stack deploys them all), not only the processor's.
        let bundles = bundle
            .parent()
            .ok_or_else(|| anyhow!("{} has no folder", bundle.display()))?;
        for entry in std::fs::read_dir(bundles)? {
            let path = entry?.path();
            if let Some(name) = path
                .file_name()
                .filter(|n| n.to_string_lossy().ends_with(".zip"))
            {
                std::fs::copy(&path, assets.join(name))?;
            }
        }

        let twin = Twin {
            state_dir: tempfile::tempdir()?,
            config_dir,
            out_dir,
            endpoint: format!("http://127.0.0.1:{ministack_port}"),
            rekognition,
        };
        let state_dir = twin.state_dir.path().to_string_lossy().into_owned();
        let (m, r) = (ministack_port.to_string(), rekognition_port.to_string());
        twin.argus(
            &[
                "local",
                "up",
                "--state-dir",
                &state_dir,
                "--ministack-port",
                &m,
                "--rekognition-port",
                &r,
            ],
            false,
        )?;
        twin.argus(&["bootstrap", "--stage", STAGE], true)?;
        let outputs_file = twin.out_dir.path().join("outputs.json");
        twin.argus(
            &[
                "deploy",
                "--stage",
                STAGE,
                "--require-approval",
                "never",
                "--outputs-file",
                &outputs_file.to_string_lossy(),
            ],
            true,
        )?;
        let outputs: Value = serde_json::from_str(&std::fs::read_to_string(&outputs_file)?)?;
        Ok((twin, outputs))
    }
}

// ---------------------------------------------------------------------------------------------
// The bench
// ---------------------------------------------------------------------------------------------

/// Builds the local stage's bundle with `argus bundle` into the bench's own folder (so it never
/// races the tests' copy) and returns the zip.
fn build_bundle() -> anyhow::Result<PathBuf> {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("argus-bench-bundle");
    // No zip of an earlier run is left to deploy.
    match std::fs::remove_dir_all(out.join("assets")) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    let o = argus()
        .args(["bundle", "--stage", STAGE, "--out"])
        .arg(&out)
        .output()
        .context("cannot run argus bundle")?;
    ensure!(
        o.status.success(),
        "argus bundle failed (is cargo-lambda installed? `make bundle-tools`):\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let mut zips: Vec<PathBuf> = std::fs::read_dir(out.join("assets"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("processor-") && n.ends_with(".zip"))
        })
        .collect();
    ensure!(
        zips.len() == 1,
        "expected one processor-*.zip in {}, found {zips:?}",
        out.join("assets").display()
    );
    zips.pop().ok_or_else(|| anyhow!("no zip"))
}

/// Extracts `bootstrap` from the zip into `dir` with mode 0755; returns its path and size.
fn extract_bootstrap(zip_path: &Path, dir: &Path) -> anyhow::Result<(PathBuf, u64)> {
    use std::os::unix::fs::PermissionsExt;
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip_path)?)?;
    let mut entry = archive.by_name("bootstrap")?;
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes)?;
    let path = dir.join("bootstrap");
    std::fs::write(&path, &bytes)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    Ok((path, bytes.len() as u64))
}

/// The S3 notification body that the input bucket sends to the ingest queue for one upload
/// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
fn s3_notification(
    region: &str,
    bucket: &str,
    key: &str,
    version: Option<&str>,
    size: usize,
) -> String {
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": region,
        "eventTime": "2026-01-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "argus-bench"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"}, "responseElements": {},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "argus-bench",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "argus-bench"},
                       "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": key, "size": size, "versionId": version, "sequencer": "01"}}
    }]})
    .to_string()
}

/// The SQS event Lambda's event source mapping delivers: one message holding `body`.
fn sqs_event(region: &str, queue_arn: &str, message_id: &str, body: &str) -> String {
    let sent = now_millis().to_string();
    json!({"Records": [{
        "messageId": message_id,
        "receiptHandle": format!("argus-bench-receipt-{message_id}"),
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
    }]})
    .to_string()
}

/// One uploaded image.
struct Upload {
    key: String,
    version: Option<String>,
    size: usize,
}

struct Clients {
    runtime: tokio::runtime::Runtime,
    s3: aws_sdk_s3::Client,
    lambda: aws_sdk_lambda::Client,
    dynamodb: aws_sdk_dynamodb::Client,
}

impl Clients {
    fn new(endpoint: &str, region: &str) -> anyhow::Result<Self> {
        let creds = aws_sdk_s3::config::Credentials::new("test", "test", None, None, "bench");
        let sdk = aws_config::SdkConfig::builder()
            .endpoint_url(endpoint)
            .region(aws_config::Region::new(region.to_owned()))
            .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(creds))
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        Ok(Clients {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&sdk)
                    .force_path_style(true)
                    .build(),
            ),
            lambda: aws_sdk_lambda::Client::new(&sdk),
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
        })
    }

    /// The deployed function's configuration.
    fn function(&self, name: &str, region: &str) -> anyhow::Result<Function> {
        let c = self
            .runtime
            .block_on(
                self.lambda
                    .get_function_configuration()
                    .function_name(name)
                    .send(),
            )
            .context("Lambda GetFunctionConfiguration")?;
        let variables: BTreeMap<String, String> = c
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        ensure!(
            variables.keys().any(|k| k.starts_with("ARGUS_")),
            "function {name} has no ARGUS_* variables: {variables:?}"
        );
        Ok(Function {
            name: c.function_name().unwrap_or(name).to_owned(),
            arn: c
                .function_arn()
                .ok_or_else(|| anyhow!("function {name} has no ARN"))?
                .to_owned(),
            version: c.version().unwrap_or("$LATEST").to_owned(),
            memory_mb: c.memory_size().unwrap_or(128),
            timeout_secs: c.timeout().unwrap_or(3),
            log_group: c
                .logging_config()
                .and_then(|l| l.log_group())
                .map_or_else(|| format!("/aws/lambda/{name}"), str::to_owned),
            region: region.to_owned(),
            variables,
        })
    }

    /// Disables every event source mapping of the function; returns their source ARNs.
    fn disable_mappings(&self, function: &str) -> anyhow::Result<Vec<String>> {
        self.runtime.block_on(async {
            let list = self
                .lambda
                .list_event_source_mappings()
                .function_name(function)
                .send()
                .await
                .context("Lambda ListEventSourceMappings")?;
            let mut sources = Vec::new();
            for mapping in list.event_source_mappings() {
                let uuid = mapping
                    .uuid()
                    .ok_or_else(|| anyhow!("an event source mapping without UUID"))?;
                let updated = self
                    .lambda
                    .update_event_source_mapping()
                    .uuid(uuid)
                    .enabled(false)
                    .send()
                    .await
                    .context("Lambda UpdateEventSourceMapping")?;
                ensure!(
                    updated.state() == Some("Disabled"),
                    "event source mapping {uuid} is {:?} after disabling",
                    updated.state()
                );
                sources.extend(mapping.event_source_arn().map(str::to_owned));
            }
            Ok(sources)
        })
    }

    fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> anyhow::Result<Option<String>> {
        let out = self
            .runtime
            .block_on(
                self.s3
                    .put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(body.into())
                    .send(),
            )
            .with_context(|| format!("S3 PutObject {bucket}/{key}"))?;
        Ok(out.version_id().map(str::to_owned))
    }

    /// Every results item whose objectKey starts with `prefix`, as JSON.
    fn records(&self, table: &str, prefix: &str) -> anyhow::Result<Vec<Value>> {
        self.runtime.block_on(async {
            let mut records = Vec::new();
            let mut start = None;
            for _ in 0..1000 {
                let page = self
                    .dynamodb
                    .scan()
                    .table_name(table)
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .context("DynamoDB Scan")?;
                for item in page.items() {
                    let key = item.get("objectKey").and_then(|v| v.as_s().ok());
                    if key.is_some_and(|k| k.starts_with(prefix)) {
                        records.push(serde_dynamo::from_item(item.clone())?);
                    }
                }
                start = page.last_evaluated_key().cloned();
                if start.is_none() {
                    break;
                }
            }
            Ok(records)
        })
    }
}

/// The sample images: every JPEG and PNG in `samples/`, by name.
fn samples() -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let dir = root().join("samples");
    let mut names: Vec<String> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| {
            let n = n.to_ascii_lowercase();
            n.ends_with(".png") || n.ends_with(".jpg") || n.ends_with(".jpeg")
        })
        .collect();
    names.sort();
    ensure!(!names.is_empty(), "no sample images in {}", dir.display());
    names
        .into_iter()
        .map(|n| Ok((n.clone(), std::fs::read(dir.join(&n))?)))
        .collect()
}

/// `getconf CLK_TCK`: clock ticks per second of `/proc/<pid>/stat`.
fn clock_ticks_per_second() -> anyhow::Result<u64> {
    let o = Command::new("getconf").arg("CLK_TCK").output()?;
    ensure!(o.status.success(), "getconf CLK_TCK failed");
    Ok(String::from_utf8_lossy(&o.stdout).trim().parse()?)
}

fn run() -> anyhow::Result<()> {
    let rounds: usize = std::env::var("ARGUS_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4)
        .clamp(1, 20);
    let tick_hz = clock_ticks_per_second()?;

    // 1. The bundle.
    let zip_path = build_bundle()?;
    let work = tempfile::tempdir()?;
    let zip_bytes = std::fs::metadata(&zip_path)?.len();
    let (bootstrap, bootstrap_bytes) = extract_bootstrap(&zip_path, work.path())?;

    // The twin with the local stage deployed; the function's environment comes from there.
    let (twin, outputs) = Twin::start(&zip_path)?;
    let config = StageConfig::load(twin.config_dir.path(), STAGE).map_err(|e| anyhow!("{e}"))?;
    let outputs = outputs
        .get(&config.stack_name)
        .ok_or_else(|| anyhow!("no outputs for {} in {outputs}", config.stack_name))?;
    let output = |name: &str| {
        outputs[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("no output {name} in {outputs}"))
    };
    let clients = Clients::new(&twin.endpoint, &config.region)?;
    let function = clients.function(&output("ProcessorFunctionName")?, &config.region)?;
    // MiniStack's copy of the function must not take the bench's uploads.
    let sources = clients.disable_mappings(&function.name)?;
    let queue_arn = sources
        .into_iter()
        .find(|arn| arn.contains(":sqs:"))
        .ok_or_else(|| anyhow!("the processor has no SQS event source mapping"))?;
    let variable = |name: &str| {
        function
            .variables
            .get(name)
            .cloned()
            .ok_or_else(|| anyhow!("the function has no {name}"))
    };

    // 2. Cold start: every endpoint at a closed loopback port, nothing is called during init.
    let closed = format!("http://127.0.0.1:{}", free_port()?);
    let cold_overrides: Vec<(&str, String)> = std::iter::once("AWS_ENDPOINT_URL")
        .chain(
            function
                .variables
                .keys()
                .map(String::as_str)
                .filter(|k| k.starts_with("AWS_ENDPOINT_URL_")),
        )
        .map(|name| (name, closed.clone()))
        .collect();
    let mut cold = Vec::with_capacity(COLD_RUNS);
    {
        let api = RuntimeApi::start(&function.arn)?;
        for run in 0..=COLD_RUNS {
            let (mut process, started) = Bootstrap::spawn(
                &bootstrap,
                &function,
                &api.host_port(),
                &cold_overrides,
                work.path().join("cold.log"),
            )?;
            let polled = process.wait_next(&api, INIT_LIMIT)?;
            drop(process); // killed by PID and reaped
            if run > 0 {
                // Run 0 warms the page cache and is not counted.
                cold.push(polled.saturating_duration_since(started));
            }
        }
    }
    cold.sort();

    // 3. CPU per image on the twin.
    let bucket = output("InputBucketName")?;
    let table = output("ResultsTableName")?;
    let input_prefix = variable("ARGUS_INPUT_PREFIX")?;
    if let (Ok(ref_bucket), Ok(ref_key)) = (
        variable("ARGUS_FACE_REFERENCE_BUCKET"),
        variable("ARGUS_FACE_REFERENCE_KEY"),
    ) {
        // The face reference CompareFaces needs (as the pipeline tests upload it).
        let reference = std::fs::read(root().join("samples/astronaut.png"))?;
        clients.put(&ref_bucket, &ref_key, reference)?;
    }
    let samples = samples()?;
    let run_prefix = format!(
        "{input_prefix}argus-bench-{}-{}/",
        now_millis(),
        std::process::id()
    );
    let mut uploads = Vec::new();
    for round in 0..rounds {
        for (name, bytes) in &samples {
            let key = format!("{run_prefix}r{round}/{name}");
            let version = clients.put(&bucket, &key, bytes.clone())?;
            uploads.push(Upload {
                key,
                version,
                size: bytes.len(),
            });
        }
    }
    let images = uploads.len();
    ensure!(images >= 2, "need at least two images");

    let api = RuntimeApi::start(&function.arn)?;
    let twin_overrides = [
        ("AWS_ENDPOINT_URL", twin.endpoint.clone()),
        ("AWS_ENDPOINT_URL_REKOGNITION", twin.rekognition.clone()),
    ];
    let (mut process, _) = Bootstrap::spawn(
        &bootstrap,
        &function,
        &api.host_port(),
        &twin_overrides,
        work.path().join("twin.log"),
    )?;
    process.wait_next(&api, INIT_LIMIT)?;
    let timeout_ms = u64::try_from(function.timeout_secs.max(1)).unwrap_or(3) * 1000;
    let invoke = |process: &mut Bootstrap, n: usize, upload: &Upload| -> anyhow::Result<()> {
        let request_id = format!("{REQUEST_PREFIX}{n:04}");
        let body = s3_notification(
            &config.region,
            &bucket,
            &upload.key,
            upload.version.as_deref(),
            upload.size,
        );
        api.invoke(Invocation {
            request_id: request_id.clone(),
            payload: sqs_event(
                &config.region,
                &queue_arn,
                &format!("argus-bench-msg-{n:04}"),
                &body,
            ),
            deadline_ms: now_millis() + timeout_ms,
        })?;
        match process.wait(&api, INVOKE_LIMIT, "the invocation's response")? {
            Report::Response {
                request_id: id,
                body,
            } if id == request_id => {
                let response: Value = serde_json::from_str(&body)
                    .with_context(|| format!("response of {request_id}: {body}"))?;
                let failures = response["batchItemFailures"].as_array().ok_or_else(|| {
                    anyhow!("response of {request_id} has no batchItemFailures: {body}")
                })?;
                ensure!(
                    failures.is_empty(),
                    "{}: batchItemFailures {body}; log:\n{}",
                    upload.key,
                    process.log_tail()
                );
                Ok(())
            }
            other => bail!(
                "{}: expected the response of {request_id}, got {other}; log:\n{}",
                upload.key,
                process.log_tail()
            ),
        }
    };
    let first_started = Instant::now();
    invoke(&mut process, 0, &uploads[0])?;
    let first_wall = first_started.elapsed();
    process.wait_next(&api, INIT_LIMIT)?;
    let after_first = process.cpu_ticks()?;
    let warm_started = Instant::now();
    for (n, upload) in uploads.iter().enumerate().skip(1) {
        invoke(&mut process, n, upload)?;
        if n + 1 < images {
            process.wait_next(&api, INIT_LIMIT)?;
        }
    }
    let warm_wall = warm_started.elapsed();
    // Idle again in `/next`: nothing left to count.
    process.wait_next(&api, INIT_LIMIT)?;
    let after_last = process.cpu_ticks()?;
    drop(process);
    drop(api);

    // Every image ended PROCESSED, claimed by the bench's own invocations.
    let records = clients.records(&table, &run_prefix)?;
    let mut problems = Vec::new();
    for upload in &uploads {
        let record = records
            .iter()
            .find(|r| r["objectKey"] == upload.key.as_str());
        match record {
            None => problems.push(format!("{}: no record", upload.key)),
            Some(r) if r["status"] != "PROCESSED" => {
                problems.push(format!("{}: status {}", upload.key, r["status"]));
            }
            Some(r)
                if !r["claimToken"]
                    .as_str()
                    .is_some_and(|t| t.starts_with(REQUEST_PREFIX)) =>
            {
                problems.push(format!(
                    "{}: claimed by {} (not the bench's bootstrap)",
                    upload.key, r["claimToken"]
                ));
            }
            Some(_) => {}
        }
    }
    ensure!(
        problems.is_empty(),
        "records not as expected:\n{}",
        problems.join("\n")
    );
    drop(twin);

    let tick_ms = 1000.0 / tick_hz as f64;
    let warm = images - 1;
    let pct = |d: &[Duration], i: usize| ms(d[i.min(d.len() - 1)]);
    println!(
        "processor setup: {} (argus bundle --stage {STAGE}: cargo-lambda, release profile); {} sample images x {rounds} rounds on the twin (MiniStack + argus-twin, loopback)",
        zip_path.display(),
        samples.len()
    );
    println!("processor zip_bytes: {zip_bytes}");
    println!("processor bootstrap_bytes (unzipped): {bootstrap_bytes}");
    println!(
        "processor cold_start_median_ms (process start to first GET /next, {COLD_RUNS} runs): {:.2}",
        pct(&cold, COLD_RUNS / 2)
    );
    println!("processor cold_start_min_ms: {:.2}", pct(&cold, 0));
    println!(
        "processor cold_start_max_ms: {:.2}",
        pct(&cold, COLD_RUNS - 1)
    );
    println!(
        "processor cold_invocation_cpu_ms (init + first image): {:.1}",
        after_first as f64 * tick_ms
    );
    println!(
        "processor cold_invocation_wall_ms (first image): {:.1}",
        ms(first_wall)
    );
    println!(
        "processor cpu_ms_per_image ({warm} warm images, utime+stime, CLK_TCK={tick_hz}): {:.2}",
        after_last.saturating_sub(after_first) as f64 * tick_ms / warm as f64
    );
    println!(
        "processor wall_ms_per_image ({warm} warm images, one at a time): {:.1}",
        ms(warm_wall) / warm as f64
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    run()
}
