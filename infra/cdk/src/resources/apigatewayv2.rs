//! `AWS::ApiGatewayV2::Api`, `Stage`, `Integration`, `Route` (HTTP APIs) and
//! `AWS::Lambda::Permission`.

use serde::Serialize;
use serde_with::skip_serializing_none;
use std::collections::BTreeMap;

use crate::intrinsic::Expr;
use crate::template::CfnResource;

/// `AWS::ApiGatewayV2::Api` properties (HTTP APIs).
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnApi {
    /// API name.
    pub name: Expr,
    /// `HTTP`.
    pub protocol_type: String,
    /// What the API is for.
    pub description: Option<String>,
    /// Tags (a JSON map), which IAM policies can match with `aws:ResourceTag/<key>`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

impl CfnResource for CfnApi {
    const TYPE: &'static str = "AWS::ApiGatewayV2::Api";
}

/// `AWS::ApiGatewayV2::Stage` properties.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnStage {
    /// The API ID.
    pub api_id: Expr,
    /// `$default` serves the API at its root URL.
    pub stage_name: String,
    /// Deploy every change automatically.
    pub auto_deploy: bool,
    /// Access logs.
    pub access_log_settings: Option<AccessLogSettings>,
    /// Throttling for every route.
    pub default_route_settings: Option<RouteSettings>,
}

impl CfnResource for CfnStage {
    const TYPE: &'static str = "AWS::ApiGatewayV2::Stage";
}

/// `AccessLogSettings`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessLogSettings {
    /// The log group ARN.
    pub destination_arn: Expr,
    /// The log line format (JSON with `$context` variables).
    pub format: String,
}

/// `RouteSettings`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RouteSettings {
    /// Requests that may arrive at once.
    pub throttling_burst_limit: u32,
    /// Steady requests per second.
    pub throttling_rate_limit: f64,
}

/// `AWS::ApiGatewayV2::Integration` properties (Lambda proxy).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnIntegration {
    /// The API ID.
    pub api_id: Expr,
    /// `AWS_PROXY`.
    pub integration_type: String,
    /// The function ARN.
    pub integration_uri: Expr,
    /// `2.0`.
    pub payload_format_version: String,
}

impl CfnResource for CfnIntegration {
    const TYPE: &'static str = "AWS::ApiGatewayV2::Integration";
}

/// `AWS::ApiGatewayV2::Route` properties.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnRoute {
    /// The API ID.
    pub api_id: Expr,
    /// e.g. `GET /images/{imageId}`.
    pub route_key: String,
    /// `AWS_IAM` (SigV4), `JWT`, `CUSTOM` or `NONE`.
    pub authorization_type: String,
    /// `integrations/<integration ID>`.
    pub target: Expr,
}

impl CfnResource for CfnRoute {
    const TYPE: &'static str = "AWS::ApiGatewayV2::Route";
}

/// `AWS::Lambda::Permission` properties (a resource-based policy statement on a function).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnPermission {
    /// `lambda:InvokeFunction`.
    pub action: String,
    /// The function name or ARN.
    pub function_name: Expr,
    /// The service principal, e.g. `apigateway.amazonaws.com`.
    pub principal: String,
    /// The ARN allowed to invoke (e.g. the API's routes).
    pub source_arn: Expr,
}

impl CfnResource for CfnPermission {
    const TYPE: &'static str = "AWS::Lambda::Permission";
}
