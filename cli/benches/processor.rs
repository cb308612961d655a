//! `make bench` (processor): the processor Lambda's bundle size, cold start and CPU time per image.
//!
//! 1. Builds the beta stage's Lambda bundles with `argus bundle --stage beta` (cargo-lambda,
//!    release profile, what AWS runs; incremental when nothing changed: the local stage's own
//!    bundles are dev builds for the host) and prints the zip's size and the size of the
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
//! 5. Peak RSS per image kind: each sample and each file of the hostile corpus
//!    ([`argus_twin::corpus`]) alone in one invocation of the warm process, its `VmHWM` reset
//!    before (`/proc/<pid>/clear_refs`), reported in MiB and above the file's size (target:
//!    at most 64 MiB above); and argus-twin's own peak RSS over the whole bench.
//!
//! Prints one figure per line. `ARGUS_BENCH_ROUNDS` sets the rounds of sample uploads
//! (default 4, 1 to 20). The twin is stopped by `argus local down` and every process the bench
//! starts is stopped by its PID, on failure too.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, ensure};
use argus_stacks::config::StageConfig;
use argus_twin::lambda::{
    self, FunctionConfig, FunctionProcess, Invocation, ObjectRef, RuntimeApi, SpawnOptions,
    now_millis,
};
use serde_json::Value;

#[path = "../tests/common/mod.rs"]
mod common;

/// Measured cold starts (after one warm-up run that is not counted).
const COLD_RUNS: usize = 21;
/// The stage the bench deploys on the twin.
const STAGE: &str = "local";
/// The stage whose bundles are measured (deployed to the local stage): the release Lambda build.
const BUNDLE_STAGE: &str = "beta";
/// Request IDs of the bench's invocations start with this (the processor's claim token is
/// `<request id>/<message id>`).
const REQUEST_PREFIX: &str = "argus-bench-";
/// Longest wait for the bootstrap's first `/next` poll.
const INIT_LIMIT: Duration = Duration::from_secs(15);
/// Longest wait for one invocation's response.
const INVOKE_LIMIT: Duration = Duration::from_secs(90);

/// `argus` (the bench's own build of the CLI), run from the repository root.
fn argus() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_argus"));
    command.current_dir(common::root()).stdin(Stdio::null());
    command
}

/// A free TCP port on 127.0.0.1 (see [`argus_twin::process::free_port`]).
fn free_port() -> anyhow::Result<u16> {
    Ok(argus_twin::process::free_port()?)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
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
    /// argus-twin's peak RSS in bytes so far (its PID from the twin's state file).
    fn rekognition_peak_rss(&self) -> anyhow::Result<u64> {
        let state = argus_twin::lifecycle::TwinState::load(self.state_dir.path())
            .map_err(|e| anyhow!("{e}"))?
            .ok_or_else(|| anyhow!("no twin state in {}", self.state_dir.path().display()))?;
        Ok(lambda::peak_rss_of(state.rekognition.pid)?)
    }

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
        for entry in std::fs::read_dir(common::root().join("stacks/config"))? {
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
                "--fixtures",
                "samples/fixtures",
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

/// Builds the beta stage's Lambda bundles (release) with `argus bundle` into the bench's own
/// folder (so it never races the tests' copy) and returns the processor's zip.
fn build_bundle() -> anyhow::Result<PathBuf> {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("argus-bench-bundle");
    // No zip of an earlier run is left to deploy.
    match std::fs::remove_dir_all(out.join("assets")) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    let o = argus()
        .args(["bundle", "--stage", BUNDLE_STAGE, "--out"])
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
            .http_client(argus_toolkit::aws::https_client())
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

/// `getconf CLK_TCK`: clock ticks per second of `/proc/<pid>/stat`.
fn clock_ticks_per_second() -> anyhow::Result<u64> {
    let o = Command::new("getconf").arg("CLK_TCK").output()?;
    ensure!(o.status.success(), "getconf CLK_TCK failed");
    Ok(String::from_utf8_lossy(&o.stdout).trim().parse()?)
}

/// Hands `objects` to `process` as one SQS batch and checks the response has no
/// batchItemFailures.
fn invoke_batch(
    process: &mut FunctionProcess,
    api: &RuntimeApi,
    function: &FunctionConfig,
    queue_arn: &str,
    request_id: &str,
    objects: &[ObjectRef],
) -> anyhow::Result<()> {
    let messages: Vec<(String, String)> = objects
        .iter()
        .enumerate()
        .map(|(i, o)| {
            (
                format!("{request_id}-msg-{i}"),
                lambda::s3_notification(&function.region, o),
            )
        })
        .collect();
    let timeout_ms = u64::from(function.timeout_secs.max(1)) * 1000;
    let body = process.invoke(
        api,
        Invocation {
            request_id: request_id.to_owned(),
            payload: lambda::sqs_event(&function.region, queue_arn, &messages),
            deadline_ms: now_millis() + timeout_ms,
        },
        INVOKE_LIMIT,
    )?;
    let response: Value =
        serde_json::from_str(&body).with_context(|| format!("response of {request_id}: {body}"))?;
    let failures = response["batchItemFailures"]
        .as_array()
        .ok_or_else(|| anyhow!("response of {request_id} has no batchItemFailures: {body}"))?;
    ensure!(
        failures.is_empty(),
        "{request_id}: batchItemFailures {body}; log:\n{}",
        process.log_tail()
    );
    Ok(())
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
    let (bootstrap, bootstrap_bytes) = lambda::extract_bootstrap(&zip_path, work.path())?;

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
    let function = clients.runtime.block_on(common::function_config(
        &clients.lambda,
        &output("ProcessorFunctionName")?,
        &config.region,
    ));
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
    let cold_options = SpawnOptions {
        overrides: std::iter::once("AWS_ENDPOINT_URL")
            .chain(
                function
                    .variables
                    .keys()
                    .map(String::as_str)
                    .filter(|k| k.starts_with("AWS_ENDPOINT_URL_")),
            )
            .map(|name| (name.to_owned(), closed.clone()))
            .collect(),
        address_space_limit: None,
    };
    let mut cold = Vec::with_capacity(COLD_RUNS);
    {
        let api = RuntimeApi::start(&function.arn)?;
        for run in 0..=COLD_RUNS {
            let (mut process, started) = FunctionProcess::spawn(
                &bootstrap,
                &function,
                &api,
                &cold_options,
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
        let reference = std::fs::read(common::root().join("samples/astronaut.png"))?;
        clients.put(&ref_bucket, &ref_key, reference)?;
    }
    let samples = common::samples();
    ensure!(!samples.is_empty(), "no sample images in samples/");
    let run_prefix = format!(
        "{input_prefix}argus-bench-{}-{}/",
        now_millis(),
        std::process::id()
    );
    let upload = |key: String, bytes: Vec<u8>| -> anyhow::Result<ObjectRef> {
        let size = bytes.len();
        let version = clients.put(&bucket, &key, bytes)?;
        Ok(ObjectRef {
            bucket: bucket.clone(),
            key,
            version,
            size,
        })
    };
    let mut uploads = Vec::new();
    for round in 0..rounds {
        for (name, bytes) in &samples {
            uploads.push(upload(
                format!("{run_prefix}r{round}/{name}"),
                bytes.clone(),
            )?);
        }
    }
    let images = uploads.len();
    ensure!(images >= 2, "need at least two images");

    let api = RuntimeApi::start(&function.arn)?;
    let twin_options = SpawnOptions {
        overrides: vec![
            ("AWS_ENDPOINT_URL".into(), twin.endpoint.clone()),
            (
                "AWS_ENDPOINT_URL_REKOGNITION".into(),
                twin.rekognition.clone(),
            ),
        ],
        address_space_limit: None,
    };
    let (mut process, _) = FunctionProcess::spawn(
        &bootstrap,
        &function,
        &api,
        &twin_options,
        work.path().join("twin.log"),
    )?;
    process.wait_next(&api, INIT_LIMIT)?;
    let request = |n: usize| format!("{REQUEST_PREFIX}{n:04}");
    let first_started = Instant::now();
    invoke_batch(
        &mut process,
        &api,
        &function,
        &queue_arn,
        &request(0),
        &uploads[..1],
    )?;
    let first_wall = first_started.elapsed();
    process.wait_next(&api, INIT_LIMIT)?;
    let after_first = process.cpu_ticks()?;
    let warm_started = Instant::now();
    for (n, upload) in uploads.iter().enumerate().skip(1) {
        invoke_batch(
            &mut process,
            &api,
            &function,
            &queue_arn,
            &request(n),
            std::slice::from_ref(upload),
        )?;
        if n + 1 < images {
            process.wait_next(&api, INIT_LIMIT)?;
        }
    }
    let warm_wall = warm_started.elapsed();
    // Idle again in `/next`: nothing left to count.
    process.wait_next(&api, INIT_LIMIT)?;
    let after_last = process.cpu_ticks()?;

    // 4. Peak RSS per image kind: each sample and each file of the hostile corpus alone in
    // its invocation, the peak reset before it (the same warm process, no memory limit).
    let idle_rss = process.peak_rss_bytes()?;
    let mut kinds: Vec<(String, Vec<u8>)> = samples
        .iter()
        .map(|(name, bytes)| (format!("sample {name}"), bytes.clone()))
        .collect();
    kinds.extend(
        argus_twin::corpus::hostile()?
            .into_iter()
            .map(|f| (format!("hostile {}", f.kind), f.bytes)),
    );
    let mut peaks = Vec::new();
    for (n, (kind, bytes)) in kinds.into_iter().enumerate() {
        let size = bytes.len();
        let object = upload(format!("{run_prefix}peak/{n:02}.bin"), bytes)?;
        process.reset_peak_rss()?;
        invoke_batch(
            &mut process,
            &api,
            &function,
            &queue_arn,
            &format!("{REQUEST_PREFIX}rss-{n:02}"),
            std::slice::from_ref(&object),
        )?;
        process.wait_next(&api, INIT_LIMIT)?;
        peaks.push((kind, size, process.peak_rss_bytes()?));
    }
    drop(process);
    drop(api);
    let twin_peak = twin.rekognition_peak_rss()?;

    // Every image ended PROCESSED, claimed by the bench's own invocations.
    let records = clients.records(&table, &format!("{run_prefix}r"))?;
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
    let mib = |b: u64| b as f64 / 1_048_576.0;
    println!(
        "processor setup: {} (argus bundle --stage {BUNDLE_STAGE}: cargo-lambda, release profile); {} sample images x {rounds} rounds on the twin (MiniStack + argus-twin, loopback)",
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
    println!(
        "processor peak_rss_mib after the warm images (VmHWM): {:.1}",
        mib(idle_rss)
    );
    let mut worst_above = 0.0f64;
    for (kind, size, peak) in &peaks {
        let above = mib(*peak) - mib(*size as u64);
        worst_above = worst_above.max(above);
        println!(
            "processor peak_rss_mib {kind} ({:.2} MiB file): {:.1} ({above:+.1} above the file size)",
            mib(*size as u64),
            mib(*peak)
        );
    }
    println!(
        "processor peak_rss_mib_above_image_size (worst kind; target <= 64): {worst_above:.1}"
    );
    println!(
        "argus-twin peak_rss_mib (VmHWM, whole bench): {:.1}",
        mib(twin_peak)
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    run()
}
