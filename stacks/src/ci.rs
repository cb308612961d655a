//! The `argus-ci` stack: the GitHub Actions OIDC identity provider, and per deployed stage a deploy
//! role (assumed by the workflow through OIDC, no long-lived keys) and a CloudFormation execution
//! role (passed by the deploy role to CloudFormation, which creates the stage's resources).
//!
//! - beta: the deploy role is assumable only by pull-request workflows of the configured
//!   repository (`sub = repo:<owner>/<repo>:pull_request`);
//! - prod: only by jobs in the `production` environment (`sub = repo:<owner>/<repo>:environment:production`),
//!   whose deployment branches the repository restricts to `main`.
//!
//! A deploy role may do only what deploying its stage needs: change sets and reads on its own
//! stack (and the toolkit stack, for `bootstrap`'s no-change check), the assets bucket, and passing
//! its execution role to CloudFormation. The execution role manages resources named after its
//! stack only. No AdministratorAccess, no managed policies.
//! See <https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services>.

use std::path::Path;

use argus_cdk::bootstrap::{TOOLKIT_STACK_NAME, assets_bucket_name};
use argus_cdk::constructs::{Role, RoleProps};
use argus_cdk::iam::{Principal, Statement};
use argus_cdk::resources::iam::CfnOidcProvider;
use argus_cdk::{Expr, Output, Stack, SynthError};
use serde::Deserialize;

use crate::app::QUALIFIER;
use crate::config::{ConfigError, StageConfig};

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
        Ok(config)
    }
}

/// Builds the CI stack for the given (deployed) stages: beta and prod.
///
/// # Errors
/// [`SynthError`] when a construct refuses.
pub fn ci_stack(ci: &CiConfig, stages: &[StageConfig]) -> Result<Stack, SynthError> {
    let mut stack = Stack::new(
        CI_STACK_NAME,
        "Argus CI: GitHub Actions OIDC provider and least-privilege deploy roles per stage",
    )?;
    stack.set_termination_protection(true);
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

        // The execution role CloudFormation assumes to create this stage's resources.
        let execution = Role::new(
            &mut stack,
            &format!("{title}/ExecutionRole"),
            RoleProps::for_service(
                "cloudformation.amazonaws.com",
                format!("CloudFormation creates the {name} resources with this role"),
            ),
        )?;
        for statement in execution_statements(name) {
            execution.add_to_policy(&mut stack, statement)?;
        }
        execution.grant_resourceless(
            &mut stack,
            "CreateWithoutResourceArn",
            &["kms:CreateKey", "lambda:CreateEventSourceMapping"],
        )?;
        stack.suppress(
            &execution.logical_id,
            "IAM-WILDCARD-ACTION",
            "a CloudFormation execution role manages every property of its stage's resources; each statement is limited to resources named after the stack",
        )?;

        // The deploy role the workflow assumes through GitHub OIDC.
        let subject = match stage.stage.as_str() {
            "prod" => format!(
                "repo:{}:environment:{}",
                ci.repository, ci.production_environment
            ),
            _ => format!("repo:{}:pull_request", ci.repository),
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
        let stack_arn = |stack_name: &str| {
            Expr::arn(
                "cloudformation",
                "${AWS::Region}",
                "${AWS::AccountId}",
                &format!("stack/{stack_name}/*"),
            )
        };
        deploy.add_to_policy(
            &mut stack,
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
                vec![stack_arn(name), stack_arn(TOOLKIT_STACK_NAME)],
            )
            .with_sid("OwnStackChangeSets"),
        )?;
        deploy.add_to_policy(
            &mut stack,
            Statement::allow(
                ["s3:GetObject", "s3:PutObject"],
                vec![Expr::arn("s3", "", "", &format!("{assets}/*"))],
            )
            .with_sid("PublishAssets"),
        )?;
        deploy.add_to_policy(
            &mut stack,
            Statement::allow(["s3:ListBucket"], vec![Expr::arn("s3", "", "", &assets)])
                .with_sid("FindAssets"),
        )?;
        deploy.add_to_policy(
            &mut stack,
            Statement::allow(["iam:PassRole"], vec![execution.arn()])
                .with_sid("PassExecutionRole")
                .with_condition(
                    "StringEquals",
                    "iam:PassedToService",
                    "cloudformation.amazonaws.com".into(),
                ),
        )?;
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

/// What CloudFormation needs to create, update and delete one stage's resources, each statement
/// limited to resources named after the stack (`<stack>-…`, as CloudFormation and the stage
/// name them).
fn execution_statements(stack_name: &str) -> Vec<Statement> {
    let arn = |service: &str, regional: bool, resource: &str| {
        let (region, account) = if regional {
            ("${AWS::Region}", "${AWS::AccountId}")
        } else {
            ("", "")
        };
        Expr::arn(service, region, account, resource)
    };
    let s = stack_name;
    vec![
        Statement::allow(
            ["s3:*"],
            vec![
                arn("s3", false, &format!("{s}-*")),
                arn("s3", false, &format!("{s}-*/*")),
            ],
        )
        .with_sid("StageBuckets"),
        Statement::allow(["sqs:*"], vec![arn("sqs", true, &format!("{s}-*"))])
            .with_sid("StageQueues"),
        Statement::allow(["sns:*"], vec![arn("sns", true, &format!("{s}-*"))])
            .with_sid("StageTopics"),
        Statement::allow(
            ["dynamodb:*"],
            vec![arn("dynamodb", true, &format!("table/{s}-*"))],
        )
        .with_sid("StageTables"),
        Statement::allow(
            ["lambda:*"],
            vec![arn("lambda", true, &format!("function:{s}-*"))],
        )
        .with_sid("StageFunctions"),
        Statement::allow(
            [
                "lambda:GetEventSourceMapping",
                "lambda:UpdateEventSourceMapping",
                "lambda:DeleteEventSourceMapping",
                "lambda:TagResource",
                "lambda:ListTags",
            ],
            vec![arn("lambda", true, "event-source-mapping:*")],
        )
        .with_sid("StageEventSourceMappings"),
        Statement::allow(
            [
                "iam:CreateRole",
                "iam:DeleteRole",
                "iam:GetRole",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
                "iam:UpdateAssumeRolePolicy",
                "iam:PutRolePolicy",
                "iam:GetRolePolicy",
                "iam:DeleteRolePolicy",
                "iam:ListRolePolicies",
                "iam:ListAttachedRolePolicies",
                "iam:TagRole",
                "iam:UntagRole",
            ],
            vec![Expr::arn(
                "iam",
                "",
                "${AWS::AccountId}",
                &format!("role/{s}-*"),
            )],
        )
        .with_sid("StageRoles"),
        Statement::allow(
            ["iam:PassRole"],
            vec![Expr::arn(
                "iam",
                "",
                "${AWS::AccountId}",
                &format!("role/{s}-*"),
            )],
        )
        .with_sid("PassStageRolesToLambda")
        .with_condition(
            "StringEquals",
            "iam:PassedToService",
            "lambda.amazonaws.com".into(),
        ),
        Statement::allow(
            ["logs:*"],
            vec![
                arn("logs", true, &format!("log-group:/aws/lambda/{s}-*")),
                arn("logs", true, &format!("log-group:{s}-*")),
            ],
        )
        .with_sid("StageLogGroups"),
        Statement::allow(
            [
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:DeleteAlarms",
                "cloudwatch:DescribeAlarms",
                "cloudwatch:TagResource",
                "cloudwatch:ListTagsForResource",
            ],
            vec![arn("cloudwatch", true, &format!("alarm:{s}-*"))],
        )
        .with_sid("StageAlarms"),
        Statement::allow(["kms:*"], vec![arn("kms", true, "key/*")])
            .with_sid("StageKeys")
            .with_condition(
                "StringEquals",
                "aws:ResourceTag/aws:cloudformation:stack-name",
                Expr::str(s),
            ),
        Statement::allow(
            [
                "apigateway:GET",
                "apigateway:POST",
                "apigateway:PUT",
                "apigateway:PATCH",
                "apigateway:DELETE",
            ],
            vec![
                Expr::arn("apigateway", "${AWS::Region}", "", "/apis"),
                Expr::arn("apigateway", "${AWS::Region}", "", "/apis/*"),
                Expr::arn("apigateway", "${AWS::Region}", "", "/tags/*"),
            ],
        )
        .with_sid("StageHttpApi"),
    ]
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
    fn beta_is_assumable_only_from_pull_requests_and_prod_only_from_the_production_environment() {
        let t = synth();
        let beta = trust(&t, "BetaDeployRole");
        assert_eq!(beta["Action"], json!(["sts:AssumeRoleWithWebIdentity"]));
        assert_eq!(
            beta["Principal"],
            json!({"Federated": {"Ref": "GitHubOidcProvider"}})
        );
        assert_eq!(
            beta["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"],
            "repo:argus-dev/argus:pull_request"
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

    #[test]
    fn a_deploy_role_may_only_deploy_its_own_stage() {
        let t = synth();
        let statements = t.resources["BetaDeployRole"]
            .property("Policies.0.PolicyDocument.Statement")
            .unwrap()
            .clone();
        let text = statements.to_string();
        assert!(text.contains("stack/argus-beta/*") && text.contains("stack/argus-toolkit/*"));
        assert!(
            !text.contains("argus-prod"),
            "the beta role reaches no prod resource"
        );
        assert!(!text.contains("\"*\""), "no wildcard resource");
        let pass = statements
            .as_array()
            .unwrap()
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
        for role in [
            "BetaDeployRole",
            "ProdDeployRole",
            "BetaExecutionRole",
            "ProdExecutionRole",
        ] {
            assert!(
                t.resources[role].property("ManagedPolicyArns").is_none(),
                "{role} has no managed policy"
            );
        }
    }

    #[test]
    fn execution_roles_manage_only_resources_named_after_their_stack_and_attach_no_policies() {
        let t = synth();
        let statements = t.resources["ProdExecutionRole"]
            .property("Policies.0.PolicyDocument.Statement")
            .unwrap()
            .clone();
        for s in statements.as_array().unwrap() {
            let resources = s["Resource"].to_string();
            let actions = s["Action"].to_string();
            assert!(
                !actions.contains("iam:AttachRolePolicy") && !actions.contains("iam:CreateUser"),
                "{actions}"
            );
            if resources == "[\"*\"]" {
                assert_eq!(
                    s["Action"],
                    json!(["kms:CreateKey", "lambda:CreateEventSourceMapping"])
                );
            } else {
                assert!(
                    resources.contains("argus-prod")
                        || s["Sid"] == "StageEventSourceMappings"
                        || s["Sid"] == "StageHttpApi"
                        || s["Sid"] == "StageKeys",
                    "{s}"
                );
            }
        }
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
