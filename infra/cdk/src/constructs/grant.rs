//! [`Grantee`]: what a grant is given to, as aws-cdk-lib's `IGrantable`
//! (<https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_iam.IGrantable.html>).
//!
//! A [`Role`] is a grantee, and so is anything that runs with a role (a [`Function`] grants to its
//! execution role), so `bucket.grant_read(&mut stack, &function, "incoming/*")` and
//! `bucket.grant_read(&mut stack, &role, "incoming/*")` both work. Every grant method returns the
//! statements it added; they are gathered into the role's single inline policy at synth.

use crate::constructs::function::Function;
use crate::constructs::role::Role;
use crate::error::SynthError;
use crate::iam::Statement;
use crate::stack::Stack;

/// Something permissions can be granted to: it names the role whose inline policy receives the
/// statements.
pub trait Grantee {
    /// The role the statements of a grant are added to.
    fn grant_role(&self) -> &Role;
}

impl Grantee for Role {
    fn grant_role(&self) -> &Role {
        self
    }
}

impl Grantee for Function {
    /// The function's execution role.
    fn grant_role(&self) -> &Role {
        &self.role
    }
}

/// Adds `statements` to the grantee's role policy, in order, and returns them.
///
/// # Errors
/// As [`Stack::add_statement`].
pub(crate) fn add_grants(
    stack: &mut Stack,
    grantee: &dyn Grantee,
    statements: Vec<Statement>,
) -> Result<Vec<Statement>, SynthError> {
    let role = grantee.grant_role();
    for statement in &statements {
        role.add_to_policy(stack, statement.clone())?;
    }
    Ok(statements)
}

/// The text after `marker` in an ARN template (e.g. the bucket name after `:s3:::`), or an
/// [`SynthError::InvalidConstruct`] naming `path` when the ARN does not have that form.
pub(crate) fn arn_resource<'a>(
    path: &str,
    arn: &'a str,
    marker: &str,
    what: &str,
) -> Result<&'a str, SynthError> {
    match arn.split_once(marker) {
        Some((head, rest)) if head.starts_with("arn:") && !rest.is_empty() => Ok(rest),
        _ => Err(SynthError::InvalidConstruct {
            construct: path.to_owned(),
            reason: format!("`{arn}` is not {what} ARN (`arn:<partition>{marker}…`)"),
        }),
    }
}

/// The error for changing something an imported resource's own stack manages.
pub(crate) fn imported_error(path: &str, what: &str) -> SynthError {
    SynthError::InvalidConstruct {
        construct: path.to_owned(),
        reason: format!("the resource is imported: its {what} is not managed by this stack"),
    }
}
