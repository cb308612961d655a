//! The processor Lambda function (`bootstrap` on `provided.al2023`), fed by the SQS ingest queue.
//!
//! This build parses every message (S3 notification or `s3:TestEvent`) and acknowledges test
//! events. Image analysis is not in this build yet: every image record is reported as a batch
//! item failure, so SQS keeps the message (and after `maxReceiveCount` moves it to the DLQ) —
//! nothing is acknowledged that was not processed.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};

use argus_runtime::notification::{self, Notification};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt().json().with_current_span(false).with_target(false).without_time().init();
    lambda_runtime::run(service_fn(handle)).await
}

async fn handle(event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let request_id = event.context.request_id.clone();
    let mut response = SqsBatchResponse::default();
    for message in event.payload.records {
        let id = message.message_id.clone().unwrap_or_default();
        match notification::parse(message.body.as_deref().unwrap_or_default()) {
            Ok(Notification::Test) => tracing::info!(request_id, message_id = id, "s3:TestEvent acknowledged"),
            Ok(Notification::Objects(objects)) => {
                for o in &objects {
                    tracing::warn!(request_id, message_id = id, bucket = o.bucket, key = o.key, "image processing is not in this build; the message is retried");
                }
                response.add_failure(id);
            }
            Err(e) => {
                tracing::error!(request_id, message_id = id, error = %e, "unrecognized message; it is retried and ends in the DLQ");
                response.add_failure(id);
            }
        }
    }
    Ok(response)
}
