//! AWS access: one `aws-config` load, the clients built from it, and a description of what was
//! tried for error messages.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudformation::error::ProvideErrorMetadata;

use super::ToolkitError;

/// The HTTP client of every AWS SDK client the toolkit and the CLI build: hyper 1 with rustls
/// and the `ring` crypto provider, trusting the system's root certificates (plain `http://`
/// endpoints such as the local twin's work too). The workspace turns the SDK's default features
/// off, so an `SdkConfig` built by hand needs this client.
/// See <https://docs.aws.amazon.com/sdk-for-rust/latest/dg/http.html>.
pub fn https_client() -> aws_sdk_s3::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// Clients for one Region, built once from one configuration load.
#[derive(Clone, Debug)]
pub struct AwsContext {
    /// The loaded configuration.
    pub config: SdkConfig,
    /// CloudFormation.
    pub cloudformation: aws_sdk_cloudformation::Client,
    /// S3 (path-style when a custom endpoint is set, as local emulators need).
    pub s3: aws_sdk_s3::Client,
    /// What this context talks to, for error messages.
    pub target: String,
}

impl AwsContext {
    /// Loads the default chain (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL`, …) with
    /// `default_region` as the fallback Region, short connect timeouts (so an unreachable endpoint
    /// fails in seconds) and the standard retry mode (3 attempts).
    pub async fn load(default_region: &str) -> Self {
        // The loader's own Region chain shares its HTTPS client (a `RegionProviderChain` built
        // here would build an IMDS client without one, as the SDK lacks `default-https-client`).
        let loader = || {
            aws_config::defaults(BehaviorVersion::latest())
                .http_client(https_client())
                .timeout_config(timeouts())
                .retry_config(retries())
        };
        let mut config = loader().load().await;
        if config.region().is_none() {
            config = loader()
                .region(Region::new(default_region.to_owned()))
                .load()
                .await;
        }
        Self::from_config(config)
    }

    /// Clients for an emulator at `endpoint` (the local twin) with static credentials, the same
    /// timeouts and retries as [`AwsContext::load`], and no lookup of the environment.
    pub fn for_endpoint(
        endpoint: &str,
        region: &str,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> Self {
        let credentials = aws_sdk_s3::config::Credentials::new(
            access_key_id,
            secret_access_key,
            None,
            None,
            "argus-twin",
        );
        let config = SdkConfig::builder()
            .http_client(https_client())
            .endpoint_url(endpoint)
            .region(Region::new(region.to_owned()))
            .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(
                credentials,
            ))
            .timeout_config(timeouts())
            .retry_config(retries())
            .behavior_version(BehaviorVersion::latest())
            .build();
        let mut aws = Self::from_config(config);
        aws.target =
            format!("endpoint {endpoint} (the local twin), Region {region}, static credentials");
        aws
    }

    /// Builds the clients from an already loaded configuration.
    pub fn from_config(config: SdkConfig) -> Self {
        let region = config.region().map(ToString::to_string).unwrap_or_default();
        let endpoint = config.endpoint_url().map(str::to_owned);
        let credentials = match std::env::var("AWS_PROFILE") {
            Ok(profile) => format!("profile {profile}"),
            Err(_) if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() => {
                "AWS_ACCESS_KEY_ID from the environment".into()
            }
            Err(_) => {
                "the default chain (environment, profile, SSO, instance or container role)".into()
            }
        };
        let target = format!(
            "endpoint {}, Region {region}, credentials from {credentials}",
            endpoint.as_deref().map_or_else(
                || "the AWS default".to_owned(),
                |e| format!("{e} (AWS_ENDPOINT_URL)")
            )
        );
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(endpoint.is_some())
            .build();
        AwsContext {
            cloudformation: aws_sdk_cloudformation::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            config,
            target,
        }
    }

    /// The Region the clients use.
    pub fn region(&self) -> String {
        self.config
            .region()
            .map(ToString::to_string)
            .unwrap_or_default()
    }

    /// Checks that the clients use `expected` (a stage's Region is part of its resource names).
    ///
    /// # Errors
    /// [`ToolkitError::Refused`] naming both Regions.
    pub fn ensure_region(&self, expected: &str) -> Result<(), ToolkitError> {
        let region = self.region();
        if region == expected {
            Ok(())
        } else {
            Err(ToolkitError::Refused(format!(
                "the stage is configured for Region {expected}, but AWS_REGION/AWS_PROFILE select {region}; unset it or use the stage's Region"
            )))
        }
    }

    /// Whether a custom endpoint is set (the local twin or another emulator).
    pub fn is_custom_endpoint(&self) -> bool {
        self.config.endpoint_url().is_some()
    }

    /// Turns an SDK error into [`ToolkitError::Aws`] naming the operation and the target.
    pub fn error<E>(
        &self,
        operation: &str,
        error: aws_sdk_cloudformation::error::SdkError<E>,
    ) -> ToolkitError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let message = match error.as_service_error() {
            Some(service) => format!(
                "{}: {}",
                service.code().unwrap_or("Error"),
                service.message().unwrap_or("no message")
            ),
            None => error_chain(&error),
        };
        ToolkitError::Aws {
            operation: operation.to_owned(),
            message,
            target: self.target.clone(),
        }
    }
}

/// Short connect timeouts, so an unreachable endpoint fails in seconds, and a minute per attempt.
fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(60))
        .build()
}

/// The SDK's standard retry mode with 3 attempts.
fn retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(3)
}

/// An error and its sources on one line (`dispatch failure: io error: … Connection refused`),
/// without the debug dump.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// The service error code of an SDK error, if it is one.
pub fn error_code<E: ProvideErrorMetadata>(
    error: &aws_sdk_cloudformation::error::SdkError<E>,
) -> Option<String> {
    error
        .as_service_error()
        .and_then(|e| e.code().map(str::to_owned))
}

/// The service error message of an SDK error, if it is one.
pub fn error_message<E: ProvideErrorMetadata>(
    error: &aws_sdk_cloudformation::error::SdkError<E>,
) -> Option<String> {
    error
        .as_service_error()
        .and_then(|e| e.message().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(region: &str) -> AwsContext {
        AwsContext::for_endpoint("http://127.0.0.1:9", region, "test", "test")
    }

    #[test]
    fn a_stage_region_that_differs_from_the_environment_is_refused_naming_both() {
        let Err(ToolkitError::Refused(message)) = context("us-east-1").ensure_region("eu-west-1")
        else {
            panic!("a Region mismatch must be refused");
        };
        assert!(
            message.contains("configured for Region eu-west-1"),
            "{message}"
        );
        assert!(message.contains("select us-east-1"), "{message}");
    }

    #[test]
    fn the_same_region_goes_ahead() {
        context("eu-west-1").ensure_region("eu-west-1").unwrap();
    }
}
