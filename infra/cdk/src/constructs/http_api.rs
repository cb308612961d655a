//! [`HttpApi`]: an API Gateway HTTP API with Lambda proxy routes, IAM (SigV4) authorization by
//! default, access logs and throttling.

use std::collections::BTreeMap;

use crate::constructs::function::Function;
use crate::constructs::log_group::{LogGroup, LogGroupProps};
use crate::constructs::{RemovalPolicy, sid};
use crate::error::SynthError;
use crate::intrinsic::Expr;
use crate::resources::apigatewayv2::{
    AccessLogSettings, CfnApi, CfnIntegration, CfnPermission, CfnRoute, CfnStage, RouteSettings,
};
use crate::stack::Stack;

/// The access log line: JSON with the fields API Gateway documents as `$context` variables
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html>).
pub const ACCESS_LOG_FORMAT: &str = r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","caller":"$context.identity.caller","userArn":"$context.identity.userArn","requestTime":"$context.requestTime","routeKey":"$context.routeKey","status":"$context.status","responseLength":"$context.responseLength","integrationError":"$context.integrationErrorMessage"}"#;

/// How a route authorizes callers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RouteAuthorization {
    /// SigV4-signed requests from IAM principals allowed `execute-api:Invoke` (the default).
    #[default]
    Iam,
    /// No authorization: reported by the rule pack as `API-ROUTE-AUTH`.
    None,
}

/// HTTP API settings; `Default` is the secure configuration.
#[derive(Clone, Debug)]
pub struct HttpApiProps {
    /// The API name (`Fn::Sub` template).
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Days the access log group keeps events.
    pub access_log_retention_days: u32,
    /// What happens to the access log group when the stack is deleted.
    pub removal_policy: RemovalPolicy,
    /// Burst and steady (per second) request limits for every route.
    pub throttling: (u32, f64),
    /// Tags of the API (key → value), e.g. for `aws:ResourceTag` conditions in the policies of
    /// whoever manages it.
    pub tags: std::collections::BTreeMap<String, String>,
}

impl HttpApiProps {
    /// Defaults (a year of access logs, 50 burst / 100 per second) for a name.
    pub fn new(name: &str, description: &str) -> Self {
        HttpApiProps {
            name: name.to_owned(),
            description: description.to_owned(),
            access_log_retention_days: 365,
            removal_policy: RemovalPolicy::Retain,
            throttling: (50, 100.0),
            tags: std::collections::BTreeMap::new(),
        }
    }
}

/// An HTTP API in a stack.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpApi {
    /// The API's logical ID.
    pub logical_id: String,
    /// The `$default` stage's logical ID.
    pub stage_id: String,
    /// The access log group.
    pub access_logs: LogGroup,
    path: String,
    integrations: BTreeMap<String, String>,
}

impl HttpApi {
    /// Adds the API at `path`, its access log group at `path/AccessLogs` and the auto-deployed
    /// `$default` stage at `path/DefaultStage`.
    ///
    /// # Errors
    /// As [`Stack::add`].
    pub fn new(stack: &mut Stack, path: &str, props: HttpApiProps) -> Result<Self, SynthError> {
        let logical_id = stack.add(
            path,
            &CfnApi {
                name: Expr::interpolate(&props.name),
                protocol_type: "HTTP".into(),
                description: Some(props.description),
                tags: props.tags,
            },
        )?;
        let access_logs = LogGroup::new(
            stack,
            &format!("{path}/AccessLogs"),
            LogGroupProps {
                name: None,
                retention_days: props.access_log_retention_days,
                removal_policy: props.removal_policy,
            },
        )?;
        let stage_id = stack.add(
            &format!("{path}/DefaultStage"),
            &CfnStage {
                api_id: Expr::reference(&logical_id),
                stage_name: "$default".into(),
                auto_deploy: true,
                access_log_settings: Some(AccessLogSettings {
                    destination_arn: access_logs.arn(),
                    format: ACCESS_LOG_FORMAT.into(),
                }),
                default_route_settings: Some(RouteSettings {
                    throttling_burst_limit: props.throttling.0,
                    throttling_rate_limit: props.throttling.1,
                }),
            },
        )?;
        Ok(HttpApi {
            logical_id,
            stage_id,
            access_logs,
            path: path.to_owned(),
            integrations: BTreeMap::new(),
        })
    }

    /// `{"Fn::GetAtt": [api, "ApiEndpoint"]}`: `https://<id>.execute-api.<region>.amazonaws.com`.
    pub fn url(&self) -> Expr {
        Expr::get_att(&self.logical_id, "ApiEndpoint")
    }

    /// The ARN pattern of a route for `execute-api:Invoke` grants: method and path as in the
    /// route key, `*` for any.
    pub fn route_arn(&self, method: &str, path: &str) -> Expr {
        Expr::arn(
            "execute-api",
            "${AWS::Region}",
            "${AWS::AccountId}",
            &format!("${{{}}}/*/{method}{path}", self.logical_id),
        )
    }

    /// Routes `route_key` (e.g. `GET /images/{imageId}`) to `function` through a Lambda proxy
    /// integration (payload format 2.0). The first route to a function also adds its integration
    /// and the `lambda:InvokeFunction` permission for this API only. Returns the route's logical ID.
    ///
    /// # Errors
    /// [`SynthError::InvalidConstruct`] for a route key that is not `METHOD /path`; as [`Stack::add`].
    pub fn add_lambda_route(
        &mut self,
        stack: &mut Stack,
        route_key: &str,
        function: &Function,
        authorization: RouteAuthorization,
    ) -> Result<String, SynthError> {
        let valid = route_key.split_once(' ').is_some_and(|(method, path)| {
            [
                "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY",
            ]
            .contains(&method)
                && path.starts_with('/')
        });
        if !valid {
            return Err(SynthError::InvalidConstruct {
                construct: self.path.clone(),
                reason: format!("route key `{route_key}` is not `METHOD /path`"),
            });
        }
        let integration = match self.integrations.get(&function.logical_id) {
            Some(id) => id.clone(),
            None => {
                let base = format!("{}/{}", self.path, sid(&[&function.logical_id]));
                let id = stack.add(
                    &format!("{base}Integration"),
                    &CfnIntegration {
                        api_id: Expr::reference(&self.logical_id),
                        integration_type: "AWS_PROXY".into(),
                        integration_uri: function.arn(),
                        payload_format_version: "2.0".into(),
                    },
                )?;
                let permission = stack.add(
                    &format!("{base}Permission"),
                    &CfnPermission {
                        action: "lambda:InvokeFunction".into(),
                        function_name: function.arn(),
                        principal: "apigateway.amazonaws.com".into(),
                        source_arn: self.route_arn("*", "/*"),
                    },
                )?;
                stack.suppress(
                    &permission,
                    "LAMBDA-PERMISSION-SOURCE",
                    "SourceArn names this API's execute-api ARN through Fn::Sub, which cfn-guard cannot resolve statically",
                )?;
                self.integrations
                    .insert(function.logical_id.clone(), id.clone());
                id
            }
        };
        let route_path = sid(&[route_key]);
        stack.add(
            &format!("{}/Route{route_path}", self.path),
            &CfnRoute {
                api_id: Expr::reference(&self.logical_id),
                route_key: route_key.to_owned(),
                authorization_type: match authorization {
                    RouteAuthorization::Iam => "AWS_IAM".into(),
                    RouteAuthorization::None => "NONE".into(),
                },
                target: Expr::sub(format!("integrations/${{{integration}}}")),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::constructs::function::{FunctionCode, FunctionProps};
    use crate::test_support::{assert_no_unsuppressed_errors, stack};

    fn api_with_function() -> (Stack, HttpApi, Function) {
        let mut stack = stack();
        let code = FunctionCode {
            bucket: "b".into(),
            key: "k".into(),
            version: None,
        };
        let function = Function::new(
            &mut stack,
            "Handler",
            FunctionProps::new("handler", "test", code),
        )
        .unwrap();
        let api = HttpApi::new(&mut stack, "Api", HttpApiProps::new("test-api", "test")).unwrap();
        (stack, api, function)
    }

    #[test]
    fn routes_use_iam_auth_and_one_integration_and_permission_per_function() {
        let (mut stack, mut api, function) = api_with_function();
        api.add_lambda_route(
            &mut stack,
            "POST /uploads",
            &function,
            RouteAuthorization::Iam,
        )
        .unwrap();
        let route = api
            .add_lambda_route(
                &mut stack,
                "GET /images/{imageId}",
                &function,
                RouteAuthorization::Iam,
            )
            .unwrap();
        let synth = stack.synth().unwrap();
        let count = |ty: &str| {
            synth
                .template
                .resources
                .values()
                .filter(|r| r.resource_type == ty)
                .count()
        };
        assert_eq!(count("AWS::ApiGatewayV2::Route"), 2);
        assert_eq!(count("AWS::ApiGatewayV2::Integration"), 1);
        assert_eq!(count("AWS::Lambda::Permission"), 1);
        let r = &synth.template.resources[&route];
        assert_eq!(r.property("AuthorizationType"), Some(&json!("AWS_IAM")));
        assert_eq!(
            r.property("RouteKey"),
            Some(&json!("GET /images/{imageId}"))
        );
        assert_eq!(
            r.property("Target"),
            Some(&json!({"Fn::Sub": "integrations/${ApiHandlerIntegration}"}))
        );
        let permission = &synth.template.resources["ApiHandlerPermission"];
        assert_eq!(
            permission.property("Principal"),
            Some(&json!("apigateway.amazonaws.com"))
        );
        assert!(
            permission
                .property("SourceArn")
                .unwrap()
                .to_string()
                .contains("${Api}/*/*/*")
        );
        assert_no_unsuppressed_errors(&synth);
    }

    #[test]
    fn the_stage_logs_access_and_throttles() {
        let (stack, _api, _f) = api_with_function();
        let synth = stack.synth().unwrap();
        let stage = &synth.template.resources["ApiDefaultStage"];
        assert_eq!(stage.property("StageName"), Some(&json!("$default")));
        assert_eq!(
            stage.property("AccessLogSettings.DestinationArn"),
            Some(&json!({"Fn::GetAtt": ["ApiAccessLogs", "Arn"]}))
        );
        assert_eq!(
            stage.property("DefaultRouteSettings.ThrottlingBurstLimit"),
            Some(&json!(50))
        );
    }

    #[test]
    fn an_unauthorized_route_is_reported_and_a_bad_route_key_rejected() {
        let (mut stack, mut api, function) = api_with_function();
        assert!(
            api.add_lambda_route(
                &mut stack,
                "FETCH images",
                &function,
                RouteAuthorization::Iam
            )
            .is_err()
        );
        api.add_lambda_route(&mut stack, "GET /open", &function, RouteAuthorization::None)
            .unwrap();
        let synth = stack.synth().unwrap();
        let rules: Vec<&str> = synth
            .report
            .unsuppressed_errors()
            .map(|f| f.rule.as_str())
            .collect();
        assert_eq!(rules, vec!["API-ROUTE-AUTH"]);
    }
}
