//! The `argus-ci` stack: the GitHub Actions OIDC identity provider, and per deployed stage a deploy
//! role (assumed by the workflow through OIDC, no long-lived keys) and a CloudFormation execution
//! role (passed by the deploy role to CloudFormation, which creates the stage's resources).
//!
//! - beta: the deploy role is assumable only by jobs in the `beta` environment of the configured
//!   repository (`sub = repo:<owner>/<repo>:environment:beta`: the pull-request deploy job);
//! - prod: only by jobs in the `production` environment (`sub = repo:<owner>/<repo>:environment:production`),
//!   whose deployment branches the repository restricts to `main`.
//!
//! A deploy role may do only what deploying its stage needs: change sets and reads on its own
//! stack (and the toolkit stack, for `bootstrap`'s no-change check), its own prefix of the assets
//! bucket, and passing its execution role to CloudFormation. The execution role holds exactly the
//! actions CloudFormation's handlers need for the resource types of its stage's synthesized
//! template (the registry schemas, [`argus_cdk::registry`]), on resources of that stack only;
//! every role it creates carries the stage's permissions boundary. No `service:*` action, no
//! AdministratorAccess, no managed policies but the boundaries.
//! See <https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services>.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use argus_cdk::bootstrap::{TOOLKIT_STACK_NAME, assets_bucket_name};
use argus_cdk::constructs::{Role, RoleProps};
use argus_cdk::iam::{PolicyDocument, Principal, Statement};
use argus_cdk::registry::{RESOURCELESS_HANDLER_ACTIONS, service_of, template_actions};
use argus_cdk::resources::iam::{CfnManagedPolicy, CfnOidcProvider};
use argus_cdk::stack::RoleDefaults;
use argus_cdk::{Expr, Output, Stack, SynthError};
use serde::Deserialize;

use crate::app::{AUDITED_STAGES, QUALIFIER};
use crate::config::{ConfigError, StageConfig};
use crate::pipeline::pipeline_stack;

/// The CI stack's name.
pub const CI_STACK_NAME: &str = "argus-ci";
/// GitHub Actions' OIDC issuer.
pub const GITHUB_OIDC_URL: &str = "https://token.actions.githubusercontent.com";
/// The audience the AWS credentials action requests.
pub const STS_AUDIENCE: &str = "sts.amazonaws.com";

/// `stacks/config/ci.toml`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CiConfig {
    /// `owner/name` of the GitHub repository.
    pub repository: String,
    /// The GitHub environment of the prod workflow.
    pub production_environment: String,
    /// The GitHub environment of the beta (pull request) deploy job.
    #[serde(default = "default_beta_environment")]
    pub beta_environment: String,
}

fn default_beta_environment() -> String {
    "beta".into()
}

impl CiConfig {
    /// Reads and validates `<dir>/ci.toml`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file and the field.
    pub fn load(dir: &Path) -> Result<Self, ConfigError> {
        let file = dir.join("ci.toml");
        let text = std::fs::read_to_string(&file).map_err(|source| ConfigError::Read {
            file: file.display().to_string(),
            source,
        })?;
        let config: CiConfig = toml::from_str(&text).map_err(|e| ConfigError::Field {
            file: file.display().to_string(),
            line: None,
            field: "(ci)".into(),
            message: e.message().trim().to_owned(),
        })?;
        let field = |field: &str, message: &str| ConfigError::Field {
            file: file.display().to_string(),
            line: None,
            field: field.into(),
            message: message.into(),
        };
        let valid_part = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        match config.repository.split_once('/') {
            Some((owner, name)) if valid_part(owner) && valid_part(name) => {}
            _ => {
                return Err(field(
                    "repository",
                    "must be `owner/name` of a GitHub repository",
                ));
            }
        }
        if !valid_part(&config.production_environment) {
            return Err(field(
                "production_environment",
                "must be a GitHub environment name",
            ));
        }
        if !valid_part(&config.beta_environment)
            || config.beta_environment == config.production_environment
        {
            return Err(field(
                "beta_environment",
                "must be a GitHub environment name other than the production one",
            ));
        }
        Ok(config)
    }
}

/// The tag every HTTP API of a stage carries, `argus:stack = <stack name>`: the execution role
/// may change only APIs with its own stack's tag (API Gateway has no names in its ARNs).
pub const STACK_TAG: &str = "argus:stack";

/// The name of the managed policy that bounds every role of a stage (`argus-beta-permissions-boundary`).
pub fn permissions_boundary_name(stack_name: &str) -> String {
    format!("{stack_name}-permissions-boundary")
}

/// The ARN of a stage's permissions boundary (`Fn::Sub`).
pub fn permissions_boundary_arn(stack_name: &str) -> Expr {
    Expr::arn(
        "iam",
        "",
        "${AWS::AccountId}",
        &format!("policy/{}", permissions_boundary_name(stack_name)),
    )
}

/// The IAM path of a stage's roles (`/argus-beta/`): the execution role manages and passes only
/// `role/argus-beta/*`.
pub fn role_path(stack_name: &str) -> String {
    format!("/{stack_name}/")
}

/// The key prefix of a stage's objects in the assets bucket (`argus-beta/`): bundles and large
/// templates. Only that stage's deploy role writes it and only its execution role reads it, so
/// the prod deploy never takes an object beta could have written.
pub fn asset_prefix(stack_name: &str) -> String {
    format!("{stack_name}/")
}

/// The role defaults of a stage deployed by CI (beta, prod): its role path and permissions
/// boundary. `None` for the local stage, which no CI role deploys (the twin has no boundary
/// policy).
pub fn stage_role_defaults(config: &StageConfig) -> Option<RoleDefaults> {
    AUDITED_STAGES
        .contains(&config.stage.as_str())
        .then(|| RoleDefaults {
            path: Some(role_path(&config.stack_name)),
            permissions_boundary: Some(permissions_boundary_arn(&config.stack_name)),
        })
}

/// Builds the CI stack for the given (deployed) stages: beta and prod. Each stage's execution
/// role is written from that stage's synthesized template ([`execution_statements`]), and its
/// permissions boundary from the template's roles ([`boundary_statements`]).
///
/// # Errors
/// [`SynthError`] when a construct refuses, a stage's template holds a resource type with no
/// known handler permissions, or an action has no stage scope.
pub fn ci_stack(ci: &CiConfig, stages: &[StageConfig]) -> Result<Stack, SynthError> {
    let mut stack = Stack::new(
        CI_STACK_NAME,
        "Argus CI: GitHub Actions OIDC provider and least-privilege deploy roles per stage",
    )?;
    stack.set_termination_protection(true);
    stack.add_resourceless_actions(RESOURCELESS_HANDLER_ACTIONS.iter().copied());
    stack.add_resourceless_actions(["lambda:CreateEventSourceMapping"]);
    let provider = stack.add(
        "GitHubOidcProvider",
        &CfnOidcProvider {
            url: GITHUB_OIDC_URL.into(),
            client_id_list: vec![STS_AUDIENCE.into()],
        },
    )?;
    stack.add_output(
        "GitHubOidcProviderArn",
        Output::new(
            "GitHub Actions OIDC identity provider",
            Expr::reference(&provider),
        ),
    );
    let assets = assets_bucket_name(QUALIFIER);
    for stage in stages {
        let title = heck::AsUpperCamelCase(&stage.stage).to_string();
        let name = &stage.stack_name;
        let template = pipeline_stack(stage)?.synth()?.template;

        // The boundary every role of the stage carries.
        stack.add(
            &format!("{title}/PermissionsBoundary"),
            &CfnManagedPolicy {
                managed_policy_name: permissions_boundary_name(name),
                description: format!(
                    "The most any {name} role may do: the actions its roles are granted, on {name} resources"
                ),
                policy_document: PolicyDocument::new(boundary_statements(name, &template)?),
                roles: Vec::new(),
            },
        )?;

        // The execution role CloudFormation assumes to create this stage's resources.
        let execution = Role::new(
            &mut stack,
            &format!("{title}/ExecutionRole"),
            RoleProps::for_service(
                "cloudformation.amazonaws.com",
                format!("CloudFormation creates the {name} resources with this role"),
            ),
        )?;
        let actions = template_actions(name, &template)?;
        // IAM allows 10,240 characters of inline policy per role and 6,144 per managed policy:
        // the storage services' statements go to a customer managed policy of this stack
        // attached to the role, the rest inline.
        let (storage, rest): (Vec<_>, Vec<_>) = execution_statements(name, &assets, &actions)?
            .into_iter()
            .partition(|s| {
                s.sid
                    .as_deref()
                    .is_some_and(|sid| STORAGE_SIDS.contains(&sid))
            });
        for statement in rest {
            execution.add_to_policy(&mut stack, statement)?;
        }
        stack.add(
            &format!("{title}/ExecutionStoragePolicy"),
            &CfnManagedPolicy {
                managed_policy_name: format!("{name}-execution-storage"),
                description: format!(
                    "What CloudFormation needs for the {name} buckets and tables (part of its execution role)"
                ),
                policy_document: PolicyDocument::new(storage),
                roles: vec![Expr::reference(&execution.logical_id)],
            },
        )?;

        // The deploy role the workflow assumes through GitHub OIDC.
        let subject = match stage.stage.as_str() {
            "prod" => format!(
                "repo:{}:environment:{}",
                ci.repository, ci.production_environment
            ),
            _ => format!("repo:{}:environment:{}", ci.repository, ci.beta_environment),
        };
        let mut props = RoleProps::for_service(
            "unused",
            format!("GitHub Actions deploys {name} with this role ({subject})"),
        );
        props.assumed_by = Principal::Federated(Expr::reference(&provider));
        props.assume_action = "sts:AssumeRoleWithWebIdentity".into();
        props.trust_conditions = vec![
            (
                "StringEquals".into(),
                "token.actions.githubusercontent.com:aud".into(),
                STS_AUDIENCE.into(),
            ),
            (
                "StringEquals".into(),
                "token.actions.githubusercontent.com:sub".into(),
                Expr::Str(subject),
            ),
        ];
        props.max_session_duration = Some(3600);
        let deploy = Role::new(&mut stack, &format!("{title}/DeployRole"), props)?;
        for statement in deploy_statements(name, &assets, &execution) {
            deploy.add_to_policy(&mut stack, statement)?;
        }
        stack.add_output(
            &format!("{title}DeployRoleArn"),
            Output::new(
                format!("Role the {name} workflow assumes (role-to-assume)"),
                deploy.arn(),
            ),
        );
        stack.add_output(
            &format!("{title}ExecutionRoleArn"),
            Output::new(
                format!("Role CloudFormation uses for {name} (ARGUS_EXECUTION_ROLE_ARN)"),
                execution.arn(),
            ),
        );
    }
    Ok(stack)
}

/// What a stage's deploy role may do: change sets and reads on its own stack (and the toolkit
/// stack, for `bootstrap`'s no-change check), its own prefix of the assets bucket (read and
/// write: bundles and large templates), and passing its execution role to CloudFormation.
fn deploy_statements(stack_name: &str, assets: &str, execution: &Role) -> Vec<Statement> {
    let stack_arn = |stack_name: &str| {
        Expr::arn(
            "cloudformation",
            "${AWS::Region}",
            "${AWS::AccountId}",
            &format!("stack/{stack_name}/*"),
        )
    };
    let prefix = asset_prefix(stack_name);
    vec![
        Statement::allow(
            [
                "cloudformation:CreateChangeSet",
                "cloudformation:DescribeChangeSet",
                "cloudformation:ExecuteChangeSet",
                "cloudformation:DeleteChangeSet",
                "cloudformation:ListChangeSets",
                "cloudformation:DescribeStacks",
                "cloudformation:DescribeStackEvents",
                "cloudformation:GetTemplate",
                "cloudformation:ListStackResources",
                "cloudformation:UpdateTerminationProtection",
            ],
            vec![stack_arn(stack_name), stack_arn(TOOLKIT_STACK_NAME)],
        )
        .with_sid("OwnStackChangeSets"),
        Statement::allow(
            ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
            vec![Expr::arn("s3", "", "", &format!("{assets}/{prefix}*"))],
        )
        .with_sid("PublishOwnAssets"),
        Statement::allow(["s3:ListBucket"], vec![Expr::arn("s3", "", "", assets)])
            .with_sid("FindOwnAssets")
            .with_condition("StringLike", "s3:prefix", Expr::str(format!("{prefix}*"))),
        Statement::allow(["iam:PassRole"], vec![execution.arn()])
            .with_sid("PassExecutionRole")
            .with_condition(
                "StringEquals",
                "iam:PassedToService",
                "cloudformation.amazonaws.com".into(),
            ),
    ]
}

/// Where the actions of one service may act for a stage: resources named after the stack, and
/// conditions.
struct Scope {
    resources: Vec<Expr>,
    conditions: Vec<(&'static str, String, Expr)>,
}

impl Scope {
    fn on(resources: Vec<Expr>) -> Self {
        Scope {
            resources,
            conditions: Vec::new(),
        }
    }

    fn when(mut self, operator: &'static str, key: &str, value: Expr) -> Self {
        self.conditions.push((operator, key.to_owned(), value));
        self
    }
}

/// A regional ARN in this account.
fn regional(service: &str, resource: &str) -> Expr {
    Expr::arn(service, "${AWS::Region}", "${AWS::AccountId}", resource)
}

/// The resources of `service` named after stack `s` (as CloudFormation and the stage name
/// them: `<stack>-…`), or `None` for a service a stage has no resources of.
fn service_scope(service: &str, s: &str) -> Option<Scope> {
    Some(match service {
        "s3" => Scope::on(vec![
            Expr::arn("s3", "", "", &format!("{s}-*")),
            Expr::arn("s3", "", "", &format!("{s}-*/*")),
        ]),
        "sqs" | "sns" => Scope::on(vec![regional(service, &format!("{s}-*"))]),
        "dynamodb" => Scope::on(vec![
            regional("dynamodb", &format!("table/{s}-*")),
            regional("dynamodb", &format!("table/{s}-*/*")),
        ]),
        "lambda" => Scope::on(vec![
            regional("lambda", &format!("function:{s}-*")),
            regional("lambda", &format!("function:{s}-*:*")),
            regional("lambda", &format!("layer:{s}-*")),
            regional("lambda", &format!("layer:{s}-*:*")),
        ]),
        "logs" => Scope::on(vec![
            regional("logs", &format!("log-group:/aws/lambda/{s}-*")),
            regional("logs", &format!("log-group:{s}-*")),
        ]),
        "cloudwatch" => Scope::on(vec![regional("cloudwatch", &format!("alarm:{s}-*"))]),
        "kinesis" => Scope::on(vec![regional("kinesis", &format!("stream/{s}-*"))]),
        "firehose" => Scope::on(vec![regional("firehose", &format!("deliverystream/{s}-*"))]),
        "s3tables" => Scope::on(vec![regional("s3tables", &format!("bucket/{s}-*"))]),
        // KMS key ARNs hold no name: keys CloudFormation created for this stack.
        "kms" => Scope::on(vec![regional("kms", "key/*")]).when(
            "StringEquals",
            "aws:ResourceTag/aws:cloudformation:stack-name",
            Expr::str(s),
        ),
        "iam" => Scope::on(vec![Expr::arn(
            "iam",
            "",
            "${AWS::AccountId}",
            &format!("role{}*", role_path(s)),
        )]),
        _ => return None,
    })
}

/// The execution role statements kept in its attached managed policy (see [`ci_stack`]).
const STORAGE_SIDS: &[&str] = &[
    "StageS3",
    "StageDynamodb",
    "StageS3tables",
    "StageKinesis",
    "StageFirehose",
];

/// IAM actions that create a role or widen what it may do: each needs the stage's permissions
/// boundary on the role (`iam:PermissionsBoundary`).
pub const BOUNDED_ROLE_ACTIONS: &[&str] = &[
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
];

/// Actions on an event source mapping that the `lambda:FunctionArn` condition key limits to the
/// stage's functions.
const ESM_WRITE_ACTIONS: &[&str] = &[
    "lambda:CreateEventSourceMapping",
    "lambda:DeleteEventSourceMapping",
    "lambda:UpdateEventSourceMapping",
];

/// What CloudFormation needs to create, update and delete one stage's resources: exactly
/// `actions` (the handler permissions of the stage template's resource types,
/// [`argus_cdk::registry::template_actions`]), each on the stage's own resources:
///
/// - named resources on `<stack>-…` ARNs, roles on `role/<stack>/…`, KMS keys by the
///   `aws:cloudformation:stack-name` tag, HTTP APIs by the [`STACK_TAG`] tag;
/// - role writes only with the stage's permissions boundary; removing or changing the boundary
///   is denied; roles are passed only to Lambda;
/// - event source mapping writes only for the stage's functions (`lambda:FunctionArn`);
/// - the bundles read from the stage's own prefix of the assets bucket;
/// - list and describe actions that support no resource on `*`, in a statement of their own.
///
/// # Errors
/// [`SynthError::InvalidConstruct`] for an action of a service no stage scope covers.
pub fn execution_statements(
    stack_name: &str,
    assets: &str,
    actions: &BTreeSet<&str>,
) -> Result<Vec<Statement>, SynthError> {
    let s = stack_name;
    let mut resourceless = Vec::new();
    let mut bounded = Vec::new();
    let mut pass_role = false;
    let mut service_linked = Vec::new();
    let mut esm_create = Vec::new();
    let mut esm_writes = Vec::new();
    let mut esm_reads = Vec::new();
    let mut api_create = Vec::new();
    let mut api = Vec::new();
    let mut by_service: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for &action in actions {
        match action {
            a if RESOURCELESS_HANDLER_ACTIONS.contains(&a) => resourceless.push(a),
            "iam:DeleteRolePermissionsBoundary" => {} // denied below
            "iam:PassRole" => pass_role = true,
            "iam:CreateServiceLinkedRole" => service_linked.push(action),
            a if BOUNDED_ROLE_ACTIONS.contains(&a) => bounded.push(a),
            "lambda:CreateEventSourceMapping" => esm_create.push(action),
            a if ESM_WRITE_ACTIONS.contains(&a) => esm_writes.push(a),
            "lambda:GetEventSourceMapping" => esm_reads.push(action),
            a if service_of(a) == "apigateway" => {
                if a == "apigateway:POST" {
                    api_create.push(a);
                }
                api.push(a);
            }
            a => by_service.entry(service_of(a)).or_default().push(a),
        }
    }
    let mut statements = Vec::new();
    let function_arns = || Expr::str(format!("arn:*:lambda:*:*:function:{s}-*"));
    for (service, list) in &by_service {
        let scope = service_scope(service, s).ok_or_else(|| SynthError::InvalidConstruct {
            construct: s.to_owned(),
            reason: format!(
                "no {s} scope for {}: name its resources in ci.rs service_scope",
                list.join(", ")
            ),
        })?;
        let mut statement = Statement::allow(list.iter().copied(), scope.resources)
            .with_sid(format!("Stage{}", heck::AsUpperCamelCase(service)));
        for (operator, key, value) in scope.conditions {
            statement = statement.with_condition(operator, &key, value);
        }
        statements.push(statement);
    }
    let prefix = asset_prefix(s);
    if actions.contains("s3:GetObject") {
        statements.push(
            Statement::allow(
                ["s3:GetObject", "s3:GetObjectVersion"],
                vec![Expr::arn("s3", "", "", &format!("{assets}/{prefix}*"))],
            )
            .with_sid("ReadOwnAssets"),
        );
    }
    let boundary = permissions_boundary_arn(s);
    let roles = || {
        vec![Expr::arn(
            "iam",
            "",
            "${AWS::AccountId}",
            &format!("role{}*", role_path(s)),
        )]
    };
    if !bounded.is_empty() {
        statements.push(
            Statement::allow(bounded, roles())
                .with_sid("StageRolesWithBoundary")
                .with_condition("StringEquals", "iam:PermissionsBoundary", boundary.clone()),
        );
    }
    if pass_role {
        statements.push(
            Statement::allow(["iam:PassRole"], roles())
                .with_sid("PassStageRolesToLambda")
                .with_condition(
                    "StringEquals",
                    "iam:PassedToService",
                    "lambda.amazonaws.com".into(),
                ),
        );
    }
    if !service_linked.is_empty() {
        statements.push(
            Statement::allow(
                service_linked,
                vec![Expr::arn(
                    "iam",
                    "",
                    "${AWS::AccountId}",
                    "role/aws-service-role/*",
                )],
            )
            .with_sid("DynamoDbServiceLinkedRoles")
            .with_condition(
                "StringLike",
                "iam:AWSServiceName",
                "*.dynamodb.amazonaws.com".into(),
            ),
        );
    }
    if !esm_create.is_empty() {
        statements.push(
            Statement::allow(esm_create, vec!["*".into()])
                .with_sid("CreateStageEventSourceMappings")
                .with_condition("ArnLike", "lambda:FunctionArn", function_arns()),
        );
    }
    if !esm_writes.is_empty() {
        statements.push(
            Statement::allow(
                esm_writes,
                vec![regional("lambda", "event-source-mapping:*")],
            )
            .with_sid("StageEventSourceMappings")
            .with_condition("ArnLike", "lambda:FunctionArn", function_arns()),
        );
    }
    if !esm_reads.is_empty() {
        statements.push(
            Statement::allow(
                esm_reads,
                vec![regional("lambda", "event-source-mapping:*")],
            )
            .with_sid("ReadEventSourceMappings"),
        );
    }
    let apigateway = |path: &str| Expr::arn("apigateway", "${AWS::Region}", "", path);
    if !api_create.is_empty() {
        statements.push(
            Statement::allow(api_create, vec![apigateway("/apis")])
                .with_sid("CreateStageHttpApi")
                .with_condition(
                    "StringEquals",
                    &format!("aws:RequestTag/{STACK_TAG}"),
                    Expr::str(s),
                ),
        );
    }
    if !api.is_empty() {
        statements.push(
            Statement::allow(api, vec![apigateway("/apis/*"), apigateway("/tags/*")])
                .with_sid("StageHttpApi")
                .with_condition(
                    "StringEquals",
                    &format!("aws:ResourceTag/{STACK_TAG}"),
                    Expr::str(s),
                ),
        );
    }
    if !resourceless.is_empty() {
        statements
            .push(Statement::allow(resourceless, vec!["*".into()]).with_sid("ListAndDescribe"));
    }
    statements.push(
        Statement::deny(["iam:DeleteRolePermissionsBoundary"], vec!["*".into()])
            .with_sid("DenyBoundaryRemoval"),
    );
    statements.push(
        Statement::deny(
            [
                "iam:CreatePolicyVersion",
                "iam:DeletePolicy",
                "iam:DeletePolicyVersion",
                "iam:SetDefaultPolicyVersion",
            ],
            vec![boundary],
        )
        .with_sid("DenyBoundaryChange"),
    );
    Ok(statements)
}

/// The permissions boundary of a stage: per service, the actions the stage template's roles are
/// granted, on the stage's own resources ([`service_scope`]); actions a role holds on `*` (the
/// Rekognition ones, which support no resource) stay on `*` in a statement of their own.
///
/// # Errors
/// [`SynthError::InvalidConstruct`] for a granted action of a service no stage scope covers.
pub fn boundary_statements(
    stack_name: &str,
    template: &argus_cdk::Template,
) -> Result<Vec<Statement>, SynthError> {
    let mut scoped: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut resourceless = BTreeSet::new();
    for resource in template.resources.values() {
        if resource.resource_type != "AWS::IAM::Role" {
            continue;
        }
        let statements = resource
            .property("Policies")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p.pointer("/PolicyDocument/Statement")?.as_array())
            .flatten();
        for statement in statements {
            if statement["Effect"] != "Allow" {
                continue;
            }
            let on_any = statement["Resource"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r == "*"));
            let actions = statement["Action"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(serde_json::Value::as_str);
            for action in actions {
                if on_any {
                    resourceless.insert(action.to_owned());
                } else {
                    scoped
                        .entry(service_of(action).to_owned())
                        .or_default()
                        .insert(action.to_owned());
                }
            }
        }
    }
    let mut statements = Vec::new();
    for (service, actions) in scoped {
        let scope =
            service_scope(&service, stack_name).ok_or_else(|| SynthError::InvalidConstruct {
                construct: stack_name.to_owned(),
                reason: format!("no scope for the role actions of {service}"),
            })?;
        let mut statement = Statement::allow(actions, scope.resources)
            .with_sid(format!("Stage{}", heck::AsUpperCamelCase(&service)));
        for (operator, key, value) in scope.conditions {
            statement = statement.with_condition(operator, &key, value);
        }
        statements.push(statement);
    }
    if !resourceless.is_empty() {
        statements.push(Statement::allow(resourceless, vec!["*".into()]).with_sid("Resourceless"));
    }
    Ok(statements)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn synth() -> argus_cdk::template::Template {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let stages: Vec<_> = ["beta", "prod"]
            .iter()
            .map(|s| StageConfig::load(&dir, s).unwrap())
            .collect();
        let synth = ci_stack(&CiConfig::load(&dir).unwrap(), &stages)
            .unwrap()
            .synth()
            .unwrap();
        assert_eq!(synth.report.unsuppressed_errors().count(), 0);
        synth.template
    }

    fn trust(t: &argus_cdk::template::Template, id: &str) -> Value {
        t.resources[id]
            .property("AssumeRolePolicyDocument.Statement.0")
            .unwrap()
            .clone()
    }

    #[test]
    fn beta_is_assumable_only_from_the_beta_environment_and_prod_only_from_production() {
        let t = synth();
        let beta = trust(&t, "BetaDeployRole");
        assert_eq!(beta["Action"], json!(["sts:AssumeRoleWithWebIdentity"]));
        assert_eq!(
            beta["Principal"],
            json!({"Federated": {"Ref": "GitHubOidcProvider"}})
        );
        assert_eq!(
            beta["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"],
            "repo:argus-dev/argus:environment:beta"
        );
        assert_eq!(
            beta["Condition"]["StringEquals"]["token.actions.githubusercontent.com:aud"],
            "sts.amazonaws.com"
        );
        let prod = trust(&t, "ProdDeployRole");
        assert_eq!(
            prod["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"],
            "repo:argus-dev/argus:environment:production"
        );
        assert_eq!(
            t.resources["GitHubOidcProvider"].property("Url"),
            Some(&json!(GITHUB_OIDC_URL))
        );
    }

    /// Every statement of a role's inline policy and of the managed policies attached to it.
    fn role_statements(t: &argus_cdk::template::Template, role: &str) -> Vec<Value> {
        let mut out: Vec<Value> = t.resources[role]
            .property("Policies.0.PolicyDocument.Statement")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for r in t.resources.values() {
            let attached = r
                .property("Roles")
                .and_then(Value::as_array)
                .is_some_and(|roles| roles.contains(&json!({"Ref": role})));
            if r.resource_type == "AWS::IAM::ManagedPolicy" && attached {
                out.extend(
                    r.property("PolicyDocument.Statement")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default(),
                );
            }
        }
        out
    }

    fn strings(v: &Value) -> Vec<String> {
        match v {
            Value::Array(list) => list.iter().flat_map(strings).collect(),
            Value::String(s) => vec![s.clone()],
            Value::Object(o) => o.get("Fn::Sub").map(strings).unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// A resource pattern with the pseudo parameters resolved for account 123456789012 in
    /// eu-west-1 (`Fn::GetAtt`s are left out: they name resources of the CI stack itself).
    fn resolved(v: &Value) -> Vec<String> {
        strings(v)
            .into_iter()
            .map(|s| {
                s.replace("${AWS::Partition}", "aws")
                    .replace("${AWS::AccountId}", ACCOUNT)
                    .replace("${AWS::Region}", "eu-west-1")
            })
            .collect()
    }

    const ACCOUNT: &str = "123456789012";

    /// IAM's ARN matching: `*` matches any run of characters (`/` included), `?` one.
    fn matches(pattern: &str, arn: &str) -> bool {
        fn go(p: &[u8], a: &[u8]) -> bool {
            match p.split_first() {
                None => a.is_empty(),
                Some((b'*', rest)) => (0..=a.len()).any(|i| go(rest, &a[i..])),
                Some((b'?', rest)) => !a.is_empty() && go(rest, &a[1..]),
                Some((c, rest)) => a.first() == Some(c) && go(rest, &a[1..]),
            }
        }
        go(pattern.as_bytes(), arn.as_bytes())
    }

    /// Real ARNs of one stage's resources as CloudFormation names them, and its assets.
    fn stage_resources(stack: &str) -> Vec<String> {
        let a = ACCOUNT;
        vec![
            format!("arn:aws:s3:::{stack}-input-{a}-eu-west-1"),
            format!("arn:aws:s3:::{stack}-input-{a}-eu-west-1/incoming/x.jpg"),
            format!("arn:aws:s3:::{stack}-accesslogs-1a2b3c"),
            format!("arn:aws:s3:::argus-assets-{a}-eu-west-1/{stack}/ab12.zip"),
            format!("arn:aws:sqs:eu-west-1:{a}:{stack}-Ingest-1A2B3C"),
            format!("arn:aws:sns:eu-west-1:{a}:{stack}-Alerts-1A2B3C"),
            format!("arn:aws:dynamodb:eu-west-1:{a}:table/{stack}-Results-1A2B3C"),
            format!("arn:aws:lambda:eu-west-1:{a}:function:{stack}-processor"),
            format!("arn:aws:logs:eu-west-1:{a}:log-group:/aws/lambda/{stack}-processor"),
            format!("arn:aws:cloudwatch:eu-west-1:{a}:alarm:{stack}-AlarmsDeadLetters-1A2B"),
            format!("arn:aws:iam::{a}:role/{stack}/{stack}-ProcessorServiceRole-1A2B"),
            format!("arn:aws:iam::{a}:policy/{stack}-permissions-boundary"),
        ]
    }

    /// Statements whose `Resource` names no resource (`*`, key or API IDs) and that are
    /// therefore held to their stage by a condition: the condition must name the stage.
    fn condition_names(statement: &Value, stack: &str) -> bool {
        let text = statement["Condition"].to_string();
        text.contains(&format!("function:{stack}-*"))
            || text.contains(&format!("\"{stack}\""))
            || text.contains(&format!("{stack}-permissions-boundary"))
    }

    #[test]
    fn no_beta_statement_reaches_a_prod_resource_and_the_reverse() {
        let t = synth();
        for (own, other) in [("Beta", "Prod"), ("Prod", "Beta")] {
            let own_stack = format!("argus-{}", own.to_lowercase());
            let other_stack = format!("argus-{}", other.to_lowercase());
            let mut reached_own = 0;
            for role in [format!("{own}ExecutionRole"), format!("{own}DeployRole")] {
                for s in role_statements(&t, &role) {
                    if s["Effect"] != "Allow" {
                        continue;
                    }
                    let patterns = resolved(&s["Resource"]);
                    for pattern in &patterns {
                        for arn in stage_resources(&other_stack) {
                            assert!(
                                !matches(pattern, &arn)
                                    || condition_names(&s, &own_stack)
                                    || (pattern == "*" && s["Sid"] == "ListAndDescribe"),
                                "{role} statement {} reaches {arn} through {pattern}",
                                s["Sid"]
                            );
                        }
                        reached_own += stage_resources(&own_stack)
                            .iter()
                            .filter(|arn| matches(pattern, arn))
                            .count();
                    }
                    // Statements on IDs or `*` are held by a condition naming the stage, or
                    // only list and describe.
                    let unnamed = patterns.iter().any(|p| {
                        p == "*"
                            || p.ends_with("key/*")
                            || p.contains("::/apis")
                            || p.contains("::/tags")
                            || p.ends_with("event-source-mapping:*")
                            || p.ends_with("role/aws-service-role/*")
                    });
                    if unnamed {
                        assert!(
                            condition_names(&s, &own_stack)
                                || s["Sid"] == "ListAndDescribe"
                                || s["Sid"] == "ReadEventSourceMappings"
                                || s["Sid"] == "DynamoDbServiceLinkedRoles",
                            "{role}: {s}"
                        );
                    }
                }
            }
            assert!(
                reached_own > 20,
                "{own}'s roles reach their own stage ({reached_own})"
            );
        }
    }

    #[test]
    fn a_beta_deploy_cannot_write_a_prod_asset_key() {
        let t = synth();
        let prod_key = format!("arn:aws:s3:::argus-assets-{ACCOUNT}-eu-west-1/argus-prod/ab12.zip");
        let beta_key = format!("arn:aws:s3:::argus-assets-{ACCOUNT}-eu-west-1/argus-beta/ab12.zip");
        let writes = |role: &str, arn: &str| {
            role_statements(&t, role).iter().any(|s| {
                s["Effect"] == "Allow"
                    && strings(&s["Action"]).iter().any(|a| a == "s3:PutObject")
                    && resolved(&s["Resource"]).iter().any(|p| matches(p, arn))
            })
        };
        assert!(writes("BetaDeployRole", &beta_key));
        assert!(!writes("BetaDeployRole", &prod_key));
        assert!(!writes("BetaExecutionRole", &prod_key));
        assert!(writes("ProdDeployRole", &prod_key));
        assert!(!writes("ProdDeployRole", &beta_key));
    }

    #[test]
    fn no_statement_has_a_wildcard_action() {
        let t = synth();
        let mut count = 0;
        for (id, r) in &t.resources {
            let docs = [
                r.property("Policies.0.PolicyDocument.Statement"),
                r.property("PolicyDocument.Statement"),
            ];
            for s in docs
                .into_iter()
                .flatten()
                .filter_map(Value::as_array)
                .flatten()
            {
                let on_any = strings(&s["Resource"]).iter().any(|r| r == "*");
                for action in strings(&s["Action"]) {
                    assert!(!action.contains('*'), "{id}: {action}");
                    // `Resource: *` only for actions that support no resource (and the two
                    // denies, which hold for every resource).
                    assert!(
                        !on_any
                            || s["Effect"] == "Deny"
                            || RESOURCELESS_HANDLER_ACTIONS.contains(&action.as_str())
                            || r.resource_type == "AWS::IAM::ManagedPolicy"
                                && action.starts_with("rekognition:")
                            || action == "lambda:CreateEventSourceMapping"
                                && s["Condition"]["ArnLike"]["lambda:FunctionArn"].is_string(),
                        "{id}: {action} on *"
                    );
                    count += 1;
                }
            }
        }
        assert!(count > 400, "{count} actions checked");
    }

    #[test]
    fn every_iam_write_that_creates_or_widens_a_role_requires_the_boundary() {
        let t = synth();
        for stage in ["Beta", "Prod"] {
            let stack = format!("argus-{}", stage.to_lowercase());
            let boundary = json!({"Fn::Sub": format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:policy/{stack}-permissions-boundary")});
            let statements = role_statements(&t, &format!("{stage}ExecutionRole"));
            let mut bounded = BTreeSet::new();
            for s in statements.iter().filter(|s| s["Effect"] == "Allow") {
                for action in strings(&s["Action"]) {
                    if BOUNDED_ROLE_ACTIONS.contains(&action.as_str()) {
                        assert_eq!(
                            s["Condition"]["StringEquals"]["iam:PermissionsBoundary"], boundary,
                            "{stage}: {action}"
                        );
                        bounded.insert(action.clone());
                    }
                    assert_ne!(action, "iam:DeleteRolePermissionsBoundary");
                    if action == "iam:PassRole" {
                        assert_eq!(
                            s["Condition"]["StringEquals"]["iam:PassedToService"],
                            "lambda.amazonaws.com"
                        );
                        assert_eq!(
                            resolved(&s["Resource"]),
                            [format!("arn:aws:iam::{ACCOUNT}:role/{stack}/*")]
                        );
                    }
                }
            }
            assert!(bounded.contains("iam:CreateRole") && bounded.contains("iam:PutRolePolicy"));
            let denied: Vec<String> = statements
                .iter()
                .filter(|s| s["Effect"] == "Deny")
                .flat_map(|s| strings(&s["Action"]))
                .collect();
            for action in [
                "iam:DeleteRolePermissionsBoundary",
                "iam:CreatePolicyVersion",
                "iam:DeletePolicy",
            ] {
                assert!(
                    denied.iter().any(|d| d == action),
                    "{stage} denies {action}"
                );
            }
            // The stage's roles carry that boundary, under the stage's path.
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
            let config = StageConfig::load(&dir, &stage.to_lowercase()).unwrap();
            let template = pipeline_stack(&config).unwrap().synth().unwrap().template;
            let roles: Vec<_> = template
                .resources
                .values()
                .filter(|r| r.resource_type == "AWS::IAM::Role")
                .collect();
            assert!(!roles.is_empty());
            for r in roles {
                assert_eq!(r.property("PermissionsBoundary"), Some(&boundary));
                assert_eq!(r.property("Path"), Some(&json!(format!("/{stack}/"))));
            }
        }
    }

    #[test]
    fn event_source_mapping_and_http_api_statements_are_conditioned_on_the_stage() {
        let t = synth();
        for stage in ["Beta", "Prod"] {
            let stack = format!("argus-{}", stage.to_lowercase());
            for s in role_statements(&t, &format!("{stage}ExecutionRole")) {
                let actions = strings(&s["Action"]);
                let esm_write = actions
                    .iter()
                    .any(|a| ESM_WRITE_ACTIONS.contains(&a.as_str()));
                if esm_write {
                    assert_eq!(
                        s["Condition"]["ArnLike"]["lambda:FunctionArn"],
                        json!(format!("arn:*:lambda:*:*:function:{stack}-*")),
                        "{s}"
                    );
                }
                if actions.iter().any(|a| a.starts_with("apigateway:")) {
                    let tag = &s["Condition"]["StringEquals"];
                    assert!(
                        tag["aws:ResourceTag/argus:stack"] == json!(stack)
                            || tag["aws:RequestTag/argus:stack"] == json!(stack),
                        "{s}"
                    );
                }
            }
        }
    }

    #[test]
    fn execution_roles_hold_exactly_the_handler_permissions_of_their_stage_template() {
        let t = synth();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        for stage in ["beta", "prod"] {
            let config = StageConfig::load(&dir, stage).unwrap();
            let template = pipeline_stack(&config).unwrap().synth().unwrap().template;
            let expected: BTreeSet<String> = template_actions(stage, &template)
                .unwrap()
                .into_iter()
                .map(str::to_owned)
                .collect();
            let role = format!("{}ExecutionRole", heck::AsUpperCamelCase(stage));
            let mut granted: BTreeSet<String> = role_statements(&t, &role)
                .iter()
                .filter(|s| s["Effect"] == "Allow")
                .flat_map(|s| strings(&s["Action"]))
                .collect();
            // Removing a boundary is a handler action for roles, and the one denied.
            granted.insert("iam:DeleteRolePermissionsBoundary".into());
            assert_eq!(granted, expected, "{stage}");
            assert!(
                t.resources[role.as_str()]
                    .property("ManagedPolicyArns")
                    .is_none(),
                "{role}: no managed policy by ARN"
            );
        }
    }

    #[test]
    fn a_deploy_role_may_only_deploy_its_own_stage() {
        let t = synth();
        let statements = role_statements(&t, "BetaDeployRole");
        let text = Value::Array(statements.clone()).to_string();
        assert!(text.contains("stack/argus-beta/*") && text.contains("stack/argus-toolkit/*"));
        assert!(
            !text.contains("argus-prod"),
            "the beta role reaches no prod resource"
        );
        assert!(!text.contains("\"*\""), "no wildcard resource");
        let pass = statements
            .iter()
            .find(|s| s["Sid"] == "PassExecutionRole")
            .unwrap();
        assert_eq!(
            pass["Resource"],
            json!([{"Fn::GetAtt": ["BetaExecutionRole", "Arn"]}])
        );
        assert_eq!(
            pass["Condition"]["StringEquals"]["iam:PassedToService"],
            "cloudformation.amazonaws.com"
        );
    }

    #[test]
    fn a_bad_repository_names_the_field() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ci.toml"),
            "repository = \"no-slash\"\nproduction_environment = \"production\"\n",
        )
        .unwrap();
        let err = CiConfig::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("ci.toml") && err.contains("repository"),
            "{err}"
        );
    }
}
