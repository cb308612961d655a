//! [`Table`]: a DynamoDB table, on-demand, with TTL, point-in-time recovery, encryption and
//! deletion protection when retained.

use crate::constructs::grant::{Grantee, add_grants, arn_resource};
use crate::constructs::{RemovalPolicy, sid};
use crate::error::SynthError;
use crate::iam::Statement;
use crate::intrinsic::Expr;
use crate::resources::dynamodb::{
    AttributeDefinition, CfnTable, GlobalSecondaryIndex, KeySchema,
    PointInTimeRecoverySpecification, Projection, SseSpecification, TimeToLiveSpecification,
};
use crate::stack::Stack;

/// The type of a key attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttributeType {
    /// `S`.
    String,
    /// `N`.
    Number,
    /// `B`.
    Binary,
}

impl AttributeType {
    fn code(self) -> &'static str {
        match self {
            AttributeType::String => "S",
            AttributeType::Number => "N",
            AttributeType::Binary => "B",
        }
    }
}

/// A key attribute: name and type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// Attribute name.
    pub name: String,
    /// Attribute type.
    pub attribute_type: AttributeType,
}

impl Attribute {
    /// A key attribute.
    pub fn new(name: &str, attribute_type: AttributeType) -> Self {
        Attribute {
            name: name.to_owned(),
            attribute_type,
        }
    }
}

/// A global secondary index.
#[derive(Clone, Debug)]
pub struct GlobalSecondaryIndexProps {
    /// Index name.
    pub index_name: String,
    /// Partition key.
    pub partition_key: Attribute,
    /// Sort key.
    pub sort_key: Option<Attribute>,
    /// `None`: all attributes; `Some(list)`: keys plus these attributes (`INCLUDE`).
    pub non_key_attributes: Option<Vec<String>>,
}

/// Table settings; secure by default except the keys, which every table must name.
#[derive(Clone, Debug)]
pub struct TableProps {
    /// Partition key.
    pub partition_key: Attribute,
    /// Sort key.
    pub sort_key: Option<Attribute>,
    /// The TTL attribute (a Number in epoch seconds); `None` turns TTL off.
    pub ttl_attribute: Option<String>,
    /// Global secondary indexes.
    pub global_secondary_indexes: Vec<GlobalSecondaryIndexProps>,
    /// Point-in-time recovery (on).
    pub point_in_time_recovery: bool,
    /// Retain (default, with deletion protection) or destroy with the stack.
    pub removal_policy: RemovalPolicy,
}

impl TableProps {
    /// Secure defaults with a partition key, TTL on `expires_at`.
    pub fn new(partition_key: Attribute) -> Self {
        TableProps {
            partition_key,
            sort_key: None,
            ttl_attribute: Some("expires_at".into()),
            global_secondary_indexes: Vec::new(),
            point_in_time_recovery: true,
            removal_policy: RemovalPolicy::Retain,
        }
    }
}

/// A DynamoDB table in a stack, or an existing table imported with [`Table::from_name`] or
/// [`Table::from_arn`].
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The table's logical ID (for an imported table: the ID its path gives, used only to name
    /// grant statements).
    pub logical_id: String,
    has_indexes: bool,
    imported: Option<ImportedTable>,
}

/// What an imported table is known by.
#[derive(Clone, Debug, PartialEq)]
struct ImportedTable {
    /// The name (`Fn::Sub` template or literal), when imported by name.
    name: Option<String>,
    /// The ARN template.
    arn: String,
}

fn key_schema(partition: &Attribute, sort: Option<&Attribute>) -> Vec<KeySchema> {
    let mut keys = vec![KeySchema {
        attribute_name: partition.name.clone(),
        key_type: "HASH".into(),
    }];
    if let Some(sort) = sort {
        keys.push(KeySchema {
            attribute_name: sort.name.clone(),
            key_type: "RANGE".into(),
        });
    }
    keys
}

impl Table {
    /// Adds an `AWS::DynamoDB::Table` at `path`: `PAY_PER_REQUEST`, SSE with the AWS managed key,
    /// PITR, TTL, and deletion protection when retained.
    ///
    /// # Errors
    /// As [`Stack::add`].
    pub fn new(stack: &mut Stack, path: &str, props: TableProps) -> Result<Self, SynthError> {
        let mut definitions: Vec<AttributeDefinition> = Vec::new();
        let mut define = |a: &Attribute| {
            let def = AttributeDefinition {
                attribute_name: a.name.clone(),
                attribute_type: a.attribute_type.code().into(),
            };
            if !definitions.contains(&def) {
                definitions.push(def);
            }
        };
        define(&props.partition_key);
        props.sort_key.iter().for_each(&mut define);
        for gsi in &props.global_secondary_indexes {
            define(&gsi.partition_key);
            gsi.sort_key.iter().for_each(&mut define);
        }
        let retained = props.removal_policy == RemovalPolicy::Retain;
        let cfn = CfnTable {
            table_name: None,
            billing_mode: Some("PAY_PER_REQUEST".into()),
            attribute_definitions: definitions,
            key_schema: key_schema(&props.partition_key, props.sort_key.as_ref()),
            global_secondary_indexes: props
                .global_secondary_indexes
                .iter()
                .map(|gsi| GlobalSecondaryIndex {
                    index_name: gsi.index_name.clone(),
                    key_schema: key_schema(&gsi.partition_key, gsi.sort_key.as_ref()),
                    projection: match &gsi.non_key_attributes {
                        None => Projection {
                            projection_type: "ALL".into(),
                            non_key_attributes: None,
                        },
                        Some(attrs) => Projection {
                            projection_type: "INCLUDE".into(),
                            non_key_attributes: Some(attrs.clone()),
                        },
                    },
                })
                .collect(),
            time_to_live_specification: props.ttl_attribute.map(|attribute_name| {
                TimeToLiveSpecification {
                    attribute_name,
                    enabled: true,
                }
            }),
            point_in_time_recovery_specification: Some(PointInTimeRecoverySpecification {
                point_in_time_recovery_enabled: props.point_in_time_recovery,
            }),
            sse_specification: Some(SseSpecification {
                sse_enabled: true,
                sse_type: Some("KMS".into()),
                kms_master_key_id: None,
            }),
            deletion_protection_enabled: Some(retained),
        };
        let logical_id = stack.add(path, &cfn)?;
        stack
            .resource_mut(&logical_id)?
            .apply_removal_policy(props.removal_policy.deletion_policy());
        Ok(Table {
            logical_id,
            has_indexes: !props.global_secondary_indexes.is_empty(),
            imported: None,
        })
    }

    /// An existing table in the stack's account and Region, by name (as aws-cdk-lib's
    /// `Table.fromTableName`): it adds nothing to the template, and grants on it name
    /// `arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/<name>`. `name` may
    /// be an `Fn::Sub` template. The table is taken to have no index; see
    /// [`Table::with_indexes`].
    ///
    /// # Errors
    /// [`SynthError::EmptyLogicalId`] for a path that gives no logical ID;
    /// [`SynthError::InvalidConstruct`] for an empty name.
    pub fn from_name(path: &str, name: &str) -> Result<Self, SynthError> {
        if name.trim().is_empty() {
            return Err(SynthError::InvalidConstruct {
                construct: path.to_owned(),
                reason: "an imported table needs a name".into(),
            });
        }
        Ok(Table {
            logical_id: Stack::logical_id(path)?,
            has_indexes: false,
            imported: Some(ImportedTable {
                name: Some(name.to_owned()),
                arn: format!(
                    "arn:${{AWS::Partition}}:dynamodb:${{AWS::Region}}:${{AWS::AccountId}}:table/{name}"
                ),
            }),
        })
    }

    /// An existing table, by ARN (as aws-cdk-lib's `Table.fromTableArn`), e.g.
    /// `arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders`: it adds
    /// nothing to the template, and grants on it name the ARN as given.
    ///
    /// # Errors
    /// [`SynthError::EmptyLogicalId`] for a path that gives no logical ID;
    /// [`SynthError::InvalidConstruct`] for an ARN not of the form
    /// `arn:<partition>:dynamodb:<region>:<account>:table/<name>`.
    pub fn from_arn(path: &str, arn: &str) -> Result<Self, SynthError> {
        let rest = arn_resource(path, arn, ":dynamodb:", "a DynamoDB table")?;
        if !rest.contains(":table/") {
            return Err(SynthError::InvalidConstruct {
                construct: path.to_owned(),
                reason: format!("`{arn}` is not a table ARN (`…:table/<name>`)"),
            });
        }
        Ok(Table {
            logical_id: Stack::logical_id(path)?,
            has_indexes: false,
            imported: Some(ImportedTable {
                name: None,
                arn: arn.to_owned(),
            }),
        })
    }

    /// Declares whether an imported table has secondary indexes, so read grants also cover
    /// `<table ARN>/index/*`.
    #[must_use]
    pub fn with_indexes(mut self, has_indexes: bool) -> Self {
        self.has_indexes = has_indexes;
        self
    }

    /// Whether the table was imported rather than added to the stack.
    pub fn is_imported(&self) -> bool {
        self.imported.is_some()
    }

    /// The table name: `{"Ref": table}`; for a table imported by name, that name; for one
    /// imported by ARN, the text after `table/` (`Fn::Select` over `Fn::Split`).
    pub fn name(&self) -> Expr {
        match &self.imported {
            None => Expr::reference(&self.logical_id),
            Some(ImportedTable {
                name: Some(name), ..
            }) => Expr::interpolate(name),
            Some(ImportedTable { arn, .. }) => {
                Expr::select(1, Expr::split("table/", Expr::interpolate(arn)))
            }
        }
    }

    /// `{"Fn::GetAtt": [table, "Arn"]}`, or an imported table's ARN.
    pub fn arn(&self) -> Expr {
        match &self.imported {
            Some(imported) => Expr::interpolate(&imported.arn),
            None => Expr::get_att(&self.logical_id, "Arn"),
        }
    }

    fn arns(&self, with_indexes: bool) -> Vec<Expr> {
        let mut arns = vec![self.arn()];
        if with_indexes && self.has_indexes {
            arns.push(match &self.imported {
                Some(imported) => Expr::interpolate(format!("{}/index/*", imported.arn)),
                None => Expr::sub(format!("${{{}.Arn}}/index/*", self.logical_id)),
            });
        }
        arns
    }

    /// Grants exactly `actions` (e.g. `dynamodb:PutItem`) on the table (and its indexes when
    /// `with_indexes`), as one statement named `<Table><verb>`, and returns it. Actions:
    /// <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html>.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn grant(
        &self,
        stack: &mut Stack,
        grantee: &dyn Grantee,
        verb: &str,
        actions: &[&str],
        with_indexes: bool,
    ) -> Result<Statement, SynthError> {
        let statement = Statement::allow(actions.iter().copied(), self.arns(with_indexes))
            .with_sid(sid(&[&self.logical_id, verb]));
        add_grants(stack, grantee, vec![statement.clone()])?;
        Ok(statement)
    }

    /// Grants reads: `GetItem`, `BatchGetItem`, `Query` (table and indexes); returns the statement.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn grant_read_data(
        &self,
        stack: &mut Stack,
        grantee: &dyn Grantee,
    ) -> Result<Statement, SynthError> {
        self.grant(
            stack,
            grantee,
            "Read",
            &[
                "dynamodb:GetItem",
                "dynamodb:BatchGetItem",
                "dynamodb:Query",
            ],
            true,
        )
    }

    /// Grants item writes: `PutItem`, `UpdateItem`, `GetItem` (no deletes); returns the statement.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn grant_write_data(
        &self,
        stack: &mut Stack,
        grantee: &dyn Grantee,
    ) -> Result<Statement, SynthError> {
        self.grant(
            stack,
            grantee,
            "Write",
            &[
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:GetItem",
            ],
            false,
        )
    }

    /// Grants `PutItem` only: for append-only tables such as an audit trail, written with
    /// `attribute_not_exists` conditions; no update or delete. Returns the statement.
    ///
    /// # Errors
    /// As [`Stack::add_statement`].
    pub fn grant_append(
        &self,
        stack: &mut Stack,
        grantee: &dyn Grantee,
    ) -> Result<Statement, SynthError> {
        self.grant(stack, grantee, "Append", &["dynamodb:PutItem"], false)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_support::{
        DELETED, RETAINED, any_finding, assert_stable, inline_policy_statements, pair,
        removal_policies, stack, statements, synth_resource, synthesized, unsuppressed,
        with_worker, worker,
    };

    fn props() -> TableProps {
        TableProps::new(Attribute::new("pk", AttributeType::String))
    }

    fn with_index() -> TableProps {
        TableProps {
            sort_key: Some(Attribute::new("sk", AttributeType::String)),
            global_secondary_indexes: vec![GlobalSecondaryIndexProps {
                index_name: "by-status".into(),
                partition_key: Attribute::new("status", AttributeType::String),
                sort_key: Some(Attribute::new("sk", AttributeType::String)),
                non_key_attributes: None,
            }],
            ..props()
        }
    }

    #[test]
    fn defaults_are_on_demand_with_ttl_pitr_and_sse() {
        let mut stack = stack();
        let table = Table::new(&mut stack, "Results", props()).unwrap();
        let r = synthesized(&stack, &table.logical_id);
        assert_eq!(r.resource_type, "AWS::DynamoDB::Table");
        assert_eq!(r.property("BillingMode"), Some(&json!("PAY_PER_REQUEST")));
        assert_eq!(
            r.property("TimeToLiveSpecification"),
            Some(&json!({"AttributeName": "expires_at", "Enabled": true}))
        );
        assert_eq!(
            r.property("PointInTimeRecoverySpecification"),
            Some(&json!({"PointInTimeRecoveryEnabled": true}))
        );
        assert_eq!(
            r.property("SSESpecification"),
            Some(&json!({"SSEEnabled": true, "SSEType": "KMS"}))
        );
        assert_eq!(
            r.property("KeySchema"),
            Some(&json!([{"AttributeName": "pk", "KeyType": "HASH"}]))
        );
        assert_eq!(
            r.property("AttributeDefinitions"),
            Some(&json!([{"AttributeName": "pk", "AttributeType": "S"}]))
        );
        assert_eq!(r.property("GlobalSecondaryIndexes"), None);
    }

    #[test]
    fn retained_table_has_deletion_protection() {
        let mut stack = stack();
        let table = Table::new(&mut stack, "Results", props()).unwrap();
        let r = stack.resource(&table.logical_id).unwrap();
        assert_eq!(r.property("DeletionProtectionEnabled"), Some(&json!(true)));
        assert_eq!(removal_policies(r), RETAINED);
    }

    #[test]
    fn destroyed_table_has_no_deletion_protection() {
        let mut stack = stack();
        let table = Table::new(
            &mut stack,
            "Results",
            TableProps {
                removal_policy: RemovalPolicy::Destroy,
                ..props()
            },
        )
        .unwrap();
        let (synth, r) = synth_resource(&stack, &table.logical_id);
        assert_eq!(r.property("DeletionProtectionEnabled"), Some(&json!(false)));
        assert_eq!(removal_policies(&r), DELETED);
        assert!(!any_finding(&synth, |f| f.rule == "DDB-DELETION-PROTECTION"));
    }

    #[test]
    fn default_table_passes_every_error_rule() {
        let mut stack = stack();
        Table::new(&mut stack, "Results", with_index()).unwrap();
        let synth = stack.synth().unwrap();
        assert_eq!(unsuppressed(&synth), Vec::<(String, String)>::new());
    }

    #[test]
    fn pitr_opt_out_is_reported_and_can_be_suppressed() {
        let mut stack = stack();
        let table = Table::new(
            &mut stack,
            "Cache",
            TableProps {
                point_in_time_recovery: false,
                ..props()
            },
        )
        .unwrap();
        assert_eq!(
            stack
                .resource(&table.logical_id)
                .unwrap()
                .property("PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled"),
            Some(&json!(false))
        );
        let synth = stack.synth().unwrap();
        assert_eq!(unsuppressed(&synth), vec![pair("Cache", "DDB-PITR")]);

        let reason = "a cache that is rebuilt from the source of truth";
        stack
            .suppress(&table.logical_id, "DDB-PITR", reason)
            .unwrap();
        let synth = stack.synth().unwrap();
        assert_eq!(unsuppressed(&synth), Vec::<(String, String)>::new());
        let meta = &synth.template.resources[&table.logical_id].metadata;
        assert_eq!(
            meta["argus"]["suppressions"],
            json!([{"id": "DDB-PITR", "reason": reason}])
        );
        assert_eq!(
            meta["checkov"]["skip"],
            json!([{"id": "CKV_AWS_28", "comment": reason}])
        );
    }

    #[test]
    fn ttl_can_be_turned_off() {
        let mut stack = stack();
        let table = Table::new(
            &mut stack,
            "Results",
            TableProps {
                ttl_attribute: None,
                ..props()
            },
        )
        .unwrap();
        assert_eq!(
            stack
                .resource(&table.logical_id)
                .unwrap()
                .property("TimeToLiveSpecification"),
            None
        );
    }

    #[test]
    fn key_attributes_are_defined_once_and_indexes_project_as_asked() {
        let mut stack = stack();
        let mut props = with_index();
        props
            .global_secondary_indexes
            .push(GlobalSecondaryIndexProps {
                index_name: "by-time".into(),
                partition_key: Attribute::new("day", AttributeType::Number),
                sort_key: None,
                non_key_attributes: Some(vec!["status".into()]),
            });
        let table = Table::new(&mut stack, "Results", props).unwrap();
        let r = stack.resource(&table.logical_id).unwrap();
        assert_eq!(
            r.property("AttributeDefinitions"),
            Some(&json!([
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
                {"AttributeName": "status", "AttributeType": "S"},
                {"AttributeName": "day", "AttributeType": "N"}
            ]))
        );
        assert_eq!(
            r.property("KeySchema"),
            Some(
                &json!([{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
            )
        );
        assert_eq!(
            r.property("GlobalSecondaryIndexes"),
            Some(&json!([
                {
                    "IndexName": "by-status",
                    "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                    "Projection": {"ProjectionType": "ALL"}
                },
                {
                    "IndexName": "by-time",
                    "KeySchema": [{"AttributeName": "day", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["status"]}
                }
            ]))
        );
    }

    #[test]
    fn grant_read_data_covers_the_table_only_when_it_has_no_index() {
        let (mut stack, table, role) =
            with_worker(|stack| Table::new(stack, "Results", props()).unwrap());
        table.grant_read_data(&mut stack, &role).unwrap();
        assert_eq!(
            statements(&stack, &role),
            vec![json!({
                "Sid": "ResultsRead",
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"],
                "Resource": [{"Fn::GetAtt": ["Results", "Arn"]}]
            })]
        );
    }

    #[test]
    fn grant_read_data_covers_the_indexes_of_a_table_that_has_them() {
        let (mut stack, table, role) =
            with_worker(|stack| Table::new(stack, "Results", with_index()).unwrap());
        table.grant_read_data(&mut stack, &role).unwrap();
        let granted = statements(&stack, &role);
        assert_eq!(granted.len(), 1);
        assert_eq!(
            granted[0]["Resource"],
            json!([{"Fn::GetAtt": ["Results", "Arn"]}, {"Fn::Sub": "${Results.Arn}/index/*"}])
        );
    }

    #[test]
    fn grant_write_data_never_deletes_and_skips_indexes() {
        let (mut stack, table, role) =
            with_worker(|stack| Table::new(stack, "Results", with_index()).unwrap());
        table.grant_write_data(&mut stack, &role).unwrap();
        let granted = statements(&stack, &role);
        assert_eq!(
            granted,
            vec![json!({
                "Sid": "ResultsWrite",
                "Effect": "Allow",
                "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"],
                "Resource": [{"Fn::GetAtt": ["Results", "Arn"]}]
            })]
        );
        assert!(!granted[0].to_string().contains("DeleteItem"));
    }

    #[test]
    fn grant_append_allows_only_put_item() {
        let (mut stack, table, role) =
            with_worker(|stack| Table::new(stack, "Audit", props()).unwrap());
        table.grant_append(&mut stack, &role).unwrap();
        let synth = stack.synth().unwrap();
        assert_eq!(
            inline_policy_statements(&synth, &role),
            Some(&json!([{
                "Sid": "AuditAppend",
                "Effect": "Allow",
                "Action": ["dynamodb:PutItem"],
                "Resource": [{"Fn::GetAtt": ["Audit", "Arn"]}]
            }]))
        );
    }

    #[test]
    fn logical_ids_and_template_bytes_are_stable_across_stacks() {
        let (id, _) = assert_stable(|stack| {
            let table = Table::new(stack, "results-table", with_index()).unwrap();
            let role = worker(stack);
            table.grant_read_data(stack, &role).unwrap();
            table.logical_id
        });
        assert_eq!(id, "ResultsTable");
    }

    #[test]
    fn grants_on_an_imported_table_name_its_arn_in_the_partition() {
        let (mut stack, (), role) = with_worker(|_| ());
        let orders = Table::from_name("Orders", "orders").unwrap();
        let read = orders.grant_read_data(&mut stack, &role).unwrap();
        assert_eq!(
            read.resource,
            vec![Expr::sub(
                "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders"
            )]
        );
        let arn = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/events";
        let events = Table::from_arn("Events", arn).unwrap().with_indexes(true);
        let read = events.grant_read_data(&mut stack, &role).unwrap();
        assert_eq!(
            read.resource,
            vec![Expr::sub(arn), Expr::sub(format!("{arn}/index/*"))]
        );
        let append = events.grant_append(&mut stack, &role).unwrap();
        assert_eq!(append.resource, vec![Expr::sub(arn)]);
        assert_eq!(stack.statements(&role.logical_id).len(), 3);
        assert!(Table::from_arn("Events", "arn:${AWS::Partition}:dynamodb:r:a:stream/x").is_err());
        let synth = stack.synth().unwrap();
        assert_eq!(synth.template.resources.len(), 1, "only the role");
    }
}
