//! `argus-twin`: run the local twin's Rekognition endpoint on 127.0.0.1.
//!
//! Prints `argus-twin listening on http://127.0.0.1:<port>` on stdout once it accepts
//! connections, logs to stderr, and stops on SIGINT or SIGTERM.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use argus_twin::faults::{Faults, ThrottleKind};
use argus_twin::server::DEFAULT_PORT;
use argus_twin::{Config, S3Settings};
use clap::{Parser, ValueEnum};

/// Rekognition-compatible endpoint (AWS JSON 1.1) of the Argus local twin.
#[derive(Debug, Parser)]
#[command(name = "argus-twin", version, about)]
struct Cli {
    /// Address to listen on; only 127.0.0.1 is accepted.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on (0: any free port, printed at start).
    #[arg(long, env = "ARGUS_TWIN_PORT", default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Folder of <sha256>.json fixture files: an image with a fixture is answered from it
    /// instead of the models (an override for tests; e.g. samples/fixtures).
    #[arg(long, env = "ARGUS_TWIN_FIXTURES")]
    fixtures: Option<PathBuf>,
    /// Models folder filled by `make models` (default: <workspace>/.argus/models).
    #[arg(long, env = "ARGUS_MODELS_DIR")]
    models: Option<PathBuf>,
    /// Run without models: images without a fixture get empty answers.
    #[arg(long, conflicts_with = "models")]
    no_models: bool,
    /// S3 endpoint for Image.S3Object (default: $AWS_ENDPOINT_URL, else http://127.0.0.1:4566).
    #[arg(long, env = "AWS_ENDPOINT_URL_S3")]
    s3_endpoint: Option<String>,
    /// Region used to sign S3 requests (default: $AWS_DEFAULT_REGION, else us-east-1).
    #[arg(long, env = "AWS_REGION")]
    region: Option<String>,
    /// Answer the next N Rekognition calls with a throttling error.
    #[arg(long, default_value_t = 0)]
    throttle_next: u32,
    /// The throttling error to answer with.
    #[arg(long, value_enum, default_value_t = ThrottleArg::ThrottlingException)]
    throttle_kind: ThrottleArg,
    /// Delay every Rekognition answer by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Answer every Rekognition call with InternalServerError (HTTP 500).
    #[arg(long)]
    fail_all: bool,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Deliver the CloudTrail records as gzipped log files into this bucket on the S3 endpoint
    /// (created when missing); without it they are only served by LookupEvents.
    #[arg(long, value_name = "BUCKET")]
    trail_bucket: Option<String>,
    /// Seconds between two trail log file deliveries.
    #[arg(long, default_value_t = 5, value_name = "SECONDS")]
    trail_delivery_seconds: u64,
    /// The account of the CloudTrail records (MiniStack's default account).
    #[arg(long, default_value = argus_twin::trail::DEFAULT_ACCOUNT_ID, value_name = "ID")]
    account_id: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "verbatim")]
enum ThrottleArg {
    ThrottlingException,
    ProvisionedThroughputExceededException,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

async fn shutdown_signal() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("cannot listen for SIGINT")?,
        _ = term.recv() => {}
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let endpoint = cli
        .s3_endpoint
        .or_else(|| env_nonempty("AWS_ENDPOINT_URL"))
        .unwrap_or_else(|| "http://127.0.0.1:4566".to_owned());
    let mut s3 = S3Settings::local(endpoint);
    if let Some(region) = cli.region.or_else(|| env_nonempty("AWS_DEFAULT_REGION")) {
        s3.region = region;
    }
    if let (Some(id), Some(secret)) = (
        env_nonempty("AWS_ACCESS_KEY_ID"),
        env_nonempty("AWS_SECRET_ACCESS_KEY"),
    ) {
        s3.access_key_id = id;
        s3.secret_access_key = secret;
    }
    let trail = argus_twin::trail::TrailSettings {
        account_id: cli.account_id,
        region: s3.region.clone(),
        bucket: cli.trail_bucket,
        delivery_interval: std::time::Duration::from_secs(cli.trail_delivery_seconds),
    };
    let config = Config {
        trail,
        host: cli.host,
        port: cli.port,
        fixtures_dir: cli.fixtures,
        models_dir: if cli.no_models {
            None
        } else {
            Some(cli.models.unwrap_or_else(argus_twin::vision::models_dir))
        },
        max_inferences: 0,
        s3: Some(s3),
        faults: Faults {
            throttle_next: cli.throttle_next,
            throttle_kind: match cli.throttle_kind {
                ThrottleArg::ThrottlingException => ThrottleKind::ThrottlingException,
                ThrottleArg::ProvisionedThroughputExceededException => {
                    ThrottleKind::ProvisionedThroughputExceededException
                }
            },
            latency_ms: cli.latency_ms,
            fail_all: cli.fail_all,
            operations: None,
            ..Faults::default()
        },
    };
    let server = argus_twin::serve(config)
        .await
        .context("argus-twin could not start")?;
    println!("argus-twin listening on {}", server.endpoint_url());
    shutdown_signal().await?;
    tracing::info!("stopping");
    server
        .shutdown()
        .await
        .context("argus-twin did not stop cleanly")?;
    Ok(())
}
