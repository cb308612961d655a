//! The processor Lambda function (`bootstrap` on `provided.al2023`), fed by the SQS ingest queue.
//!
//! Everything is set up once per execution environment, before the first poll of the Runtime
//! API: settings from the `ARGUS_*` environment, one `aws-config` load, one client per service.
//! Each invocation then only runs [`processor::handle`]. Logs are JSON lines on stdout (with the
//! request ID in the `image` span); EMF metric lines are written next to them.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};

use argus_runtime::settings::Settings;
use argus_runtime::{aws, processor};

#[tokio::main]
async fn main() -> Result<(), Error> {
    argus_runtime::logging::init_json_logs();

    let settings = Settings::from_env().inspect_err(|e| {
        tracing::error!(error = %e, "the function environment is incomplete");
    })?;
    let config = aws::load_config().await;
    let clients = aws::Clients::new(&config, aws::use_path_style(|n| std::env::var(n).ok()));
    let deps = Arc::new(clients.deps(settings));

    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let deps = Arc::clone(&deps);
        async move { processor::handle(&deps, event).await.map_err(Error::from) }
    }))
    .await
}
