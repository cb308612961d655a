//! Errors raised while building and synthesizing stacks.

use thiserror::Error;

/// What can go wrong between declaring constructs and writing the cloud assembly.
#[derive(Debug, Error)]
pub enum SynthError {
    /// Two construct paths give the same logical ID in one stack.
    #[error(
        "logical ID `{logical_id}` in stack `{stack}` is used by both `{first}` and `{second}`"
    )]
    LogicalIdCollision {
        /// The stack's name.
        stack: String,
        /// The colliding logical ID.
        logical_id: String,
        /// The construct path that took it first.
        first: String,
        /// The construct path that asked for it again.
        second: String,
    },
    /// A construct path that gives no usable logical ID (no letters or digits).
    #[error("construct path `{0}` gives an empty logical ID")]
    EmptyLogicalId(String),
    /// A logical ID that is referenced but not in the stack.
    #[error("stack `{stack}` has no resource `{logical_id}`")]
    UnknownResource {
        /// The stack's name.
        stack: String,
        /// The logical ID looked up.
        logical_id: String,
    },
    /// A property override whose path cannot be applied.
    #[error("property override `{path}`: {reason}")]
    Override {
        /// The dot-separated property path.
        path: String,
        /// Why it cannot be applied.
        reason: String,
    },
    /// A rule suppression without a known rule or without a reason of 10+ characters.
    #[error("suppression of `{rule}` on `{logical_id}`: {reason}")]
    Suppression {
        /// The rule ID named.
        rule: String,
        /// The resource it was placed on.
        logical_id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A construct used in a way its service does not allow.
    #[error("{construct}: {reason}")]
    InvalidConstruct {
        /// The construct path.
        construct: String,
        /// What is wrong.
        reason: String,
    },
    /// The rule pack found errors that are not suppressed.
    #[error("the rule pack found {count} unsuppressed error(s):\n{table}")]
    RuleViolations {
        /// How many.
        count: usize,
        /// A table of the findings, one line each.
        table: String,
    },
    /// A value that cannot be rendered as JSON or YAML.
    #[error("cannot serialize the template: {0}")]
    Serialize(String),
    /// Writing the cloud assembly failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl From<serde_json::Error> for SynthError {
    fn from(e: serde_json::Error) -> Self {
        SynthError::Serialize(e.to_string())
    }
}
