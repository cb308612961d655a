//! L2 constructs: AWS resources with secure defaults and least-privilege grants, named as the
//! services name them (as in aws-cdk-lib).
//!
//! Defaults are opt-out, never opt-in: a `…Props::default()` gives encryption, TLS-only resource
//! policies, blocked public access, versioning, point-in-time recovery, log retention and so on.
//! Turning one off makes the rule pack report it, and the finding then needs a suppression with a
//! reason ([`crate::stack::Stack::suppress`]).

pub mod alarm;
pub mod bucket;
pub mod function;
pub mod grant;
pub mod http_api;
pub mod key;
pub mod log_group;
pub mod queue;
pub mod role;
pub mod table;
pub mod topic;
pub mod trail;

pub use alarm::{Alarm, AlarmProps, Comparison, Metric};
pub use bucket::{AccessLogs, Bucket, BucketEncryptionKind, BucketProps};
pub use function::{Architecture, Function, FunctionCode, FunctionProps, Runtime, SqsEventSource};
pub use grant::Grantee;
pub use http_api::{HttpApi, HttpApiProps, RouteAuthorization};
pub use key::{Key, KeyProps};
pub use log_group::{LogGroup, LogGroupProps};
pub use queue::{DeadLetter, Queue, QueueProps};
pub use role::{Role, RoleProps};
pub use table::{Attribute, AttributeType, GlobalSecondaryIndexProps, Table, TableProps};
pub use topic::{Topic, TopicKey, TopicProps};
pub use trail::{Trail, TrailProps};

use crate::template::DeletionPolicy;

/// What happens to a stateful resource's data when it leaves the stack or is replaced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RemovalPolicy {
    /// Keep it (`DeletionPolicy`/`UpdateReplacePolicy: Retain`). The default for data.
    #[default]
    Retain,
    /// Delete it with the stack (`Delete`): for short-lived stages such as beta.
    Destroy,
}

impl RemovalPolicy {
    /// The CloudFormation attribute value.
    pub fn deletion_policy(self) -> DeletionPolicy {
        match self {
            RemovalPolicy::Retain => DeletionPolicy::Retain,
            RemovalPolicy::Destroy => DeletionPolicy::Delete,
        }
    }
}

/// Turns a construct path into a statement ID fragment (letters and digits only).
pub(crate) fn sid(parts: &[&str]) -> String {
    parts
        .concat()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}
