//! Logs of the Lambda functions: JSON lines on stdout (one object per event, the current span's
//! fields — request ID, image ID, key — flattened in), `info` by default, the AWS SDK's own
//! chatter at `warn`; `RUST_LOG` overrides. CloudWatch Logs adds the timestamp.

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber. Call once, first thing in `main`.
pub fn init_json_logs() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(false)
        .without_time()
        .init();
}
