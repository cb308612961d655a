//! The api Lambda function (`bootstrap` on `provided.al2023`) behind the stage's API Gateway
//! HTTP API (payload format 2.0). Routes, bodies, errors and environment: [`argus_runtime::api`].
//!
//! Everything is set up once per execution environment, before the first poll of the Runtime
//! API: settings from the `ARGUS_*` environment, one `aws-config` load, one S3 client (path-style
//! when `AWS_ENDPOINT_URL` or `AWS_ENDPOINT_URL_S3` is set, so presigned URLs point at the local
//! twin) and one DynamoDB client. Each invocation then only runs [`api::handle`]. Logs are JSON
//! lines on stdout with the request ID.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_runtime::{Error, LambdaEvent, service_fn};

use argus_runtime::api::{self, ApiSettings};
use argus_runtime::aws;

#[tokio::main]
async fn main() -> Result<(), Error> {
    argus_runtime::logging::init_json_logs();

    let settings = ApiSettings::from_env().inspect_err(|e| {
        tracing::error!(error = %e, "the function environment is incomplete");
    })?;
    let config = aws::load_config().await;
    let s3 = aws::s3_client(&config, aws::use_path_style(|n| std::env::var(n).ok()));
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let api = Arc::new(aws::build_api(settings, &s3, &dynamodb));

    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| {
            let api = Arc::clone(&api);
            async move {
                let response: ApiGatewayV2httpResponse =
                    api::handle(&api, &event.payload, &event.context.request_id).await;
                Ok::<_, Error>(response)
            }
        },
    ))
    .await
}
