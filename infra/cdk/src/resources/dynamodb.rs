//! `AWS::DynamoDB::Table`.

use serde::Serialize;
use serde_with::skip_serializing_none;

use crate::intrinsic::Expr;
use crate::template::CfnResource;

/// `AWS::DynamoDB::Table` properties.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CfnTable {
    /// Table name.
    pub table_name: Option<Expr>,
    /// `PAY_PER_REQUEST` (on-demand) or `PROVISIONED`.
    pub billing_mode: Option<String>,
    /// Types of every key attribute of the table and its indexes.
    pub attribute_definitions: Vec<AttributeDefinition>,
    /// Partition key and optional sort key.
    pub key_schema: Vec<KeySchema>,
    /// Global secondary indexes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub global_secondary_indexes: Vec<GlobalSecondaryIndex>,
    /// Time to Live.
    pub time_to_live_specification: Option<TimeToLiveSpecification>,
    /// Point-in-time recovery.
    pub point_in_time_recovery_specification: Option<PointInTimeRecoverySpecification>,
    /// Encryption at rest.
    #[serde(rename = "SSESpecification")]
    pub sse_specification: Option<SseSpecification>,
    /// Refuse `DeleteTable` while on.
    pub deletion_protection_enabled: Option<bool>,
}

impl CfnResource for CfnTable {
    const TYPE: &'static str = "AWS::DynamoDB::Table";
}

/// `AttributeDefinition`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    /// Attribute name.
    pub attribute_name: String,
    /// `S`, `N` or `B`.
    pub attribute_type: String,
}

/// `KeySchema` element.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeySchema {
    /// Attribute name.
    pub attribute_name: String,
    /// `HASH` (partition) or `RANGE` (sort).
    pub key_type: String,
}

/// `GlobalSecondaryIndex`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GlobalSecondaryIndex {
    /// Index name.
    pub index_name: String,
    /// The index keys.
    pub key_schema: Vec<KeySchema>,
    /// Which attributes are copied into the index.
    pub projection: Projection,
}

/// `Projection`.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Projection {
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection_type: String,
    /// With `INCLUDE`: the extra attributes.
    pub non_key_attributes: Option<Vec<String>>,
}

/// `TimeToLiveSpecification`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TimeToLiveSpecification {
    /// The attribute holding the expiry time (Number, epoch seconds).
    pub attribute_name: String,
    /// Whether TTL deletes expired items.
    pub enabled: bool,
}

/// `PointInTimeRecoverySpecification`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PointInTimeRecoverySpecification {
    /// Continuous backups for the last 35 days.
    pub point_in_time_recovery_enabled: bool,
}

/// `SSESpecification`.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize)]
pub struct SseSpecification {
    /// `true`: the AWS managed KMS key (`aws/dynamodb`) or `KMSMasterKeyId`; `false`: an AWS owned key.
    #[serde(rename = "SSEEnabled")]
    pub sse_enabled: bool,
    /// `KMS`.
    #[serde(rename = "SSEType")]
    pub sse_type: Option<String>,
    /// A customer managed key.
    #[serde(rename = "KMSMasterKeyId")]
    pub kms_master_key_id: Option<Expr>,
}
